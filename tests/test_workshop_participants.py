"""Issue 12: participants who cannot cheat, text cleaned at the door, user text shown as text;
issue 14: a workshop module without state of its own."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest
from workshop_fixtures import drive_session, fresh_con, seed_territory

from ess_diag import report, store, workshop
from ess_diag_ui import atelier as ws

ROOT = Path(__file__).resolve().parents[1]
ADDRESS = "198.51.100.7"
IMAGE = "![](http://x/y.png)"


@pytest.fixture
def con():
    con = fresh_con()
    yield con
    con.close()


@pytest.fixture
def session(con):
    return workshop.create_session(con, "departement", "01", "Atelier")


def _ten_joins(con, session, address=ADDRESS) -> tuple[list[str], list[str]]:
    base = dt.datetime(2026, 11, 23, 9, 0)
    joined, refused = [], []
    for i in range(10):
        try:
            joined.append(
                workshop.join(
                    con,
                    session.join_code,
                    f"P{i}",
                    client=address,
                    now=base + dt.timedelta(seconds=5 * i),
                )
            )
        except workshop.JoinLimitError as exc:
            refused.append(str(exc))
    return joined, refused


def test_ten_joins_from_one_address_with_a_lower_limit_are_refused_in_french(
    con, session, monkeypatch
):
    monkeypatch.setenv("ESS_DIAG_JOINS_PER_MINUTE", "4")
    joined, refused = _ten_joins(con, session)
    assert len(joined) == 4
    assert (
        refused
        == [
            "Trop d'arrivées depuis cette connexion (4 par minute au plus). Patientez une minute "
            "puis réessayez, ou demandez à l'animateur."
        ]
        * 6
    )
    # Another address is not held back, and a minute later the first one joins again.
    workshop.join(con, session.join_code, client="203.0.113.9", now=dt.datetime(2026, 11, 23, 9))
    later = dt.datetime(2026, 11, 23, 9, 2)
    assert workshop.join(con, session.join_code, client=ADDRESS, now=later)


def test_ten_joins_from_one_address_with_the_default_are_all_accepted(con, session, monkeypatch):
    monkeypatch.delenv("ESS_DIAG_JOINS_PER_MINUTE", raising=False)
    joined, refused = _ten_joins(con, session)
    assert (len(joined), refused) == (10, [])


def test_only_a_salted_hash_of_the_address_is_stored_and_shared_addresses_are_counted(con, session):
    for address, n in [(ADDRESS, 3), ("203.0.113.9", 2), ("192.0.2.1", 1)]:
        for _ in range(n):
            workshop.join(con, session.join_code, client=address)
    workshop.join(con, session.join_code)  # the facilitator or the command line: no address
    stored = {r[0] for r in con.execute("SELECT client_hash FROM workshop_participants").fetchall()}
    assert None in stored and len(stored) == 4
    assert all(h is None or (len(h) == 16 and "." not in h) for h in stored)
    frame = workshop.shared_addresses(con, session.session_id)
    assert frame.to_dict("records") == [
        {"address": "adresse 1", "participants": 3},
        {"address": "adresse 2", "participants": 2},
    ]


def test_text_is_cleaned_at_the_door_and_bounded(con):
    session = workshop.create_session(
        con, "departement", "01", "Atelier\x01 du\u200b 12 mai", place="Mairie\x07\n annexe"
    )
    assert (session.title, session.place) == ("Atelier du 12 mai", "Mairie annexe")
    pid = workshop.join(con, session.join_code, "Al\x01ice\u202e" + "x" * 100)
    name = workshop.participant_name(con, session.session_id, pid)
    assert name == "Alice" + "x" * (workshop.NAME_MAX_LENGTH - 5)
    with pytest.raises(workshop.WorkshopError, match="Le lieu dépasse 120 caractères."):
        workshop.update_session(con, session.session_id, place="p" * 121)
    with pytest.raises(workshop.WorkshopError, match="Le titre dépasse 200 caractères."):
        workshop.update_session(con, session.session_id, title="t" * 201)
    with pytest.raises(workshop.WorkshopError, match="La contribution est vide."):
        workshop.post(con, session.session_id, "forces", "\x01\x02\u200b")


def test_control_characters_are_stored_clean_and_every_export_builds(con):
    session = workshop.create_session(con, "departement", "01", "Atelier\x01 de l'Ain")
    pid = workshop.join(con, session.join_code, "Zo\x01é")
    workshop.post(
        con, session.session_id, "besoins", "Une\x01 recyclerie\x1f solidaire", participant_id=pid
    )
    row = workshop.board_records(con, session.session_id)[0]
    assert (row["text"], row["author"]) == ("Une recyclerie solidaire", "Zoé")

    html = report.build_html(con, session.session_id)
    assert "Une recyclerie solidaire" in html and "\x01" not in html
    pdf = report.build_pdf(con, session.session_id)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Une recyclerie solidaire" in " ".join(text.split())
    book = load_workbook(io.BytesIO(report.build_xlsx(con, session.session_id)))
    cells = [c for r in book["Contributions"].iter_rows(values_only=True) for c in r]
    assert "Une recyclerie solidaire" in cells and "Zoé" in cells


def test_no_state_kept_between_calls_a_write_outside_the_module_is_seen_at_once(con):
    session, people, ids = drive_session(con)
    sid = session.session_id
    before = workshop.stats(con, sid)
    board = workshop.board_records(con, sid)
    # A direct write (another tool, a restore): the next read sees it, nothing is stale.
    con.execute(
        "UPDATE workshop_contributions SET hidden = TRUE WHERE contribution_id = ?",
        [ids["Un tiers-lieu"]],
    )
    con.execute("UPDATE workshop_sessions SET title = 'Renommé' WHERE session_id = ?", [sid])
    assert workshop.stats(con, sid)["hidden"] == before["hidden"] + 1
    assert len(workshop.board_records(con, sid)) == len(board) - 1
    assert workshop.get_session(con, sid).title == "Renommé"
    # A closed database leaves nothing behind for the next one (no cache keyed by id(con)).
    other = store.connect(":memory:")
    seed_territory(other)
    assert workshop.list_sessions(other) == []
    with pytest.raises(workshop.UnknownSessionError):
        workshop.get_session(other, sid)
    other.close()
    assert not [
        name
        for name, value in vars(workshop).items()
        if isinstance(value, dict | set | list) and name.startswith("_") and "CACHE" in name
    ]


# --- pages -------------------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "atelier.duckdb"
    con = store.connect(path)
    seed_territory(con)
    con.close()
    monkeypatch.setenv("ESS_DIAG_DB", str(path))
    monkeypatch.delenv("ESS_DIAG_ADMIN_PASSWORD", raising=False)
    return store.get_connection(path)


def _participer(code: str, **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "participer.py"), default_timeout=60)
    at.query_params.update({"code": code, **params})
    return at


def _join(at: AppTest, name: str = "Eve") -> AppTest:
    at.run()
    at.text_input[1].input(name)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def _html(at) -> str:
    return " ".join(el.proto.body for el in at.get("html"))


def test_participant_page_refuses_joins_beyond_the_limit(db, monkeypatch):
    monkeypatch.setenv("ESS_DIAG_JOINS_PER_MINUTE", "2")
    monkeypatch.setattr(ws, "client_address", lambda: ADDRESS)
    session = workshop.create_session(db, "departement", "01", "Atelier limité")
    for _ in range(2):
        assert "participant" in _join(_participer(session.join_code)).session_state
    at = _join(_participer(session.join_code))
    assert [e.value for e in at.error] == [
        "Trop d'arrivées depuis cette connexion (2 par minute au plus). Patientez une minute "
        "puis réessayez, ou demandez à l'animateur."
    ]
    assert "participant" not in at.session_state
    assert workshop.stats(db, session.session_id)["participants"] == 2


def test_reload_keeps_the_participant_budget_and_rate_limit(db, monkeypatch):
    monkeypatch.setattr(ws, "client_address", lambda: ADDRESS)
    session, people, ids = drive_session(db)
    sid = session.session_id
    at = _join(_participer(session.join_code))
    _, pid = at.session_state["participant"]
    # The page writes the cookie that brings the participant back after a reload.
    assert f"{ws.cookie_name(sid)}={pid};" in _html(at)
    for key in ("Un tiers-lieu", "Mutualiser un véhicule", "Une monnaie locale"):
        workshop.vote(db, sid, pid, ids[key])
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for i in range(workshop.RATE_LIMIT_POSTS):
        workshop.post(db, sid, "forces", f"idée {i}", participant_id=pid, now=now)
    joined = workshop.stats(db, sid)["participants"]

    # A reload is a new browser session: the QR code address (no ?p=) with the cookie, or the
    # address with ?p= (cookies refused). Either way: the same participant, no join form.
    cookie = {ws.cookie_name(sid): pid}
    for params, cookies in [({}, cookie), ({"p": pid}, {})]:
        monkeypatch.setattr(ws, "browser_cookies", lambda cookies=cookies: cookies)
        again = _participer(session.join_code, **params)
        again.run()
        assert not again.exception
        assert again.session_state["participant"] == (sid, pid)
        assert not [t for t in again.text_input if t.label.startswith("Code de l'atelier")]
        again.text_area[0].input("Encore une idée")
        again.button[0].click().run()
        assert again.error[0].value.startswith("Doucement : 6 contributions par minute au plus.")
        again.button_group(key="participer_view").set_value("Voter").run()
        assert "Il vous reste 0 vote" in _html(again)
        assert workshop.votes_left(db, sid, pid) == 0
    assert workshop.stats(db, sid)["participants"] == joined

    # A cookie or an address naming someone else's workshop or nobody: the join form.
    monkeypatch.setattr(ws, "browser_cookies", lambda: {ws.cookie_name(sid): "inconnu-123456"})
    stranger = _participer(session.join_code, p="<script>")
    stranger.run()
    assert "participant" not in stranger.session_state
    assert stranger.text_input[0].label == "Code de l'atelier (affiché à l'écran)"


def test_markdown_in_a_title_or_a_contribution_is_shown_as_text(db):
    session = workshop.create_session(db, "departement", "01", f"Atelier {IMAGE}", place=IMAGE)
    sid = session.session_id
    workshop.post(db, sid, "besoins", f"Besoin {IMAGE}")
    pid = workshop.join(db, session.join_code, IMAGE)

    at = _participer(session.join_code, p=pid)
    at.run()
    at.button_group(key="participer_view").set_value("Voter").run()
    projection = AppTest.from_file(str(ROOT / "pages" / "projection.py"), default_timeout=60)
    projection.query_params["atelier"] = session.join_code
    projection.session_state["proj_step"] = 9  # the board (after the Besoins screen)
    projection.run()
    welcome = AppTest.from_file(str(ROOT / "pages" / "projection.py"), default_timeout=60)
    welcome.query_params["atelier"] = session.join_code
    welcome.run()
    facilitator = AppTest.from_file(str(ROOT / "pages" / "atelier.py"), default_timeout=60)
    facilitator.session_state["territory"] = ("departement", "01")
    facilitator.session_state["atelier_session"] = sid
    facilitator.run()
    pages = {
        "participer": (at, [f"Atelier {IMAGE}", f"Besoin {IMAGE}"]),
        "tableau": (projection, [f"Besoin {IMAGE}"]),
        "accueil projection": (welcome, [f"Atelier {IMAGE}"]),
        "animation": (facilitator, [f"Besoin {IMAGE}", IMAGE]),
    }
    for name, (page, texts) in pages.items():
        assert not page.exception, (name, page.exception)
        html = _html(page)
        for text in texts:
            assert text in html, (name, text)
        markdown = [
            m.value
            for kind in ("markdown", "caption", "title", "header", "subheader")
            for m in page.get(kind)
        ]
        assert not [m for m in markdown if "![" in m], (name, markdown)
        labels = [w.label for w in page.main if hasattr(w, "label") and w.label]
        assert not [label for label in labels if "![" in label], (name, labels)
