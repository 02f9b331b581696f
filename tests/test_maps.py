"""Map decks: offline, small, escaped, and drawing the right territories and actors."""

from __future__ import annotations

import json
import math

import indicators_fixtures as fx
import pandas as pd
import pytest

from ess_diag import maps
from ess_diag.formatting import NBSP


@pytest.fixture
def con(geo_con):
    fx.insert_actors(geo_con)
    # Coordinates for the actors (the fixture leaves them empty): inside their commune squares.
    geo_con.execute("UPDATE actors SET lon = 4.92, lat = 46.12 WHERE commune_code = '01001'")
    geo_con.execute("UPDATE actors SET lon = 5.32, lat = 45.97 WHERE commune_code = '01004'")
    geo_con.execute("UPDATE actors SET lon = 4.82, lat = 45.74 WHERE commune_code = '69123'")
    return geo_con


@pytest.mark.parametrize(
    ("level", "code", "child", "expected"),
    [
        ("departement", "01", "commune", ["01001", "01002", "01004", "01005"]),
        ("departement", "01", "epci", ["200000001", "200000002"]),
        ("region", "84", "departement", ["01", "69"]),
        ("region", "84", "epci", ["200000001", "200000002", "200046977"]),
        ("france", "FR", "departement", ["01", "69"]),
        ("epci", "200046977", "commune", ["69123"]),
        ("commune", "01001", "commune", ["01001"]),
    ],
)
def test_child_codes(con, level, code, child, expected):
    assert maps.child_codes(con, level, code, child) == expected


@pytest.mark.parametrize(
    ("level", "child"), [("france", "commune"), ("epci", "departement"), ("pays", "commune")]
)
def test_child_level_refused(con, level, child):
    """A national view never draws every commune; unknown levels say so in French."""
    with pytest.raises(ValueError):
        maps.child_codes(con, level, "FR", child)


def test_choropleth_classes_and_legend():
    breaks, legend = maps.choropleth_classes([0.1, 0.2, None, 0.3, 0.4], "share", 2)
    assert breaks == [0.25, 0.4]
    assert [item.label for item in legend] == [
        f"de 10,0{NBSP}% à 25,0{NBSP}%",
        f"de 25,0{NBSP}% à 40,0{NBSP}%",
        "non disponible",
    ]
    assert legend[-1].color == maps.NO_DATA_COLOR
    # Light to dark: the darkest colour is always the highest class.
    assert legend[1].color == maps.CHOROPLETH_COLORS[-1]


def test_choropleth_single_value():
    breaks, legend = maps.choropleth_classes([12, 12], "count")
    assert breaks == [12.0]
    assert [i.label for i in legend] == ["12"]


def _deck_dict(view):
    return json.loads(view.deck.to_json())


def test_deck_is_offline_compact_and_coloured(con):
    outlines = maps.load_outlines(con, "departement", "01", "commune")
    values = {"01001": 0.3, "01002": None, "01004": 0.19, "01005": 0.1}
    view = maps.build_deck(
        outlines,
        values,
        indicator=maps.MAP_INDICATORS["ess_share_private_jobs"],
        parent_outline=maps.load_parent_outline(con, "departement", "01"),
        actors=maps.load_actor_points(con, "departement", "01"),
    )
    text = view.deck.to_json()
    spec = json.loads(text)
    # No basemap: pydeck's sentinel, which Streamlit turns into "no style at all".
    assert spec["mapStyle"] == "__MAP_STYLE__"
    assert "http" not in text
    assert "\n " not in text and '", "' not in text  # compact JSON, no indentation
    assert view.json_bytes == len(text.encode("utf-8"))
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert set(layers) == {"territoires", "contour", "acteurs"}
    features = layers["territoires"]["data"]["features"]
    tips = {f["properties"]["tip"] for f in features}
    assert (
        f"L'Abergement-Clémenciat (01001)\nPart de l'ESS dans l'emploi privé : 30,0{NBSP}%" in tips
    )
    assert (
        "L'Abergement-de-Varey (01002)\nPart de l'ESS dans l'emploi privé : non disponible" in tips
    )
    grey = maps.hex_to_rgb(maps.NO_DATA_COLOR, 200)
    fills = {f["properties"]["tip"].split(" (")[0]: f["properties"]["fill"] for f in features}
    assert fills["L'Abergement-de-Varey"] == grey
    assert fills["L'Abergement-Clémenciat"] == maps.hex_to_rgb(maps.CHOROPLETH_COLORS[-1], 200)
    # Tooltips are text (innerText): nothing a file wrote can become HTML.
    assert spec is not None and view.deck._tooltip["text"] == "{tip}"
    assert "html" not in view.deck._tooltip
    assert view.table.columns.tolist() == [
        "code",
        "territoire",
        "Part de l'ESS dans l'emploi privé",
    ]


