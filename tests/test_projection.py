"""Lambert 93 → WGS84 (ess_diag.projection): the origin, a round trip through an independent
forward projection, reference points computed with PROJ, and the SQL macros against numpy."""

from __future__ import annotations

import doctest

import duckdb
import numpy as np
import pytest

from ess_diag import projection

E = 0.0818191910428158


def _forward(lon, lat):
    """Lambert 93 forward projection (IGN ALG0003), written independently of the inverse."""
    n, c, xs, ys = 0.7256077650532670, 11754255.426096, 700000.0, 12655612.049876
    phi = np.radians(lat)
    iso = np.log(
        np.tan(np.pi / 4 + phi / 2) * ((1 - E * np.sin(phi)) / (1 + E * np.sin(phi))) ** (E / 2)
    )
    r = c * np.exp(-n * iso)
    gamma = n * (np.radians(lon) - np.radians(3.0))
    return xs + r * np.sin(gamma), ys - r * np.cos(gamma)


def test_lambert93_origin_and_round_trip():
    lon, lat = projection.lambert93_to_wgs84([700000.0], [6600000.0])
    assert lon[0] == pytest.approx(3.0, abs=1e-12)
    assert lat[0] == pytest.approx(46.5, abs=1e-9)
    lons = np.array([-4.5, 2.35, 7.7, 9.4, 3.0])
    lats = np.array([48.4, 48.85, 48.58, 42.7, 50.6])
    x, y = _forward(lons, lats)
    back_lon, back_lat = projection.lambert93_to_wgs84(x, y)
    np.testing.assert_allclose(back_lon, lons, atol=1e-9)
    np.testing.assert_allclose(back_lat, lats, atol=1e-9)


def test_lambert93_paris_notre_dame():
    # The brief's reference pair is rounded: (652 469, 6 861 573) ≈ (2.3499, 48.8530),
    # i.e. within ~200 m.
    lon, lat = projection.lambert93_to_wgs84([652469.0], [6861573.0])
    assert lon[0] == pytest.approx(2.3499, abs=3e-3)
    assert lat[0] == pytest.approx(48.8530, abs=1e-3)


def test_sql_macros_match_numpy():
    con = duckdb.connect()
    projection.install_macros(con)
    con.execute(
        "CREATE TABLE p AS SELECT 100000 + (i % 100) * 11000.0 AS x, "
        "6050000 + (i // 100) * 11000.0 AS y FROM range(10000) t(i)"
    )
    x, y, lon, lat = (
        np.array(v)
        for v in zip(
            *con.execute("SELECT x, y, ess_l93_lon(x, y), ess_l93_lat(x, y) FROM p").fetchall(),
            strict=True,
        )
    )
    ref_lon, ref_lat = projection.lambert93_to_wgs84(x, y)
    np.testing.assert_allclose(lon, ref_lon, atol=1e-10)
    np.testing.assert_allclose(lat, ref_lat, atol=1e-9)


# (name, longitude, latitude, Lambert 93 x, y): x/y computed with PROJ 9 (pyproj
# ``Transformer.from_crs(4326, 2154, always_xy=True)``) — an implementation independent of
# this module — for the WGS84 positions of well-known places.
REFERENCE_POINTS = [
    ("Paris, Notre-Dame", 2.349902, 48.852968, 652297.091, 6861632.799),
    ("Brest", -4.486009, 48.390394, 146639.622, 6836261.025),
    ("Strasbourg", 7.750713, 48.584614, 1050185.600, 6842137.883),
    ("Ajaccio", 8.738635, 41.919229, 1176670.229, 6108276.714),
    ("Lille", 3.063507, 50.636565, 704500.408, 7059957.604),
]


@pytest.mark.parametrize(("name", "lon", "lat", "x", "y"), REFERENCE_POINTS)
def test_lambert93_matches_proj_to_the_centimetre(name, lon, lat, x, y):
    got_lon, got_lat = projection.lambert93_to_wgs84([x], [y])
    # 1e-7 degree ≈ 1 cm in latitude, less in longitude: far within "a few metres".
    assert got_lon[0] == pytest.approx(lon, abs=1e-7), name
    assert got_lat[0] == pytest.approx(lat, abs=1e-7), name
    con = duckdb.connect()
    projection.install_macros(con)
    sql_lon, sql_lat = con.execute(
        "SELECT ess_l93_lon(?, ?), ess_l93_lat(?, ?)", [x, y, x, y]
    ).fetchall()[0]
    assert (sql_lon, sql_lat) == (pytest.approx(lon, abs=1e-7), pytest.approx(lat, abs=1e-7))


def test_module_example_runs():
    assert doctest.testmod(projection).failed == 0
