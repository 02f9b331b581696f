"""The import machinery shared by every reader: sniff → recognise → stage → prepare → apply.

How an import runs (:func:`run_import`):

1. **inspect** each file (:func:`inspect_file`): size checked against
   ``config.max_import_bytes()`` *before* reading; container recognised by its first bytes
   (gzip, Parquet, xlsx, old .xls, binary garbage); encoding (UTF-8, UTF-8 with BOM,
   Windows-1252), separator (``,`` ``;`` tab ``|``) and decimal comma sniffed on the first
   megabyte; the format recognised from the header against the registered :class:`FormatSpec`.
2. **stage** each file into a TEMP table (all text, canonical column names, ``_file`` and
   ``_row`` = line number in the file) with DuckDB's own reader; lines the CSV parser rejects
   are kept aside and reported, not fatal. TEMP tables never touch the database file.
3. **prepare**: the handler of each format group (e.g. ``sirene``) classifies, validates and
   places the staged rows with SQL joins against the ``ref_*`` tables and ``commune_aliases``,
   records rows set aside (:meth:`ImportContext.collect_set_aside`) and declares the rows to
   write (:meth:`ImportContext.add_target`: a temp table + the key columns of the target).
4. **apply**, in one transaction: for each target, the stored rows with the same keys are
   copied to ``undo_<table>`` (tagged with the import id) then deleted, the new rows are
   inserted with ``import_id``; the import is recorded in ``imports``; ``data_version`` bumped.
   Re-importing the same file replaces rows by key: nothing is duplicated.

:func:`undo_import` deletes the rows an import wrote and puts back the copies it replaced, so
the tables are exactly as before it; an import can be undone only when no later committed
import touched the same tables (undo the most recent first).

Readers register formats with :func:`register_format` and a group handler with
:func:`register_group`. See ``ingest/sirene.py`` for a complete example.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import getpass
import gzip
import hashlib
import io
import json
import os
import re
import tempfile
import threading
import unicodedata
import uuid
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from .. import config, nomenclatures, store
from ..formatting import fmt_int
from .errors import FileRejected, IngestError, UndoError

__all__ = [
    "FormatSpec",
    "FileReport",
    "SetAside",
    "ImportReport",
    "ImportContext",
    "Progress",
    "register_format",
    "register_group",
    "formats",
    "inspect_file",
    "preview",
    "run_import",
    "list_imports",
    "undo_import",
    "lambert93_to_wgs84",
    "normalize_header",
    "fmt_size",
    "SQL_MACROS",
]

#: ``progress(fraction between 0 and 1, French message)``.
Progress = Callable[[float, str], None]

SAMPLE_BYTES = 1 << 20
MAX_ROWS_LISTED = 20
_SEPARATORS = (";", ",", "\t", "|")
_SEPARATOR_NAMES = {
    ";": "point-virgule",
    ",": "virgule",
    "\t": "tabulation",
    "|": "barre verticale",
}


# --------------------------------------------------------------------------- formats


@dataclass(frozen=True)
class FormatSpec:
    """A file format recognised by its header.

    ``required``/``optional`` are canonical column names; headers are matched ignoring case,
    accents, spaces and punctuation (:func:`normalize_header`); ``aliases`` maps other header
    spellings to a canonical name. ``group`` names the handler that prepares the staged rows
    (several formats may share one, e.g. the three SIRENE files).
    """

    kind: str
    label: str
    group: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)
    #: Order in which formats of one import are staged and shown.
    order: int = 50

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional

    def match(self, header: Sequence[str]) -> tuple[dict[str, str], list[str]]:
        """Map canonical column → header column, and list the required columns missing."""
        wanted: dict[str, str] = {normalize_header(c): c for c in self.columns}
        for alias, canonical in self.aliases.items():
            wanted[normalize_header(alias)] = canonical
        found: dict[str, str] = {}
        for col in header:
            canonical = wanted.get(normalize_header(col))
            if canonical is not None and canonical not in found:
                found[canonical] = col
        missing = [c for c in self.required if c not in found]
        return found, missing


#: Prepare handler of a group: ``handler(ctx)``; staged tables via ``ctx.staged(kind)``.
GroupHandler = Callable[["ImportContext"], None]

_FORMATS: dict[str, FormatSpec] = {}
_GROUPS: dict[str, GroupHandler] = {}


def register_format(spec: FormatSpec) -> FormatSpec:
    """Make a format known to :func:`inspect_file` and :func:`run_import`."""
    _FORMATS[spec.kind] = spec
    return spec


def register_group(name: str, handler: GroupHandler) -> None:
    """Register the function that prepares the staged files of a format group."""
    _GROUPS[name] = handler


def formats() -> dict[str, FormatSpec]:
    """The registered formats, by kind."""
    return dict(_FORMATS)


def normalize_header(name: str) -> str:
    """``' Code Commune (INSEE) '`` → ``'codecommuneinsee'``: case, accents, spaces, punctuation
    and a UTF-8 BOM ignored."""
    text = unicodedata.normalize("NFKD", str(name).replace("\ufeff", ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]", "", text.lower())


def recognise(
    header: Sequence[str],
    kind: str | None = None,
    *,
    name: str = "le fichier",
    column_map: dict[str, str] | None = None,
) -> tuple[FormatSpec, dict[str, str]]:
    """The format a header belongs to (the one matching most columns), or :class:`FileRejected`
    naming the missing columns of the closest format.

    ``column_map`` (with ``kind``): the user's choice of columns, ``{canonical: header}``
    (see :mod:`.mapping`), completing what the format recognises by itself.
    """
    if kind and kind not in _FORMATS:
        known = ", ".join(sorted(_FORMATS))
        raise FileRejected(f"Format « {kind} » inconnu. Formats possibles : {known}.", file=name)
    candidates = [_FORMATS[kind]] if kind else list(_FORMATS.values())
    if column_map and kind:
        spec = _FORMATS[kind]
        found, _missing = spec.match(header)
        chosen = {c: h for c, h in column_map.items() if c in spec.columns and h in header}
        found = {c: h for c, h in found.items() if h not in chosen.values()}
        found.update(chosen)
        missing = [c for c in spec.required if c not in found]
        if not missing:
            return spec, found
    best: tuple[int, FormatSpec, dict[str, str]] | None = None
    closest: tuple[float, int, FormatSpec, list[str]] | None = None
    for spec in candidates:
        found, missing = spec.match(header)
        if not missing:
            if best is None or len(found) > best[0]:
                best = (len(found), spec, found)
        else:
            score = (len(spec.required) - len(missing)) / len(spec.required)
            key = (score, len(found), spec, missing)
            if closest is None or key[:2] > closest[:2]:
                closest = key
    if best is not None:
        return best[1], best[2]
    shown = ", ".join(str(h) for h in list(header)[:8]) + ("…" if len(header) > 8 else "")
    # A format none of whose required columns is there may still be the closest one when
    # its optional columns are (e.g. URSSAF year columns with unusual commune/APE headers).
    if closest is None or (closest[0] == 0 and closest[1] == 0):
        raise FileRejected(
            f"Le fichier « {name} » n'a pas les colonnes d'un format connu "
            f"(colonnes lues : {shown}).",
            file=name,
        )
    spec, missing = closest[2], closest[3]
    raise FileRejected(
        f"Le fichier « {name} » ressemble le plus au format « {spec.label} » mais il y manque "
        f"{'la colonne' if len(missing) == 1 else 'les colonnes'} {', '.join(missing)} "
        f"(colonnes lues : {shown}).",
        file=name,
        column=missing[0],
    )


# --------------------------------------------------------------------------- reports


@dataclass
class FileReport:
    """What was detected about one file."""

    name: str
    path: str
    size: int
    sha256: str | None = None
    format: str | None = None
    format_label: str | None = None
    container: str = "csv"  # csv | parquet | xlsx
    compression: str | None = None  # gzip | None
    encoding: str | None = None  # utf-8 | utf-8-sig | cp1252 (CSV only)
    separator: str | None = None
    decimal_comma: bool = False
    header_row: int = 1
    columns: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)  # canonical → header
    rows_read: int = 0

    def describe(self) -> str:
        """One French line: « ul.csv : SIRENE unités légales, CSV UTF-8, séparateur virgule »."""
        parts = [self.format_label or "format non reconnu"]
        if self.container == "csv":
            enc = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 avec BOM", "cp1252": "Windows-1252"}
            parts.append(
                ("CSV compressé (gzip)" if self.compression else "CSV")
                + f" {enc.get(self.encoding or '', self.encoding or '')}".rstrip()
            )
            if self.separator:
                parts.append(f"séparateur {_SEPARATOR_NAMES.get(self.separator, self.separator)}")
            if self.decimal_comma:
                parts.append("virgule décimale")
        elif self.container == "parquet":
            parts.append("Parquet")
        else:
            parts.append(f"classeur Excel (en-tête ligne {self.header_row})")
        return f"{self.name} : " + ", ".join(parts)


@dataclass
class SetAside:
    """Rows not loaded, grouped by reason: the first row numbers and one example."""

    reason: str
    count: int
    rows: list[int]
    example: str | None = None
    file: str | None = None
    column: str | None = None

    def describe(self) -> str:
        rows = ", ".join(str(r) for r in self.rows)
        more = "…" if self.count > len(self.rows) else ""
        where = f"{self.file}, " if self.file else ""
        col = f", colonne {self.column}" if self.column else ""
        example = f" — exemple : {self.example}" if self.example else ""
        label = "ligne" if self.count == 1 else "lignes"
        return f"{self.reason} : {fmt_int(self.count)} {label} ({where}{label} {rows}{more}{col}){example}"


@dataclass
class ImportReport:
    """The validation report (JSON contract in ARCHITECTURE.md)."""

    status: str = "rejected"  # committed | rejected | dry-run
    kind: str | None = None
    files: list[FileReport] = field(default_factory=list)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_set_aside: int = 0
    set_aside: list[SetAside] = field(default_factory=list)
    unresolved_communes: list[str] = field(default_factory=list)
    duplicates: int = 0
    import_id: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Detected figures (e.g. active/closed, coordinates by source, ESS by family).
    counts: dict[str, object] = field(default_factory=dict)
    #: Rows written per table.
    tables: dict[str, int] = field(default_factory=dict)
    previous_imports: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        data = asdict(self)
        for f in data["files"]:
            f.pop("path", None)
        return data

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, default=str, **kwargs)

    @property
    def ok(self) -> bool:
        return self.status in ("committed", "dry-run")

    def summary(self) -> list[str]:
        """The report as French sentences (CLI text output and the app)."""
        status = {
            "committed": "Import enregistré",
            "dry-run": "Vérification seule (rien n'a été écrit)",
            "rejected": "Import refusé : la base n'a pas été modifiée",
        }[self.status]
        lines = [status + (f" (import {self.import_id})" if self.import_id else "") + "."]
        lines += [f"Fichier {f.describe()}" for f in self.files]
        lines += [f"Erreur : {e}" for e in self.errors]
        if self.status != "rejected" or self.rows_read:
            lines.append(
                f"Lignes lues : {fmt_int(self.rows_read)} ; chargées : {fmt_int(self.rows_loaded)} ;"
                f" mises de côté : {fmt_int(self.rows_set_aside)}."
            )
        lines += [f"Mise de côté — {s.describe()}" for s in self.set_aside]
        if self.unresolved_communes:
            codes = ", ".join(self.unresolved_communes[:30])
            more = "…" if len(self.unresolved_communes) > 30 else ""
            lines.append(f"Codes commune non reconnus : {codes}{more}")
        lines += [f"Attention : {w}" for w in self.warnings]
        return lines


def fmt_size(size: int) -> str:
    """``2147483648`` → ``'2 048 Mo'`` (French, Mo = 1 048 576 octets)."""
    if size < 1024 * 1024:
        return f"{fmt_int(max(1, round(size / 1024)))} ko"
    return f"{fmt_int(round(size / (1024 * 1024)))} Mo"


# --------------------------------------------------------------------------- sniffing


def _decode_sample(raw: bytes, complete: bool) -> tuple[str, str]:
    """(encoding, text) of a byte sample: UTF-8 with BOM, UTF-8, else Windows-1252."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", raw[3:].decode("utf-8", errors="replace")
    try:
        return "utf-8", raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sample is not an encoding error.
        if not complete and exc.start >= len(raw) - 3:
            try:
                return "utf-8", raw[: exc.start].decode("utf-8")
            except UnicodeDecodeError:
                pass
    # cp1252 leaves five bytes undefined; latin-1 maps them (they are control characters).
    return "cp1252", raw.decode("cp1252", errors="replace")


