"""The projection's map screen on the two usual projectors (1280×720, 1920×1080): no vertical
scroll, the map filling the height left by the title, its legend beside it in type readable
from the back of the room. Screenshots: tests/artifacts/projection_map_*.png."""

from __future__ import annotations

import datetime as dt

import pytest
from harness import build_small_database, open_page, running_app, shot

from ess_diag import store, workshop


@pytest.fixture(scope="module")
def projection_app(tmp_path_factory):
    """A server on département 01 + demo, with one workshop and a few located contributions."""
    folder = tmp_path_factory.mktemp("projection_map")
    db = build_small_database(folder / "projection.duckdb", departements=("01",))
    con = store.connect(db)
    session = workshop.create_session(
        con, "departement", "01", "Atelier de l'Ain", session_date=dt.date(2026, 12, 2)
    )
    communes = [c for c, _ in workshop.commune_choices(con, "departement", "01")]
    person = workshop.join(con, session.join_code, "Alice")
    for i, text in enumerate(("Une épicerie solidaire", "Un tiers-lieu", "Une recyclerie")):
        workshop.post(con, session.session_id, "besoins", text, participant_id=person,
                      commune_code=communes[i * 37 % len(communes)])  # fmt: skip
    con.execute("CHECKPOINT")
    con.close()
    with running_app(db, folder / "streamlit.log") as url:
        yield url, session


_SCROLL = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    return {
        doc: document.documentElement.scrollHeight, inner: window.innerHeight,
        main: main ? main.scrollHeight : 0, mainClient: main ? main.clientHeight : 0,
    };
}"""


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1920, 1080)])
def test_projection_map_fits_the_screen(browser, projection_app, width, height):
    url, session = projection_app
    context = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR")
    page = context.new_page()
    try:
        open_page(page, url, "projection", atelier=session.join_code, ecran="carte")
        page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=90_000)
        page.wait_for_timeout(2_000)
        shot(page, f"projection_map_{width}x{height}", full_page=False)
        sizes = page.evaluate(_SCROLL)
        assert sizes["doc"] <= sizes["inner"], sizes
        assert sizes["main"] <= sizes["mainClient"] + 1, sizes  # Streamlit scrolls in stMain
        deck = page.locator('[data-testid="stDeckGlJsonChart"]').first.bounding_box()
        legend = page.locator(".st-key-pj_legend").first.bounding_box()
        assert deck and legend
        # The map fills the height left under the title, the legend stands beside it.
        assert deck["y"] + deck["height"] <= height
        assert deck["height"] >= 0.6 * height, deck
        assert deck["width"] >= 0.6 * width, deck
        assert legend["x"] >= deck["x"] + deck["width"] - 1
        assert legend["y"] + legend["height"] <= height
        # Legend type readable from the back of a room: at least 24 px.
        size = page.evaluate(
            """() => parseFloat(getComputedStyle(
                document.querySelector('.st-key-pj_legend [data-pj-legend-label]')).fontSize)"""
        )
        assert size >= 24, size
    finally:
        context.close()
