"""The SQL side of the indicators: bound queries over the ``derived_*`` tables (see
:mod:`ess_diag.derived`), one territory or every territory of a level alike, returning the
blocks that :mod:`.rules` turns into figures. No figure is computed here.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import duckdb

from .. import derived, store
from ..vocabulary import FRANCE_CODE, LEVEL_LABELS_LOWER, LEVELS, PARENT_LEVELS
from . import rules, types

Pair = tuple[str, str]


class IndicatorError(ValueError):
    """A bad request (unknown level or territory), explained in French."""


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence = ()) -> list[tuple]:
    # A cursor per query: safe with Streamlit threads sharing the process connection.
    return con.cursor().execute(sql, list(params)).fetchall()


def check_level(level: str) -> None:
    if level not in LEVELS:
        raise IndicatorError(f"Niveau inconnu : « {level} » (attendu : {', '.join(LEVELS)}).")


# --------------------------------------------------------------------------- the request
@dataclass
class State:
    """One request: the years loaded, the year asked (or the default), demo flag, actors."""

    con: duckdb.DuckDBPyConnection
    years: list[int]
    ess_years: set[int]
    private_years: set[int]
    demo: bool
    has_actors: bool
    year: int | None = None
    infos: dict = field(default_factory=dict)


def default_of(years: list[int], ess_years: set[int], private_years: set[int]) -> int | None:
    """The latest year having both ESS statistics and private employment, else the latest."""
    both = [y for y in years if y in ess_years and y in private_years]
    return both[-1] if both else (years[-1] if years else None)


#: One refresh at a time in this process: Streamlit's threads share one connection.
_REFRESH_LOCK = threading.Lock()


def _refresh(con: duckdb.DuckDBPyConnection) -> tuple:
    """Derived tables missing or written for another data version or layout (a writer that did
    not call ``derived.refresh``, an older version of ESS Diag) are rewritten now when the base
    is writable — never read stale — and the fresh state row returned."""
    with _REFRESH_LOCK:
        cur = con.cursor()
        try:
            found = _state_row(cur)  # another thread may have refreshed meanwhile
            if found is not None:
                return found
            if rows(cur, "SELECT readonly FROM duckdb_databases() "
                         "WHERE database_name = current_database()")[0][0]:  # fmt: skip
                raise IndicatorError(
                    "Les tables dérivées de la base ne sont pas à jour et la base est ouverte "
                    "en lecture seule : relancez l'import ou ouvrez la base en écriture."
                )
            with store.transaction(cur):
                derived.refresh(cur)
            found = _state_row(cur)
            assert found is not None, "derived tables written but still stale"
            return found
        finally:
            cur.close()


_STATE_SQL = """
SELECT coalesce(list(year ORDER BY year), []), coalesce(list(year) FILTER (has_ess), []),
       coalesce(list(year) FILTER (has_private), []),
       (SELECT value = '1' FROM meta WHERE key = 'demo'),
       EXISTS (SELECT 1 FROM actors WHERE is_ess),
       (SELECT ? || ':' || coalesce(max(value) FILTER (key = 'data_version'), '0')
               = max(value) FILTER (key = 'derived_data_version') FROM meta)
FROM derived_years
"""


def _state_row(con: duckdb.DuckDBPyConnection) -> tuple | None:
    """The state query's row; None when the derived tables are missing or stale."""
    try:
        found = rows(con, _STATE_SQL, [derived.LAYOUT])[0]
    except duckdb.CatalogException:  # a base from before the derived tables
        return None
    return found if found[5] else None


def state(con: duckdb.DuckDBPyConnection, year: int | None = None) -> State:
    found = _state_row(con)
    if found is None:
        found = _refresh(con)
    years, ess, private, demo, actors, _ = found
    st = State(con, [int(y) for y in years], set(ess), set(private), bool(demo), bool(actors))
    st.year = default_of(st.years, st.ess_years, st.private_years) if year is None else int(year)
    return st