def _looks_binary(text: str) -> bool:
    if "\x00" in text:
        return True
    sample = text[:65536]
    if not sample:
        return False
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    replacement = sample.count("\ufffd")
    return (controls + replacement) / len(sample) > 0.01


def _sniff_separator(first_line: str) -> str:
    counts = {sep: first_line.count(sep) for sep in _SEPARATORS}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] > 0 else ","


_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")


def _sniff_decimal_comma(text: str, sep: str) -> bool:
    if sep == ",":
        return False
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    try:
        for i, row in enumerate(reader):
            if i > 200:
                break
            if i and any(_DECIMAL_COMMA.match(v.strip()) for v in row):
                return True
    except csv.Error:
        return False
    return False


def _sha256(path: Path, out: dict) -> None:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    out["sha256"] = h.hexdigest()


def inspect_file(
    path: str | os.PathLike,
    *,
    name: str | None = None,
    kind: str | None = None,
    column_map: dict[str, str] | None = None,
) -> FileReport:
    """Sniff one file and recognise its format; raises :class:`FileRejected` (French message).

    Reads at most the first megabyte (the size limit is checked before anything is read).
    """
    path = Path(path)
    name = name or path.name
    if not path.exists():
        raise FileRejected(f"Le fichier « {name} » est introuvable ({path}).", file=name)
    size = path.stat().st_size
    limit = config.max_import_bytes()
    if size > limit:
        raise FileRejected(
            f"Le fichier « {name} » pèse {fmt_size(size)}, au-delà de la limite de "
            f"{fmt_size(limit)} fixée pour un import (réglage ESS_DIAG_MAX_IMPORT_MB). "
            "Découpez-le (par exemple par département) ou relevez la limite.",
            file=name,
        )
    report = FileReport(name=name, path=str(path), size=size)
    if size == 0:
        raise FileRejected(f"Le fichier « {name} » est vide.", file=name)
    with open(path, "rb") as f:
        head = f.read(8)
    suffixes = [s.lower() for s in path.suffixes] or [Path(name).suffix.lower()]
    if head.startswith(b"PAR1"):
        report.container = "parquet"
        header = _parquet_header(path, name)
    elif head.startswith(b"PK\x03\x04"):
        if ".xlsx" not in suffixes and not name.lower().endswith((".xlsx", ".xlsm")):
            raise FileRejected(
                f"Le fichier « {name} » est en réalité un classeur Excel (xlsx) renommé, pas un "
                "fichier CSV. Enregistrez-le au format CSV depuis le tableur, ou importez-le "
                "avec l'extension .xlsx.",
                file=name,
            )
        report.container = "xlsx"
        report.encoding = None
        return _inspect_xlsx(path, report, kind, column_map)
    elif head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected(
            f"Le fichier « {name} » est un classeur Excel à l'ancien format (.xls). "
            "Enregistrez-le au format .xlsx ou CSV puis importez-le à nouveau.",
            file=name,
        )
    else:
        if head.startswith(b"\x1f\x8b"):
            report.compression = "gzip"
            try:
                with gzip.open(path, "rb") as g:
                    raw = g.read(SAMPLE_BYTES)
                    complete = len(raw) < SAMPLE_BYTES
            except (EOFError, OSError, zlib.error) as exc:
                raise FileRejected(
                    f"Le fichier compressé « {name} » est tronqué ou endommagé "
                    f"({exc.__class__.__name__}) : téléchargez-le à nouveau.",
                    file=name,
                ) from None
        else:
            with open(path, "rb") as f:
                raw = f.read(SAMPLE_BYTES)
            complete = len(raw) < SAMPLE_BYTES
        if not raw.strip():
            raise FileRejected(f"Le fichier « {name} » est vide.", file=name)
        encoding, text = _decode_sample(raw, complete)
        if _looks_binary(text):
            raise FileRejected(
                f"Le fichier « {name} » n'est pas un fichier texte CSV lisible (contenu binaire "
                "ou endommagé). Formats acceptés : CSV (éventuellement .gz), Parquet, xlsx.",
                file=name,
            )
        report.encoding = encoding
        first_line = text.splitlines()[0] if text.splitlines() else ""
        report.separator = _sniff_separator(first_line)
        report.decimal_comma = _sniff_decimal_comma(text, report.separator)
        try:
            header = next(csv.reader(io.StringIO(first_line), delimiter=report.separator))
        except (StopIteration, csv.Error):
            header = []
        header = [h.strip() for h in header]
        if not any(header):
            raise FileRejected(f"Le fichier « {name} » n'a pas de ligne d'en-tête.", file=name)
    report.columns = list(header)
    spec, mapping = recognise(header, kind, name=name, column_map=column_map)
    report.format, report.format_label, report.mapping = spec.kind, spec.label, mapping
    return report


