"""The Besoins page under AppTest: the zones blanches it shows are ess_diag.needs' own, and a
zone blanche becomes a "besoin" of the territory's workshop in one click."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import indicators_fixtures as fx
import pytest
import streamlit as st
from geo_fixture import build_fixture_geography
from streamlit.testing.v1 import AppTest

from ess_diag import needs, store, workshop
from ess_diag.formatting import fmt_int, fmt_num

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "besoins.py")


@pytest.fixture
def db_path(tmp_path) -> Path:
    path = tmp_path / "besoins.duckdb"
    con = store.connect(path)
    build_fixture_geography(con)
    fx.insert_stats(con)
    fx.insert_private(con)
    fx.insert_actors(con)
    con.execute("UPDATE actors SET lon = 4.93, lat = 46.13 WHERE commune_code = '01001'")
    con.execute("UPDATE actors SET naf = '88.10A' WHERE actor_id = 'A1'")
    store.bump_data_version(con)
    con.close()
    return path


@pytest.fixture(autouse=True)
def _fresh_caches():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def _run(db_path, monkeypatch, territory=("departement", "01"), choice=None):
    monkeypatch.setenv("ESS_DIAG_DB", str(db_path))
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["territory"] = territory
    if choice:
        at.session_state["needs_choice"] = choice
    return at.run()


def test_page_shows_the_needs_figures(db_path, monkeypatch):
    at = _run(db_path, monkeypatch, choice="service:aide_domicile")
    assert not at.exception, at.exception
    expected = needs.zones(
        store.get_connection(db_path), "departement", "01", "service:aide_domicile", 2023
    )
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Communes sans établissement"] == fmt_int(len(expected["communes"])) == "3"
    assert metrics["Habitants de ces communes"] == fmt_int(17200)
    table = at.dataframe[0].value
    assert list(table["code"]) == ["01004", "01005", "01002"]
    assert list(table["établissement de l'ESS le plus proche"]) == ["Asso Bocage"] * 3
    assert table["distance (km)"].tolist() == [
        fmt_num(c["nearest"]["distance_km"]) for c in expected["communes"]
    ]
    assert table["habitants"].tolist() == ["15\u202f000", "2\u202f000", "200"]
    assert len(at.get("deck_gl_json_chart")) == 1
    # The map's text alternative: a sentence and its data.
    assert any("Carte des zones blanches" in c.value for c in at.caption)
    assert any(e.label == "Données de la carte" for e in at.expander)


def test_region_asks_for_a_smaller_territory(db_path, monkeypatch):
    at = _run(db_path, monkeypatch, territory=("france", "FR"))
    assert not at.exception
    assert "Choisissez un département" in at.info[0].value


def test_one_click_adds_a_besoin_to_the_workshop(db_path, monkeypatch):
    # The process-wide connection the page uses too (one configuration per DuckDB file).
    con = store.get_connection(db_path)
    session = workshop.create_session(
        con, "departement", "01", "Atelier besoins", session_date=dt.date(2026, 12, 2)
    )
    at = _run(db_path, monkeypatch, choice="secteur:sport_loisirs")
    assert not at.exception, at.exception
    at.selectbox(key="needs_commune").set_value("01002")
    at.button(key="needs_add").click().run()
    assert not at.exception, at.exception
    assert "Besoin ajouté" in at.success[-1].value
    board = workshop.board_records(con, session.session_id)
    (row,) = [r for r in board if r["category"] == "besoins"]
    assert row["text"].startswith("Zone blanche « Sport et loisirs » : L'Abergement-de-Varey")
    assert row["commune_code"] == "01002"


def test_no_workshop_says_how_to_create_one(db_path, monkeypatch):
    at = _run(db_path, monkeypatch)
    assert any("Aucun atelier en cours" in c.value for c in at.caption)
