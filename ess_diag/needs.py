"""Besoins du territoire: the zones blanches of a sector or a proximity service, and the nearest
ESS establishment that provides it.

A **zone blanche** is a commune of the territory with no ESS employer establishment of the
chosen sector (:func:`ess_diag.indicators.zones_blanches`, from the loaded statistics or the
SIRENE estimate) or of the chosen proximity service (:data:`nomenclatures.PROXIMITY_SERVICES`:
active employer ESS establishments of the directory whose NAF code is one of the service's).

For each, the **nearest ESS establishment** of that sector or service, anywhere in the database
(it may lie outside the territory), by great-circle distance from the commune's point
(``territories.lon/lat``) to the establishment's coordinates; establishments without
coordinates are left out (and counted in the notes).

>>> zones(con, "epci", "200000001", "secteur:commerce")["communes"][0]["nearest"]
{'actor_id': ..., 'name': ..., 'commune_code': ..., 'commune_name': ..., 'distance_km': 12.3}
"""

from __future__ import annotations

from typing import TypedDict

import duckdb
import numpy as np

from . import indicators, nomenclatures
from .formatting import fmt_int, fmt_num
from .vocabulary import check_level

__all__ = [
    "EARTH_RADIUS_KM",
    "Nearest",
    "NeedCommune",
    "Needs",
    "choices",
    "choice_label",
    "great_circle_km",
    "zones",
    "summary_sentence",
    "contribution_text",
]

#: Mean Earth radius (IUGG), for great-circle distances.
EARTH_RADIUS_KM = 6371.0088

_SECTOR = "secteur"
_SERVICE = "service"
_PARTIAL_NAME = "Établissement (diffusion partielle)"


class Nearest(TypedDict):
    actor_id: str
    name: str
    commune_code: str | None
    commune_name: str | None
    distance_km: float


class NeedCommune(TypedDict):
    code: str
    name: str
    population: int
    lon: float | None
    lat: float | None
    nearest: Nearest | None


class Needs(TypedDict):
    choice: str
    kind: str
    key: str
    label: str
    definition: str
    year: int | None
    communes_total: int
    population_total: int
    communes: list[NeedCommune]
    population: int
    population_share: float | None
    notes: dict[str, str]


def choices() -> dict[str, str]:
    """Every choice of the Besoins page, ``"service:KEY"`` then ``"secteur:KEY"`` → label."""
    out = {
        f"{_SERVICE}:{s.key}": f"{s.label} (service de proximité)"
        for s in nomenclatures.PROXIMITY_SERVICES
    }
    for s in nomenclatures.SECTORS:
        if s.key not in ("non_classe", "autres_services"):
            out[f"{_SECTOR}:{s.key}"] = f"Secteur : {s.label}"
    return out


def _split(choice: str) -> tuple[str, str]:
    kind, _, key = choice.partition(":")
    if kind == _SERVICE and key in nomenclatures.PROXIMITY_SERVICE_LABELS:
        return kind, key
    if kind == _SECTOR and key in nomenclatures.SECTOR_LABELS:
        return kind, key
    raise ValueError(f"Choix inconnu : « {choice} » (attendu : service:CLÉ ou secteur:CLÉ).")


def choice_label(choice: str) -> str:
    kind, key = _split(choice)
    if kind == _SERVICE:
        return nomenclatures.PROXIMITY_SERVICE_LABELS[key]
    return nomenclatures.SECTOR_LABELS[key]


def great_circle_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Haversine distance in km between two WGS84 points.

    >>> round(great_circle_km(2.3522, 48.8566, 4.8357, 45.7640), 1)  # Paris → Lyon
    391.5
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return float(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h)))


