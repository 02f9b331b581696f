"""Every published figure of the diagnostic, computed from the store with SQL.

Pure functions over a DuckDB connection (no Streamlit, no plotting). Each territory of any
level is aggregated through ``territory_communes`` — one join whatever the level — and every
value reaches SQL as a bound parameter. Definitions, formulas, sources and caveats (in French)
are in ``docs/methodologie.md``; a test checks that every key of :func:`compute` is documented
there.

Conventions of the results (the JSON document of ``ess-diag indicators``):

* counts are ``int``, job figures ``float``, shares between 0 and 1;
* a figure that cannot be computed is ``None`` and its key appears in the ``notes`` dict of the
  same section with a French reason — never a silent 0, never a ``ZeroDivisionError``;
* ``jobs_source`` says where ESS jobs come from: ``"statistiques"`` (imported ``ess_stats``) or
  ``"estimation_sirene"`` (band midpoints of the actors' SIRENE effectif bands).

The jobs-source rule, for a territory T and a year Y (see :func:`key_figures`):

1. **commune statistics** — when every département touched by T has commune-level
   ``ess_stats`` rows for Y, the figures are the sums of those rows over T's communes (a commune
   without a row has no ESS employer in that dataset);
2. otherwise **a row at T's own level** (e.g. an URSSAF département table) for Y;
3. otherwise **the SIRENE estimate**: active ESS employer establishments of ``actors`` (a
   snapshot, whatever Y), jobs = band midpoints.

Public API::

    compute(con, level, code, year=None) -> dict          # the full document
    compute_all(con, level, year=None) -> pandas.DataFrame  # key figures, every territory
    key_figures, by_family, by_sector, rurality, evolution, resilience,
    comparisons, similar_territories, zones_blanches, available_years, default_year
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import duckdb

from . import nomenclatures

if TYPE_CHECKING:  # pandas is imported lazily: the CLI path stays fast to start
    import pandas as pd

__all__ = [
    "JOBS_SOURCE_STATS",
    "JOBS_SOURCE_ESTIMATE",
    "LEVELS",
    "PARENT_LEVELS",
    "DIVERSITY_SECTORS",
    "SIMILARITY_CRITERIA",
    "KEY_FIGURE_COLUMNS",
    "IndicatorError",
    "available_years",
    "default_year",
    "territory_info",
    "key_figures",
    "compute_all",
    "by_family",
    "by_sector",
    "rurality",
    "evolution",
    "resilience",
    "comparisons",
    "similar_territories",
    "zones_blanches",
    "compute",
    "summary_text",
]

JOBS_SOURCE_STATS = "statistiques"
JOBS_SOURCE_ESTIMATE = "estimation_sirene"

LEVELS = ("commune", "epci", "departement", "region", "france")
#: Parent territories shown in comparisons, nearest first (kept equal to geography.PARENT_LEVELS
#: without importing it: the CLI path stays free of shapely).
PARENT_LEVELS = {
    "commune": ("epci", "departement", "region", "france"),
    "epci": ("departement", "region", "france"),
    "departement": ("region", "france"),
    "region": ("france",),
    "france": (),
}
_LEVEL_LABELS = {
    "commune": "commune",
    "epci": "intercommunalité",
    "departement": "département",
    "region": "région",
    "france": "France",
}

#: Sectors entering the diversity index: every ESS sector except "non classé" (an unknown
#: activity is not a sector); the index is normalised by ln(len(DIVERSITY_SECTORS)).
DIVERSITY_SECTORS: tuple[str, ...] = tuple(
    s.key for s in nomenclatures.SECTORS if s.key != "non_classe"
)

SIMILARITY_CRITERIA: tuple[str, ...] = (
    "population (logarithme)",
    "densité de population (logarithme)",
    "part de la population vivant dans une commune rurale",
)

#: Columns of :func:`compute_all` (and of the ``comparisons`` rows), in order.
KEY_FIGURE_COLUMNS: tuple[str, ...] = (
    "level",
    "code",
    "name",
    "population",
    "year",
    "ess_establishments",
    "ess_jobs",
    "private_jobs",
    "non_ess_private_jobs",
    "ess_share_private_jobs",
    "jobs_per_1000_inhabitants",
    "women_share",
    "jobs_source",
)

_MEASURES = ("etablissements", "effectifs", "effectifs_femmes")

# Reasons shown when a figure is not available (French, for the user).
_R_NO_YEAR = "Aucune année de statistiques n'est chargée."
_R_NO_ESS_DATA = (
    "Aucune donnée sur l'ESS n'est chargée pour ce territoire : importez le répertoire SIRENE "
    "ou des statistiques (URSSAF, observatoire)."
)
_R_NO_PRIVATE = (
    "Aucune donnée d'emploi privé (URSSAF commune × APE) n'est chargée pour l'année {year}."
)
_R_ZERO_PRIVATE = (
    "Aucun emploi privé recensé sur ce territoire : la part ne peut pas être calculée."
)
_R_ZERO_POP = "Population inconnue ou nulle."
_R_NO_ESS_JOBS = "Aucun emploi ESS sur ce territoire : la répartition n'a pas de sens."
_R_NO_ESS_ESTAB = "Aucun établissement employeur de l'ESS sur ce territoire."
_R_INCOHERENT = (
    "Les emplois ESS dépassent l'emploi privé total : les deux sources ne sont pas cohérentes "
    "(estimation SIRENE comparée aux données URSSAF, ou années différentes)."
)
_R_WOMEN_ESTIMATE = "Le répertoire SIRENE ne renseigne pas le sexe des salariés."
_R_WOMEN_MISSING = "Les statistiques chargées ne donnent pas les effectifs féminins."
_R_NO_BREAKDOWN = "Les statistiques chargées pour ce territoire ne donnent pas cette répartition."
_R_COMMUNE_DETAIL = (
    "Les statistiques de ce territoire ne sont disponibles qu'à son propre niveau, pas par "
    "commune : la répartition rurale/urbaine ne peut pas être calculée."
)


class IndicatorError(ValueError):
    """A bad request (unknown level or territory), explained in French."""


# --------------------------------------------------------------------------- small helpers
def _ratio(num, den) -> float | None:
    """``num / den`` or None when either is missing or ``den`` is 0."""
    if num is None or den is None:
        return None
    try:
        if math.isnan(num) or math.isnan(den):
            return None
    except TypeError:
        return None
    if den == 0:
        return None
    return float(num) / float(den)


def _f(value) -> float | None:
    if value is None:
        return None
    try:
        if math.isnan(value):
            return None
    except TypeError:
        return None
    return float(value)


def _i(value) -> int | None:
    v = _f(value)
    return None if v is None else int(round(v))


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise IndicatorError(f"Niveau inconnu : « {level} » (attendu : {', '.join(LEVELS)}).")


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence = ()) -> list[tuple]:
    # A cursor per query: safe with Streamlit threads sharing the process connection.
    return con.cursor().execute(sql, list(params)).fetchall()


# --------------------------------------------------------------------------- years, territory
def available_years(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Years with ESS statistics or private-employment data, ascending."""
    rows = _rows(
        con,
        "SELECT DISTINCT year FROM ess_stats UNION SELECT DISTINCT year FROM private_employment "
        "ORDER BY 1",
    )
    return [int(r[0]) for r in rows]


def _years_detail(con: duckdb.DuckDBPyConnection) -> tuple[list[int], set[int], set[int]]:
    """(all years, years having ESS statistics, years having private-employment rows)."""
    rows = _rows(
        con,
        """
        SELECT year, bool_or(k = 'e'), bool_or(k = 'p') FROM (
            SELECT DISTINCT year, 'e' AS k FROM ess_stats
            UNION ALL SELECT DISTINCT year, 'p' AS k FROM private_employment
        ) GROUP BY year ORDER BY year
        """,
    )
    return (
        [int(r[0]) for r in rows],
        {int(r[0]) for r in rows if r[1]},
        {int(r[0]) for r in rows if r[2]},
    )


