"""What a file is, from its first bytes: container (gzip, Parquet, xlsx, old .xls), and for
CSV the encoding (UTF-8, UTF-8 with BOM, Windows-1252), separator (``;`` ``,`` tab ``|``),
decimal comma and header, sniffed on the first megabyte. Shared by the inspection of a file
(:mod:`.inspect`) and the column-mapping widget (:mod:`.mapping`).

Every refusal is a :class:`~.errors.FileRejected` with a French message and a
:class:`~.errors.Reason`.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

import duckdb
import pandas as pd

from ..formatting import is_missing
from .errors import FileRejected, Reason
from .report import fmt_size

__all__ = [
    "SAMPLE_BYTES",
    "SEPARATORS",
    "CsvSniff",
    "container_of",
    "decode_sample",
    "looks_binary",
    "sniff_separator",
    "sniff_decimal_comma",
    "sniff_csv",
    "parquet_header",
    "read_xlsx",
    "read_xlsx_head",
    "xlsx_rows",
    "file_sha256",
    "count_lines",
    "KNOWN_ZIP_MEMBERS",
    "ZipMember",
    "zip_member",
    "open_member",
    "extract_member",
    "expansion_refusal",
]

SAMPLE_BYTES = 1 << 20
SEPARATORS = (";", ",", "\t", "|")

_MAGIC = {
    b"PAR1": "parquet",
    b"PK\x03\x04": "zip",
    b"PK\x05\x06": "zip",  # an empty archive (end of central directory only)
    b"\xd0\xcf\x11\xe0": "xls",
    b"\x1f\x8b": "gzip",
}


def container_of(path: Path) -> str:
    """``'parquet'``, ``'xlsx'``, ``'zip'`` (any other zip archive), ``'xls'`` (OLE2),
    ``'gzip'``, ``'empty'`` or ``'text'``, from the content of the file: its first bytes, and
    for a zip its members (a workbook has ``xl/workbook.xml``), never its name."""
    with open(path, "rb") as f:
        head = f.read(8)
    if not head:
        return "empty"
    for magic, container in _MAGIC.items():
        if head.startswith(magic):
            if container == "zip" and _is_workbook(path):
                return "xlsx"
            return container
    return "text"


def _is_workbook(path: Path) -> bool:
    """A zip archive holding ``xl/workbook.xml`` is an Excel workbook (xlsx, xlsm)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


# --------------------------------------------------------------------------- zip archives
# INSEE publishes its national files as zip archives holding one CSV. DuckDB cannot read a
# zip: the member is sniffed from a stream, and decompressed (streamed, bounded) to a file in
# the import's temporary folder before DuckDB reads it (:func:`extract_member`).

#: Members of INSEE's archives, by lower-case name: the one picked when an archive holds more.
KNOWN_ZIP_MEMBERS = (
    "stocketablissement_utf8.csv",
    "stockunitelegale_utf8.csv",
    "geolocalisationetablissement_sirene_pour_etudes_statistiques_utf8.csv",
    "stocketablissementhistorique_utf8.csv",
    "stockunitelegalehistorique_utf8.csv",
    "stocketablissement_utf8.parquet",
    "stockunitelegale_utf8.parquet",
)
#: What a zip member may be (its own content decides): a CSV, gzip, Parquet or xlsx.
_MEMBER_KINDS = {"text": "CSV", "gzip": "CSV compressé", "parquet": "Parquet", "xlsx": "xlsx"}
_CHUNK = 1 << 22


@dataclass(frozen=True)
class ZipMember:
    """The member of a zip archive an import reads."""

    name: str
    size: int  # declared decompressed size
    compressed: int
    kind: str  # 'text' | 'gzip' | 'parquet' | 'xlsx' (from the member's own first bytes)


def _damaged_zip(name: str) -> FileRejected:
    return FileRejected(
        f"L'archive zip « {name} » est tronquée ou endommagée : téléchargez-la à nouveau.",
        code=Reason.DAMAGED,
        file=name,
    )


def _is_junk(info: zipfile.ZipInfo) -> bool:
    """Folders and what archivers add (``__MACOSX/``, ``.DS_Store``, ``Thumbs.db``)."""
    base = info.filename.rsplit("/", 1)[-1]
    return (
        info.is_dir()
        or info.filename.startswith("__MACOSX/")
        or base.startswith(".")
        or base.lower() == "thumbs.db"
    )


def _listing(members: list[zipfile.ZipInfo]) -> str:
    shown = ", ".join(f"« {m.filename} »" for m in members[:6])
    return shown + ("…" if len(members) > 6 else "")