def _unit(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lo, la = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _establishments(cur, kind: str, key: str) -> tuple[str, list]:
    """SQL condition and parameters selecting the ESS establishments of a sector or service."""
    base = "a.is_ess AND a.active AND a.employer"
    if kind == _SERVICE:
        service = next(s for s in nomenclatures.PROXIMITY_SERVICES if s.key == key)
        return f"{base} AND list_contains(?, a.naf)", [list(service.naf_codes)]
    return f"{base} AND a.sector = ?", [key]


def _lacking_by_service(cur, level: str, code: str, key: str) -> list[dict]:
    cond, params = _establishments(cur, _SERVICE, key)
    return [
        {"code": c, "name": n, "population": int(p)}
        for c, n, p in cur.execute(
            f"""
            SELECT c.code, c.name, coalesce(c.population, 0)::BIGINT AS pop
            FROM territory_communes m JOIN territories c ON c.level = 'commune'
                 AND c.code = m.commune_code
            WHERE m.level = ? AND m.code = ?
              AND NOT EXISTS (SELECT 1 FROM actors a WHERE a.commune_code = m.commune_code
                              AND {cond})
            ORDER BY pop DESC, c.code
            """,  # noqa: S608 (fixed condition, values bound)
            [level, code, *params],
        ).fetchall()
    ]


def _nearest(cur, kind: str, key: str, points: list[tuple[float, float]], notes: dict):
    """For each (lon, lat), the nearest establishment of the sector/service, or None."""
    cond, params = _establishments(cur, kind, key)
    found = cur.execute(
        f"""
        SELECT a.actor_id, CASE WHEN a.partial_diffusion THEN NULL ELSE a.name END,
               a.commune_code, t.name, a.lon, a.lat
        FROM actors a LEFT JOIN territories t ON t.level = 'commune' AND t.code = a.commune_code
        WHERE {cond} AND a.lon IS NOT NULL AND a.lat IS NOT NULL
        ORDER BY a.actor_id
        """,  # noqa: S608 (fixed condition, values bound)
        params,
    ).fetchall()
    missing = cur.execute(
        f"SELECT count(*) FROM actors a WHERE {cond} AND (a.lon IS NULL OR a.lat IS NULL)",  # noqa: S608
        params,
    ).fetchone()[0]
    if missing:
        notes["nearest_missing_coordinates"] = (
            f"{fmt_int(missing)} établissement(s) sans coordonnées ne sont pas pris en compte "
            "dans le calcul du plus proche."
        )
    if not found:
        return [None] * len(points)
    targets = _unit(np.array([r[4] for r in found]), np.array([r[5] for r in found]))
    out: list[Nearest | None] = []
    # Nearest on the sphere = largest dot product of unit vectors; chunks bound the memory.
    for start in range(0, len(points), 1024):
        chunk = points[start : start + 1024]
        src = _unit(np.array([p[0] for p in chunk]), np.array([p[1] for p in chunk]))
        best = np.argmax(src @ targets.T, axis=1)
        for (lon, lat), i in zip(chunk, best, strict=True):
            actor_id, name, commune, commune_name, alon, alat = found[int(i)]
            out.append(
                {
                    "actor_id": actor_id,
                    "name": name or _PARTIAL_NAME,
                    "commune_code": commune,
                    "commune_name": commune_name,
                    "distance_km": great_circle_km(lon, lat, alon, alat),
                }
            )
    return out


def zones(
    con: duckdb.DuckDBPyConnection, level: str, code: str, choice: str, year: int | None = None
) -> Needs:
    """The zones blanches of ``choice`` (``"secteur:KEY"`` or ``"service:KEY"``) in a territory,
    with the population living there and, for each commune, its nearest ESS establishment."""
    check_level(level)
    kind, key = _split(choice)
    cur = con.cursor()
    notes: dict[str, str] = {}
    if kind == _SECTOR:
        zb = indicators.zones_blanches(con, level, code, year, sector=key)
        lacking: list[dict] = [dict(c) for c in zb["communes"]]
        notes.update(zb["notes"])
        year, total_c, total_p = zb["year"], zb["communes_total"], zb["population_total"]
        definition = (
            "Communes sans établissement employeur de l'ESS du secteur "
            f"« {nomenclatures.SECTOR_LABELS[key]} » "
            + (
                "(estimation d'après le répertoire SIRENE)."
                if zb["jobs_source"] == "estimation_sirene"
                else f"(statistiques {year})."
            )
        )
    else:
        lacking = _lacking_by_service(cur, level, code, key)
        total_c, total_p = cur.execute(
            """SELECT count(*), coalesce(sum(c.population), 0)::BIGINT
               FROM territory_communes m JOIN territories c ON c.level = 'commune'
                    AND c.code = m.commune_code WHERE m.level = ? AND m.code = ?""",
            [level, code],
        ).fetchall()[0]
        definition = (
            "Communes sans établissement employeur actif de l'ESS dont l'activité (NAF) relève "
            f"du service « {nomenclatures.PROXIMITY_SERVICE_LABELS[key]} » (répertoire des "
            "acteurs)."
        )
    points = {
        c: (lon, lat)
        for c, lon, lat in cur.execute(
            "SELECT code, lon, lat FROM territories WHERE level = 'commune' "
            "AND code IN (SELECT unnest(?))",
            [[c["code"] for c in lacking]],
        ).fetchall()
    }
    located = [c for c in lacking if points.get(c["code"], (None, None))[0] is not None]
    nearest = dict(
        zip(
            [c["code"] for c in located],
            _nearest(cur, kind, key, [points[c["code"]] for c in located], notes),
            strict=True,
        )
    )
    communes: list[NeedCommune] = [
        {
            "code": str(c["code"]),
            "name": str(c["name"]),
            "population": int(c["population"]),
            "lon": points.get(c["code"], (None, None))[0],
            "lat": points.get(c["code"], (None, None))[1],
            "nearest": nearest.get(c["code"]),
        }
        for c in lacking
    ]
    population = sum(c["population"] for c in communes)
    return {
        "choice": choice,
        "kind": kind,
        "key": key,
        "label": choice_label(choice),
        "definition": definition,
        "year": year,
        "communes_total": int(total_c),
        "population_total": int(total_p),
        "communes": communes,
        "population": population,
        "population_share": population / total_p if total_p else None,
        "notes": notes,
    }


def summary_sentence(result: Needs) -> str:
    """One French sentence: how many communes, how many inhabitants (for the page, the
    projection screen and the synthesis)."""
    n, total = len(result["communes"]), result["communes_total"]
    if not total:
        return "Aucune commune dans ce territoire."
    if n == 0:
        return f"Toutes les communes ({fmt_int(total)}) ont au moins un établissement de l'ESS."
    share = result["population_share"]
    pct = "" if share is None else f" ({fmt_num(100 * share, 1)} % de la population)"
    return (
        f"{fmt_int(n)} commune{'s' if n > 1 else ''} sur {fmt_int(total)} sans établissement de "
        f"l'ESS — {fmt_int(result['population'])} habitants{pct}."
    )


def contribution_text(result: Needs, commune: NeedCommune) -> str:
    """The text of a "besoin" contribution added from a zone blanche."""
    text = f"Zone blanche « {result['label']} » : {commune['name']}"
    near = commune["nearest"]
    if near is not None:
        text += f" — établissement de l'ESS le plus proche à {fmt_num(near['distance_km'], 1)} km"
        if near["commune_name"]:
            text += f" ({near['commune_name']})"
    return text + "."
