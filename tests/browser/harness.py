"""Helpers of the browser harness (fixtures in ``conftest.py``): build a small database, start
the app, open a page and wait for Streamlit, take screenshots."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Départements of the small browser database (real geography, demo data).
BROWSER_DEPARTEMENTS = ("01", "69")
#: Flags for a headless chromium that makes no background request of its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

__all__ = [
    "ROOT",
    "ARTIFACTS",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "BROWSER_DEPARTEMENTS",
    "build_small_database",
    "free_port",
    "start_app",
    "stop_app",
    "running_app",
    "is_local",
    "open_page",
    "wait_idle",
    "shot",
    "AXE_JS",
    "AXE_TAGS",
    "axe_violations",
    "page_paths",
]


def build_small_database(path: Path, departements=BROWSER_DEPARTEMENTS) -> Path:
    """Real geography of a few départements + the demo data on it, into ``path``."""
    from ess_diag import demo, geography, nomenclatures, store

    con = store.connect(path)
    try:
        geography.build(con, departements=departements)
        nomenclatures.register(con)
        demo.load(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return path


#: axe-core, installed by ``make test`` (``npm ci --prefix tests/browser/axe``).
AXE_JS = ROOT / "tests" / "browser" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
#: The WCAG 2.1 A and AA rules (what the RGAA 4.1 asks).
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")


def axe_violations(pg, impacts=("serious", "critical"), exclude=()) -> list[dict]:
    """Run axe-core on the page as it is now; the violations of ``impacts``, each as
    ``{id, impact, help, nodes: [target :: summary]}``."""
    if not pg.evaluate("() => typeof window.axe !== 'undefined'"):
        pg.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    found = pg.evaluate(
        """async ([tags, exclude]) => {
            const ctx = exclude.length ? {include: [document], exclude: exclude.map(s => [s])}
                                       : document;
            const r = await axe.run(ctx, {runOnly: {type: 'tag', values: tags},
                                          resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' +
                                                    (n.failureSummary || '').slice(0, 300))}));
        }""",
        [list(AXE_TAGS), list(exclude)],
    )
    return [v for v in found if v["impact"] in impacts]


def page_paths() -> list[tuple[str, str]]:
    """``(file, url path)`` of every page of ``app.PAGES`` (read without running app.py)."""
    import ast

    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "PAGES":
            files = [entry.elts[1].value for entry in node.value.elts]
            return [(f, Path(f).stem) for f in files]
    raise AssertionError("app.PAGES introuvable")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(
    db: Path,
    log: Path,
    timeout: float = 90.0,
    *,
    command=None,
    env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen, str]:
    """Start ``streamlit run app.py`` against ``db`` on a free local port; return (process, url).

    ``command(port)`` may give another server command (e.g. the LAN launcher's, on 0.0.0.0);
    ``env`` replaces the server's environment (``ESS_DIAG_DB`` is still set).
    """
    port = free_port()
    env = {**(os.environ if env is None else env), "ESS_DIAG_DB": str(db), "PYTHONUNBUFFERED": "1"}
    cmd = (
        command(port)
        if command
        else [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.address=127.0.0.1",
            f"--server.port={port}",
            "--server.headless=true",
            "--server.fileWatcherType=none",
            "--browser.gatherUsageStats=false",
        ]
    )
    handle = log.open("wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"streamlit s'est arrêté : {log.read_text(errors='replace')[-2000:]}"
            )
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"streamlit n'a pas répondu en {timeout:.0f} s")


def stop_app(proc: subprocess.Popen) -> None:
    """Stop a server started by :func:`start_app` (killed if it does not stop in 10 s)."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@contextmanager
def running_app(db: Path, log: Path, **options) -> Iterator[str]:
    """:func:`start_app` for the duration of a ``with`` block; yields the app's URL."""
    proc, url = start_app(db, log, **options)
    try:
        yield url
    finally:
        stop_app(proc)


def is_local(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about", "chrome-error"):
        return True
    return parsed.hostname in ("127.0.0.1",)


def open_page(pg, app_url: str, path: str = "", timeout: float = 60_000, **params) -> None:
    """Load a page of the app by its address and wait until Streamlit has finished running it
    (a first visit may be a page's address: ``ui.page_setup`` handles that, see
    ``test_deep_links_browser.py``)."""
    query = f"?{urlencode(params)}" if params else ""
    pg.goto(f"{app_url}/{path}{query}", wait_until="domcontentloaded")
    pg.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=timeout)
    wait_idle(pg, timeout)


def wait_idle(pg, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished running the script (twice: a run may trigger a rerun)."""
    done = """() => {
        const app = document.querySelector('[data-testid="stApp"]');
        return app && app.getAttribute('data-test-script-state') === 'notRunning';
    }"""
    for _ in range(2):
        pg.wait_for_timeout(300)
        pg.wait_for_function(done, timeout=timeout)
    pg.wait_for_timeout(500)


def shot(pg, name: str, full_page: bool = True) -> Path:
    """Save a screenshot under tests/artifacts/ (git-ignored) and return its path.

    Streamlit scrolls inside its main container, so a "full page" screenshot first grows the
    viewport to the content's height (capped), then restores it.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = pg.viewport_size
    if full_page and size:
        height = pg.evaluate(
            """() => {
                const m = document.querySelector('[data-testid="stMain"]');
                return m ? m.scrollHeight : document.body.scrollHeight;
            }"""
        )
        pg.set_viewport_size(
            {"width": size["width"], "height": min(max(height, size["height"]), 6000)}
        )
        pg.wait_for_timeout(800)
    pg.screenshot(path=str(path))
    if full_page and size:
        pg.set_viewport_size(size)
    return path
