"""Writing an import, its history, and undoing it.

:func:`apply` writes the rows an import declared, in one transaction: for each target, the
stored rows with the same keys are copied to ``undo_<table>`` (tagged with the import id) then
deleted, the new rows inserted with ``import_id``; the import is recorded in ``imports``; the
derived tables refreshed and ``data_version`` bumped. Re-importing the same file replaces rows
by key: nothing is duplicated.

:func:`undo_import` deletes the rows an import wrote and puts back the copies it replaced, so
the tables are exactly as before it; an import can be undone only when no later committed
import touched the same tables (undo the most recent first).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence

import duckdb
import pandas as pd

from .. import derived, nomenclatures, store
from .context import ImportContext
from .errors import Reason, UndoError
from .lock import exclusive
from .report import FileReport, ImportReport

__all__ = ["apply", "list_imports", "undo_import", "warn_if_imported_before", "drop_temp_refs"]


def _undo_table(table: str) -> str:
    return f"undo_{table}"


def _count(con: duckdb.DuckDBPyConnection, query: str, params: Sequence = ()) -> int:
    return int(con.execute(query, list(params)).fetchall()[0][0])


def drop_temp_refs(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the TEMP copies of the nomenclature tables an import classified with."""
    for name in nomenclatures._REF_TABLES:  # noqa: SLF001 — the nomenclatures' own table list
        con.execute(f"DROP TABLE IF EXISTS temp.main.{name}")


def warn_if_imported_before(con: duckdb.DuckDBPyConnection, report: ImportReport) -> None:
    """Warn when the same file content was already imported (it is then replaced, not doubled)."""
    if not store.table_exists(con, "imports"):
        return
    rows = con.execute(
        "SELECT import_id, created_at, files FROM imports WHERE status = 'committed' "
        "ORDER BY created_at"
    ).fetchall()
    mine = {f.sha256 for f in report.files if f.sha256}
    for import_id, created_at, files in rows:
        try:
            previous = {f.get("sha256") for f in json.loads(files or "[]")}
        except (ValueError, AttributeError):
            continue
        if mine & previous:
            report.previous_imports.append(import_id)
            report.warnings.append(
                f"Un de ces fichiers a déjà été importé le {created_at:%d/%m/%Y à %H:%M} "
                f"(import {import_id}) : ses lignes sont remplacées, pas dupliquées."
            )


# --------------------------------------------------------------------------- apply


def apply(ctx: ImportContext, created_by: str) -> None:
    """Write the import's targets, record it, refresh the derived tables and bump the data
    version: one transaction."""
    con, report = ctx.con, ctx.report
    tables = sorted({t for t, _s, _k in ctx.targets})
    with store.transaction(con):
        # The stored reference tables follow the package's nomenclatures (no-op when current);
        # the TEMP copies used to classify would shadow them, so they go first.
        drop_temp_refs(con)
        nomenclatures.register(con)
        for table, source, keys in ctx.targets:
            _replace_rows(con, table, source, keys, ctx.import_id)
            report.tables[table] = report.tables.get(table, 0) + _count(
                con,
                f"SELECT count(*) FROM {source}",  # noqa: S608
            )
        _clean_free_text(con, tables, ctx.import_id)
        report.import_id = ctx.import_id
        report.status = "committed"
        _record(con, report, ctx.import_id, created_by, tables)
        store.bump_data_version(con)
        derived.refresh(con)  # stamped with the new data version


#: Free text that files carry (names, addresses, comments), cleaned at the door like what
#: users type (:func:`ess_diag.text.clean`): control and format characters (Unicode Cc, Cf;
#: tab and newline kept) removed, length bounded. Codes and numbers are validated by the
#: readers themselves.
FREE_TEXT: dict[str, dict[str, int]] = {
    "actors": {
        "name": 300,
        "address": 300,
        "comment": 2000,
        "projects": 2000,
        "expertise": 2000,
        "needs": 2000,
    },
    "unites_legales": {"denomination": 300},
}
_CONTROL = r"[\x00-\x08\x0B-\x1F\x7F-\x9F\p{Cf}]"


