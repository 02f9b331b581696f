"""Network mode in a real headless Chromium: the app served the way ``make run-lan`` serves it
(``--server.address 0.0.0.0``, the launcher's own command), reached through 127.0.0.1.

- Without a password: the import, facilitation and projection pages show an explanation only —
  no uploader, no input, no join code.
- With ``ESS_DIAG_ADMIN_PASSWORD`` on the server: they ask for it, then work as on ``make run``.
- Nothing leaves the room: the server's HTTP(S)_PROXY points at a logging proxy on 127.0.0.1,
  which records no request during start-up and page loads (and does record Streamlit's
  checkip lookup when the server is started on 0.0.0.0 without the launcher's settings).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time

import pytest
from harness import build_small_database, open_page, running_app, shot, wait_idle
from logging_proxy import LoggingProxy

from ess_diag import lan, store, workshop

PASSWORD = "tulosu-zovafo-27"
PAGES = [("importer", {}), ("atelier", {}), ("projection", {"atelier": None})]


@pytest.fixture(scope="module")
def network_db(tmp_path_factory):
    """Département 01 + demo data + one workshop (its join code must stay hidden)."""
    folder = tmp_path_factory.mktemp("network_browser")
    db = build_small_database(folder / "reseau.duckdb", departements=("01",))
    con = store.connect(db)
    session = workshop.create_session(
        con, "departement", "01", "Atelier secret de l'Ain", session_date=dt.date(2026, 11, 23)
    )
    con.execute("CHECKPOINT")
    con.close()
    return folder, db, session


def _lan_command(port: int) -> list[str]:
    return [*lan.server_command(lan.lan_addresses()[0], port), "--server.fileWatcherType=none"]


def _server_env(proxy: LoggingProxy, password: str | None) -> dict[str, str]:
    env = proxy.env(dict(os.environ))
    env.pop("ESS_DIAG_ADMIN_PASSWORD", None)
    if password:
        env["ESS_DIAG_ADMIN_PASSWORD"] = password
    return env


def _serve(network_db, name: str, proxy: LoggingProxy, password: str | None, command=_lan_command):
    folder, db, _session = network_db
    copy = folder / f"{name}.duckdb"  # one DuckDB file per server process
    shutil.copy(db, copy)
    return running_app(
        copy, folder / f"{name}.log", command=command, env=_server_env(proxy, password)
    )


@pytest.fixture(scope="module")
def open_server(network_db):
    """No password configured (started by hand, not by make run-lan)."""
    with LoggingProxy() as proxy, _serve(network_db, "ouvert", proxy, None) as url:
        yield url, proxy


@pytest.fixture(scope="module")
def password_server(network_db):
    with LoggingProxy() as proxy, _serve(network_db, "mdp", proxy, PASSWORD) as url:
        yield url, proxy


def _params(params: dict, session) -> dict:
    return {k: (session.join_code if v is None else v) for k, v in params.items()}


def _main_text(pg) -> str:
    return pg.locator("[data-testid='stMain']").inner_text()


@pytest.mark.parametrize(("path", "params"), PAGES)
def test_without_password_pages_are_closed(page, open_server, network_db, path, params):
    url, proxy = open_server
    session = network_db[2]
    open_page(page, url, path, **_params(params, session))
    page.get_by_text("Page réservée à l'animateur").wait_for()
    main = page.locator("[data-testid='stMain']")
    assert page.locator("[data-testid='stFileUploader']").count() == 0
    assert main.locator("input, textarea, button, [data-testid='stSelectbox']").count() == 0
    assert session.join_code not in page.content()
    assert "Atelier secret" not in page.content()
    shot(page, f"network_closed_{path}", full_page=False)
    assert proxy.requests == []


@pytest.mark.parametrize(("path", "params"), PAGES)
def test_with_password_pages_ask_then_work(page, password_server, network_db, path, params):
    url, proxy = password_server
    session = network_db[2]
    open_page(page, url, path, **_params(params, session))
    main = page.locator("[data-testid='stMain']")
    password = main.locator("input[type='password']")
    password.wait_for()
    assert main.locator("input, textarea").count() == 1
    assert page.locator("[data-testid='stFileUploader']").count() == 0
    assert session.join_code not in page.content()
    shot(page, f"network_password_{path}", full_page=False)

    password.fill("pas-le-bon")
    main.get_by_role("button", name="Entrer").click()
    wait_idle(page)
    page.get_by_text("Mot de passe incorrect.").wait_for()
    assert session.join_code not in page.content()

    password.fill(PASSWORD)
    main.get_by_role("button", name="Entrer").click()
    wait_idle(page)
    if path == "importer":
        page.locator("[data-testid='stFileUploader']").wait_for()
        assert "Fichiers volumineux déposés dans le dossier d'import" in _main_text(page)
    else:
        page.get_by_text(session.join_code).first.wait_for()
    assert main.locator("input[type='password']").count() == 0
    shot(page, f"network_open_{path}", full_page=False)
    assert proxy.requests == []


def test_no_outside_request_at_startup_and_page_load(page, open_server):
    url, proxy = open_server
    open_page(page, url)  # the home page, with its figures
    open_page(page, url, "participer")
    time.sleep(1)
    assert proxy.requests == [], proxy.requests


def _bare_command(port: int) -> list[str]:
    """The launcher's command without ``browser.serverAddress``: what a hand-made
    ``streamlit run app.py --server.address 0.0.0.0`` does."""
    cmd = _lan_command(port)
    i = cmd.index("--browser.serverAddress")
    return cmd[:i] + cmd[i + 2 :]


def test_the_proxy_sees_streamlits_checkip_without_the_launcher_settings(network_db):
    """The control: the logging proxy does catch the lookup the launcher's settings avoid."""
    with LoggingProxy() as proxy, _serve(network_db, "nu", proxy, PASSWORD, _bare_command):
        deadline = time.monotonic() + 10
        while not proxy.requests and time.monotonic() < deadline:
            time.sleep(0.2)
    assert any("checkip.amazonaws.com" in r for r in proxy.requests), proxy.requests
