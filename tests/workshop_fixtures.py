"""Shared helpers for the workshop and report tests: a tiny territory and a driven session."""

from __future__ import annotations

import datetime as dt

from ess_diag import store, workshop

__all__ = ["EVIL", "seed_territory", "drive_session", "fresh_con"]

#: The classic XSS probe: must never reach any output unescaped.
EVIL = "<img src=x onerror=alert(1)>"


def seed_territory(con) -> None:
    """The shared fixture geography (conftest) plus the indicator fixtures' ESS statistics and
    private employment: département 01 Ain has communes 01001, 01002, 01004, 01005."""
    from geo_fixture import build_fixture_geography
    from indicators_fixtures import insert_private, insert_stats

    build_fixture_geography(con)
    insert_stats(con)
    insert_private(con)


def drive_session(con):
    """The acceptance scenario: 3 participants post 20 contributions, vote, the facilitator
    merges two. Returns ``(session, participants, ids)`` where ``ids`` maps a label to an id."""
    session = workshop.create_session(
        con,
        "departement",
        "01",
        "Atelier ESS de l'Ain",
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
