"""``python -m ess_diag.lan``: the LAN banner, its password, and the server command it starts."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from workshop_fixtures import drive_session, seed_territory

from ess_diag import lan, store


@pytest.fixture(autouse=True)
def no_configured_password(monkeypatch, tmp_path):
    """No password from the environment nor from the project's secrets.toml."""
    monkeypatch.delenv("ESS_DIAG_ADMIN_PASSWORD", raising=False)
    monkeypatch.setattr(lan.config, "PROJECT_ROOT", tmp_path)


def test_banner_lists_addresses_codes_and_the_generated_password():
    text = lan.banner("http://192.168.1.20:8501", [("Atelier ESS", "ACD347")], "bado-42")
    assert "Participants (téléphones)  : http://192.168.1.20:8501/participer" in text
    assert "  ACD347  Atelier ESS   → http://192.168.1.20:8501/participer?code=ACD347" in text
    assert "Mot de passe animateur : bado-42" in text
    with_password = lan.banner("http://10.0.0.2:8501", [], None)
    assert "Aucun atelier pour l'instant" in with_password
    # A password the facilitator chose is never printed.
    assert "Mot de passe animateur : celui que vous avez défini" in with_password


def test_lan_addresses_are_ipv4_and_not_loopback_unless_alone():
    addresses = lan.lan_addresses()
    assert addresses
    for address in addresses:
        assert len(address.split(".")) == 4
    assert addresses == ["127.0.0.1"] or not any(a.startswith("127.") for a in addresses)


def test_main_starts_streamlit_on_all_interfaces(tmp_path, monkeypatch, capsys):
    db = tmp_path / "atelier.duckdb"
    con = store.connect(db)
    seed_territory(con)
    session, people, ids = drive_session(con)
    con.close()
    calls = []
    monkeypatch.setattr(lan, "lan_addresses", lambda: ["192.168.1.20"])
    monkeypatch.setattr(
        subprocess,
        "call",
        lambda cmd, env, cwd: calls.append((cmd, env)) or 0,
    )
    assert lan.main(["--port", "8600", "--db", str(db)]) == 0
    cmd, env = calls[0]
    assert cmd[cmd.index("--server.address") + 1] == "0.0.0.0"
    assert cmd[cmd.index("--server.port") + 1] == "8600"
    # Nothing leaves the room: the server knows its address (no checkip lookup), and shows no
    # error details to browsers.
    assert cmd[cmd.index("--browser.serverAddress") + 1] == "192.168.1.20"
    assert cmd[cmd.index("--client.showErrorDetails") + 1] == "none"
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"
    assert env["ESS_DIAG_PUBLIC_URL"] == "http://192.168.1.20:8600"
    out = capsys.readouterr().out
    assert f"{session.join_code}  Atelier ESS de l'Ain" in out
    # Never wide open: the password made for this run is the server's and is printed.
    password = env["ESS_DIAG_ADMIN_PASSWORD"]
    assert len(password) >= 10
    assert f"Mot de passe animateur : {password}" in out


def test_configured_password_is_passed_and_not_printed(monkeypatch, capsys):
    monkeypatch.setenv("ESS_DIAG_ADMIN_PASSWORD", "choisi-par-moi-2026")
    calls = []
    monkeypatch.setattr(subprocess, "call", lambda cmd, env, cwd: calls.append(env) or 0)
    assert lan.main(["--db", "/nonexistent/x.duckdb"]) == 0
    assert calls[0]["ESS_DIAG_ADMIN_PASSWORD"] == "choisi-par-moi-2026"
    assert "choisi-par-moi-2026" not in capsys.readouterr().out


def test_password_from_secrets_toml_is_kept(monkeypatch, tmp_path):
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text('admin_password = "du-fichier-42"\n')
    assert lan.configured_password() == "du-fichier-42"


def test_dry_run_starts_nothing(monkeypatch, capsys):
    monkeypatch.setattr(subprocess, "call", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    assert lan.main(["--dry-run", "--db", "/nonexistent/x.duckdb"]) == 0
    assert "ESS Diag — mode atelier sur le réseau local" in capsys.readouterr().out


def test_dry_run_without_password_prints_a_generated_one(tmp_path):
    """The real command, in a fresh process: ``python -m ess_diag.lan --dry-run``."""
    import os
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k != "ESS_DIAG_ADMIN_PASSWORD"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    out = subprocess.run(
        [sys.executable, "-m", "ess_diag.lan", "--dry-run", "--db", str(tmp_path / "x.duckdb")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
        timeout=60,
    ).stdout
    found = re.search(r"^Mot de passe animateur : (\S+)$", out, re.MULTILINE)
    assert found, out
    assert re.fullmatch(r"[a-z]{6}-[a-z]{6}-\d{2}", found.group(1))
