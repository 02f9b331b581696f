"""Actor template: downloadable files, commune by code or name, ambiguities, coordinates."""

from __future__ import annotations

import io

import pandas as pd
import pytest
import shapely
from geo_fixture import fixture_frames
from ingest_helpers import FIXTURES, snapshot, write
from openpyxl import load_workbook

from ess_diag import actor_list, geography, ingest, maps, store
from ess_diag.ingest import actors_template


@pytest.fixture
def con():
    """The fixture geography plus two homonym communes « Villeneuve » (Ain and Rhône)."""
    frames = fixture_frames()
    extra = pd.DataFrame(
        {
            "code": ["01450", "69270"],
            "name": ["Villeneuve", "Villeneuve"],
            "population": [300, 400],
            "epci_code": ["200000001", "200046977"],
            "departement_code": ["01", "69"],
            "region_code": ["84", "84"],
            "geometry": [shapely.box(5.0, 46.0, 5.02, 46.02), shapely.box(4.9, 45.8, 4.92, 45.82)],
        }
    )
    frames["communes"] = pd.concat([frames["communes"], extra], ignore_index=True)
    c = store.connect(":memory:")
    geography.build_from_frames(c, **frames)
    yield c
    c.close()


def _centre(con, code):
    return con.execute(
        "SELECT lon, lat FROM territories WHERE level = 'commune' AND code = ?", [code]
    ).fetchall()[0]


def test_example_list(con):
    report = ingest.run_import(con, [FIXTURES / "modele_acteurs_exemple.csv"])
    assert report.status == "committed", report.errors
    f = report.files[0]
    assert (f.format, f.encoding, f.separator) == ("modele_acteurs", "utf-8-sig", ";")
    assert (report.rows_read, report.rows_loaded, report.rows_set_aside) == (7, 5, 2)
    aside = {
        s.reason.split(" (")[0].split(" :")[0]: (s.rows, s.column, s.example)
        for s in report.set_aside
    }
    assert aside == {
        "Commune ambiguë": (
            [6],
            "Commune",
            "Café associatif — « Villeneuve » : 01450 Villeneuve (01), 69270 Villeneuve (69)",
        ),
        "Code commune inconnu": ([8], "Code commune", "Fondation inconnue — code « 99999 »"),
    }
    assert report.unresolved_communes == ["99999"]
    assert any("Villeneuve" in w and "01450" in w for w in report.warnings)
    rows = con.execute(
        "SELECT name, commune_code, commune_code_raw, siret, siren, naf, is_ess, family, sector, "
        "jobs, jobs_is_estimate, employer, active, coord_source, source "
        "FROM actors ORDER BY name"
    ).fetchall()
    assert rows == [
        (
            "Aide à domicile du Bocage",
            "01001",
            "01001",
            None,
            None,
            None,
            True,
            "association",
            "action_sociale_sans_hebergement",
            12.0,
            False,
            True,
            True,
            "centre_commune",
            "modele",
        ),
        (
            "Boulangerie partenaire",
            "01005",
            "Ambérieux-en-Dombes",
            None,
            None,
            None,
            False,
            None,
            "commerce",
            3.0,
            False,
            True,
            True,
            "centre_commune",
            "modele",
        ),
        # "VILLENEUVE" + "Ain" (département by name) is not ambiguous.
        (
            "Coopérative agricole",
            "01450",
            "VILLENEUVE",
            None,
            None,
            None,
            True,
            "cooperative",
            "agriculture",
            30.0,
            False,
            True,
            True,
            "centre_commune",
            "modele",
        ),
        # An arrondissement code resolves to Lyon; a NAF code as sector.
        (
            "Mutuelle de Lyon",
            "69123",
            "69381",
            "12345678900012",
            "123456789",
            "65.12Z",
            True,
            "mutuelle",
            "finance_assurance",
            80.0,
            False,
            True,
            True,
            "centre_commune",
            "modele",
        ),
        # Accents, case and hyphens ignored in the commune name; coordinates typed in.
        (
            "Ressourcerie de la Ville",
            "01004",
            "ambérieu en bugey",
            None,
            None,
            None,
            True,
            "association",
            "autres_services",
            4.5,
            False,
            True,
            True,
            "saisie",
            "modele",
        ),
    ]
    coords = dict(
        (n, (lon, lat))
        for n, lon, lat in con.execute("SELECT name, lon, lat FROM actors").fetchall()
    )
    assert coords["Ressourcerie de la Ville"] == (5.372, 45.961)
    assert coords["Aide à domicile du Bocage"] == _centre(con, "01001")
    assert coords["Coopérative agricole"] == _centre(con, "01450")
    ids = [r[0] for r in con.execute("SELECT actor_id FROM actors ORDER BY name").fetchall()]
    assert ids[3] == "12345678900012"
    assert all(i.startswith("modele-") for i in ids[:3] + ids[4:])
    # Re-importing the same list replaces, never doubles; undo restores the empty table.
    again = ingest.run_import(con, [FIXTURES / "modele_acteurs_exemple.csv"])
    assert con.execute("SELECT count(*) FROM actors").fetchall() == [(5,)]
    ingest.undo_import(con, again.import_id)
    ingest.undo_import(con, report.import_id)
    assert con.execute("SELECT count(*) FROM actors").fetchall() == [(0,)]


