"""Staging: one file read into a TEMP table with DuckDB's own readers.

A staged table has one text column per canonical column of the file's format (NULL when the
file lacks it) and, for xlsx, ``_row`` (the Excel row). CSV lines DuckDB's parser rejects are
kept aside and reported (:attr:`Staged.rejects`), not fatal. TEMP tables never touch the
database file.

A zip archive's member is first decompressed, streamed chunk by chunk, into the import's
temporary folder (DuckDB cannot read a zip), bounded for browser uploads, and deleted once
staged. A ``where`` condition (the streamed SIRENE import, :mod:`.sirene`) keeps only the rows
it accepts: the file is read once, in parallel, and only those rows are staged; their line
numbers are then unknown (:attr:`Staged.filtered`).
"""

from __future__ import annotations

import bisect
import gzip
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from .. import store
from .errors import FileRejected, Reason
from .registry import FormatSpec, formats
from .report import MAX_ROWS_LISTED, FileReport, SetAside
from .sniff import extract_member, read_xlsx

__all__ = ["Staged", "stage"]

#: DuckDB's CSV error types → the reason shown for the lines set aside.
_REJECT_REASONS = {
    "TOO MANY COLUMNS": "Ligne mal formée : trop de champs",
    "MISSING COLUMNS": "Ligne mal formée : champs manquants",
    "UNQUOTED VALUE": "Ligne mal formée : guillemets incorrects",
    "UNTERMINATED QUOTE": "Ligne mal formée : guillemet non fermé",
    "INVALID ENCODING": "Ligne mal formée : caractères illisibles (encodage)",
    "INVALID UNICODE": "Ligne mal formée : caractères illisibles (encodage)",
    "LINE SIZE OVER MAXIMUM": "Ligne mal formée : ligne trop longue",
    "CAST": "Ligne mal formée",
}


@dataclass
class Staged:
    """One staged file: its report, its TEMP table, its position in the import."""

    report: FileReport
    table: str
    index: int
    rejects: list[SetAside] = field(default_factory=list)
    reject_lines: list[int] = field(default_factory=list)
    #: Only the rows a ``where`` condition accepted were staged: ``_row`` orders them as in
    #: the file but is not their line number.
    filtered: bool = False
    #: Lines of the file (data and header) when counted while it was decompressed.
    lines: int | None = None

    def row_sql(self) -> str:
        """SQL expression of the file line number of a staged row (header = line 1 in CSV,
        Excel row numbers in xlsx, row index from 1 in Parquet)."""
        if self.report.container == "xlsx":
            return "_row"
        return f"(rowid + {1 if self.report.container == 'parquet' else 2})"

    def line_of(self, row: int) -> int:
        """CSV: the staged row number corrected for the lines the parser set aside before it."""
        if not self.reject_lines:
            return row
        data_row = row - 1
        offsets = [line - i for i, line in enumerate(self.reject_lines, 1)]
        return data_row + 1 + bisect.bisect_right(offsets, data_row)


#: Up to this many rows, a staging is a preview (xlsx: streamed first rows only).
PREVIEW_ROWS_MAX = 1000


