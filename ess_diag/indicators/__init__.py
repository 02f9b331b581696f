"""Every published figure of the diagnostic, computed from the store.

Pure functions over a DuckDB connection (no Streamlit, no plotting). Definitions, formulas,
sources and caveats (in French) are in ``docs/methodologie.md``; a test checks that every key
of :func:`compute` is documented there.

How it is computed: bound SQL queries (:mod:`.queries`) read, for one territory or for every
territory of a level, the rows of the ``derived_*`` tables — sums over ``territory_communes``
precomputed in the database by :func:`ess_diag.derived.refresh` in the transaction of each
import — and the rules of :mod:`.rules` turn them into figures, the same functions for
:func:`compute` and :func:`compute_all`. Nothing is kept between calls and nothing is written
beside the database: an import is seen at once by every process.

Conventions of the results (the JSON document of ``ess-diag indicators``, typed in
:mod:`.types`):

* counts are ``int``, job figures ``float``, shares between 0 and 1;
* a figure that cannot be computed is ``None`` and its key appears in the ``notes`` dict of the
  same section with a French reason — never a silent 0, never a ``ZeroDivisionError``;
* ``jobs_source`` says where ESS jobs come from: ``"statistiques"`` (imported ``ess_stats``) or
  ``"estimation_sirene"`` (band midpoints of the actors' SIRENE effectif bands).

The jobs-source rule, for a territory T and a year Y (:func:`.queries.block_of`):

1. **commune statistics** — when every département touched by T has commune-level
   ``ess_stats`` rows for Y, the figures are the sums of those rows over T's communes;
2. otherwise **a row at T's own level** (e.g. an URSSAF département table) for Y;
3. otherwise **the SIRENE estimate**: active ESS employer establishments of ``actors``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import duckdb

from .. import nomenclatures
from ..vocabulary import FRANCE_CODE, LEVEL_LABELS_LOWER, LEVELS, PARENT_LEVELS
from . import queries as q
from . import rules, types
from .queries import IndicatorError
from .rules import (  # noqa: F401 (the reasons are part of what tests and pages compare with)
    _DEFINITION_LABELS,
    _R_COMMUNE_DETAIL,
    _R_INCOHERENT,
    _R_NO_BREAKDOWN,
    _R_NO_ESS_DATA,
    _R_NO_ESS_JOBS,
    _R_NO_PRIVATE,
    _R_NO_YEAR,
    _R_WOMEN_ESTIMATE,
    _R_ZERO_PRIVATE,
    DIVERSITY_SECTORS,
    JOBS_SOURCE_ESTIMATE,
    JOBS_SOURCE_STATS,
)
from .types import Document

if TYPE_CHECKING:  # pandas is imported lazily: the CLI path stays fast to start
    import pandas as pd

__all__ = [
    "JOBS_SOURCE_STATS", "JOBS_SOURCE_ESTIMATE", "LEVELS", "PARENT_LEVELS", "DIVERSITY_SECTORS",
    "ZONE_SECTORS", "SIMILARITY_CRITERIA", "KEY_FIGURE_COLUMNS", "EXTRA_COLUMNS",
    "IndicatorError", "Document", "available_years", "default_year", "territory_info",
    "key_figures", "compute_all", "by_family", "by_sector", "rurality", "evolution",
    "resilience", "sirene_history", "history_change", "comparisons", "similar_territories",
    "zones_blanches", "compute", "rural_sectors",
    "summary_text",
]  # fmt: skip

#: Sectors examined for zones blanches (non classé is not a service anybody lacks).
ZONE_SECTORS: tuple[str, ...] = DIVERSITY_SECTORS

SIMILARITY_CRITERIA: tuple[str, ...] = (
    "population (logarithme)",
    "densité de population (logarithme)",
    "part de la population vivant dans une commune rurale",
)

#: Columns of :func:`compute_all` (and of the ``comparisons`` rows), in order.
KEY_FIGURE_COLUMNS: tuple[str, ...] = (
    "level", "code", "name", "population", "year", "ess_establishments", "ess_jobs",
    "private_jobs", "non_ess_private_jobs", "ess_share_private_jobs",
    "jobs_per_1000_inhabitants", "women_share", "jobs_source",
)  # fmt: skip

#: Further columns of :func:`compute_all` (same definitions as in :func:`rurality` and
#: :func:`resilience`), for maps and rankings.
EXTRA_COLUMNS: tuple[str, ...] = (
    "share_ess_jobs_rural",
    "ess_share_private_jobs_rural",
    "ess_share_private_jobs_urban",
    "sector_diversity",
)


# --------------------------------------------------------------------------- years, territory
def available_years(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Years with ESS statistics or private-employment data, ascending."""
    return q.state(con).years


