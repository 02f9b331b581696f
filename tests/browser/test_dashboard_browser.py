"""The dashboard in headless Chromium: every page draws its map / charts, offline.

One département (01 Ain) and one EPCI (CA du Pays de Gex, 240100750) of the small demo
database; screenshots land in ``tests/artifacts/`` for a human to look at.
"""

from __future__ import annotations

import io

import pytest
from harness import open_page, shot, wait_idle

pytestmark = pytest.mark.browser

TERRITORIES = [("departement", "01"), ("epci", "240100750")]
#: page path → what must be drawn on it.
PAGES = {
    "vue_ensemble": {"plotly": 2},
    "carte": {"deck": 1},
    "secteurs": {"plotly": 3},
    "ruralite": {"plotly": 1},
    "evolution": {"plotly": 3},
    "acteurs": {"table": 1},
    "methodologie": {},
}


def _canvas_is_drawn(pg, selector: str) -> bool:
    """True when the element's screenshot is not one flat colour (something was painted)."""
    from PIL import Image

    element = pg.locator(selector).first
    image = Image.open(io.BytesIO(element.screenshot())).convert("L")
    low, high = image.getextrema()
    return high - low > 40


#: Every page for the département; the pages whose content changes most with the level
#: (map, overview, series) for the EPCI too — keeps the suite to a few minutes.
CASES = [(path, TERRITORIES[0]) for path in PAGES] + [
    (path, TERRITORIES[1]) for path in ("vue_ensemble", "carte", "evolution", "acteurs")
]


@pytest.mark.parametrize(
    ("path", "territory"), CASES, ids=lambda v: v if isinstance(v, str) else "-".join(v)
)
def test_page_draws(page, app_url, path, territory):
    level, code = territory
    open_page(page, app_url, path, niveau=level, territoire=code)
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]'
    ).first.inner_text()
    expect = PAGES[path]
    if "deck" in expect:
        page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=60_000)
        page.wait_for_timeout(1500)  # deck.gl draws on the next animation frames
        assert _canvas_is_drawn(page, '[data-testid="stDeckGlJsonChart"]')
    if "plotly" in expect:
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
        drawn = page.locator(".js-plotly-plot").count()
        assert drawn >= expect["plotly"], f"{drawn} graphiques dessinés"
        # Bars or lines actually drawn, not only axes.
        assert page.locator(".js-plotly-plot .point, .js-plotly-plot .scatterlayer path").count()
        # The CSV of the data behind each chart is offered.
        assert page.get_by_text("Données (CSV)").count() >= expect["plotly"]
    if "table" in expect:
        page.wait_for_selector('[data-testid="stDataFrame"]', timeout=60_000)
    shot(page, f"{path}_{level}_{code}")


def test_map_tooltip_and_legend(page, app_url):
    """Hovering a territory shows a French tooltip; the legend sits next to the map."""
    open_page(page, app_url, "carte", niveau="departement", territoire="01")
    deck = page.locator('[data-testid="stDeckGlJsonChart"]').first
    deck.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    box = deck.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(800)
    tooltip = page.locator(".deck-tooltip")
    assert tooltip.count() == 1
    text = tooltip.inner_text()
    assert "(" in text and ":" in text, text
    assert page.get_by_text("Part de l'ESS dans l'emploi privé").count() >= 1
    shot(page, "carte_tooltip", full_page=False)


def test_territory_change_keeps_page(page, app_url):
    """Choosing another territory in the sidebar re-renders the same page for it."""
    open_page(page, app_url, "secteurs", niveau="departement", territoire="01")
    sidebar = page.locator('[data-testid="stSidebar"]')
    select = sidebar.get_by_label("Département").first
    # Typing then Enter, as a user of the searchable list would: more robust than waiting for
    # the option list to render while the sidebar may still be settling.
    select.click()
    page.keyboard.type("Rhône")
    page.get_by_role("option", name="Rhône (69)").wait_for(timeout=10_000)
    page.keyboard.press("Enter")
    wait_idle(page)
    assert "secteurs" in page.url
    assert page.get_by_text("Département Rhône (69)").count() >= 1
    shot(page, "secteurs_apres_changement", full_page=False)


def test_chart_toolbar_speaks_french(page, app_url):
    """Plotly's toolbar tooltips come from the French locale given with each chart."""
    open_page(page, app_url, "secteurs", niveau="departement", territoire="01")
    chart = page.locator(".js-plotly-plot").first
    chart.scroll_into_view_if_needed()
    chart.hover()
    page.locator("[data-title]").first.wait_for(state="attached")
    titles = set(page.eval_on_selector_all("[data-title]", "els => els.map(e => e.dataset.title)"))
    assert {"Télécharger le graphique en PNG", "Réinitialiser les axes", "Zoom avant"} <= titles
    english = {"Download plot as a png", "Download plot as a PNG", "Reset axes", "Zoom in", "Pan"}
    assert not english & titles, titles
