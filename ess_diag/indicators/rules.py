"""The rules of the published figures, written once: every function here turns the rows a query
fetched for one territory (a *block*) into figures and French notes. :func:`compute` and
:func:`compute_all` both go through them, so a territory has the same figures in its document
and in the table of its level.

A block is ``{"kind", "sources", "totals", "family", "sector"}``: ``kind`` is ``"communes"``
(sum of commune statistics), ``"direct"`` (statistics at the territory's own level),
``"estimation"`` (SIRENE estimate) or None (nothing loaded); ``totals`` has ``etablissements``,
``effectifs``, ``jobs_rural`` and, when the source gives it, ``effectifs_femmes``; ``family``
and ``sector`` map a key to its ``etablissements`` / ``effectifs`` (empty: no breakdown).
"""

from __future__ import annotations

import math
from typing import Literal

from .. import nomenclatures
from ..formatting import is_missing
from . import types

JOBS_SOURCE_STATS = "statistiques"
JOBS_SOURCE_ESTIMATE = "estimation_sirene"

#: Sectors entering the diversity index (and the zones blanches): every ESS sector except
#: "non classé"; the index is normalised by ln(len(DIVERSITY_SECTORS)).
DIVERSITY_SECTORS: tuple[str, ...] = tuple(
    s.key for s in nomenclatures.SECTORS if s.key != "non_classe"
)

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
_R_NO_CHANGE = "Évolution non calculable : valeur manquante ou nulle la première année."

_DEFINITION_LABELS = {
    "grille": "Grille communale de densité de l'INSEE (niveaux 5 à 7 = rural)",
    "estimation": (
        "Estimation à partir de la densité de population (la grille INSEE n'est pas importée) ; "
        "niveaux estimés 5 à 7 = rural"
    ),
    "mixte": "Grille INSEE pour une partie des communes, estimation par la densité pour les autres",
}


def ratio(num, den) -> float | None:
    """``num / den``, or None when either is missing or ``den`` is 0 (never a ZeroDivision)."""
    if is_missing(num) or is_missing(den) or den == 0:
        return None
    return float(num) / float(den)


def capped(value: float | None) -> float | None:
    """A share over 1 is not published (the sources disagree): None."""
    return None if value is None or value > 1 else value


def _f(value) -> float | None:
    return None if is_missing(value) else float(value)


def _i(value) -> int | None:
    return None if is_missing(value) else int(round(value))


def empty_block(kind: str | None = None) -> dict:
    return {"kind": kind, "sources": set(), "totals": {}, "family": {}, "sector": {}}


def source_name(block: dict) -> str | None:
    """The ``jobs_source`` of a block."""
    if block["kind"] is None:
        return None
    return JOBS_SOURCE_ESTIMATE if block["kind"] == "estimation" else JOBS_SOURCE_STATS


# --------------------------------------------------------------------------- key figures
def private_jobs(total: float | None, year: int | None, known: bool, notes: dict):
    """Private jobs of the year (None, with the reason, when none are loaded for it)."""
    if year is None:
        notes["private_jobs"] = _R_NO_YEAR
        return None
    if not known:
        notes["private_jobs"] = _R_NO_PRIVATE.format(year=year)
        return None
    return float(total or 0.0)


def women_share(block: dict, notes: dict) -> float | None:
    """Women's share of ESS jobs: statistics giving the women's jobs only."""
    kind, totals = block["kind"], block["totals"]
    if kind == "estimation":
        notes["women_share"] = _R_WOMEN_ESTIMATE
    elif kind is None:
        notes["women_share"] = _R_NO_ESS_DATA
    elif not totals.get("effectifs"):
        notes["women_share"] = _R_NO_ESS_JOBS
    elif is_missing(totals.get("effectifs_femmes")):
        notes["women_share"] = _R_WOMEN_MISSING
    else:
        return ratio(totals["effectifs_femmes"], totals["effectifs"])
    return None


def territory_of(info: dict) -> types.Territory:
    """The ``territory`` of a section, from a territory's info row."""
    return {"level": info["level"], "code": info["code"], "name": info["name"],
            "population": info["population"]}  # fmt: skip