def default_year(con: duckdb.DuckDBPyConnection) -> int | None:
    """The latest year having both ESS statistics and private employment, else the latest year
    having either, else None."""
    return q.state(con).year


def territory_info(con: duckdb.DuckDBPyConnection, level: str, code: str) -> dict:
    """``{level, code, name, population, density}`` plus the parent codes (``epci_code``,
    ``departement_code``, ``region_code``); raises :class:`IndicatorError`."""
    info = q.territory(q.state(con), level, code)
    return {k: v for k, v in info.items() if k != "geo"}


#: Runs a document's independent queries beside the main ones (each on its own cursor).
_WORKERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ess-diag-indicators")


def _ref_date(year: int | None) -> dt.date:
    """The date ages are measured at: 31 December of the year (today without a year)."""
    return dt.date(year, 12, 31) if year is not None else dt.date.today()


class _Request:
    """One territory's request: its row, the year, and the rows fetched for it and for the
    territories its document compares it with (one query for all of them)."""

    def __init__(self, con, level: str, code: str, year: int | None = None,
                 reference: tuple[str, str] | None = None, similar: bool = False,
                 detail: str = "all", employers: bool = False):  # fmt: skip
        self.st = q.state(con, year)
        self.year = self.st.year
        self.info = q.territory(self.st, level, code)
        self.pair = (self.info["level"], self.info["code"])
        # A full document also needs the employers (two scans of their own, independent of
        # everything below): they run on a second cursor while the rest is read.
        self.employers: Future | None = None
        if employers:
            self.employers = _WORKERS.submit(q.employers, self.st, self.pair, _ref_date(self.year))
        try:
            self._read(reference, similar, detail)
        except BaseException:
            self.wait()  # never leave a query running on a connection the caller may close
            raise

    def wait(self) -> None:
        """Let the employers' query end (its result or error is dropped)."""
        if self.employers is not None:
            futures.wait([self.employers])

    def _read(self, reference: tuple[str, str] | None, similar: bool, detail: str) -> None:
        self.ref = q.territory(self.st, *reference) if reference else None
        self.parents = q.parent_pairs(self.info) if similar else []
        self.similar = _similar(self.st, self.info) if similar else None
        found = self.similar["territories"] if self.similar is not None else []
        sim_pairs = [(t["level"], t["code"]) for t in found]
        pairs = [self.pair, *([(self.ref["level"], self.ref["code"])] if self.ref else []),
                 *self.parents, *sim_pairs]  # fmt: skip
        q.infos(self.st, pairs)
        self.entries = q.fetch(self.st, pairs, detail=detail, series=self.pair)

    def block(self, pair=None) -> dict:
        return q.block_of(self.st, self.entries.get(pair or self.pair), self.year)

    def private(self, pair=None) -> dict | None:
        return q.private_of(self.st, self.entries.get(pair or self.pair), self.year)

    def key_row(self, pair=None) -> types.KeyFigures:
        pair = pair or self.pair
        private = self.private(pair)
        return rules.key_row(self.st.infos[pair], self.year, self.block(pair),
                             None if private is None else private["total"],
                             private is not None)  # fmt: skip


# --------------------------------------------------------------------------- key figures
def key_figures(con: duckdb.DuckDBPyConnection, level: str, code: str,
                year: int | None = None) -> types.KeyFigures:  # fmt: skip
    """Key figures of one territory for ``year`` (default: :func:`default_year`).

    Keys: ``territory``, ``year``, ``ess_establishments``, ``ess_jobs``, ``private_jobs``,
    ``non_ess_private_jobs``, ``ess_share_private_jobs``, ``jobs_per_1000_inhabitants``,
    ``women_share``, ``jobs_source``, ``sources``, ``notes``.
    """
    return _Request(con, level, code, year, detail="").key_row()


def _flat(row: types.KeyFigures) -> dict:
    t = row["territory"]
    fields: Mapping[str, object] = row  # read by column name
    return {**t, **{k: fields[k] for k in KEY_FIGURE_COLUMNS[4:]}}