def stage(
    con: duckdb.DuckDBPyConnection,
    report: FileReport,
    table: str,
    workdir: Path,
    *,
    index: int = 0,
    limit: int | None = None,
    where: str | None = None,
    max_bytes: int | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> Staged:
    """Read one file into TEMP table ``table`` (canonical text columns).

    ``where``: a SQL condition on the canonical columns; only the rows it accepts are staged.
    ``max_bytes``: what a zip member may decompress to (browser uploads). ``on_bytes(n)``:
    progress of a zip member's decompression."""
    spec = formats()[report.known_format]
    staged = Staged(report, table, index, filtered=where is not None)
    source = Path(report.path)
    extracted: Path | None = None
    if report.archive == "zip" and report.member is not None:
        suffix = {"xlsx": ".xlsx", "parquet": ".parquet"}.get(report.container, ".csv")
        extracted = workdir / f"member_{index}{suffix}"
        preview = bool(
            limit
            and limit <= PREVIEW_ROWS_MAX
            and report.container == "csv"
            and not report.compression
        )
        _written, lines = extract_member(
            source,
            report.member,
            extracted,
            name=report.name,
            max_bytes=max_bytes,
            on_bytes=on_bytes,
            head_bytes=(1 << 22) if preview else None,
        )
        staged.lines = None if preview else lines
        source = extracted
    try:
        if spec.stage is not None and report.container == "csv":
            spec.stage(con, staged, workdir, limit, source)
        elif report.container == "xlsx":
            _stage_xlsx(con, report, spec, table, limit, source)
        elif report.container == "parquet":
            source_sql = f"read_parquet({_sql_str(str(source))})"
            _create_from(con, table, _select_list(report, spec), source_sql, limit, where)
            if where is not None:  # the rows read, from the file's metadata
                staged.lines = int(
                    con.execute(
                        "SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata(?)",
                        [str(source)],
                    ).fetchall()[0][0]
                )
        else:
            _stage_csv(con, staged, spec, workdir, limit, source, where)
    finally:
        if extracted is not None:
            extracted.unlink(missing_ok=True)
    return staged


def _sql_str(value: str) -> str:
    """A SQL string literal (only for reader options DuckDB does not accept as parameters)."""
    return "'" + str(value).replace("'", "''") + "'"


def _select_list(report: FileReport, spec: FormatSpec) -> str:
    """``"Header"::VARCHAR AS canonical, …`` (NULL for the columns the file lacks)."""
    qi = store.quote_identifier
    return ", ".join(
        (f"{qi(report.mapping[c])}::VARCHAR" if c in report.mapping else "NULL::VARCHAR")
        + f" AS {qi(c)}"
        for c in spec.columns
    )


def _create_from(
    con: duckdb.DuckDBPyConnection,
    table: str,
    select: str,
    source: str,
    limit: int | None,
    where: str | None = None,
) -> None:
    limit_sql = f" LIMIT {int(limit)}" if limit else ""
    query = f"SELECT {select} FROM {source}"
    if where is not None:
        # Only the canonical columns the select names are read (projection pushdown); the
        # condition runs in the same parallel scan.
        query = f"SELECT * FROM ({query}) WHERE {where}"  # noqa: S608
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {store.quote_identifier(table)} AS "  # noqa: S608
        f"{query}{limit_sql}"
    )


def _stage_xlsx(
    con: duckdb.DuckDBPyConnection,
    report: FileReport,
    spec: FormatSpec,
    table: str,
    limit: int | None,
    source: Path,
) -> None:
    """The rows under the header row, canonical columns, ``_row`` = Excel row number; rows
    with no cell at all are skipped."""
    # A preview reads only the rows it shows (plus blank ones it may skip); an import reads the
    # whole sheet with calamine (dates, booleans as the spreadsheet has them), even when capped.
    nrows = report.header_row + 2 * limit + 20 if limit and limit <= PREVIEW_ROWS_MAX else None
    frame = read_xlsx(source, report.name, nrows=nrows)
    body = frame.iloc[report.header_row :].reset_index(drop=True)
    body.columns = [f"c{i}" for i in range(body.shape[1])]
    body = body.dropna(how="all")
    lines = (body.index.to_numpy() + report.header_row + 1).astype("int64")
    cols = {}
    for canonical in spec.columns:
        header = report.mapping.get(canonical)
        if header is None:
            cols[canonical] = pd.Series([None] * len(body), dtype=object)
        else:
            values = body[f"c{report.columns.index(header)}"].astype(object)
            cols[canonical] = values.where(values.notna(), None).reset_index(drop=True)
    data = pd.DataFrame(cols)
    data.insert(0, "_row", lines)
    if limit:
        data = data.head(limit)
    con.register("_xlsx_frame", data)
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {store.quote_identifier(table)} AS "  # noqa: S608
            "SELECT * FROM _xlsx_frame"
        )
    finally:
        con.unregister("_xlsx_frame")


