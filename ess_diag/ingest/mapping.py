"""Column mapping: when a file's headers differ from what a format expects, the user says which
column is which; the choice is remembered (table ``column_mappings``) for the next file with
the same headers, in the app and in ``ess-diag import``.

A mapping is ``{canonical column of the format: header as in the file}``; it completes what
the format recognises by itself (:meth:`FormatSpec.match`). Files are matched by the
*signature* of their headers: the normalised headers in order (case, accents, spaces and
punctuation ignored), so the same export re-downloaded next year is recognised.

API::

    headers = read_headers(path)                     # the file's columns, as written
    suggest("urssaf_commune_ape", headers)           # {canonical: header or None}
    remember(con, kind, headers, mapping)            # after the user's choice
    recall(con, headers) -> (kind, mapping) | None   # used by run.run_import
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import duckdb
import pandas as pd

from .errors import FileRejected, Reason
from .registry import formats, normalize_header
from .sniff import (
    container_of,
    extract_member,
    parquet_header,
    read_xlsx,
    sniff_csv,
    xlsx_rows,
    zip_member,
)

__all__ = [
    "signature",
    "read_headers",
    "suggest",
    "validate",
    "remember",
    "recall",
    "forget",
    "list_mappings",
]


def signature(headers: list[str]) -> str:
    """sha256 of the normalised headers, in order (empty headers kept as positions)."""
    norm = [normalize_header(h) for h in headers]
    return hashlib.sha256(json.dumps(norm).encode("utf-8")).hexdigest()


def read_headers(path: str | os.PathLike, name: str | None = None) -> list[str]:
    """The columns of a CSV (plain or gzip), a Parquet file or an xlsx sheet (the first row
    among the first 30 that has the most filled cells: title rows are skipped), as written in
    the file.

    Raises :class:`FileRejected` (French, with a reason code) for an empty, binary or
    unreadable file.
    """
    path = Path(path)
    name = name or path.name
    container = container_of(path)
    if container == "empty":
        raise FileRejected(f"Le fichier « {name} » est vide.", code=Reason.EMPTY, file=name)
    if container == "xlsx":
        best: list[str] = []
        for row in xlsx_rows(read_xlsx(path, name, nrows=30)):
            if sum(1 for v in row if v) > sum(1 for v in best if v):
                best = row
        while best and not best[-1]:
            best.pop()
        return best
    if container == "parquet":
        return parquet_header(path, name)
    if container == "zip":  # a CSV inside an archive (INSEE's national files)
        member = zip_member(path, name)
        if member.kind not in ("text", "gzip"):
            with tempfile.TemporaryDirectory(prefix="essdiag-zip-") as tmp:
                target = Path(tmp) / ("m.xlsx" if member.kind == "xlsx" else "m.parquet")
                extract_member(path, member.name, target, name=name)
                return read_headers(target, name)
        compressed = member.kind == "gzip"
        return sniff_csv(path, name, compressed=compressed, member=member.name).header
    return sniff_csv(path, name, compressed=container == "gzip").header


def suggest(kind: str, headers: list[str]) -> dict[str, str | None]:
    """For each column of format ``kind``: the header the format recognises by itself, else
    the most similar unused header (normalised spelling, similarity ≥ 0.6), else None."""
    spec = formats()[kind]
    found, _missing = spec.match(headers)
    used = set(found.values())
    out: dict[str, str | None] = {}
    norm_headers = {normalize_header(h): h for h in headers if h}
    for canonical in spec.columns:
        if canonical in found:
            out[canonical] = found[canonical]
            continue
        candidates = [n for n, h in norm_headers.items() if h not in used]
        close = difflib.get_close_matches(normalize_header(canonical), candidates, n=1, cutoff=0.6)
        out[canonical] = norm_headers[close[0]] if close else None
        if close:
            used.add(norm_headers[close[0]])
    return out


def validate(kind: str, headers: list[str], mapping: Mapping[str, str | None]) -> dict[str, str]:
    """The usable part of a user's mapping (columns of the format → existing headers, each
    header used once); raises ``ValueError`` (French) when a required column is not given."""
    spec = formats()[kind]
    clean: dict[str, str] = {}
    seen: dict[str, str] = {}
    for canonical, header in mapping.items():
        if not header or canonical not in spec.columns:
            continue
        if header not in headers:
            raise ValueError(f"La colonne « {header} » n'existe pas dans le fichier.")
        if header in seen:
            raise ValueError(
                f"La colonne « {header} » est choisie deux fois (pour « {seen[header]} » et "
                f"« {canonical} »)."
            )
        seen[header] = canonical
        clean[canonical] = header
    missing = [c for c in spec.required if c not in clean]
    if missing:
        raise ValueError(
            f"Indiquez la colonne du fichier qui correspond à : {', '.join(missing)} "
            f"(format « {spec.label} »)."
        )
    return clean


def remember(
    con: duckdb.DuckDBPyConnection, kind: str, headers: list[str], mapping: Mapping[str, str | None]
) -> str:
    """Store the choice for files with these headers (replacing an earlier one); returns the
    signature."""
    clean = validate(kind, headers, mapping)
    sig = signature(headers)
    now = dt.datetime.now()
    con.execute(
        "INSERT OR REPLACE INTO column_mappings (signature, kind, headers, mapping, created_at, "
        "used_at) VALUES (?, ?, ?, ?, ?, NULL)",
        [sig, kind, json.dumps(headers, ensure_ascii=False), json.dumps(clean), now],
    )
    return sig


def recall(con: duckdb.DuckDBPyConnection, headers: list[str]) -> tuple[str, dict] | None:
    """The remembered ``(kind, mapping)`` for these headers, or None."""
    if not formats():
        return None
    rows = (
        con.cursor()
        .execute(
            "SELECT kind, mapping, headers FROM column_mappings WHERE signature = ?",
            [signature(headers)],
        )
        .fetchall()
    )
    if not rows or rows[0][0] not in formats():
        return None
    kind, stored_mapping, stored_headers = (
        rows[0][0],
        json.loads(rows[0][1]),
        json.loads(rows[0][2]),
    )
    # Same signature = same normalised headers at the same positions: spell the choice with
    # this file's headers ("COMMUNE INSEE" for "Commune INSEE").
    by_position = dict(zip(stored_headers, headers, strict=False))
    return kind, {c: by_position.get(h, h) for c, h in stored_mapping.items()}


def forget(con: duckdb.DuckDBPyConnection, sig: str) -> None:
    con.execute("DELETE FROM column_mappings WHERE signature = ?", [sig])


def list_mappings(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Remembered mappings, most recent first."""
    return (
        con.cursor()
        .execute(
            "SELECT signature, kind, headers, mapping, created_at FROM column_mappings "
            "ORDER BY created_at DESC"
        )
        .df()
    )
