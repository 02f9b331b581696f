"""Actors declaring networks, on the fixture geography (imported as ``cooperation_fixtures``).

Hand-computed cooperations (networks with ≥ 2 active members in the territory):

* commune 01001: « PTCE Bocage » (N1, N2) → 1 network, 2 members;
* communes 01002, 01004, 01005, 69123: none (one member each, N5 is closed);
* EPCI 200000001 (01001, 01002): PTCE Bocage (N1, N2, N3) → 1 network, 3 members;
* EPCI 200000002 (01004, 01005): « GME Cantine » (N4, N8) → 1 network, 2 members;
* département 01: PTCE Bocage (3) and GME Cantine (N1, N4, N8) → 2 networks, 5 members;
* département 69: none (PTCE Bocage has only N6 there, « Solo » only N7);
* région 84: PTCE Bocage (N1, N2, N3, N6), GME Cantine (3) → 2 networks, 6 members.
"""

from __future__ import annotations

# actor_id, name, partial, commune, lon, lat, active, is_ess, networks, needs
MEMBERS = [
    (
        "N1",
        "Ressourcerie du Bocage",
        False,
        "01001",
        4.91,
        46.11,
        True,
        True,
        ["PTCE Bocage", "GME Cantine"],
        "Un local de stockage",
    ),
    (
        "N2",
        "Jardins <b>solidaires</b>",
        False,
        "01001",
        4.93,
        46.13,
        True,
        True,
        ["ptce   bocage"],
        None,
    ),
    ("N3", "Coop'Bois", False, "01002", 4.97, 46.12, True, True, ["PTCE Bocage"], ""),
    (
        "N4",
        "Cantine de la Ville",
        False,
        "01004",
        5.31,
        45.96,
        True,
        True,
        ["GME Cantine"],
        "Des partenaires pour la restauration",
    ),
    ("N5", "Ancienne cantine", False, "01004", 5.32, 45.97, False, True, ["GME Cantine"], None),
    ("N6", "Marie Martin", True, "69123", 4.81, 45.73, True, True, ["PTCE Bocage"], None),
    ("N7", "Solo SCOP", False, "69123", 4.82, 45.74, True, True, ["Solo"], None),
    ("N8", "Traiteur ESAT", False, "01005", None, None, True, False, ["GME Cantine", ""], None),
    ("N9", "Sans réseau", False, "01001", 4.92, 46.12, True, True, None, None),
]

EXPECTED = {
    ("commune", "01001"): (1, 2),
    ("commune", "01002"): (0, 0),
    ("commune", "01004"): (0, 0),
    ("commune", "69123"): (0, 0),
    ("epci", "200000001"): (1, 3),
    ("epci", "200000002"): (1, 2),
    ("epci", "200046977"): (0, 0),
    ("departement", "01"): (2, 5),
    ("departement", "69"): (0, 0),
    ("region", "84"): (2, 6),
    ("france", "FR"): (2, 6),
}


def insert_members(con) -> None:
    for a in MEMBERS:
        con.execute(
            """INSERT INTO actors (actor_id, name, partial_diffusion, commune_code, lon, lat,
                   active, is_ess, networks, needs, family, sector, jobs, source)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'association', 'sante', 5, 'modele')""",
            list(a),
        )
