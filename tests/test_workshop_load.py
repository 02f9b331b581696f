"""The workshop load test at its smallest (``--smoke``), so that the benchmark does not rot.

Not a timing test: it checks that simulated participants join and post through the running
app (Streamlit's WebSocket protocol) and that every accepted contribution is in the database
exactly once. The timings themselves are reported by ``benchmarks/load_workshop.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from workshop_fixtures import seed_territory

from ess_diag import store

pytest.importorskip("websockets", reason="websockets absent : test de charge ignoré")

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "load_workshop.py"


def test_load_smoke(tmp_path):
    db = tmp_path / "fixture.duckdb"
    con = store.connect(db)
    seed_territory(con)
    con.execute("CHECKPOINT")
    con.close()
    out = tmp_path / "load.json"
    # A child process: the load script runs its own asyncio loop, which cannot start inside a
    # test process where playwright's sync API already runs one.
    subprocess.run(
        [sys.executable, str(BENCH), "--smoke", "--db", str(db), "--json", str(out)],
        check=True,
        timeout=300,
    )
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["errors"] == []
    assert result["joined"] == 3
    assert result["posts_accepted"] > 0
    assert set(result["posts_refused"]) <= {"limite de débit"}
    assert (result["lost"], result["unexpected"], result["duplicates"]) == (0, 0, 0)
    assert result["stored"] == result["posts_accepted"]
    assert result["board_refreshes"] > 0
