"""Sourcing for reserved public contracts around one town (ess_diag.sourcing and the CLI)."""

from __future__ import annotations

import json
import math

import pytest
from sourcing_fixtures import NETTOYAGE_20KM, STRUCTURES, insert_structures, offset, town_point

from ess_diag import cli, nomenclatures, sourcing, store


@pytest.fixture
def town_con(geo_con):
    insert_structures(geo_con, town_point(geo_con))
    return geo_con


def _haversine(lat1, lon1, lat2, lon2):
    """Written out again here (not the module's) to check the SQL."""
    r = 6371.0088
    a = (
        math.sin(math.radians(lat2 - lat1) / 2) ** 2
        + math.cos(math.radians(lat1))
        * math.cos(math.radians(lat2))
        * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * r * math.asin(math.sqrt(a))


def test_structures_within_radius_exactly_nearest_first(town_con):
    site = sourcing.site_for_commune(town_con, "01004")
    result = sourcing.search(town_con, site, 20, "nettoyage")
    assert [r["actor_id"] for r in result.results] == NETTOYAGE_20KM
    by_id = {s[0]: s for s in STRUCTURES}
    for r in result.results:
        lat, lon = offset(site.lat, site.lon, *by_id[r["actor_id"]][-1])
        assert abs(r["distance_km"] - _haversine(site.lat, site.lon, lat, lon)) < 0.1
    distances = [r["distance_km"] for r in result.results]
    assert distances == sorted(distances)
    assert result.to_dict()["count"] == 6


@pytest.mark.parametrize(
    ("radius", "expected"),
    [(1.5, []), (2.5, ["N1"]), (10, ["N1", "S1", "H1", "B1"]), (30, [*NETTOYAGE_20KM, "F1"])],
)
def test_radius_bounds_the_list(town_con, radius, expected):
    site = sourcing.site_for_commune(town_con, "01004")
    assert [
        r["actor_id"] for r in sourcing.search(town_con, site, radius, "nettoyage").results
    ] == (expected)


def test_naf_only_services_only_and_both(town_con):
    result = sourcing.search(
        town_con, sourcing.site_for_commune(town_con, "01004"), 20, "nettoyage"
    )
    by_id = {r["actor_id"]: r["offers_by"] for r in result.results}
    assert by_id["N1"] == ["naf"]
    assert by_id["S1"] == ["prestations"]
    assert by_id["B1"] == ["naf", "prestations"]
    # S1 offers espaces verts by its services too, V1 by its NAF: both found for that segment.
    verts = sourcing.search(
        town_con, sourcing.site_for_commune(town_con, "01004"), 20, "espaces_verts"
    )
    assert [r["actor_id"] for r in verts.results] == ["V1", "S1"]


def test_closed_non_ess_and_other_segments_excluded(town_con):
    result = sourcing.search(
        town_con, sourcing.site_for_commune(town_con, "01004"), 20, "nettoyage"
    )
    ids = {r["actor_id"] for r in result.results}
    assert not ids & {"C1", "X1", "V1", "F1"}


def test_legal_bases_per_kind_and_summary(town_con):
    result = sourcing.search(
        town_con, sourcing.site_for_commune(town_con, "01004"), 20, "nettoyage"
    )
    bases = {r["actor_id"]: r["legal_bases"] for r in result.results}
    assert bases == {
        "N1": ["L2113-13"],  # EI
        "S1": ["L2113-13"],  # ACI
        "H1": [],  # ESS, but nettoyage is not a service of art. L2113-15
        "B1": ["L2113-12"],  # ESAT
        "P1": [],
        "G1": [],  # GEIQ: none of the three
    }
    assert result.by_legal_basis == {"L2113-12": 1, "L2113-13": 2, "L2113-15": 0}
    assert result.total_jobs == 12 + 8 + 20 + 1.5 + 6
    assert result.jobs_unknown == 1
    sources = {r["actor_id"]: r["jobs_source"] for r in result.results}
    assert sources == {
        "N1": "declared",
        "S1": "estimate",
        "H1": None,
        "B1": "declared",
        "P1": "estimate",
        "G1": "declared",
    }


def test_l2113_15_only_for_the_services_it_covers(town_con):
    site = sourcing.site_for_commune(town_con, "01004")
    result = sourcing.search(town_con, site, 20, "services_personne")
    # S1 (ACI, NAF 88.99B) opens L2113-13 and, as an ESS enterprise, L2113-15 for this one.
    assert [(r["actor_id"], r["legal_bases"]) for r in result.results] == [
        ("S1", ["L2113-13", "L2113-15"]),
        ("H1", ["L2113-15"]),
    ]
    assert [s.key for s in nomenclatures.PURCHASE_SEGMENTS if s.l2113_15] == ["services_personne"]


@pytest.mark.parametrize(
    ("kind", "ess", "segment", "expected"),
    [
        ("EA", False, "nettoyage", ["L2113-12"]),
        ("EATT", False, "nettoyage", ["L2113-12"]),
        ("ESAT", True, "services_personne", ["L2113-12", "L2113-15"]),
        ("EI", True, "restauration", ["L2113-13"]),
        ("AI", True, "nettoyage", ["L2113-13"]),
        ("ETTI", False, "logistique", ["L2113-13"]),
        ("EITI", False, "transport", ["L2113-13"]),
        ("ACI", True, "espaces_verts", ["L2113-13"]),
        ("GEIQ", True, "nettoyage", []),
        (None, True, "services_personne", ["L2113-15"]),
        (None, False, "services_personne", []),
    ],
)
def test_legal_bases_table(kind, ess, segment, expected):
    assert nomenclatures.legal_bases_for(kind, ess, segment) == expected


def test_partial_diffusion_never_named(town_con):
    result = sourcing.search(
        town_con, sourcing.site_for_commune(town_con, "01004"), 20, "nettoyage"
    )
    p1 = next(r for r in result.results if r["actor_id"] == "P1")
    assert p1["name"] == "diffusion partielle"
    assert "Jean Secret" not in json.dumps(result.to_dict(), ensure_ascii=False)


def test_groupings_when_no_single_structure_reaches_the_minimum(town_con):
    site = sourcing.site_for_commune(town_con, "01004")
    reached = sourcing.search(town_con, site, 20, "nettoyage", min_jobs=20)
    assert reached.reached_by_one and reached.groupings == []
    result = sourcing.search(town_con, site, 20, "nettoyage", min_jobs=25)
    assert not result.reached_by_one
    first = result.groupings[0]
    # Pairs first, the farthest member nearest: N1 (12) + B1 (20) = 32 ≥ 25 within 8.9 km.
    assert [m["actor_id"] for m in first["members"]] == ["N1", "B1"]
    assert first["jobs"] == 32
    assert first["legal_bases"] == ["L2113-12", "L2113-13"]
    assert all(g["jobs"] >= 25 for g in result.groupings)
    sizes = [len(g["members"]) for g in result.groupings]
    assert sizes == sorted(sizes) and set(sizes) <= {2, 3}
    # A grouping with a GEIQ opens no reserved contract.
    geiq = [g for g in result.groupings if "G1" in [m["actor_id"] for m in g["members"]]]
    assert geiq and all(g["legal_bases"] == [] for g in geiq)
    # Nothing reaches 1000 jobs, even three together: no grouping.
    assert sourcing.search(town_con, site, 20, "nettoyage", min_jobs=1000).groupings == []


def test_grouping_search_is_bounded():
    results = [
        {
            "actor_id": f"A{i:02d}",
            "siret": None,
            "name": f"A{i}",
            "jobs": 1.0,
            "distance_km": float(i),
            "legal_bases": [],
        }
        for i in range(40)
    ]
    # Only the 12 nearest are combined: 3 jobs at most, never 40.
    found = sourcing.groupings(results, 3)
    assert found and all(len(g["members"]) == 3 for g in found)
    assert all(int(m["actor_id"][1:]) < 12 for g in found for m in g["members"])
    assert sourcing.groupings(results, 4) == []


def test_site_by_point_matches_commune(town_con):
    lat, lon = town_point(town_con)
    by_point = sourcing.search(town_con, sourcing.site_at(lat, lon), 20, "nettoyage")
    assert [r["actor_id"] for r in by_point.results] == NETTOYAGE_20KM


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda con: sourcing.search(con, sourcing.site_at(46, 5), 10, "plomberie"), "inconnu"),
        (lambda con: sourcing.search(con, sourcing.site_at(46, 5), 0, "nettoyage"), "Rayon"),
        (lambda con: sourcing.search(con, sourcing.site_at(46, 5), 900, "nettoyage"), "Rayon"),
        (lambda con: sourcing.site_for_commune(con, "99999"), "Commune « 99999 » inconnue"),
        (lambda con: sourcing.site_at(95, 5), "hors limites"),
        (lambda con: sourcing.site_at("x", 5), "illisibles"),
    ],
)
def test_bad_requests_explained_in_french(geo_con, call, message):
    with pytest.raises(sourcing.SourcingError, match=message):
        call(geo_con)


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def town_db(tmp_path, town_con):
    path = tmp_path / "town.duckdb"
    con = store.connect(path)
    from geo_fixture import build_fixture_geography

    build_fixture_geography(con)
    insert_structures(con, town_point(con))
    con.close()
    return path


