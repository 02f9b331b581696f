"""The demo dataset: determinism, integrity, consistency and calibration.

Calibration is checked on a synthetic mid-size geography (300 communes, 2 million
inhabitants, a third of them rural) because the five-commune fixture has only two small rural
communes: too few establishments for rural ratios to mean anything.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from ess_diag import demo, geography, nomenclatures, store

TABLES = {
    "actors": "actor_id",
    "private_employment": "commune_code, year, sector",
    "ess_stats": "level, code, year, family NULLS FIRST, sector NULLS FIRST, measure",
}


def table_digest(con, table: str, order: str) -> str:
    frame = con.execute(f"SELECT * FROM {table} WHERE source = 'demo' ORDER BY {order}").df()  # noqa: S608
    # List columns (actors.services, networks) hashed as their text.
    for column in ("services", "networks"):
        if column in frame.columns:
            frame[column] = frame[column].map(
                lambda v: repr(list(v)) if hasattr(v, "__len__") else None
            )
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).values).hexdigest()


def synthetic_frames(n: int = 300, seed: int = 7) -> dict[str, pd.DataFrame]:
    """A made-up région of ``n`` communes in 3 départements: a city, towns and villages."""
    rng = np.random.default_rng(seed)
    pop = np.r_[400_000, rng.integers(5_000, 60_000, size=29), rng.integers(50, 2_000, size=n - 30)]
    area = np.r_[50.0, rng.uniform(5, 30, size=29), rng.uniform(8, 40, size=n - 30)]
    deps = np.array(["91", "92", "93"])[np.arange(n) % 3]
    communes = pd.DataFrame(
        {
            "code": [f"{d}{i:03d}" for i, d in enumerate(deps)],
            "name": [f"Commune {i}" for i in range(n)],
            "population": pop,
            "epci_code": [f"2000000{i % 5}0" for i in range(n)],
            "departement_code": deps,
            "region_code": "99",
            "lon": 2.0 + rng.uniform(0, 2, size=n),
            "lat": 47.0 + rng.uniform(0, 1.5, size=n),
            "area_km2": area,
        }
    )
    return {
        "communes": communes,
        "epci": pd.DataFrame(
            {"code": [f"2000000{i}0" for i in range(5)], "name": [f"CC {i}" for i in range(5)]}
        ),
        "departements": pd.DataFrame(
            {"code": ["91", "92", "93"], "name": ["A", "B", "C"], "region_code": "99"}
        ),
        "regions": pd.DataFrame({"code": ["99"], "name": ["Région test"]}),
    }


@pytest.fixture(scope="module")
def mid_con():
    con = store.connect(":memory:")
    geography.build_from_frames(con, **synthetic_frames())
    demo.load(con, seed=42)
    yield con
    con.close()


@pytest.fixture
def demo_con(geo_con):
    demo.load(geo_con, seed=42)
    return geo_con


def scalar(con, sql: str, params=None):
    return con.execute(sql, params or []).fetchall()[0][0]


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_tables(geo_con):
    demo.load(geo_con, seed=42)
    first = {t: table_digest(geo_con, t, o) for t, o in TABLES.items()}
    demo.load(geo_con, seed=42)  # replaces the previous demo rows
    second = {t: table_digest(geo_con, t, o) for t, o in TABLES.items()}
    assert first == second
    demo.load(geo_con, seed=43)
    third = {t: table_digest(geo_con, t, o) for t, o in TABLES.items()}
    assert all(third[t] != first[t] for t in TABLES)


def test_reload_does_not_duplicate(demo_con):
    before = scalar(demo_con, "SELECT count(*) FROM actors")
    summary = demo.load(demo_con, seed=42)
    assert scalar(demo_con, "SELECT count(*) FROM actors") == before == summary["actors"]
    assert scalar(demo_con, "SELECT count(*) - count(DISTINCT actor_id) FROM actors") == 0


# --------------------------------------------------------------------------- integrity


def test_summary_and_meta(demo_con):
    summary = demo.summary(demo_con)
    assert summary["seed"] == 42
    assert summary["years"] == [2015, 2024]
    # 518 000 inhabitants × 221 325 / 66 526 267
    assert summary["ess_employer_establishments"] == round(221_325 * 518_000 / 66_526_267)
    assert store.get_meta(demo_con, "demo") == "1"
    assert store.get_meta(demo_con, "demo_seed") == "42"
    assert "simulés" in store.get_meta(demo_con, "demo_description")
    assert demo.is_loaded(demo_con)


def test_every_actor_commune_exists_and_raw_code_resolves(demo_con):
    orphans = scalar(
        demo_con,
        "SELECT count(*) FROM actors a LEFT JOIN territories t "
        "ON t.level = 'commune' AND t.code = a.commune_code WHERE t.code IS NULL",
    )
    assert orphans == 0
    mismatched = scalar(
        demo_con,
        "SELECT count(*) FROM actors a LEFT JOIN commune_aliases c ON c.code = a.commune_code_raw "
        "WHERE c.commune_code IS DISTINCT FROM a.commune_code",
    )
    assert mismatched == 0
    # Lyon's actors carry the arrondissement code, as SIRENE gives it.
    raw = demo_con.execute(
        "SELECT DISTINCT commune_code_raw FROM actors WHERE commune_code = '69123'"
    ).fetchall()
    assert raw == [("69381",)]
    # ... and are placed in it (its outline is the square 4.80–4.81 E, 45.72–45.73 N).
    box = demo_con.execute(
        "SELECT min(lon), max(lon), min(lat), max(lat) FROM actors WHERE commune_code = '69123'"
    ).fetchall()[0]
    assert 4.798 < box[0] and box[1] < 4.812 and 45.718 < box[2] and box[3] < 45.732


def test_coordinates_lie_near_their_commune(demo_con):
    far = scalar(
        demo_con,
        """
        SELECT count(*) FROM actors a JOIN territories t
          ON t.level = 'commune' AND t.code = a.commune_code
        WHERE a.lon IS NULL OR a.lat IS NULL
           OR abs(a.lat - t.lat) * 111.2 > sqrt(t.area_km2 / pi())
           OR abs(a.lon - t.lon) * 111.2 * cos(radians(t.lat)) > sqrt(t.area_km2 / pi())
        """,
    )
    assert far == 0
    assert demo_con.execute(
        "SELECT min(lon) > 4.8, max(lon) < 5.5, min(lat) > 45.6, max(lat) < 46.3 FROM actors"
    ).fetchall() == [(True, True, True, True)]


def test_identifiers_are_sirene_shaped_and_luhn_valid(demo_con):
    frame = demo_con.execute("SELECT actor_id, siret, siren FROM actors").df()
    assert (frame["actor_id"] == frame["siret"]).all()
    assert frame["siret"].str.fullmatch(r"\d{14}").all()
    assert (frame["siret"].str[:9] == frame["siren"]).all()
    assert all(demo.luhn_valid(s) for s in frame["siret"])
    assert all(demo.luhn_valid(s) for s in frame["siren"].unique())
    # Bank and insurance networks share a SIREN across branches.
    assert frame["siren"].nunique() < len(frame)


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("732829320", True),
        ("732829321", False),
        ("73282932000074", True),
        ("7328293200007x", False),
    ],
)
def test_luhn_valid(number, valid):
    assert demo.luhn_valid(number) is valid


def test_codes_are_valid_keys_and_consistent(demo_con):
    actors = demo_con.execute(
        "SELECT naf, categorie_juridique, is_ess, family, sector, effectif_band, jobs, employer, "
        "partial_diffusion, name, address, active, comment FROM actors"
    ).df()
    assert set(actors["family"].dropna()) <= set(nomenclatures.FAMILIES)
    assert set(actors["sector"]) <= {s.key for s in nomenclatures.SECTORS}
    assert set(actors["effectif_band"]) <= set(nomenclatures.EFFECTIF_BANDS)
    assert actors["naf"].str.fullmatch(r"\d{2}\.\d{2}[A-Z]").all()
    # Each row agrees with the nomenclature rules, as a real SIRENE import would classify it.
    for row in actors.drop_duplicates(
        ["naf", "categorie_juridique", "is_ess", "family", "sector", "effectif_band"]
    ).itertuples():
        assert nomenclatures.sector_for_naf(row.naf) == row.sector
        assert nomenclatures.jobs_estimate(row.effectif_band) == row.jobs
        assert nomenclatures.is_employer_band(row.effectif_band) == row.employer
        flag = "O" if row.family == "societe_commerciale" else None
        assert nomenclatures.is_ess(row.categorie_juridique, row.naf, flag) == row.is_ess
        if row.is_ess:
            assert nomenclatures.family_for(row.categorie_juridique, flag) == row.family
        else:
            assert pd.isna(row.family)
    partial = actors[actors["partial_diffusion"]]
    assert len(partial) > 0 and partial["name"].isna().all() and partial["address"].isna().all()
    named = actors[~actors["partial_diffusion"]]
    assert named["name"].str.contains("démo").all()
    closed = actors[~actors["active"]]
    assert len(closed) > 0 and closed["comment"].str.startswith("Établissement fermé en").all()
    assert (~actors["is_ess"]).sum() > 0


# --------------------------------------------------------------------------- consistency


def test_latest_year_stats_equal_actor_aggregates(demo_con):
    actors = demo_con.execute(
        """
        SELECT commune_code AS code, family, sector, count(*)::DOUBLE AS etablissements,
               sum(jobs) AS effectifs
        FROM actors WHERE source = 'demo' AND is_ess AND active AND employer
        GROUP BY GROUPING SETS ((commune_code, family), (commune_code, sector), (commune_code))
        """
    ).df()
    stats = demo_con.execute(
        """
        SELECT code, family, sector,
               max(value) FILTER (measure = 'etablissements') AS etablissements,
               max(value) FILTER (measure = 'effectifs') AS effectifs
        FROM ess_stats WHERE source = 'demo' AND level = 'commune' AND year = 2024
        GROUP BY ALL
        """
    ).df()
    key = ["code", "family", "sector"]
    merged = actors.merge(stats, on=key, how="outer", suffixes=("_a", "_s"))
    merged = merged.fillna({c: 0 for c in merged.columns if c not in key})
    assert len(merged) >= 20
    np.testing.assert_allclose(merged["etablissements_a"], merged["etablissements_s"])
    np.testing.assert_allclose(merged["effectifs_a"], merged["effectifs_s"])


def test_stats_breakdowns_add_up_and_cover_every_commune(demo_con):
    rows = demo_con.execute(
        """
        SELECT code, year, measure,
               sum(value) FILTER (family IS NULL AND sector IS NULL) AS total,
               sum(value) FILTER (family IS NULL AND sector IS NOT NULL) AS by_sector,
               sum(value) FILTER (family IS NOT NULL AND sector IS NULL) AS by_family
        FROM ess_stats WHERE measure IN ('etablissements', 'effectifs')
        GROUP BY ALL
        """
    ).df()
    assert len(rows) == 5 * 10 * 2  # every commune × year × measure has a total
    np.testing.assert_allclose(rows["total"], rows["by_sector"].fillna(0))
    np.testing.assert_allclose(rows["total"], rows["by_family"].fillna(0))
    women = demo_con.execute(
        "SELECT count(*), bool_and(w.value <= e.value) FROM ess_stats w JOIN ess_stats e "
        "USING (code, year) WHERE w.measure = 'effectifs_femmes' AND e.measure = 'effectifs' "
        "AND e.family IS NULL AND e.sector IS NULL"
    ).fetchall()
    assert women == [(50, True)]


def test_private_jobs_include_ess_jobs(demo_con):
    bad = scalar(
        demo_con,
        """
        SELECT count(*) FROM ess_stats s
        LEFT JOIN private_employment p
          ON p.commune_code = s.code AND p.year = s.year AND p.sector = s.sector
        WHERE s.measure = 'effectifs' AND s.family IS NULL AND s.sector IS NOT NULL
          AND COALESCE(p.jobs, 0) < s.value
        """,
    )
    assert bad == 0
    years = demo_con.execute(
        "SELECT DISTINCT year FROM private_employment WHERE naf IS NULL ORDER BY 1"
    ).fetchall()
    assert [y for (y,) in years] == list(range(2015, 2025))


def test_unload_removes_demo_rows_only(demo_con):
    demo_con.execute(
        "INSERT INTO actors (actor_id, commune_code, is_ess, source) "
        "VALUES ('x1', '01001', true, 'sirene')"
    )
    before = store.data_version(demo_con)
    demo.unload(demo_con)
    counts = demo_con.execute(
        "SELECT (SELECT count(*) FROM actors), (SELECT count(*) FROM private_employment), "
        "(SELECT count(*) FROM ess_stats)"
    ).fetchall()
    assert counts == [(1, 0, 0)]
    assert store.get_meta(demo_con, "demo") == "0"
    assert store.get_meta(demo_con, "demo_seed") is None
    assert store.data_version(demo_con) == before + 1
    assert not demo.is_loaded(demo_con)


@pytest.mark.parametrize("years", [[], ()])
def test_no_year_is_refused(geo_con, years):
    with pytest.raises(ValueError, match="Aucune année"):
        demo.load(geo_con, years=years)


def test_empty_geography_is_refused():
    con = store.connect(":memory:")
    with pytest.raises(ValueError, match="Aucune commune"):
        demo.load(con)
    assert store.get_meta(con, "demo") is None


# --------------------------------------------------------------------------- calibration

CALIBRATION_SQL = """
WITH ess AS (
    SELECT s.code, s.year, s.family, s.sector, s.measure, s.value, r.rural
    FROM ess_stats s JOIN commune_rurality r ON r.commune_code = s.code
    WHERE s.level = 'commune' AND s.year = $year
), priv AS (
    SELECT p.sector, p.jobs, r.rural
    FROM private_employment p JOIN commune_rurality r ON r.commune_code = p.commune_code
    WHERE p.year = $year
)
SELECT
    (SELECT sum(value) FROM ess WHERE measure = 'effectifs' AND family IS NULL AND sector IS NULL)
      / (SELECT sum(jobs) FROM priv) AS ess_share,
    (SELECT sum(value) FROM ess WHERE rural AND measure = 'effectifs' AND family IS NULL
       AND sector IS NULL) / (SELECT sum(jobs) FROM priv WHERE rural) AS ess_share_rural,
    (SELECT sum(value) FILTER (family = 'association') / sum(value) FROM ess
       WHERE measure = 'effectifs' AND family IS NOT NULL) AS association_jobs,
    (SELECT sum(value) FILTER (family = 'association') / sum(value) FROM ess
       WHERE measure = 'etablissements' AND family IS NOT NULL) AS association_establishments,
    (SELECT sum(value) FILTER (measure = 'effectifs_femmes')
          / sum(value) FILTER (measure = 'effectifs')
       FROM ess WHERE family IS NULL AND sector IS NULL) AS women
