"""The workshop pages under AppTest: facilitator, participant (phone), projection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from workshop_fixtures import EVIL, drive_session, seed_territory

from ess_diag import store, workshop

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def db_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("atelier") / "atelier.duckdb"
    con = store.connect(path)
    seed_territory(con)
    con.close()
    return path


@pytest.fixture
def con(db_path, monkeypatch):
    monkeypatch.setenv("ESS_DIAG_DB", str(db_path))
    monkeypatch.delenv("ESS_DIAG_ADMIN_PASSWORD", raising=False)
    # The process-wide connection the pages use too (one configuration per DuckDB file).
    return store.get_connection(db_path)


@pytest.fixture
def session(con):
    return drive_session(con)


def _page(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=60)
    at.session_state["territory"] = ("departement", "01")
    return at


def _html(at) -> str:
    return " ".join(el.proto.body for el in at.get("html"))


def test_facilitator_creates_a_session(con):
    at = _page("atelier.py")
    at.run()
    assert not at.exception
    at.selectbox(key="atelier_choice").set_value("__new__").run()
    at.text_input[0].input("Atelier de test <b>")
    at.text_input[1].input("Mairie")
    at.button[0].click().run()  # form submit: « Créer l'atelier »
    assert not at.exception, at.exception
    created = [s for s in workshop.list_sessions(con, "departement", "01") if s.place == "Mairie"]
    assert len(created) == 1
    assert created[0].title == "Atelier de test <b>"
    assert at.session_state["atelier_session"] == created[0].session_id
    assert created[0].join_code in _html(at)
    assert len(at.get("image")) == 1  # the QR code


def test_facilitator_board_is_escaped_and_merge_is_confirmed(con, session):
    s, people, ids = session
    at = _page("atelier.py")
    at.session_state["atelier_session"] = s.session_id
    at.run()
    assert not at.exception
    html = _html(at)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert EVIL not in html
    merge = at.button(key="merge")
    assert merge.disabled  # nothing chosen, not confirmed
    at.selectbox(key="merge_target").set_value(ids["Un tiers-lieu"])
    at.multiselect(key="merge_sources").set_value([ids["De la mobilité solidaire"]]).run()
    assert at.button(key="merge").disabled  # still not confirmed
    at.checkbox(key="confirm_merge").check().run()
    at.button(key="merge").click().run()
    assert not at.exception
    board = workshop.board(con, s.session_id)
    assert ids["De la mobilité solidaire"] not in set(board["contribution_id"])
    # Undo is offered and works.
    undo = at.button(key="undo")
    assert "fusion" in undo.label
    undo.click().run()
    assert ids["De la mobilité solidaire"] in set(
        workshop.board(con, s.session_id)["contribution_id"]
    )


def test_facilitator_password(con, monkeypatch):
    monkeypatch.setenv("ESS_DIAG_ADMIN_PASSWORD", "s3cret")
    at = _page("atelier.py")
    at.run()
    assert not at.exception
    assert [t.label for t in at.main.text_input] == ["Mot de passe administrateur"]
    assert not at.main.selectbox or all(sb.label != "Atelier" for sb in at.main.selectbox)
    at.main.text_input[0].input("faux")
    at.main.button[0].click().run()
    assert [e.value for e in at.error] == ["Mot de passe incorrect."]
    at.main.text_input[0].input("s3cret")
    at.main.button[0].click().run()
    assert at.session_state["facilitator_ok"] is True
    assert any(sb.label == "Atelier" for sb in at.main.selectbox)


def test_participant_joins_by_url_posts_and_votes(con, session):
    s, people, ids = session
    at = _page("participer.py")
    at.query_params["code"] = s.join_code.lower()
    at.run()
    assert not at.exception
    assert at.text_input[0].value == s.join_code.lower()
    at.text_input[1].input("Dora")
    at.button[0].click().run()
    assert not at.exception, at.exception
    sid, pid = at.session_state["participant"]
    assert sid == s.session_id
    assert workshop.participant_name(con, sid, pid) == "Dora"
    assert at.query_params["p"] == [pid] or at.query_params["p"] == pid

    at.radio[0].set_value("besoins")
    at.text_area[0].input("Un atelier vélo solidaire")
    at.selectbox[0].set_value("01004")
    at.button[0].click().run()
    assert not at.exception
    assert [m.value for m in at.success] == ["Merci ! Votre contribution est au tableau."]
    board = workshop.board(con, sid)
    row = board[board["text"] == "Un atelier vélo solidaire"].iloc[0]
    assert (row["category"], row["commune_code"], row["author"]) == ("besoins", "01004", "Dora")

    at.button_group(key="participer_view").set_value("Voter").run()
    assert not at.exception
    vote_button = at.button(key=f"vote_{ids['Un tiers-lieu']}")
    assert vote_button.label == "Voter"
    vote_button.click().run()
    assert not at.exception
    assert workshop.my_votes(con, sid, pid) == {ids["Un tiers-lieu"]}
    assert at.button(key=f"vote_{ids['Un tiers-lieu']}").label.startswith("✓")
    # The probe shows as text in the vote list.
    assert "&lt;img src=x onerror=alert(1)&gt;" in _html(at)


def test_participant_sees_a_waiting_vote_and_can_take_it_back(con, session):
    s, people, ids = session
    sid, alice = s.session_id, people["alice"]
    workshop.vote(con, sid, alice, ids["Une monnaie locale"])
    workshop.undo_last(con, sid)  # the merge: Alice now has 4 dots for a budget of 3
    at = _page("participer.py")
    at.query_params["code"] = s.join_code
    at.query_params["p"] = alice
    at.run()
    at.button_group(key="participer_view").set_value("Voter").run()
    assert not at.exception
    assert any("1 de vos votes est en attente" in m.value for m in at.info)
    waiting = at.button(key=f"vote_{ids['Une monnaie locale']}")
    assert waiting.label == "⏳ Vote en attente — retirer"
    assert not waiting.disabled
    assert at.button(key=f"vote_{ids['Mutualiser un véhicule']}").disabled
    waiting.click().run()
    assert not at.exception
    assert workshop.waiting_votes(con, sid, alice) == set()
    assert at.button(key=f"vote_{ids['Une monnaie locale']}").label == "Voter"
    assert not any("en attente" in m.value for m in at.info)


def test_participant_length_limit_and_empty_text(con, session):
    """The text area stops at the limit (the French refusal itself is tested in
    test_workshop.py: a browser cannot send more); an empty post is refused in French."""
    s, people, ids = session
    at = _page("participer.py")
    at.query_params["code"] = s.join_code
    at.query_params["p"] = people["bruno"]
    at.run()
    assert at.text_area[0].proto.max_chars == workshop.MAX_LENGTH == 280
    at.text_area[0].input("   ")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["La contribution est vide."]


def test_participant_unknown_code(con):
    at = _page("participer.py")
    at.query_params["code"] = "ZZZZZZ"
    at.run()
    assert not at.exception
    assert at.error[0].value.startswith("Aucun atelier en cours avec le code « ZZZZZZ »")


@pytest.mark.parametrize("step", range(12))
def test_projection_every_screen(con, session, step):
    s, people, ids = session
    at = _page("projection.py")
    at.query_params["atelier"] = s.join_code
    at.session_state["proj_step"] = step
    at.run()
    assert not at.exception, at.exception
    html = _html(at)
    assert EVIL not in html
    if step == 0:
        assert s.join_code in html and len(at.get("image")) == 1
    if step == 1:
        assert ">280<" in html  # Ain 2023 ESS jobs in the fixtures
    if step == 7:
        deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
        layer = next(la for la in deck["layers"] if la["id"] == "contributions")
        assert layer["radiusUnits"] == "pixels"
        assert len(layer["data"]) == 3  # 01001, 01002, 01004
    if step == 8:  # besoins: the zones blanches of the workshop's territory
        assert "habitants vivent dans une commune sans établissement" in html
    if step == 9:
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
    if step == 11:  # the last screen: « Où en sommes-nous ? » (no plan yet for this workshop)
        assert "Où en sommes-nous ?" in html and "Pas encore de plan" in html


def test_projection_buttons_move(con, session):
    s, people, ids = session
    at = _page("projection.py")
    at.query_params["atelier"] = s.join_code
    at.run()
    at.button(key="pj_next").click().run()
    assert at.session_state["proj_step"] == 1
    at.button(key="pj_prev").click().run()
    at.button(key="pj_prev").click().run()
    assert at.session_state["proj_step"] == 11  # wraps to the last screen