#: Up to this many territories, ``compute_all(within=…)`` reads their rows by code; beyond,
#: the whole level in one scan (cheaper than a long IN list).
_FETCH_BY_CODE_MAX = 5000


def compute_all(con: duckdb.DuckDBPyConnection, level: str, year: int | None = None,
                within: tuple[str, str] | None = None) -> pd.DataFrame:  # fmt: skip
    """Key figures of every territory of ``level`` in one query, by the same rules as
    :func:`key_figures`: columns :data:`KEY_FIGURE_COLUMNS` then :data:`EXTRA_COLUMNS`
    (counts as ``Int64``, jobs and shares as ``float64`` with NaN where not available), sorted by
    code. ``within=(level, code)`` keeps the territories having a commune in that territory.

    >>> compute_all(con, "commune", within=("epci", "200000001"))  # doctest: +SKIP
    """
    import pandas as pd

    q.check_level(level)
    st = q.state(con, year)
    pairs = None
    if within is not None:
        parent = q.territory(st, *within)
        inside = q.members_within(st, level, (parent["level"], parent["code"]))
        if not inside:  # e.g. an island commune outside any EPCI, asked for its EPCI
            pairs = []
            territories = []
        elif len(inside) <= _FETCH_BY_CODE_MAX:  # the communes of a département, not France
            pairs = [(level, code) for code in inside]
            territories = q.level_infos(st, level, inside)
        else:
            kept = set(inside)
            territories = [t for t in q.level_infos(st, level) if t["code"] in kept]
    else:
        territories = q.level_infos(st, level)
    entries = q.fetch(st, pairs, level=level, detail="sector") if territories else {}
    records = []
    for info in territories:
        entry = entries.get((level, info["code"]))
        block = q.block_of(st, entry, st.year)
        private = q.private_of(st, entry, st.year)
        total = None if private is None else private["total"]
        row = rules.key_row(info, st.year, block, total, private is not None)
        records.append({**_flat(row), **rules.extra_columns(block, private, st.year)})
    frame = pd.DataFrame.from_records(records, columns=[*KEY_FIGURE_COLUMNS, *EXTRA_COLUMNS])
    for col in ("population", "year", "ess_establishments"):
        frame[col] = frame[col].astype("Int64")
    for col in (*KEY_FIGURE_COLUMNS[6:12], *EXTRA_COLUMNS):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    return frame


# --------------------------------------------------------------------------- breakdowns
def _by_family(req: _Request) -> types.ByFamily:
    rows, notes = rules.family_rows(req.block())
    return {"rows": rows, "notes": notes}


def by_family(con: duckdb.DuckDBPyConnection, level: str, code: str,
              year: int | None = None) -> dict:  # fmt: skip
    """ESS establishments and jobs by family, with their shares of the territory's total.

    ``{"year", "jobs_source", "rows": [{family, label, establishments, jobs,
    share_establishments, share_jobs}], "notes"}`` (rows in ``nomenclatures.FAMILIES`` order).
    """
    req = _Request(con, level, code, year)
    return {"year": req.year, "jobs_source": rules.source_name(req.block()), **_by_family(req)}


def _by_sector(req: _Request) -> types.BySector:
    private, ref = req.private(), req.ref
    assert ref is not None, "the request of a sector breakdown has a reference territory"
    rows, notes = rules.sector_rows(
        req.block(), req.block((ref["level"], ref["code"])),
        None if private is None else private["sector"],
    )  # fmt: skip
    return {"reference": rules.territory_of(ref), "rows": rows, "notes": notes}


def by_sector(con: duckdb.DuckDBPyConnection, level: str, code: str, year: int | None = None,
              reference: tuple[str, str] = ("france", FRANCE_CODE)) -> dict:  # fmt: skip
    """ESS establishments and jobs by sector, ESS share of private jobs within each sector and
    the location quotient against ``reference`` (default France).

    ``{"year", "jobs_source", "reference": {level, code, name, population}, "rows": [{sector,
    label, establishments, jobs, share_jobs, private_jobs, ess_share_in_sector,
    reference_share_jobs, location_quotient}], "notes"}``.
    """
    req = _Request(con, level, code, year, reference=reference)
    return {"year": req.year, "jobs_source": rules.source_name(req.block()), **_by_sector(req)}


# --------------------------------------------------------------------------- rurality
def _rurality(req: _Request) -> types.Rurality:
    return rules.rurality(req.block(), req.info["geo"], req.private(), req.year)