def default_year(con: duckdb.DuckDBPyConnection) -> int | None:
    """The latest year having both ESS statistics and private employment, else the latest year
    having either, else None."""
    return _pick_default(*_years_detail(con))


def territory_info(con: duckdb.DuckDBPyConnection, level: str, code: str) -> dict:
    """``{level, code, name, population}`` plus the parent codes; raises :class:`IndicatorError`."""
    _check_level(level)
    rows = _rows(
        con,
        "SELECT level, code, name, population, density, epci_code, departement_code, "
        "region_code FROM territories WHERE level = ? AND code = ?",
        [level, str(code)],
    )
    if not rows:
        raise IndicatorError(
            f"Territoire inconnu : {_LEVEL_LABELS[level]} « {code} ». Vérifiez le niveau et le "
            "code (un code de département et un code de région peuvent se ressembler)."
        )
    lvl, cde, name, pop, density, epci, dep, reg = rows[0]
    return {
        "level": lvl,
        "code": cde,
        "name": name,
        "population": None if pop is None else int(pop),
        "density": _f(density),
        "epci_code": epci,
        "departement_code": dep,
        "region_code": reg,
    }


def _public_territory(info: dict) -> dict:
    return {k: info[k] for k in ("level", "code", "name", "population")}


def _parent_pairs(info: dict) -> list[tuple[str, str]]:
    out = []
    for parent in PARENT_LEVELS[info["level"]]:
        if parent == "france":
            out.append(("france", "FR"))
        elif info.get(f"{parent}_code"):
            out.append((parent, info[f"{parent}_code"]))
    return out


# --------------------------------------------------------------------------- core queries
# The requested territories: either a list of (level, code) bound as two arrays, or every
# territory of one level. Two fixed fragments; nothing user-written is ever spliced into SQL.
_REQ_PAIRS = "SELECT unnest(?::VARCHAR[]) AS level, unnest(?::VARCHAR[]) AS code"
_REQ_LEVEL = "SELECT level, code FROM territories WHERE level = ?"


def _req(pairs: Sequence[tuple[str, str]] | None, level: str | None) -> tuple[str, list]:
    if pairs is None:
        return _REQ_LEVEL, [level]
    return _REQ_PAIRS, [[p[0] for p in pairs], [str(p[1]) for p in pairs]]


_ESS_SQL = """
WITH req AS ({req}),
yrs AS (SELECT unnest(?::INTEGER[]) AS year),
tc AS (
    SELECT m.level, m.code, m.commune_code, c.departement_code AS dep
    FROM req r
    JOIN territory_communes m ON m.level = r.level AND m.code = r.code
    JOIN territories c ON c.level = 'commune' AND c.code = m.commune_code
),
-- Départements whose communes carry commune-level rows for a year: a commune-level dataset
-- is taken as exhaustive within each département it covers.
covered AS (
    SELECT DISTINCT s.year, c.departement_code AS dep
    FROM ess_stats s
    JOIN territories c ON c.level = 'commune' AND c.code = s.code
    WHERE s.level = 'commune' AND s.year IN (SELECT year FROM yrs)
      AND s.family IS NULL AND s.sector IS NULL
      AND c.departement_code IN (SELECT DISTINCT dep FROM tc)
),
coverage AS (
    SELECT r.level, r.code, y.year,
           coalesce(bool_and(cv.dep IS NOT NULL), false) AS complete
    FROM req r CROSS JOIN yrs y
    LEFT JOIN tc ON tc.level = r.level AND tc.code = r.code
    LEFT JOIN covered cv ON cv.dep = tc.dep AND cv.year = y.year
    GROUP BY ALL
),
cs AS (
    SELECT s.code AS commune_code, s.year, s.family, s.sector, s.measure, s.value, s.source
    FROM ess_stats s
    WHERE s.level = 'commune' AND s.year IN (SELECT year FROM yrs)
      AND s.code IN (SELECT commune_code FROM tc)
      AND s.measure IN ('etablissements', 'effectifs', 'effectifs_femmes')
      AND (s.family IS NULL OR s.sector IS NULL)
      AND (? OR (s.family IS NULL AND s.sector IS NULL))
),
direct AS (
    SELECT s.level, s.code, s.year, s.family, s.sector, s.measure, s.value, s.source
    FROM ess_stats s JOIN req r ON s.level = r.level AND s.code = r.code
    WHERE s.level <> 'commune' AND s.year IN (SELECT year FROM yrs)
      AND s.measure IN ('etablissements', 'effectifs', 'effectifs_femmes')
      AND (s.family IS NULL OR s.sector IS NULL)
      AND (? OR (s.family IS NULL AND s.sector IS NULL))
),
has_direct AS (
    SELECT DISTINCT level, code, year FROM direct
    WHERE family IS NULL AND sector IS NULL AND measure IN ('etablissements', 'effectifs')
),
choice AS (
    SELECT cv.level, cv.code, cv.year,
           CASE WHEN cv.complete THEN 'communes'
                WHEN hd.year IS NOT NULL THEN 'direct' END AS kind
    FROM coverage cv LEFT JOIN has_direct hd
      ON hd.level = cv.level AND hd.code = cv.code AND hd.year = cv.year
),
vals AS (
    SELECT tc.level, tc.code, cs.year, 'communes' AS kind, cs.family, cs.sector, cs.measure,
           sum(cs.value) AS value, list(DISTINCT cs.source) AS sources
    FROM tc JOIN cs ON cs.commune_code = tc.commune_code
    GROUP BY ALL
    UNION ALL
    SELECT level, code, year, 'direct' AS kind, family, sector, measure,
           sum(value) AS value, list(DISTINCT source) AS sources
    FROM direct GROUP BY ALL
)
SELECT ch.level, ch.code, ch.year, ch.kind, v.family, v.sector, v.measure, v.value, v.sources
FROM choice ch
LEFT JOIN vals v
  ON v.level = ch.level AND v.code = ch.code AND v.year = ch.year AND v.kind = ch.kind
"""

_ESTIMATE_SQL = """
WITH req AS ({req}),
a AS (
    SELECT m.level, m.code, a.family, a.sector, a.jobs, a.source
    FROM req r
    JOIN territory_communes m ON m.level = r.level AND m.code = r.code
    JOIN actors a ON a.commune_code = m.commune_code
    WHERE a.is_ess AND a.active AND a.employer
)
SELECT level, code, family, sector, GROUPING(family, sector) AS g,
       count(*) AS establishments, coalesce(sum(jobs), 0) AS jobs,
       list(DISTINCT source) AS sources
FROM a
GROUP BY GROUPING SETS ((level, code), (level, code, family), (level, code, sector))
"""

_PRIVATE_SQL = """
WITH req AS ({req}),
yrs AS (SELECT unnest(?::INTEGER[]) AS year),
tc AS (
    SELECT m.level, m.code, m.commune_code
    FROM req r JOIN territory_communes m ON m.level = r.level AND m.code = r.code
)
SELECT tc.level, tc.code, p.year, {sector}, sum(p.jobs) AS jobs,
       sum(p.establishments) AS establishments
FROM tc JOIN private_employment p ON p.commune_code = tc.commune_code
WHERE p.year IN (SELECT year FROM yrs)
GROUP BY {groups}
"""
# Totals only, or totals plus the sector breakdown (GROUPING(...) = 1 marks the total rows).
_PRIVATE_TOTALS = ("NULL AS sector, 1 AS g", "tc.level, tc.code, p.year")
_PRIVATE_SECTORS = (
    "p.sector, GROUPING(p.sector) AS g",
    "GROUPING SETS ((tc.level, tc.code, p.year), (tc.level, tc.code, p.year, p.sector))",
)


def _empty_block() -> dict:
    return {"totals": {}, "family": {}, "sector": {}}


