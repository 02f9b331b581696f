"""The import run: inspect → stage → prepare → apply, in one transaction, never half-done.

How an import runs (:func:`run_import`):

1. **inspect** each file (:func:`~.inspection.inspect_file`): size checked against
   ``config.max_import_bytes()`` *before* reading; container, encoding, separator and decimal
   comma sniffed (:mod:`.sniff`); the format recognised from the header (:mod:`.registry`),
   or from a column mapping the user gave or that is remembered for these headers
   (:mod:`.mapping`).
2. **stage** each file into a TEMP table with DuckDB's own reader (:mod:`.staging`); lines
   the CSV parser rejects are kept aside and reported, not fatal.
3. **prepare**: the handler of each format group (e.g. ``sirene``) classifies, validates and
   places the staged rows with SQL joins against the ``ref_*`` tables and
   ``commune_aliases`` (:class:`~.context.ImportContext`), records rows set aside and declares
   the rows to write.
4. **apply**, in one transaction (:func:`~.history.apply`): rows replaced by key (copies kept
   for undo), the import recorded, derived tables refreshed, ``data_version`` bumped.

A refused import (bad file, bad value, database error) has ``status='rejected'``, its
``errors`` and ``error_codes``, and leaves the database exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import tempfile
import threading
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb

from .. import nomenclatures, store
from . import macros, mapping
from .context import ImportContext
from .errors import FileRejected, IngestError, Reason
from .history import apply, drop_temp_refs, warn_if_imported_before
from .inspection import inspect_file
from .limits import UploadLimits, check_expansion, too_many_rows
from .lock import exclusive
from .registry import formats, group_handler
from .report import FileReport, ImportReport
from .sniff import container_of, file_sha256
from .staging import Staged, stage

__all__ = ["Progress", "run_import"]

#: ``progress(fraction between 0 and 1, French message)``.
Progress = Callable[[float, str], None]

#: ``{file name: (kind, {canonical column: header})}``: the user's choice of columns.
ColumnMaps = dict[str, tuple[str, dict[str, str]]]


def run_import(
    con: duckdb.DuckDBPyConnection,
    paths: Sequence[str | os.PathLike],
    *,
    kind: str | None = None,
    dry_run: bool = False,
    created_by: str | None = None,
    names: Sequence[str] | None = None,
    progress: Progress | None = None,
    column_maps: ColumnMaps | None = None,
    limits: UploadLimits | None = None,
    limited: Sequence[str] | None = None,
) -> ImportReport:
    """Import files in one transaction and return the validation report.

    ``names`` gives the file names to show (uploads are saved under temporary names).
    ``column_maps``: ``{file name: (kind, {canonical: header})}``, the user's choice of
    columns for files whose headers a format does not recognise; without one, a choice
    remembered for the same headers (table ``column_mappings``, :mod:`.mapping`) is applied.
    Never raises for bad input: a rejected import has ``status='rejected'`` and ``errors``,
    and leaves the database exactly as it was. ``limits``: what files sent through the browser
    may expand to (:mod:`.limits`), for the files named in ``limited`` (all when None). One
    import or undo runs at a time per database; another one is refused at once
    (``Reason.BUSY``).
    """
    report = ImportReport()
    try:
        with exclusive(con):
            shown = list(names) if names else [Path(p).name for p in paths]
            per_file = [limits if limited is None or n in limited else None for n in shown]
            return _run(
                con,
                paths,
                report,
                kind,
                dry_run,
                created_by,
                shown,
                progress,
                column_maps,
                per_file,
            )
    except IngestError as exc:  # busy: nothing was read or written
        report.refuse_error(exc)
        report.status = "rejected"
        return report


def _run(
    con: duckdb.DuckDBPyConnection,
    paths: Sequence[str | os.PathLike],
    report: ImportReport,
    kind: str | None,
    dry_run: bool,
    created_by: str | None,
    names: list[str],
    progress: Progress | None,
    column_maps: ColumnMaps | None,
    limits: list[UploadLimits | None],
) -> ImportReport:
    say = progress or (lambda _f, _m: None)
    if not paths:
        report.refuse("Aucun fichier à importer.", Reason.NO_FILE)
        return report
    say(0.02, "Analyse des fichiers…")
    report.files = _inspect_all(con, paths, names, kind, column_maps, report, limits)
    if report.errors:
        return report
    files = sorted(report.files, key=lambda f: formats()[f.known_format].order)
    report.files = files
    groups = sorted({formats()[f.known_format].group for f in files})
    report.kind = "+".join(groups)
    hashes = _Hashes(files)
    staged: list[Staged] = []
    ctx = ImportContext(con, _new_import_id(), report, staged)
    try:
        _stage_all(ctx, files, staged, say, dict(zip(names, limits, strict=True)))
        hashes.finish()
        if not _count_rows(report):
            return report
        warn_if_imported_before(con, report)
        say(0.5, "Contrôle et classement des lignes…")
        _prepare(ctx, groups)
        if report.errors:
            report.status = "rejected"
            return report
        report.rows_set_aside = sum(s.count for s in report.set_aside)
        report.rows_loaded = report.rows_read - report.rows_set_aside
        if dry_run:
            _count_targets(ctx)
            report.status = "dry-run"
            return report
        say(0.75, "Écriture dans la base…")
        apply(ctx, created_by or _user())
        say(1.0, "Import terminé.")
        return report
    except IngestError as exc:
        report.refuse_error(exc)
        report.status = "rejected"
        return report
    except duckdb.Error as exc:  # rolled back by store.transaction: the database is unchanged
        report.refuse(
            "L'import a échoué et n'a rien modifié : "
            + (str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__),
            Reason.DATABASE,
        )
        report.status = "rejected"
        report.import_id = None
        return report
    finally:
        con.execute("RESET preserve_insertion_order")
        hashes.finish()
        ctx.cleanup()
        drop_temp_refs(con)
        for s in staged:
            con.execute(f"DROP TABLE IF EXISTS {store.quote_identifier(s.table)}")


def _new_import_id() -> str:
    now = dt.datetime.now()
    return f"imp-{now:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "inconnu"


class _Hashes:
    """The files' sha256, computed in threads while they are staged."""

    def __init__(self, files: list[FileReport]):
        self._files = files
        self._out: list[dict] = [{} for _ in files]
        self._threads = [
            threading.Thread(target=file_sha256, args=(Path(f.path), out), daemon=True)
            for f, out in zip(files, self._out, strict=True)
        ]
        for t in self._threads:
            t.start()

    def finish(self) -> None:
        """Wait for the threads and write each file's ``sha256`` (idempotent)."""
        for t in self._threads:
            t.join()
        for f, out in zip(self._files, self._out, strict=True):
            f.sha256 = out.get("sha256")


