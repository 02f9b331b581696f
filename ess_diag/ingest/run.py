"""The import run: inspect → stage → prepare → apply, in one transaction, never half-done.

How an import runs (:func:`run_import`):

1. **inspect** each file (:func:`~.inspection.inspect_file`): size checked against
   ``config.max_import_bytes()`` (no limit by default) *before* reading; container (zip
   archive, gzip, Parquet, xlsx — by content), encoding, separator and decimal comma sniffed
   (:mod:`.sniff`); the format recognised from the header (:mod:`.registry`), or from a
   column mapping the user gave or that is remembered for these headers (:mod:`.mapping`).
2. **stage** each file into a TEMP table with DuckDB's own reader (:mod:`.staging`); lines
   the CSV parser rejects are kept aside and reported, not fatal. A format with a stream
   filter (the national SIRENE files, :mod:`.sirene`) stages only the rows it keeps, read in
   one parallel pass. DuckDB runs under ``config.import_memory_limit()`` and spills to the
   import's temporary folder beyond it: memory is bounded by that, not by the file size.
3. **prepare**: the handler of each format group (e.g. ``sirene``) classifies, validates and
   places the staged rows with SQL joins against the ``ref_*`` tables and
   ``commune_aliases`` (:class:`~.context.ImportContext`), records rows set aside and declares
   the rows to write.
4. **apply**, in one transaction (:func:`~.history.apply`): rows replaced by key (copies kept
   for undo), the import recorded, derived tables refreshed, ``data_version`` bumped.

A refused import (bad file, bad value, database error, or rows read and none loadable) has
``status='rejected'``, its ``errors`` and ``error_codes``, and leaves the database exactly as
it was.

Progress: ``progress(fraction, message)`` is called between steps and, during a long step,
every half second from a thread polling DuckDB's ``query_progress()`` (rows read, rate,
time left); a zip member's decompression reports its bytes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import os
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import duckdb

from .. import config, nomenclatures, store
from ..formatting import fmt_int
from . import macros, mapping
from .context import ImportContext
from .errors import FileRejected, IngestError, Reason
from .history import apply, drop_temp_refs, warn_if_imported_before
from .inspection import inspect_file
from .limits import UploadLimits, check_expansion, too_many_rows
from .lock import exclusive
from .registry import formats, group_handler, stream_filter
from .report import FileReport, ImportReport, fmt_size
from .sniff import SAMPLE_BYTES, container_of, count_lines, file_sha256, open_member
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
    tmp = tempfile.TemporaryDirectory(prefix="essdiag-import-", dir=config.import_temp_dir())
    ticker = _Ticker(con, say)
    try:
        with _import_settings(con, Path(tmp.name)), ticker:
            return _staged_run(
                ctx,
                files,
                staged,
                say,
                dict(zip(names, limits, strict=True)),
                hashes,
                groups,
                dry_run,
                created_by,
                Path(tmp.name),
                ticker,
            )
    finally:
        tmp.cleanup()


def _staged_run(
    ctx: ImportContext,
    files: list[FileReport],
    staged: list[Staged],
    say: Progress,
    limits: dict[str, UploadLimits | None],
    hashes: _Hashes,
    groups: list[str],
    dry_run: bool,
    created_by: str | None,
    workdir: Path,
    ticker: _Ticker,
) -> ImportReport:
    con, report = ctx.con, ctx.report
    try:
        _install_sql(con)
        _stage_all(ctx, files, staged, say, limits, workdir, ticker)
        hashes.finish()
        _count_streamed(staged, hashes)
        if not _count_rows(report):
            return report
        warn_if_imported_before(con, report)
        say(0.6, "Contrôle et classement des lignes…")
        ticker.phase(0.6, 0.75, "Contrôle et classement des lignes")
        _prepare(ctx, groups)
        if report.errors:
            report.status = "rejected"
            return report
        report.rows_set_aside = sum(s.count for s in report.set_aside)
        report.rows_skipped = sum(f.rows_skipped for f in report.files)
        report.rows_loaded = report.rows_read - report.rows_set_aside - report.rows_skipped
        if report.rows_loaded <= 0:
            _refuse_nothing_loaded(report)
            return report
        if dry_run:
            _count_targets(ctx)
            report.status = "dry-run"
            return report
        say(0.75, "Écriture dans la base…")
        ticker.phase(0.75, 0.99, "Écriture dans la base")
        apply(ctx, created_by or _user())
        ticker.phase(None)
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
        ticker.phase(None)
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
            threading.Thread(target=_hash_and_count, args=(f, out), daemon=True)
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

    def lines(self, f: FileReport) -> int | None:
        """The lines of a CSV file (counted with its hash), None when not counted."""
        return self._out[self._files.index(f)].get("lines")


def _hash_and_count(f: FileReport, out: dict) -> None:
    """The file's sha256; for a CSV whose format streams (:func:`stream_filter`) its lines
    too, in the same pass (plain) or a decompressing one (gzip): the rows a streamed import
    read, since it stages only those it keeps."""
    streams = (
        f.container == "csv" and f.archive is None and stream_filter(f.known_format) is not None
    )
    file_sha256(Path(f.path), out, count_lines=streams and not f.compression)
    if streams and f.compression:
        try:
            out["lines"] = count_lines(Path(f.path), compressed=True)
        except (OSError, EOFError, ValueError):
            pass  # a damaged gzip is refused by the staging


@contextlib.contextmanager
def _import_settings(con: duckdb.DuckDBPyConnection, workdir: Path) -> Iterator[None]:
    """DuckDB's memory bounded for the import (``config.import_memory_limit()``), spilling to
    the import's temporary folder, with its progress measured; the previous settings are put
    back afterwards (the app's connection is shared)."""
    names = ("memory_limit", "temp_directory", "enable_progress_bar", "enable_progress_bar_print")
    previous = {}
    for name in names:
        with contextlib.suppress(duckdb.Error):
            previous[name] = con.execute("SELECT current_setting(?)", [name]).fetchall()[0][0]
    wanted = {
        "memory_limit": config.import_memory_limit(),
        "temp_directory": str(workdir / "duckdb"),
        "enable_progress_bar": True,
        "enable_progress_bar_print": False,
    }
    for name, value in wanted.items():
        # temp_directory cannot change once DuckDB has spilled on this connection: then the
        # existing one (next to the database) is kept.
        with contextlib.suppress(duckdb.Error):
            con.execute(f"SET {name} = ?", [value])
    try:
        yield
    finally:
        for name, value in previous.items():
            with contextlib.suppress(duckdb.Error):
                con.execute(f"SET {name} = ?", [value])


class _Ticker:
    """Reports the progress of the running DuckDB statement every half second (a thread
    polling ``con.query_progress()``): the fraction within the current phase, the rows read
    (estimated from the bytes and the file's line length), the rate and the time left."""

    def __init__(self, con: duckdb.DuckDBPyConnection, say: Progress, every: float = 0.5):
        self._con, self._say, self._every = con, say, every
        self._phase: tuple[float, float, str, int | None, float] | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._shown = 0.0

    def __enter__(self) -> _Ticker:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def phase(
        self,
        start: float | None,
        end: float = 1.0,
        label: str = "",
        rows: int | None = None,
    ) -> None:
        """From now on, report the statements' progress between ``start`` and ``end`` under
        ``label`` (``rows``: the rows the step reads, when known); ``None`` stops."""
        with self._lock:
            self._phase = None if start is None else (start, end, label, rows, time.perf_counter())

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            with self._lock:
                phase = self._phase
            if phase is None:
                continue
            try:
                pct = float(self._con.query_progress())
            except (duckdb.Error, RuntimeError):
                continue
            if pct <= 0:
                continue
            start, end, label, rows, started = phase
            # Each statement of a step restarts at 0 %: the bar never goes back.
            fraction = start + (end - start) * min(pct, 100.0) / 100.0
            if fraction < self._shown:
                continue
            self._shown = fraction
            self._say(
                start + (end - start) * min(pct, 100.0) / 100.0,
                _rate_message(label, pct, rows, time.perf_counter() - started),
            )


def _rate_message(label: str, pct: float, rows: int | None, elapsed: float) -> str:
    """« Lecture de x.csv : 42 % — ≈ 1 234 567 lignes lues, 45 678 lignes/s, reste ≈ 2 min »."""
    parts = [f"{label} : {pct:.0f} %"]
    if rows:
        done = int(rows * pct / 100)
        parts.append(f"≈ {fmt_int(done)} lignes lues")
        if elapsed > 0:
            parts.append(f"{fmt_int(round(done / elapsed))} lignes/s")
    if 1 < pct < 100 and elapsed > 1:
        left = elapsed * (100 - pct) / pct
        parts.append(f"reste ≈ {_fmt_duration(left)}")
    return parts[0] + (" — " + ", ".join(parts[1:]) if len(parts) > 1 else "")


def _fmt_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    minutes, sec = divmod(round(seconds), 60)
    return f"{minutes} min {sec:02d} s" if minutes < 10 else f"{minutes} min"


def _estimated_rows(f: FileReport) -> int | None:
    """The rows of a CSV estimated from its (decompressed) size and the length of its first
    lines; None for a gzip file (its decompressed size is unknown) and other containers."""
    if f.container != "csv" or f.compression:
        return None
    try:
        if f.archive == "zip" and f.member:
            with zipfile.ZipFile(f.path) as archive:
                size = archive.getinfo(f.member).file_size
            with open_member(Path(f.path), f.member) as stream:
                sample = stream.read(SAMPLE_BYTES)
        else:
            size = f.size
            with open(f.path, "rb") as fh:
                sample = fh.read(SAMPLE_BYTES)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None
    lines = sample.count(b"\n")
    if not lines:
        return None
    return max(1, round(size / (len(sample) / lines)) - 1)


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


def _install_sql(con: duckdb.DuckDBPyConnection) -> None:
    """The nomenclatures (TEMP copies) and macros: readers and stream filters use them."""
    nomenclatures.register(con, temporary=True)
    macros.install(con)


def _stage_all(
    ctx: ImportContext,
    files: list[FileReport],
    staged: list[Staged],
    say: Progress,
    limits: dict[str, UploadLimits | None],
    workdir: Path,
    ticker: _Ticker,
) -> None:
    """Stage every file (a TEMP table each); lines the CSV parser rejected are set aside.
    A file with limits is read up to ``max_rows + 1`` rows: more is a refusal. A format with
    a stream filter stages only the rows it keeps (files staged in format order, so that the
    establishments' filter knows the units kept)."""
    sizes = [max(f.size, 1) for f in files]
    total, done = sum(sizes), 0
    order = sorted(range(len(files)), key=lambda k: formats()[files[k].known_format].staging_order)
    for i in order:
        f = files[i]
        start, end = 0.05 + 0.55 * done / total, 0.05 + 0.55 * (done + sizes[i]) / total
        done += sizes[i]
        say(start, f"Lecture de {f.name}…")
        limit = limits.get(f.name)
        cap = limit.max_rows + 1 if limit is not None else None
        condition = stream_filter(f.known_format)
        where = condition(ctx, f) if condition is not None and f.container != "xlsx" else None
        table = ctx.temp_name(f"stage_{i}")
        max_bytes = limit.bytes_allowed(f.size) if limit is not None else None
        unzip_end = start + (end - start) * 0.3

        def on_bytes(n: int, f=f, start=start, unzip_end=unzip_end) -> None:
            # The archive's compressed size is known; the member's only once read: the
            # fraction follows the bytes written, at an assumed ratio of 1 to 4.
            fraction = min(n / (4 * max(f.size, 1)), 1.0)
            say(
                start + (unzip_end - start) * fraction,
                f"Décompression de {f.name} : {fmt_size(n)} écrits…",
            )

        if f.archive == "zip":
            ticker.phase(unzip_end, end, f"Lecture de {f.name}", _estimated_rows(f))
        else:
            ticker.phase(start, end, f"Lecture de {f.name}", _estimated_rows(f))
        staged.append(
            stage(
                ctx.con,
                f,
                table,
                workdir,
                index=i,
                limit=cap,
                where=where,
                max_bytes=max_bytes,
                on_bytes=on_bytes,
            )
        )
        ticker.phase(None)
        f.rows_read = int(ctx.scalar(f"SELECT count(*) FROM {staged[-1].table}"))  # noqa: S608
        if limit is not None and f.rows_read > limit.max_rows:
            raise too_many_rows(f.name, limit)
        ctx.report.set_aside.extend(staged[-1].rejects)
    staged.sort(key=lambda s: s.index)  # ``_file`` = position in ``files``


def _count_streamed(staged: list[Staged], hashes: _Hashes) -> None:
    """A streamed file staged only the rows it keeps: its rows read are its lines (counted
    while it was decompressed or hashed; Parquet: its metadata) and the rows it did not keep
    are ``rows_skipped``."""
    for s in staged:
        if not s.filtered:
            continue
        f = s.report
        kept = f.rows_read
        rejected = sum(r.count for r in s.rejects)
        if f.container == "parquet":
            data_rows = s.lines
        else:
            lines = s.lines if s.lines is not None else hashes.lines(f)
            data_rows = None if lines is None else max(lines - f.header_row, 0)
        if data_rows is None:
            continue  # not counted: the rows kept stand for the rows read
        f.rows_read = max(data_rows - rejected, kept)
        f.rows_skipped = f.rows_read - kept


def _refuse_nothing_loaded(report: ImportReport) -> None:
    """Rows were read and none can be loaded: a wrong file, not an empty one."""
    reasons = sorted(report.set_aside, key=lambda s: -s.count)[:3]
    why = " ; ".join(f"{s.reason} ({fmt_int(s.count)})" for s in reasons)
    if report.rows_skipped and not report.rows_set_aside:
        why = (
            f"aucune des {fmt_int(report.rows_read)} lignes n'est dans le périmètre de l'ESS "
            "(formes juridiques de l'ESS, mention ESS de l'INSEE ou liste ESS France)"
        )
    report.refuse(
        f"Aucune ligne n'a pu être chargée sur les {fmt_int(report.rows_read)} lues : "
        f"{why or 'aucune ligne exploitable'}. Vérifiez qu'il s'agit du bon fichier. "
        "Rien n'a été écrit dans la base.",
        Reason.NO_ROW_LOADED,
    )
    report.status = "rejected"
    report.import_id = None


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
    _install_sql(ctx.con)
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
