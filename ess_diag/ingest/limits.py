"""Limits on what a file sent through the browser may expand to.

A file uploaded from the import page is bounded by Streamlit's ``server.maxUploadSize``, but
that bounds the bytes sent, not what they expand to: a 233 KB ``.gz`` can hold 3 million rows
(a "zip bomb"). For such files the import checks, **before** DuckDB reads them:

- a gzip stream is decompressed once, counting, and refused as soon as it exceeds
  ``max_bytes`` or ``max_ratio`` times its compressed size (real CSV files compress 5–15 times;
  a bomb, hundreds or thousands of times);
- an xlsx workbook's members are refused on their declared sizes (same two limits);
- a zip archive (INSEE's national files) on the declared size of the member read, then again
  while it is decompressed (declared sizes can lie: :func:`~.sniff.extract_member` stops as
  soon as the real bytes exceed the limit);
- a file's rows are staged with ``LIMIT max_rows + 1`` and refused when there are more.

Files given by path (the CLI, the import folder) are not limited: national SIRENE files are
meant to go that way (what such an import keeps is bounded instead: the ESS perimeter, see
:mod:`.sirene`; and its memory by DuckDB's ``memory_limit``, :func:`ess_diag.config.import_memory_limit`).
"""

from __future__ import annotations

import gzip
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..formatting import fmt_int
from .errors import FileRejected, Reason
from .sniff import expansion_refusal, zip_member

__all__ = ["UploadLimits", "check_expansion", "expansion_refusal", "too_many_rows"]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class UploadLimits:
    """What one uploaded file may hold once decompressed."""

    max_bytes: int = 1024 * 1024 * 1024
    max_ratio: float = 100.0
    max_rows: int = 5_000_000

    @classmethod
    def from_environment(cls) -> UploadLimits:
        """``ESS_DIAG_UPLOAD_MAX_MB`` (decompressed, default 1 024) and
        ``ESS_DIAG_UPLOAD_MAX_ROWS`` (default 5 000 000): a large département's SIRENE stock
        fits; the national files go through the import folder or the command line."""
        return cls(
            max_bytes=int(float(os.environ.get("ESS_DIAG_UPLOAD_MAX_MB", "1024")) * 1024 * 1024),
            max_rows=int(os.environ.get("ESS_DIAG_UPLOAD_MAX_ROWS", "5000000")),
        )

    def bytes_allowed(self, compressed: int) -> int:
        return int(min(self.max_bytes, max(compressed, 1) * self.max_ratio))


def check_expansion(path: Path, name: str, container: str, limits: UploadLimits) -> None:
    """Refuse a gzip or xlsx file that expands beyond the limits (nothing is kept in memory:
    a gzip stream is read and dropped chunk by chunk)."""
    compressed = path.stat().st_size
    allowed = limits.bytes_allowed(compressed)
    if container == "gzip":
        total = 0
        try:
            with gzip.open(path, "rb") as stream:
                while chunk := stream.read(_CHUNK):
                    total += len(chunk)
                    if total > allowed:
                        raise expansion_refusal(name, compressed, allowed)
        except (EOFError, OSError, zlib.error):
            return  # a damaged stream is reported by the reader, with its own message
    elif container == "xlsx":
        try:
            with zipfile.ZipFile(path) as archive:
                declared = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
            return  # not a readable workbook: the reader refuses it with its own message
        if declared > allowed:
            raise expansion_refusal(name, compressed, allowed)
    elif container == "zip":
        try:
            member = zip_member(path, name)
        except FileRejected:
            return  # the reader refuses it with its own message
        if member.size > allowed:
            raise expansion_refusal(name, compressed, allowed)
    elif container == "parquet":
        # Column chunks can hold a dictionary-encoded value repeated millions of times.
        try:
            found = duckdb.execute(
                "SELECT coalesce(sum(total_uncompressed_size), 0) FROM parquet_metadata(?)",
                [str(path)],
            ).fetchone()
        except duckdb.Error:
            return  # unreadable: the reader refuses it
        if found is not None and int(found[0]) > allowed:
            raise expansion_refusal(name, compressed, allowed)


def too_many_rows(name: str, limits: UploadLimits) -> FileRejected:
    """The refusal of a file holding more than ``limits.max_rows`` rows."""
    return FileRejected(
        f"Le fichier « {name} » contient plus de {fmt_int(limits.max_rows)} lignes"
        " : c'est plus qu'un fichier envoyé par le navigateur ne peut contenir. Déposez-le "
        "dans le dossier d'import ou importez-le avec « ess-diag import ». Rien n'a été écrit "
        "dans la base.",
        code=Reason.TOO_MANY_ROWS,
        file=name,
    )
