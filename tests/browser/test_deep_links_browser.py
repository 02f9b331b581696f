"""A page opened by its address as the very first visit of a freshly started server.

Streamlit serves such an address the old way (the ``pages/`` file alone, a menu of file
names) until ``app.py`` has called ``st.navigation`` once; ``ui.page_setup`` switches the
server over and reruns. A participant scanning the QR code after a restart of the server, or a
facilitator reopening a bookmarked map, must land on the real page with the app's menu.
"""

from __future__ import annotations

import datetime as dt
import shutil

from harness import build_small_database, running_app, shot, wait_idle

from ess_diag import store, workshop

#: Entries of the legacy menu (file names of pages/ and app.py itself).
LEGACY_ENTRIES = {"app", "vue ensemble", "vue_ensemble", "methodologie", "importer"}


def _first_visit(pg, url: str) -> None:
    pg.goto(url, wait_until="domcontentloaded")
    pg.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=60_000)
    wait_idle(pg)


def _menu_entries(pg) -> list[str]:
    """Every line of the sidebar menu (titles, and icon names of the app's menu). Beyond 12
    pages Streamlit folds the menu (« View N more »): it is unfolded first."""
    more = pg.locator('[data-testid="stSidebarNavViewButton"]')
    if more.count() and "more" in more.first.inner_text():
        more.first.click()
        pg.wait_for_timeout(300)
    texts = pg.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
    return [line.strip() for text in texts for line in text.splitlines() if line.strip()]


def test_map_address_as_first_visit_of_a_fresh_server(page, browser_db, tmp_path):
    # A copy: the session's server (app_url) may hold the shared database file open.
    db = tmp_path / "browser.duckdb"
    shutil.copyfile(browser_db, db)
    with running_app(db, tmp_path / "streamlit.log") as url:
        _first_visit(page, f"{url}/carte?niveau=departement&territoire=01")
        shot(page, "deep_link_carte", full_page=False)
        entries = _menu_entries(page)
        assert "Vue d'ensemble" in entries and "Méthodologie & sources" in entries, entries
        assert not LEGACY_ENTRIES & {e.lower() for e in entries}, entries
        assert page.locator("h1").first.inner_text() == "Carte"
        # The territory of the address is kept through the rerun.
        assert "Département Ain (01)" in page.locator('[data-testid="stMain"]').inner_text()
        assert "territoire=01" in page.url


def test_participant_qr_address_as_first_visit_of_a_fresh_server(browser, tmp_path):
    db = build_small_database(tmp_path / "atelier.duckdb", departements=("01",))
    con = store.connect(db)
    session = workshop.create_session(
        con, "departement", "01", "Atelier après redémarrage", session_date=dt.date(2026, 12, 1)
    )
    con.execute("CHECKPOINT")
    con.close()
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    pg = phone.new_page()
    try:
        with running_app(db, tmp_path / "streamlit.log") as url:
            _first_visit(pg, f"{url}/participer?code={session.join_code}")
            shot(pg, "deep_link_participer", full_page=False)
            main = pg.locator('[data-testid="stMain"]').inner_text()
            assert "Participer à l'atelier" in main, main[:500]
            # The join form is the participant page's, prefilled with the code of the QR code.
            code_box = pg.get_by_label("Code de l'atelier (affiché à l'écran)")
            assert code_box.input_value() == session.join_code
            assert f"code={session.join_code}" in pg.url
            # No legacy file-name menu on the participant's phone.
            entries = {e.lower() for e in _menu_entries(pg)}
            assert not LEGACY_ENTRIES & entries, entries
    finally:
        phone.close()