def rurality(con: duckdb.DuckDBPyConnection, level: str, code: str,
             year: int | None = None) -> types.Rurality:  # fmt: skip
    """Rural/urban split of ESS and private jobs (communes of density levels 5–7 are rural).

    Keys: ``definition`` (``grille`` | ``estimation`` | ``mixte``), ``definition_label``,
    ``rural_communes``, ``urban_communes``, ``rural_population``, ``rural_population_share``,
    ``ess_jobs_rural``, ``ess_jobs_urban``, ``share_ess_jobs_rural``, ``private_jobs_rural``,
    ``private_jobs_urban``, ``ess_share_private_jobs_rural``, ``ess_share_private_jobs_urban``,
    ``jobs_source``, ``notes``.
    """
    return _rurality(_Request(con, level, code, year, detail=""))


def rural_sectors(con: duckdb.DuckDBPyConnection, level: str, code: str,
                  year: int | None = None) -> types.RuralSectors:  # fmt: skip
    """The ESS share of private jobs by sector in the territory's rural and urban communes
    (same rural definition as :func:`rurality`), with an extra first row ``action_sociale``
    (both action sociale sectors, as the Kit's rural references count them).

    ``{"year", "jobs_source", "rows": [{sector, label, ess_jobs_rural, ess_jobs_urban,
    private_jobs_rural, private_jobs_urban, ess_share_private_jobs_rural,
    ess_share_private_jobs_urban}], "notes"}``.
    """
    req = _Request(con, level, code, year, detail="all")
    notes: dict[str, str] = {}
    rows = rules.rural_sectors(req.block(), req.info["geo"], req.private(), req.year, notes)
    return {"year": req.year, "jobs_source": rules.source_name(req.block()), "rows": rows,
            "notes": notes}  # fmt: skip


# --------------------------------------------------------------------------- evolution
def _evolution(req: _Request, base_year=None, start_year=None, end_year=None) -> types.Evolution:
    st, info = req.st, req.info
    entry = req.entries.get(req.pair)
    series: list[types.SeriesRow] = []
    rural = {}
    for year in st.years:
        block = q.block_of(st, entry, year, estimate=False)
        private = q.private_of(st, entry, year)
        ess = float(block["totals"].get("effectifs") or 0.0) if block["kind"] else None
        series.append({"year": year, "ess_jobs": ess,
                       "private_jobs": None if private is None else float(private["total"]),
                       "non_ess_private_jobs": None, "ess_index": None,
                       "non_ess_index": None})  # fmt: skip
        if block["kind"] == "communes" and private and info["geo"]["rural_communes"]:
            rural[year] = (float(block["totals"]["jobs_rural"]), float(private["rural"]))
    return rules.evolution(series, rural, base_year, start_year, end_year)


def evolution(con: duckdb.DuckDBPyConnection, level: str, code: str,
              base_year: int | None = None, start_year: int | None = None,
              end_year: int | None = None) -> types.Evolution:  # fmt: skip
    """ESS jobs and non-ESS private jobs over every year with statistics.

    Index base 100 on ``base_year`` (default: first year of the series); relative change
    between ``start_year`` and ``end_year`` (default first and last usable years); years of
    decline. Keys: ``base_year``, ``start_year``, ``end_year``, ``series`` (``year``,
    ``ess_jobs``, ``private_jobs``, ``non_ess_private_jobs``, ``ess_index``,
    ``non_ess_index``), ``change``, ``rural_change``, ``decline_years``, ``notes``.
    The SIRENE estimate is a snapshot and never enters a series.
    """
    req = _Request(con, level, code, detail="")
    return _evolution(req, base_year, start_year, end_year)


# --------------------------------------------------------------------------- SIRENE history
def _sirene_history(req: _Request) -> list[types.HistoryRow]:
    return rules.history_rows(*q.sirene_history(req.st, req.pair))


def sirene_history(con: duckdb.DuckDBPyConnection, level: str,
                   code: str) -> list[types.HistoryRow]:  # fmt: skip
    """ESS employer establishments active and employer on 31 December of each year of the
    loaded SIRENE history (``ess-diag import StockEtablissementHistorique…``), oldest first:
    ``[{"year", "establishments", "by_family": {family: count}}]`` — empty when no history is
    loaded. Counts of establishments, never jobs (effectifs are not historised)."""
    return _sirene_history(_Request(con, level, code, detail=""))