def _clean_free_text(con: duckdb.DuckDBPyConnection, tables: list[str], import_id: str) -> None:
    """Clean the free text of the rows this import wrote (only rows that need it are touched)."""
    qi = store.quote_identifier
    for table, columns in FREE_TEXT.items():
        if table not in tables:
            continue
        for column, length in columns.items():
            c = qi(column)
            con.execute(
                f"UPDATE {qi(table)} SET {c} = left(trim(regexp_replace({c}, ?, '', 'g')), ?) "  # noqa: S608
                f"WHERE import_id = ? AND (regexp_matches({c}, ?) OR length({c}) > ?)",
                [_CONTROL, length, import_id, _CONTROL, length],
            )


def _key_condition(keys: Sequence[str], left: str, right: str) -> str:
    qi = store.quote_identifier
    return " AND ".join(f"{left}.{qi(k)} IS NOT DISTINCT FROM {right}.{qi(k)}" for k in keys)


def _replace_rows(
    con: duckdb.DuckDBPyConnection, table: str, source: str, keys: Sequence[str], import_id: str
) -> None:
    """Stored rows with the keys of ``source`` → ``undo_<table>``; rows of ``source`` in."""
    qi = store.quote_identifier
    undo = qi(_undo_table(table))
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {undo} AS "  # noqa: S608
        f"SELECT NULL::VARCHAR AS undo_import_id, * FROM {qi(table)} LIMIT 0"
    )
    if keys:
        cond = _key_condition(keys, "t", "s")
        con.execute(
            f"INSERT INTO {undo} SELECT ?, t.* FROM {qi(table)} t "  # noqa: S608
            f"WHERE EXISTS (SELECT 1 FROM {source} s WHERE {cond})",
            [import_id],
        )
        con.execute(f"DELETE FROM {qi(table)} t USING {source} s WHERE {cond}")  # noqa: S608
    # An undo table exists only while it holds rows (the schema stays as it was).
    if not _count(con, f"SELECT count(*) FROM {undo}"):  # noqa: S608
        con.execute(f"DROP TABLE {undo}")
    con.execute(
        f"INSERT INTO {qi(table)} BY NAME SELECT *, ?::VARCHAR AS import_id "  # noqa: S608
        f"FROM {source}",
        [import_id],
    )


def _file_record(f: FileReport) -> dict:
    return {
        "name": f.name,
        "size": f.size,
        "sha256": f.sha256,
        "format": f.format,
        "encoding": f.encoding,
        "separator": f.separator,
        "container": f.container,
        "compression": f.compression,
    }


def _record(
    con: duckdb.DuckDBPyConnection,
    report: ImportReport,
    import_id: str,
    created_by: str,
    tables: list[str],
) -> None:
    """The import's row in ``imports`` (its report, and the tables undo will have to visit)."""
    con.execute(
        "INSERT INTO imports (import_id, kind, status, created_at, created_by, files, "
        "rows_read, rows_loaded, rows_set_aside, report, tables) "
        "VALUES (?, ?, 'committed', ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            import_id,
            report.kind,
            dt.datetime.now(),
            created_by,
            json.dumps([_file_record(f) for f in report.files], ensure_ascii=False),
            report.rows_read,
            report.rows_loaded,
            report.rows_set_aside,
            report.to_json(),
            json.dumps(tables),
        ],
    )


# --------------------------------------------------------------------------- history, undo