"""

SECTOR_SHARE_SQL = """
SELECT p.sector,
       (SELECT sum(value) FROM ess_stats s JOIN commune_rurality r ON r.commune_code = s.code
        WHERE r.rural = $rural AND s.year = $year AND s.measure = 'effectifs'
          AND s.family IS NULL AND s.sector = p.sector) / sum(p.jobs) AS share
FROM private_employment p JOIN commune_rurality r ON r.commune_code = p.commune_code
WHERE r.rural = $rural AND p.year = $year
GROUP BY p.sector
"""


def calibration(con, year: int = 2024) -> dict[str, float]:
    cur = con.execute(CALIBRATION_SQL, {"year": year})
    names = [d[0] for d in cur.description]
    return dict(zip(names, cur.fetchall()[0], strict=True))


def rural_sector_shares(con, year: int = 2024) -> dict[str, float]:
    rows = con.execute(SECTOR_SHARE_SQL, {"year": year, "rural": True}).fetchall()
    return {sector: share or 0.0 for sector, share in rows}


def jobs_series(con) -> pd.DataFrame:
    """Rural ESS jobs and rural non-ESS private jobs by year."""
    return con.execute(
        """
        WITH e AS (
            SELECT s.year, sum(s.value) AS ess FROM ess_stats s
            JOIN commune_rurality r ON r.commune_code = s.code AND r.rural
            WHERE s.measure = 'effectifs' AND s.family IS NULL AND s.sector IS NULL GROUP BY 1
        ), p AS (
            SELECT p.year, sum(p.jobs) AS private FROM private_employment p
            JOIN commune_rurality r ON r.commune_code = p.commune_code AND r.rural GROUP BY 1
        )
        SELECT year, ess, private - ess AS non_ess FROM e JOIN p USING (year) ORDER BY year
        """
    ).df()


@pytest.mark.parametrize(
    ("key", "target", "tolerance"),
    [
        ("ess_share", 0.14, 0.005),
        ("ess_share_rural", 0.177, 0.005),
        ("association_jobs", 0.77, 0.02),
        ("association_establishments", 0.83, 0.005),
        ("women", 0.68, 0.005),
    ],
)
def test_calibration_on_mid_geography(mid_con, key, target, tolerance):
    assert calibration(mid_con)[key] == pytest.approx(target, abs=tolerance)


def test_calibration_on_fixture_geography(demo_con):
    figures = calibration(demo_con)
    assert figures["ess_share"] == pytest.approx(0.14, abs=0.01)
    assert figures["association_jobs"] == pytest.approx(0.77, abs=0.03)
    assert figures["association_establishments"] == pytest.approx(0.83, abs=0.01)


@pytest.mark.parametrize(
    ("sector", "target"),
    [
        ("action_sociale_sans_hebergement", 0.562),
        ("action_sociale_avec_hebergement", 0.562),
        ("sport_loisirs", 0.504),
        ("finance_assurance", 0.481),
        ("commerce", 0.056),
    ],
)
def test_rural_sector_shares(mid_con, sector, target):
    assert rural_sector_shares(mid_con)[sector] == pytest.approx(target, abs=0.02)


def test_other_sector_shares_stay_plausible(mid_con):
    shares = rural_sector_shares(mid_con)
    assert all(0.0 <= s < 0.9 for s in shares.values()), shares
    assert shares["industrie_construction"] < 0.1


def test_rural_ess_grows_while_rural_non_ess_falls(mid_con):
    series = jobs_series(mid_con).set_index("year")
    assert list(series.index) == list(range(2015, 2025))
    # Three départements only: their growth draws weigh a lot here (national: about +7 %).
    assert series.loc[2024, "ess"] > series.loc[2015, "ess"]
    assert series.loc[2020, "non_ess"] < series.loc[2015, "non_ess"] * 0.98


def test_territories_differ_and_some_decline(mid_con):
    by_dep = mid_con.execute(
        """
        SELECT t.departement_code, s.year, sum(s.value) AS jobs
        FROM ess_stats s JOIN territories t ON t.level = 'commune' AND t.code = s.code
        WHERE s.measure = 'effectifs' AND s.family IS NULL AND s.sector IS NULL
          AND s.year IN (2015, 2024)
        GROUP BY ALL
        """
    ).df()
    change = by_dep.pivot(index="departement_code", columns="year", values="jobs")
    growth = change[2024] / change[2015] - 1
    assert growth.max() - growth.min() > 0.02
    communes = mid_con.execute(
        """
        SELECT count(*) FILTER (v24 < v15), count(*) FILTER (v24 > v15) FROM (
            SELECT code, sum(value) FILTER (year = 2015) AS v15, sum(value) FILTER (year = 2024) AS v24
            FROM ess_stats WHERE measure = 'effectifs' AND family IS NULL AND sector IS NULL
            GROUP BY code)
        """
    ).fetchall()[0]
    assert communes[0] > 10 and communes[1] > 10


# --------------------------------------------------------------------------- national


def test_national_demo(national_db):
    """The demo as `ess-diag init --demo` builds it for all of France (shared session build)."""
    con = store.connect(national_db, read_only=True)
    try:
        summary = demo.summary(con)
        assert summary["ess_employer_establishments"] == pytest.approx(221_325, rel=0.001)
        figures = calibration(con)
        assert figures["ess_share"] == pytest.approx(0.14, abs=0.003)
        assert figures["ess_share_rural"] == pytest.approx(0.177, abs=0.003)
        assert figures["association_jobs"] == pytest.approx(0.77, abs=0.01)
        assert figures["association_establishments"] == pytest.approx(0.83, abs=0.003)
        shares = rural_sector_shares(con)
        assert shares["action_sociale_sans_hebergement"] == pytest.approx(0.562, abs=0.01)
        assert shares["commerce"] == pytest.approx(0.056, abs=0.01)
        series = jobs_series(con).set_index("year")
        assert series.loc[2024, "ess"] > series.loc[2015, "ess"]
        assert series.loc[2020, "non_ess"] < series.loc[2015, "non_ess"]
    finally:
        con.close()


def test_naf_tables_map_back_to_their_sector():
    for sector, table in demo._SECTOR_NAF.items():
        assert {nomenclatures.sector_for_naf(code) for code, _ in table} == {sector}


def test_demo_siret_nic_starts_with_9(demo_con):
    # Real NICs count up from 0001: a demo SIRET never equals a real unit's first establishments.
    nics = demo_con.execute("SELECT DISTINCT substr(siret, 10, 1) FROM actors").fetchall()
    assert nics == [("9",)]


def test_simulated_sourcing_fields_are_plausible(mid_con):
    """About 5 % of active ESS employers are inclusive structures, 2–4 % ESUS, and every
    inclusive structure offers one or two purchase segments (all keys known)."""
    total, inclusive, esus, with_services, bad = mid_con.execute(
        """
        SELECT count(*), count(inclusive_kind), count(*) FILTER (WHERE esus),
               count(*) FILTER (WHERE len(services) > 0),
               count(*) FILTER (WHERE inclusive_kind IS NOT NULL
                                  AND NOT len(services) BETWEEN 1 AND 2)
        FROM actors WHERE source = 'demo' AND is_ess AND active AND employer
        """
    ).fetchall()[0]
    assert 0.04 < inclusive / total < 0.06
    assert 0.02 < esus / total < 0.06
    assert 0.06 < with_services / total < 0.10
    assert bad == 0
    kinds = {k for (k,) in mid_con.execute("SELECT DISTINCT inclusive_kind FROM actors").fetchall()}
    assert kinds - {None} == set(nomenclatures.INCLUSIVE_KINDS)
    keys = {
        k
        for (k,) in mid_con.execute(
            "SELECT DISTINCT unnest(services) FROM actors WHERE services IS NOT NULL"
        ).fetchall()
    }
    assert keys <= set(nomenclatures.PURCHASE_SEGMENT_LABELS)
    # Closed, non-employer and non-ESS demo actors get none of it.
    assert not mid_con.execute(
        "SELECT count(*) FROM actors WHERE source = 'demo' AND (NOT active OR NOT employer "
        "OR NOT is_ess) AND (inclusive_kind IS NOT NULL OR services IS NOT NULL OR esus)"
    ).fetchall()[0][0]