def key_row(territory: dict, year: int | None, block: dict, private: float | None,
            private_known: bool) -> types.KeyFigures:  # fmt: skip
    """The key figures of one territory (``territory``: its info row) from its ESS block and its
    private jobs."""
    notes: dict[str, str] = {}
    kind, totals = block["kind"], block["totals"]
    estab = jobs = None
    if kind is None:
        notes["ess_establishments"] = notes["ess_jobs"] = _R_NO_ESS_DATA
    else:
        estab = _i(totals.get("etablissements") or 0.0)
        jobs = _f(totals.get("effectifs") or 0.0)
        if kind == "estimation":
            when = f" de {year}" if year is not None else ""
            notes["jobs_source"] = (
                f"Pas de statistiques ESS{when} pour ce territoire : emplois estimés à partir des "
                "tranches d'effectifs du répertoire SIRENE (centre de chaque tranche)."
            )
    priv = private_jobs(private, year, private_known, notes)
    share = ratio(jobs, priv)
    if share is None and "private_jobs" not in notes and jobs is not None:
        notes["ess_share_private_jobs"] = _R_ZERO_PRIVATE
    elif share is not None and share > 1:
        share = None
        notes["ess_share_private_jobs"] = _R_INCOHERENT
    elif share is None:
        # No private_jobs note: jobs is None, the ESS data is missing (ess_jobs note, or the
        # generic reason when the loaded total is not a number).
        reason = notes.get("private_jobs") or notes.get("ess_jobs") or _R_NO_ESS_DATA
        notes["ess_share_private_jobs"] = reason
    non_ess = None
    if jobs is not None and priv is not None and jobs <= priv:
        non_ess = priv - jobs
    else:
        notes["non_ess_private_jobs"] = (
            notes.get("ess_share_private_jobs") or notes.get("private_jobs") or _R_NO_ESS_DATA
        )
    per_1000 = ratio(jobs, territory.get("population"))
    if per_1000 is not None:
        per_1000 *= 1000
    else:
        notes["jobs_per_1000_inhabitants"] = notes.get("ess_jobs") or _R_ZERO_POP
    women = women_share(block, notes)
    return {
        "territory": territory_of(territory),
        "year": year,
        "ess_establishments": estab,
        "ess_jobs": jobs,
        "private_jobs": priv,
        "non_ess_private_jobs": non_ess,
        "ess_share_private_jobs": share,
        "jobs_per_1000_inhabitants": per_1000,
        "women_share": women,
        "jobs_source": source_name(block),
        "sources": sorted(block["sources"]),
        "notes": notes,
    }


# --------------------------------------------------------------------------- breakdowns
def family_rows(block: dict) -> tuple[list[types.FamilyRow], types.Notes]:
    """ESS establishments and jobs by family, with their shares of the territory's total."""
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
    rows: list[types.FamilyRow] = []
    for fam, label in nomenclatures.FAMILIES.items():
        vals = block["family"].get(fam, {})
        estab = _i(vals.get("etablissements") or 0.0) if known else None
        jobs = _f(vals.get("effectifs") or 0.0) if known else None
        rows.append(
            {
                "family": fam,
                "label": label,
                "establishments": estab,
                "jobs": jobs,
                "share_establishments": ratio(estab, tot_estab),
                "share_jobs": ratio(jobs, tot_jobs),
            }
        )
    return rows, notes


def _sector_known(block: dict) -> bool:
    return block["kind"] is not None and (bool(block["sector"]) or block["kind"] == "estimation")


def sector_rows(
    block: dict, ref_block: dict, private: dict | None
) -> tuple[list[types.SectorRow], types.Notes]:
    """By sector: ESS figures, ESS share of private jobs in the sector, location quotient
    against the reference territory. ``private`` maps sectors to private jobs (None: no
    private data for the year)."""
    notes: dict[str, str] = {}
    tot_jobs = block["totals"].get("effectifs")
    ref_tot = ref_block["totals"].get("effectifs")
    known = _sector_known(block) or (block["kind"] is not None and not tot_jobs)
    ref_known = _sector_known(ref_block)
    if block["kind"] is None:
        notes["by_sector"] = _R_NO_ESS_DATA
    elif not known:
        notes["by_sector"] = _R_NO_BREAKDOWN
    elif not tot_jobs:
        notes["share_jobs"] = notes["location_quotient"] = _R_NO_ESS_JOBS
    if not ref_known or not ref_tot:
        notes["reference_share_jobs"] = notes["location_quotient"] = (
            "Le territoire de référence n'a pas d'emplois ESS par secteur."
        )
    if private is None:
        notes["private_jobs"] = notes["ess_share_in_sector"] = (
            "Pas de données d'emploi privé par secteur pour cette année."
        )
    rows: list[types.SectorRow] = []
    for sector in nomenclatures.SECTORS:
        vals = block["sector"].get(sector.key, {})
        estab = _i(vals.get("etablissements") or 0.0) if known else None
        jobs = _f(vals.get("effectifs") or 0.0) if known else None
        share = ratio(jobs, tot_jobs)
        priv = None if private is None else float(private.get(sector.key, 0.0))
        in_sector = ratio(jobs, priv)
        if in_sector is not None and in_sector > 1:
            in_sector = None
            notes["ess_share_in_sector"] = _R_INCOHERENT
        elif in_sector is None and private is not None and jobs is not None:
            notes.setdefault(
                "ess_share_in_sector",
                "Part non calculable dans les secteurs sans emploi privé recensé sur le territoire.",
            )
        ref_jobs = ref_block["sector"].get(sector.key, {}).get("effectifs") or 0.0
        ref_share = ratio(ref_jobs, ref_tot) if ref_known else None
        lq = ratio(share, ref_share)
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


