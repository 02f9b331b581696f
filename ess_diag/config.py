"""Settings in one place: every value has a default and can be overridden by the environment."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "PROJECT_ROOT",
    "db_path",
    "admin_password",
    "max_import_bytes",
    "import_memory_limit",
    "import_temp_dir",
    "import_dir",
    "joins_per_minute",
]

#: The repository root (the package is installed in editable mode by `make install`).
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def db_path(override: str | os.PathLike | None = None) -> Path:
    """Where the DuckDB database lives.

    Order: the explicit ``override`` (``--db PATH``), then ``ESS_DIAG_DB``, then
    ``data/ess_diag.duckdb`` under the project root — never the current directory by accident.
    """
    if override:
        return Path(override).expanduser().resolve()
    env = os.environ.get("ESS_DIAG_DB")
    if env:
        return Path(env).expanduser().resolve()
    return PROJECT_ROOT / "data" / "ess_diag.duckdb"


def admin_password() -> str | None:
    """The facilitator/administrator password, or None when none is configured.

    Read from ``ESS_DIAG_ADMIN_PASSWORD``; the Streamlit layer may also read
    ``.streamlit/secrets.toml`` (key ``admin_password``).
    """
    value = os.environ.get("ESS_DIAG_ADMIN_PASSWORD")
    return value or None


def max_import_bytes() -> int | None:
    """Largest file an import given by path accepts (``ESS_DIAG_MAX_IMPORT_MB``), None (the
    default) for no limit: INSEE's national files (≈ 2 Go zipped, ≈ 8 Go of CSV) are meant
    to be imported from the command line or the import folder, and what an import keeps and
    the memory it uses are bounded otherwise (the ESS perimeter, :func:`import_memory_limit`).
    Files sent through the browser have their own limits (``ess_diag.ingest.limits``)."""
    value = os.environ.get("ESS_DIAG_MAX_IMPORT_MB", "").strip()
    if not value or float(value) <= 0:
        return None
    return int(float(value) * 1024 * 1024)


def import_memory_limit() -> str:
    """DuckDB's ``memory_limit`` during an import (``ESS_DIAG_IMPORT_MEMORY_MB``, default
    2 048): beyond it, DuckDB spills to the import's temporary folder instead of growing, so a
    national SIRENE import peaks at a few GB whatever the file size (on the 24 GB benchmark
    machine, with room for the app and the other processes)."""
    mb = float(os.environ.get("ESS_DIAG_IMPORT_MEMORY_MB", "2048"))
    return f"{max(int(mb), 64)}MB"


def import_temp_dir() -> str | None:
    """Where an import's temporary files go (the decompressed zip member, DuckDB's spill):
    ``ESS_DIAG_IMPORT_TMP``, else the system's temporary folder (None)."""
    return os.environ.get("ESS_DIAG_IMPORT_TMP") or None


def import_dir() -> Path:
    """The only folder whose files the import page reads in place (large national files).

    ``ESS_DIAG_IMPORT_DIR``, else ``imports/`` next to the database (``data/imports/`` by
    default): the files to import live with the data they feed, and a test database in a
    temporary folder gets its own import folder.
    """
    env = os.environ.get("ESS_DIAG_IMPORT_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return db_path().parent / "imports"


def joins_per_minute() -> int:
    """Participants who may join one workshop from one client address per minute
    (``ESS_DIAG_JOINS_PER_MINUTE``, default 120).

    A room shares one address: the venue's Wi-Fi or a phone hotspot (NAT), or a reverse proxy
    in front of the app. When the QR code goes up, 100 phones arrive within a minute or two
    from that one address, so the default lets a full room of 100 join within a single minute,
    with margin. A phone that reloads keeps its participant (the browser keeps the id), so the
    limit is not what stops a person from voting twice; it stops a script from creating
    participants — fresh vote budgets — by the thousand. Lower it for a workshop whose
    participants come from many networks (their own 4G): 10 is plenty there.
    """
    value = int(os.environ.get("ESS_DIAG_JOINS_PER_MINUTE", "120"))
    return max(value, 1)
