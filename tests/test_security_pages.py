"""Network mode under AppTest: the import, facilitation and projection pages ask for the admin
password whoever asks; without one configured they show only an explanation; attempts are
throttled and logged; an error shows a French message, not a traceback."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest
from workshop_fixtures import drive_session, seed_territory

from ess_diag import store
from ess_diag_ui import auth

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["importer.py", "atelier.py", "projection.py"]
PASSWORD = "tulosu-zovafo-27"


@pytest.fixture
def network(monkeypatch):
    """Streamlit's ``server.address`` as ``make run-lan`` sets it; the throttle starts empty."""
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", "0.0.0.0")  # noqa: S104
    auth.THROTTLE.reset()
    yield
    st_config.set_option("server.address", before)
    auth.THROTTLE.reset()


@pytest.fixture(scope="module")
def workshop_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("reseau") / "reseau.duckdb"
    con = store.connect(path)
    seed_territory(con)
    session, _people, _ids = drive_session(con)
    con.close()
    return path, session


@pytest.fixture
def db(workshop_db, monkeypatch):
    path, session = workshop_db
    monkeypatch.setenv("ESS_DIAG_DB", str(path))
    monkeypatch.delenv("ESS_DIAG_ADMIN_PASSWORD", raising=False)
    return session


def _page(name: str, session) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=60)
    at.session_state["territory"] = ("departement", "01")
    # The workshop asked for in the address, as a stranger would try it.
    at.query_params["atelier"] = session.join_code
    return at


def _all_text(at) -> str:
    """Every element the page sent (their protobuf text), main area and sidebar."""
    found: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            found.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(found)


@pytest.mark.parametrize("name", PAGES)
def test_without_password_pages_show_only_an_explanation(network, db, name):
    at = _page(name, db).run()
    assert not at.exception
    assert any("Page réservée à l'animateur" in w.value for w in at.warning)
    assert not at.main.text_input  # not even a password field: there is no password
    assert not at.get("file_uploader") and not at.main.selectbox and not at.main.button
    assert not at.main.multiselect and not at.text_area
    text = _all_text(at)
    assert db.join_code not in text
    assert db.title not in text


@pytest.mark.parametrize("name", PAGES)
def test_with_password_pages_ask_for_it_then_work(network, db, monkeypatch, name):
    monkeypatch.setenv("ESS_DIAG_ADMIN_PASSWORD", PASSWORD)
    at = _page(name, db).run()
    assert not at.exception
    assert [t.label for t in at.main.text_input] == ["Mot de passe administrateur"]
    assert not at.get("file_uploader") and not at.main.selectbox
    assert db.join_code not in _all_text(at)
    at.main.text_input[0].input(PASSWORD)
    at.main.button[0].click().run()
    assert not at.exception, at.exception
    assert at.session_state[auth.ADMIN_KEY] is True
    if name == "importer.py":
        assert at.get("file_uploader")
        assert at.multiselect(key="import_local") is not None
    else:
        assert db.join_code in _all_text(at)


def test_projection_stays_open_on_this_computer(db):
    """Loopback (`make run`): the projection page is as before, no password asked."""
    assert not auth.network_mode()
    at = _page("projection.py", db).run()
    assert not at.exception
    assert not at.main.text_input
    assert db.join_code in _all_text(at)


def test_attempts_are_throttled_logged_and_reset_by_success(network, db, monkeypatch, caplog):
    monkeypatch.setenv("ESS_DIAG_ADMIN_PASSWORD", PASSWORD)
    clock = [5000.0]
    monkeypatch.setattr(auth.THROTTLE, "clock", lambda: clock[0])
    at = _page("atelier.py", db).run()

    def attempt(value: str) -> list[str]:
        at.main.text_input[0].input(value)
        at.main.button[0].click().run()
        assert not at.exception
        return [e.value for e in at.error]

    with caplog.at_level(logging.WARNING, logger="ess_diag.auth"):
        assert attempt("faux-1") == ["Mot de passe incorrect."]
        assert attempt("faux-2") == [
            "Mot de passe incorrect. Trop de tentatives : réessayez dans 2 s."
        ]
        # Too early: refused without even comparing, the right password included.
        assert attempt(PASSWORD) == ["Trop de tentatives : réessayez dans 2 s."]
        assert "facilitator_ok" not in at.session_state
        clock[0] += 2
        assert attempt("faux-3") == [
            "Mot de passe incorrect. Trop de tentatives : réessayez dans 4 s."
        ]
        clock[0] += 3
        assert attempt(PASSWORD) == ["Trop de tentatives : réessayez dans 1 s."]
        clock[0] += 1
        assert attempt(PASSWORD) == []
    assert at.session_state["facilitator_ok"] is True
    assert len(auth.THROTTLE) == 0  # success cleared the session's and the address's counts
    warnings = [r.getMessage() for r in caplog.records if r.name == "ess_diag.auth"]
    assert len(warnings) == 3
    assert all("refusé" in w and "faux" not in w for w in warnings)
    assert "adresse local" in warnings[0]


def _failing_app() -> None:
    from ess_diag_ui import auth

    class Broken:
        title = "Cassée"

        def run(self) -> None:
            raise RuntimeError("détail interne /home/animateur/secret")

    auth.run_page(Broken())


def test_network_errors_show_a_french_message_without_details(network):
    at = AppTest.from_function(_failing_app).run()
    assert not at.exception
    assert [e.value for e in at.error] == [auth.ERROR_TEXT]
    assert "secret" not in _all_text(at)
    assert st_config.get_option("client.showErrorDetails") == "none"
    st_config.set_option("client.showErrorDetails", "full")


def test_local_errors_are_shown_as_before():
    at = AppTest.from_function(_failing_app).run()
    assert at.exception