def diversity(block: dict) -> tuple[float | None, int, str | None]:
    """Shannon evenness of ESS jobs over :data:`DIVERSITY_SECTORS`: H / ln(K), the sectors
    present, and the reason when it cannot be computed."""
    if block["kind"] is None:
        return None, 0, _R_NO_ESS_DATA
    if not block["sector"] and block["kind"] != "estimation":
        return None, 0, _R_NO_BREAKDOWN
    jobs = [block["sector"].get(s, {}).get("effectifs") or 0.0 for s in DIVERSITY_SECTORS]
    total = sum(jobs)
    if total <= 0:
        return None, 0, _R_NO_ESS_JOBS
    h = -sum((j / total) * math.log(j / total) for j in jobs if j > 0)
    return h / math.log(len(DIVERSITY_SECTORS)), sum(1 for j in jobs if j > 0), None


# --------------------------------------------------------------------------- rurality
def rural_split(block: dict, private: dict | None, year: int | None,
                notes: dict) -> types.RuralSplit:  # fmt: skip
    """ESS and private jobs in the territory's rural and urban communes, and the shares."""
    kind, totals = block["kind"], block["totals"]
    ess_r = ess_u = None
    if kind in ("communes", "estimation"):
        ess_r = float(totals.get("jobs_rural") or 0.0)
        ess_u = float(totals.get("effectifs") or 0.0) - ess_r
    elif kind is None:
        notes["ess_jobs_rural"] = notes["ess_jobs_urban"] = _R_NO_ESS_DATA
    else:
        notes["ess_jobs_rural"] = notes["ess_jobs_urban"] = _R_COMMUNE_DETAIL
    prv_r = prv_u = None
    if private is not None:
        prv_r = float(private["rural"])
        prv_u = float(private["total"]) - prv_r
    else:
        reason = _R_NO_YEAR if year is None else _R_NO_PRIVATE.format(year=year)
        notes["private_jobs_rural"] = notes["private_jobs_urban"] = reason
    share_rural = ratio(ess_r, None if ess_r is None or ess_u is None else ess_r + ess_u)
    if share_rural is None:
        notes["share_ess_jobs_rural"] = notes.get("ess_jobs_rural", _R_NO_ESS_JOBS)

    def share(e, p, key, where):
        value = ratio(e, p)
        if value is None:
            notes[key] = (
                notes.get("ess_jobs_rural")
                or notes.get("private_jobs_rural")
                or f"Aucun emploi privé recensé dans les communes {where} du territoire."
            )
        elif value > 1:
            notes[key] = _R_INCOHERENT
        return capped(value)

    return {
        "ess_jobs_rural": ess_r,
        "ess_jobs_urban": ess_u,
        "share_ess_jobs_rural": share_rural,
        "private_jobs_rural": prv_r,
        "private_jobs_urban": prv_u,
        "ess_share_private_jobs_rural": share(
            ess_r, prv_r, "ess_share_private_jobs_rural", "rurales"
        ),  # fmt: skip
        "ess_share_private_jobs_urban": share(
            ess_u, prv_u, "ess_share_private_jobs_urban", "urbaines"
        ),  # fmt: skip
    }


