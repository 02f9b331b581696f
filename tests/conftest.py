"""Shared fixtures: a small real-coded geography in an in-memory database."""

from __future__ import annotations

from pathlib import Path

import pytest
from geo_fixture import REAL_DATA, build_fixture_geography

from ess_diag import store


@pytest.fixture
def geo_con():
    """An in-memory, migrated database holding the fixture geography.

    Rural communes (density estimate): 01001 (level 6) and 01002 (7); urban: 01004 (2),
    01005 (3), 69123 (1).
    """
    con = store.connect(":memory:")
    build_fixture_geography(con)
    yield con
    con.close()


@pytest.fixture
def real_data() -> Path:
    if not REAL_DATA.is_dir():
        pytest.skip(f"Fichiers réels absents : {REAL_DATA} (dossier shared/data/real)")
    return REAL_DATA


@pytest.fixture(scope="session")
def national_db(tmp_path_factory) -> Path:
    """A database file built by ``ess-diag init --demo``: all of France + demo data (≈1 min).

    Built once per test session. Tests must open it read-only (``store.connect(path,
    read_only=True)``) and close it; a test that needs to write, or a server process (DuckDB
    allows one writing process per file), works on a copy.
    """
    from ess_diag import cli

    path = tmp_path_factory.mktemp("national") / "ess_diag.duckdb"
    assert cli.main(["init", "--demo", "--quiet", "--db", str(path)]) == 0
    return path
