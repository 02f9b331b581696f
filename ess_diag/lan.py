"""Serve ESS Diag on the local network for a workshop: ``python -m ess_diag.lan --port 8501``.

Starts Streamlit on ``0.0.0.0`` (every interface of this computer), prints the address that
phones on the same Wi-Fi open, and the join codes of the workshops in the database. ``make run``
stays on 127.0.0.1; this is the explicit opt-in for the room.

The address is passed to the app in ``ESS_DIAG_PUBLIC_URL`` so that the QR code shown on the
projector points at this computer's network address, not at ``127.0.0.1``.

It never starts wide open: without ``ESS_DIAG_ADMIN_PASSWORD`` (or ``admin_password`` in
``.streamlit/secrets.toml``) it makes a password for this run, passes it to the server and prints
it. The server is told its address (``browser.serverAddress``) so that Streamlit does not ask an
outside host for the machine's public address, and shows no error details to browsers.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tomllib
from collections.abc import Sequence

from . import config, security, store

__all__ = ["lan_addresses", "public_url", "configured_password", "banner", "server_command", "main"]


def lan_addresses() -> list[str]:
    """This computer's IPv4 addresses on the local network, the most likely first.

    Asks the system which interface it would use to reach a private address (a UDP "connect"
    sends nothing, so it works without internet), then adds the host name's addresses.
    """
    found: list[str] = []
    for probe in ("10.255.255.255", "192.168.255.255", "172.31.255.255"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.connect((probe, 1))
                found.append(sock.getsockname()[0])
        except OSError:
            continue
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(str(info[4][0]))  # (host, port) for AF_INET
    except OSError:
        pass
    unique = [a for a in dict.fromkeys(found) if not a.startswith(("127.", "0."))]
    return unique or ["127.0.0.1"]


def public_url(address: str, port: int) -> str:
    return f"http://{address}:{port}"


def _join_codes(db: str | None) -> list[tuple[str, str]]:
    """(title, join code) of the live workshops, newest first; empty if the base is busy."""
    from . import workshop

    try:
        con = store.connect(db, read_only=True)
    except Exception:  # absent, locked or older base: the banner simply lists no code
        return []
    try:
        if not store.table_exists(con, "workshop_sessions"):
            return []
        return [(s.title, s.join_code) for s in workshop.list_sessions(con)]
    except Exception:
        return []
    finally:
        con.close()


def configured_password() -> str | None:
    """The admin password already configured: the environment, else the project's secrets."""
    value = config.admin_password()
    if value:
        return value
    secrets_file = config.PROJECT_ROOT / ".streamlit" / "secrets.toml"
    try:
        with secrets_file.open("rb") as f:
            return str(tomllib.load(f).get("admin_password") or "") or None
    except (OSError, tomllib.TOMLDecodeError):
        return None


def banner(url: str, codes: Sequence[tuple[str, str]], generated_password: str | None) -> str:
    """The French text printed before the server starts.

    ``generated_password`` is the password made for this run (printed), or None when the
    facilitator configured one (not printed).
    """
    lines = [
        "",
        "ESS Diag — mode atelier sur le réseau local",
        "=" * 44,
        f"Animateur (cet ordinateur) : {url}/atelier",
        f"Projection                 : {url}/projection",
        f"Participants (téléphones)  : {url}/participer",
        "",
        "Les participants se connectent au même réseau Wi-Fi que cet ordinateur, ouvrent",
        "l'adresse ci-dessus (ou scannent le QR code affiché en projection) et saisissent",
        "le code de l'atelier.",
    ]
    if codes:
        lines.append("")
        lines.append("Ateliers en cours :")
        for title, code in codes[:5]:
            lines.append(f"  {code}  {title}   → {url}/participer?code={code}")
    else:
        lines.append("")
        lines.append("Aucun atelier pour l'instant : créez-le dans « Animer un atelier ».")
    lines.append("")
    if generated_password:
        lines += [
            f"Mot de passe animateur : {generated_password}",
            "  (créé pour cette séance ; il ouvre l'import, l'animation et la projection.",
            "  Pour en choisir un : ESS_DIAG_ADMIN_PASSWORD=… make run-lan)",
        ]
    else:
        lines.append(
            "Mot de passe animateur : celui que vous avez défini (ESS_DIAG_ADMIN_PASSWORD)."
        )
    lines += ["", "Arrêt : Ctrl+C.", ""]
    return "\n".join(lines)


def server_command(address: str, port: int, bind: str = "0.0.0.0") -> list[str]:  # noqa: S104
    """The ``streamlit run`` command of a workshop server listening on ``bind``.

    ``browser.serverAddress`` names the address phones use: without it, a server on 0.0.0.0
    asks checkip.amazonaws.com for the machine's public address at start-up (Streamlit's
    ``net_util.get_external_ip``, called to print an "External URL"). Error details stay in the
    server's console (``client.showErrorDetails = none``).
    """
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(config.PROJECT_ROOT / "app.py"),
        "--server.address",
        bind,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.serverAddress",
        address,
        "--browser.gatherUsageStats",
        "false",
        "--client.showErrorDetails",
        "none",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ess_diag.lan",
        description="Sert ESS Diag sur le réseau local pour un atelier.",
    )
    parser.add_argument("--port", type=int, default=8501, help="port (défaut : 8501)")
    parser.add_argument("--db", default=None, help="base DuckDB (défaut : ESS_DIAG_DB)")
    parser.add_argument(
        "--dry-run", action="store_true", help="afficher l'adresse sans lancer le serveur"
    )
    args = parser.parse_args(argv)

    address = lan_addresses()[0]
    url = public_url(address, args.port)
    password = configured_password()
    generated = None if password else security.generate_password()
    print(banner(url, _join_codes(args.db), generated), flush=True)
    if args.dry_run:
        return 0
    admin_password = password or generated
    assert admin_password is not None  # generated when none is configured
    env = dict(os.environ, ESS_DIAG_PUBLIC_URL=url, ESS_DIAG_ADMIN_PASSWORD=admin_password)
    # The web server believes no X-Forwarded-For header (it would from 127.0.0.1 by default):
    # a client behind a forwarding tunnel could otherwise pick the address that the password
    # throttle and the join limit count by.
    env["FORWARDED_ALLOW_IPS"] = ""
    if args.db:
        env["ESS_DIAG_DB"] = str(config.db_path(args.db))
    command = server_command(address, args.port)
    try:
        return subprocess.call(command, env=env, cwd=config.PROJECT_ROOT)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
