"""Inspecting a file before anything is written: size, container, CSV dialect (:mod:`.sniff`)
and format (:mod:`.registry`); :func:`preview` shows its first rows as they would be staged."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

from .. import config, store
from .errors import FileRejected, Reason
from .limits import UploadLimits, check_expansion
from .registry import formats, recognise
from .report import FileReport, fmt_size
from .sniff import (
    container_of,
    extract_member,
    parquet_header,
    read_xlsx,
    sniff_csv,
    xlsx_rows,
    zip_member,
)
from .staging import stage

__all__ = ["inspect_file", "preview"]


def inspect_file(
    path: str | os.PathLike,
    *,
    name: str | None = None,
    kind: str | None = None,
    column_map: dict[str, str] | None = None,
    limits: UploadLimits | None = None,
) -> FileReport:
    """Sniff one file and recognise its format; raises :class:`FileRejected` (French message,
    reason code). Reads at most the first megabyte (the size is checked before anything is
    read); an xlsx sheet's first 30 rows. With ``limits`` (a file sent through the browser),
    a compressed file that expands beyond them is refused first (:mod:`.limits`).
    """
    path = Path(path)
    name = name or path.name
    report = FileReport(name=name, path=str(path), size=_checked_size(path, name))
    container = container_of(path)
    if limits is not None:
        check_expansion(path, name, container, limits)
    if container == "zip":
        return _inspect_zip(path, report, kind, column_map, limits)
    if container == "xlsx":
        _check_xlsx_extension(path, name)
        report.container = "xlsx"
        return _inspect_xlsx(path, report, kind, column_map)
    if container == "xls":
        raise FileRejected(
            f"Le fichier « {name} » est un classeur Excel à l'ancien format (.xls). "
            "Enregistrez-le au format .xlsx ou CSV puis importez-le à nouveau.",
            code=Reason.OLD_XLS,
            file=name,
        )
    if container == "parquet":
        report.container = "parquet"
        header = parquet_header(path, name)
    else:
        report.compression = "gzip" if container == "gzip" else None
        sniffed = sniff_csv(path, name, compressed=container == "gzip")
        report.encoding = sniffed.encoding
        report.separator = sniffed.separator
        report.decimal_comma = sniffed.decimal_comma
        header = sniffed.header
    report.columns = list(header)
    spec, mapping = recognise(header, kind, name=name, column_map=column_map)
    report.format, report.format_label, report.mapping = spec.kind, spec.label, mapping
    return report


def _inspect_zip(
    path: Path,
    report: FileReport,
    kind: str | None,
    column_map: dict[str, str] | None,
    limits: UploadLimits | None,
) -> FileReport:
    """A zip archive (INSEE's national files): its member is chosen (:func:`zip_member`) and
    inspected for what its own content is. A CSV member is sniffed from a stream; a Parquet
    or xlsx member is decompressed to a temporary file first (their header is not at the
    start)."""
    name = report.name
    member = zip_member(path, name)
    report.archive, report.member = "zip", member.name
    if member.kind == "text" or member.kind == "gzip":
        report.compression = "gzip" if member.kind == "gzip" else None
        sniffed = sniff_csv(path, name, compressed=member.kind == "gzip", member=member.name)
        report.encoding = sniffed.encoding
        report.separator = sniffed.separator
        report.decimal_comma = sniffed.decimal_comma
        header = sniffed.header
    else:
        max_bytes = limits.bytes_allowed(report.size) if limits is not None else None
        with tempfile.TemporaryDirectory(prefix="essdiag-zip-") as tmp:
            target = Path(tmp) / ("member.xlsx" if member.kind == "xlsx" else "member.parquet")
            extract_member(path, member.name, target, name=name, max_bytes=max_bytes)
            if member.kind == "xlsx":
                if limits is not None:
                    check_expansion(target, name, "xlsx", limits)
                report.container = "xlsx"
                return _inspect_xlsx(target, report, kind, column_map)
            report.container = "parquet"
            header = parquet_header(target, name)
    report.columns = list(header)
    spec, mapping = recognise(header, kind, name=name, column_map=column_map)
    report.format, report.format_label, report.mapping = spec.kind, spec.label, mapping
    return report


def _checked_size(path: Path, name: str) -> int:
    """The file's size; refused when missing, empty or over ``config.max_import_bytes()``
    (no limit unless ``ESS_DIAG_MAX_IMPORT_MB`` sets one: national files are accepted)."""
    if not path.exists():
        raise FileRejected(
            f"Le fichier « {name} » est introuvable ({path}).", code=Reason.NOT_FOUND, file=name
        )
    size = path.stat().st_size
    limit = config.max_import_bytes()
    if limit is not None and size > limit:
        raise FileRejected(
            f"Le fichier « {name} » pèse {fmt_size(size)}, au-delà de la limite de "
            f"{fmt_size(limit)} fixée pour un import (réglage ESS_DIAG_MAX_IMPORT_MB). "
            "Découpez-le (par exemple par département) ou relevez la limite.",
            code=Reason.TOO_LARGE,
            file=name,
        )
    if size == 0:
        raise FileRejected(f"Le fichier « {name} » est vide.", code=Reason.EMPTY, file=name)
    return size


def _check_xlsx_extension(path: Path, name: str) -> None:
    """A zip is taken as a workbook only when it is named like one (a renamed .csv is not)."""
    suffixes = [s.lower() for s in path.suffixes] or [Path(name).suffix.lower()]
    # A workbook named .zip is still a workbook (it is one by content); a .csv is not.
    if not {".xlsx", ".xlsm", ".zip"} & set(suffixes) and not name.lower().endswith(
        (".xlsx", ".xlsm", ".zip")
    ):
        raise FileRejected(
            f"Le fichier « {name} » est en réalité un classeur Excel (xlsx) renommé, pas un "
            "fichier CSV. Enregistrez-le au format CSV depuis le tableur, ou importez-le "
            "avec l'extension .xlsx.",
            code=Reason.RENAMED_XLSX,
            file=name,
        )


def _inspect_xlsx(
    path: Path, report: FileReport, kind: str | None, column_map: dict[str, str] | None = None
) -> FileReport:
    """Find the header row (the first of the first 30 rows that matches a format)."""
    last_error: FileRejected | None = None
    for idx, header in enumerate(xlsx_rows(read_xlsx(path, report.name, nrows=30))):
        if not any(header):
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
    raise last_error or FileRejected(
        f"Le classeur « {report.name} » est vide.", code=Reason.EMPTY, file=report.name
    )


def preview(
    path: str | os.PathLike,
    *,
    name: str | None = None,
    kind: str | None = None,
    rows: int = 5,
    column_map: dict[str, str] | None = None,
    limits: UploadLimits | None = None,
) -> tuple[FileReport, pd.DataFrame]:
    """The detected format and the first ``rows`` rows (recognised columns, canonical names).

    Reads only what it shows: a CSV's first rows, an xlsx sheet's first rows (streamed)."""
    report = inspect_file(path, name=name, kind=kind, column_map=column_map, limits=limits)
    con = duckdb.connect(":memory:")
    try:
        with tempfile.TemporaryDirectory(prefix="essdiag-preview-") as tmp:
            stage(con, report, "_preview", Path(tmp), limit=rows)
            columns = ", ".join(
                store.quote_identifier(c) for c in formats()[report.known_format].columns
            )
            frame = con.execute(f"SELECT {columns} FROM _preview").df()  # noqa: S608
    finally:
        con.close()
    return report, frame
