"""The ESS wage bill (``masse_salariale`` of URSSAF and observatoire files), by the jobs-source
rule of :mod:`ess_diag.indicators`.

For a year whose ESS figures come from commune rows (the territory fully covered by commune
statistics), the sum of the communes' ``masse_salariale`` rows; for a year whose figures come
from a row at the territory's own level, that row's ``masse_salariale``; otherwise None — the
wage bill is never estimated from SIRENE. Read by :mod:`ess_diag.evaluation` (its series) and
:mod:`ess_diag.plan` (an action may follow it).
"""

from __future__ import annotations

import duckdb

from . import indicators

__all__ = ["wage_bill", "wage_bill_series"]

# --- wage bill --------------------------------------------------------------------------------

_ORIGINS_SQL = """
SELECT year, list(origin) FROM derived_ess
WHERE level = ? AND code = ? AND family IS NULL AND sector IS NULL
GROUP BY year ORDER BY year
"""

_WAGE_COMMUNES_SQL = """
SELECT s.year, sum(s.value) FROM ess_stats s
JOIN territory_communes m ON m.commune_code = s.code
WHERE m.level = ? AND m.code = ? AND s.level = 'commune' AND s.measure = 'masse_salariale'
  AND s.family IS NULL AND s.sector IS NULL
GROUP BY s.year
"""

_WAGE_DIRECT_SQL = """
SELECT year, sum(value) FROM ess_stats
WHERE level = ? AND code = ? AND measure = 'masse_salariale'
  AND family IS NULL AND sector IS NULL
GROUP BY year
"""


def wage_bill_series(
    con: duckdb.DuckDBPyConnection, level: str, code: str
) -> list[tuple[int, float | None]]:
    """``[(year, wage bill in euros or None)]`` for every year with ESS statistics of the
    territory, by the jobs-source rule (see the module docstring)."""
    info = indicators.territory_info(con, level, code)  # the derived tables are fresh after it
    pair = [info["level"], info["code"]]
    cur = con.cursor()
    try:
        origins = {int(y): set(o) for y, o in cur.execute(_ORIGINS_SQL, pair).fetchall()}
        if info["level"] == "commune":
            communes = dict(cur.execute(_WAGE_DIRECT_SQL, pair).fetchall())
        else:
            communes = dict(cur.execute(_WAGE_COMMUNES_SQL, pair).fetchall())
        direct = dict(cur.execute(_WAGE_DIRECT_SQL, pair).fetchall())
    finally:
        cur.close()
    out = []
    for year, found in origins.items():
        if "communes" in found:
            value = communes.get(year)
        else:
            value = direct.get(year)
        out.append((year, None if value is None else float(value)))
    return out


def wage_bill(
    con: duckdb.DuckDBPyConnection, level: str, code: str, year: int | None
) -> float | None:
    """The ESS wage bill (euros) of a territory for ``year``; None when not imported."""
    for y, value in wage_bill_series(con, level, code):
        if y == year:
            return value
    return None
