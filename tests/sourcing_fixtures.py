"""Structures placed around one town (Ambérieu-en-Bugey, 01004, of the fixture geography), for
the sourcing tests of the package, the CLI and the page."""

from __future__ import annotations

import math

#: A structure: id, name, NAF, inclusive kind, ESUS, services, jobs, jobs estimated, active,
#: is_ess, family, partial diffusion, (north km, east km) from the town's point.
STRUCTURES = [
    # NAF only (nettoyage 81.21Z), 2 km north.
    (
        "N1",
        "Propreté Solidaire",
        "81.21Z",
        "EI",
        None,
        None,
        12.0,
        False,
        True,
        True,
        "societe_commerciale",
        False,
        (2.0, 0.0),
    ),
    # Services only (NAF of another trade), 5 km east.
    (
        "S1",
        "Atelier Vert",
        "88.99B",
        "ACI",
        True,
        ["nettoyage", "espaces_verts"],
        8.0,
        True,
        True,
        True,
        "association",
        False,
        (0.0, 5.0),
    ),
    # Both, 9 km south-west.
    (
        "B1",
        "ESAT du Bugey",
        "81.22Z",
        "ESAT",
        None,
        ["nettoyage"],
        20.0,
        False,
        True,
        True,
        "association",
        False,
        (-6.0, -6.5),
    ),
    # Partial diffusion, 11 km west: no name ever shown.
    (
        "P1",
        "Jean Secret",
        "81.21Z",
        None,
        None,
        None,
        1.5,
        True,
        True,
        True,
        "association",
        True,
        (0.0, -11.0),
    ),
    # GEIQ, 14 km north: offers nettoyage, opens no legal basis.
    (
        "G1",
        "GEIQ Propreté",
        "78.30Z",
        "GEIQ",
        None,
        ["nettoyage"],
        6.0,
        False,
        True,
        True,
        "association",
        False,
        (14.0, 0.0),
    ),
    # Closed establishment, 1 km away: excluded.
    (
        "C1",
        "Ancienne Régie",
        "81.21Z",
        "AI",
        None,
        None,
        30.0,
        False,
        False,
        True,
        "association",
        False,
        (1.0, 0.0),
    ),
    # Beyond the radius (25 km): excluded at 20 km.
    (
        "F1",
        "Nettoyage Lointain",
        "81.21Z",
        "EI",
        None,
        None,
        50.0,
        False,
        True,
        True,
        "cooperative",
        False,
        (25.0, 0.0),
    ),
    # Another segment only (espaces verts by NAF), 3 km: excluded for nettoyage.
    (
        "V1",
        "Jardins d'Ici",
        "81.30Z",
        "ACI",
        None,
        None,
        9.0,
        False,
        True,
        True,
        "association",
        False,
        (0.0, 3.0),
    ),
    # Not ESS, not inclusive, nettoyage by NAF, 4 km: excluded (not a supplier of the ESS).
    (
        "X1",
        "Clean SA",
        "81.21Z",
        None,
        None,
        None,
        40.0,
        False,
        True,
        False,
        None,
        False,
        (4.0, 0.0),
    ),
    # ESS, no inclusive kind, services_personne, 6 km: L2113-15 only for that segment.
    (
        "H1",
        "Aide à Domicile Solidaire",
        "88.10A",
        None,
        True,
        ["nettoyage"],
        None,
        False,
        True,
        True,
        "association",
        False,
        (-6.0, 0.0),
    ),
]

#: Expected nettoyage results within 20 km, nearest first.
NETTOYAGE_20KM = ["N1", "S1", "H1", "B1", "P1", "G1"]


def offset(lat: float, lon: float, north_km: float, east_km: float) -> tuple[float, float]:
    """A point ``north_km`` north and ``east_km`` east of (lat, lon) (small offsets)."""
    return (
        lat + north_km / 111.2,
        lon + east_km / (111.2 * math.cos(math.radians(lat))),
    )


def insert_structures(con, centre: tuple[float, float], structures=STRUCTURES) -> None:
    """Insert the structures around ``centre`` (lat, lon) into ``actors``."""
    rows = []
    for i, (
        sid,
        name,
        naf,
        kind,
        esus,
        services,
        jobs,
        estimate,
        active,
        ess,
        family,
        partial,
        (north, east),
    ) in enumerate(structures):
        lat, lon = offset(centre[0], centre[1], north, east)
        rows.append(
            (
                sid,
                f"123456789{i:05d}",
                None if partial else name,
                partial,
                "01004",
                naf,
                ess,
                family,
                "non_classe",
                jobs,
                estimate,
                jobs is not None,
                active,
                lon,
                lat,
                kind,
                esus,
                services,
            )
        )
    con.executemany(
        "INSERT INTO actors (actor_id, siret, name, partial_diffusion, commune_code, naf, "
        "is_ess, family, sector, jobs, jobs_is_estimate, employer, active, lon, lat, "
        "coord_source, source, inclusive_kind, esus, services) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'wgs84', 'modele', ?, ?, ?)",
        rows,
    )


def town_point(con) -> tuple[float, float]:
    lat, lon = con.execute(
        "SELECT lat, lon FROM territories WHERE level = 'commune' AND code = '01004'"
    ).fetchall()[0]
    return float(lat), float(lon)
