"""Smoke test: app.py and every page listed in its navigation run without exception."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import streamlit as st
from geo_fixture import PROJECT_ROOT, build_fixture_geography
from streamlit.testing.v1 import AppTest

from ess_diag import demo, ingest, nomenclatures, store
from ess_diag.formatting import fmt_pct


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


def test_density_grid_import_changes_the_home_page_rural_share_at_once(tmp_path, monkeypatch):
    """Issue #14: the home page reads the rural share through the cache keyed on the data
    version, so a density-grid import shows on the very next run (same process, same cache)."""
    path = tmp_path / "grid.duckdb"
    con = store.connect(path)
    build_fixture_geography(con)
    con.close()
    monkeypatch.setenv("ESS_DIAG_DB", str(path))
    st.cache_data.clear()  # other tests' databases share the process-wide cache
    at = AppTest.from_file(str(PROJECT_ROOT / "pages" / "accueil.py"), default_timeout=60)
    at.session_state["territory"] = ("departement", "01")
    at.run()
    before = {m.label: m.value for m in at.metric}
    # No grid yet: estimated from density. 01001 (800 inhabitants on ~21 km²) and 01002 (200)
    # are sparse, 01004 and 01005 are towns: 1 000 rural inhabitants out of 18 000.
    assert before["Population rurale (estimation)"] == fmt_pct(1000 / 18000) == "5,6\u202f%"

    grid = tmp_path / "grille_densite.csv"
    grid.write_text(
        "CODGEO;LIBGEO;DENS;LIBDENS;PMUN21;P1;P2;P3;P4;P5;P6;P7\n"
        "01001;A;6;x;800;;;;;;;\n"  # rural (habitat dispersé)
        "01002;B;4;x;200;;;;;;;\n"  # petite ville: urban
        "01004;C;5;x;15000;;;;;;;\n"  # bourg rural
        "01005;D;2;x;2000;;;;;;;\n",  # centre urbain intermédiaire
        encoding="utf-8",
    )
    # The page's own process-wide connection: DuckDB refuses a second one on the same file.
    report = ingest.run_import(store.get_connection(path), [grid])
    assert report.status == "committed", report.errors

    at.run()
    after = {m.label: m.value for m in at.metric}
    # Rural by the grid (levels 5 to 7): 800 + 15 000 inhabitants out of 18 000.
    assert "Population rurale (estimation)" not in after
    assert after["Population rurale"] == fmt_pct(15800 / 18000) == "87,8\u202f%"
    captions = " ".join(c.value for c in at.caption)
    assert "2 communes rurales sur 4" in captions
