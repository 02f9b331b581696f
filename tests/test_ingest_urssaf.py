"""URSSAF imports: commune × APE private employment (wide years) and the ESS datasets."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from ingest_helpers import FIXTURES, snapshot, write

from ess_diag import cli, indicators, ingest, store

APE_HEADER = (
    "Code commune;APE;Nombre d'établissements 2022;Effectifs salariés 2022;"
    "Nombre d'établissements 2023;Effectifs salariés 2023\n"
)
ESS_HEADER = (
    "Année;Code département;Famille ESS;Nombre d'établissements;Effectifs salariés moyens;"
    "Masse salariale\n"
)


def _private(con, year: int) -> pd.DataFrame:
    return con.execute(
        "SELECT commune_code, naf, sector, establishments, jobs, source FROM private_employment "
        "WHERE year = ? ORDER BY commune_code, naf",
        [year],
    ).df()


def test_commune_ape_wide_years_become_rows(geo_con):
    report = ingest.run_import(geo_con, [FIXTURES / "urssaf_commune_ape_extrait.csv"])
    assert report.status == "committed", report.errors
    assert report.files[0].format == "urssaf_commune_ape"
    assert (report.rows_read, report.rows_loaded, report.rows_set_aside) == (11, 10, 1)
    assert report.unresolved_communes == ["99999"]
    assert report.set_aside[0].rows == [12]
    assert report.set_aside[0].column == "Code commune"
    expected = pd.DataFrame(
        {
            # 01099 (commune déléguée) is summed into 01001, 69381 (arrondissement) into Lyon.
            "commune_code": ["01001"] * 3 + ["01002"] + ["01004"] * 3 + ["01005"] + ["69123"] * 2,
            "naf": [
                "47.11D",
                "88.10A",
                "94.99Z",
                "01.11Z",
                "47.11D",
                "64.19Z",
                "86.10Z",
                "85.59A",
                "47.11D",
                "88.10A",
            ],
            "sector": [
                "commerce",
                "action_sociale_sans_hebergement",
                "organisations_associatives",
                "agriculture",
                "commerce",
                "finance_assurance",
                "sante",
                "enseignement",
                "commerce",
                "action_sociale_sans_hebergement",
            ],
            "establishments": [1.0, 2.0, 1.0, 1.0, 4.0, 2.0, 3.0, 1.0, 5.0, 10.0],
            "jobs": [12.0, 30.0, 5.0, 3.0, 60.0, 40.0, 120.0, 10.0, 100.0, 400.0],
            "source": ["urssaf"] * 10,
        }
    )
    pd.testing.assert_frame_equal(_private(geo_con, 2023), expected)
    years = geo_con.execute("SELECT DISTINCT year FROM private_employment ORDER BY 1").fetchall()
    assert years == [(2021,), (2022,), (2023,)]
    assert geo_con.execute(
        "SELECT sum(jobs) FROM private_employment WHERE year = 2021"
    ).fetchall() == [(26.0 + 11 + 4 + 3 + 110 + 58 + 40 + 9 + 380 + 95,)]


def test_commune_years_replace_stored_rows_and_undo_restores(geo_con):
    # Rows already there (say the demo): 01001 in 2023 and 2015, 69123 in 2023.
    geo_con.execute(
        "INSERT INTO private_employment VALUES "
        "('01001', 2023, NULL, 'commerce', 9, 99, 'demo', NULL), "
        "('01001', 2015, NULL, 'commerce', 8, 88, 'demo', NULL), "
        "('01002', 2023, NULL, 'commerce', 7, 77, 'demo', NULL)"
    )
    store.set_meta(geo_con, "demo", "1")
    before = snapshot(geo_con)
    report = ingest.run_import(geo_con, [FIXTURES / "urssaf_commune_ape_extrait.csv"])
    assert report.status == "committed"
    assert any("données de démonstration" in w for w in report.warnings)
    demo = geo_con.execute(
        "SELECT commune_code, year FROM private_employment WHERE source = 'demo'"
    ).fetchall()
    # The file covers 01001 and 01002 in 2023: their stored rows are replaced; 2015 is kept.
    assert demo == [("01001", 2015)]
    again = ingest.run_import(geo_con, [FIXTURES / "urssaf_commune_ape_extrait.csv"])
    assert again.status == "committed"
    assert geo_con.execute("SELECT count(*) FROM private_employment").fetchall() == [(31,)]
    ingest.undo_import(geo_con, again.import_id)
    ingest.undo_import(geo_con, report.import_id)
    after = snapshot(geo_con)
    assert after["private_employment"] == before["private_employment"]


def test_ess_france_by_family_and_na88(geo_con):
    report = ingest.run_import(geo_con, [FIXTURES / "urssaf_ess_france_familles_na88.csv"])
    assert report.status == "committed", report.errors
    assert report.files[0].format == "urssaf_ess"
    assert [(s.reason, s.rows) for s in report.set_aside] == [
        ("Ligne hors ESS (seuls les chiffres de l'ESS sont chargés)", [6])
    ]
    rows = geo_con.execute(
        "SELECT family, sector, measure, value FROM ess_stats WHERE level = 'france' "
        "AND code = 'FR' AND year = 2023 AND (family IS NULL OR sector IS NULL) "
        "ORDER BY family NULLS FIRST, sector NULLS FIRST, measure"
    ).fetchall()
    assert rows == [
        # totals derived from the family × NA88 rows; NA88 64 and 65 fall in one ESS sector
        (None, None, "effectifs", 620000.5 + 181000 + 151000 + 20200.5),
        (None, None, "etablissements", 30600.0 + 45300 + 12100 + 1010),
        (None, None, "masse_salariale", 14.5e9 + 3.5e9 + 8.0e9 + 1.21e9),
        (None, "action_sociale_sans_hebergement", "effectifs", 620000.5),
        (None, "action_sociale_sans_hebergement", "etablissements", 30600.0),
        (None, "action_sociale_sans_hebergement", "masse_salariale", 14.5e9),
        (None, "finance_assurance", "effectifs", 171200.5),
        (None, "finance_assurance", "etablissements", 13110.0),
        (None, "finance_assurance", "masse_salariale", 9.21e9),
        (None, "organisations_associatives", "effectifs", 181000.0),
        (None, "organisations_associatives", "etablissements", 45300.0),
        (None, "organisations_associatives", "masse_salariale", 3.5e9),
        ("association", None, "effectifs", 801000.5),
        ("association", None, "etablissements", 75900.0),
        ("association", None, "masse_salariale", 18.0e9),
        ("cooperative", None, "effectifs", 171200.5),
        ("cooperative", None, "etablissements", 13110.0),
        ("cooperative", None, "masse_salariale", 9.21e9),
    ]
    assert geo_con.execute("SELECT DISTINCT source FROM ess_stats").fetchall() == [("urssaf",)]


def test_ess_departements_windows_1252(geo_con):
    report = ingest.run_import(geo_con, [FIXTURES / "urssaf_ess_departements_cp1252.csv"])
    assert report.status == "committed", report.errors
    f = report.files[0]
    assert (f.format, f.encoding, f.separator) == ("urssaf_ess", "cp1252", ";")
    rows = geo_con.execute(
        "SELECT code, family, measure, value FROM ess_stats WHERE level = 'departement' "
        "AND year = 2023 AND measure = 'effectifs' ORDER BY code, family NULLS FIRST"
    ).fetchall()
    # The file gives the "Ensemble" rows itself: they are kept, not re-derived.
    assert rows == [
        ("01", None, "effectifs", 14020.5),
        ("01", "association", "effectifs", 11000.0),
        ("01", "cooperative", "effectifs", 2500.5),
        ("69", None, "effectifs", 80000.0),
    ]


BAD = [
    pytest.param(
        "ape.csv",
        "Code commune;APE;Nombre d'établissements 2023;Effectifs salariés 20X3\n01001;8810A;2;30\n",
        ["ape.csv", "colonne « Effectifs salariés 20X3 »", "« 20x3 » n'est pas une année"],
        id="year-column-not-a-year",
    ),
    pytest.param(
        "ape.csv",
        "Code commune;APE;Effectifs salariés 1850\n01001;8810A;30\n",
        ["colonne « Effectifs salariés 1850 »", "n'est pas une année"],
        id="year-column-out-of-range",
    ),
    pytest.param(
        "ape.csv",
        APE_HEADER + "01001;8810A;2;28;2;30\n01004;8610Z;3;115;3;-120\n",
        ["ape.csv", "ligne 3", "colonne « Effectifs salariés 2023 »", "« -120 » est négatif"],
        id="negative-jobs",
    ),
    pytest.param(
        "ape.csv",
        APE_HEADER + "01001;8810A;deux;28;2;30\n",
        ["ligne 2", "colonne « Nombre d'établissements 2022 »", "« deux » n'est pas un nombre"],
        id="non-numeric-count",
    ),
    pytest.param(
        "ape.csv",
        APE_HEADER + "01001;8810A;2;28;2;30\n01004;8610Z;3;115;3;120\n01001;8810A;2;28;2;31\n",
        ["deux fois", "commune 01001, APE 88.10A, 2023", "ligne 2", "ligne 4"],
        id="same-commune-ape-two-values",
    ),
    pytest.param(
        "ess.csv",
        ESS_HEADER + "2023;01;Ensemble;10;100;1000\n2O23;69;Ensemble;10;100;1000\n",
        ["ess.csv", "ligne 3", "colonne « Année »", "« 2O23 » n'est pas une année"],
        id="year-cell-not-a-year",
    ),
    pytest.param(
        "ess.csv",
        ESS_HEADER + "2023;01;Ensemble;10;100;-1000\n",
        ["ligne 2", "colonne « Masse salariale »", "« -1000 » est négatif"],
        id="negative-wage-bill",
    ),
    pytest.param(
        "ess.csv",
        ESS_HEADER + "2023;01;Ensemble;10;100;1000\n2023;01;Ensemble;10;120;1000\n",
        ["deux fois", "departement 01, 2023, effectifs", "ligne 2", "ligne 3"],
        id="same-territory-year-two-values",
    ),
    pytest.param("ape.csv", "", ["ape.csv", "vide"], id="empty"),
    pytest.param(
        "ape.csv",
        "Code commune;Commune;Effectifs salariés 2023\n01001;A;3\n",
        ["ressemble le plus au format « URSSAF — établissements et effectifs", "ape"],
        id="wrong-columns",
    ),
]


@pytest.mark.parametrize(("name", "content", "fragments"), BAD)
def test_bad_input_is_refused_and_database_unchanged(geo_con, tmp_path, name, content, fragments):
    ingest.run_import(geo_con, [FIXTURES / "urssaf_commune_ape_extrait.csv"])
    before = snapshot(geo_con)
    report = ingest.run_import(geo_con, [write(tmp_path / name, content)])
    assert report.status == "rejected"
    message = " ".join(report.errors)
    for fragment in fragments:
        assert fragment in message, message
    assert snapshot(geo_con) == before


def test_identical_repeated_line_is_loaded_once(geo_con, tmp_path):
    path = write(
        tmp_path / "ape.csv",
        APE_HEADER + "01001;8810A;2;28;2;30\n01001;8810A;2;28;2;30\n",
    )
    report = ingest.run_import(geo_con, [path])
    assert report.status == "committed", report.errors
    # Both figures of line 3 (2022 and 2023) repeat line 2: the line is set aside.
    assert (report.rows_read, report.rows_loaded, report.duplicates) == (2, 1, 2)
    assert report.set_aside[0].reason.startswith("Ligne en double")
    assert geo_con.execute(
        "SELECT year, jobs FROM private_employment ORDER BY year"
    ).fetchall() == [(2022, 28.0), (2023, 30.0)]


def test_indicators_use_imported_statistics(geo_con, tmp_path):
    """After URSSAF private employment and observatory ESS figures: the key figures come from
    the statistics (``jobs_source``) and shares are taken on the imported private jobs."""
    for name in ("urssaf_commune_ape_extrait.csv", "observatoire_long.csv"):
        report = ingest.run_import(geo_con, [FIXTURES / name])
        assert report.status == "committed", report.errors
    doc = indicators.compute(geo_con, "departement", "01", year=2023)
    assert doc["jobs_source"] == "statistiques"
    assert doc["sources"] == ["observatoire"]
    # ESS: communes 01001 (35), 01004 (100), 01005 (10). Private jobs in the Ain, 2023:
    # 01001 12 + 30 + 5 (its commune déléguée), 01002 3, 01004 60 + 40 + 120, 01005 10.
    assert doc["ess_jobs"] == 145.0
    assert doc["ess_establishments"] == 8
    assert doc["private_jobs"] == 280.0
    assert doc["ess_share_private_jobs"] == pytest.approx(145 / 280)
    assert doc["non_ess_private_jobs"] == 135.0
    epci = indicators.compute(geo_con, "epci", "200000001", year=2023)
    assert (epci["ess_jobs"], epci["private_jobs"]) == (35.0, 50.0)
    assert epci["ess_share_private_jobs"] == pytest.approx(0.7)
    assert epci["jobs_source"] == "statistiques"


def test_cli_import_then_indicators(geo_con, tmp_path, capsys):
    """``ess-diag import`` of the statistics, then ``ess-diag indicators --json``."""
    db = tmp_path / "ess.duckdb"
    geo_con.execute(f"ATTACH '{db}' AS f")
    geo_con.execute("COPY FROM DATABASE memory TO f")
    geo_con.execute("DETACH f")
    files = [str(FIXTURES / n) for n in ("urssaf_commune_ape_extrait.csv", "observatoire_long.csv")]
    assert cli.main(["import", *files, "--json", "--db", str(db)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "committed"
    assert report["tables"] == {"private_employment": 30, "ess_stats": 16}
    assert report["unresolved_communes"] == ["99999"]
    code = cli.main(
        ["indicators", "--level", "epci", "200000001", "--year", "2023", "--json", "--db", str(db)]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["jobs_source"] == "statistiques"
    assert (doc["ess_jobs"], doc["private_jobs"]) == (35.0, 50.0)
    assert doc["ess_share_private_jobs"] == pytest.approx(0.7)
    # A bad statistics file through the CLI: exit 1, database unchanged.
    con = store.connect(db)
    before = snapshot(con)
    con.close()
    bad = write(tmp_path / "bad.csv", "Code commune;APE;Effectifs salariés 2023\n01001;8810A;-1\n")
    assert cli.main(["import", str(bad), "--json", "--db", str(db)]) == 1
    assert "est négatif" in " ".join(json.loads(capsys.readouterr().out)["errors"])
    con = store.connect(db)
    assert snapshot(con) == before
    con.close()


def test_two_files_with_different_years(geo_con, tmp_path):
    """Two yearly files of the same communes are not duplicates of each other."""
    a = write(tmp_path / "a.csv", "Code commune;APE;Effectifs salariés 2022\n01001;8810A;28\n")
    b = write(tmp_path / "b.csv", "Code commune;APE;Effectifs salariés 2023\n01001;8810A;30\n")
    report = ingest.run_import(geo_con, [a, b])
    assert report.status == "committed", report.errors
    assert (report.rows_loaded, report.duplicates) == (2, 0)
    assert geo_con.execute(
        "SELECT year, jobs FROM private_employment ORDER BY year"
    ).fetchall() == [(2022, 28.0), (2023, 30.0)]
