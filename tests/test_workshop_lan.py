"""``python -m ess_diag.lan``: the LAN banner, and the server command it starts."""

from __future__ import annotations

import subprocess

from workshop_fixtures import drive_session, seed_territory

from ess_diag import lan, store


def test_banner_lists_addresses_codes_and_warns_without_password():
    text = lan.banner("http://192.168.1.20:8501", [("Atelier ESS", "ACD347")], False)
    assert "Participants (téléphones)  : http://192.168.1.20:8501/participer" in text
    assert "  ACD347  Atelier ESS   → http://192.168.1.20:8501/participer?code=ACD347" in text
    assert "aucun mot de passe administrateur" in text
    with_password = lan.banner("http://10.0.0.2:8501", [], True)
    assert "Aucun atelier pour l'instant" in with_password
    assert "mot de passe" not in with_password


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
        lambda cmd, env, cwd: calls.append((cmd, env["ESS_DIAG_PUBLIC_URL"])) or 0,
    )
    assert lan.main(["--port", "8600", "--db", str(db)]) == 0
    cmd, public = calls[0]
    assert cmd[cmd.index("--server.address") + 1] == "0.0.0.0"
    assert cmd[cmd.index("--server.port") + 1] == "8600"
    assert public == "http://192.168.1.20:8600"
    out = capsys.readouterr().out
    assert f"{session.join_code}  Atelier ESS de l'Ain" in out


def test_dry_run_starts_nothing(monkeypatch, capsys):
    monkeypatch.setattr(subprocess, "call", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    assert lan.main(["--dry-run", "--db", "/nonexistent/x.duckdb"]) == 0
    assert "ESS Diag — mode atelier sur le réseau local" in capsys.readouterr().out
