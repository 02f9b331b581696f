"""Lambert 93 (EPSG:2154, the French official projection of SIRENE's coordinates) → WGS84
longitude/latitude, in numpy and as DuckDB macros: pure maths, no I/O.

The formulas are IGN's (note NTG_71, algorithms ALG0004 and ALG0001); RGF93 and WGS84 agree
to a few centimetres, so no datum shift is applied.

>>> lon, lat = lambert93_to_wgs84([700000.0], [6600000.0])
>>> round(float(lon[0]), 9), round(float(lat[0]), 9)
(3.0, 46.5)
"""

from __future__ import annotations

import math

import duckdb
import numpy as np

__all__ = ["lambert93_to_wgs84", "SQL_MACROS", "install_macros"]

# Constants of the projection (IGN, Lambert 93 on the GRS80 ellipsoid).
_N = 0.7256077650532670  # exponent of the projection
_C = 11754255.426096  # projection constant (m)
_XS, _YS = 700000.0, 12655612.049876  # coordinates of the pole (m)
_E = 0.0818191910428158  # first eccentricity of GRS80
_LON0 = math.radians(3.0)  # central meridian


def lambert93_to_wgs84(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Lambert 93 metres → (longitude, latitude) in degrees, vectorised.

    The same transformation as the SQL macros ``ess_l93_lon`` / ``ess_l93_lat``
    (:data:`SQL_MACROS`); the latitude is iterated here, given by a series there (they agree
    to 1e-9 degree).
    """
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    r = np.hypot(x - _XS, _YS - y)
    gamma = np.arctan((x - _XS) / (_YS - y))
    lon = _LON0 + gamma / _N
    iso = -np.log(r / _C) / _N  # isometric latitude
    phi = 2 * np.arctan(np.exp(iso)) - np.pi / 2
    for _ in range(6):
        s = _E * np.sin(phi)
        phi = 2 * np.arctan(((1 + s) / (1 - s)) ** (_E / 2) * np.exp(iso)) - np.pi / 2
    return np.degrees(lon), np.degrees(phi)


#: TEMP macros ``ess_l93_lon(x, y)`` and ``ess_l93_lat(x, y)`` (degrees), for SQL over staged
#: rows. The latitude goes from the isometric latitude to the conformal one, then to the
#: geodetic one by the series in sin(2k·chi) (GRS80 coefficients): no iteration, so the macro
#: expands linearly.
SQL_MACROS = f"""
CREATE OR REPLACE TEMP MACRO ess_l93_lon(x, y) AS
    degrees({_LON0!r} + atan((x - {_XS!r}) / ({_YS!r} - y)) / {_N!r});
CREATE OR REPLACE TEMP MACRO ess_l93_chi(x, y) AS
    2 * atan(exp(-ln(sqrt(pow(x - {_XS!r}, 2) + pow({_YS!r} - y, 2)) / {_C!r}) / {_N!r}))
    - pi() / 2;
CREATE OR REPLACE TEMP MACRO ess_l93_lat_chi(chi) AS degrees(
    chi + 0.003356551485351144 * sin(2 * chi) + 6.5718727752939684e-06 * sin(4 * chi)
        + 1.764564364678166e-08 * sin(6 * chi) + 5.328478549053407e-11 * sin(8 * chi));
CREATE OR REPLACE TEMP MACRO ess_l93_lat(x, y) AS ess_l93_lat_chi(ess_l93_chi(x, y));
"""


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the TEMP macros of :data:`SQL_MACROS` on ``con``."""
    for statement in SQL_MACROS.split(";"):
        if statement.strip():
            con.execute(statement)
