"""Hand-made statistics, private employment and actors over the conftest geography.

Every number below is small on purpose: the expected indicators in the tests are computed by
hand from these rows (see the comments there).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ess_diag import derived

SOURCE = "urssaf_test"

#: commune → year → (établissements, effectifs, effectifs_femmes); 01002 has no ESS at all.
ESS_TOTALS = {
    "01001": {2021: (2, 24.0, None), 2022: (3, 27.0, None), 2023: (3, 30.0, 20.0)},
    "01004": {2021: (11, 210.0, None), 2022: (10, 190.0, None), 2023: (10, 200.0, 140.0)},
    "01005": {2021: (4, 40.0, None), 2022: (5, 45.0, None), 2023: (5, 50.0, 30.0)},
    "69123": {2021: (38, 900.0, None), 2022: (39, 950.0, None), 2023: (40, 1000.0, 600.0)},
}
#: 2023 only: commune → sector → (établissements, effectifs)
ESS_SECTORS_2023 = {
    "01001": {"action_sociale_sans_hebergement": (2, 20.0), "sport_loisirs": (1, 10.0)},
    "01004": {
        "action_sociale_sans_hebergement": (4, 100.0),
        "sante": (3, 60.0),
        "finance_assurance": (3, 40.0),
    },
    "01005": {"enseignement": (5, 50.0)},
    "69123": {
        "action_sociale_sans_hebergement": (10, 400.0),
        "sante": (10, 300.0),
        "finance_assurance": (10, 200.0),
        "commerce": (10, 100.0),
    },
}
#: 2023 only: commune → family → (établissements, effectifs)
ESS_FAMILIES_2023 = {
    "01001": {"association": (2, 25.0), "cooperative": (1, 5.0)},
    "01004": {"association": (7, 150.0), "mutuelle": (2, 40.0), "cooperative": (1, 10.0)},
    "01005": {"association": (5, 50.0)},
    "69123": {
        "association": (20, 600.0),
        "cooperative": (10, 200.0),
        "mutuelle": (5, 150.0),
        "fondation": (5, 50.0),
    },
}
#: commune → year → sector → private jobs (01002: no private employer at all)
PRIVATE = {
    "01001": {
        2021: {"autres_services": 90.0},
        2022: {"autres_services": 95.0},
        2023: {"action_sociale_sans_hebergement": 25.0, "sport_loisirs": 10.0, "commerce": 65.0},
    },
    "01004": {
        2021: {"autres_services": 1050.0},
        2022: {"autres_services": 1020.0},
        2023: {
            "action_sociale_sans_hebergement": 150.0,
            "sante": 200.0,
            "finance_assurance": 100.0,
            "industrie_construction": 550.0,
        },
    },
    "01005": {
        2021: {"autres_services": 280.0},
        2022: {"autres_services": 290.0},
        2023: {"enseignement": 60.0, "commerce": 240.0},
    },
    "69123": {
        2021: {"autres_services": 9500.0},
        2022: {"autres_services": 9800.0},
        2023: {
            "action_sociale_sans_hebergement": 800.0,
            "sante": 1200.0,
            "finance_assurance": 1000.0,
            "commerce": 3000.0,
            "soutien_entreprises": 4000.0,
        },
    },
}

#: actor_id, siren, name, partial, commune, family, sector, jobs, employer, active, is_ess,
#: date_creation
ACTORS = [
    (
        "A1",
        "111111111",
        "Asso Bocage",
        False,
        "01001",
        "association",
        "action_sociale_sans_hebergement",
        7.5,
        True,
        True,
        True,
        dt.date(2000, 1, 1),
    ),
    (
        "A2",
        "222222222",
        "Club Bocage",
        False,
        "01001",
        "association",
        "sport_loisirs",
        1.5,
        True,
        True,
        True,
        dt.date(2010, 6, 30),
    ),
    (
        "A3a",
        "333333333",
        "Mutuelle Ville",
        False,
        "01004",
        "mutuelle",
        "sante",
        34.5,
        True,
        True,
        True,
        dt.date(1990, 1, 1),
    ),
    (
        "A3b",
        "333333333",
        "Mutuelle Ville (centre 2)",
        False,
        "01004",
        "mutuelle",
        "sante",
        14.5,
        True,
        True,
        True,
        dt.date(2015, 1, 1),
    ),
    # not counted: a non-employer, a closed one, a non-ESS firm
    (
        "A4",
        "444444444",
        "Asso sans salarié",
        False,
        "01004",
        "association",
        "sport_loisirs",
        0.0,
        False,
        True,
        True,
        dt.date(2018, 1, 1),
    ),
    (
        "A5",
        "555555555",
        "Asso fermée",
        False,
        "01005",
        "association",
        "enseignement",
        4.0,
        True,
        False,
        True,
        dt.date(1980, 1, 1),
    ),
    (
        "A6",
        "666666666",
        "SARL ordinaire",
        False,
        "01005",
        None,
        "commerce",
        34.5,
        True,
        True,
        False,
        dt.date(2001, 1, 1),
    ),
    (
        "A7",
        "777777777",
        None,
        True,
        "69123",
        "cooperative",
        "finance_assurance",
        74.5,
        True,
        True,
        True,
        dt.date(2005, 1, 1),
    ),
]


def insert_stats(con, with_sectors: bool = True) -> None:
    rows = []
    for commune, years in ESS_TOTALS.items():
        for year, (estab, jobs, women) in years.items():
            rows.append(("commune", commune, year, None, None, "etablissements", estab))
            rows.append(("commune", commune, year, None, None, "effectifs", jobs))
            if women is not None:
                rows.append(("commune", commune, year, None, None, "effectifs_femmes", women))
    if with_sectors:
        for commune, sectors in ESS_SECTORS_2023.items():
            for sector, (estab, jobs) in sectors.items():
                rows.append(("commune", commune, 2023, None, sector, "etablissements", estab))
                rows.append(("commune", commune, 2023, None, sector, "effectifs", jobs))
        for commune, families in ESS_FAMILIES_2023.items():
            for family, (estab, jobs) in families.items():
                rows.append(("commune", commune, 2023, family, None, "etablissements", estab))
                rows.append(("commune", commune, 2023, family, None, "effectifs", jobs))
    _insert(
        con,
        "ess_stats",
        ["level", "code", "year", "family", "sector", "measure", "value"],
        rows,
        source=SOURCE,
    )


def insert_private(con, years=(2021, 2022, 2023)) -> None:
    rows = [
        (commune, year, sector, jobs)
        for commune, by_year in PRIVATE.items()
        for year, sectors in by_year.items()
        if year in years
        for sector, jobs in sectors.items()
    ]
    _insert(
        con, "private_employment", ["commune_code", "year", "sector", "jobs"], rows, source=SOURCE
    )


def insert_actors(con) -> None:
    cols = ["actor_id", "siren", "name", "partial_diffusion", "commune_code", "family"]
    cols += ["sector", "jobs", "employer", "active", "is_ess", "date_creation"]
    _insert(con, "actors", cols, ACTORS, source="sirene")


def _insert(con, table: str, columns: list[str], rows: list[tuple], source: str) -> None:
    # One set-based insert from a frame: executemany is slow in DuckDB.
    frame = pd.DataFrame(rows, columns=columns).assign(source=source)
    if table == "private_employment":
        frame["establishments"] = 1.0
    cur = con.cursor()
    cur.register("fixture_rows", frame)
    names = ", ".join(frame.columns)
    cur.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM fixture_rows")  # noqa: S608
    cur.unregister("fixture_rows")
    # As an import does: the derived tables follow the data in the same step.
    derived.refresh(con)


def build(stats: bool = True, private_years=(2021, 2022, 2023), actors: bool = True):
    """A fresh in-memory database: fixture geography plus the rows asked for."""
    from geo_fixture import build_fixture_geography

    from ess_diag import store

    con = store.connect(":memory:")
    build_fixture_geography(con)
    if stats:
        insert_stats(con)
    if private_years:
        insert_private(con, years=private_years)
    if actors:
        insert_actors(con)
    return con