# --------------------------------------------------------------------------- territories
_INFO_COLUMNS = (
    "level", "code", "name", "population", "density", "epci_code", "departement_code",
    "region_code", "communes", "grid_communes", "rural_communes", "commune_population",
    "rural_population",
)  # fmt: skip
_INFO_SQL = f"SELECT {', '.join(_INFO_COLUMNS)} FROM derived_territory t"


def _info_row(row: tuple) -> dict:
    info = dict(zip(_INFO_COLUMNS, row, strict=True))
    info["population"] = None if info["population"] is None else int(info["population"])
    info["geo"] = {
        "communes": info.pop("communes") or 0,
        "grid_communes": info.pop("grid_communes") or 0,
        "rural_communes": info.pop("rural_communes") or 0,
        "population": info.pop("commune_population") or 0.0,
        "rural_population": info.pop("rural_population") or 0.0,
    }
    return info


def infos(st: State, pairs: Iterable[Pair]) -> dict[Pair, dict]:
    """Territory rows (name, population, density, parents, communes) of known pairs."""
    wanted = [p for p in dict.fromkeys(pairs) if p not in st.infos]
    if wanted:
        where, params = _pairs_filter("t.", wanted)
        for row in rows(st.con, _INFO_SQL + " WHERE " + where, params):
            st.infos[(row[0], row[1])] = _info_row(row)
    return {p: st.infos[p] for p in pairs if p in st.infos}


def territory(st: State, level: str, code: str) -> dict:
    """The territory asked for; a commune déléguée/associée or a municipal arrondissement
    stands for its commune. Raises :class:`IndicatorError`."""
    check_level(level)
    code = str(code).strip()
    info = infos(st, [(level, code)]).get((level, code))
    if info is None and level == "commune":
        alias = rows(st.con, "SELECT commune_code FROM commune_aliases WHERE code = ?", [code])
        if alias:
            info = infos(st, [(level, alias[0][0])]).get((level, alias[0][0]))
    if info is None:
        raise IndicatorError(
            f"Territoire inconnu : {LEVEL_LABELS_LOWER[level]} « {code} ». Vérifiez le niveau et "
            "le code (un code de département et un code de région peuvent se ressembler)."
        )
    return info


def parent_pairs(info: dict) -> list[Pair]:
    out = []
    for parent in PARENT_LEVELS[info["level"]]:
        if parent == "france":
            out.append(("france", FRANCE_CODE))
        elif info.get(f"{parent}_code"):
            out.append((parent, info[f"{parent}_code"]))
    return out


def _pairs_filter(prefix: str, pairs: Sequence[Pair]) -> tuple[str, list]:
    """``level IN (…) AND code IN (…)`` (a filter the scans can use); exact pairs are kept by
    the caller."""
    levels = sorted({p[0] for p in pairs})
    codes = sorted({p[1] for p in pairs})
    # The BETWEEN lets the scan skip the blocks outside the codes' range (the tables are sorted
    # by level and code: a département's communes are one stretch of the commune rows).
    sql = (
        f"{prefix}level IN ({', '.join('?' * len(levels))}) "
        f"AND {prefix}code BETWEEN ? AND ? "
        f"AND {prefix}code IN ({', '.join('?' * len(codes))})"
    )
    return sql, [*levels, codes[0], codes[-1], *codes]


