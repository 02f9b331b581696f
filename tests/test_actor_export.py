"""The actor export for scripts (actor_list.export_table, `ess-diag acteurs`): same columns and
privacy rules as the Acteurs page's download, safe cells in CSV and XLSX."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from ess_diag import actor_list, cli, exports, store

# actor_id, name, partial, commune, is_ess, family, sector, jobs, active
ACTORS = [
    (
        "A1",
        '=HYPERLINK("http://x.invalid","clic")',
        False,
        "01001",
        True,
        "association",
        "sante",
        12.0,
        True,
    ),
    ("A2", "+1", False, "01002", True, "cooperative", "commerce", 30.0, True),
    ("A3", "Jean Dupont", True, "01004", True, "association", "sante", 5.0, True),
    ("A4", "-1+2", False, "69123", True, "association", "sante", 50.0, True),
    ("A5", "@SUM(A1)", False, "01001", True, "association", "sante", 3.0, False),
    ("A6", "Hors ESS SARL", False, "01001", False, None, "commerce", 99.0, True),
]


def _insert_actors(con):
    for a in ACTORS:
        con.execute(
            """INSERT INTO actors (actor_id, siret, name, partial_diffusion, commune_code, is_ess,
                   family, sector, jobs, active, source)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'modele')""",
            [a[0], None, *a[1:]],
        )


@pytest.fixture
def con(geo_con):
    _insert_actors(geo_con)
    return geo_con


def test_export_is_the_page_download(con):
    frame = actor_list.export_table(con, "departement", "01")
    assert list(frame.columns) == actor_list.COLUMNS
    # Active ESS actors of the Ain, largest first; the closed one and the non-ESS one are out.
    assert frame["identifiant"].tolist() == ["A2", "A1", "A3"]
    # Partial diffusion never shows the person's name.
    assert frame.set_index("identifiant").loc["A3", "nom"] == actor_list.PARTIAL
    page = actor_list.filter_actors(actor_list.list_actors(con, "departement", "01"))
    pd.testing.assert_frame_equal(frame, page)


def test_export_filters_by_family_and_sector_keys(con):
    assert actor_list.export_table(con, "region", "84", family="association")[
        "identifiant"
    ].tolist() == ["A4", "A1", "A3"]
    assert actor_list.export_table(con, "region", "84", sector="commerce")[
        "identifiant"
    ].tolist() == ["A2"]
    with pytest.raises(ValueError, match="Famille inconnue : « club »"):
        actor_list.export_table(con, "region", "84", family="club")
    with pytest.raises(ValueError, match="Secteur inconnu"):
        actor_list.export_table(con, "region", "84", sector="espace")


def test_formula_names_exported_as_text(con):
    frame = actor_list.export_table(con, "region", "84")
    back = pd.read_csv(io.BytesIO(exports.csv_bytes(frame)), sep=";", dtype=str)
    assert back["nom"].tolist() == [
        "'-1+2",
        "'+1",
        '\'=HYPERLINK("http://x.invalid","clic")',
        actor_list.PARTIAL,
    ]
    book = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(frame, "acteurs")))
    sheet = book.active
    names = {
        sheet.cell(row=r, column=2).value: sheet.cell(row=r, column=2).data_type
        for r in range(2, sheet.max_row + 1)
    }
    assert names['=HYPERLINK("http://x.invalid","clic")'] == "s"
    assert names["+1"] == "s" and names["-1+2"] == "s"


@pytest.fixture
def db_file(tmp_path):
    path = tmp_path / "base.duckdb"
    con = store.connect(path)
    try:
        from geo_fixture import build_fixture_geography

        build_fixture_geography(con)
        _insert_actors(con)
    finally:
        con.close()
    return path


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_cli_acteurs_writes_the_same_table(db_file, tmp_path, fmt, capsys):
    out = tmp_path / f"acteurs.{fmt}"
    argv = ["acteurs", "--level", "departement", "01", "--famille", "association"]
    assert cli.main([*argv, "--format", fmt, "--out", str(out), "--db", str(db_file)]) == 0
    if fmt == "csv":
        back = pd.read_csv(out, sep=";", dtype=str)
    else:
        back = pd.read_excel(out, dtype=str, engine="openpyxl")
    assert list(back.columns) == actor_list.COLUMNS
    assert back["identifiant"].tolist() == ["A1", "A3"]
    assert back["nom"].tolist()[1] == actor_list.PARTIAL
    assert "2 acteurs écrits" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--level", "departement", "99"], "Territoire inconnu"),
        (["--level", "departement", "01", "--secteur", "espace"], "Secteur inconnu"),
    ],
)
def test_cli_acteurs_refuses_in_french(db_file, tmp_path, args, message, capsys):
    out = tmp_path / "a.csv"
    argv = ["acteurs", *args, "--format", "csv", "--out", str(out), "--db", str(db_file)]
    assert cli.main(argv) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()


# --- cooperation columns and filters (issue 15) ---------------------------------------------


@pytest.fixture
def coop_con(con):
    con.execute(
        """UPDATE actors SET networks = ['PTCE Bocage', 'GME  Cantine'], needs = '=1+1',
               projects = '@cmd', inclusive_kind = 'EI', esus = true,
               services = ['nettoyage', 'espaces_verts']
           WHERE actor_id = 'A1'"""
    )
    con.execute("UPDATE actors SET networks = ['ptce bocage'], needs = '  ' WHERE actor_id = 'A2'")
    con.execute(
        "UPDATE actors SET networks = ['PTCE Bocage'], needs = 'secret' WHERE actor_id = 'A3'"
    )
    return con


def test_new_columns_come_after_the_historical_ones(coop_con):
    frame = actor_list.export_table(coop_con, "departement", "01")
    assert actor_list.COLUMNS[:14] == [
        "identifiant", "nom", "commune", "code commune", "famille", "secteur", "emplois",
        "emplois estimés", "employeur", "actif", "ESS", "SIRET", "NAF", "source",
    ]  # fmt: skip
    assert actor_list.COLUMNS[14:] == [
        "structure inclusive", "ESUS", "prestations", "projets", "expertises", "besoins",
        "réseaux",
    ]  # fmt: skip
    a1 = frame.set_index("identifiant").loc["A1"]
    assert a1["réseaux"] == "PTCE Bocage | GME Cantine"
    assert a1["prestations"] == " | ".join(
        actor_list.segment_label(k) for k in ("nettoyage", "espaces_verts")
    )
    assert (a1["structure inclusive"], bool(a1["ESUS"]), a1["besoins"]) == ("EI", True, "=1+1")
    # Partial diffusion: free texts are not shown (A3's needs stay private), networks are.
    a3 = frame.set_index("identifiant").loc["A3"]
    assert pd.isna(a3["besoins"]) and a3["réseaux"] == "PTCE Bocage"


def test_filters_by_network_and_seeking_partners(coop_con):
    frame = actor_list.list_actors(coop_con, "departement", "01")
    assert actor_list.networks_present(frame) == ["GME Cantine", "PTCE Bocage"]
    by_network = actor_list.filter_actors(frame, networks=["PTCE BOCAGE"])
    assert by_network["identifiant"].tolist() == ["A2", "A1", "A3"]
    assert actor_list.filter_actors(frame, networks=["GME Cantine"])["identifiant"].tolist() == [
        "A1"
    ]
    # Blank needs do not count; A3's are private (partial diffusion).
    assert actor_list.filter_actors(frame, seeking_partners=True)["identifiant"].tolist() == ["A1"]
    assert actor_list.export_table(
        coop_con, "departement", "01", network="ptce bocage", seeking_partners=True
    )["identifiant"].tolist() == ["A1"]
    assert actor_list.export_table(coop_con, "departement", "01", network="Inconnu").empty


def test_new_text_columns_are_safe_cells(coop_con):
    frame = actor_list.export_table(coop_con, "departement", "01")
    back = pd.read_csv(io.BytesIO(exports.csv_bytes(frame)), sep=";", dtype=str)
    a1 = back.set_index("identifiant").loc["A1"]
    assert (a1["besoins"], a1["projets"]) == ("'=1+1", "'@cmd")
    book = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(frame, "acteurs")))
    sheet = book.active
    headers = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "A1")
    needs = row[headers.index("besoins")]
    assert needs.value == "=1+1" and needs.data_type == "s"


def test_cli_acteurs_network_and_seeking_partners(coop_con, tmp_path, capsys):
    path = tmp_path / "coop.duckdb"
    coop_con.execute(f"ATTACH '{path}' AS f")
    coop_con.execute("COPY FROM DATABASE memory TO f")
    coop_con.execute("DETACH f")
    out = tmp_path / "a.csv"
    argv = ["acteurs", "--level", "departement", "01", "--reseau", "PTCE Bocage"]
    argv += ["--cherche-partenaires", "--format", "csv", "--out", str(out), "--db", str(path)]
    assert cli.main(argv) == 0
    back = pd.read_csv(out, sep=";", dtype=str)
    assert list(back.columns) == actor_list.COLUMNS
    assert back["identifiant"].tolist() == ["A1"]
    assert "1 acteurs écrits" in capsys.readouterr().err