def _parquet_header(path: Path, name: str) -> list[str]:
    con = duckdb.connect(":memory:")
    try:
        rows = con.execute(
            "SELECT name FROM parquet_schema(?) WHERE num_children IS NULL OR num_children = 0",
            [str(path)],
        ).fetchall()
    except duckdb.Error as exc:
        raise FileRejected(
            f"Le fichier Parquet « {name} » est illisible ou endommagé : {exc}", file=name
        ) from None
    finally:
        con.close()
    return [r[0] for r in rows]


def _xlsx_engine() -> str:
    """calamine (Rust) reads the 35,000-row INSEE density grid in ~3 s where openpyxl takes
    ~30 s, with identical cells; openpyxl stays the fallback."""
    try:
        import python_calamine  # noqa: F401
    except ImportError:
        return "openpyxl"
    return "calamine"


def _read_xlsx(path: Path, name: str, nrows: int | None = None) -> pd.DataFrame:
    try:
        return pd.read_excel(path, header=None, dtype=str, nrows=nrows, engine=_xlsx_engine())
    except Exception as exc:  # openpyxl raises many types on broken files
        raise FileRejected(
            f"Le classeur « {name} » est illisible ou endommagé ({exc.__class__.__name__}).",
            file=name,
        ) from None


def _inspect_xlsx(
    path: Path, report: FileReport, kind: str | None, column_map: dict[str, str] | None = None
) -> FileReport:
    """Find the header row (the first of the first 30 rows that matches a format)."""
    frame = _read_xlsx(path, report.name, nrows=30)
    last_error: FileRejected | None = None
    for idx in range(len(frame)):
        header = ["" if pd.isna(v) else str(v).strip() for v in frame.iloc[idx].tolist()]
        if sum(1 for h in header if h) < 1:
            continue
        try:
            spec, mapping = recognise(header, kind, name=report.name, column_map=column_map)
        except FileRejected as exc:
            last_error = last_error or exc
            continue
        report.header_row = idx + 1
        report.columns = header
        report.format, report.format_label, report.mapping = spec.kind, spec.label, mapping
        return report
    raise last_error or FileRejected(f"Le classeur « {report.name} » est vide.", file=report.name)