def zip_member(path: Path, name: str) -> ZipMember:
    """The member of a zip archive to import: its only file, else the one INSEE names (see
    :data:`KNOWN_ZIP_MEMBERS`); its kind from its own first bytes. :class:`FileRejected`
    (French, naming what the archive holds) for an empty archive, several candidates, an
    archive inside an archive, an old .xls or a damaged archive."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not _is_junk(m)]
            if not members:
                raise FileRejected(
                    f"L'archive zip « {name} » ne contient aucun fichier.",
                    code=Reason.EMPTY,
                    file=name,
                )
            chosen = members[0] if len(members) == 1 else None
            if chosen is None:
                known = [
                    m for m in members if m.filename.rsplit("/", 1)[-1].lower() in KNOWN_ZIP_MEMBERS
                ]
                if len(known) != 1:
                    which = known or members
                    raise FileRejected(
                        f"L'archive zip « {name} » contient {len(members)} fichiers "
                        f"({_listing(which if known else members)}) : impossible de savoir "
                        "lequel importer. Décompressez-la et importez le fichier voulu, ou "
                        "une archive qui n'en contient qu'un (comme celles de l'INSEE, "
                        "« StockEtablissement_utf8.zip »).",
                        code=Reason.ZIP_MEMBERS,
                        file=name,
                    )
                chosen = known[0]
            if chosen.flag_bits & 0x1:
                raise FileRejected(
                    f"L'archive zip « {name} » est protégée par un mot de passe : "
                    "décompressez-la puis importez le fichier qu'elle contient.",
                    code=Reason.ZIP_MEMBERS,
                    file=name,
                )
            with archive.open(chosen) as stream:
                head = stream.read(8)
    except FileRejected:
        raise
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError, ValueError, NotImplementedError):
        raise _damaged_zip(name) from None
    kind = "text"
    for magic, container in _MAGIC.items():
        if head.startswith(magic):
            kind = container
    if kind == "zip":
        kind = "xlsx" if chosen.filename.lower().endswith((".xlsx", ".xlsm")) else "zip"
    if kind in ("zip", "xls"):
        what = "une autre archive zip" if kind == "zip" else "un classeur Excel .xls"
        raise FileRejected(
            f"L'archive zip « {name} » contient « {chosen.filename} », {what} : ce n'est pas "
            "un fichier que l'import sait lire (CSV, CSV compressé .gz, Parquet ou xlsx). "
            "Décompressez-la et importez le fichier qu'elle contient.",
            code=Reason.ZIP_MEMBERS,
            file=name,
        )
    return ZipMember(chosen.filename, chosen.file_size, chosen.compress_size, kind)


def open_member(path: Path, member: str) -> IO[bytes]:
    """A stream of the decompressed member (the caller closes it, and the archive with it)."""
    archive = zipfile.ZipFile(path)
    stream = archive.open(member)
    original_close = stream.close

    def close() -> None:
        original_close()
        archive.close()

    stream.close = close  # type: ignore[method-assign]
    return stream


def extract_member(
    path: Path,
    member: str,
    target: Path,
    *,
    name: str,
    max_bytes: int | None = None,
    on_bytes=None,
    head_bytes: int | None = None,
) -> tuple[int, int]:
    """Decompress ``member`` into ``target`` chunk by chunk (never whole in memory); return
    (bytes written, lines). Refused beyond ``max_bytes`` as soon as they are exceeded (the
    sizes an archive declares can lie), or when the archive is damaged (CRC checked at the
    end). ``on_bytes(n)`` is called with the bytes written so far (progress). ``head_bytes``:
    only the first whole lines of about that size (a preview)."""
    written = lines = 0
    last = b"\n"
    try:
        with zipfile.ZipFile(path) as archive, archive.open(member) as src:
            with open(target, "wb") as dst:
                while chunk := src.read(_CHUNK):
                    written += len(chunk)
                    if max_bytes is not None and written > max_bytes:
                        raise _TooMuch
                    if head_bytes is not None and written >= head_bytes:
                        chunk = chunk[: chunk.rfind(b"\n") + 1] or chunk
                        dst.write(chunk)
                        return written, lines + chunk.count(b"\n")
                    lines += chunk.count(b"\n")
                    last = chunk[-1:]
                    dst.write(chunk)
                    if on_bytes is not None:
                        on_bytes(written)
    except _TooMuch:
        target.unlink(missing_ok=True)
        raise expansion_refusal(name, path.stat().st_size, max_bytes or 0) from None
    except (zipfile.BadZipFile, EOFError, zlib.error, ValueError, NotImplementedError):
        target.unlink(missing_ok=True)
        raise _damaged_zip(name) from None
    return written, lines + (last != b"\n")


def expansion_refusal(name: str, compressed: int, allowed: int) -> FileRejected:
    return FileRejected(
        f"Le fichier « {name} » ({fmt_size(compressed)} compressé) se décompresse en plus de "
        f"{fmt_size(allowed)} : c'est plus qu'un fichier envoyé par le navigateur ne peut "
        "contenir (fichier piégé, ou fichier national à déposer dans le dossier d'import ou à "
        "importer avec « ess-diag import »). Rien n'a été importé dans la base.",
        code=Reason.TOO_EXPANDED,
        file=name,
    )


class _TooMuch(Exception):
    """A member decompressed beyond its limit."""


def decode_sample(raw: bytes, complete: bool) -> tuple[str, str]:
    """(encoding, text) of a byte sample: UTF-8 with BOM, UTF-8, else Windows-1252.

    ``complete``: the sample is the whole file (else a multi-byte character cut by the end of
    the sample is not an encoding error).
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", raw[3:].decode("utf-8", errors="replace")
    try:
        return "utf-8", raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not complete and exc.start >= len(raw) - 3:
            try:
                return "utf-8", raw[: exc.start].decode("utf-8")
            except UnicodeDecodeError:
                pass
    # cp1252 leaves five bytes undefined; latin-1 maps them (they are control characters).
    return "cp1252", raw.decode("cp1252", errors="replace")