def rurality(block: dict, geo: dict, private: dict | None, year: int | None) -> types.Rurality:
    """The rurality section: the territory's communes (``geo``: derived_territory) and the
    rural/urban split of jobs."""
    notes: dict[str, str] = {}
    communes, grid = geo.get("communes") or 0, geo.get("grid_communes") or 0
    definition = "grille" if communes and grid == communes else ("mixte" if grid else "estimation")
    rural_pop = int(geo.get("rural_population") or 0)
    split = rural_split(block, private, year, notes)
    return {
        "definition": definition,
        "definition_label": _DEFINITION_LABELS[definition],
        "rural_communes": int(geo.get("rural_communes") or 0),
        "urban_communes": int(communes - (geo.get("rural_communes") or 0)),
        "rural_population": rural_pop,
        "rural_population_share": ratio(rural_pop, geo.get("population") or 0.0),
        **split,
        "jobs_source": source_name(block),
        "notes": notes,
    }


#: The Kit's rural references group the two action sociale sectors: so does this extra row.
ACTION_SOCIALE = ("action_sociale_sans_hebergement", "action_sociale_avec_hebergement")


def rural_sectors(block: dict, geo: dict, private: dict | None, year: int | None,
                  notes: dict) -> list[types.RuralSectorRow]:  # fmt: skip
    """For each sector (and action sociale as a whole), ESS and private jobs in the territory's
    rural and urban communes and the ESS share of private jobs in each."""
    if block["kind"] not in ("communes", "estimation"):
        notes["rows"] = _R_NO_ESS_DATA if block["kind"] is None else _R_COMMUNE_DETAIL
        return []
    if private is None:
        notes["rows"] = _R_NO_YEAR if year is None else _R_NO_PRIVATE.format(year=year)
        return []
    communes, rural_communes = geo.get("communes") or 0, geo.get("rural_communes") or 0
    # A territory all rural (or all urban) — a single commune, for one — needs no split.
    whole = "rural" if communes and rural_communes == communes else (
        "urbain" if not rural_communes else None)  # fmt: skip
    p_rural = private.get("sector_rural") or {}

    def split(keys) -> tuple[float, float, float, float]:
        e = sum(float(block["sector"].get(k, {}).get("effectifs") or 0.0) for k in keys)
        er = sum(float(block["sector"].get(k, {}).get("jobs_rural") or 0.0) for k in keys)
        p = sum(float(private["sector"].get(k) or 0.0) for k in keys)
        pr = sum(float(p_rural.get(k) or 0.0) for k in keys)
        if whole == "rural":
            er, pr = e, p
        elif whole == "urbain":
            er = pr = 0.0
        return er, e - er, pr, p - pr

    rows: list[types.RuralSectorRow] = []
    groups: list[tuple[str, str, tuple[str, ...]]] = [
        ("action_sociale", "Action sociale (avec et sans hébergement)", ACTION_SOCIALE)
    ]
    groups += [(s, nomenclatures.SECTOR_LABELS[s], (s,)) for s in DIVERSITY_SECTORS]
    for key, label, keys in groups:
        er, eu, pr, pu = split(keys)
        rows.append({"sector": key, "label": label, "ess_jobs_rural": er, "ess_jobs_urban": eu,
                     "private_jobs_rural": pr, "private_jobs_urban": pu,
                     "ess_share_private_jobs_rural": capped(ratio(er, pr)),
                     "ess_share_private_jobs_urban": capped(ratio(eu, pu))})  # fmt: skip
    return rows


def extra_columns(block: dict, private: dict | None, year: int | None) -> dict:
    """compute_all's rural and diversity columns (the same values as :func:`rurality` and the
    resilience section)."""
    split = rural_split(block, private, year, {})
    return {
        "share_ess_jobs_rural": split["share_ess_jobs_rural"],
        "ess_share_private_jobs_rural": split["ess_share_private_jobs_rural"],
        "ess_share_private_jobs_urban": split["ess_share_private_jobs_urban"],
        "sector_diversity": diversity(block)[0],
    }


# --------------------------------------------------------------------------- evolution
def _index(value, base) -> float | None:
    return None if ratio(value, base) is None else 100.0 * value / base


def _change(first, last) -> float | None:
    if first is None or last is None:
        return None
    return ratio(last - first, first)