# --------------------------------------------------------------------------- blocks
# One query for every table a block reads: ESS statistics, the estimate, private jobs and the
# sources, for a set of territories (or a whole level) and one year (or every year).
_BLOCK_SQL = """
SELECT 'ess', level, code, year, origin, family, sector, establishments, jobs, women,
       jobs_rural, communes_present, population_present, NULL
FROM derived_ess WHERE {where} AND (({year} AND {detail}) OR {series} AND family IS NULL
                                    AND sector IS NULL)
UNION ALL
SELECT 'estimate', level, code, NULL, 'estimation', family, sector, establishments, jobs, NULL,
       jobs_rural, communes_present, population_present, NULL
FROM derived_estimate WHERE {where} AND {estimate} AND {detail}
UNION ALL
SELECT 'private', level, code, year, NULL, NULL, sector, NULL, jobs, NULL, jobs_rural, NULL,
       NULL, NULL
FROM derived_private WHERE {where} AND (({year} AND {private_detail}) OR {series}
                                        AND sector IS NULL)
UNION ALL
SELECT 'private', 'commune', commune_code, year, NULL, NULL, sector, NULL, sum(jobs), NULL, 0,
       NULL, NULL, NULL
FROM private_employment WHERE {commune_where} AND {year} GROUP BY ALL
UNION ALL
SELECT 'sources', level, code, year, origin, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       source
FROM derived_sources WHERE {where} AND ({year} OR year IS NULL OR {series})
"""


def fetch(st: State, pairs: Sequence[Pair] | None = None, level: str | None = None,
          detail: str = "", series: Pair | None = None) -> dict:  # fmt: skip
    """Rows of ``pairs`` (or of every territory of ``level``) for the year: ``{pair: {"ess":
    {(origin, year): block}, "estimate": {…}, "private": {year: …}, "sources": {…}}}``, plus
    the totals of every year for the ``series`` pair (evolution) — one query.

    ``detail``: ``""`` (totals), ``"sector"`` or ``"all"`` (families and sectors)."""
    if pairs is not None:
        where, wparams = _pairs_filter("", pairs)
        communes = sorted({c for lv, c in pairs if lv == "commune"}) if detail == "all" else []
    else:
        where, wparams, communes = "level = ?", [level], []
    commune_where = f"commune_code IN ({', '.join('?' * len(communes))})" if communes else "false"
    year_sql, yparams = "year = ?", [st.year]
    series_sql, sparams = ("(level = ? AND code = ?)", list(series)) if series else ("false", [])
    detail_sql = {
        "": "family IS NULL AND sector IS NULL",
        "sector": "family IS NULL",
        "all": "true",
    }[detail]
    sql = _BLOCK_SQL.format(
        where=where,
        year=year_sql,
        detail=detail_sql,
        estimate="true" if st.has_actors else "false",
        private_detail="true" if detail == "all" else "sector IS NULL",
        commune_where=commune_where,
        series=series_sql,
    )
    params = [*wparams, *yparams, *sparams, *wparams, *wparams, *yparams, *sparams, *communes,
              *yparams, *wparams, *yparams, *sparams]  # fmt: skip
    out: dict = {}
    for kind, lvl, code, year, origin, family, sector, e, j, w, jr, n, p, src in rows(
        st.con, sql, params
    ):
        entry = out.setdefault((lvl, code), {"ess": {}, "estimate": {}, "private": {},
                                             "sources": {}})  # fmt: skip
        if kind == "sources":
            entry["sources"].setdefault((origin, year), set()).add(src)
        elif kind == "private":
            per = entry["private"].setdefault(year, {"total": 0.0, "rural": 0.0, "sector": {}})
            if sector is None:
                per["total"], per["rural"] = j, jr
            else:
                per["sector"][sector] = per["sector"].get(sector, 0.0) + j
                rural = per.setdefault("sector_rural", {})
                rural[sector] = rural.get(sector, 0.0) + (jr or 0.0)
        else:
            target = entry["estimate"] if kind == "estimate" else entry["ess"]
            block = target.setdefault((origin, year), rules.empty_block(origin))
            vals = {"etablissements": e, "effectifs": j, "communes_present": n,
                    "population_present": p}  # fmt: skip
            if family is None and sector is None:
                block["totals"] = {**vals, "jobs_rural": jr}
                if w is not None:
                    block["totals"]["effectifs_femmes"] = w
            elif sector is None:
                block["family"][family] = vals
            elif family is None:
                block["sector"][sector] = {**vals, "jobs_rural": jr}
    return out