def preview(
    path: str | os.PathLike,
    *,
    name: str | None = None,
    kind: str | None = None,
    rows: int = 5,
    column_map: dict[str, str] | None = None,
) -> tuple[FileReport, pd.DataFrame]:
    """The detected format and the first ``rows`` rows (recognised columns, canonical names)."""
    report = inspect_file(path, name=name, kind=kind, column_map=column_map)
    con = duckdb.connect(":memory:")
    try:
        with tempfile.TemporaryDirectory(prefix="essdiag-preview-") as tmp:
            _stage(con, report, "_preview", Path(tmp), limit=rows)
            columns = ", ".join(store.quote_identifier(c) for c in _FORMATS[report.format].columns)
            frame = con.execute(f"SELECT {columns} FROM _preview").df()  # noqa: S608
    finally:
        con.close()
    return report, frame


# --------------------------------------------------------------------------- staging


def _sql_str(value: str) -> str:
    """A SQL string literal (only for reader options DuckDB does not accept as parameters)."""
    return "'" + str(value).replace("'", "''") + "'"


def _transcode_to_utf8(report: FileReport, workdir: Path) -> Path:
    """Windows-1252 files are rewritten as UTF-8 (DuckDB reads UTF-8 and Latin-1 only, and
    Latin-1 would turn œ, ’, € into control characters)."""
    target = workdir / (Path(report.name).stem + ".utf8.csv")
    opener = gzip.open if report.compression else open
    with opener(report.path, "rb") as src, open(target, "wb") as dst:
        while chunk := src.read(1 << 22):
            dst.write(chunk.decode("cp1252", errors="replace").encode("utf-8"))
    return target


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
class _Staged:
    report: FileReport
    table: str
    index: int
    rejects: list[SetAside] = field(default_factory=list)
    reject_lines: list[int] = field(default_factory=list)

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


