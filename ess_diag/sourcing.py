"""Sourcing for reserved public contracts: who, near a site, offers a purchase segment.

A buyer gives a **site** (a commune — its point from the reference geography — or a
latitude/longitude), a **radius** in km, a **purchase segment**
(:data:`ess_diag.nomenclatures.PURCHASE_SEGMENTS`) and optionally a **minimum number of jobs**
the contract needs. :func:`search` answers with the active structures offering the segment
within the radius, nearest first (great-circle distance computed in SQL, parameters bound),
with the legal bases of the Code de la commande publique they open
(:func:`ess_diag.nomenclatures.legal_bases_for`), a summary per legal basis, the total
capacity in jobs and — when no single structure reaches the minimum — the nearest
**groupings** (groupement momentané d'entreprises) of 2 or 3 structures that do.

Who is looked at: active actors with coordinates that are ESS (``is_ess``) or inclusive
structures (``inclusive_kind`` set: an EA may be a company outside the ESS perimeter). A
structure offers a segment when its NAF is one of the segment's sub-classes **or** its
``services`` name the segment. Partial-diffusion entries never show a name (the SQL replaces
it, as :mod:`ess_diag.actor_list` does).

>>> site = site_at(45.95, 5.35)                           # doctest: +SKIP
>>> search(con, site, 20, "nettoyage", min_jobs=30).to_dict()["count"]  # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import duckdb

from . import nomenclatures
from .actor_list import PARTIAL
from .formatting import is_missing

__all__ = [
    "EARTH_RADIUS_KM",
    "MAX_RADIUS_KM",
    "GROUPING_CANDIDATES",
    "SourcingError",
    "Site",
    "SourcingResult",
    "site_at",
    "site_for_commune",
    "haversine_km",
    "search",
    "groupings",
    "outlines_near",
    "find_communes",
    "main_commune",
]

#: Mean Earth radius (IUGG), km.
EARTH_RADIUS_KM = 6371.0088
#: The largest radius accepted (a région is ~300 km across).
MAX_RADIUS_KM = 500.0
#: Groupings are searched among this many nearest structures with known jobs (C(12,3) = 220).
GROUPING_CANDIDATES = 12
#: At most this many groupings are proposed.
MAX_GROUPINGS = 5


class SourcingError(ValueError):
    """A request sourcing cannot answer (unknown segment or commune, bad site or radius),
    explained in French."""


@dataclass(frozen=True)
class Site:
    """Where the contract is performed: a point, and how it was given."""

    lat: float
    lon: float
    label: str
    commune_code: str | None = None

    def to_dict(self) -> dict:
        return {
            "lat": round(self.lat, 6),
            "lon": round(self.lon, 6),
            "label": self.label,
            "commune_code": self.commune_code,
        }


def site_at(lat: float, lon: float) -> Site:
    """A site given by its coordinates (decimal degrees, WGS84)."""
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError):
        raise SourcingError("Coordonnées du site illisibles (degrés décimaux attendus).") from None
    if not (math.isfinite(lat_f) and math.isfinite(lon_f)) or not (
        -90 <= lat_f <= 90 and -180 <= lon_f <= 180
    ):
        raise SourcingError(
            "Coordonnées du site hors limites (latitude entre -90 et 90, longitude entre "
            "-180 et 180)."
        )
    return Site(lat_f, lon_f, f"point {lat_f:.4f}, {lon_f:.4f}".replace(".", ","))


def site_for_commune(con: duckdb.DuckDBPyConnection, code: str) -> Site:
    """A site at a commune's point (any code a file may carry: communes déléguées and
    arrondissements resolve to their commune)."""
    raw = str(code or "").strip().upper()
    rows = (
        con.cursor()
        .execute(
            "SELECT t.code, t.name, t.lat, t.lon FROM commune_aliases a "
            "JOIN territories t ON t.level = 'commune' AND t.code = a.commune_code "
            "WHERE a.code = ?",
            [raw],
        )
        .fetchall()
    )
    if not rows:
        raise SourcingError(f"Commune « {raw} » inconnue du référentiel géographique.")
    commune, name, lat, lon = rows[0]
    if lat is None or lon is None:
        raise SourcingError(f"La commune {name} ({commune}) n'a pas de coordonnées.")
    return Site(float(lat), float(lon), f"{name} ({commune})", commune)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass
class SourcingResult:
    """What :func:`search` found; :meth:`to_dict` is the CLI's JSON document."""

    site: Site
    segment: str
    radius_km: float
    min_jobs: float | None
    results: list[dict] = field(default_factory=list)
    by_legal_basis: dict[str, int] = field(default_factory=dict)
    total_jobs: float = 0.0
    jobs_unknown: int = 0
    groupings: list[dict] = field(default_factory=list)

    @property
    def segment_label(self) -> str:
        return nomenclatures.PURCHASE_SEGMENT_LABELS[self.segment]

    @property
    def reached_by_one(self) -> bool:
        """A single structure reaches the minimum (always true without a minimum)."""
        return self.min_jobs is None or any(r["reaches_min"] for r in self.results)

    def to_dict(self) -> dict:
        return {
            "site": self.site.to_dict(),
            "segment": self.segment,
            "segment_label": self.segment_label,
            "radius_km": self.radius_km,
            "min_jobs": self.min_jobs,
            "count": len(self.results),
            "by_legal_basis": dict(self.by_legal_basis),
            "total_jobs": self.total_jobs,
            "jobs_unknown": self.jobs_unknown,
            "results": [{k: r[k] for k in _RESULT_KEYS} for r in self.results],
            "groupings": self.groupings,
        }


