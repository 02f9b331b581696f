"""Smoke test: app.py and every page listed in its navigation run without exception."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from geo_fixture import PROJECT_ROOT, build_fixture_geography
from streamlit.testing.v1 import AppTest

from ess_diag import demo, nomenclatures, store


def _page_files() -> list[str]:
    """The page files named in app.PAGES (read without importing app.py, which runs Streamlit)."""
    tree = ast.parse((PROJECT_ROOT / "app.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "PAGES":
            return [entry.elts[1].value for entry in node.value.elts]
    raise AssertionError("app.PAGES introuvable")


PAGE_FILES = _page_files()


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("smoke") / "smoke.duckdb"
    con = store.connect(path)
    build_fixture_geography(con)
    nomenclatures.register(con)
    demo.load(con)
    con.close()
    return path


def test_every_listed_page_exists():
    missing = [f for f in PAGE_FILES if not (PROJECT_ROOT / f).exists()]
    assert missing == []


def test_app_entry_point_runs(fixture_db, monkeypatch):
    monkeypatch.setenv("ESS_DIAG_DB", str(fixture_db))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "ESS Diag"


@pytest.mark.parametrize("page", PAGE_FILES)
def test_page_runs_without_exception(page, fixture_db, monkeypatch):
    if not (PROJECT_ROOT / page).exists():
        pytest.skip(f"{page} n'existe pas encore")
    monkeypatch.setenv("ESS_DIAG_DB", str(fixture_db))
    at = AppTest.from_file(str(PROJECT_ROOT / page), default_timeout=60)
    at.session_state["territory"] = ("departement", "01")
    at.run()
    assert not at.exception, at.exception


def test_home_page_shows_the_territory_figures(fixture_db, monkeypatch):
    monkeypatch.setenv("ESS_DIAG_DB", str(fixture_db))
    at = AppTest.from_file(str(PROJECT_ROOT / "pages" / "accueil.py"), default_timeout=60)
    at.session_state["territory"] = ("epci", "200000002")
    at.run()
    assert at.header[0].value == "Intercommunalité (EPCI) CA de la Ville (200000002)"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "Population municipale": "17\u202f000",
        "Communes": "2",
        "Population rurale (estimation)": "0,0\u202f%",
    }
    # The demo banner is shown while demo data is loaded.
    assert any("Données de démonstration" in w.value for w in at.warning)


def test_picker_changes_the_territory(fixture_db, monkeypatch):
    monkeypatch.setenv("ESS_DIAG_DB", str(fixture_db))
    at = AppTest.from_file(str(PROJECT_ROOT / "pages" / "accueil.py"), default_timeout=60).run()
    at.selectbox(key="pick_region").select("84").run()
    assert at.session_state["territory"] == ("region", "84")
    at.selectbox(key="pick_dep").select("01").run()
    at.selectbox(key="pick_epci").select("200000001").run()
    assert at.session_state["territory"] == ("epci", "200000001")
    assert {m.label: m.value for m in at.metric}["Population municipale"] == "1\u202f000"


def test_search_by_name_or_code_sets_the_territory(fixture_db, monkeypatch):
    monkeypatch.setenv("ESS_DIAG_DB", str(fixture_db))
    at = AppTest.from_file(str(PROJECT_ROOT / "pages" / "accueil.py"), default_timeout=60).run()
    at.text_input(key="territory_search").input("bocage").run()
    results = at.selectbox(key="territory_search_pick")
    assert results.options == ["Choisir…", "Intercommunalité (EPCI) — CC du Bocage (200000001)"]
    results.select_index(1).run()
    assert at.session_state["territory"] == ("epci", "200000001")
    # The cascade follows: région 84, département 01, EPCI selected.
    assert at.selectbox(key="pick_epci").value == "200000001"
    at.text_input(key="territory_search").input("69123").run()
    at.selectbox(key="territory_search_pick").select_index(1).run()
    assert at.session_state["territory"] == ("commune", "69123")
    assert at.header[0].value == "Commune Lyon (69123)"


def test_address_keeps_the_territory(fixture_db, monkeypatch):
    monkeypatch.setenv("ESS_DIAG_DB", str(fixture_db))
    at = AppTest.from_file(str(PROJECT_ROOT / "pages" / "accueil.py"), default_timeout=60)
    at.query_params["niveau"] = "epci"
    at.query_params["territoire"] = "200000001"
    at.run()
    assert at.header[0].value == "Intercommunalité (EPCI) CC du Bocage (200000001)"
    at.selectbox(key="pick_region").select("__all__").run()
    assert at.session_state["territory"] == ("france", "FR")
    assert at.query_params["niveau"] in ("france", ["france"])
    assert at.query_params["territoire"] in ("FR", ["FR"])