def block_of(st: State, entry: dict | None, year: int | None, estimate: bool = True) -> dict:
    """The jobs-source rule: commune statistics (the territory fully covered), else the
    territory's own row, else the SIRENE estimate (unless ``estimate`` is false: series), else
    nothing."""
    entry = entry or {"ess": {}, "estimate": {}, "sources": {}}
    for origin in ("communes", "direct"):
        block = entry["ess"].get((origin, year))
        if block is not None and year is not None and block["totals"]:
            block["sources"] = entry["sources"].get((origin, year), set())
            return block
    if not st.has_actors or not estimate:
        return rules.empty_block()
    block = entry["estimate"].get(("estimation", None))
    if block is None or not block["totals"]:
        block = rules.empty_block("estimation")
        block["totals"] = {"etablissements": 0.0, "effectifs": 0.0, "jobs_rural": 0.0}
    block["sources"] = entry["sources"].get(("estimate", None), set())
    return block


def private_of(st: State, entry: dict | None, year: int | None) -> dict | None:
    """Private jobs of the year (``total``, ``rural``, ``sector``), None when none are loaded."""
    if year is None or year not in st.private_years:
        return None
    return (entry or {}).get("private", {}).get(year) or {"total": 0.0, "rural": 0.0,
                                                          "sector": {}}  # fmt: skip


# --------------------------------------------------------------------------- other queries
def members_within(st: State, level: str, within: Pair) -> list[str]:
    """Codes of the territories of ``level`` having a commune in ``within``."""
    return [
        r[0]
        for r in rows(
            st.con,
            "SELECT DISTINCT m.code FROM territory_communes m WHERE m.level = ? AND "
            "m.commune_code IN (SELECT commune_code FROM territory_communes WHERE level = ? "
            "AND code = ?) ORDER BY 1",
            [level, *within],
        )
    ]


def level_infos(st: State, level: str, codes: Sequence[str] | None = None) -> list[dict]:
    """Every territory of ``level`` (or only those of ``codes``), sorted by code."""
    if codes is None:
        where, params = " WHERE t.level = ?", [level]
    elif not codes:
        return []
    else:
        condition, params = _pairs_filter("t.", [(level, c) for c in codes])
        where = " WHERE " + condition
    found = [_info_row(r) for r in rows(st.con, _INFO_SQL + where + " ORDER BY t.code", params)]
    st.infos.update({(i["level"], i["code"]): i for i in found})
    return found


def similar(st: State, info: dict, n: int) -> list[dict]:
    """The ``n`` territories of the level nearest by the z-scores (over the level) of
    ln(population), ln(density) and the rural population share; ties by code."""
    return [
        dict(
            zip(
                (
                    "level",
                    "code",
                    "name",
                    "population",
                    "density",
                    "rural_population_share",
                    "distance",
                ),
                r,
                strict=True,
            )
        )  # fmt: skip
        for r in rows(
            st.con,
            """
            WITH f AS (
                SELECT t.code, t.name, t.population, t.density, ln(t.population) AS lp,
                       ln(t.density) AS ld,
                       CASE WHEN t.commune_population > 0
                            THEN t.rural_population / t.commune_population ELSE 0.0 END AS rs
                FROM derived_territory t WHERE t.level = ? AND t.population > 0 AND t.density > 0
            ), z AS (
                SELECT code, name, population, density, rs,
                       coalesce((lp - avg(lp) OVER ()) / nullif(stddev_pop(lp) OVER (), 0), 0)
                           AS z1,
                       coalesce((ld - avg(ld) OVER ()) / nullif(stddev_pop(ld) OVER (), 0), 0)
                           AS z2,
                       coalesce((rs - avg(rs) OVER ()) / nullif(stddev_pop(rs) OVER (), 0), 0)
                           AS z3
                FROM f
            )
            SELECT ?, z.code, z.name, z.population::BIGINT, z.density, z.rs,
                   sqrt((z.z1 - me.z1) ** 2 + (z.z2 - me.z2) ** 2 + (z.z3 - me.z3) ** 2) AS d
            FROM z, (SELECT * FROM z WHERE code = ?) me
            WHERE z.code <> me.code ORDER BY d, z.code LIMIT ?
            """,
            [info["level"], info["level"], info["code"], n],
        )
    ]