def looks_binary(text: str) -> bool:
    """More than 1 % of control or undecodable characters (or any NUL): not a text file."""
    if "\x00" in text:
        return True
    sample = text[:65536]
    if not sample:
        return False
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    replacement = sample.count("\ufffd")
    return (controls + replacement) / len(sample) > 0.01


def sniff_separator(first_line: str) -> str:
    """The separator found most often in the header line (``,`` when none is)."""
    counts = {sep: first_line.count(sep) for sep in SEPARATORS}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] > 0 else ","


_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")


def sniff_decimal_comma(text: str, sep: str) -> bool:
    """A cell like ``12,5`` in the first 200 data lines (never with a comma separator)."""
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


@dataclass(frozen=True)
class CsvSniff:
    """What the first megabyte of a CSV says."""

    encoding: str
    separator: str
    decimal_comma: bool
    header: list[str]


def _read_sample(
    path: Path, name: str, compressed: bool, member: str | None = None
) -> tuple[bytes, bool]:
    """The first :data:`SAMPLE_BYTES` (decompressed) and whether that is the whole file."""
    if member is not None:
        try:
            with open_member(path, member) as stream:
                if compressed:
                    with gzip.open(stream, "rb") as g:
                        raw = g.read(SAMPLE_BYTES)
                else:
                    raw = stream.read(SAMPLE_BYTES)
        except (zipfile.BadZipFile, EOFError, zlib.error, OSError, ValueError):
            raise _damaged_zip(name) from None
        return raw, len(raw) < SAMPLE_BYTES
    if not compressed:
        with open(path, "rb") as f:
            raw = f.read(SAMPLE_BYTES)
        return raw, len(raw) < SAMPLE_BYTES
    try:
        with gzip.open(path, "rb") as g:
            raw = g.read(SAMPLE_BYTES)
    except (EOFError, OSError, zlib.error) as exc:
        raise FileRejected(
            f"Le fichier compressé « {name} » est tronqué ou endommagé "
            f"({exc.__class__.__name__}) : téléchargez-le à nouveau.",
            code=Reason.DAMAGED,
            file=name,
        ) from None
    return raw, len(raw) < SAMPLE_BYTES


