"""The SQL macros every reader may use, created as TEMP macros once per import
(:func:`install`): cleaning of codes (``ess_text``, ``ess_naf``, ``ess_band``, ``ess_commune``,
``ess_dep``, ``ess_norm_name``), numbers as published in France (``ess_fr_number``,
``ess_fr_not_number``, ``ess_fr_secret``…; ``1 234,5``, ``1.234,5``, ``1234.5``, secrecy
markers → NULL, never 0) and the Lambert 93 projection (:mod:`ess_diag.projection`).
"""

from __future__ import annotations

import duckdb

from .. import projection

__all__ = ["SECRET_MARKERS", "SQL_MACROS", "install"]

_CODES = r"""
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
"""

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

_FRENCH_NUMBERS = f"""
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

#: Every macro, in creation order (a macro may use the ones above it).
SQL_MACROS = _CODES + _FRENCH_NUMBERS + projection.SQL_MACROS


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Create the TEMP macros of :data:`SQL_MACROS` on ``con`` (idempotent)."""
    for statement in SQL_MACROS.split(";\n"):
        if statement.strip():
            con.execute(statement)
