"""The workshop in a real headless Chromium: projection on a 1366×900 projector, the
participant page on a 390×844 phone. Screenshots go to tests/artifacts/ (looked at by hand:
big type, nothing cut, no raw HTML)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from harness import build_small_database, is_local, open_page, running_app, shot, wait_idle

from ess_diag import store, workshop

EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def workshop_app(tmp_path_factory):
    """A server on its own database (département 01 + demo) holding one workshop."""
    folder = tmp_path_factory.mktemp("workshop_browser")
    db = build_small_database(folder / "atelier.duckdb", departements=("01",))
    con = store.connect(db)
    session = workshop.create_session(
        con,
        "departement",
        "01",
        "Atelier ESS de l'Ain",
        session_date=dt.date(2026, 11, 23),
        place="Bourg-en-Bresse",
    )
    communes = [c for c, _ in workshop.commune_choices(con, "departement", "01")]
    people = [workshop.join(con, session.join_code, n) for n in ("Alice", "Bruno", EVIL)]
    texts = [
        ("forces", "Un tissu associatif dense et des bénévoles engagés"),
        ("faiblesses", "Peu de coopératives d'activité et d'emploi"),
        ("besoins", "Une épicerie solidaire dans le Bugey"),
        ("besoins", EVIL),
        ("opportunites", "Le projet alimentaire territorial"),
        ("freins", "Le manque de locaux abordables"),
        ("pistes", "Créer un pôle territorial de coopération économique"),
        ("pistes", "Mutualiser un véhicule entre associations"),
    ]
    start = dt.datetime(2026, 11, 23, 9, 0)
    ids = [
        workshop.post(
            con,
            session.session_id,
            cat,
            text,
            participant_id=people[i % 3],
            commune_code=communes[i * 11 % len(communes)] if i % 2 == 0 else None,
            now=start + dt.timedelta(minutes=i),
        )
        for i, (cat, text) in enumerate(texts)
    ]
    workshop.vote(con, session.session_id, people[0], ids[2])
    workshop.vote(con, session.session_id, people[1], ids[2])
    workshop.vote(con, session.session_id, people[1], ids[6])
    con.execute("CHECKPOINT")
    con.close()
    with running_app(db, folder / "streamlit.log") as url:
        yield url, session


def _no_raw_html(pg) -> None:
    assert pg.locator("img[src='x']").count() == 0


def test_projection_screens(page, workshop_app):
    url, session = workshop_app
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_page(page, url, "projection", atelier=session.join_code)
    page.get_by_text(session.join_code, exact=True).wait_for()
    assert page.locator("[data-testid='stSidebar']").is_hidden()
    shot(page, "workshop_projection_1_welcome", full_page=False)

    # Keyboard: → goes to the next screen.
    page.keyboard.press("ArrowRight")
    # "2 / N ·": the number of screens grows with the features (« Où en sommes-nous ? »…).
    page.get_by_text(re.compile(r"^2 / \d+ ·")).wait_for(timeout=30_000)
    wait_idle(page)
    shot(page, "workshop_projection_2_jobs", full_page=False)

    for screen in range(3, 9):
        page.get_by_role("button", name="Suivant").click()
        page.get_by_text(re.compile(rf"^{screen} / \d+ ·")).wait_for(timeout=60_000)
        wait_idle(page)
        if screen in (5, 6, 7):  # plotly draws after the script run ends
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
        if screen == 8:  # the map: deck.gl draws into a canvas
            page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=90_000)
            page.wait_for_timeout(2_000)
        shot(page, f"workshop_projection_{screen}", full_page=False)

    page.get_by_role("button", name="Suivant").click()
    page.get_by_text("Besoins : les zones blanches").wait_for(timeout=30_000)
    wait_idle(page)
    assert "habitants vivent dans une commune sans établissement" in page.inner_text("body")
    shot(page, "workshop_projection_9_needs", full_page=False)

    page.get_by_role("button", name="Suivant").click()
    page.get_by_text("Le tableau de l'atelier").wait_for(timeout=30_000)
    wait_idle(page)
    page.get_by_text(EVIL).first.wait_for()  # shown as text
    _no_raw_html(page)
    shot(page, "workshop_projection_10_board", full_page=False)

    page.get_by_role("button", name="Suivant").click()
    page.get_by_text("Priorités : le vote").wait_for(timeout=30_000)
    wait_idle(page)
    shot(page, "workshop_projection_11_votes", full_page=False)
    assert dialogs == []


def test_participant_phone(browser, workshop_app):
    url, session = workshop_app
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="fr-FR",
    )
    pg = context.new_page()
    requests: list[str] = []
    pg.on("request", lambda r: requests.append(r.url))
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        open_page(pg, url, "participer", code=session.join_code)
        pg.get_by_label("Votre prénom (facultatif)").fill("Dora")
        shot(pg, "workshop_phone_1_join", full_page=False)
        pg.get_by_role("button", name="Rejoindre").click()
        pg.get_by_label("Votre contribution").wait_for(timeout=30_000)
        wait_idle(pg)
        shot(pg, "workshop_phone_2_form", full_page=False)

        pg.get_by_role("radiogroup").get_by_text("Pistes d'action", exact=True).click()
        pg.get_by_label("Votre contribution").fill("Un atelier vélo solidaire à Oyonnax")
        pg.get_by_role("button", name="Envoyer").click()
        pg.get_by_text("Merci ! Votre contribution est au tableau.").wait_for(timeout=30_000)
        shot(pg, "workshop_phone_3_sent", full_page=False)

        pg.locator("[data-testid='stButtonGroup'] button", has_text="Voter").click()
        pg.get_by_text("Il vous reste 5 votes").wait_for(timeout=30_000)
        pg.get_by_role("button", name="Voter").first.click()
        pg.get_by_text("Il vous reste 4 votes").wait_for(timeout=30_000)
        pg.get_by_role("button", name="✓ Vous avez voté — retirer").wait_for(timeout=30_000)
        wait_idle(pg)
        pg.get_by_text(EVIL).first.wait_for()
        _no_raw_html(pg)
        shot(pg, "workshop_phone_4_vote", full_page=False)
        # The phone keeps its participant in a cookie: the QR code's address opened again (no
        # ?p=) is the same participant, with the vote already given (issue 12).
        names = {c["name"] for c in context.cookies()}
        assert f"essdiag_p_{session.session_id}" in names, names
        open_page(pg, url, "participer", code=session.join_code)
        assert pg.get_by_role("button", name="Rejoindre").count() == 0
        pg.locator("[data-testid='stButtonGroup'] button", has_text="Voter").click()
        pg.get_by_text("Il vous reste 4 votes").wait_for(timeout=30_000)
        # Nothing wider than the phone: no horizontal scrolling.
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        assert dialogs == []
    finally:
        context.close()
    outside = sorted({u for u in requests if not is_local(u)})
    assert not outside, f"La page a contacté des hôtes extérieurs : {outside}"