#: Keys of each result in the JSON document (the CLI contract), in order.
_RESULT_KEYS = (
    "siret",
    "name",
    "family",
    "inclusive_kind",
    "esus",
    "naf",
    "distance_km",
    "jobs",
    "jobs_source",
    "legal_bases",
    "actor_id",
    "commune_code",
    "commune_name",
    "services",
    "offers_by",
    "reaches_min",
    "lat",
    "lon",
)

# Bounding box first (cheap, prunes a national base to the site's surroundings), then the
# exact haversine distance. Latitude/longitude spans are widened slightly so the box never
# cuts a point the circle keeps.
_SQL = f"""
WITH box AS (
    SELECT a.actor_id, a.siret, a.siren, a.name, a.partial_diffusion, a.commune_code, a.naf,
           a.family, a.is_ess, a.inclusive_kind, a.esus, a.services, a.jobs,
           a.jobs_is_estimate, a.lat, a.lon
    FROM actors a
    WHERE a.active AND a.lat IS NOT NULL AND a.lon IS NOT NULL
      AND (a.is_ess OR a.inclusive_kind IS NOT NULL)
      AND a.lat BETWEEN $lat - $dlat AND $lat + $dlat
      AND a.lon BETWEEN $lon - $dlon AND $lon + $dlon
      AND (list_contains($naf, a.naf) OR list_contains(a.services, $segment))
), dist AS (
    SELECT *, 2 * {EARTH_RADIUS_KM} * asin(least(1.0, sqrt(
               pow(sin(radians(lat - $lat) / 2), 2)
               + cos(radians($lat)) * cos(radians(lat)) * pow(sin(radians(lon - $lon) / 2), 2)
           ))) AS distance_km
    FROM box
)
SELECT d.actor_id, d.siret,
       CASE WHEN d.partial_diffusion OR coalesce(u.partial_diffusion, false) THEN $partial
            ELSE coalesce(d.name, u.denomination, '(sans nom)') END AS name,
       d.partial_diffusion OR coalesce(u.partial_diffusion, false) AS partial,
       d.family, d.is_ess, d.inclusive_kind, d.esus, d.naf, d.services, d.jobs,
       d.jobs_is_estimate, d.commune_code, c.name AS commune_name, d.lat, d.lon, d.distance_km,
       list_contains($naf, d.naf) AS by_naf,
       coalesce(list_contains(d.services, $segment), false) AS by_services
FROM dist d
LEFT JOIN unites_legales u ON u.siren = d.siren
LEFT JOIN territories c ON c.level = 'commune' AND c.code = d.commune_code
WHERE d.distance_km <= $radius
ORDER BY d.distance_km, d.actor_id
"""