def test_template_files_round_trip(con, tmp_path):
    csv_bytes = actors_template.template_csv()
    assert csv_bytes.startswith(b"\xef\xbb\xbfNom;Code commune;Commune;D")
    xlsx = actors_template.template_xlsx()
    wb = load_workbook(io.BytesIO(xlsx))
    assert wb.sheetnames == ["Acteurs", "Notice"]
    header = [c.value for c in wb["Acteurs"][1]]
    assert header == list(actors_template.TEMPLATE_COLUMNS.values())
    notice = [r[0] for r in wb["Notice"].iter_rows(values_only=True)]
    assert "Associations" in notice and "Action sociale sans hébergement" in notice
    # The empty template is recognised, and refused for having no row.
    path = tmp_path / "modele.xlsx"
    path.write_bytes(xlsx)
    report = ingest.run_import(con, [path])
    assert report.status == "rejected"
    assert "Aucune ligne de données" in report.errors[0]


def test_fifty_actors_filled_in_the_xlsx_template(con, tmp_path):
    """The acceptance case: 50 actors, some by commune name only, a few ambiguous."""
    wb = load_workbook(io.BytesIO(actors_template.template_xlsx()))
    ws = wb["Acteurs"]
    communes = ["01001", "01002", "01004", "01005", "69123"]
    expected_place: dict[str, str] = {}
    for i in range(50):
        name = f"Structure {i + 1:02d}"
        if i % 10 == 3:  # name only, ambiguous (5 rows)
            row = [name, None, "Villeneuve", None]
        elif i % 10 == 7:  # name + département: placed (5 rows)
            row = [name, None, "villeneuve", "Rhône"]
            expected_place[name] = "69270"
        elif i % 5 == 1:  # name only, unique (10 rows)
            row = [name, None, "L'ABERGEMENT-DE-VAREY", None]
            expected_place[name] = "01002"
        else:
            code = communes[i % 5]
            row = [name, code, None, None]
            expected_place[name] = code
        lat = lon = None
        if i % 4 == 0:
            lat, lon = 45.9 + i / 1000, 5.3
        values = row + [None, "Association", "Sport et loisirs", i % 7, lat, lon, None]
        # Typed from row 2 on, as a user does (the template pre-formats code cells as text,
        # so openpyxl's append() would start below them).
        for j, value in enumerate(values, start=1):
            ws.cell(row=i + 2, column=j, value=value)
    path = tmp_path / "liste.xlsx"
    wb.save(path)
    report = ingest.run_import(con, [path])
    assert report.status == "committed", report.errors
    assert report.files[0].container == "xlsx"
    assert (report.rows_read, report.rows_loaded, report.rows_set_aside) == (50, 45, 5)
    [ambiguous] = report.set_aside
    assert ambiguous.reason.startswith("Commune ambiguë")
    assert ambiguous.rows == [5, 15, 25, 35, 45]  # Excel rows (header on row 1)
    assert report.counts["acteurs_communes_ambigues"] == 5
    assert report.counts["acteurs_communes_par_nom"] == 15
    got = dict(con.execute("SELECT name, commune_code FROM actors").fetchall())
    assert got == expected_place
    # Every loaded actor has coordinates: typed in, or its commune's centre.
    rows = con.execute("SELECT name, lon, lat, coord_source FROM actors ORDER BY name").fetchall()
    for name, lon, lat, source in rows:
        i = int(name.split()[1]) - 1
        if i % 4 == 0:
            assert (lon, lat, source) == (5.3, pytest.approx(45.9 + i / 1000), "saisie")
        else:
            assert (lon, lat) == _centre(con, expected_place[name])
            assert source == "centre_commune"
    # They appear on the map and in the actor list of their région.
    points = maps.load_actor_points(con, "region", "84")
    assert sorted(points["name"]) == sorted(expected_place)
    assert points[["lon", "lat"]].notna().all().all()
    listed = actor_list.list_actors(con, "region", "84")
    assert len(listed) == 45
    # They count as ESS actors of their territory (employer when they have jobs).
    n = con.execute(
        "SELECT count(*) FROM actors a JOIN territory_communes m ON m.commune_code = "
        "a.commune_code WHERE m.level = 'departement' AND m.code = '01' AND a.is_ess"
    ).fetchall()[0][0]
    assert n == sum(1 for c in expected_place.values() if c.startswith("01"))


