"""Validation helpers shared by the statistics, density-grid and actor-template readers.

The SIRENE reader sets bad rows aside; statistics are different: a table with one negative
count, a year that is not a year or the same figure given twice with two values cannot be
trusted as a whole, so those refuse the import (:class:`~.errors.IngestError`, French message
naming the file, the line and the column as the file spells it). Rows that simply do not
belong (unknown commune code, a "hors ESS" line) are set aside and reported instead.

French numbers are read as published by the SQL macros of :mod:`.macros` (``ess_fr_number``:
``1 234,5``, ``1.234,5``, ``1234.5``; secrecy markers mean "not published", NULL, never 0).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..formatting import fmt_int
from .context import ImportContext
from .errors import IngestError, Reason

__all__ = [
    "header_of",
    "line_of",
    "where_text",
    "refuse_rows",
    "refuse_conflicts",
    "YEAR_MIN",
    "YEAR_MAX",
    "year_of_header",
    "warn_if_demo",
]

YEAR_MIN = 1990
YEAR_MAX = 2100


def header_of(ctx: ImportContext, index: int, canonical: str) -> str:
    """The column name as the file spells it (falls back to the canonical name)."""
    return ctx.staged_file(index).report.mapping.get(canonical, canonical)


def line_of(ctx: ImportContext, index: int, row: int) -> int:
    """The file line (or Excel row) of a staged row number."""
    return ctx.staged_file(index).line_of(int(row))


def where_text(ctx: ImportContext, index: int, row: int, column: str | None = None) -> str:
    """« Fichier « x.csv », ligne 12, colonne « Effectifs 2021 » » (French, for messages)."""
    staged = ctx.staged_file(index)
    unit = "ligne" if staged.report.container != "xlsx" else "ligne (Excel)"
    text = f"fichier « {staged.report.name} », {unit} {line_of(ctx, index, row)}"
    if column:
        text += f", colonne « {column} »"
    return text


def refuse_rows(
    ctx: ImportContext,
    table: str,
    condition: str,
    *,
    canonical: str | None,
    value: str,
    problem: str,
    column_sql: str | None = None,
) -> None:
    """Raise :class:`IngestError` when rows of ``table`` meet ``condition``.

    ``value`` is an SQL expression shown in the message; ``problem`` a French phrase with
    ``{value}`` (e.g. ``"« {value} » n'est pas un nombre"``). The column named is the file's
    header of ``canonical`` (or the SQL expression ``column_sql`` giving a header per row).
    """
    col_expr = column_sql or "NULL"
    rows = ctx.sql(
        f"SELECT _file, _row, ({value})::VARCHAR, ({col_expr})::VARCHAR FROM {table} "  # noqa: S608
        f"WHERE {condition} ORDER BY _file, _row LIMIT 6"
    )
    if not rows:
        return
    total = int(ctx.scalar(f"SELECT count(*) FROM {table} WHERE {condition}"))  # noqa: S608
    file_idx, row, val, col = rows[0]
    column = col or (header_of(ctx, file_idx, canonical) if canonical else None)
    message = f"Import refusé — {where_text(ctx, file_idx, row, column)} : " + problem.format(
        value=val if val is not None else "vide"
    )
    if total > 1:
        others = ", ".join(str(line_of(ctx, f, r)) for f, r, _v, _c in rows[1:])
        more = "…" if total > len(rows) else ""
        message += f" (et {fmt_int(total - 1)} autre(s) ligne(s) dans ce cas : {others}{more})"
    raise IngestError(
        message + ".",
        code=Reason.INVALID_VALUE,
        file=ctx.file_name(file_idx),
        row=line_of(ctx, file_idx, row),
        column=column,
    )


def refuse_conflicts(
    ctx: ImportContext,
    table: str,
    keys: Sequence[str],
    values: Sequence[str],
    *,
    describe_key: str,
) -> int:
    """Refuse the import when two rows share ``keys`` but differ on ``values`` (both rows are
    cited); returns the number of exact duplicate rows (same keys, same values), which the
    caller drops.

    ``describe_key`` is an SQL expression (over alias ``a``) describing the key in French.
    """
    on = " AND ".join(f"a.{k} IS NOT DISTINCT FROM b.{k}" for k in keys)
    differ = " OR ".join(f"a.{v} IS DISTINCT FROM b.{v}" for v in values)
    part = ", ".join(keys)
    # A hash aggregate finds the (rare) repeated keys first; the self-join only runs on those.
    on_keys = " AND ".join(f"t.{k} IS NOT DISTINCT FROM d.{k}" for k in keys)
    ctx.con.execute(
        f"CREATE OR REPLACE TEMP TABLE _ess_dupkeys AS SELECT t.* FROM {table} t "  # noqa: S608
        f"JOIN (SELECT {part} FROM {table} GROUP BY ALL HAVING count(*) > 1) d ON {on_keys}"
    )
    try:
        rows = ctx.sql(
            f"SELECT a._file, a._row, b._file, b._row, ({describe_key})::VARCHAR "  # noqa: S608
            f"FROM _ess_dupkeys a JOIN _ess_dupkeys b ON {on} "
            f"AND (a._file < b._file OR (a._file = b._file AND a._row < b._row)) "
            f"WHERE {differ} ORDER BY a._file, a._row, b._file, b._row LIMIT 4"
        )
        if rows:
            fa, ra, fb, rb, key = rows[0]
            msg = (
                f"Import refusé — le même chiffre est donné deux fois avec des valeurs "
                f"différentes ({key}) : {where_text(ctx, fa, ra)} et {where_text(ctx, fb, rb)}"
            )
            if len(rows) > 1:
                msg += " (d'autres lignes sont dans ce cas)"
            raise IngestError(
                msg + ". Corrigez le fichier pour qu'il ne reste qu'une ligne.",
                code=Reason.CONFLICT,
                file=ctx.file_name(fa),
                row=line_of(ctx, fa, ra),
            )
        dup = ctx.scalar(
            f"SELECT count(*) - count(DISTINCT ({part})) FROM _ess_dupkeys"  # noqa: S608
        )
        return int(dup or 0)
    finally:
        ctx.con.execute("DROP TABLE IF EXISTS _ess_dupkeys")


_YEAR_TAIL = re.compile(r"^(.*?)(\d{4})$")


def year_of_header(normalized: str, prefixes: Sequence[str]) -> tuple[str, str] | None:
    """For a normalised header starting with one of ``prefixes``, ``(prefix, rest)``; used to
    catch year columns whose year is not a year (``effectifssalaries20x1``)."""
    for prefix in sorted(prefixes, key=len, reverse=True):
        if normalized.startswith(prefix) and len(normalized) > len(prefix):
            return prefix, normalized[len(prefix) :]
    return None


def warn_if_demo(ctx: ImportContext) -> None:
    """Real statistics next to the demo's simulated ones would be summed together: say so."""
    rows = ctx.sql("SELECT value FROM meta WHERE key = 'demo'")
    if rows and rows[0][0] == "1":
        ctx.warn(
            "Des données de démonstration (simulées) sont chargées : les chiffres importés "
            "remplacent les leurs pour les mêmes communes, années et mesures, mais les autres "
            "restent simulés. Retirez-les avec « ess-diag init --empty » pour ne garder que vos "
            "données."
        )
