"""Validation helpers shared by the statistics, density-grid and actor-template readers.

The SIRENE reader sets bad rows aside; statistics are different: a table with one negative
count, a year that is not a year or the same figure given twice with two values cannot be
trusted as a whole, so those refuse the import (:class:`~.errors.IngestError`, French message
naming the file, the line and the column as the file spells it). Rows that simply do not
belong (unknown commune code, a "hors ESS" line) are set aside and reported instead.

French numbers are read as published: ``1 234,5`` (space, no-break space or narrow no-break
space as thousands separator, decimal comma), ``1.234,5``, ``1234.5``; the usual markers of
statistical secrecy (``s``, ``secret``, ``nd``, ``c``, ``-``…) mean "not published" (NULL),
never 0.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..formatting import fmt_int
from .core import ImportContext
from .errors import IngestError

__all__ = [
    "SQL_MACROS",
    "SECRET_MARKERS",
    "install_macros",
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

#: Cell values meaning "figure not published" (secret statistique, non disponible).
SECRET_MARKERS: tuple[str, ...] = (
    "s",
    "secret",
    "ss",
    "nd",
    "n.d.",
    "n.d",
    "nc",
    "n.c.",
    "c",
    "-",
    "–",
    "—",
    "...",
    "…",
    "/",
    "x",
)

_SPACES = " \u00a0\u202f\u2009\t"
_SECRET_SQL = ", ".join("'" + m.replace("'", "''") + "'" for m in SECRET_MARKERS)

#: TEMP macros (created once per import by :func:`install_macros`).
SQL_MACROS = f"""
CREATE OR REPLACE TEMP MACRO ess_fr_clean(x) AS
    NULLIF(regexp_replace(trim(x), '[{_SPACES}]', '', 'g'), '');
CREATE OR REPLACE TEMP MACRO ess_fr_secret(x) AS
    COALESCE(lower(ess_fr_clean(x)) IN ({_SECRET_SQL}), false);
-- Fast path first: most cells are plain numbers (CASE is evaluated lazily by DuckDB).
CREATE OR REPLACE TEMP MACRO ess_finite(v) AS CASE WHEN isfinite(v) THEN v END;
CREATE OR REPLACE TEMP MACRO ess_fr_parse(x) AS ess_finite(
    CASE WHEN ess_fr_secret(x) THEN NULL
         WHEN contains(ess_fr_clean(x), ',') AND contains(ess_fr_clean(x), '.')
           THEN TRY_CAST(replace(replace(ess_fr_clean(x), '.', ''), ',', '.') AS DOUBLE)
         ELSE TRY_CAST(replace(ess_fr_clean(x), ',', '.') AS DOUBLE) END);
CREATE OR REPLACE TEMP MACRO ess_fr_number(x) AS
    CASE WHEN x IS NULL THEN NULL
         WHEN isfinite(TRY_CAST(x AS DOUBLE)) THEN TRY_CAST(x AS DOUBLE)
         ELSE ess_fr_parse(x) END;
-- A cell that holds something that is neither a number nor a secrecy marker.
CREATE OR REPLACE TEMP MACRO ess_fr_not_number(x) AS
    CASE WHEN x IS NULL THEN false
         WHEN isfinite(TRY_CAST(x AS DOUBLE)) THEN false
         ELSE ess_fr_clean(x) IS NOT NULL AND NOT ess_fr_secret(x) AND ess_fr_parse(x) IS NULL
    END;
-- Lower case, no accents, every run of other characters → one space ("Saint-Étienne" →
-- "saint etienne"); "St"/"Ste" spelled out, as lists often abbreviate them.
CREATE OR REPLACE TEMP MACRO ess_norm_name(x) AS
    NULLIF(trim(regexp_replace(regexp_replace(regexp_replace(
        ' ' || regexp_replace(lower(strip_accents(COALESCE(x, ''))), '[^a-z0-9]+', ' ', 'g') || ' ',
        ' st ', ' saint ', 'g'), ' ste ', ' sainte ', 'g'), ' +', ' ', 'g')), '');
-- Département code as INSEE writes it: 1 → 01, 2a → 2A.
CREATE OR REPLACE TEMP MACRO ess_dep(x) AS
    CASE WHEN regexp_full_match(trim(x), '[0-9]') THEN '0' || trim(x)
         WHEN regexp_full_match(trim(x), '[0-9]\\.0') THEN '0' || left(trim(x), 1)
         WHEN regexp_full_match(trim(x), '[0-9]+\\.0') THEN regexp_replace(trim(x), '\\.0$', '')
         ELSE NULLIF(upper(trim(x)), '') END;
"""


def install_macros(ctx: ImportContext) -> None:
    """Create the TEMP macros above on the import's connection."""
    for statement in SQL_MACROS.split(";\n"):
        if statement.strip():
            ctx.con.execute(statement)


def _staged(ctx: ImportContext, index: int):
    return ctx._staged[index]  # noqa: SLF001 — same package: the core's staged file


def header_of(ctx: ImportContext, index: int, canonical: str) -> str:
    """The column name as the file spells it (falls back to the canonical name)."""
    return _staged(ctx, index).report.mapping.get(canonical, canonical)


def line_of(ctx: ImportContext, index: int, row: int) -> int:
    """The file line (or Excel row) of a staged row number."""
    return _staged(ctx, index).line_of(int(row))


def where_text(ctx: ImportContext, index: int, row: int, column: str | None = None) -> str:
    """« Fichier « x.csv », ligne 12, colonne « Effectifs 2021 » » (French, for messages)."""
    staged = _staged(ctx, index)
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
        message + ".", file=ctx.file_name(file_idx), row=line_of(ctx, file_idx, row), column=column
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
