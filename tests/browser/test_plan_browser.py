"""The action plan in a real headless Chromium: Plan d'action (one click from the workshop's
votes to the table), Évaluation (seven criteria side by side), and the projection's « Où en
sommes-nous ? » screen on a 1366×900 projector. Screenshots go to tests/artifacts/ (looked at by
hand: nothing cut, no raw HTML)."""

from __future__ import annotations

import datetime as dt

import pytest
from harness import build_small_database, open_page, running_app, shot, wait_idle

from ess_diag import evaluation, store, workshop

EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def plan_app(tmp_path_factory):
    """A server on its own database (département 01 + demo) holding one voted workshop."""
    folder = tmp_path_factory.mktemp("plan_browser")
    db = build_small_database(folder / "plan.duckdb", departements=("01",))
    con = store.connect(db)
    session = workshop.create_session(
        con, "departement", "01", "Atelier ESS de l'Ain", session_date=dt.date(2026, 11, 23)
    )
    people = [workshop.join(con, session.join_code, n) for n in ("Alice", "Bruno", "Chloé")]
    texts = [
        ("besoins", "Une épicerie solidaire dans le Bugey"),
        ("pistes", "Créer un pôle territorial de coopération économique"),
        ("pistes", EVIL),
        ("besoins", "Un tiers-lieu pour les associations"),
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
            now=start + dt.timedelta(minutes=i),
        )
        for i, (cat, text) in enumerate(texts)
    ]
    for who, target in [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 2), (2, 3)]:
        workshop.vote(con, session.session_id, people[who], ids[target])
    evaluation.add_evidence(
        con,
        "departement",
        "01",
        "documents_cadres",
        "Le projet de territoire cite l'ESS dans son axe 2.",
        file_name="projet-de-territoire-2027.pdf",
        who="Service développement",
        evidence_date=dt.date(2027, 1, 15),
    )
    con.execute("CHECKPOINT")
    con.close()
    with running_app(db, folder / "streamlit.log") as url:
        yield url, session


def test_plan_evaluation_and_where_are_we(page, plan_app):
    url, session = plan_app
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.set_viewport_size({"width": 1366, "height": 900})
    open_page(page, url, "plan", niveau="departement", territoire="01")
    page.get_by_text("Le plan est vide").wait_for()
    page.get_by_role("button", name="Créer les actions depuis les votes").click()
    page.get_by_text("4 action(s) ajoutée(s)").wait_for(timeout=60_000)
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    page.get_by_role("button", name="Ajouter la note").wait_for()
    page.locator("[data-testid='stMetric']").first.wait_for()
    wait_idle(page)
    assert page.locator("img[src='x']").count() == 0
    shot(page, "plan_1_actions")

    open_page(page, url, "evaluation", niveau="departement", territoire="01")
    page.get_by_text("7. Qualité de la participation à la coconstruction").wait_for()
    page.get_by_text("projet-de-territoire-2027.pdf", exact=False).wait_for()
    page.get_by_text("Évaluation (PDF)").wait_for()
    page.locator("[data-testid='stMetric']").first.wait_for()
    wait_idle(page)
    assert page.get_by_text("l'ESS dans son axe 2", exact=False).count() == 1  # no entity shown
    shot(page, "plan_2_evaluation")

    open_page(page, url, "projection", atelier=session.join_code, ecran="suivi")
    page.get_by_text("Où en sommes-nous ?", exact=True).wait_for()
    page.get_by_text("Une épicerie solidaire dans le Bugey").wait_for()
    assert page.locator("img[src='x']").count() == 0
    shot(page, "plan_3_where_are_we", full_page=False)
    assert dialogs == []