def _transcode_to_utf8(report: FileReport, workdir: Path, source: Path) -> Path:
    """Windows-1252 files are rewritten as UTF-8 (DuckDB reads UTF-8 and Latin-1 only, and
    Latin-1 would turn œ, ’, € into control characters)."""
    target = workdir / (Path(report.name).stem + ".utf8.csv")
    opener = gzip.open if report.compression else open
    with opener(source, "rb") as src, open(target, "wb") as dst:
        while chunk := src.read(1 << 22):
            dst.write(chunk.decode("cp1252", errors="replace").encode("utf-8"))
    return target


def _gzip_is_damaged(path: str) -> bool:
    """Decompress the whole file: True when the stream is truncated or corrupt."""
    try:
        with gzip.open(path, "rb") as g:
            while g.read(1 << 22):
                pass
    except (EOFError, OSError, zlib.error):
        return True
    return False


def _stage_csv(
    con: duckdb.DuckDBPyConnection,
    staged: Staged,
    spec: FormatSpec,
    workdir: Path,
    limit: int | None,
    source: Path,
    where: str | None,
) -> None:
    report, index = staged.report, staged.index
    path = str(source)
    compression = "gzip" if report.compression else "none"
    if report.encoding == "cp1252":
        path = str(_transcode_to_utf8(report, workdir, source))
        compression = "none"
    rejects, scans = f"_rej_{index}", f"_rejscan_{index}"
    options = (
        f"delim={_sql_str(report.separator or ',')}, header=true, all_varchar=true, "
        f"quote='\"', escape='\"', compression={_sql_str(compression)}, "
        "encoding='utf-8', max_line_size=10000000, "
        f"store_rejects=true, rejects_table={_sql_str(rejects)}, rejects_scan={_sql_str(scans)}"
    )
    try:
        source_sql = f"read_csv({_sql_str(path)}, {options})"
        _create_from(con, staged.table, _select_list(report, spec), source_sql, limit, where)
    except duckdb.Error as exc:
        if report.compression and _gzip_is_damaged(path):
            raise FileRejected(
                f"Le fichier compressé « {report.name} » est tronqué ou endommagé : "
                "téléchargez-le à nouveau.",
                code=Reason.DAMAGED,
                file=report.name,
            ) from None
        first_line = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise FileRejected(
            f"Le fichier « {report.name} » n'a pas pu être lu comme un CSV : {first_line}",
            code=Reason.DAMAGED,
            file=report.name,
        ) from None
    qi = store.quote_identifier
    rows = con.execute(
        f"SELECT line, error_type::VARCHAR, csv_line FROM {qi(rejects)} ORDER BY line"  # noqa: S608
    ).fetchall()
    con.execute(f"DROP TABLE IF EXISTS {qi(rejects)}")
    con.execute(f"DROP TABLE IF EXISTS {qi(scans)}")
    _set_aside_rejected_lines(staged, rows)


def _set_aside_rejected_lines(staged: Staged, rows: list[tuple]) -> None:
    """Group the lines DuckDB's parser rejected by reason (one line may carry several errors:
    counted once)."""
    seen: set[int] = set()
    grouped: dict[str, SetAside] = {}
    for line, error_type, csv_line in rows:
        line = int(line)
        if line in seen:
            continue
        seen.add(line)
        staged.reject_lines.append(line)
        error = str(error_type).upper().replace("_", " ")
        reason = _REJECT_REASONS.get(error, "Ligne mal formée")
        entry = grouped.get(reason)
        if entry is None:
            example = (csv_line or "")[:120]
            entry = SetAside(reason, 0, [], example, staged.report.name, None)
            grouped[reason] = entry
        entry.count += 1
        if len(entry.rows) < MAX_ROWS_LISTED:
            entry.rows.append(line)
    staged.rejects = list(grouped.values())