def evolution(series: list[types.SeriesRow], rural: dict[int, tuple], base_year, start_year,
              end_year) -> types.Evolution:  # fmt: skip
    """Index base 100, change between two years and years of decline of ESS jobs and of the
    rest of private jobs. ``series``: ``{year, ess_jobs, private_jobs}`` from statistics only
    (the other keys None, filled here);
    ``rural``: year → (ESS jobs, private jobs) in the rural communes (commune statistics)."""
    notes: dict[str, str] = {}
    for r in series:
        ess, priv = r["ess_jobs"], r["private_jobs"]
        r["non_ess_private_jobs"] = (
            priv - ess if ess is not None and priv is not None and ess <= priv else None
        )
    usable = [
        r for r in series if r["ess_jobs"] is not None or r["non_ess_private_jobs"] is not None
    ]
    if not usable:
        notes["series"] = (
            "Aucune série annuelle : l'évolution demande des statistiques ESS et d'emploi privé "
            "sur plusieurs années (l'estimation SIRENE n'est qu'une photographie)."
        )
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
    start_year = start_year if start_year is not None else (usable[0]["year"] if usable else None)
    end_year = end_year if end_year is not None else (usable[-1]["year"] if usable else None)
    first = next((r for r in series if r["year"] == start_year), None)
    last = next((r for r in series if r["year"] == end_year), None)
    change: dict[str, float | None] = {}
    decline: dict[str, list[int]] = {}
    keys: tuple[Literal["ess_jobs"], Literal["non_ess_private_jobs"]] = (
        "ess_jobs",
        "non_ess_private_jobs",
    )
    for key in keys:
        change[key] = _change(first[key] if first else None, last[key] if last else None)
        if change[key] is None:
            notes[f"change.{key}"] = _R_NO_CHANGE
        decline[key] = [
            cur["year"]
            for prev, cur in zip(series, series[1:], strict=False)
            if (p := prev[key]) is not None and (c := cur[key]) is not None and c < p
        ]
    return {
        "base_year": base_year,
        "start_year": start_year,
        "end_year": end_year,
        "series": series,
        "change": change,
        "rural_change": _rural_change(rural, start_year, end_year, notes),
        "decline_years": decline,
        "notes": notes,
    }


def _rural_change(rural: dict[int, tuple], start_year, end_year,
                  notes: dict) -> dict[str, float | None]:  # fmt: skip
    """The same comparison restricted to the territory's rural communes."""
    out: dict[str, float | None] = {"ess_jobs": None, "non_ess_private_jobs": None}
    if start_year not in rural or end_year not in rural:
        notes["rural_change"] = (
            "Pas de commune rurale, ou pas de statistiques par commune pour les deux années."
        )
        return out
    (e0, p0), (e1, p1) = rural[start_year], rural[end_year]
    n0 = p0 - e0 if e0 <= p0 else None
    n1 = p1 - e1 if e1 <= p1 else None
    out["ess_jobs"] = ratio(e1 - e0, e0)
    out["non_ess_private_jobs"] = _change(n0, n1)
    for key, value in out.items():
        if value is None:
            notes[f"rural_change.{key}"] = _R_NO_CHANGE
    return out


# --------------------------------------------------------------------------- zones blanches
def zone_rows(block: dict, communes_total: int, population_total: float) -> list[types.ZoneRow]:
    """For each sector, the communes of the territory without an ESS employer establishment
    of the sector (from the block's sector rows: communes and population having one)."""
    rows: list[types.ZoneRow] = []
    for s in DIVERSITY_SECTORS:
        vals = block["sector"].get(s, {})
        lacking_pop = int(population_total - (vals.get("population_present") or 0))
        rows.append(
            {
                "sector": s,
                "label": nomenclatures.SECTOR_LABELS[s],
                "communes": int(communes_total - (vals.get("communes_present") or 0)),
                "population": lacking_pop,
                "population_share": ratio(lacking_pop, population_total),
            }
        )
    return rows


# --------------------------------------------------------------------------- SIRENE history
def history_rows(years: list[int], found: list[tuple]) -> list[types.HistoryRow]:
    """One row per year the loaded history covers, oldest first: ESS employer establishments
    on 31 December and their split by family (every family, 0 when none; the families sum to
    the total). ``found``: ``(year, family or None for the total, count)``."""
    per: dict[int, dict] = {}
    for year, family, n in found:
        per.setdefault(int(year), {})[family] = int(n)
    out: list[types.HistoryRow] = []
    for year in years:
        counts = per.get(year, {})
        by_family = {f: counts.get(f, 0) for f in nomenclatures.FAMILY_ORDER}
        out.append({"year": year, "establishments": counts.get(None, 0), "by_family": by_family})
    return out


def history_change(history: list[types.HistoryRow]) -> float | None:
    """Relative change of the series between its first and last years (None when the first
    year has no establishment or there is no series)."""
    if not history:
        return None
    return _change(float(history[0]["establishments"]), float(history[-1]["establishments"]))