history_change = rules.history_change


# --------------------------------------------------------------------------- resilience
def _resilience(req: _Request) -> types.Resilience:
    notes: dict[str, str] = {}
    block = req.block()
    diversity, present, reason = rules.diversity(block)
    if reason:
        notes["sector_diversity"] = reason
    ref_date = _ref_date(req.year)
    found = req.employers.result() if req.employers is not None else None
    top, employers, total_jobs, median_days = found or q.employers(req.st, req.pair, ref_date)
    top5: list[types.Employer] = [
        {"name": None if partial else name, "partial": partial, "jobs": jobs, "establishments": n}
        for _, jobs, n, partial, name in top
    ]
    top_share = rules.ratio(sum(t["jobs"] for t in top5), total_jobs) if top5 else None
    if top_share is None:
        notes["top5_employers_share"] = (
            "Aucun établissement employeur de l'ESS dans le répertoire pour ce territoire."
        )
    if median_days is None:
        notes["median_age_years"] = (
            "Aucune date de création connue pour les établissements employeurs de l'ESS."
        )
    return {
        "sector_diversity": diversity,
        "sectors_present": present,
        "sectors_total": len(DIVERSITY_SECTORS),
        "top5_employers_share": top_share,
        "top5_employers": top5,
        "employers": employers,
        "median_age_years": None if median_days is None else float(median_days) / 365.25,
        "reference_date": ref_date.isoformat(),
        "jobs_source": rules.source_name(block),
        "notes": notes,
    }


def resilience(con: duckdb.DuckDBPyConnection, level: str, code: str,
               year: int | None = None) -> types.Resilience:  # fmt: skip
    """The parts of resilience, shown separately (no composite score).

    Keys: ``sector_diversity`` (Shannon evenness 0–1 of ESS jobs over the sectors),
    ``sectors_present``, ``sectors_total``, ``top5_employers_share``, ``top5_employers``
    (``name`` — None under partial diffusion —, ``partial``, ``jobs``, ``establishments``),
    ``employers``, ``median_age_years``, ``reference_date``, ``jobs_source``, ``notes``.
    Concentration and age come from the actors (SIRENE) whatever the jobs source.
    """
    return _resilience(_Request(con, level, code, year, detail="sector"))


# --------------------------------------------------------------------------- comparisons
def _similar(st: q.State, info: dict, n: int = 5) -> types.Similar:
    found = q.similar(st, info, n) if info["level"] != "france" else []
    notes = {}
    if not found:
        notes["territories"] = (
            "Pas de territoire comparable : la France est unique à son niveau."
            if info["level"] == "france"
            else "Population ou densité inconnue : pas de comparaison possible."
        )
    return {"criteria": list(SIMILARITY_CRITERIA), "territories": found, "notes": notes}


def similar_territories(con: duckdb.DuckDBPyConnection, level: str, code: str,
                        n: int = 5) -> types.Similar:  # fmt: skip
    """The ``n`` territories of the same level closest by population, density and rural share.

    Distance: Euclidean over the three criteria standardised across the level (z-scores of
    ln(population), ln(density) and the rural population share). ``{"criteria": [...],
    "territories": [{level, code, name, population, density, rural_population_share,
    distance}], "notes"}``.
    """
    st = q.state(con)
    return _similar(st, q.territory(st, level, code), n)


def _comparisons(req: _Request) -> types.Comparisons:
    sim = req.similar
    assert sim is not None, "the request of comparisons looks for similar territories"

    def row(pair):
        key = req.key_row(pair)
        return {**_flat(key), "notes": key["notes"]}

    similar = [
        {**row((t["level"], t["code"])), "density": t["density"],
         "rural_population_share": t["rural_population_share"], "distance": t["distance"]}
        for t in sim["territories"]
    ]  # fmt: skip
    return {
        "parents": [row(p) for p in req.parents if p in req.st.infos],
        "similar": {
            "criteria": sim["criteria"],
            "territories": similar,
            "notes": sim["notes"],
        },  # fmt: skip
        "notes": {},
    }