def _check_request(segment: str, radius_km: float, min_jobs: float | None) -> None:
    if segment not in nomenclatures.PURCHASE_SEGMENT_LABELS:
        known = ", ".join(nomenclatures.PURCHASE_SEGMENT_LABELS)
        raise SourcingError(f"Segment d'achat « {segment} » inconnu. Segments possibles : {known}.")
    if not (isinstance(radius_km, int | float) and math.isfinite(radius_km)) or not (
        0 < radius_km <= MAX_RADIUS_KM
    ):
        raise SourcingError(
            f"Rayon invalide : un nombre de kilomètres entre 0 et {MAX_RADIUS_KM:g} est attendu."
        )
    if min_jobs is not None and (not math.isfinite(min_jobs) or min_jobs < 0):
        raise SourcingError("Nombre minimal d'emplois invalide : un nombre positif est attendu.")


def search(
    con: duckdb.DuckDBPyConnection,
    site: Site,
    radius_km: float,
    segment: str,
    *,
    min_jobs: float | None = None,
) -> SourcingResult:
    """The structures within ``radius_km`` of ``site`` offering ``segment``, nearest first,
    their legal bases, the summary and the groupings (see the module's docstring).

    Raises :class:`SourcingError` (French message) for an unknown segment or a bad radius.
    """
    _check_request(segment, radius_km, min_jobs)
    seg = next(s for s in nomenclatures.PURCHASE_SEGMENTS if s.key == segment)
    dlat = radius_km / 110.5 + 0.01
    cos_lat = max(math.cos(math.radians(site.lat)), 0.01)
    dlon = min(radius_km / (111.32 * cos_lat) + 0.01, 180.0)
    params = {
        "lat": site.lat,
        "lon": site.lon,
        "dlat": dlat,
        "dlon": dlon,
        "naf": list(seg.naf),
        "segment": segment,
        "radius": float(radius_km),
        "partial": PARTIAL,
    }
    cur = con.cursor()
    rows = cur.execute(_SQL, params).fetchall()
    columns = [d[0] for d in cur.description]
    result = SourcingResult(site, segment, float(radius_km), min_jobs)
    counts = dict.fromkeys(nomenclatures.LEGAL_BASES, 0)
    bases: dict[tuple, list[str]] = {}  # (kind, is_ess) → legal bases: a few distinct pairs
    for values in rows:
        row = dict(zip(columns, values, strict=True))
        key = (row["inclusive_kind"], bool(row["is_ess"]))
        if key not in bases:
            bases[key] = nomenclatures.legal_bases_for(key[0], key[1], segment)
        item = _result_item(row, bases[key], min_jobs)
        for basis in item["legal_bases"]:
            counts[basis] += 1
        if item["jobs"] is None:
            result.jobs_unknown += 1
        else:
            result.total_jobs += item["jobs"]
        result.results.append(item)
    result.total_jobs = round(result.total_jobs, 1)
    result.by_legal_basis = counts
    if min_jobs is not None and not result.reached_by_one:
        result.groupings = groupings(result.results, float(min_jobs))
    return result


def _result_item(row: dict, legal_bases: list[str], min_jobs: float | None) -> dict:
    jobs = None if is_missing(row["jobs"]) else float(row["jobs"])
    by = [w for w, flag in (("naf", row["by_naf"]), ("prestations", row["by_services"])) if flag]
    return {
        "actor_id": row["actor_id"],
        "siret": row["siret"],
        "name": row["name"],
        "partial_diffusion": bool(row["partial"]),
        "family": row["family"],
        "is_ess": bool(row["is_ess"]),
        "inclusive_kind": row["inclusive_kind"],
        "esus": None if row["esus"] is None else bool(row["esus"]),
        "naf": row["naf"],
        "services": list(row["services"] or []),
        "offers_by": by,
        "distance_km": round(float(row["distance_km"]), 2),
        "jobs": jobs,
        "jobs_source": None
        if jobs is None
        else ("estimate" if row["jobs_is_estimate"] else "declared"),
        "legal_bases": list(legal_bases),
        "reaches_min": min_jobs is None or (jobs is not None and jobs >= min_jobs),
        "commune_code": row["commune_code"],
        "commune_name": row["commune_name"],
        "lat": float(row["lat"]),
        "lon": float(row["lon"]),
    }