# --------------------------------------------------------------------------- the steps


def _inspect_all(
    con: duckdb.DuckDBPyConnection,
    paths: Sequence[str | os.PathLike],
    names: list[str],
    kind: str | None,
    column_maps: ColumnMaps | None,
    report: ImportReport,
    limits: list[UploadLimits | None],
) -> list[FileReport]:
    """Inspect every file; each refusal goes to the report (all files are looked at)."""
    files: list[FileReport] = []
    for path, name, limit in zip(paths, names, limits, strict=True):
        try:
            if limit is not None:
                check_expansion(Path(path), name, container_of(Path(path)), limit)
            files.append(_inspect_mapped(con, path, name, kind, column_maps, report))
        except FileRejected as exc:
            report.refuse_error(exc)
    return files


def _inspect_mapped(
    con: duckdb.DuckDBPyConnection,
    path: str | os.PathLike,
    name: str,
    kind: str | None,
    column_maps: ColumnMaps | None,
    report: ImportReport,
) -> FileReport:
    """:func:`inspect_file` with the user's column choice, given or remembered."""
    given = (column_maps or {}).get(name)
    if given:
        return inspect_file(path, name=name, kind=given[0], column_map=given[1])
    try:
        return inspect_file(path, name=name, kind=kind)
    except FileRejected as exc:
        # Only a file whose columns were not recognised may have a remembered mapping.
        if not exc.code.columns or not store.table_exists(con, "column_mappings"):
            raise
        try:
            remembered = mapping.recall(con, mapping.read_headers(path, name))
        except (FileRejected, OSError):
            remembered = None
        if remembered is None or (kind and remembered[0] != kind):
            raise
        result = inspect_file(path, name=name, kind=remembered[0], column_map=remembered[1])
        report.warnings.append(
            f"« {name} » : correspondance de colonnes mémorisée appliquée (format "
            f"« {result.format_label} »)."
        )
        return result


def _stage_all(
    ctx: ImportContext,
    files: list[FileReport],
    staged: list[Staged],
    say: Progress,
    limits: dict[str, UploadLimits | None],
) -> None:
    """Stage every file (a TEMP table each); lines the CSV parser rejected are set aside.
    A file with limits is read up to ``max_rows + 1`` rows: more is a refusal."""
    with tempfile.TemporaryDirectory(prefix="essdiag-import-") as tmp:
        for i, f in enumerate(files):
            say(0.05 + 0.4 * i / len(files), f"Lecture de {f.name}…")
            limit = limits.get(f.name)
            cap = limit.max_rows + 1 if limit is not None else None
            table = ctx.temp_name(f"stage_{i}")
            staged.append(stage(ctx.con, f, table, Path(tmp), index=i, limit=cap))
            f.rows_read = int(ctx.scalar(f"SELECT count(*) FROM {staged[-1].table}"))  # noqa: S608
            if limit is not None and f.rows_read > limit.max_rows:
                raise too_many_rows(f.name, limit)
            ctx.report.set_aside.extend(staged[-1].rejects)


def _count_rows(report: ImportReport) -> int:
    """Lines read (staged + rejected by the parser); a refusal when there are none."""
    rejected_lines = sum(s.count for s in report.set_aside)
    report.rows_read = sum(f.rows_read for f in report.files) + rejected_lines
    if report.rows_read == 0:
        report.refuse(
            "Aucune ligne de données dans "
            + ", ".join(f"« {f.name} »" for f in report.files)
            + " (seulement l'en-tête).",
            Reason.NO_DATA,
        )
    return report.rows_read


def _prepare(ctx: ImportContext, groups: list[str]) -> None:
    """Run the handler of each format group, with the nomenclatures and macros at hand."""
    nomenclatures.register(ctx.con, temporary=True)
    macros.install(ctx.con)
    # From here on row order does not matter (line numbers are in _row): letting DuckDB
    # write in any order makes the large CREATE/INSERT steps markedly faster.
    ctx.con.execute("SET preserve_insertion_order = false")
    for group in groups:
        group_handler(group)(ctx)


def _count_targets(ctx: ImportContext) -> None:
    """Dry run: the rows each table would receive."""
    for table, source, _keys in ctx.targets:
        n = int(ctx.scalar(f"SELECT count(*) FROM {source}"))  # noqa: S608
        ctx.report.tables[table] = ctx.report.tables.get(table, 0) + n