def _stage(
    con: duckdb.DuckDBPyConnection,
    report: FileReport,
    table: str,
    workdir: Path,
    *,
    index: int = 0,
    limit: int | None = None,
) -> _Staged:
    """Read one file into TEMP table ``table``: canonical text columns + ``_file``, ``_row``."""
    spec = _FORMATS[report.format]
    staged = _Staged(report, table, index)
    qi = store.quote_identifier
    select = ", ".join(
        (f"{qi(report.mapping[c])}::VARCHAR" if c in report.mapping else "NULL::VARCHAR")
        + f" AS {qi(c)}"
        for c in spec.columns
    )
    limit_sql = f" LIMIT {int(limit)}" if limit else ""
    if report.container == "xlsx":
        frame = _read_xlsx(Path(report.path), report.name, nrows=None)
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
                pos = report.columns.index(header)
                values = body[f"c{pos}"].astype(object)
                cols[canonical] = values.where(values.notna(), None).reset_index(drop=True)
        data = pd.DataFrame(cols)
        data.insert(0, "_row", lines)
        if limit:
            data = data.head(limit)
        con.register("_xlsx_frame", data)
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {qi(table)} AS SELECT * FROM _xlsx_frame"  # noqa: S608
            )
        finally:
            con.unregister("_xlsx_frame")
        return staged
    if report.container == "parquet":
        source = f"read_parquet({_sql_str(report.path)})"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {qi(table)} AS SELECT {select} FROM {source}{limit_sql}"  # noqa: S608
        )
    else:
        path = report.path
        compression = "gzip" if report.compression else "none"
        if report.encoding == "cp1252":
            path = str(_transcode_to_utf8(report, workdir))
            compression = "none"
        rejects = f"_rej_{index}"
        scans = f"_rejscan_{index}"
        options = (
            f"delim={_sql_str(report.separator or ',')}, header=true, all_varchar=true, "
            f"quote='\"', escape='\"', compression={_sql_str(compression)}, "
            "encoding='utf-8', max_line_size=10000000, "
            f"store_rejects=true, rejects_table={_sql_str(rejects)}, rejects_scan={_sql_str(scans)}"
        )
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {qi(table)} AS SELECT {select} "  # noqa: S608
                f"FROM read_csv({_sql_str(path)}, {options}){limit_sql}"
            )
        except duckdb.Error as exc:
            text = str(exc)
            if report.compression and (
                "gzip" in text.lower()
                or "zlib" in text.lower()
                or "inflate" in text.lower()
                or "compress" in text.lower()
            ):
                msg = f"Le fichier compressé « {report.name} » est tronqué ou endommagé : téléchargez-le à nouveau."
            else:
                msg = f"Le fichier « {report.name} » n'a pas pu être lu comme un CSV : {text.splitlines()[0]}"
            raise FileRejected(msg, file=report.name) from None
        rows = con.execute(
            f"SELECT line, error_type::VARCHAR, column_name, csv_line FROM {qi(rejects)} "  # noqa: S608
            "ORDER BY line"
        ).fetchall()
        con.execute(f"DROP TABLE IF EXISTS {qi(rejects)}")
        con.execute(f"DROP TABLE IF EXISTS {qi(scans)}")
        seen: set[int] = set()
        grouped: dict[str, SetAside] = {}
        for line, error_type, _column, csv_line in rows:
            line = int(line)
            if line in seen:  # one line may carry several errors
                continue
            seen.add(line)
            staged.reject_lines.append(line)
            reason = _REJECT_REASONS.get(
                str(error_type).upper().replace("_", " "), "Ligne mal formée"
            )
            entry = grouped.get(reason)
            if entry is None:
                example = (csv_line or "")[:120]
                entry = grouped[reason] = SetAside(reason, 0, [], example, report.name, None)
            entry.count += 1
            if len(entry.rows) < MAX_ROWS_LISTED:
                entry.rows.append(line)
        staged.rejects = list(grouped.values())
    return staged


# --------------------------------------------------------------------------- context


#: SQL macros every handler may use (TEMP, created per import).
SQL_MACROS = r"""
CREATE OR REPLACE TEMP MACRO ess_text(x) AS NULLIF(trim(x), '');
CREATE OR REPLACE TEMP MACRO ess_naf(x) AS
    CASE WHEN x IS NULL THEN NULL
         -- fast path: already 'NN.NNX' (the SIRENE files)
         WHEN length(x) = 6 AND substr(x, 3, 1) = '.' AND x = upper(x) THEN x
         WHEN regexp_full_match(upper(trim(x)), '[0-9]{2}\.?[0-9]{2}[A-Z]')
         THEN substr(upper(trim(x)), 1, 2) || '.' || substr(replace(upper(trim(x)), '.', ''), 3, 3)
         ELSE NULLIF(upper(trim(x)), '') END;
CREATE OR REPLACE TEMP MACRO ess_band(x) AS
    CASE WHEN x IS NULL THEN NULL
         WHEN length(x) = 2 THEN upper(x)
         WHEN regexp_full_match(trim(x), '[0-9]') THEN '0' || trim(x)
         ELSE NULLIF(upper(trim(x)), '') END;
CREATE OR REPLACE TEMP MACRO ess_commune(x) AS
    CASE WHEN x IS NULL THEN NULL
         WHEN length(x) = 5 AND x = trim(x) THEN upper(x)
         -- a spreadsheet dropped the leading zero of 01001
         WHEN regexp_full_match(trim(x), '[0-9]{4}') THEN '0' || trim(x)
         ELSE NULLIF(upper(trim(x)), '') END;
CREATE OR REPLACE TEMP MACRO ess_number(x, decimal_comma) AS
    TRY_CAST(CASE WHEN decimal_comma THEN replace(replace(trim(x), ' ', ''), ',', '.')
                  ELSE trim(x) END AS DOUBLE);
CREATE OR REPLACE TEMP MACRO ess_l93_lon(x, y) AS
    degrees(0.05235987755982989 + atan((x - 700000.0) / (12655612.049876 - y))
            / 0.7256077650532670);
-- Conformal latitude from the isometric latitude, then geodetic latitude by the series in
-- sin(2k·chi) (GRS80 coefficients): no iteration, so the macro expands linearly.
CREATE OR REPLACE TEMP MACRO ess_l93_chi(x, y) AS
    2 * atan(exp(-ln(sqrt(pow(x - 700000.0, 2) + pow(12655612.049876 - y, 2))
                     / 11754255.426096) / 0.7256077650532670)) - pi() / 2;
CREATE OR REPLACE TEMP MACRO ess_l93_lat_chi(chi) AS degrees(
    chi + 0.003356551485351144 * sin(2 * chi) + 6.5718727752939684e-06 * sin(4 * chi)
        + 1.764564364678166e-08 * sin(6 * chi) + 5.328478549053407e-11 * sin(8 * chi));
CREATE OR REPLACE TEMP MACRO ess_l93_lat(x, y) AS ess_l93_lat_chi(ess_l93_chi(x, y));
"""


