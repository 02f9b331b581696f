"""The dashboard pages under AppTest: every page runs, and shows the indicators' own numbers."""

from __future__ import annotations

import json
from pathlib import Path

import indicators_fixtures as fx
import pytest
import streamlit as st
from geo_fixture import build_fixture_geography
from streamlit.testing.v1 import AppTest

from ess_diag import indicators, store
from ess_diag.formatting import escape, fmt_int, fmt_pct

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD_PAGES = [
    "pages/vue_ensemble.py",
    "pages/carte.py",
    "pages/secteurs.py",
    "pages/ruralite.py",
    "pages/evolution.py",
    "pages/acteurs.py",
    "pages/methodologie.py",
]
TERRITORIES = [
    ("departement", "01"),
    ("epci", "200000002"),
    ("commune", "01002"),  # no ESS at all
    ("france", "FR"),
]


@pytest.fixture(scope="module")
def db_path(tmp_path_factory) -> Path:
    """A file database with the fixture geography, statistics, private jobs and actors."""
    path = tmp_path_factory.mktemp("dash") / "fixture.duckdb"
    con = store.connect(path)
    build_fixture_geography(con)
    fx.insert_stats(con)
    fx.insert_private(con)
    fx.insert_actors(con)
    con.execute("UPDATE actors SET lon = 4.92, lat = 46.12 WHERE commune_code = '01001'")
    con.execute("UPDATE actors SET lon = 5.32, lat = 45.97 WHERE commune_code = '01004'")
    con.execute("UPDATE actors SET lon = 4.82, lat = 45.74 WHERE commune_code = '69123'")
    # A hostile name: it must show as text everywhere.
    con.execute("UPDATE actors SET name = '<img src=x onerror=alert(1)>' WHERE actor_id = 'A2'")
    store.bump_data_version(con)
    con.close()
    return path


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Streamlit's data caches live as long as the process and are not keyed by database
    path: the tests switch databases, so every test starts from empty caches."""
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture
def db(db_path, monkeypatch):
    monkeypatch.setenv("ESS_DIAG_DB", str(db_path))
    return db_path


@pytest.fixture(scope="module")
def expected(db_path):
    # The process-wide connection the pages use too (DuckDB refuses a second configuration).
    con = store.get_connection(db_path)
    return {t: indicators.compute(con, *t, 2023) for t in TERRITORIES}


def run_page(page: str, territory: tuple[str, str], year: int | None = 2023) -> AppTest:
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    at.session_state["territory"] = territory
    if year is not None:
        at.session_state["year"] = year
    at.run()
    return at


@pytest.mark.parametrize("territory", TERRITORIES, ids=lambda t: f"{t[0]}-{t[1]}")
@pytest.mark.parametrize("page", DASHBOARD_PAGES)
def test_every_page_runs(db, page, territory):
    at = run_page(page, territory)
    assert not at.exception, [e.value for e in at.exception]
    # The selected territory is kept (pages never reset it).
    assert at.session_state["territory"] == territory
    text = " ".join(m.value for m in at.markdown)
    assert "<img src=x" not in text  # never raw HTML from data


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_overview_cards_equal_indicators(db, expected):
    doc = expected[("departement", "01")]
    at = run_page("pages/vue_ensemble.py", ("departement", "01"))
    assert not at.exception
    metrics = _metrics(at)
    assert metrics["Établissements"] == fmt_int(doc["ess_establishments"]) == "18"
    assert metrics["Emplois"] == fmt_int(doc["ess_jobs"]) == "280"
    assert metrics["Part de l'emploi privé"] == fmt_pct(doc["ess_share_private_jobs"])
    assert metrics["Part des femmes"] == fmt_pct(doc["women_share"])
    region = doc["comparisons"]["parents"][0]
    captions = [c.value for c in at.caption]
    assert f"Région Auvergne-Rhône-Alpes : {fmt_pct(region['ess_share_private_jobs'])}" in captions
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    family = next(c for c in charts if c["data"][0]["y"][-1] == "Associations")
    jobs = dict(zip(family["data"][0]["y"], family["data"][0]["x"], strict=True))
    assert jobs == {r["label"]: r["jobs"] for r in doc["by_family"]["rows"]}
    assert family["layout"]["separators"] == ", "


def test_overview_empty_territory_says_what_to_import(db):
    at = run_page("pages/vue_ensemble.py", ("commune", "01002"))
    assert not at.exception
    # 01002 has no ESS rows but the département is covered: statistics say 0, shown as 0.
    assert _metrics(at)["Emplois"] == "0"


def _charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_sectors_page_equals_indicators(db, expected):
    doc = expected[("departement", "01")]
    at = run_page("pages/secteurs.py", ("departement", "01"))
    assert not at.exception
    jobs_chart = _charts(at)[0]["data"][0]
    shown = dict(zip(jobs_chart["y"], jobs_chart["x"], strict=True))
    assert shown == {r["label"]: r["jobs"] for r in doc["by_sector"]["rows"] if r["jobs"]}


def test_rurality_page_equals_indicators(db, expected):
    rural = expected[("departement", "01")]["rural"]
    at = run_page("pages/ruralite.py", ("departement", "01"))
    assert not at.exception
    metrics = _metrics(at)
    assert metrics["Communes rurales"] == fmt_int(rural["rural_communes"]) == "2"
    assert metrics["Communes urbaines"] == fmt_int(rural["urban_communes"]) == "2"
    assert metrics["Emplois ESS en rural"] == fmt_pct(rural["share_ess_jobs_rural"])
    bars = _charts(at)[0]["data"][0]
    assert bars["text"] == [
        fmt_pct(rural["ess_share_private_jobs_rural"]),
        fmt_pct(rural["ess_share_private_jobs_urban"]),
    ]
    # Markdown text is HTML-escaped (entities render as the characters themselves).
    assert any(escape(rural["definition_label"]) in m.value for m in at.info)


def test_evolution_page_equals_indicators(db, expected):
    evo = expected[("departement", "01")]["evolution"]
    at = run_page("pages/evolution.py", ("departement", "01"))
    assert not at.exception
    index = _charts(at)[0]["data"][0]
    assert index["x"] == [r["year"] for r in evo["series"]]
    assert index["y"] == pytest.approx([r["ess_index"] for r in evo["series"]])
    assert _metrics(at)["Emplois de l'ESS, 2021 → 2023"] == "+2,2\u202f%"


def test_map_page_values_equal_indicators(db):
    at = run_page("pages/carte.py", ("departement", "01"))
    assert not at.exception
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    assert spec["mapStyle"] == "__MAP_STYLE__"  # no basemap fetched
    layers = {layer["id"]: layer for layer in spec["layers"]}
    tips = sorted(f["properties"]["tip"] for f in layers["territoires"]["data"]["features"])
    con = store.get_connection(db)
    figures = indicators.compute_all(con, "epci", 2023, within=("departement", "01"))
    expected_tips = sorted(
        f"{row.name} ({row.code})\nPart de l'ESS dans l'emploi privé : "
        f"{fmt_pct(row.ess_share_private_jobs)}"
        for row in figures.itertuples()
    )
    assert tips == expected_tips
    names = [p["tip"].split("\n")[0] for p in layers["acteurs"]["data"]]
    # Employers only by default; the hostile name is kept as text (tooltips use innerText).
    assert "<img src=x onerror=alert(1)>" in names


def test_actors_page_lists_and_masks(db):
    at = run_page("pages/acteurs.py", ("departement", "01"))
    assert not at.exception
    table = at.dataframe[0].value
    assert table["identifiant"].tolist() == ["A3a", "A3b", "A1", "A2", "A4"]
    assert table.loc[table["identifiant"] == "A2", "nom"].item() == "<img src=x onerror=alert(1)>"
    lyon = run_page("pages/acteurs.py", ("commune", "69123")).dataframe[0].value
    assert lyon["nom"].tolist() == ["diffusion partielle"]


@pytest.fixture(scope="module")
def empty_db_path(tmp_path_factory) -> Path:
    """Geography only: nothing imported yet."""
    path = tmp_path_factory.mktemp("dash_empty") / "empty.duckdb"
    con = store.connect(path)
    build_fixture_geography(con)
    con.close()
    return path


@pytest.mark.parametrize("page", DASHBOARD_PAGES)
def test_pages_without_data_explain_what_to_import(empty_db_path, monkeypatch, page):
    monkeypatch.setenv("ESS_DIAG_DB", str(empty_db_path))
    at = run_page(page, ("departement", "01"), year=None)
    assert not at.exception, [e.value for e in at.exception]
    if page == "pages/methodologie.py":
        return
    messages = " ".join(m.value for m in at.info)
    assert "import" in messages.lower(), messages


def test_loaded_data_tables_speak_french(db):
    at = run_page("pages/methodologie.py", ("departement", "01"))
    assert not at.exception, [e.value for e in at.exception]
    captions = " ".join(c.value for c in at.caption)
    assert "Départements : " in captions and "Communes : " in captions, captions
    assert "departement :" not in captions
    tables = {tuple(df.value.columns): df.value for df in at.dataframe}
    stats = next(v for k, v in tables.items() if "niveau" in k)
    assert set(stats["niveau"]) <= {"Commune", "Intercommunalité (EPCI)", "Département", "Région"}
    actors = next(v for k, v in tables.items() if "dont ESS" in k)
    assert list(actors["source"]) == ["SIRENE"]
    assert (
        int(actors["acteurs"].sum())
        == store.get_connection(db).execute("SELECT count(*) FROM actors").fetchall()[0][0]
    )


def test_map_data_table_is_written_the_french_way(db):
    at = run_page("pages/carte.py", ("departement", "01"))
    assert not at.exception, [e.value for e in at.exception]
    frame = at.dataframe[0].value
    label = "Part de l'ESS dans l'emploi privé"
    values = [v for v in frame[label] if v != "non disponible"]
    assert values, frame
    assert all(v.endswith("\u202f%") and "." not in v for v in values), values