def employers(st: State, pair: Pair, ref_date: dt.date) -> tuple[list[tuple], int, float, float]:
    """Active ESS employer establishments of the territory: the five largest employers (key,
    jobs, establishments, partial diffusion, name — the unité légale's denomination, else the
    first establishment name), the employer count, their jobs and the median age in days at
    ``ref_date`` (None without a creation date)."""
    found = rows(
        st.con,
        "SELECT employer, jobs, establishments, partial, name, employers, total_jobs "
        "FROM derived_employers WHERE level = ? AND code = ? ORDER BY rank",
        pair,
    )
    # The median of the ages of the establishments created by ``ref_date`` (the mean of the two
    # middle ones for an even count), from their counts by creation date.
    (median,) = rows(
        st.con,
        """
        WITH x AS (
            SELECT date_diff('day', date_creation, ?::DATE) AS age, establishments AS n
            FROM derived_creation
            WHERE level = ? AND code = ? AND date_creation <= ?::DATE
        ), c AS (SELECT age, sum(n) OVER (ORDER BY age) AS cum, sum(n) OVER () AS total FROM x)
        SELECT (min(age) FILTER (cum >= (total + 1) // 2) + min(age) FILTER (cum >= total // 2 + 1))
               / 2 FROM c
        """,
        [ref_date, *pair, ref_date],
    )[0]
    if not found:
        return [], 0, 0.0, median
    top = [(k, float(j), int(n), bool(p), name) for k, j, n, p, name, *_ in found]
    return top, int(found[0][5]), float(found[0][6]), median


def lacking_communes(st: State, pair: Pair, origin: str, sector: str) -> list[types.ZoneCommune]:
    """The territory's communes without an ESS employer establishment of ``sector``."""
    table = "derived_estimate" if origin == "estimation" else "derived_ess"
    year_sql = "" if origin == "estimation" else "AND x.year = ? AND x.origin = 'communes'"
    params = [sector] + ([] if origin == "estimation" else [st.year]) + list(pair)
    found = rows(
        st.con,
        f"""
        SELECT c.code, c.name, coalesce(c.population, 0)::BIGINT AS pop
        FROM territory_communes m JOIN territories c ON c.level = 'commune'
             AND c.code = m.commune_code
        WHERE NOT EXISTS (
            SELECT 1 FROM {table} x WHERE x.level = 'commune' AND x.code = m.commune_code
              AND x.sector = ? AND x.family IS NULL AND x.establishments > 0 {year_sql})
          AND m.level = ? AND m.code = ?
        ORDER BY pop DESC, c.code
        """,  # noqa: S608 (fixed table names)
        [*params[:-2], *params[-2:]],
    )
    return [{"code": c, "name": name, "population": int(p)} for c, name, p in found]


def sirene_history(st: State, pair: Pair) -> tuple[list[int], list[tuple]]:
    """The years the loaded SIRENE history covers, and the territory's ESS employer
    establishments on 31 December of each: ``(year, family or None for all, count)`` rows."""
    years = [int(y) for (y,) in rows(st.con, "SELECT year FROM derived_history_years ORDER BY 1")]
    if not years:
        return [], []
    found = rows(
        st.con,
        "SELECT year, family, establishments FROM derived_history "
        "WHERE level = ? AND code = ? ORDER BY year, family NULLS FIRST",
        pair,
    )
    return years, found