def test_actor_points(con):
    actors = maps.load_actor_points(con, "departement", "01")
    # ESS and active only (A5 closed, A6 not ESS), largest first; A4 (no employee) kept.
    assert actors["actor_id"].tolist() == ["A3a", "A3b", "A1", "A2", "A4"]
    only = maps.load_actor_points(con, "departement", "01", families=["mutuelle"])
    assert only["actor_id"].tolist() == ["A3a", "A3b"]
    sect = maps.load_actor_points(con, "departement", "01", sectors=["sport_loisirs"])
    assert sect["actor_id"].tolist() == ["A2", "A4"]
    view = maps.build_deck(
        maps.load_outlines(con, "departement", "01", "epci"),
        {},
        indicator=maps.MAP_INDICATORS["ess_jobs"],
        actors=actors,
        max_actor_points=3,
    )
    assert (view.actors_shown, view.actors_total) == (3, 5)
    points = {layer["id"]: layer for layer in _deck_dict(view)["layers"]}["acteurs"]["data"]
    assert points[0]["tip"] == (
        "Mutuelle Ville\nAmbérieu-en-Bugey\nMutuelles · Santé humaine\n34,5 emplois (estimation)"
    )
    assert points[0]["c"] == maps.hex_to_rgb("#009E73", 230)
    assert points[0]["r"] > points[2]["r"]  # sized by jobs
    assert [i.label for i in view.actor_legend] == ["Associations", "Mutuelles"]


def test_partial_diffusion_and_escaping_in_points():
    actors = pd.DataFrame(
        {
            "actor_id": ["x", "y"],
            "name": ["<img src=x onerror=alert(1)>", "Jean Dupont"],
            "partial_diffusion": [False, True],
            "commune_code": ["01001", "01001"],
            "commune_name": ["A", "A"],
            "family": ["association", "association"],
            "sector": ["sante", "sante"],
            "jobs": [1.5, 4.0],
            "jobs_is_estimate": [True, True],
            "employer": [True, True],
            "lon": [4.9, 4.9],
            "lat": [46.1, 46.1],
        }
    )
    outlines = pd.DataFrame({"code": [], "name": [], "geojson": []})
    view = maps.build_deck(outlines, {}, indicator=maps.MAP_INDICATORS["ess_jobs"], actors=actors)
    text = view.deck.to_json()
    assert "Jean Dupont" not in text
    points = {layer["id"]: layer for layer in json.loads(text)["layers"]}["acteurs"]["data"]
    assert points[1]["tip"].startswith("diffusion partielle\n")
    # Raw in the data, shown with innerText by the text tooltip: displayed, never executed.
    assert points[0]["tip"].startswith("<img src=x onerror=alert(1)>\n")


def test_view_state_fits_bounds():
    vs = maps.view_state_for((4.8, 45.7, 5.4, 46.2))
    assert vs.longitude == pytest.approx(5.1)
    assert 45.7 < vs.latitude < 46.2
    assert 8 < vs.zoom < 11
    # Whole metropolitan France at a national zoom.
    assert 4 < maps.view_state_for(maps.METRO_BOUNDS).zoom < 6


_CHER = '{"type":"Polygon","coordinates":[[[2,46],[3,46],[3,47],[2,46]]]}'
_REUNION = (
    '{"type":"Polygon","coordinates":[[[55.2,-21.4],[55.8,-21.4],[55.8,-20.9],[55.2,-21.4]]]}'
)


def _coords(feature) -> list[list[float]]:
    return feature["geometry"]["coordinates"][0]