def _ess_blocks(
    con: duckdb.DuckDBPyConnection,
    pairs: Sequence[tuple[str, str]] | None,
    years: Sequence[int],
    detail: bool,
    level: str | None = None,
) -> dict[tuple[str, str, int], dict]:
    """Statistics of each territory and year, after the source rule.

    Returns ``{(level, code, year): {"kind": "communes"|"direct"|None, "sources": [...],
    "totals": {measure: v}, "family": {f: {measure: v}}, "sector": {s: {measure: v}}}}``.
    """
    if not years:
        return {}
    req_sql, req_params = _req(pairs, level)
    sql = _ESS_SQL.format(req=req_sql)
    rows = _rows(con, sql, [*req_params, list(years), detail, detail])
    out: dict[tuple[str, str, int], dict] = {}
    for lvl, code, year, kind, family, sector, measure, value, sources in rows:
        key = (lvl, code, int(year))
        block = out.get(key)
        if block is None:
            block = out[key] = {"kind": kind, "sources": set(), **_empty_block()}
        if measure is None:
            continue
        block["sources"].update(sources or [])
        if family is None and sector is None:
            block["totals"][measure] = value
        elif sector is None:
            block["family"].setdefault(family, {})[measure] = value
        else:
            block["sector"].setdefault(sector, {})[measure] = value
    return out


def _estimate_blocks(
    con: duckdb.DuckDBPyConnection,
    pairs: Sequence[tuple[str, str]] | None,
    level: str | None = None,
) -> dict[tuple[str, str], dict]:
    """SIRENE estimate of each territory: ``{(level, code): block}`` (same shape as above,
    measures ``etablissements`` and ``effectifs``)."""
    req_sql, req_params = _req(pairs, level)
    rows = _rows(con, _ESTIMATE_SQL.format(req=req_sql), req_params)
    out: dict[tuple[str, str], dict] = {}
    for lvl, code, family, sector, g, estab, jobs, sources in rows:
        block = out.setdefault(
            (lvl, code), {"kind": "estimation", "sources": set(), **_empty_block()}
        )
        values = {"etablissements": float(estab), "effectifs": float(jobs)}
        if g == 3:  # GROUPING(family, sector) = 0b11: the territory total
            block["totals"] = values
            block["sources"].update(sources or [])
        elif g == 1:  # grouped by family
            block["family"][family] = values
        else:
            block["sector"][sector] = values
    return out


def _private_blocks(
    con: duckdb.DuckDBPyConnection,
    pairs: Sequence[tuple[str, str]] | None,
    years: Sequence[int],
    by_sector: bool,
    level: str | None = None,
) -> dict[tuple[str, str, int], dict]:
    """Private employment: ``{(level, code, year): {"jobs": x, "establishments": y,
    "sector": {s: jobs}}}`` (territories without any row are absent)."""
    if not years:
        return {}
    req_sql, req_params = _req(pairs, level)
    sector, groups = _PRIVATE_SECTORS if by_sector else _PRIVATE_TOTALS
    sql = _PRIVATE_SQL.format(req=req_sql, sector=sector, groups=groups)
    rows = _rows(con, sql, [*req_params, list(years)])
    out: dict[tuple[str, str, int], dict] = {}
    for lvl, code, year, sector, g, jobs, estab in rows:
        block = out.setdefault(
            (lvl, code, int(year)), {"jobs": 0.0, "establishments": 0.0, "sector": {}}
        )
        if g == 1:
            block["jobs"] = float(jobs or 0.0)
            block["establishments"] = float(estab or 0.0)
        else:
            block["sector"][sector] = float(jobs or 0.0)
    return out