def comparisons(con: duckdb.DuckDBPyConnection, level: str, code: str,
                year: int | None = None) -> types.Comparisons:  # fmt: skip
    """Key figures of the parent territories and of the five most similar territories.

    ``{"parents": [key-figure rows], "similar": {"criteria": [...], "territories": [key-figure
    rows + density, rural_population_share, distance]}, "notes"}``. A key-figure row has the
    columns of :data:`KEY_FIGURE_COLUMNS` plus ``notes``.
    """
    return _comparisons(_Request(con, level, code, year, similar=True, detail=""))


# --------------------------------------------------------------------------- zones blanches
def _zones(req: _Request, sector: str | None = None) -> types.ZonesBlanches:
    block, geo = req.block(), req.info["geo"]
    out: types.ZonesBlanches = {
        "year": req.year,
        "jobs_source": rules.source_name(block),
        "communes_total": int(geo["communes"]),
        "population_total": int(geo["population"]),
        "by_sector": [],
        "sector": sector,
        "communes": [],
        "notes": {},
    }
    if block["kind"] not in ("communes", "estimation"):
        out["notes"]["by_sector"] = _R_NO_ESS_DATA if block["kind"] is None else _R_COMMUNE_DETAIL
        return out
    out["by_sector"] = rules.zone_rows(block, geo["communes"], geo["population"])
    if sector is not None:
        out["communes"] = q.lacking_communes(req.st, req.pair, block["kind"], sector)
    return out


def zones_blanches(con: duckdb.DuckDBPyConnection, level: str, code: str,
                   year: int | None = None, sector: str | None = None) -> types.ZonesBlanches:  # fmt: skip
    """Communes of the territory with no ESS employer establishment in a sector.

    ``{"year", "jobs_source", "communes_total", "population_total", "by_sector": [{sector,
    label, communes, population, population_share}], "sector", "communes": [{code, name,
    population}] (only when ``sector`` is given), "notes"}``.
    """
    if sector is not None and sector not in nomenclatures.SECTOR_LABELS:
        raise IndicatorError(f"Secteur inconnu : « {sector} ».")
    return _zones(_Request(con, level, code, year, detail="sector"), sector)


# --------------------------------------------------------------------------- the document
def compute(con: duckdb.DuckDBPyConnection, level: str, code: str, year: int | None = None,
            reference: tuple[str, str] = ("france", FRANCE_CODE)) -> Document:  # fmt: skip
    """The full indicator set of one territory: the stable JSON document of
    ``ess-diag indicators`` (every key documented in ``docs/methodologie.md``).

    >>> doc = compute(con, "departement", "01")  # doctest: +SKIP
    >>> doc["ess_jobs"], doc["jobs_source"]  # doctest: +SKIP
    (12345.0, 'statistiques')
    """
    req = _Request(con, level, code, year, reference=reference, similar=True, employers=True)
    try:
        return _document(req)
    finally:
        req.wait()


def _document(req: _Request) -> Document:
    key = req.key_row()
    return {
        "schema_version": 1,
        "territory": key["territory"],
        "year": req.year,
        "years_available": list(req.st.years),
        "demo": req.st.demo,
        "ess_establishments": key["ess_establishments"],
        "ess_jobs": key["ess_jobs"],
        "private_jobs": key["private_jobs"],
        "non_ess_private_jobs": key["non_ess_private_jobs"],
        "ess_share_private_jobs": key["ess_share_private_jobs"],
        "jobs_per_1000_inhabitants": key["jobs_per_1000_inhabitants"],
        "women_share": key["women_share"],
        "jobs_source": key["jobs_source"],
        "sources": key["sources"],
        "by_family": _by_family(req),
        "by_sector": _by_sector(req),
        "rural": _rurality(req),
        "evolution": _evolution(req),
        "sirene_history": _sirene_history(req),
        "resilience": _resilience(req),
        "comparisons": _comparisons(req),
        "zones_blanches": _zones(req),
        "notes": key["notes"],
    }


def summary_text(doc: Document) -> str:
    """A short French plain-text rendering of :func:`compute`'s document (for the terminal)."""
    from ..formatting import NOT_AVAILABLE, fmt_int, fmt_num, fmt_pct

    t = doc["territory"]
    source = {
        JOBS_SOURCE_STATS: "statistiques importées",
        JOBS_SOURCE_ESTIMATE: "estimation à partir des tranches d'effectifs SIRENE",
        None: NOT_AVAILABLE,
    }[doc["jobs_source"]]
    lines = [
        f"{t['name']} ({LEVEL_LABELS_LOWER[t['level']]} {t['code']}), {fmt_int(t['population'])} "
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