def groupings(
    results: list[dict], min_jobs: float, *, candidates: int = GROUPING_CANDIDATES
) -> list[dict]:
    """The nearest combinations of 2 or 3 structures whose jobs together reach ``min_jobs``.

    Searched among the ``candidates`` nearest structures with known jobs (a bounded search:
    at most C(12,2) + C(12,3) = 286 combinations). Pairs come before triples (fewer partners
    to coordinate), then the combinations whose farthest member is nearest, then the smallest
    total distance. At most :data:`MAX_GROUPINGS`. A grouping's legal bases:
    :func:`_grouping_bases` (every member must qualify).
    """
    pool = [r for r in results if r["jobs"] is not None and r["jobs"] > 0][:candidates]
    found = []
    for size in (2, 3):
        for combo in itertools.combinations(pool, size):
            jobs = sum(r["jobs"] for r in combo)
            if jobs < min_jobs:
                continue
            far = max(r["distance_km"] for r in combo)
            total = sum(r["distance_km"] for r in combo)
            found.append((size, far, total, combo, jobs))
    found.sort(key=lambda f: (f[0], f[1], f[2], [r["actor_id"] for r in f[3]]))
    return [
        {
            "members": [
                {"siret": r["siret"], "name": r["name"], "actor_id": r["actor_id"]} for r in combo
            ],
            "jobs": round(jobs, 1),
            "max_distance_km": round(far, 2),
            "legal_bases": _grouping_bases(combo),
        }
        for _size, far, _total, combo, jobs in found[:MAX_GROUPINGS]
    ]


def _grouping_bases(combo) -> list[str]:
    """The reserved contracts a grouping can answer: each member must qualify. Since the loi
    ASAP (2020) a contract may be reserved to L2113-12 and L2113-13 structures together, so a
    grouping of EA/ESAT and SIAE answers when every member opens one of the two (both are
    then listed); L2113-15 when every member opens it."""
    inclusive = [set(r["legal_bases"]) & {"L2113-12", "L2113-13"} for r in combo]
    bases: set[str] = set().union(*inclusive) if all(inclusive) else set()
    if all("L2113-15" in r["legal_bases"] for r in combo):
        bases.add("L2113-15")
    return sorted(bases)


def outlines_near(con: duckdb.DuckDBPyConnection, site: Site, radius_km: float) -> list[str]:
    """GeoJSON outlines of the territories around the site, to draw under a sourcing map:
    communes for a small radius, EPCI beyond 12 km (whose point lies in the radius' box,
    widened by a quarter and 5 km)."""
    level = "commune" if radius_km <= 12 else "epci"
    reach = radius_km * 1.25 + 5
    dlat = reach / 110.5
    dlon = reach / (111.32 * max(math.cos(math.radians(site.lat)), 0.01))
    rows = (
        con.cursor()
        .execute(
            "SELECT g.geojson FROM territories t "
            "JOIN geometries g ON g.level = t.level AND g.code = t.code "
            "WHERE t.level = ? AND t.lat BETWEEN ? AND ? AND t.lon BETWEEN ? AND ? "
            "ORDER BY t.code",
            [level, site.lat - dlat, site.lat + dlat, site.lon - dlon, site.lon + dlon],
        )
        .fetchall()
    )
    return [r[0] for r in rows]


def find_communes(
    con: duckdb.DuckDBPyConnection, text: str, limit: int = 30
) -> list[tuple[str, str]]:
    """Up to ``limit`` communes ``(code, "Name (département)")`` whose name contains ``text``
    (accents and case ignored) or whose code starts with it, most populous first."""
    needle = str(text or "").strip()
    if not needle:
        return []
    rows = (
        con.cursor()
        .execute(
            "SELECT code, name || ' (' || coalesce(departement_code, '?') || ')' "
            "FROM territories WHERE level = 'commune' "
            "AND (strip_accents(lower(name)) LIKE strip_accents(lower(?)) OR code LIKE ?) "
            "ORDER BY population DESC NULLS LAST, code LIMIT ?",
            [f"%{needle}%", f"{needle}%", int(limit)],
        )
        .fetchall()
    )
    return [(r[0], r[1]) for r in rows]


def main_commune(con: duckdb.DuckDBPyConnection, level: str, code: str) -> str | None:
    """The most populous commune of a territory (the page's first site)."""
    rows = (
        con.cursor()
        .execute(
            "SELECT t.code FROM territory_communes tc "
            "JOIN territories t ON t.level = 'commune' AND t.code = tc.commune_code "
            "WHERE tc.level = ? AND tc.code = ? ORDER BY t.population DESC NULLS LAST, t.code "
            "LIMIT 1",
            [level, str(code)],
        )
        .fetchall()
    )
    return rows[0][0] if rows else None
