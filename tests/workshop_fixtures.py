"""Shared helpers for the workshop and report tests: a tiny territory and a driven session."""

from __future__ import annotations

import datetime as dt
import json

from ess_diag import store, workshop

__all__ = ["EVIL", "seed_territory", "drive_session"]

#: The classic XSS probe: must never reach any output unescaped.
EVIL = "<img src=x onerror=alert(1)>"

_SQUARE = {
    "01001": (5.00, 46.00),
    "01002": (5.10, 46.00),
    "01004": (5.00, 46.10),
}


def _square(lon: float, lat: float) -> str:
    ring = [[lon, lat], [lon + 0.1, lat], [lon + 0.1, lat + 0.1], [lon, lat + 0.1], [lon, lat]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def seed_territory(con) -> None:
    """EPCI 200000001 « CC du Bocage » with three communes (one with an accent) and outlines."""
    con.execute(
        "INSERT INTO territories (level, code, name, population) VALUES "
        "('epci', '200000001', 'CC du Bocage', 3000), "
        "('commune', '01001', 'L''Abergement-Clémenciat', 800), "
        "('commune', '01002', 'Bâgé-le-Châtel', 200), "
        "('commune', '01004', 'Ambérieu-en-Bugey', 2000)"
    )
    for code, (lon, lat) in _SQUARE.items():
        con.execute(
            "UPDATE territories SET lon = ?, lat = ? WHERE level = 'commune' AND code = ?",
            [lon + 0.05, lat + 0.05, code],
        )
        con.execute(
            "INSERT INTO territory_communes VALUES ('epci', '200000001', ?), ('commune', ?, ?)",
            [code, code, code],
        )
        con.execute("INSERT INTO commune_aliases VALUES (?, ?, 'COM', NULL)", [code, code])
        con.execute("INSERT INTO geometries VALUES ('commune', ?, ?)", [code, _square(lon, lat)])
    con.execute("INSERT INTO commune_aliases VALUES ('01099', '01001', 'COMD', 'Ancienne')")


def drive_session(con):
    """The acceptance scenario: 3 participants post 20 contributions, vote, the facilitator
    merges two. Returns ``(session, participants, ids)`` where ``ids`` maps a label to an id."""
    session = workshop.create_session(
        con,
        "epci",
        "200000001",
        "Atelier ESS du Bocage",
        session_date=dt.date(2026, 11, 23),
        place="Salle des fêtes",
        votes_per_participant=3,
    )
    alice = workshop.join(con, session.join_code, "Alice")
    bruno = workshop.join(con, session.join_code.lower(), "Bruno")
    chloe = workshop.join(con, session.join_code, EVIL)
    base = dt.datetime(2026, 11, 23, 9, 0)
    plan = [
        # (participant, category, text, commune, sector)
        (alice, "forces", "Un tissu associatif dense", "01001", None),
        (alice, "forces", "Des élus mobilisés", None, None),
        (alice, "faiblesses", "Peu de coopératives", None, "commerce"),
        (alice, "besoins", "Une épicerie solidaire", "01002", "commerce"),
        (alice, "besoins", "Un tiers-lieu", "01001", None),
        (alice, "pistes", "Créer un pôle territorial de coopération", None, None),
        (alice, "opportunites", "Le plan alimentaire territorial", None, None),
        (bruno, "besoins", "Épicerie solidaire !", "01002", "commerce"),
        (bruno, "freins", "Le manque de locaux", "01004", None),
        (bruno, "pistes", "Mutualiser un véhicule", None, None),
        (bruno, "pistes", "Une monnaie locale", None, "finance_assurance"),
        (bruno, "faiblesses", "Bénévoles vieillissants", None, None),
        (bruno, "forces", "Une ressourcerie active", "01004", None),
        (bruno, "opportunites", "Des friches à reconvertir", "01099", None),
        (chloe, "besoins", EVIL, None, None),
        (chloe, "besoins", "De la mobilité solidaire", None, None),
        (chloe, "pistes", "Un forum annuel de l'ESS", None, None),
        (chloe, "freins", "Des financements courts", None, None),
        (chloe, "faiblesses", "Une offre de santé fragile", None, "sante"),
        (chloe, "forces", "Des jeunes engagés", None, None),
    ]
    ids: dict[str, str] = {}
    for i, (who, category, text, commune, sector) in enumerate(plan):
        # Ten minutes between posts of one participant: the rate limit never applies here.
        ids[text] = workshop.post(
            con,
            session.session_id,
            category,
            text,
            participant_id=who,
            commune_code=commune,
            sector=sector,
            now=base + dt.timedelta(minutes=10 * i),
        )
    sid = session.session_id
    epicerie, epicerie2 = ids["Une épicerie solidaire"], ids["Épicerie solidaire !"]
    # Alice votes for both duplicates and the pôle; Bruno for the duplicate and the pôle;
    # Chloé for the tiers-lieu and the forum.
    for who, target in [
        (alice, epicerie),
        (alice, epicerie2),
        (alice, ids["Créer un pôle territorial de coopération"]),
        (bruno, epicerie2),
        (bruno, ids["Créer un pôle territorial de coopération"]),
        (chloe, ids["Un tiers-lieu"]),
        (chloe, ids["Un forum annuel de l'ESS"]),
    ]:
        workshop.vote(con, sid, who, target)
    workshop.merge(con, sid, epicerie, [epicerie2])
    return session, {"alice": alice, "bruno": bruno, "chloe": chloe}, ids


def fresh_con():
    con = store.connect(":memory:")
    seed_territory(con)
    return con
