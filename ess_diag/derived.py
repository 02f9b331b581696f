"""Derived tables of the database: figures precomputed from the imported data.

The database is the only cache. Whatever an indicator needs precomputed is written here, by
:func:`refresh`, inside the same transaction as the import, undo or rebuild that changed its
inputs — so no derived figure can ever disagree with the data it comes from.
"""

from __future__ import annotations

import duckdb

__all__ = ["refresh"]


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite the derived tables from the current data (call inside the caller's transaction).

    Callers: every place that changes indicator inputs and bumps ``data_version`` (imports,
    undo, ``init``, the demo build).
    """
    # Filled by the indicators package (issue #14): until then, nothing is derived.
    return None