def test_cli_json_contract(town_db, capsys):
    code = cli.main(
        [
            "sourcing",
            "--commune",
            "01004",
            "--rayon",
            "20",
            "--segment",
            "nettoyage",
            "--emplois-min",
            "25",
            "--json",
            "--db",
            str(town_db),
        ]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    for key in ("site", "segment", "radius_km", "count", "by_legal_basis", "results", "groupings"):
        assert key in doc
    assert doc["segment"] == "nettoyage" and doc["radius_km"] == 20 and doc["count"] == 6
    assert [r["siret"] for r in doc["results"]][0].startswith("123456789")
    first = doc["results"][0]
    for key in (
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
    ):
        assert key in first
    assert [r["distance_km"] for r in doc["results"]] == sorted(
        r["distance_km"] for r in doc["results"]
    )
    assert doc["groupings"][0]["jobs"] == 32


def test_cli_site_and_table(town_db, capsys):
    lat, lon = 45.975, 5.325
    code = cli.main(
        [
            "sourcing",
            "--site",
            f"{lat},{lon}",
            "--rayon",
            "10",
            "--segment",
            "nettoyage",
            "--db",
            str(town_db),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Nettoyage et propreté à moins de 10 km" in out and "4 structure(s)" in out
    assert "Propreté Solidaire" in out and "L2113-13" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--commune", "01004", "--segment", "plomberie"], "Segment d'achat « plomberie » inconnu"),
        (["--commune", "99999", "--segment", "nettoyage"], "Commune « 99999 » inconnue"),
        (["--site", "45.9", "--segment", "nettoyage"], "LAT,LON"),
    ],
)
def test_cli_errors_exit_2(town_db, capsys, args, message):
    code = cli.main(["sourcing", *args, "--rayon", "10", "--db", str(town_db)])
    assert code == 2
    assert message in capsys.readouterr().err