@pytest.mark.parametrize(
    ("line", "reason", "column"),
    [
        ("X;01001;;;1234;Association;;;;;", "SIRET invalide", "SIRET"),
        ("X;01001;;;;Syndicat;;;;;", "Famille inconnue", "Famille"),
        ("X;01001;;;;;Sidérurgie lunaire;;;;", "Secteur inconnu", "Secteur"),
        ("X;01001;;;;;;-3;;;", "Emplois : nombre négatif", "Emplois"),
        ("X;01001;;;;;;trois;;;", "Emplois : pas un nombre", "Emplois"),
        ("X;01001;;;;;;;45,9;;", "Coordonnées incomplètes", "Latitude"),
        ("X;01001;;;;;;;95;5;", "Coordonnées invalides", "Latitude"),
        ("X;;Nulle-Part;;;;;;;;", "Commune introuvable", "Commune"),
        ("X;;Villeneuve;Atlantide;;;;;;;", "Département inconnu", "Département"),
        (";01001;;;;;;;;;", "Nom absent", "Nom"),
    ],
)
def test_bad_rows_are_set_aside_with_reason(con, tmp_path, line, reason, column):
    # The first eleven columns (the lines above fill those; the sourcing ones are optional).
    header = ";".join(list(actors_template.TEMPLATE_COLUMNS.values())[:11])
    path = write(tmp_path / "liste.csv", f"{header}\nBon;01004;;;;;;;;;\n{line}\n")
    report = ingest.run_import(con, [path])
    assert report.status == "committed", report.errors
    [aside] = report.set_aside
    assert aside.reason.startswith(reason)
    assert (aside.rows, aside.column, aside.file) == ([3], column, "liste.csv")
    assert con.execute("SELECT name FROM actors").fetchall() == [("Bon",)]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("", "vide"),
        ("Nom;Famille\nA;Association\n", "n'indique pas la commune"),
        ("Structure;Ville\n", "Aucune ligne de données"),
    ],
)
def test_refused_lists_leave_the_database_unchanged(con, tmp_path, content, fragment):
    ingest.run_import(con, [FIXTURES / "modele_acteurs_exemple.csv"])
    before = snapshot(con)
    report = ingest.run_import(con, [write(tmp_path / "liste.csv", content)])
    assert report.status == "rejected"
    assert fragment in " ".join(report.errors)
    assert snapshot(con) == before


def test_xlsx_example_loads_like_the_csv(con):
    """The same list typed in the Excel template (numbers as numbers, codes as text)."""
    columns = "name, commune_code, family, sector, jobs, lon, lat, coord_source, is_ess"
    report = ingest.run_import(con, [FIXTURES / "modele_acteurs_exemple.csv"])
    from_csv = con.execute(f"SELECT {columns} FROM actors ORDER BY name").fetchall()
    ingest.undo_import(con, report.import_id)
    report = ingest.run_import(con, [FIXTURES / "modele_acteurs_exemple.xlsx"])
    assert report.status == "committed", report.errors
    assert (report.files[0].container, report.rows_loaded, report.rows_set_aside) == ("xlsx", 5, 2)
    assert con.execute(f"SELECT {columns} FROM actors ORDER BY name").fetchall() == from_csv


