"""Helpers for the importer tests: database snapshots and small file writers."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"

#: Tables an import may touch; a refused import must leave every one exactly as it was.
WATCHED_TABLES = (
    "density_grid",
    "private_employment",
    "ess_stats",
    "actors",
    "unites_legales",
    "imports",
    "meta",
    "column_mappings",
)


def snapshot(con) -> dict[str, list[tuple]]:
    """Every row of the watched tables (sorted), plus the list of tables (undo tables appear)."""
    out: dict[str, list[tuple]] = {}
    tables = sorted(
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    )
    out["__tables__"] = [(t,) for t in tables]
    for table in WATCHED_TABLES:
        if table in tables:
            rows = con.execute(f'SELECT * FROM "{table}"').fetchall()
            out[table] = sorted(rows, key=repr)
    return out


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path