def list_imports(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Import history, most recent first (one row per import)."""
    return con.execute(
        "SELECT import_id, kind, status, created_at, created_by, files, rows_read, rows_loaded, "
        "rows_set_aside, undone_at FROM imports ORDER BY created_at DESC, import_id DESC"
    ).df()


def undo_import(
    con: duckdb.DuckDBPyConnection,
    import_id: str,
    *,
    progress: Callable[[float, str], None] | None = None,
) -> dict:
    """Undo a committed import: its rows removed, the rows it replaced put back.

    Raises :class:`UndoError` (French message, reason code) when the import is unknown,
    already undone, or when a later committed import touched the same tables (undo that one
    first). ``progress`` is accepted for symmetry with :func:`~.run.run_import` (unused).
    """
    with exclusive(con, UndoError):
        return _undo(con, import_id)


def _undo(con: duckdb.DuckDBPyConnection, import_id: str) -> dict:
    tables = _undoable_tables(con, import_id)
    restored: dict[str, int] = {}
    removed: dict[str, int] = {}
    with store.transaction(con):
        for table in tables:
            removed[table], restored_rows = _undo_table_rows(con, table, import_id)
            if restored_rows is not None:
                restored[table] = restored_rows
        con.execute(
            "UPDATE imports SET status = 'undone', undone_at = ? WHERE import_id = ?",
            [dt.datetime.now(), import_id],
        )
        store.bump_data_version(con)
        derived.refresh(con)  # stamped with the new data version
    return {"import_id": import_id, "removed": removed, "restored": restored}


def _undoable_tables(con: duckdb.DuckDBPyConnection, import_id: str) -> list[str]:
    """The tables a committed import wrote; :class:`UndoError` when it cannot be undone."""
    rows = con.execute(
        "SELECT status, created_at, tables FROM imports WHERE import_id = ?", [import_id]
    ).fetchall()
    if not rows:
        raise UndoError(
            f"Aucun import « {import_id} » dans l'historique.", code=Reason.UNKNOWN_IMPORT
        )
    status, created_at, tables_json = rows[0]
    if status != "committed":
        raise UndoError(f"L'import « {import_id} » a déjà été annulé.", code=Reason.ALREADY_UNDONE)
    tables = json.loads(tables_json or "[]")
    later = con.execute(
        "SELECT import_id, tables FROM imports WHERE status = 'committed' AND import_id <> ? "
        "AND (created_at > ? OR (created_at = ? AND import_id > ?)) ORDER BY created_at",
        [import_id, created_at, created_at, import_id],
    ).fetchall()
    blocking = [i for i, t in later if set(json.loads(t or "[]")) & set(tables)]
    if blocking:
        raise UndoError(
            f"L'import « {import_id} » ne peut pas être annulé avant "
            + ("l'import plus récent " if len(blocking) == 1 else "les imports plus récents ")
            + ", ".join(f"« {b} »" for b in blocking)
            + ", qui modifie les mêmes données : annulez d'abord "
            + ("celui-ci." if len(blocking) == 1 else "ceux-ci."),
            code=Reason.LATER_IMPORT,
        )
    return tables


def _undo_table_rows(
    con: duckdb.DuckDBPyConnection, table: str, import_id: str
) -> tuple[int, int | None]:
    """Remove the import's rows of ``table`` and put back those it replaced: (removed,
    restored — None when the import replaced nothing there)."""
    qi = store.quote_identifier
    undo = _undo_table(table)
    removed = _count(
        con,
        f"SELECT count(*) FROM {qi(table)} WHERE import_id = ?",  # noqa: S608
        [import_id],
    )
    con.execute(f"DELETE FROM {qi(table)} WHERE import_id = ?", [import_id])  # noqa: S608
    if not store.table_exists(con, undo):
        return removed, None
    restored = _count(
        con,
        f"SELECT count(*) FROM {qi(undo)} WHERE undo_import_id = ?",  # noqa: S608
        [import_id],
    )
    con.execute(
        f"INSERT INTO {qi(table)} BY NAME SELECT * EXCLUDE (undo_import_id) "  # noqa: S608
        f"FROM {qi(undo)} WHERE undo_import_id = ?",
        [import_id],
    )
    con.execute(f"DELETE FROM {qi(undo)} WHERE undo_import_id = ?", [import_id])  # noqa: S608
    if _count(con, f"SELECT count(*) FROM {qi(undo)}") == 0:  # noqa: S608
        con.execute(f"DROP TABLE {qi(undo)}")
    return removed, restored
