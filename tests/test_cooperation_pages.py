"""Cooperation on the pages (AppTest): Acteurs filters, Vue d'ensemble counts, the map's
« Coopérations » layer, and the workshop pages naming actors (facilitator and participant)."""

from __future__ import annotations

import json
from pathlib import Path

import cooperation_fixtures as cf
import pytest
import streamlit as st
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest
from workshop_fixtures import seed_territory

from ess_diag import store, workshop
from ess_diag_ui import auth, data

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def db_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("coop") / "coop.duckdb"
    con = store.connect(path)
    seed_territory(con)
    cf.insert_members(con)
    store.bump_data_version(con)
    con.close()
    return path


@pytest.fixture
def con(db_path, monkeypatch):
    monkeypatch.setenv("ESS_DIAG_DB", str(db_path))
    monkeypatch.delenv("ESS_DIAG_ADMIN_PASSWORD", raising=False)
    # Caches are not keyed by database path: every test starts from empty ones.
    st.cache_data.clear()
    data.workshop_actor_choices.clear()
    data.commune_choices.clear()
    yield store.get_connection(db_path)
    st.cache_data.clear()
    data.workshop_actor_choices.clear()
    data.commune_choices.clear()


def _page(name: str, territory=("departement", "01")) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=60)
    at.session_state["territory"] = territory
    return at


def test_actors_page_filters_by_network_and_seeking_partners(con):
    at = _page("acteurs.py")
    at.run()
    assert not at.exception, at.exception
    networks = at.multiselect(key="actors_networks")
    assert networks.options == ["GME Cantine", "PTCE Bocage"]
    networks.set_value(["PTCE Bocage"]).run()
    assert sorted(at.dataframe[0].value["identifiant"]) == ["N1", "N2", "N3"]
    at.toggle(key="actors_seeking").set_value(True).run()
    assert at.dataframe[0].value["identifiant"].tolist() == ["N1"]
    networks.set_value([]).run()
    assert sorted(at.dataframe[0].value["identifiant"]) == ["N1", "N4"]


def test_overview_shows_the_cooperation_counts(con):
    at = _page("vue_ensemble.py")
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Coopérations (réseaux d'au moins 2 membres)"] == "2"
    assert metrics["Acteurs engagés dans ces coopérations"] == "5"
    table = at.dataframe[0].value
    assert table.values.tolist() == [["GME Cantine", 3], ["PTCE Bocage", 3]]
    # Lyon: one network member each, and something declared: 0, not unknown.
    at = _page("vue_ensemble.py", ("departement", "69"))
    at.run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Coopérations (réseaux d'au moins 2 membres)"] == "0"


def test_map_toggle_draws_the_cooperation_layer(con):
    at = _page("carte.py", ("epci", "200000001"))
    at.run()
    assert not at.exception, at.exception
    ids = {
        layer["id"] for layer in json.loads(at.get("deck_gl_json_chart")[0].proto.json)["layers"]
    }
    assert "cooperations" not in ids
    at.toggle(key="map_cooperation").set_value(True).run()
    assert not at.exception, at.exception
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert len(layers["cooperations"]["data"]) == 3  # PTCE Bocage: N1, N2, N3
    assert "Coopérations (réseaux)" in " ".join(m.value for m in at.markdown)


def test_facilitator_names_actors_and_undoes(con):
    s = workshop.create_session(con, "epci", "200000001", "Atelier du Bocage")
    cid = workshop.post(con, s.session_id, "besoins", "Un local partagé")
    at = _page("atelier.py")
    at.session_state["atelier_session"] = s.session_id
    at.run()
    assert not at.exception, at.exception
    picker = at.multiselect(key=f"actors_{cid}")
    # Public names of the session's territory only (EPCI 200000001).
    assert sorted(picker.options) == sorted(
        label for _, label in workshop.actor_choices(con, "epci", "200000001", limit=100)
    )
    picker.set_value(["N3", "N1"])
    next(b for b in at.button if b.label == "Enregistrer les acteurs").click().run()
    assert not at.exception, at.exception
    assert workshop.contribution_actors(con, s.session_id, cid) == ["N3", "N1"]
    # The board card names them, escaped.
    board = " ".join(el.proto.body for el in at.get("html"))
    assert "🤝 Coop&#x27;Bois, Ressourcerie du Bocage" in board
    undo = at.button(key="undo")
    assert "acteurs nommés" in undo.label
    undo.click().run()
    assert workshop.contribution_actors(con, s.session_id, cid) == []


@pytest.fixture
def network():
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", "0.0.0.0")  # noqa: S104
    auth.THROTTLE.reset()
    yield
    st_config.set_option("server.address", before)
    auth.THROTTLE.reset()


def test_stranger_in_network_mode_sees_public_territory_names_only(con, network):
    s = workshop.create_session(con, "epci", "200000001", "Atelier du Bocage")
    at = _page("participer.py")
    at.query_params["code"] = s.join_code
    at.run()
    at.text_input[1].input("Awa")
    at.button[0].click().run()
    assert not at.exception, at.exception
    picker = at.multiselect(key="participant_actors")
    expected = workshop.actor_choices(
        con, "epci", "200000001", limit=workshop.PARTICIPANT_ACTOR_CHOICES
    )
    assert sorted(picker.options) == sorted(label for _, label in expected)
    assert not any("diffusion partielle" in o or "Lyon" in o for o in picker.options)
    at.radio[0].set_value("besoins")
    at.text_area[0].input("Un local pour la ressourcerie")
    picker.set_value(["N1"])
    at.button[0].click().run()
    assert not at.exception, at.exception
    sid, pid = at.session_state["participant"]
    board = workshop.board(con, sid)
    row = board[board["text"] == "Un local pour la ressourcerie"].iloc[0]
    assert row["actors"] == ["Ressourcerie du Bocage"]
    # Whatever the phone sends, an actor outside the territory is refused by the package.
    with pytest.raises(workshop.WorkshopError, match="hors du territoire"):
        workshop.post(con, sid, "besoins", "Lyon", participant_id=pid, actor_ids=["N7"])
