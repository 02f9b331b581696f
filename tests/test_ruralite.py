"""Ruralité: the ESS share by sector in the rural and urban communes (hand-computed on the
fixture), the page showing the indicators' own numbers beside the national rural references,
and the −4,1 % never presented as the private sector's change."""

from __future__ import annotations

from pathlib import Path

import indicators_fixtures as fx
import pytest
import streamlit as st
from geo_fixture import build_fixture_geography
from streamlit.testing.v1 import AppTest

from ess_diag import indicators, references, store
from ess_diag.formatting import fmt_pct, fmt_signed_pct

ROOT = Path(__file__).resolve().parents[1]

# Fixture: 01001 and 01002 are rural (estimated density levels 6 and 7), 01004 and 01005 urban.
# 2023 ESS jobs by sector: 01001 action sociale 20, sport 10; 01004 action sociale 100, santé
# 60, finance 40; 01005 enseignement 50. Private jobs: 01001 action sociale 25, sport 10,
# commerce 65; 01004 action sociale 150, santé 200, finance 100, industrie 550; 01005
# enseignement 60, commerce 240.
EXPECTED = {
    # sector: (ESS rural, ESS urban, private rural, private urban)
    "action_sociale": (20.0, 100.0, 25.0, 150.0),
    "action_sociale_sans_hebergement": (20.0, 100.0, 25.0, 150.0),
    "sport_loisirs": (10.0, 0.0, 10.0, 0.0),
    "sante": (0.0, 60.0, 0.0, 200.0),
    "finance_assurance": (0.0, 40.0, 0.0, 100.0),
    "enseignement": (0.0, 50.0, 0.0, 60.0),
    "commerce": (0.0, 0.0, 65.0, 240.0),
}


@pytest.fixture(autouse=True)
def _fresh_caches():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def test_rural_sectors_hand_computed():
    con = fx.build()
    r = indicators.rural_sectors(con, "departement", "01", 2023)
    rows = {row["sector"]: row for row in r["rows"]}
    assert r["rows"][0]["sector"] == "action_sociale"
    for sector, (er, eu, pr, pu) in EXPECTED.items():
        row = rows[sector]
        got = (row["ess_jobs_rural"], row["ess_jobs_urban"])
        got += (row["private_jobs_rural"], row["private_jobs_urban"])
        assert got == (er, eu, pr, pu), sector
    assert rows["action_sociale"]["ess_share_private_jobs_rural"] == pytest.approx(0.8)
    assert rows["action_sociale"]["ess_share_private_jobs_urban"] == pytest.approx(100 / 150)
    assert rows["sport_loisirs"]["ess_share_private_jobs_rural"] == 1.0
    assert rows["sport_loisirs"]["ess_share_private_jobs_urban"] is None  # no private job
    assert rows["commerce"]["ess_share_private_jobs_rural"] == 0.0
    # Additivity: the sectors add up to the rurality section's totals.
    total = indicators.rurality(con, "departement", "01", 2023)
    sectors = [row for row in r["rows"] if row["sector"] != "action_sociale"]
    assert sum(row["ess_jobs_rural"] for row in sectors) == total["ess_jobs_rural"]
    assert sum(row["private_jobs_rural"] for row in sectors) == total["private_jobs_rural"]


def test_a_single_rural_commune_is_all_rural():
    con = fx.build()
    rows = {r["sector"]: r for r in indicators.rural_sectors(con, "commune", "01001", 2023)["rows"]}
    assert rows["commerce"]["private_jobs_rural"] == 65.0
    assert rows["commerce"]["private_jobs_urban"] == 0.0


def test_without_private_jobs_the_reason_is_given():
    con = fx.build(private_years=())
    r = indicators.rural_sectors(con, "departement", "01", 2023)
    assert r["rows"] == [] and "emploi privé" in r["notes"]["rows"]


@pytest.fixture
def db_path(tmp_path) -> Path:
    path = tmp_path / "rural.duckdb"
    con = store.connect(path)
    build_fixture_geography(con)
    fx.insert_stats(con)
    fx.insert_private(con)
    store.bump_data_version(con)
    con.close()
    return path


def test_page_shows_the_indicators_numbers(db_path, monkeypatch):
    monkeypatch.setenv("ESS_DIAG_DB", str(db_path))
    at = AppTest.from_file(str(ROOT / "pages" / "ruralite.py"), default_timeout=60)
    at.session_state["territory"] = ("departement", "01")
    at.session_state["year"] = 2023
    at.run()
    assert not at.exception, at.exception
    con = store.get_connection(db_path)
    expected = indicators.rural_sectors(con, "departement", "01", 2023)
    evo = indicators.evolution(con, "departement", "01")
    (table,) = [t.value for t in at.table if "part de l'ESS, communes rurales" in t.value.columns]
    rows = {r["label"]: r for r in expected["rows"]}
    for label, shown in table.iterrows():
        assert shown["part de l'ESS, communes rurales"] == fmt_pct(
            rows[label]["ess_share_private_jobs_rural"]
        )
        assert shown["part de l'ESS, communes urbaines"] == fmt_pct(
            rows[label]["ess_share_private_jobs_urban"]
        )
    action = table.loc["Action sociale (avec et sans hébergement)"]
    assert action["part de l'ESS, communes rurales"] == fmt_pct(0.8)
    assert action["référence rurale nationale (2015)"] == fmt_pct(0.562)
    metrics = {m.label: m.value for m in at.metric}
    ess_label = next(k for k in metrics if k.startswith("Emplois de l'ESS, communes rurales"))
    other = next(k for k in metrics if k.startswith("Emplois privés hors ESS, communes rurales"))
    assert metrics[ess_label] == fmt_signed_pct(evo["rural_change"]["ess_jobs"])
    assert metrics[other] == fmt_signed_pct(evo["rural_change"]["non_ess_private_jobs"])
    text = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    # Like with like: the private reference is −2,6 %; −4,1 % is labelled with public jobs.
    assert f"emplois privés hors ESS **{fmt_signed_pct(-0.026)}**" in text
    assert f"emploi public compris **{fmt_signed_pct(-0.041)}**" in text
    assert "15 960 communes" in text  # the study's definition of rural is stated


def test_no_page_or_doc_calls_minus_4_1_the_private_sector():
    for path in [ROOT / "pages" / "evolution.py", ROOT / "docs" / "methodologie.md"]:
        text = path.read_text(encoding="utf-8")
        assert "reste du privé y reculait de 4,1" not in text
        assert "−4,1 %** pour le reste de l'économie privée" not in text
        assert "CLAP, 2018" not in text
    assert references.RURAL_CHANGE["private_non_ess"][0] == -0.026
