"""The page « Acheter à l'ESS » under AppTest, and its XLSX/PDF files (values escaped)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import streamlit as st
from geo_fixture import build_fixture_geography
from openpyxl import load_workbook
from pypdf import PdfReader
from sourcing_fixtures import NETTOYAGE_20KM, insert_structures, town_point
from streamlit.testing.v1 import AppTest

from ess_diag import sourcing, store
from ess_diag.report import sourcing as sourcing_report

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = "<img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://evil.example","clic")'


@pytest.fixture(scope="module")
def db_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("acheter") / "acheter.duckdb"
    con = store.connect(path)
    build_fixture_geography(con)
    insert_structures(con, town_point(con))
    con.execute("UPDATE actors SET name = ? WHERE actor_id = 'N1'", [HOSTILE])
    con.execute("UPDATE actors SET name = ? WHERE actor_id = 'S1'", [FORMULA])
    store.bump_data_version(con)
    con.close()
    return path


@pytest.fixture
def db(db_path, monkeypatch):
    monkeypatch.setenv("ESS_DIAG_DB", str(db_path))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield db_path
    st.cache_data.clear()
    st.cache_resource.clear()


def run(territory=("departement", "01"), **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages/acheter.py"), default_timeout=60)
    at.session_state["territory"] = territory
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def test_site_picked_by_commune_shows_map_table_and_downloads(db):
    at = run(src_segment="nettoyage", src_radius=20)
    # The département's communes are listed; pick Ambérieu-en-Bugey.
    commune = at.selectbox(key="src_commune_departement_01")
    commune.set_value("01004").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["nom"]) == [
        HOSTILE,
        FORMULA,
        "Aide à Domicile Solidaire",
        "ESAT du Bugey",
        "diffusion partielle",
        "GEIQ Propreté",
    ]
    assert len(table) == len(NETTOYAGE_20KM)
    assert list(table["bases légales"])[:2] == ["L2113-13", "L2113-13"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "L2113-12": "1",
        "L2113-13": "2",
        "L2113-15": "0",
        "Capacité totale": "48 emplois",
    }
    decks = at.get("deck_gl_json_chart")
    assert len(decks) == 1
    spec = json.loads(decks[0].proto.json)
    ids = [layer["id"] for layer in spec["layers"]]
    assert ids == ["contours", "rayon", "structures", "site"]
    assert spec.get("mapProvider") in (None, "")  # no basemap, nothing fetched
    downloads = [b.proto.label for b in at.get("download_button")]
    assert downloads == ["Liste (XLSX)", "Document (PDF)"]
    # The hostile name never reaches Markdown as HTML.
    assert all(HOSTILE not in m.value for m in at.markdown)


def test_groupings_shown_when_minimum_not_reached(db):
    at = run(src_segment="nettoyage", src_radius=20, src_min_jobs=25)
    at.selectbox(key="src_commune_departement_01").set_value("01004").run()
    assert [s.value for s in at.subheader] == ["Groupements possibles"]
    gme = at.dataframe[1].value
    assert gme["emplois"].iloc[0] == 32
    assert "ESAT du Bugey" in gme["groupement"].iloc[0]


def test_point_site_and_empty_segment(db):
    at = run(src_segment="blanchisserie", src_mode="point", src_lat=45.975, src_lon=5.325)
    assert any("Aucune structure ne propose ce segment" in i.value for i in at.info)


def test_first_site_is_the_most_populous_commune(db):
    at = run(territory=("france", "FR"), src_segment="nettoyage")
    assert at.selectbox(key="src_commune_france_FR").value == "69123"  # Lyon
    assert any("Aucune structure ne propose ce segment" in i.value for i in at.info)


def test_find_communes_by_name_or_code(db_path):
    # Above 5 000 communes (France, large régions) the page searches instead of listing.
    # The process-wide connection the pages use too (DuckDB refuses a second configuration).
    con = store.get_connection(db_path)
    assert sourcing.find_communes(con, "amberieu") == [
        ("01004", "Ambérieu-en-Bugey (01)"),
        ("01005", "Ambérieux-en-Dombes (01)"),
    ]
    assert sourcing.find_communes(con, "6912") == [("69123", "Lyon (69)")]
    assert sourcing.find_communes(con, "  ") == []


def _result(db_path):
    con = store.get_connection(db_path)
    site = sourcing.site_for_commune(con, "01004")
    return sourcing.search(con, site, 20, "nettoyage", min_jobs=25)


def test_xlsx_keeps_formulas_as_text(db_path):
    data = sourcing_report.xlsx_bytes(_result(db_path))
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Structures", "Synthèse", "Groupements"]
    ws = wb["Structures"]
    names = [c.value for c in ws["B"][1:]]
    assert names[:2] == [HOSTILE, FORMULA]
    formula_cell = ws["B3"]
    assert formula_cell.data_type == "s"  # text, never evaluated
    summary = [c.value for c in wb["Synthèse"]["A"]]
    assert "Segment : Nettoyage et propreté" in summary


def test_pdf_text(db_path):
    data = sourcing_report.pdf_bytes(_result(db_path))
    assert data.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    for expected in (
        "Acheter à l'ESS",
        "Nettoyage et propreté",
        "Ambérieu-en-Bugey (01004)",
        "L2113-13",
        "ESAT du Bugey",
        "diffusion partielle",
        "Groupements possibles",
        "Art. L2113-15",
    ):
        assert expected in text, expected
    assert "Jean Secret" not in text
