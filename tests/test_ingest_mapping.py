"""Column mapping: the user's choice of columns, remembered for files with the same headers."""

from __future__ import annotations

import pytest
from ingest_helpers import snapshot, write
from openpyxl import Workbook

from ess_diag import ingest
from ess_diag.ingest import mapping

HEADERS = ["Commune INSEE", "Activité", "Nombre d'établissements 2023", "Effectifs salariés 2023"]
BODY = "01001;8810A;2;30\n01004;8610Z;3;120\n"
CHOICE = {"code_commune": "Commune INSEE", "ape": "Activité"}


def _file(tmp_path, name="emploi.csv", headers=HEADERS):
    return write(tmp_path / name, ";".join(headers) + "\n" + BODY)


def test_unknown_headers_are_refused_with_the_closest_format(geo_con, tmp_path):
    report = ingest.run_import(geo_con, [_file(tmp_path)])
    assert report.status == "rejected"
    assert "URSSAF — établissements et effectifs salariés privés" in report.errors[0]


def test_read_headers_and_suggest(tmp_path):
    path = _file(tmp_path)
    assert mapping.read_headers(path) == HEADERS
    suggestion = mapping.suggest("urssaf_commune_ape", HEADERS)
    # The year columns are recognised by the format itself; the others are left to the user
    # when no header is close enough.
    assert suggestion["etablissements_2023"] == "Nombre d'établissements 2023"
    assert suggestion["effectifs_2023"] == "Effectifs salariés 2023"
    assert suggestion["code_commune"] == "Commune INSEE"


def test_explicit_choice_then_remembered(geo_con, tmp_path):
    path = _file(tmp_path)
    report = ingest.run_import(
        geo_con, [path], column_maps={"emploi.csv": ("urssaf_commune_ape", CHOICE)}
    )
    assert report.status == "committed", report.errors
    assert report.files[0].mapping["ape"] == "Activité"
    assert geo_con.execute(
        "SELECT commune_code, naf, jobs FROM private_employment ORDER BY 1"
    ).fetchall() == [("01001", "88.10A", 30.0), ("01004", "86.10Z", 120.0)]
    mapping.remember(geo_con, "urssaf_commune_ape", HEADERS, CHOICE)
    # Next year's file: same headers up to case and accents → the choice is applied.
    other = _file(
        tmp_path, "emploi_2024.csv", [h.upper() for h in HEADERS[:1]] + ["ACTIVITE"] + HEADERS[2:]
    )
    again = ingest.run_import(geo_con, [other])
    assert again.status == "committed", again.errors
    assert any("correspondance de colonnes mémorisée" in w for w in again.warnings)
    assert mapping.recall(geo_con, HEADERS) == ("urssaf_commune_ape", CHOICE)
    assert len(mapping.list_mappings(geo_con)) == 1


def test_remembered_choice_for_a_workbook_with_title_rows(geo_con, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Emploi salarié privé — extraction"])
    ws.append([])
    ws.append(HEADERS)
    ws.append(["01002", "0111Z", 1, 3])
    path = tmp_path / "emploi.xlsx"
    wb.save(path)
    assert mapping.read_headers(path) == HEADERS
    mapping.remember(geo_con, "urssaf_commune_ape", HEADERS, CHOICE)
    report = ingest.run_import(geo_con, [path])
    assert report.status == "committed", report.errors
    assert report.files[0].header_row == 3
    assert geo_con.execute("SELECT commune_code, jobs FROM private_employment").fetchall() == [
        ("01002", 3.0)
    ]


@pytest.mark.parametrize(
    ("choice", "fragment"),
    [
        ({"code_commune": "Commune INSEE"}, "ape"),
        ({"code_commune": "Commune INSEE", "ape": "Commune INSEE"}, "choisie deux fois"),
        ({"code_commune": "Code", "ape": "Activité"}, "n'existe pas"),
    ],
)
def test_invalid_choices(geo_con, choice, fragment):
    before = snapshot(geo_con)
    with pytest.raises(ValueError, match=fragment):
        mapping.remember(geo_con, "urssaf_commune_ape", HEADERS, choice)
    assert snapshot(geo_con) == before
