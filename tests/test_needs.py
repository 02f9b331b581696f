"""Besoins: zones blanches of a sector or proximity service, and the nearest ESS establishment
(hand-computed on the fixture geography of tests/geo_fixture.py)."""

from __future__ import annotations

import math

import indicators_fixtures as fx
import pytest

from ess_diag import derived, needs, nomenclatures

#: Commune points of the fixture (centres of its squares): 01001 (4.925, 46.125), 01002
#: (4.975, 46.125), 01004 (5.325, 45.975), 01005 (5.36, 45.96); EPCI 200000001 = 01001 + 01002.


def _haversine(lon1, lat1, lon2, lat2):
    """Written again here, independently of ess_diag.needs."""
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * r * math.asin(math.sqrt(a))


@pytest.fixture
def con():
    con = fx.build()
    cur = con.cursor()
    # A1 (association, 01001) provides aide à domicile; A2 (sport, 01001) gets coordinates.
    cur.execute("UPDATE actors SET naf = '88.10A', lon = 4.93, lat = 46.13 WHERE actor_id = 'A1'")
    cur.execute("UPDATE actors SET lon = 4.93, lat = 46.13 WHERE actor_id = 'A2'")
    # Another provider in Lyon; a non-employer one in 01005 and a non-ESS one in 01004 (both
    # ignored); one without coordinates in Lyon (counted in the notes).
    cur.execute(
        """INSERT INTO actors (actor_id, name, commune_code, naf, is_ess, employer, active,
                               family, sector, lon, lat, source) VALUES
        ('A8', 'Aide Lyon', '69123', '88.10A', TRUE, TRUE, TRUE, 'association',
         'action_sociale_sans_hebergement', 4.83, 45.75, 'sirene'),
        ('A9', 'Petite aide', '01005', '88.10A', TRUE, FALSE, TRUE, 'association',
         'action_sociale_sans_hebergement', 5.36, 45.96, 'sirene'),
        ('A10', 'Entreprise privée', '01004', '88.10A', FALSE, TRUE, TRUE, NULL,
         'action_sociale_sans_hebergement', 5.32, 45.97, 'sirene'),
        ('A11', 'Aide sans adresse', '69123', '88.10B', TRUE, TRUE, TRUE, 'association',
         'action_sociale_sans_hebergement', NULL, NULL, 'sirene')"""
    )
    derived.refresh(con)
    return con


def test_haversine_paris_lyon():
    assert needs.great_circle_km(2.3522, 48.8566, 4.8357, 45.7640) == pytest.approx(391.5, abs=0.1)


def test_service_zones_population_and_nearest(con):
    r = needs.zones(con, "departement", "01", "service:aide_domicile")
    # 01001 has A1; 01002, 01004, 01005 have no active employer ESS provider.
    assert [c["code"] for c in r["communes"]] == ["01004", "01005", "01002"]
    assert r["communes_total"] == 4 and r["population_total"] == 18000
    assert r["population"] == 15000 + 2000 + 200
    assert r["population_share"] == pytest.approx(17200 / 18000)
    near = {c["code"]: c["nearest"] for c in r["communes"]}
    # By hand: 01002 → A1 ≈ 3,5 km; 01004 → A1 ≈ 35,0 km (A8 in Lyon ≈ 45,8 km); 01005 → A1.
    assert near["01002"]["actor_id"] == "A1"
    assert near["01002"]["distance_km"] == pytest.approx(3.5, abs=0.05)
    assert near["01004"]["actor_id"] == "A1"
    assert near["01004"]["distance_km"] == pytest.approx(35.0, abs=0.1)
    assert near["01004"]["distance_km"] < _haversine(5.325, 45.975, 4.83, 45.75)
    assert near["01005"]["actor_id"] == "A1"
    for c in r["communes"]:
        assert c["nearest"]["distance_km"] == pytest.approx(
            _haversine(c["lon"], c["lat"], 4.93, 46.13), rel=1e-9
        )
    assert near["01004"]["commune_name"] == "L'Abergement-Clémenciat"
    assert "1 établissement(s) sans coordonnées" in r["notes"]["nearest_missing_coordinates"]


def test_nearest_may_lie_outside_the_territory(con):
    r = needs.zones(con, "commune", "69123", "service:aide_domicile")
    assert r["communes"] == []  # A8 is in Lyon
    r = needs.zones(con, "epci", "200000002", "service:aide_domicile")
    assert [c["nearest"]["actor_id"] for c in r["communes"]] == ["A1", "A1"]


def test_sector_zones_follow_the_indicator(con):
    from ess_diag import indicators

    r = needs.zones(con, "epci", "200000001", "secteur:sport_loisirs", 2023)
    zb = indicators.zones_blanches(con, "epci", "200000001", 2023, sector="sport_loisirs")
    assert [c["code"] for c in r["communes"]] == [c["code"] for c in zb["communes"]] == ["01002"]
    assert r["population"] == 200 and r["population_share"] == pytest.approx(0.2)
    nearest = r["communes"][0]["nearest"]
    assert nearest["actor_id"] == "A2" and nearest["name"] == "Club Bocage"
    assert nearest["distance_km"] == pytest.approx(_haversine(4.975, 46.125, 4.93, 46.13))
    assert nearest["distance_km"] == pytest.approx(3.5, abs=0.05)


def test_no_establishment_anywhere_gives_no_nearest(con):
    r = needs.zones(con, "departement", "01", "service:petite_enfance")
    assert len(r["communes"]) == 4 and all(c["nearest"] is None for c in r["communes"])
    assert needs.summary_sentence(r).startswith("4 communes sur 4 sans établissement")


def test_partial_diffusion_name_is_never_shown(con):
    con.execute("UPDATE actors SET partial_diffusion = TRUE WHERE actor_id = 'A1'")
    r = needs.zones(con, "epci", "200000001", "service:aide_domicile")
    assert r["communes"][0]["nearest"]["name"] == "Établissement (diffusion partielle)"


@pytest.mark.parametrize("choice", ["service:inconnu", "secteur:inconnu", "commerce", ""])
def test_unknown_choice(con, choice):
    with pytest.raises(ValueError, match="Choix inconnu"):
        needs.zones(con, "departement", "01", choice)


def test_choices_cover_every_service_and_sector():
    keys = needs.choices()
    assert {f"service:{s.key}" for s in nomenclatures.PROXIMITY_SERVICES} <= set(keys)
    assert "secteur:commerce" in keys and "secteur:non_classe" not in keys


def test_proximity_services_codes_are_naf():
    for s in nomenclatures.PROXIMITY_SERVICES:
        assert s.naf_codes and all(nomenclatures.normalize_naf(c) == c for c in s.naf_codes)


def test_contribution_text(con):
    r = needs.zones(con, "epci", "200000001", "secteur:sport_loisirs", 2023)
    text = needs.contribution_text(r, r["communes"][0])
    assert text == (
        "Zone blanche « Sport et loisirs » : L'Abergement-de-Varey — établissement de l'ESS le "
        "plus proche à 3,5 km (L'Abergement-Clémenciat)."
    )


def test_synthesis_key_figures_carry_the_needs(con):
    from ess_diag.report import content

    figures = content.key_figures(con, "departement", "01", 2023)
    by_label = dict(figures.needs)
    assert by_label["Aide à domicile"] == 15000 + 2000 + 200
    assert by_label["Petite enfance (accueil de jeunes enfants)"] == 18000
    assert [b.title for b in figures.bars][-1] == (
        "Besoins : habitants sans service de proximité de l'ESS"
    )
    assert content.key_figures(con, "france", "FR", 2023).needs == []