def _has_ess_actors(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(_rows(con, "SELECT EXISTS (SELECT 1 FROM actors WHERE is_ess)")[0][0])


class _Context:
    """What one request needs to know once: years and whether any actor is loaded."""

    def __init__(self, con: duckdb.DuckDBPyConnection, year: int | None):
        self.years, self.ess_years, self.private_years = _years_detail(con)
        if year is None:
            year = _pick_default(self.years, self.ess_years, self.private_years)
        self.year = None if year is None else int(year)
        self.has_actors = _has_ess_actors(con)


def _pick_default(years: list[int], ess_years: set[int], private_years: set[int]) -> int | None:
    both = [y for y in years if y in ess_years and y in private_years]
    if both:
        return both[-1]
    return years[-1] if years else None


def _resolve_blocks(
    con: duckdb.DuckDBPyConnection,
    ctx: _Context,
    pairs: Sequence[tuple[str, str]] | None,
    detail: bool,
    level: str | None = None,
) -> dict[tuple[str, str], dict]:
    """ESS block of each territory for ``ctx.year`` with the full source rule (stats, then
    SIRENE estimate). ``{(level, code): block}``; block kind ``None`` = no data at all."""
    year = ctx.year
    stats = _ess_blocks(con, pairs, [year] if year is not None else [], detail, level)
    out: dict[tuple[str, str], dict] = {}
    missing: list[tuple[str, str]] = []
    for (lvl, code, _y), block in stats.items():
        if block["kind"] is not None:
            out[(lvl, code)] = block
        else:
            missing.append((lvl, code))
    if year is None:
        if pairs is None:
            missing = [
                (level, r[0])
                for r in _rows(con, "SELECT code FROM territories WHERE level = ?", [level])
            ]
        else:
            missing = list(pairs)
    if missing:
        if ctx.has_actors:
            est = _estimate_blocks(
                con, None if pairs is None and len(missing) > 50 else missing, level
            )
            for key in missing:
                out[key] = est.get(key) or {
                    "kind": "estimation",
                    "sources": set(),
                    **_empty_block(),
                }
        else:
            for key in missing:
                out[key] = {"kind": None, "sources": set(), **_empty_block()}
    return out


# --------------------------------------------------------------------------- key figures
def _key_row(
    info: dict, year: int | None, block: dict, private: dict | None, ctx: _Context
) -> dict:
    """The key figures of one territory from its ESS block and private-employment block."""
    notes: dict[str, str] = {}
    kind = block["kind"]
    totals = block["totals"]
    if kind is None:
        estab = jobs = None
        notes["ess_establishments"] = notes["ess_jobs"] = _R_NO_ESS_DATA
        source = None
    else:
        estab = _i(totals.get("etablissements", 0.0))
        jobs = _f(totals.get("effectifs", 0.0))
        source = JOBS_SOURCE_ESTIMATE if kind == "estimation" else JOBS_SOURCE_STATS
        if kind == "estimation":
            when = f" de {year}" if year is not None else ""
            notes["jobs_source"] = (
                f"Pas de statistiques ESS{when} pour ce territoire : emplois estimés à partir des "
                "tranches d'effectifs du répertoire SIRENE (centre de chaque tranche)."
            )
    if year is None:
        private_jobs = None
        notes["private_jobs"] = _R_NO_YEAR
    elif year not in ctx.private_years:
        private_jobs = None
        notes["private_jobs"] = _R_NO_PRIVATE.format(year=year)
    else:
        private_jobs = float(private["jobs"]) if private else 0.0
    share = _ratio(jobs, private_jobs)
    if share is None and "private_jobs" not in notes and jobs is not None:
        notes["ess_share_private_jobs"] = _R_ZERO_PRIVATE
    elif share is not None and share > 1:
        share = None
        notes["ess_share_private_jobs"] = _R_INCOHERENT
    elif share is None:
        notes["ess_share_private_jobs"] = notes.get("private_jobs") or notes.get("ess_jobs")
    non_ess = None
    if jobs is not None and private_jobs is not None and jobs <= private_jobs:
        non_ess = private_jobs - jobs
    else:
        notes["non_ess_private_jobs"] = (
            notes.get("ess_share_private_jobs") or notes.get("private_jobs") or _R_NO_ESS_DATA
        )
    per_1000 = _ratio(jobs, info.get("population"))
    if per_1000 is not None:
        per_1000 *= 1000
    else:
        notes["jobs_per_1000_inhabitants"] = notes.get("ess_jobs") or _R_ZERO_POP
    women = None
    if kind == "estimation":
        notes["women_share"] = _R_WOMEN_ESTIMATE
    elif kind is None:
        notes["women_share"] = _R_NO_ESS_DATA
    elif not totals.get("effectifs"):
        notes["women_share"] = _R_NO_ESS_JOBS
    elif "effectifs_femmes" not in totals:
        notes["women_share"] = _R_WOMEN_MISSING
    else:
        women = _ratio(totals["effectifs_femmes"], totals["effectifs"])
    return {
        "territory": _public_territory(info),
        "year": year,
        "ess_establishments": estab,
        "ess_jobs": jobs,
        "private_jobs": private_jobs,
        "non_ess_private_jobs": non_ess,
        "ess_share_private_jobs": share,
        "jobs_per_1000_inhabitants": per_1000,
        "women_share": women,
        "jobs_source": source,
        "sources": sorted(block["sources"]),
        "notes": notes,
    }


def _infos(
    con: duckdb.DuckDBPyConnection, pairs: Sequence[tuple[str, str]] | None, level: str | None
) -> dict:
    req_sql, req_params = _req(pairs, level)
    rows = _rows(
        con,
        f"""
        WITH req AS ({req_sql})
        SELECT t.level, t.code, t.name, t.population, t.density, t.epci_code,
               t.departement_code, t.region_code
        FROM req r JOIN territories t ON t.level = r.level AND t.code = r.code
        """,
        req_params,
    )
    out = {}
    for lvl, code, name, pop, density, epci, dep, reg in rows:
        out[(lvl, code)] = {
            "level": lvl,
            "code": code,
            "name": name,
            "population": None if pop is None else int(pop),
            "density": _f(density),
            "epci_code": epci,
            "departement_code": dep,
            "region_code": reg,
        }
    return out


def _key_many(
    con: duckdb.DuckDBPyConnection,
    ctx: _Context,
    pairs: Sequence[tuple[str, str]] | None,
    level: str | None = None,
    infos: dict | None = None,
) -> dict[tuple[str, str], dict]:
    infos = infos if infos is not None else _infos(con, pairs, level)
    blocks = _resolve_blocks(con, ctx, pairs, False, level)
    years = [ctx.year] if ctx.year is not None and ctx.year in ctx.private_years else []
    private = _private_blocks(con, pairs, years, False, level)
    out = {}
    for key, info in infos.items():
        block = blocks.get(key) or {"kind": None, "sources": set(), **_empty_block()}
        out[key] = _key_row(info, ctx.year, block, private.get((*key, ctx.year)), ctx)
    return out


def key_figures(
    con: duckdb.DuckDBPyConnection, level: str, code: str, year: int | None = None
) -> dict:
    """Key figures of one territory for ``year`` (default: :func:`default_year`).

    Keys: ``territory``, ``year``, ``ess_establishments``, ``ess_jobs``, ``private_jobs``,
    ``non_ess_private_jobs``, ``ess_share_private_jobs``, ``jobs_per_1000_inhabitants``,
    ``women_share``, ``jobs_source``, ``sources``, ``notes``.

    >>> key_figures(con, "departement", "01")["ess_share_private_jobs"]  # doctest: +SKIP
    0.143
    """
    info = territory_info(con, level, code)
    ctx = _Context(con, year)
    pair = (info["level"], info["code"])
    return _key_many(con, ctx, [pair], infos={pair: info})[pair]


def _flat(row: dict) -> dict:
    t = row["territory"]
    return {
        "level": t["level"],
        "code": t["code"],
        "name": t["name"],
        "population": t["population"],
        **{k: row[k] for k in KEY_FIGURE_COLUMNS[4:]},
    }


def _frame(rows: Iterable[dict]) -> pd.DataFrame:
    import pandas as pd

    df = pd.DataFrame([_flat(r) for r in rows], columns=list(KEY_FIGURE_COLUMNS))
    df["population"] = df["population"].astype("Int64")
    df["year"] = df["year"].astype("Int64")
    df["ess_establishments"] = df["ess_establishments"].astype("Int64")
    for col in KEY_FIGURE_COLUMNS[6:12]:
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    return df


def compute_all(
    con: duckdb.DuckDBPyConnection, level: str, year: int | None = None
) -> pd.DataFrame:
    """Key figures of every territory of ``level`` in one set-based pass.

    Columns :data:`KEY_FIGURE_COLUMNS` (counts as ``Int64``, jobs and shares as ``float64``
    with NaN where not available), sorted by code. Same rule and same values as
    :func:`key_figures` for each territory.
    """
    _check_level(level)
    ctx = _Context(con, year)
    rows = _key_many(con, ctx, None, level)
    df = _frame(rows[k] for k in sorted(rows))
    return df.reset_index(drop=True)


# --------------------------------------------------------------------------- breakdowns
def _family_rows(block: dict) -> tuple[list[dict], dict]:
    notes: dict[str, str] = {}
    kind = block["kind"]
    tot_estab = block["totals"].get("etablissements")
    tot_jobs = block["totals"].get("effectifs")
    # A breakdown is known when the source gives one, or when there is nothing to break down.
    known = kind is not None and (
        bool(block["family"]) or kind == "estimation" or not (tot_estab or tot_jobs)
    )
    if kind is None:
        notes["by_family"] = _R_NO_ESS_DATA
    elif not known:
        notes["by_family"] = _R_NO_BREAKDOWN
    else:
        if not tot_jobs:
            notes["share_jobs"] = _R_NO_ESS_JOBS
        if not tot_estab:
            notes["share_establishments"] = _R_NO_ESS_ESTAB
    rows = []
    for fam, label in nomenclatures.FAMILIES.items():
        vals = block["family"].get(fam, {})
        estab = _i(vals.get("etablissements", 0.0)) if known else None
        jobs = _f(vals.get("effectifs", 0.0)) if known else None
        rows.append(
            {
                "family": fam,
                "label": label,
                "establishments": estab,
                "jobs": jobs,
                "share_establishments": _ratio(estab, tot_estab),
                "share_jobs": _ratio(jobs, tot_jobs),
            }
        )
    return rows, notes


def by_family(
    con: duckdb.DuckDBPyConnection, level: str, code: str, year: int | None = None
) -> dict:
    """ESS establishments and jobs by family, with their shares of the territory's total.

    ``{"year", "jobs_source", "rows": [{family, label, establishments, jobs,
    share_establishments, share_jobs}], "notes"}`` (rows in :data:`nomenclatures.FAMILIES`
    order).
    """
    info = territory_info(con, level, code)
    ctx = _Context(con, year)
    pair = (info["level"], info["code"])
    block = _resolve_blocks(con, ctx, [pair], True)[pair]
    rows, notes = _family_rows(block)
    return {"year": ctx.year, "jobs_source": _source_name(block), "rows": rows, "notes": notes}


def _source_name(block: dict) -> str | None:
    if block["kind"] is None:
        return None
    return JOBS_SOURCE_ESTIMATE if block["kind"] == "estimation" else JOBS_SOURCE_STATS


def _sector_rows(
    block: dict, ref_block: dict, private: dict | None, private_known: bool
) -> tuple[list[dict], dict]:
    notes: dict[str, str] = {}
    kind = block["kind"]
    tot_jobs = block["totals"].get("effectifs")
    ref_tot = ref_block["totals"].get("effectifs")
    known = kind is not None and (bool(block["sector"]) or kind == "estimation" or not tot_jobs)
    ref_known = ref_block["kind"] is not None and (
        bool(ref_block["sector"]) or ref_block["kind"] == "estimation"
    )
    if kind is None:
        notes["by_sector"] = _R_NO_ESS_DATA
    elif not known:
        notes["by_sector"] = _R_NO_BREAKDOWN
    elif not tot_jobs:
        notes["share_jobs"] = notes["location_quotient"] = _R_NO_ESS_JOBS
    if not ref_known or not ref_tot:
        notes["reference_share_jobs"] = notes["location_quotient"] = (
            "Le territoire de référence n'a pas d'emplois ESS par secteur."
        )
    if not private_known:
        notes["private_jobs"] = notes["ess_share_in_sector"] = (
            "Pas de données d'emploi privé par secteur pour cette année."
        )
    rows = []
    for sector in nomenclatures.SECTORS:
        vals = block["sector"].get(sector.key, {})
        estab = _i(vals.get("etablissements", 0.0)) if known else None
        jobs = _f(vals.get("effectifs", 0.0)) if known else None
        share = _ratio(jobs, tot_jobs)
        priv = (private or {}).get("sector", {}).get(sector.key, 0.0) if private_known else None
        in_sector = _ratio(jobs, priv)
        if in_sector is not None and in_sector > 1:
            in_sector = None
            notes["ess_share_in_sector"] = _R_INCOHERENT
        elif in_sector is None and private_known and jobs is not None:
            notes.setdefault(
                "ess_share_in_sector",
                "Part non calculable dans les secteurs sans emploi privé recensé sur le territoire.",
            )
        ref_jobs = ref_block["sector"].get(sector.key, {}).get("effectifs", 0.0)
        ref_share = _ratio(ref_jobs, ref_tot) if ref_known else None
        lq = _ratio(share, ref_share)
        if lq is None and share is not None and ref_share is not None:
            notes.setdefault(
                "location_quotient",
                "Indice non calculable pour les secteurs absents du territoire de référence.",
            )
        rows.append(
            {
                "sector": sector.key,
                "label": sector.label,
                "establishments": estab,
                "jobs": jobs,
                "share_jobs": share,
                "private_jobs": priv,
                "ess_share_in_sector": in_sector,
                "reference_share_jobs": ref_share,
                "location_quotient": lq,
            }
        )
    return rows, notes


def by_sector(
    con: duckdb.DuckDBPyConnection,
    level: str,
    code: str,
    year: int | None = None,
    reference: tuple[str, str] = ("france", "FR"),
) -> dict:
    """ESS establishments and jobs by sector, ESS share of private jobs within each sector and
    the location quotient against ``reference`` (default France).

    ``{"year", "jobs_source", "reference": {level, code, name, population}, "rows": [{sector,
    label, establishments, jobs, share_jobs, private_jobs, ess_share_in_sector,
    reference_share_jobs, location_quotient}], "notes"}``.
    """
    info = territory_info(con, level, code)
    ref_info = territory_info(con, *reference)
    ctx = _Context(con, year)
    return _by_sector(con, ctx, info, ref_info)


def _by_sector(con, ctx: _Context, info: dict, ref_info: dict) -> dict:
    pair = (info["level"], info["code"])
    ref = (ref_info["level"], ref_info["code"])
    pairs = [pair] if ref == pair else [pair, ref]
    blocks = _resolve_blocks(con, ctx, pairs, True)
    private_known = ctx.year is not None and ctx.year in ctx.private_years
    private = _private_blocks(con, [pair], [ctx.year] if private_known else [], True)
    rows, notes = _sector_rows(
        blocks[pair], blocks[ref], private.get((*pair, ctx.year)), private_known
    )
    return {
        "year": ctx.year,
        "jobs_source": _source_name(blocks[pair]),
        "reference": _public_territory(ref_info),
        "rows": rows,
        "notes": notes,
    }


# --------------------------------------------------------------------------- rurality
_RURAL_SQL = """
WITH tc AS (
    SELECT commune_code FROM territory_communes WHERE level = ? AND code = ?
),
ess AS ({ess}),
priv AS (
    SELECT p.commune_code, sum(p.jobs) AS jobs
    FROM private_employment p
    WHERE p.year = ? AND p.commune_code IN (SELECT commune_code FROM tc)
    GROUP BY ALL
)
SELECT r.rural, count(*) AS communes, sum(c.population) AS population,
       count(*) FILTER (WHERE r.source = 'grille') AS from_grid,
       coalesce(sum(e.jobs), 0) AS ess_jobs, coalesce(sum(p.jobs), 0) AS private_jobs
FROM tc
JOIN territories c ON c.level = 'commune' AND c.code = tc.commune_code
JOIN commune_rurality r ON r.commune_code = tc.commune_code
LEFT JOIN ess e ON e.commune_code = tc.commune_code
LEFT JOIN priv p ON p.commune_code = tc.commune_code
GROUP BY r.rural
"""
_RURAL_ESS_STATS = """
    SELECT s.code AS commune_code, sum(s.value) AS jobs FROM ess_stats s
    WHERE s.level = 'commune' AND s.year = ? AND s.family IS NULL AND s.sector IS NULL
      AND s.measure = 'effectifs' AND s.code IN (SELECT commune_code FROM tc)
    GROUP BY ALL
"""
_RURAL_ESS_ACTORS = """
    SELECT a.commune_code, sum(a.jobs) AS jobs FROM actors a
    WHERE a.is_ess AND a.active AND a.employer AND ? IS NOT NULL
      AND a.commune_code IN (SELECT commune_code FROM tc)
    GROUP BY ALL
"""

_DEFINITION_LABELS = {
    "grille": "Grille communale de densité de l'INSEE (niveaux 5 à 7 = rural)",
    "estimation": (
        "Estimation à partir de la densité de population (la grille INSEE n'est pas importée) ; "
        "niveaux estimés 5 à 7 = rural"
    ),
    "mixte": "Grille INSEE pour une partie des communes, estimation par la densité pour les autres",
}


def rurality(
    con: duckdb.DuckDBPyConnection, level: str, code: str, year: int | None = None
) -> dict:
    """Rural/urban split of ESS and private jobs (communes of density levels 5–7 are rural).

    Keys: ``definition`` (``grille`` | ``estimation`` | ``mixte``), ``definition_label``,
    ``rural_communes``, ``urban_communes``, ``rural_population``, ``rural_population_share``,
    ``ess_jobs_rural``, ``ess_jobs_urban``, ``share_ess_jobs_rural``, ``private_jobs_rural``,
    ``private_jobs_urban``, ``ess_share_private_jobs_rural``, ``ess_share_private_jobs_urban``,
    ``jobs_source``, ``notes``.
    """
    info = territory_info(con, level, code)
    ctx = _Context(con, year)
    pair = (info["level"], info["code"])
    block = _resolve_blocks(con, ctx, [pair], False)[pair]
    return _rurality(con, ctx, info, block)


def _rurality(con, ctx: _Context, info: dict, block: dict) -> dict:
    notes: dict[str, str] = {}
    kind = block["kind"]
    ess_sql = _RURAL_ESS_STATS if kind == "communes" else _RURAL_ESS_ACTORS
    rows = _rows(
        con,
        _RURAL_SQL.format(ess=ess_sql),
        [info["level"], info["code"], ctx.year, ctx.year],
    )
    by = {bool(r[0]): r for r in rows}
    rural, urban = by.get(True), by.get(False)
    communes = sum(r[1] for r in rows)
    from_grid = sum(r[3] for r in rows)
    definition = (
        "grille" if communes and from_grid == communes else ("mixte" if from_grid else "estimation")
    )
    pop = sum((r[2] or 0) for r in rows)
    rural_pop = int(rural[2] or 0) if rural else 0
    ess_ok = kind in ("communes", "estimation")
    if kind is None:
        notes["ess_jobs_rural"] = notes["ess_jobs_urban"] = _R_NO_ESS_DATA
    elif kind == "direct":
        notes["ess_jobs_rural"] = notes["ess_jobs_urban"] = _R_COMMUNE_DETAIL
    priv_ok = ctx.year is not None and ctx.year in ctx.private_years
    if not priv_ok:
        reason = _R_NO_YEAR if ctx.year is None else _R_NO_PRIVATE.format(year=ctx.year)
        notes["private_jobs_rural"] = notes["private_jobs_urban"] = reason
    ess_r = _f(rural[4]) if ess_ok and rural else (0.0 if ess_ok else None)
    ess_u = _f(urban[4]) if ess_ok and urban else (0.0 if ess_ok else None)
    prv_r = _f(rural[5]) if priv_ok and rural else (0.0 if priv_ok else None)
    prv_u = _f(urban[5]) if priv_ok and urban else (0.0 if priv_ok else None)
    share_rural = _ratio(ess_r, None if ess_r is None else ess_r + ess_u)
    if share_rural is None:
        notes["share_ess_jobs_rural"] = notes.get("ess_jobs_rural", _R_NO_ESS_JOBS)

    def share(e, p, key, where):
        value = _ratio(e, p)
        if value is None:
            notes[key] = (
                notes.get("ess_jobs_rural")
                or notes.get("private_jobs_rural")
                or f"Aucun emploi privé recensé dans les communes {where} du territoire."
            )
        elif value > 1:
            notes[key] = _R_INCOHERENT
            return None
        return value

    return {
        "definition": definition,
        "definition_label": _DEFINITION_LABELS[definition],
        "rural_communes": int(rural[1]) if rural else 0,
        "urban_communes": int(urban[1]) if urban else 0,
        "rural_population": rural_pop,
        "rural_population_share": _ratio(rural_pop, pop),
        "ess_jobs_rural": ess_r,
        "ess_jobs_urban": ess_u,
        "share_ess_jobs_rural": share_rural,
        "private_jobs_rural": prv_r,
        "private_jobs_urban": prv_u,
        "ess_share_private_jobs_rural": share(
            ess_r, prv_r, "ess_share_private_jobs_rural", "rurales"
        ),
        "ess_share_private_jobs_urban": share(
            ess_u, prv_u, "ess_share_private_jobs_urban", "urbaines"
        ),
        "jobs_source": _source_name(block),
        "notes": notes,
    }


# --------------------------------------------------------------------------- evolution
def evolution(
    con: duckdb.DuckDBPyConnection,
    level: str,
    code: str,
    base_year: int | None = None,
    start_year: int | None = None,
    end_year: int | None = None,
) -> dict:
    """ESS jobs and non-ESS private jobs over every year with statistics.

    Index base 100 on ``base_year`` (default: first year of the series); relative change
    between ``start_year`` and ``end_year`` (default first and last); years of decline (a year
    whose value is below the previous year's). Keys: ``base_year``, ``start_year``,
    ``end_year``, ``series`` (``year``, ``ess_jobs``, ``private_jobs``,
    ``non_ess_private_jobs``, ``ess_index``, ``non_ess_index``), ``change``
    (``ess_jobs``, ``non_ess_private_jobs``), ``decline_years`` (same two keys), ``notes``.
    The SIRENE estimate is a snapshot and never enters a series.
    """
    info = territory_info(con, level, code)
    ctx = _Context(con, None)
    return _evolution(con, ctx, info, base_year, start_year, end_year)


def _evolution(con, ctx: _Context, info: dict, base_year, start_year, end_year) -> dict:
    notes: dict[str, str] = {}
    pair = (info["level"], info["code"])
    stats = _ess_blocks(con, [pair], ctx.years, False)
    private = _private_blocks(con, [pair], sorted(ctx.private_years), False)
    series = []
    for year in ctx.years:
        block = stats.get((*pair, year))
        ess = _f(block["totals"].get("effectifs", 0.0)) if block and block["kind"] else None
        priv = None
        if year in ctx.private_years:
            priv = _f((private.get((*pair, year)) or {}).get("jobs", 0.0))
        non_ess = priv - ess if ess is not None and priv is not None and ess <= priv else None
        series.append(
            {"year": year, "ess_jobs": ess, "private_jobs": priv, "non_ess_private_jobs": non_ess}
        )
    usable = [
        r for r in series if r["ess_jobs"] is not None or r["non_ess_private_jobs"] is not None
    ]
    if not usable:
        notes["series"] = (
            "Aucune série annuelle : l'évolution demande des statistiques ESS et d'emploi privé "
            "sur plusieurs années (l'estimation SIRENE n'est qu'une photographie)."
        )
    years = [r["year"] for r in series]
    if base_year is None:
        base_year = next((r["year"] for r in series if r["ess_jobs"] is not None), None)
    base = next((r for r in series if r["year"] == base_year), None)
    for r in series:
        r["ess_index"] = _index(r["ess_jobs"], base and base["ess_jobs"])
        r["non_ess_index"] = _index(
            r["non_ess_private_jobs"], base and base["non_ess_private_jobs"]
        )
    if base_year is not None and base is None:
        notes["base_year"] = f"L'année {base_year} n'a pas de données."
    elif base is not None and not base["ess_jobs"]:
        notes["ess_index"] = "Aucun emploi ESS l'année de base : indice non calculable."
    if start_year is None:
        start_year = usable[0]["year"] if usable else None
    if end_year is None:
        end_year = usable[-1]["year"] if usable else None
    first = next((r for r in series if r["year"] == start_year), None)
    last = next((r for r in series if r["year"] == end_year), None)
    change = {}
    for key in ("ess_jobs", "non_ess_private_jobs"):
        value = None
        if first and last and first[key] is not None and last[key] is not None:
            value = _ratio(last[key] - first[key], first[key])
        if value is None:
            notes[f"change.{key}"] = (
                "Évolution non calculable : valeur manquante ou nulle la première année."
            )
        change[key] = value
    decline = {}
    for key in ("ess_jobs", "non_ess_private_jobs"):
        decline[key] = [
            cur["year"]
            for prev, cur in zip(series, series[1:], strict=False)
            if prev[key] is not None and cur[key] is not None and cur[key] < prev[key]
        ]
    del years
    return {
        "base_year": base_year,
        "start_year": start_year,
        "end_year": end_year,
        "series": series,
        "change": change,
        "decline_years": decline,
        "notes": notes,
    }


def _index(value, base) -> float | None:
    if _ratio(value, base) is None:
        return None
    return 100.0 * value / base


# --------------------------------------------------------------------------- resilience
_RESILIENCE_SQL = """
WITH a AS (
    SELECT a.actor_id, a.siren, a.name, a.partial_diffusion, a.jobs, a.date_creation
    FROM territory_communes m JOIN actors a ON a.commune_code = m.commune_code
    WHERE m.level = ? AND m.code = ? AND a.is_ess AND a.active AND a.employer
),
emp AS (
    SELECT coalesce(a.siren, a.actor_id) AS employer_key,
           coalesce(any_value(u.denomination), min(a.name)) AS name,
           bool_or(a.partial_diffusion OR coalesce(u.partial_diffusion, false)) AS partial,
           coalesce(sum(a.jobs), 0) AS jobs, count(*) AS establishments
    FROM a LEFT JOIN unites_legales u ON u.siren = a.siren
    GROUP BY 1
)
SELECT (SELECT coalesce(sum(jobs), 0) FROM a) AS jobs,
       (SELECT count(*) FROM emp) AS employers,
       (SELECT count(*) FROM a) AS establishments,
       (SELECT median(date_diff('day', date_creation, ?::DATE)) / 365.25 FROM a
         WHERE date_creation IS NOT NULL AND date_creation <= ?::DATE) AS median_age,
       (SELECT count(*) FROM a WHERE date_creation IS NOT NULL) AS dated,
       (SELECT list({'name': CASE WHEN partial THEN NULL ELSE name END, 'partial': partial,
                      'jobs': jobs, 'establishments': establishments}
                    ORDER BY jobs DESC, employer_key)
          FROM (SELECT * FROM emp ORDER BY jobs DESC, employer_key LIMIT 5)) AS top
"""


def _diversity(block: dict) -> tuple[float | None, int, str | None]:
    """Shannon evenness of ESS jobs over :data:`DIVERSITY_SECTORS`: H / ln(K)."""
    jobs = [block["sector"].get(s, {}).get("effectifs", 0.0) or 0.0 for s in DIVERSITY_SECTORS]
    total = sum(jobs)
    present = sum(1 for j in jobs if j > 0)
    if block["kind"] is None:
        return None, 0, _R_NO_ESS_DATA
    if not block["sector"] and block["kind"] != "estimation":
        return None, 0, _R_NO_BREAKDOWN
    if total <= 0:
        return None, 0, _R_NO_ESS_JOBS
    h = -sum((j / total) * math.log(j / total) for j in jobs if j > 0)
    return h / math.log(len(DIVERSITY_SECTORS)), present, None


def resilience(
    con: duckdb.DuckDBPyConnection, level: str, code: str, year: int | None = None
) -> dict:
    """The parts of resilience, shown separately (no composite score).

    Keys: ``sector_diversity`` (Shannon evenness 0–1 of ESS jobs over the sectors),
    ``sectors_present``, ``sectors_total``, ``top5_employers_share``, ``top5_employers``
    (``name`` — None under partial diffusion —, ``partial``, ``jobs``, ``establishments``),
    ``employers``, ``median_age_years``, ``reference_date``, ``jobs_source``, ``notes``.
    Concentration and age come from the actors (SIRENE) whatever the jobs source.
    """
    info = territory_info(con, level, code)
    ctx = _Context(con, year)
    pair = (info["level"], info["code"])
    block = _resolve_blocks(con, ctx, [pair], True)[pair]
    return _resilience(con, ctx, info, block)


def _resilience(con, ctx: _Context, info: dict, block: dict) -> dict:
    notes: dict[str, str] = {}
    diversity, present, reason = _diversity(block)
    if reason:
        notes["sector_diversity"] = reason
    ref_date = dt.date(ctx.year, 12, 31) if ctx.year is not None else dt.date.today()
    jobs, employers, estab, median_age, dated, top = _rows(
        con, _RESILIENCE_SQL, [info["level"], info["code"], ref_date, ref_date]
    )[0]
    top = [
        {
            "name": t["name"],
            "partial": bool(t["partial"]),
            "jobs": float(t["jobs"]),
            "establishments": int(t["establishments"]),
        }
        for t in (top or [])
    ]
    top_share = _ratio(sum(t["jobs"] for t in top), jobs)
    if top_share is None:
        notes["top5_employers_share"] = (
            "Aucun établissement employeur de l'ESS dans le répertoire pour ce territoire."
        )
    if median_age is None:
        notes["median_age_years"] = (
            "Aucune date de création connue pour les établissements employeurs de l'ESS."
        )
    return {
        "sector_diversity": diversity,
        "sectors_present": present,
        "sectors_total": len(DIVERSITY_SECTORS),
        "top5_employers_share": top_share,
        "top5_employers": top,
        "employers": int(employers),
        "median_age_years": _f(median_age),
        "reference_date": ref_date.isoformat(),
        "jobs_source": _source_name(block),
        "notes": notes,
    }


# --------------------------------------------------------------------------- comparisons
_SIMILAR_SQL = """
WITH feat AS (
    SELECT t.code, t.name, t.population, t.density,
           sum(c.population) FILTER (WHERE r.rural) / nullif(sum(c.population), 0) AS rural_share
    FROM territories t
    JOIN territory_communes m ON m.level = t.level AND m.code = t.code
    JOIN territories c ON c.level = 'commune' AND c.code = m.commune_code
    JOIN commune_rurality r ON r.commune_code = m.commune_code
    WHERE t.level = ? AND t.population > 0 AND t.density > 0
    GROUP BY ALL
),
z AS (
    SELECT code, name, population, density, coalesce(rural_share, 0) AS rural_share,
           ln(population) AS lp, ln(density) AS ld
    FROM feat
),
s AS (
    SELECT avg(lp) AS mlp, stddev_pop(lp) AS slp, avg(ld) AS mld, stddev_pop(ld) AS sld,
           avg(rural_share) AS mrs, stddev_pop(rural_share) AS srs
    FROM z
),
me AS (SELECT * FROM z WHERE code = ?)
SELECT z.code, z.name, z.population, z.density, z.rural_share,
       sqrt(coalesce(((z.lp - me.lp) / nullif(s.slp, 0)) ^ 2, 0)
          + coalesce(((z.ld - me.ld) / nullif(s.sld, 0)) ^ 2, 0)
          + coalesce(((z.rural_share - me.rural_share) / nullif(s.srs, 0)) ^ 2, 0)) AS distance
FROM z, s, me
WHERE z.code <> me.code
ORDER BY distance, z.code
LIMIT ?
"""


def similar_territories(con: duckdb.DuckDBPyConnection, level: str, code: str, n: int = 5) -> dict:
    """The ``n`` territories of the same level closest by population, density and rural share.

    Distance: Euclidean over the three criteria standardised across the level (z-scores of
    ln(population), ln(density) and the rural population share). ``{"criteria": [...],
    "territories": [{level, code, name, population, density, rural_population_share,
    distance}], "notes"}``.
    """
    info = territory_info(con, level, code)
    return _similar(con, info, n)


def _similar(con, info: dict, n: int = 5) -> dict:
    notes: dict[str, str] = {}
    rows = []
    if info["level"] != "france":
        rows = _rows(con, _SIMILAR_SQL, [info["level"], info["code"], n])
    if not rows:
        notes["territories"] = (
            "Pas de territoire comparable : la France est unique à son niveau."
            if info["level"] == "france"
            else "Population ou densité inconnue : pas de comparaison possible."
        )
    return {
        "criteria": list(SIMILARITY_CRITERIA),
        "territories": [
            {
                "level": info["level"],
                "code": code,
                "name": name,
                "population": int(pop),
                "density": float(density),
                "rural_population_share": float(rural),
                "distance": float(dist),
            }
            for code, name, pop, density, rural, dist in rows
        ],
        "notes": notes,
    }


def _compare_row(key_row: dict) -> dict:
    row = _flat(key_row)
    row["notes"] = key_row["notes"]
    return row


def comparisons(
    con: duckdb.DuckDBPyConnection, level: str, code: str, year: int | None = None
) -> dict:
    """Key figures of the parent territories and of the five most similar territories.

    ``{"parents": [key-figure rows], "similar": {"criteria": [...], "territories": [key-figure
    rows + density, rural_population_share, distance]}, "notes"}``. A key-figure row has the
    columns of :data:`KEY_FIGURE_COLUMNS` plus ``notes``.
    """
    info = territory_info(con, level, code)
    ctx = _Context(con, year)
    return _comparisons(con, ctx, info)[0]


def _comparisons(con, ctx: _Context, info: dict) -> tuple[dict, dict]:
    """(comparisons section, key-figure row of the territory itself)."""
    pair = (info["level"], info["code"])
    parents = _parent_pairs(info)
    similar = _similar(con, info)
    sim_pairs = [(t["level"], t["code"]) for t in similar["territories"]]
    keys = _key_many(con, ctx, [pair, *parents, *sim_pairs])
    sim_rows = []
    for t in similar["territories"]:
        row = _compare_row(keys[(t["level"], t["code"])])
        row.update(
            density=t["density"],
            rural_population_share=t["rural_population_share"],
            distance=t["distance"],
        )
        sim_rows.append(row)
    section = {
        "parents": [_compare_row(keys[p]) for p in parents if p in keys],
        "similar": {
            "criteria": similar["criteria"],
            "territories": sim_rows,
            "notes": similar["notes"],
        },
        "notes": {},
    }
    return section, keys[pair]


# --------------------------------------------------------------------------- zones blanches
_ZONES_SQL = """
WITH tc AS (
    SELECT m.commune_code, c.name, c.population
    FROM territory_communes m
    JOIN territories c ON c.level = 'commune' AND c.code = m.commune_code
    WHERE m.level = ? AND m.code = ?
),
sectors AS (SELECT unnest(?::VARCHAR[]) AS sector),
present AS ({present})
SELECT s.sector, tc.commune_code, tc.name, tc.population
FROM tc CROSS JOIN sectors s
WHERE NOT EXISTS (
    SELECT 1 FROM present p WHERE p.commune_code = tc.commune_code AND p.sector = s.sector
)
ORDER BY s.sector, tc.population DESC, tc.commune_code
"""
_ZONES_STATS = """
    SELECT DISTINCT s.code AS commune_code, s.sector FROM ess_stats s
    WHERE s.level = 'commune' AND s.year = ? AND s.family IS NULL AND s.sector IS NOT NULL
      AND s.measure = 'etablissements' AND s.value > 0
      AND s.code IN (SELECT commune_code FROM tc)
"""
_ZONES_ACTORS = """
    SELECT DISTINCT a.commune_code, a.sector FROM actors a
    WHERE a.is_ess AND a.active AND a.employer AND ? IS NOT NULL
      AND a.commune_code IN (SELECT commune_code FROM tc)
"""
#: Sectors examined for zones blanches (non classé is not a service anybody lacks).
ZONE_SECTORS: tuple[str, ...] = DIVERSITY_SECTORS


def zones_blanches(
    con: duckdb.DuckDBPyConnection,
    level: str,
    code: str,
    year: int | None = None,
    sector: str | None = None,
) -> dict:
    """Communes of the territory with no ESS employer establishment in a sector.

    ``{"year", "jobs_source", "communes_total", "population_total", "by_sector": [{sector,
    label, communes, population, population_share}], "sector", "communes": [{code, name,
    population}] (only when ``sector`` is given), "notes"}``.
    """
    info = territory_info(con, level, code)
    if sector is not None and sector not in nomenclatures.SECTOR_LABELS:
        raise IndicatorError(f"Secteur inconnu : « {sector} ».")
    ctx = _Context(con, year)
    pair = (info["level"], info["code"])
    block = _resolve_blocks(con, ctx, [pair], False)[pair]
    return _zones(con, ctx, info, block, sector)


def _zones(con, ctx: _Context, info: dict, block: dict, sector: str | None) -> dict:
    notes: dict[str, str] = {}
    kind = block["kind"]
    totals = _rows(
        con,
        "SELECT count(*), coalesce(sum(c.population), 0) FROM territory_communes m "
        "JOIN territories c ON c.level = 'commune' AND c.code = m.commune_code "
        "WHERE m.level = ? AND m.code = ?",
        [info["level"], info["code"]],
    )[0]
    n_communes, pop_total = int(totals[0]), int(totals[1])
    base = {
        "year": ctx.year,
        "jobs_source": _source_name(block),
        "communes_total": n_communes,
        "population_total": pop_total,
    }
    if kind not in ("communes", "estimation"):
        notes["by_sector"] = _R_NO_ESS_DATA if kind is None else _R_COMMUNE_DETAIL
        return {**base, "by_sector": [], "sector": sector, "communes": [], "notes": notes}
    present = _ZONES_STATS if kind == "communes" else _ZONES_ACTORS
    rows = _rows(
        con,
        _ZONES_SQL.format(present=present),
        [info["level"], info["code"], list(ZONE_SECTORS), ctx.year],
    )
    agg: dict[str, list] = {s: [0, 0] for s in ZONE_SECTORS}
    communes = []
    for sec, ccode, name, pop in rows:
        agg[sec][0] += 1
        agg[sec][1] += int(pop or 0)
        if sec == sector:
            communes.append({"code": ccode, "name": name, "population": int(pop or 0)})
    by_sector = [
        {
            "sector": s,
            "label": nomenclatures.SECTOR_LABELS[s],
            "communes": agg[s][0],
            "population": agg[s][1],
            "population_share": _ratio(agg[s][1], pop_total),
        }
        for s in ZONE_SECTORS
    ]
    return {**base, "by_sector": by_sector, "sector": sector, "communes": communes, "notes": notes}


# --------------------------------------------------------------------------- the document
def compute(
    con: duckdb.DuckDBPyConnection,
    level: str,
    code: str,
    year: int | None = None,
    reference: tuple[str, str] = ("france", "FR"),
) -> dict:
    """The full indicator set of one territory: the stable JSON document of
    ``ess-diag indicators`` (every key documented in ``docs/methodologie.md``).

    >>> doc = compute(con, "departement", "01")  # doctest: +SKIP
    >>> doc["ess_jobs"], doc["jobs_source"]  # doctest: +SKIP
    (12345.0, 'statistiques')
    """
    info = territory_info(con, level, code)
    ref_info = (
        info
        if (info["level"], info["code"]) == tuple(reference)
        else territory_info(con, *reference)
    )
    ctx = _Context(con, year)
    pair = (info["level"], info["code"])
    comps, key = _comparisons(con, ctx, info)
    sectors = _by_sector(con, ctx, info, ref_info)
    detail_block = _resolve_blocks(con, ctx, [pair], True)[pair]
    fam_rows, fam_notes = _family_rows(detail_block)
    doc = {
        "schema_version": 1,
        "territory": key["territory"],
        "year": ctx.year,
        "years_available": list(ctx.years),
        "demo": _is_demo(con),
        "ess_establishments": key["ess_establishments"],
        "ess_jobs": key["ess_jobs"],
        "private_jobs": key["private_jobs"],
        "non_ess_private_jobs": key["non_ess_private_jobs"],
        "ess_share_private_jobs": key["ess_share_private_jobs"],
        "jobs_per_1000_inhabitants": key["jobs_per_1000_inhabitants"],
        "women_share": key["women_share"],
        "jobs_source": key["jobs_source"],
        "sources": key["sources"],
        "by_family": {"rows": fam_rows, "notes": fam_notes},
        "by_sector": {
            "reference": sectors["reference"],
            "rows": sectors["rows"],
            "notes": sectors["notes"],
        },
        "rural": _rurality(con, ctx, info, detail_block),
        "evolution": _evolution(con, ctx, info, None, None, None),
        "resilience": _resilience(con, ctx, info, detail_block),
        "comparisons": comps,
        "zones_blanches": _zones(con, ctx, info, detail_block, None),
        "notes": key["notes"],
    }
    return doc


def _is_demo(con: duckdb.DuckDBPyConnection) -> bool:
    rows = _rows(con, "SELECT value FROM meta WHERE key = 'demo'")
    return bool(rows) and rows[0][0] == "1"


def summary_text(doc: dict) -> str:
    """A short French plain-text rendering of :func:`compute`'s document (for the terminal)."""
    from .formatting import NOT_AVAILABLE, fmt_int, fmt_num, fmt_pct

    t = doc["territory"]
    source = {
        JOBS_SOURCE_STATS: "statistiques importées",
        JOBS_SOURCE_ESTIMATE: "estimation à partir des tranches d'effectifs SIRENE",
        None: NOT_AVAILABLE,
    }[doc["jobs_source"]]
    lines = [
        f"{t['name']} ({_LEVEL_LABELS[t['level']]} {t['code']}), {fmt_int(t['population'])} "
        f"habitants — année {doc['year'] if doc['year'] is not None else NOT_AVAILABLE}"
        + (" — DONNÉES DE DÉMONSTRATION (simulées)" if doc.get("demo") else ""),
        f"  Établissements employeurs de l'ESS : {fmt_int(doc['ess_establishments'])}",
        f"  Emplois de l'ESS : {fmt_int(doc['ess_jobs'])} (source : {source})",
        f"  Emploi privé : {fmt_int(doc['private_jobs'])}",
        f"  Part de l'ESS dans l'emploi privé : {fmt_pct(doc['ess_share_private_jobs'])}",
        f"  Emplois ESS pour 1 000 habitants : {fmt_num(doc['jobs_per_1000_inhabitants'])}",
        f"  Part des femmes : {fmt_pct(doc['women_share'])}",
        f"  Part des emplois ESS en commune rurale : {fmt_pct(doc['rural']['share_ess_jobs_rural'])}"
        f" (définition : {doc['rural']['definition_label']})",
    ]
    for parent in doc["comparisons"]["parents"]:
        lines.append(
            f"  Comparaison — {parent['name']} : {fmt_pct(parent['ess_share_private_jobs'])} "
            "de l'emploi privé"
        )
    for key, reason in doc["notes"].items():
        lines.append(f"  Note ({key}) : {reason}")
    return "\n".join(lines)
