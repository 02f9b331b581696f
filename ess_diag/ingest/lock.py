"""One import or undo at a time per database.

The app serves every browser from one process and one DuckDB connection: two facilitators
pressing "Confirmer l'import" at once would run two large transactions side by side. The
second one is refused at once with a French message instead (nothing is written); workshop
posts, which take no part in this lock, go on during an import.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from .errors import IngestError, Reason

__all__ = ["exclusive", "BUSY_MESSAGE"]

BUSY_MESSAGE = (
    "Un import est déjà en cours sur cette base (ou l'annulation d'un import) : attendez qu'il "
    "se termine, puis recommencez. Rien n'a été modifié."
)

_guard = threading.Lock()
_locks: dict[str, threading.Lock] = {}


def _key(con: duckdb.DuckDBPyConnection) -> str:
    cur = con.cursor()
    try:
        row = cur.execute(
            "SELECT coalesce(path, database_name) FROM duckdb_databases() "
            "WHERE database_name = current_database()"
        ).fetchone()
    finally:
        cur.close()
    return str(row[0]) if row else "memory"


@contextmanager
def exclusive(
    con: duckdb.DuckDBPyConnection, error: type[IngestError] = IngestError
) -> Iterator[None]:
    """Hold the database's import lock, or raise ``error`` with ``Reason.BUSY``."""
    key = _key(con)
    with _guard:
        lock = _locks.setdefault(key, threading.Lock())
    if not lock.acquire(blocking=False):
        raise error(BUSY_MESSAGE, code=Reason.BUSY)
    try:
        yield
    finally:
        lock.release()