def test_national_view_draws_overseas_departements_as_insets():
    """A national view frames the metropole and a column of insets west of Brittany, one per
    overseas département, instead of zooming out to half the planet."""
    outlines = pd.DataFrame(
        {"code": ["18", "974"], "name": ["Cher", "La Réunion"], "geojson": [_CHER, _REUNION]}
    )
    view = maps.build_deck(outlines, {}, indicator=maps.MAP_INDICATORS["ess_jobs"])
    deck = _deck_dict(view)
    cher, reunion = deck["layers"][0]["data"]["features"]
    assert _coords(cher)[0] == [2, 46]  # the metropole is not moved
    inset = next(i for i in maps.OVERSEAS_INSETS if i.name == "La Réunion")
    west, south, east, north = inset.target
    for lon, lat in _coords(reunion):
        assert west - 1e-6 <= lon <= east + 1e-6 and south - 1e-6 <= lat <= north + 1e-6
    # Proportions kept on the Web Mercator map: width / height on screen as in reality.
    xs = [p[0] for p in _coords(reunion)]
    ys = [p[1] for p in _coords(reunion)]
    real = 0.6 / (0.5 / math.cos(math.radians(-21.15)))
    drawn = (max(xs) - min(xs)) / ((max(ys) - min(ys)) / math.cos(math.radians(44.35)))
    assert drawn == pytest.approx(real, rel=0.01)
    # The view covers the metropole and the insets; frames and names are drawn.
    vs = deck["initialViewState"]
    assert maps.NATIONAL_BOUNDS[0] < vs["longitude"] < 2.5
    ids = [layer["id"] for layer in deck["layers"]]
    assert "encarts" in ids and "encarts_noms" in ids
    names = next(layer for layer in deck["layers"] if layer["id"] == "encarts_noms")["data"]
    assert [n["t"] for n in names] == [i.name for i in maps.OVERSEAS_INSETS]


def test_insets_move_actor_points_too():
    outlines = pd.DataFrame(
        {"code": ["18", "974"], "name": ["Cher", "La Réunion"], "geojson": [_CHER, _REUNION]}
    )
    actors = pd.DataFrame(
        {
            "lon": [2.5, 55.45],
            "lat": [46.5, -21.0],
            "name": ["Asso du Cher", "Asso de Saint-Denis"],
            "partial_diffusion": [False, False],
            "family": ["association", "association"],
            "sector": ["action_sociale_sans_hebergement"] * 2,
            "jobs": [3.0, 4.0],
            "jobs_is_estimate": [False, False],
            "commune_code": ["18033", "97411"],
            "commune_name": ["Bourges", "Saint-Denis"],
        }
    )
    view = maps.build_deck(outlines, {}, indicator=maps.MAP_INDICATORS["ess_jobs"], actors=actors)
    points = next(layer for layer in _deck_dict(view)["layers"] if layer["id"] == "acteurs")
    cher, reunion = points["data"]
    assert (cher["lon"], cher["lat"]) == (2.5, 46.5)
    inset = next(i for i in maps.OVERSEAS_INSETS if i.name == "La Réunion")
    assert inset.target[0] <= reunion["lon"] <= inset.target[2]
    assert inset.target[1] <= reunion["lat"] <= inset.target[3]
    assert "Saint-Denis" in reunion["tip"]
    # Thousands of points over all of France: drawn smaller than on a département's map.
    assert points["radiusScale"] == 0.35
    small = maps.build_deck(
        outlines.iloc[:1], {}, indicator=maps.MAP_INDICATORS["ess_jobs"], actors=actors.iloc[:1]
    )
    small_points = next(lyr for lyr in _deck_dict(small)["layers"] if lyr["id"] == "acteurs")
    assert small_points["radiusScale"] == 1.0


def test_an_overseas_territory_alone_is_drawn_where_it_is():
    """La Réunion's own map (région 04 or its communes) is a real map, not an inset."""
    outlines = pd.DataFrame({"code": ["974"], "name": ["La Réunion"], "geojson": [_REUNION]})
    deck = _deck_dict(maps.build_deck(outlines, {}, indicator=maps.MAP_INDICATORS["ess_jobs"]))
    assert _coords(deck["layers"][0]["data"]["features"][0])[0] == [55.2, -21.4]
    assert deck["initialViewState"]["latitude"] < -20
    assert "encarts" not in [layer["id"] for layer in deck["layers"]]


def test_simplify_rounds_coordinates():
    geo = (
        '{"type":"Polygon","coordinates":[[[4.123456,45.1],[4.2,45.1],[4.2,45.2],[4.123456,45.1]]]}'
    )
    assert maps.simplify_geojson([geo, None], 0.0, 3) == [
        {
            "type": "Polygon",
            "coordinates": [[[4.123, 45.1], [4.2, 45.1], [4.2, 45.2], [4.123, 45.1]]],
        },
        None,
    ]