def lambert93_to_wgs84(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Lambert 93 (EPSG:2154) → WGS84 lon/lat, vectorised (IGN note NTG_71, algorithms ALG0004
    and ALG0001; RGF93 and WGS84 agree to a few centimetres). Same formula as the SQL macros
    ``ess_l93_lon``/``ess_l93_lat``."""
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    n, c, xs, ys = 0.7256077650532670, 11754255.426096, 700000.0, 12655612.049876
    e, lon0 = 0.0818191910428158, np.radians(3.0)
    r = np.hypot(x - xs, ys - y)
    gamma = np.arctan((x - xs) / (ys - y))
    lon = lon0 + gamma / n
    iso = -np.log(r / c) / n
    phi = 2 * np.arctan(np.exp(iso)) - np.pi / 2
    for _ in range(6):
        s = e * np.sin(phi)
        phi = 2 * np.arctan(((1 + s) / (1 - s)) ** (e / 2) * np.exp(iso)) - np.pi / 2
    return np.degrees(lon), np.degrees(phi)


class ImportContext:
    """What a group handler works with: the connection, the staged tables, the report."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        import_id: str,
        report: ImportReport,
        staged: list[_Staged],
    ):
        self.con = con
        self.import_id = import_id
        self.report = report
        self._staged = staged
        self.targets: list[tuple[str, str, tuple[str, ...]]] = []
        self._temps: list[str] = []
        self._n = 0

    # -- staged data
    def kinds(self) -> set[str]:
        return {s.report.format for s in self._staged}

    def files(self, kind: str) -> list[FileReport]:
        return [s.report for s in self._staged if s.report.format == kind]

    def staged(self, kind: str) -> str | None:
        """Name of a TEMP view with every staged row of ``kind`` (canonical columns,
        ``_file``, ``_row``), or None when the import has no such file."""
        parts = [s for s in self._staged if s.report.format == kind]
        if not parts:
            return None
        name = self.temp_name(f"v_{kind}")
        union = " UNION ALL BY NAME ".join(
            f"SELECT {s.index}::INTEGER AS _file, {s.row_sql()}::BIGINT AS _row, "
            f"* {'EXCLUDE (_row)' if s.report.container == 'xlsx' else ''} "
            f"FROM {store.quote_identifier(s.table)}"
            for s in parts
        )
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {union}")  # noqa: S608
        return name

    def file_name(self, index: int) -> str:
        return self._staged[index].report.name

    def decimal_comma(self, kind: str) -> bool:
        return any(s.report.decimal_comma for s in self._staged if s.report.format == kind)

    # -- helpers
    def temp_name(self, prefix: str) -> str:
        self._n += 1
        name = f"_ess_{re.sub(r'[^A-Za-z0-9_]', '_', prefix)}_{self._n}"
        self._temps.append(name)
        return name

    def sql(self, query: str, params: Sequence | None = None) -> list[tuple]:
        """Run a query and fetch everything."""
        return self.con.execute(query, params or []).fetchall()

    def scalar(self, query: str, params: Sequence | None = None):
        rows = self.sql(query, params)
        return rows[0][0] if rows else None

    def require_geography(self, purpose: str) -> bool:
        """True when the reference geography is loaded; else records the French error
        (« impossible de ``purpose`` ») and returns False."""
        if self.scalar("SELECT count(*) FROM commune_aliases"):
            return True
        self.report.errors.append(
            f"La géographie de référence n'est pas chargée : impossible de {purpose}. "
            "Lancez d'abord « ess-diag init »."
        )
        return False

    def warn(self, message: str) -> None:
        self.report.warnings.append(message)

    def count(self, key: str, value) -> None:
        self.report.counts[key] = value

    def collect_set_aside(
        self,
        table: str,
        *,
        reason: str = "_reason",
        column: str = "_column",
        example: str = "_example",
    ) -> int:
        """Add the rows of ``table`` whose ``reason`` column is set to the report, grouped by
        (file, reason, column) with their line numbers and the first example. Returns the count."""
        rows = self.sql(
            f"SELECT _file, {reason}, {column}, count(*), "  # noqa: S608
            f"list(_row ORDER BY _row)[1:{MAX_ROWS_LISTED}], "
            f"arg_min({example}, _row), min(_row) "
            f"FROM {table} WHERE {reason} IS NOT NULL GROUP BY ALL ORDER BY 1, 7"
        )
        total = 0
        for file_idx, why, col, n, lines, ex, _first in rows:
            staged = self._staged[file_idx]
            fixed = [staged.line_of(int(r)) for r in lines]
            self.report.set_aside.append(
                SetAside(why, int(n), [int(v) for v in fixed], ex, staged.report.name, col)
            )
            total += int(n)
        return total

    def add_target(self, table: str, source: str, keys: Iterable[str]) -> None:
        """Rows of TEMP table ``source`` replace the rows of ``table`` with the same ``keys``
        (``import_id`` is added by the core: ``source`` must not have it)."""
        self.targets.append((table, source, tuple(keys)))

    def cleanup(self) -> None:
        for name in reversed(self._temps):
            for kind in ("VIEW", "TABLE"):
                try:
                    self.con.execute(f"DROP {kind} IF EXISTS {name}")
                except duckdb.Error:
                    pass