def sniff_csv(
    path: Path, name: str, *, compressed: bool = False, member: str | None = None
) -> CsvSniff:
    """Encoding, separator, decimal comma and header of a (possibly gzipped) CSV, or of the
    CSV ``member`` of a zip archive (read from a stream: nothing is extracted)."""
    raw, complete = _read_sample(path, name, compressed, member)
    if not raw.strip():
        raise FileRejected(f"Le fichier « {name} » est vide.", code=Reason.EMPTY, file=name)
    encoding, text = decode_sample(raw, complete)
    if looks_binary(text):
        raise FileRejected(
            f"Le fichier « {name} » n'est pas un fichier texte CSV lisible (contenu binaire "
            "ou endommagé). Formats acceptés : CSV (éventuellement .gz), Parquet, xlsx.",
            code=Reason.BINARY,
            file=name,
        )
    lines = text.splitlines()
    first_line = lines[0] if lines else ""
    separator = sniff_separator(first_line)
    try:
        header = next(csv.reader(io.StringIO(first_line), delimiter=separator))
    except (StopIteration, csv.Error):
        header = []
    header = [h.strip() for h in header]
    if not any(header):
        raise FileRejected(
            f"Le fichier « {name} » n'a pas de ligne d'en-tête.", code=Reason.NO_HEADER, file=name
        )
    return CsvSniff(encoding, separator, sniff_decimal_comma(text, separator), header)


def parquet_header(path: Path, name: str) -> list[str]:
    """The leaf column names of a Parquet file."""
    con = duckdb.connect(":memory:")
    try:
        rows = con.execute(
            "SELECT name FROM parquet_schema(?) WHERE num_children IS NULL OR num_children = 0",
            [str(path)],
        ).fetchall()
    except duckdb.Error as exc:
        raise FileRejected(
            f"Le fichier Parquet « {name} » est illisible ou endommagé : {exc}",
            code=Reason.DAMAGED,
            file=name,
        ) from None
    finally:
        con.close()
    return [r[0] for r in rows]


def read_xlsx(path: Path, name: str, nrows: int | None = None) -> pd.DataFrame:
    """The first sheet as text cells, no header (calamine: the 35,000-row INSEE density grid
    reads in ~3 s where openpyxl takes ~30 s). A few rows of a large workbook (header search,
    preview) are streamed instead (:func:`read_xlsx_head`): calamine would load it whole."""
    if nrows is not None and Path(path).stat().st_size > _XLSX_STREAM_ABOVE:
        return read_xlsx_head(Path(path), name, nrows)
    try:
        return pd.read_excel(path, header=None, dtype=str, nrows=nrows, engine="calamine")
    except Exception as exc:  # the reader raises many types on broken files
        raise FileRejected(
            f"Le classeur « {name} » est illisible ou endommagé ({exc.__class__.__name__}).",
            code=Reason.DAMAGED,
            file=name,
        ) from None


def xlsx_rows(frame: pd.DataFrame) -> list[list[str]]:
    """Each row of a sheet as stripped text, empty cells as ``''``."""
    return [
        ["" if is_missing(v) else str(v).strip() for v in frame.iloc[idx].tolist()]
        for idx in range(len(frame))
    ]


def file_sha256(path: Path, out: dict, count_lines: bool = False) -> None:
    """``out['sha256']`` = the file's sha256 (run in a thread while the file is staged), and
    with ``count_lines`` ``out['lines']`` = its lines (a last line without a final newline
    counts): the rows a streamed import read, counted in the same pass at memchr speed."""
    h = hashlib.sha256()
    lines, last = 0, b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
            if count_lines:
                lines += chunk.count(b"\n")
                last = chunk[-1:]
    out["sha256"] = h.hexdigest()
    if count_lines:
        out["lines"] = lines + (last != b"\n")


def count_lines(path: Path, compressed: bool) -> int:
    """Lines of a (possibly gzipped) file, streamed (a last line without newline counts)."""
    opener = gzip.open if compressed else open
    lines, last = 0, b"\n"
    with opener(path, "rb") as f:
        while chunk := f.read(1 << 22):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


# --------------------------------------------------------------------------- xlsx head
# Reading a sheet's first rows must not parse the whole workbook: calamine and openpyxl load
# every shared string (≈ 2.5 s and ≈ 20 s for a 300 000-row sheet) before the first row. The
# sheet's XML is streamed instead, stopping after ``nrows`` rows, and the shared strings are
# read only up to the highest index those rows use.

#: Workbooks above this size have their first rows streamed (smaller ones load in < 0.1 s).
_XLSX_STREAM_ABOVE = 1 << 20
_XLSX_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")


