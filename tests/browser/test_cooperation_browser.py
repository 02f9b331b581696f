"""Cooperation in headless Chromium: the map's « Coopérations » layer draws its lines and
legend, and the actor fiche shows the new fields as text. Screenshots in ``tests/artifacts/``."""

from __future__ import annotations

import pytest
from harness import build_small_database, open_page, running_app, shot

pytestmark = pytest.mark.browser

#: CA du Pays de Gex (Ain) in the small demo database.
EPCI = "240100750"
HOSTILE = "<script>alert(1)</script> **gras** <img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def coop_url(tmp_path_factory):
    from ess_diag import store

    path = build_small_database(tmp_path_factory.mktemp("coop_browser") / "coop.duckdb")
    con = store.connect(path)
    try:
        ids = [
            r[0]
            for r in con.execute(
                "SELECT a.actor_id FROM actors a JOIN territory_communes tc "
                "ON tc.commune_code = a.commune_code WHERE tc.level = 'epci' AND tc.code = ? "
                "AND a.active AND a.is_ess AND NOT a.partial_diffusion AND a.lon IS NOT NULL "
                "ORDER BY a.jobs DESC NULLS LAST, a.name, a.actor_id LIMIT 7",  # the page's order
                [EPCI],
            ).fetchall()
        ]
        assert len(ids) == 7
        con.execute(
            "UPDATE actors SET networks = ['PTCE <b>Pays de Gex</b>'], needs = ?, projects = ?, "
            "expertise = 'Réemploi', inclusive_kind = 'ACI', esus = true, "
            "services = ['nettoyage'] WHERE actor_id = ?",
            ["=1+1 un local", HOSTILE, ids[0]],
        )
        con.execute(
            "UPDATE actors SET networks = ['PTCE <b>Pays de Gex</b>'] WHERE list_contains(?, actor_id)",
            [ids[1:4]],
        )
        con.execute(
            "UPDATE actors SET networks = ['GME Restauration'] WHERE list_contains(?, actor_id)",
            [ids[4:7]],
        )
        store.bump_data_version(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    log = tmp_path_factory.mktemp("coop_log") / "streamlit.log"
    with running_app(path, log) as url:
        yield url


def test_map_cooperation_layer_draws(page, coop_url):
    open_page(page, coop_url, "carte", niveau="epci", territoire=EPCI)
    page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=60_000)
    page.get_by_text("Coopérations", exact=True).first.click()
    page.get_by_text("Coopérations (réseaux)").wait_for(timeout=60_000)
    page.wait_for_timeout(2000)  # deck.gl draws on the next animation frames
    assert page.get_by_text("PTCE <b>Pays de Gex</b> (4 membres)").count() == 1
    assert page.get_by_text("GME Restauration (3 membres)").count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0
    shot(page, "carte_cooperations", full_page=True)


def test_actor_fiche_shows_new_fields_as_text(page, coop_url):
    open_page(page, coop_url, "acteurs", niveau="epci", territoire=EPCI)
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    box = grid.bounding_box()
    # The first row (the largest employer, the hostile one): its selection cell at the left.
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
    page.get_by_text("Besoins (cherche des partenaires)").wait_for(timeout=60_000)
    fiche = page.locator("table.ess-fiche").first
    text = fiche.inner_text()
    assert HOSTILE in text  # shown as written, nothing executed or rendered
    assert "=1+1 un local" in text and "PTCE <b>Pays de Gex</b>" in text
    assert fiche.locator("script, img, strong").count() == 0
    fiche.scroll_into_view_if_needed()
    shot(page, "acteurs_fiche_cooperation", full_page=True)