# --------------------------------------------------------------------------- run


def _new_import_id() -> str:
    now = dt.datetime.now()
    return f"imp-{now:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "inconnu"


def run_import(
    con: duckdb.DuckDBPyConnection,
    paths: Sequence[str | os.PathLike],
    *,
    kind: str | None = None,
    dry_run: bool = False,
    created_by: str | None = None,
    names: Sequence[str] | None = None,
    progress: Progress | None = None,
    column_maps: dict[str, tuple[str, dict[str, str]]] | None = None,
) -> ImportReport:
    """Import files in one transaction and return the validation report.

    ``names`` gives the file names to show (uploads are saved under temporary names).
    ``column_maps``: ``{file name: (kind, {canonical: header})}``, the user's choice of
    columns for files whose headers a format does not recognise; without one, a choice
    remembered for the same headers (table ``column_mappings``, :mod:`.mapping`) is applied.
    Never raises for bad input: a rejected import has ``status='rejected'`` and ``errors``,
    and leaves the database exactly as it was.
    """
    say = progress or (lambda _f, _m: None)
    report = ImportReport()
    import_id = _new_import_id()
    files: list[FileReport] = []
    names = list(names) if names else [Path(p).name for p in paths]
    if not paths:
        report.errors.append("Aucun fichier à importer.")
        return report
    say(0.02, "Analyse des fichiers…")
    for path, name in zip(paths, names, strict=True):
        try:
            files.append(_inspect_mapped(con, path, name, kind, column_maps, report))
        except FileRejected as exc:
            report.errors.append(str(exc))
    report.files = files
    if report.errors:
        return report
    files.sort(key=lambda f: _FORMATS[f.format].order)
    groups = sorted({_FORMATS[f.format].group for f in files})
    report.kind = "+".join(groups)
    hashes: list[dict] = [{} for _ in files]
    threads = [
        threading.Thread(target=_sha256, args=(Path(f.path), h), daemon=True)
        for f, h in zip(files, hashes, strict=True)
    ]
    for t in threads:
        t.start()
    staged: list[_Staged] = []
    ctx = ImportContext(con, import_id, report, staged)
    try:
        with tempfile.TemporaryDirectory(prefix="essdiag-import-") as tmp:
            for i, f in enumerate(files):
                say(0.05 + 0.4 * i / len(files), f"Lecture de {f.name}…")
                table = ctx.temp_name(f"stage_{i}")
                staged.append(_stage(con, f, table, Path(tmp), index=i))
                f.rows_read = int(ctx.scalar(f"SELECT count(*) FROM {table}"))  # noqa: S608
                report.set_aside.extend(staged[-1].rejects)
        for t in threads:
            t.join()
        for f, h in zip(files, hashes, strict=True):
            f.sha256 = h.get("sha256")
        rejected_lines = sum(s.count for s in report.set_aside)
        report.rows_read = sum(f.rows_read for f in files) + rejected_lines
        if report.rows_read == 0:
            report.errors.append(
                "Aucune ligne de données dans "
                + ", ".join(f"« {f.name} »" for f in files)
                + " (seulement l'en-tête)."
            )
            return report
        _previous(con, report)
        say(0.5, "Contrôle et classement des lignes…")
        nomenclatures.register(con, temporary=True)
        for statement in SQL_MACROS.split(";"):
            if statement.strip():
                con.execute(statement)
        # From here on row order does not matter (line numbers are in _row): letting DuckDB
        # write in any order makes the large CREATE/INSERT steps markedly faster.
        con.execute("SET preserve_insertion_order = false")
        for group in groups:
            _GROUPS[group](ctx)
        if report.errors:
            report.status = "rejected"
            return report
        report.rows_set_aside = sum(s.count for s in report.set_aside)
        report.rows_loaded = report.rows_read - report.rows_set_aside
        if dry_run:
            report.status = "dry-run"
            for table, source, _keys in ctx.targets:
                n = int(ctx.scalar(f"SELECT count(*) FROM {source}"))  # noqa: S608
                report.tables[table] = report.tables.get(table, 0) + n
            return report
        say(0.75, "Écriture dans la base…")
        _apply(ctx, created_by or _user())
        report.status = "committed"
        report.import_id = import_id
        say(1.0, "Import terminé.")
        return report
    except IngestError as exc:
        report.errors.append(str(exc))
        report.status = "rejected"
        return report
    except duckdb.Error as exc:  # rolled back by store.transaction: the database is unchanged
        report.errors.append(
            "L'import a échoué et n'a rien modifié : "
            + (str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__)
        )
        report.status = "rejected"
        report.import_id = None
        return report
    finally:
        con.execute("RESET preserve_insertion_order")
        for t in threads:
            t.join()
        ctx.cleanup()
        _drop_temp_refs(con)
        for s in staged:
            con.execute(f"DROP TABLE IF EXISTS {store.quote_identifier(s.table)}")