def _first_sheet(archive: zipfile.ZipFile) -> str:
    """The path inside the archive of the workbook's first sheet."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    sheet = book.find(f"{_XLSX_NS}sheets/{_XLSX_NS}sheet")
    rid = sheet.get(f"{_REL_NS}id") if sheet is not None else None
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    for rel in rels:
        if rel.get("Id") == rid:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else "xl/" + target
    return "xl/worksheets/sheet1.xml"


def _column_index(letters: str) -> int:
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index - 1


def _cell_text(cell: ElementTree.Element) -> tuple[str | None, int | None]:
    """(text, None) for a value, (None, index) for a shared string."""
    kind = cell.get("t")
    if kind == "inlineStr":
        return "".join(t.text or "" for t in cell.iter(f"{_XLSX_NS}t")), None
    value = cell.find(f"{_XLSX_NS}v")
    if value is None or value.text is None:
        return None, None
    if kind == "s":
        return None, int(value.text)
    text = value.text
    if kind in (None, "n"):
        # As a spreadsheet (and calamine) shows it: 15 significant digits, integers bare.
        try:
            number = float(f"{float(text):.15g}")
        except ValueError:
            return text, None
        text = str(int(number)) if number.is_integer() else repr(number)
    return text, None


#: A sheet's largest row and column (Excel's limits): anything beyond is a damaged or hostile file.
_MAX_ROW, _MAX_COLUMN = 1_048_576, 16_384


class _Damaged(ValueError):
    """The sheet's XML is not what a spreadsheet writes."""


def _sheet_head(
    archive: zipfile.ZipFile, sheet: str, nrows: int
) -> tuple[dict[int, dict[int, object]], bool]:
    """Cells of the rows numbered 1 … ``nrows`` (row number → column index → value), and
    whether the sheet ended there. Rows may come in any order; a cell without a reference
    follows the previous one."""
    rows: dict[int, dict[int, object]] = {}
    complete = True
    previous_row = 0
    with archive.open(sheet) as stream:
        for _event, elem in ElementTree.iterparse(stream):
            if elem.tag != f"{_XLSX_NS}row":
                continue
            number = int(elem.get("r") or previous_row + 1)
            if not 1 <= number <= _MAX_ROW:
                raise _Damaged(number)
            previous_row = number
            if number > nrows:
                complete = False
                break
            cells = rows.setdefault(number, {})
            col = -1
            for cell in elem.iter(f"{_XLSX_NS}c"):
                match = _CELL_REF.match(cell.get("r") or "")
                col = _column_index(match.group(1)) if match else col + 1
                if not 0 <= col < _MAX_COLUMN:
                    raise _Damaged(col)
                text, shared = _cell_text(cell)
                cells[col] = ("s", shared) if shared is not None else text
            elem.clear()
    return rows, complete


def _shared_strings(archive: zipfile.ZipFile, wanted: set[int]) -> dict[int, str]:
    """The shared strings whose index is in ``wanted`` (read no further than the largest)."""
    found: dict[int, str] = {}
    if not wanted or "xl/sharedStrings.xml" not in archive.namelist():
        return found
    last = max(wanted)
    index = -1
    with archive.open("xl/sharedStrings.xml") as stream:
        for _event, elem in ElementTree.iterparse(stream):
            if elem.tag == f"{_XLSX_NS}si":
                index += 1
                if index in wanted:
                    found[index] = "".join(t.text or "" for t in elem.iter(f"{_XLSX_NS}t"))
                elem.clear()
                if index >= last:
                    break
    return found


def read_xlsx_head(path: Path, name: str, nrows: int) -> pd.DataFrame:
    """The first ``nrows`` rows of the first sheet as text cells, no header, like
    :func:`read_xlsx` (rows and columns from A1), read without loading the workbook.

    For the header search and the preview only: numbers read as a spreadsheet shows them,
    dates as their serial number (the import itself reads the sheet with calamine)."""
    try:
        with zipfile.ZipFile(path) as archive:
            rows, complete = _sheet_head(archive, _first_sheet(archive), nrows)
            wanted = {v[1] for r in rows.values() for v in r.values() if isinstance(v, tuple)}
            if any(i < 0 for i in wanted):
                raise _Damaged(min(wanted))
            strings = _shared_strings(archive, wanted)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, ValueError, OSError):
        raise FileRejected(
            f"Le classeur « {name} » est illisible ou endommagé.", code=Reason.DAMAGED, file=name
        ) from None
    height = max(rows, default=0)
    while complete and height and all(v is None for v in rows.get(height, {}).values()):
        height -= 1  # the sheet's last rows without a value (formatting only): calamine drops them
    width = max((max(r) + 1 for n, r in rows.items() if r and n <= height), default=0)
    table = [
        [
            strings.get(v[1]) if isinstance(v, tuple) else v
            for v in (rows.get(n, {}).get(c) for c in range(width))
        ]
        for n in range(1, height + 1)
    ]
    return pd.DataFrame(table, columns=range(width), dtype=object)
