"""Indicators against values computed by hand from tests/indicators_fixtures.py.

Geography (conftest): EPCI 200000001 = 01001 (800 hab., rural) + 01002 (200, rural);
EPCI 200000002 = 01004 (15 000, urban) + 01005 (2 000, urban); EPCI 200046977 = 69123 Lyon
(500 000, urban); département 01 = the four 01xxx communes; 69 = Lyon; région 84 = France = all.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import pandas as pd
import pytest
from indicators_fixtures import build, insert_actors, insert_private, insert_stats

from ess_diag import derived, nomenclatures
from ess_diag import indicators as ind

S = "urssaf_test"


@pytest.fixture(scope="module")
def con():
    """Commune statistics 2021–2023 (sectors and families in 2023), private jobs, actors.

    Shared by the module's read-only tests (building it takes most of a test's time); tests
    that write take ``fresh_con``.
    """
    db = build()
    yield db
    db.close()


@pytest.fixture
def fresh_con():
    db = build()
    yield db
    db.close()


@pytest.fixture(scope="module")
def estimate_con():
    """No ESS statistics at all: ESS figures come from the actors; private jobs 2023 only."""
    db = build(stats=False, private_years=(2023,))
    yield db
    db.close()


def kf(
    level,
    code,
    name,
    pop,
    estab,
    jobs,
    private,
    women,
    source=ind.JOBS_SOURCE_STATS,
    sources=(S,),
    year=2023,
    notes=None,
):
    """The expected key-figure dict, derived by the formulas of docs/methodologie.md."""
    return {
        "territory": {"level": level, "code": code, "name": name, "population": pop},
        "year": year,
        "ess_establishments": estab,
        "ess_jobs": jobs,
        "private_jobs": private,
        "non_ess_private_jobs": private - jobs,
        "ess_share_private_jobs": jobs / private,
        "jobs_per_1000_inhabitants": jobs / pop * 1000,
        "women_share": women,
        "jobs_source": source,
        "sources": list(sources),
        "notes": notes or {},
    }


# --------------------------------------------------------------------------- key figures
KEY_CASES = [
    # level, code, name, pop, estab, jobs, private, women
    ("commune", "01001", "L'Abergement-Clémenciat", 800, 3, 30.0, 100.0, 20 / 30),
    ("commune", "01004", "Ambérieu-en-Bugey", 15000, 10, 200.0, 1000.0, 140 / 200),
    ("epci", "200000001", "CC du Bocage", 1000, 3, 30.0, 100.0, 20 / 30),
    ("epci", "200000002", "CA de la Ville", 17000, 15, 250.0, 1300.0, 170 / 250),
    ("departement", "01", "Ain", 18000, 18, 280.0, 1400.0, 190 / 280),
    ("departement", "69", "Rhône", 500000, 40, 1000.0, 10000.0, 0.6),
    ("region", "84", "Auvergne-Rhône-Alpes", 518000, 58, 1280.0, 11400.0, 790 / 1280),
    ("france", "FR", "France", 518000, 58, 1280.0, 11400.0, 790 / 1280),
]


@pytest.mark.parametrize("case", KEY_CASES, ids=[f"{c[0]}-{c[1]}" for c in KEY_CASES])
def test_key_figures_from_commune_statistics(con, case):
    assert ind.key_figures(con, *case[:2]) == kf(*case)


def test_commune_without_private_jobs_nor_ess(con):
    got = ind.key_figures(con, "commune", "01002")
    assert got == {
        "territory": {
            "level": "commune",
            "code": "01002",
            "name": "L'Abergement-de-Varey",
            "population": 200,
        },
        "year": 2023,
        "ess_establishments": 0,
        "ess_jobs": 0.0,
        "private_jobs": 0.0,
        "non_ess_private_jobs": 0.0,
        "ess_share_private_jobs": None,
        "jobs_per_1000_inhabitants": 0.0,
        "women_share": None,
        "jobs_source": "statistiques",
        "sources": [],
        "notes": {
            "ess_share_private_jobs": ind._R_ZERO_PRIVATE,
            "women_share": ind._R_NO_ESS_JOBS,
        },
    }


def test_nothing_loaded_is_not_available_never_zero(geo_con):
    got = ind.key_figures(geo_con, "epci", "200000001")
    assert got["year"] is None
    for key in (
        "ess_establishments",
        "ess_jobs",
        "private_jobs",
        "non_ess_private_jobs",
        "ess_share_private_jobs",
        "jobs_per_1000_inhabitants",
        "women_share",
        "jobs_source",
    ):
        assert got[key] is None, key
    assert set(got["notes"]) == {
        "ess_establishments",
        "ess_jobs",
        "private_jobs",
        "non_ess_private_jobs",
        "ess_share_private_jobs",
        "jobs_per_1000_inhabitants",
        "women_share",
    }
    assert got["notes"]["ess_jobs"] == ind._R_NO_ESS_DATA
    assert got["notes"]["private_jobs"] == ind._R_NO_YEAR


def test_full_document_for_a_territory_without_any_data(geo_con):
    doc = ind.compute(geo_con, "commune", "01002")
    assert doc["ess_jobs"] is None
    assert doc["by_family"]["notes"] == {"by_family": ind._R_NO_ESS_DATA}
    assert all(r["jobs"] is None and r["share_jobs"] is None for r in doc["by_family"]["rows"])
    assert doc["by_sector"]["notes"]["by_sector"] == ind._R_NO_ESS_DATA
    assert doc["resilience"]["sector_diversity"] is None
    assert doc["resilience"]["notes"]["sector_diversity"] == ind._R_NO_ESS_DATA
    assert doc["resilience"]["top5_employers_share"] is None
    assert doc["evolution"]["series"] == []
    assert "series" in doc["evolution"]["notes"]
    assert doc["zones_blanches"]["by_sector"] == []
    assert doc["rural"]["share_ess_jobs_rural"] is None
    json.dumps(doc, allow_nan=False)


# --------------------------------------------------------------------------- compute_all
def test_compute_all_communes(con):
    got = ind.compute_all(con, "commune")
    rows = [
        ("01001", "L'Abergement-Clémenciat", 800, 3, 30.0, 100.0, 20 / 30),
        ("01002", "L'Abergement-de-Varey", 200, 0, 0.0, 0.0, math.nan),
        ("01004", "Ambérieu-en-Bugey", 15000, 10, 200.0, 1000.0, 0.7),
        ("01005", "Ambérieux-en-Dombes", 2000, 5, 50.0, 300.0, 0.6),
        ("69123", "Lyon", 500000, 40, 1000.0, 10000.0, 0.6),
    ]
    expected = pd.DataFrame(
        {
            "level": ["commune"] * 5,
            "code": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "population": pd.array([r[2] for r in rows], dtype="Int64"),
            "year": pd.array([2023] * 5, dtype="Int64"),
            "ess_establishments": pd.array([r[3] for r in rows], dtype="Int64"),
            "ess_jobs": [r[4] for r in rows],
            "private_jobs": [r[5] for r in rows],
            "non_ess_private_jobs": [r[5] - r[4] for r in rows],
            "ess_share_private_jobs": [0.3, math.nan, 0.2, 50 / 300, 0.1],
            "jobs_per_1000_inhabitants": [37.5, 0.0, 200 / 15, 25.0, 2.0],
            "women_share": [r[6] for r in rows],
            "jobs_source": ["statistiques"] * 5,
            # 01001 and 01002 are rural, the others urban (conftest)
            "share_ess_jobs_rural": [1.0, math.nan, 0.0, 0.0, 0.0],
            "ess_share_private_jobs_rural": [0.3, math.nan, math.nan, math.nan, math.nan],
            "ess_share_private_jobs_urban": [math.nan, math.nan, 0.2, 50 / 300, 0.1],
            "sector_diversity": [
                evenness([20, 10]),
                math.nan,  # no ESS at all
                evenness([100, 60, 40]),
                0.0,  # a single sector
                evenness([400, 300, 200, 100]),
            ],
        }
    )
    pd.testing.assert_frame_equal(got, expected)


def evenness(jobs: list[float]) -> float:
    total = sum(jobs)
    return -sum(j / total * math.log(j / total) for j in jobs) / math.log(14)


@pytest.mark.parametrize("level", ["commune", "epci", "departement", "region", "france"])
@pytest.mark.parametrize("fixture", ["con", "estimate_con", "partial_con"])
def test_compute_all_extra_columns_match_single_territory_functions(level, fixture, request):
    db = request.getfixturevalue(fixture)
    frame = ind.compute_all(db, level).set_index("code")
    for code, row in frame.iterrows():
        rural = ind.rurality(db, level, code)
        res = ind.resilience(db, level, code)
        got = row[list(ind.EXTRA_COLUMNS)].to_dict()
        want = {
            "share_ess_jobs_rural": rural["share_ess_jobs_rural"],
            "ess_share_private_jobs_rural": rural["ess_share_private_jobs_rural"],
            "ess_share_private_jobs_urban": rural["ess_share_private_jobs_urban"],
            "sector_diversity": res["sector_diversity"],
        }
        for key, value in want.items():
            if value is None:
                assert math.isnan(got[key]), (code, key)
            else:
                assert got[key] == pytest.approx(value), (code, key)


@pytest.mark.parametrize("level", ["epci", "departement", "region", "france"])
@pytest.mark.parametrize("fixture", ["con", "estimate_con"])
def test_additivity_communes_sum_to_every_level(level, fixture, request):
    db = request.getfixturevalue(fixture)
    communes = ind.compute_all(db, "commune").set_index("code")
    parents = ind.compute_all(db, level).set_index("code")
    members = db.execute(
        "SELECT code, commune_code FROM territory_communes WHERE level = ?", [level]
    ).df()
    cols = ["ess_establishments", "ess_jobs", "private_jobs"]
    summed = (
        communes.loc[members["commune_code"], cols]
        .set_axis(pd.Index(members["code"].to_numpy(), name="code"))
        .groupby(level="code")
        .sum()
    )
    pd.testing.assert_frame_equal(
        parents[["ess_establishments", "ess_jobs", "private_jobs"]].sort_index(),
        summed.sort_index(),
    )


@pytest.mark.parametrize("level", ["commune", "epci", "departement", "region", "france"])
@pytest.mark.parametrize("fixture", ["con", "estimate_con", "partial_con"])
def test_compute_all_matches_key_figures(level, fixture, request):
    db = request.getfixturevalue(fixture)
    frame = ind.compute_all(db, level)
    for row in frame.to_dict("records"):
        single = ind.key_figures(db, level, row["code"])
        for col in ind.KEY_FIGURE_COLUMNS[4:]:
            want, got = single[col], row[col]
            if want is None:
                assert got is None or got is pd.NA or math.isnan(got), (row["code"], col)
            elif isinstance(want, float):
                assert got == pytest.approx(want), (row["code"], col)
            else:
                assert got == want, (row["code"], col)


# --------------------------------------------------------------------------- jobs source rule
def test_no_statistics_falls_back_to_sirene_estimate(estimate_con):
    # EPCI 200000002: Mutuelle Ville's two establishments (bands 12 and 11: 34.5 + 14.5 jobs).
    # Not counted: A4 (no employee), A5 (closed), A6 (not ESS).
    got = ind.key_figures(estimate_con, "epci", "200000002")
    assert got == kf(
        "epci",
        "200000002",
        "CA de la Ville",
        17000,
        2,
        49.0,
        1300.0,
        None,
        source=ind.JOBS_SOURCE_ESTIMATE,
        sources=("sirene",),
        notes={
            "jobs_source": got["notes"]["jobs_source"],
            "women_share": ind._R_WOMEN_ESTIMATE,
        },
    )
    assert "SIRENE" in got["notes"]["jobs_source"]


@pytest.fixture(scope="module")
def partial_con():
    db = _partial()
    yield db
    db.close()


def _partial():
    geo_con = build(stats=False, actors=False, private_years=())
    """Commune statistics for département 01 only, a département row for 69 (URSSAF-like)."""
    insert_stats(geo_con, with_sectors=False)
    geo_con.execute("DELETE FROM ess_stats WHERE code = '69123'")
    geo_con.executemany(
        "INSERT INTO ess_stats (level, code, year, family, sector, measure, value, source) "
        "VALUES ('departement', '69', 2023, NULL, NULL, ?, ?, 'urssaf_dep')",
        [("etablissements", 33.0), ("effectifs", 999.0)],
    )
    # A département row for 01 too: commune sums are complete there and win over it.
    geo_con.execute(
        "INSERT INTO ess_stats (level, code, year, measure, value, source) "
        "VALUES ('departement', '01', 2023, 'effectifs', 123, 'urssaf_dep')"
    )
    insert_private(geo_con)
    insert_actors(geo_con)  # (the fixture helpers refresh the derived tables, as imports do)
    return geo_con


@pytest.mark.parametrize(
    ("level", "code", "source", "estab", "jobs", "sources"),
    [
        # complete commune statistics (every commune of département 01 is covered)
        ("departement", "01", "statistiques", 18, 280.0, ["urssaf_test"]),
        ("epci", "200000001", "statistiques", 3, 30.0, ["urssaf_test"]),
        # département 69 has no commune rows: its own row
        ("departement", "69", "statistiques", 33, 999.0, ["urssaf_dep"]),
        # Lyon and its EPCI: neither commune rows nor a row of their own → SIRENE (A7: 74.5)
        ("commune", "69123", "estimation_sirene", 1, 74.5, ["sirene"]),
        ("epci", "200046977", "estimation_sirene", 1, 74.5, ["sirene"]),
        # the région is only partly covered by commune rows and has no row: SIRENE estimate
        ("region", "84", "estimation_sirene", 5, 7.5 + 1.5 + 34.5 + 14.5 + 74.5, ["sirene"]),
    ],
)
def test_jobs_source_precedence(partial_con, level, code, source, estab, jobs, sources):
    got = ind.key_figures(partial_con, level, code)
    assert (got["jobs_source"], got["ess_establishments"], got["ess_jobs"], got["sources"]) == (
        source,
        estab,
        jobs,
        sources,
    )


def test_territory_row_used_when_commune_rows_incomplete():
    partial_con = _partial()
    partial_con.execute(
        "INSERT INTO ess_stats (level, code, year, measure, value, source) "
        "VALUES ('region', '84', 2023, 'effectifs', 5000, 'observatoire')"
    )
    derived.refresh(partial_con)  # as the import does, in its transaction
    got = ind.key_figures(partial_con, "region", "84")
    assert (got["jobs_source"], got["ess_jobs"], got["ess_establishments"]) == (
        "statistiques",
        5000.0,
        0,
    )


def test_year_without_any_data(con):
    got = ind.key_figures(con, "epci", "200000001", year=2030)
    assert got["jobs_source"] == ind.JOBS_SOURCE_ESTIMATE
    assert got["ess_jobs"] == 9.0  # A1 7.5 + A2 1.5
    assert got["private_jobs"] is None
    assert got["notes"]["private_jobs"] == ind._R_NO_PRIVATE.format(year=2030)
    assert got["ess_share_private_jobs"] is None


def test_share_above_one_is_flagged_not_published(geo_con):
    insert_actors(geo_con)
    geo_con.execute(
        "INSERT INTO private_employment (commune_code, year, sector, establishments, jobs, source) "
        "VALUES ('01004', 2023, 'sante', 1, 10, 'x')"
    )
    derived.refresh(geo_con)
    got = ind.key_figures(geo_con, "commune", "01004")
    assert got["ess_jobs"] == 49.0 and got["private_jobs"] == 10.0
    assert got["ess_share_private_jobs"] is None
    assert got["notes"]["ess_share_private_jobs"] == ind._R_INCOHERENT
    assert got["non_ess_private_jobs"] is None


def test_years(con):
    assert ind.available_years(con) == [2021, 2022, 2023]
    assert ind.default_year(con) == 2023


def test_default_year_prefers_years_with_both_sources(geo_con):
    insert_stats(geo_con, with_sectors=False)
    insert_private(geo_con, years=(2021, 2022))
    assert ind.default_year(geo_con) == 2022
    assert ind.key_figures(geo_con, "france", "FR")["year"] == 2022


# --------------------------------------------------------------------------- families, sectors
def test_by_family(con):
    got = ind.by_family(con, "epci", "200000002")
    counts = {  # 01004 + 01005
        "association": (12, 200.0),
        "cooperative": (1, 10.0),
        "mutuelle": (2, 40.0),
        "fondation": (0, 0.0),
        "societe_commerciale": (0, 0.0),
    }
    assert got == {
        "year": 2023,
        "jobs_source": "statistiques",
        "rows": [
            {
                "family": fam,
                "label": nomenclatures.FAMILIES[fam],
                "establishments": e,
                "jobs": j,
                "share_establishments": e / 15,
                "share_jobs": j / 250,
            }
            for fam, (e, j) in counts.items()
        ],
        "notes": {},
    }


def test_by_family_without_breakdown_is_not_available(partial_con):
    got = ind.by_family(partial_con, "departement", "69")
    assert got["notes"] == {"by_family": ind._R_NO_BREAKDOWN}
    assert {r["jobs"] for r in got["rows"]} == {None}


def test_by_family_from_estimate(estimate_con):
    rows = {r["family"]: r for r in ind.by_family(estimate_con, "epci", "200000001")["rows"]}
    assert rows["association"]["jobs"] == 9.0
    assert rows["association"]["establishments"] == 2
    assert rows["association"]["share_jobs"] == 1.0
    assert rows["mutuelle"]["jobs"] == 0.0


def test_by_sector_and_location_quotient(con):
    got = ind.by_sector(con, "epci", "200000002")
    # France's ESS jobs by sector: action sociale 20+100+400, santé 60+300, finance 40+200,
    # commerce 100, sport 10, enseignement 50 — total 1 280.
    france = {
        "action_sociale_sans_hebergement": 520.0,
        "sante": 360.0,
        "finance_assurance": 240.0,
        "commerce": 100.0,
        "sport_loisirs": 10.0,
        "enseignement": 50.0,
    }
    ess = {  # EPCI: (établissements, emplois)
        "action_sociale_sans_hebergement": (4, 100.0),
        "sante": (3, 60.0),
        "finance_assurance": (3, 40.0),
        "enseignement": (5, 50.0),
    }
    private = {
        "action_sociale_sans_hebergement": 150.0,
        "sante": 200.0,
        "finance_assurance": 100.0,
        "industrie_construction": 550.0,
        "enseignement": 60.0,
        "commerce": 240.0,
    }
    expected_rows = []
    for sector in nomenclatures.SECTORS:
        e, j = ess.get(sector.key, (0, 0.0))
        p = private.get(sector.key, 0.0)
        ref = france.get(sector.key, 0.0) / 1280
        share = j / 250
        expected_rows.append(
            {
                "sector": sector.key,
                "label": sector.label,
                "establishments": e,
                "jobs": j,
                "share_jobs": share,
                "private_jobs": p,
                "ess_share_in_sector": j / p if p else None,
                "reference_share_jobs": ref,
                "location_quotient": share / ref if ref else None,
            }
        )
    assert got["rows"] == expected_rows
    assert got["reference"] == {
        "level": "france",
        "code": "FR",
        "name": "France",
        "population": 518000,
    }
    assert set(got["notes"]) == {"ess_share_in_sector", "location_quotient"}
    rows = {r["sector"]: r for r in got["rows"]}
    assert rows["enseignement"]["location_quotient"] == pytest.approx(0.2 / (50 / 1280))


def test_by_sector_against_another_reference(con):
    got = ind.by_sector(con, "commune", "01005", reference=("departement", "01"))
    rows = {r["sector"]: r for r in got["rows"]}
    # 01005: all 50 jobs in enseignement; département 01: 50 of 280
    assert rows["enseignement"]["location_quotient"] == 1.0 / (50 / 280)
    assert got["reference"]["code"] == "01"


# --------------------------------------------------------------------------- rurality
def test_rurality_of_a_departement(con):
    got = ind.rurality(con, "departement", "01")
    assert got == {
        "definition": "estimation",
        "definition_label": ind._DEFINITION_LABELS["estimation"],
        "rural_communes": 2,
        "urban_communes": 2,
        "rural_population": 1000,
        "rural_population_share": 1000 / 18000,
        "ess_jobs_rural": 30.0,
        "ess_jobs_urban": 250.0,
        "share_ess_jobs_rural": 30 / 280,
        "private_jobs_rural": 100.0,
        "private_jobs_urban": 1300.0,
        "ess_share_private_jobs_rural": 0.3,
        "ess_share_private_jobs_urban": 250 / 1300,
        "jobs_source": "statistiques",
        "notes": {},
    }


def test_rurality_all_rural_territory_and_grid_definition(fresh_con):
    con = fresh_con
    # The imported INSEE grid wins over the estimate for the communes it lists.
    con.execute(
        "INSERT INTO density_grid (code, commune_code, density_level, population) VALUES ('01001', '01001', 5, 800)"
    )
    derived.refresh(con)
    got = ind.rurality(con, "epci", "200000001")
    assert got["definition"] == "mixte"
    assert (got["ess_jobs_rural"], got["ess_jobs_urban"], got["share_ess_jobs_rural"]) == (
        30.0,
        0.0,
        1.0,
    )
    assert got["ess_share_private_jobs_urban"] is None
    assert "urbaines" in got["notes"]["ess_share_private_jobs_urban"]
    con.execute(
        "INSERT INTO density_grid (code, commune_code, density_level, population) VALUES ('01002', '01002', 7, 200)"
    )
    derived.refresh(con)
    assert ind.rurality(con, "epci", "200000001")["definition"] == "grille"


def test_rurality_with_territory_level_statistics_only(partial_con):
    got = ind.rurality(partial_con, "departement", "69")
    assert got["ess_jobs_rural"] is None and got["share_ess_jobs_rural"] is None
    assert got["notes"]["ess_jobs_rural"] == ind._R_COMMUNE_DETAIL


def test_rurality_from_estimate(estimate_con):
    got = ind.rurality(estimate_con, "departement", "01")
    assert (got["ess_jobs_rural"], got["ess_jobs_urban"]) == (9.0, 49.0)
    assert got["jobs_source"] == "estimation_sirene"


# --------------------------------------------------------------------------- evolution
def test_evolution(con):
    got = ind.evolution(con, "epci", "200000002")
    ess = {2021: 250.0, 2022: 235.0, 2023: 250.0}
    private = {2021: 1330.0, 2022: 1310.0, 2023: 1300.0}
    series = [
        {
            "year": y,
            "ess_jobs": ess[y],
            "private_jobs": private[y],
            "non_ess_private_jobs": private[y] - ess[y],
            "ess_index": 100 * ess[y] / 250,
            "non_ess_index": 100 * (private[y] - ess[y]) / 1080,
        }
        for y in (2021, 2022, 2023)
    ]
    assert got == {
        "base_year": 2021,
        "start_year": 2021,
        "end_year": 2023,
        "series": series,
        "change": {"ess_jobs": 0.0, "non_ess_private_jobs": (1050 - 1080) / 1080},
        "rural_change": {"ess_jobs": None, "non_ess_private_jobs": None},
        "decline_years": {"ess_jobs": [2022], "non_ess_private_jobs": [2022, 2023]},
        "notes": {"rural_change": got["notes"]["rural_change"]},  # an urban EPCI
    }


def test_rural_change(con):
    # département 01's rural communes are 01001 and 01002: ESS 24 → 30, private 90 → 100
    got = ind.evolution(con, "departement", "01")
    assert got["rural_change"] == {
        "ess_jobs": (30 - 24) / 24,
        "non_ess_private_jobs": ((100 - 30) - (90 - 24)) / (90 - 24),
    }


def test_evolution_base_year_and_period(con):
    got = ind.evolution(con, "commune", "01001", base_year=2022, start_year=2022, end_year=2023)
    assert [r["ess_index"] for r in got["series"]] == [100 * 24 / 27, 100.0, 100 * 30 / 27]
    assert got["change"] == {"ess_jobs": 3 / 27, "non_ess_private_jobs": (70 - 68) / 68}


def test_evolution_without_series(estimate_con):
    got = ind.evolution(estimate_con, "epci", "200000001")
    assert [r["ess_jobs"] for r in got["series"]] == [None]
    assert got["change"] == {"ess_jobs": None, "non_ess_private_jobs": None}
    assert "change.ess_jobs" in got["notes"]


# --------------------------------------------------------------------------- resilience
def _age(created: dt.date) -> float:
    return (dt.date(2023, 12, 31) - created).days / 365.25


def test_resilience(con):
    got = ind.resilience(con, "epci", "200000002")
    jobs = [100.0, 60.0, 50.0, 40.0]
    h = -sum(j / 250 * math.log(j / 250) for j in jobs)
    assert got == {
        "sector_diversity": pytest.approx(h / math.log(14)),
        "sectors_present": 4,
        "sectors_total": 14,
        "top5_employers_share": 1.0,
        "top5_employers": [
            {"name": "Mutuelle Ville", "partial": False, "jobs": 49.0, "establishments": 2}
        ],
        "employers": 1,
        "median_age_years": pytest.approx(
            (_age(dt.date(1990, 1, 1)) + _age(dt.date(2015, 1, 1))) / 2
        ),
        "reference_date": "2023-12-31",
        "jobs_source": "statistiques",
        "notes": {},
    }


def test_resilience_hides_partial_diffusion_names(con):
    got = ind.resilience(con, "france", "FR")
    assert got["top5_employers"][0] == {
        "name": None,
        "partial": True,
        "jobs": 74.5,
        "establishments": 1,
    }
    assert [t["jobs"] for t in got["top5_employers"]] == [74.5, 49.0, 7.5, 1.5]
    assert got["top5_employers_share"] == 1.0
    assert got["employers"] == 4


def test_resilience_single_sector_and_no_employer(con):
    got = ind.resilience(con, "commune", "01005")
    assert got["sector_diversity"] == 0.0  # every job in one sector: H = 0
    assert got["top5_employers_share"] is None  # A5 is closed, A6 not ESS
    assert got["median_age_years"] is None
    assert set(got["notes"]) == {"top5_employers_share", "median_age_years"}


# --------------------------------------------------------------------------- comparisons
def test_similar_territories(con):
    got = ind.similar_territories(con, "epci", "200000002")
    assert got["criteria"] == list(ind.SIMILARITY_CRITERIA)
    feats = con.execute(
        "SELECT code, population, density FROM territories WHERE level = 'epci' ORDER BY code"
    ).fetchall()
    rural = {"200000001": 1.0, "200000002": 0.0, "200046977": 0.0}
    lp = {c: math.log(p) for c, p, _ in feats}
    ld = {c: math.log(d) for c, _, d in feats}

    def sd(values):
        m = sum(values) / len(values)
        return math.sqrt(sum((v - m) ** 2 for v in values) / len(values))

    s_lp, s_ld, s_r = sd(list(lp.values())), sd(list(ld.values())), sd(list(rural.values()))

    def dist(a, b):
        return math.sqrt(
            ((lp[a] - lp[b]) / s_lp) ** 2
            + ((ld[a] - ld[b]) / s_ld) ** 2
            + ((rural[a] - rural[b]) / s_r) ** 2
        )

    expected = sorted(
        ((dist("200000002", c), c) for c in ("200000001", "200046977")), key=lambda t: t[0]
    )
    assert [t["code"] for t in got["territories"]] == [c for _, c in expected]
    assert [t["distance"] for t in got["territories"]] == pytest.approx([d for d, _ in expected])
    assert [t["rural_population_share"] for t in got["territories"]] == [
        rural[c] for _, c in expected
    ]


def test_similar_territories_of_france(con):
    got = ind.similar_territories(con, "france", "FR")
    assert got["territories"] == [] and "territories" in got["notes"]


def test_comparisons_parents(con):
    got = ind.comparisons(con, "commune", "01001")
    assert [(p["level"], p["code"]) for p in got["parents"]] == [
        ("epci", "200000001"),
        ("departement", "01"),
        ("region", "84"),
        ("france", "FR"),
    ]
    dep = got["parents"][1]
    assert (dep["ess_jobs"], dep["private_jobs"], dep["ess_share_private_jobs"]) == (
        280.0,
        1400.0,
        0.2,
    )
    assert len(got["similar"]["territories"]) == 4  # the other communes of the fixture
    assert all("distance" in t and "ess_jobs" in t for t in got["similar"]["territories"])


# --------------------------------------------------------------------------- zones blanches
def test_zones_blanches(con):
    got = ind.zones_blanches(con, "departement", "01", sector="sport_loisirs")
    by = {r["sector"]: r for r in got["by_sector"]}
    # sport et loisirs: only 01001 has an establishment; action sociale: 01001 and 01004
    assert got["communes"] == [
        {"code": "01004", "name": "Ambérieu-en-Bugey", "population": 15000},
        {"code": "01005", "name": "Ambérieux-en-Dombes", "population": 2000},
        {"code": "01002", "name": "L'Abergement-de-Varey", "population": 200},
    ]
    assert by["sport_loisirs"] == {
        "sector": "sport_loisirs",
        "label": "Sport et loisirs",
        "communes": 3,
        "population": 17200,
        "population_share": 17200 / 18000,
    }
    assert (
        by["action_sociale_sans_hebergement"]["communes"],
        by["action_sociale_sans_hebergement"]["population"],
    ) == (2, 2200)
    assert by["arts_spectacles"]["population"] == 18000
    assert [r["sector"] for r in got["by_sector"]] == list(ind.DIVERSITY_SECTORS)
    assert (got["communes_total"], got["population_total"]) == (4, 18000)


def test_zones_blanches_from_estimate(estimate_con):
    got = ind.zones_blanches(estimate_con, "epci", "200000002", sector="sante")
    assert got["jobs_source"] == "estimation_sirene"
    assert got["communes"] == [{"code": "01005", "name": "Ambérieux-en-Dombes", "population": 2000}]


# --------------------------------------------------------------------------- the document
def test_compute_document(con):
    doc = ind.compute(con, "epci", "200000002")
    assert doc["territory"] == {
        "level": "epci",
        "code": "200000002",
        "name": "CA de la Ville",
        "population": 17000,
    }
    assert (doc["year"], doc["ess_jobs"], doc["jobs_source"]) == (2023, 250.0, "statistiques")
    assert doc["years_available"] == [2021, 2022, 2023]
    assert doc["by_family"]["rows"] == ind.by_family(con, "epci", "200000002")["rows"]
    assert doc["by_sector"]["rows"] == ind.by_sector(con, "epci", "200000002")["rows"]
    assert doc["rural"] == ind.rurality(con, "epci", "200000002")
    assert doc["evolution"] == ind.evolution(con, "epci", "200000002")
    assert doc["resilience"] == ind.resilience(con, "epci", "200000002")
    assert doc["comparisons"] == ind.comparisons(con, "epci", "200000002")
    assert doc["zones_blanches"] == ind.zones_blanches(con, "epci", "200000002")
    assert isinstance(doc["ess_establishments"], int)
    json.dumps(doc, allow_nan=False)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: ind.compute(c, "canton", "01"), "Niveau inconnu"),
        (lambda c: ind.compute(c, "departement", "99"), "Territoire inconnu"),
        (lambda c: ind.compute(c, "region", "01"), "Territoire inconnu"),
        (lambda c: ind.compute_all(c, "pays"), "Niveau inconnu"),
        (lambda c: ind.zones_blanches(c, "epci", "200000001", sector="x"), "Secteur inconnu"),
    ],
)
def test_bad_requests(con, call, message):
    with pytest.raises(ind.IndicatorError, match=message):
        call(con)


@pytest.mark.parametrize(("alias", "commune"), [("69381", "69123"), ("01099", "01001")])
def test_commune_alias_stands_for_its_commune(con, alias, commune):
    got = ind.key_figures(con, "commune", alias)
    assert got == ind.key_figures(con, "commune", commune)
    assert got["territory"]["code"] == commune


@pytest.mark.parametrize(
    ("level", "within", "codes"),
    [
        ("commune", ("epci", "200000001"), ["01001", "01002"]),
        ("commune", ("departement", "01"), ["01001", "01002", "01004", "01005"]),
        ("epci", ("departement", "01"), ["200000001", "200000002"]),
        ("epci", ("region", "84"), ["200000001", "200000002", "200046977"]),
        ("departement", ("commune", "69123"), ["69"]),
    ],
)
def test_compute_all_within_a_territory(con, level, within, codes):
    got = ind.compute_all(con, level, within=within)
    assert got["code"].tolist() == codes
    full = ind.compute_all(con, level).set_index("code").loc[codes].reset_index()
    pd.testing.assert_frame_equal(got, full[got.columns])