def _inspect_mapped(
    con: duckdb.DuckDBPyConnection,
    path: str | os.PathLike,
    name: str,
    kind: str | None,
    column_maps: dict[str, tuple[str, dict[str, str]]] | None,
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
        if exc.column is None and "colonnes" not in str(exc):
            raise
        try:
            from . import mapping
        except ImportError:  # the column-mapping module is optional
            raise exc from None

        if not store.table_exists(con, "column_mappings"):
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


def _previous(con: duckdb.DuckDBPyConnection, report: ImportReport) -> None:
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


def _drop_temp_refs(con: duckdb.DuckDBPyConnection) -> None:
    for name in nomenclatures._REF_TABLES:
        con.execute(f"DROP TABLE IF EXISTS temp.main.{name}")


def _undo_table(table: str) -> str:
    return f"undo_{table}"


def _key_condition(keys: Sequence[str], left: str, right: str) -> str:
    qi = store.quote_identifier
    return " AND ".join(f"{left}.{qi(k)} IS NOT DISTINCT FROM {right}.{qi(k)}" for k in keys)


def _apply(ctx: ImportContext, created_by: str) -> None:
    con, qi, report = ctx.con, store.quote_identifier, ctx.report
    tables = sorted({t for t, _s, _k in ctx.targets})
    with store.transaction(con):
        # The stored reference tables follow the package's nomenclatures (no-op when current);
        # the TEMP copies used to classify would shadow them, so they go first.
        _drop_temp_refs(con)
        nomenclatures.register(con)
        for table, source, keys in ctx.targets:
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
                    [ctx.import_id],
                )
                con.execute(
                    f"DELETE FROM {qi(table)} t USING {source} s WHERE {cond}"  # noqa: S608
                )
            # An undo table exists only while it holds rows (the schema stays as it was).
            if not con.execute(f"SELECT count(*) FROM {undo}").fetchall()[0][0]:  # noqa: S608
                con.execute(f"DROP TABLE {undo}")
            con.execute(
                f"INSERT INTO {qi(table)} BY NAME SELECT *, ?::VARCHAR AS import_id "  # noqa: S608
                f"FROM {source}",
                [ctx.import_id],
            )
            n = int(ctx.scalar(f"SELECT count(*) FROM {source}"))  # noqa: S608
            report.tables[table] = report.tables.get(table, 0) + n
        report.import_id = ctx.import_id
        report.status = "committed"
        files_json = json.dumps(
            [
                {
                    "name": f.name,
                    "size": f.size,
                    "sha256": f.sha256,
                    "format": f.format,
                    "encoding": f.encoding,
                    "separator": f.separator,
                    "container": f.container,
                    "compression": f.compression,
                }
                for f in report.files
            ],
            ensure_ascii=False,
        )
        con.execute(
            "INSERT INTO imports (import_id, kind, status, created_at, created_by, files, "
            "rows_read, rows_loaded, rows_set_aside, report, tables) "
            "VALUES (?, ?, 'committed', ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                ctx.import_id,
                report.kind,
                dt.datetime.now(),
                created_by,
                files_json,
                report.rows_read,
                report.rows_loaded,
                report.rows_set_aside,
                report.to_json(),
                json.dumps(tables),
            ],
        )
        store.bump_data_version(con)


# --------------------------------------------------------------------------- history


def list_imports(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Import history, most recent first (one row per import)."""
    return con.execute(
        "SELECT import_id, kind, status, created_at, created_by, files, rows_read, rows_loaded, "
        "rows_set_aside, undone_at FROM imports ORDER BY created_at DESC, import_id DESC"
    ).df()


def undo_import(
    con: duckdb.DuckDBPyConnection, import_id: str, *, progress: Progress | None = None
) -> dict:
    """Undo a committed import: its rows removed, the rows it replaced put back.

    Raises :class:`UndoError` (French) when the import is unknown, already undone, or when a
    later committed import touched the same tables (undo that one first).
    """
    qi = store.quote_identifier
    rows = con.execute(
        "SELECT status, created_at, tables FROM imports WHERE import_id = ?", [import_id]
    ).fetchall()
    if not rows:
        raise UndoError(f"Aucun import « {import_id} » dans l'historique.")
    status, created_at, tables_json = rows[0]
    if status != "committed":
        raise UndoError(f"L'import « {import_id} » a déjà été annulé.")
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
            + ("celui-ci." if len(blocking) == 1 else "ceux-ci.")
        )
    restored: dict[str, int] = {}
    removed: dict[str, int] = {}
    with store.transaction(con):
        for table in tables:
            undo = _undo_table(table)
            removed[table] = int(
                con.execute(
                    f"SELECT count(*) FROM {qi(table)} WHERE import_id = ?",  # noqa: S608
                    [import_id],
                ).fetchall()[0][0]
            )
            con.execute(f"DELETE FROM {qi(table)} WHERE import_id = ?", [import_id])  # noqa: S608
            if store.table_exists(con, undo):
                restored[table] = int(
                    con.execute(
                        f"SELECT count(*) FROM {qi(undo)} WHERE undo_import_id = ?",  # noqa: S608
                        [import_id],
                    ).fetchall()[0][0]
                )
                con.execute(
                    f"INSERT INTO {qi(table)} BY NAME SELECT * EXCLUDE (undo_import_id) "  # noqa: S608
                    f"FROM {qi(undo)} WHERE undo_import_id = ?",
                    [import_id],
                )
                con.execute(
                    f"DELETE FROM {qi(undo)} WHERE undo_import_id = ?",  # noqa: S608
                    [import_id],
                )
                left = con.execute(f"SELECT count(*) FROM {qi(undo)}").fetchall()[0][0]  # noqa: S608
                if left == 0:
                    con.execute(f"DROP TABLE {qi(undo)}")
        con.execute(
            "UPDATE imports SET status = 'undone', undone_at = ? WHERE import_id = ?",
            [dt.datetime.now(), import_id],
        )
        store.bump_data_version(con)
    return {"import_id": import_id, "removed": removed, "restored": restored}