# --------------------------------------------------------------------------- sourcing columns

SOURCING_HEADER = "Nom;Code commune;" + ";".join(
    [
        "Code NAF",
        "Structure inclusive",
        "Agrément ESUS",
        "Prestations",
        "Projets",
        "Expertises",
        "Besoins",
        "Réseaux",
    ]
)


def test_sourcing_columns_loaded(con, tmp_path):
    path = write(
        tmp_path / "liste.csv",
        f"{SOURCING_HEADER}\n"
        "Régie;01004;8121Z;aci;Oui;nettoyage | Espaces verts et paysage, nettoyage;"
        "Recyclerie;Propreté\u200b urbaine;Un local;PTCE Bugey | GME Propreté | PTCE Bugey\n"
        "Asso;01001;;;non;;;;;\n",
    )
    report = ingest.run_import(con, [path])
    assert report.status == "committed", report.errors
    rows = con.execute(
        "SELECT name, naf, sector, inclusive_kind, esus, services, projects, expertise, needs, "
        "networks FROM actors ORDER BY name"
    ).fetchall()
    assert rows == [
        ("Asso", None, "non_classe", None, False, None, None, None, None, None),
        (
            "Régie",
            "81.21Z",
            "soutien_entreprises",  # from the NAF, no Secteur given
            "ACI",
            True,
            ["nettoyage", "espaces_verts"],
            "Recyclerie",
            "Propreté urbaine",  # a format character cleaned at the door
            "Un local",
            ["PTCE Bugey", "GME Propreté"],
        ),
    ]


@pytest.mark.parametrize(
    ("cells", "reason", "column", "example"),
    [
        ("81-21;;;;;;;", "Code NAF invalide", "Code NAF", "« 81-21 »"),
        (";SCOP;;;;;;", "Structure inclusive inconnue", "Structure inclusive", "« SCOP »"),
        (";;peut-être;;;;;", "Agrément ESUS : oui ou non", "Agrément ESUS", "« peut-être »"),
        (";;;nettoyage|plomberie;;;;", "Prestation inconnue", "Prestations", "plomberie"),
    ],
)
def test_bad_sourcing_values_name_file_row_column(con, tmp_path, cells, reason, column, example):
    path = write(
        tmp_path / "liste.csv", f"{SOURCING_HEADER}\nBon;01004;;;;;;;;\nMauvais;01004;{cells}\n"
    )
    report = ingest.run_import(con, [path])
    assert report.status == "committed", report.errors
    [aside] = report.set_aside
    assert aside.reason.startswith(reason)
    assert (aside.rows, aside.column, aside.file) == ([3], column, "liste.csv")
    assert example in aside.example
    assert con.execute("SELECT name FROM actors").fetchall() == [("Bon",)]


def test_template_shows_the_new_columns_with_an_example(con, tmp_path):
    headers = list(actors_template.TEMPLATE_COLUMNS.values())
    assert headers[-8:] == [
        "Code NAF",
        "Structure inclusive",
        "Agrément ESUS",
        "Prestations",
        "Projets",
        "Expertises",
        "Besoins",
        "Réseaux",
    ]
    lines = actors_template.template_csv().decode("utf-8-sig").splitlines()
    assert lines[0].split(";") == headers
    assert "ACI" in lines[1] and "nettoyage | espaces_verts" in lines[1]
    wb = load_workbook(io.BytesIO(actors_template.template_xlsx()))
    notice = [tuple(r[:2]) for r in wb["Notice"].iter_rows(values_only=True)]
    assert ("Structure inclusive", "ACI") in notice
    assert ("ESAT", "Établissement et service d'aide par le travail") in notice
    assert ("Espaces verts et paysage", "espaces_verts — 81.30Z, 02.40Z") in notice
    # The CSV template with its example row imports as it reads.
    path = tmp_path / "modele.csv"
    path.write_bytes(actors_template.template_csv())
    report = ingest.run_import(con, [path])
    assert report.status == "committed", report.errors
    row = con.execute("SELECT inclusive_kind, esus, services, networks FROM actors").fetchall()
    assert row == [
        ("ACI", True, ["nettoyage", "espaces_verts"], ["PTCE Bugey Solidaire", "Chantier École"])
    ]
