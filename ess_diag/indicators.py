"""Every published figure of the diagnostic, computed from the store.

Pure functions over a DuckDB connection (no Streamlit, no plotting). Definitions, formulas,
sources and caveats (in French) are in ``docs/methodologie.md``; a test checks that every key
of :func:`compute` is documented there.

How it is computed: a handful of set-based SQL queries (values bound as parameters) read each
table once per database state into per-commune arrays — ESS totals per year, the sector and
family breakdown of a year, private jobs, the SIRENE estimate, the establishments — and
``territory_communes`` gives, for every level, each territory's communes. A territory's figures
are then sums over its communes' rows (one code path for every level; ``compute_all`` sums every
territory of a level at once with ``numpy.add.reduceat``). The arrays are cached in memory and
beside the database file (``cache/indicators/``), keyed by a fingerprint of the data (metadata:
``data_version``, row counts, file size and time), so an import is seen at once and a new process
starts from the saved arrays. At national scale (35 000 communes, 10 years, 400 000
establishments) one territory's full document then takes milliseconds instead of scanning
millions of ``ess_stats`` rows again.

Conventions of the results (the JSON document of ``ess-diag indicators``):

* counts are ``int``, job figures ``float``, shares between 0 and 1;
* a figure that cannot be computed is ``None`` and its key appears in the ``notes`` dict of the
  same section with a French reason — never a silent 0, never a ``ZeroDivisionError``;
* ``jobs_source`` says where ESS jobs come from: ``"statistiques"`` (imported ``ess_stats``) or
  ``"estimation_sirene"`` (band midpoints of the actors' SIRENE effectif bands).

The jobs-source rule, for a territory T and a year Y (see :func:`key_figures`):

1. **commune statistics** — when every département touched by T has commune-level
   ``ess_stats`` rows for Y, the figures are the sums of those rows over T's communes (a commune
   without a row has no ESS employer in that dataset);
2. otherwise **a row at T's own level** (e.g. an URSSAF département table) for Y;
3. otherwise **the SIRENE estimate**: active ESS employer establishments of ``actors`` (a
   snapshot, whatever Y), jobs = band midpoints.

Public API::

    compute(con, level, code, year=None) -> dict          # the full document
    compute_all(con, level, year=None) -> pandas.DataFrame  # key figures, every territory
    key_figures, by_family, by_sector, rurality, evolution, resilience,
    comparisons, similar_territories, zones_blanches, available_years, default_year,
    territory_info, summary_text, clear_cache, warm_cache
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import shutil
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np

from . import nomenclatures

if TYPE_CHECKING:  # pandas is imported lazily: the CLI path stays fast to start
    import pandas as pd

__all__ = [
    "JOBS_SOURCE_STATS",
    "JOBS_SOURCE_ESTIMATE",
    "LEVELS",
    "PARENT_LEVELS",
    "DIVERSITY_SECTORS",
    "SIMILARITY_CRITERIA",
    "KEY_FIGURE_COLUMNS",
    "EXTRA_COLUMNS",
    "IndicatorError",
    "available_years",
    "default_year",
    "territory_info",
    "key_figures",
    "compute_all",
    "by_family",
    "by_sector",
    "rurality",
    "evolution",
    "resilience",
    "comparisons",
    "similar_territories",
    "zones_blanches",
    "compute",
    "summary_text",
    "clear_cache",
    "warm_cache",
]

JOBS_SOURCE_STATS = "statistiques"
JOBS_SOURCE_ESTIMATE = "estimation_sirene"

LEVELS = ("commune", "epci", "departement", "region", "france")
#: Parent territories shown in comparisons, nearest first (kept equal to geography.PARENT_LEVELS
#: without importing it: the CLI path stays free of shapely).
PARENT_LEVELS = {
    "commune": ("epci", "departement", "region", "france"),
    "epci": ("departement", "region", "france"),
    "departement": ("region", "france"),
    "region": ("france",),
    "france": (),
}
_LEVEL_LABELS = {
    "commune": "commune",
    "epci": "intercommunalité",
    "departement": "département",
    "region": "région",
    "france": "France",
}

#: Sectors entering the diversity index: every ESS sector except "non classé" (an unknown
#: activity is not a sector); the index is normalised by ln(len(DIVERSITY_SECTORS)).
DIVERSITY_SECTORS: tuple[str, ...] = tuple(
    s.key for s in nomenclatures.SECTORS if s.key != "non_classe"
)

SIMILARITY_CRITERIA: tuple[str, ...] = (
    "population (logarithme)",
    "densité de population (logarithme)",
    "part de la population vivant dans une commune rurale",
)

#: Columns of :func:`compute_all` (and of the ``comparisons`` rows), in order.
KEY_FIGURE_COLUMNS: tuple[str, ...] = (
    "level",
    "code",
    "name",
    "population",
    "year",
    "ess_establishments",
    "ess_jobs",
    "private_jobs",
    "non_ess_private_jobs",
    "ess_share_private_jobs",
    "jobs_per_1000_inhabitants",
    "women_share",
    "jobs_source",
)

#: Further columns of :func:`compute_all` (same definitions as in :func:`rurality` and
#: :func:`resilience`), for maps and rankings.
EXTRA_COLUMNS: tuple[str, ...] = (
    "share_ess_jobs_rural",
    "ess_share_private_jobs_rural",
    "ess_share_private_jobs_urban",
    "sector_diversity",
)


# Reasons shown when a figure is not available (French, for the user).
_R_NO_YEAR = "Aucune année de statistiques n'est chargée."
_R_NO_ESS_DATA = (
    "Aucune donnée sur l'ESS n'est chargée pour ce territoire : importez le répertoire SIRENE "
    "ou des statistiques (URSSAF, observatoire)."
)
_R_NO_PRIVATE = (
    "Aucune donnée d'emploi privé (URSSAF commune × APE) n'est chargée pour l'année {year}."
)
_R_ZERO_PRIVATE = (
    "Aucun emploi privé recensé sur ce territoire : la part ne peut pas être calculée."
)
_R_ZERO_POP = "Population inconnue ou nulle."
_R_NO_ESS_JOBS = "Aucun emploi ESS sur ce territoire : la répartition n'a pas de sens."
_R_NO_ESS_ESTAB = "Aucun établissement employeur de l'ESS sur ce territoire."
_R_INCOHERENT = (
    "Les emplois ESS dépassent l'emploi privé total : les deux sources ne sont pas cohérentes "
    "(estimation SIRENE comparée aux données URSSAF, ou années différentes)."
)
_R_WOMEN_ESTIMATE = "Le répertoire SIRENE ne renseigne pas le sexe des salariés."
_R_WOMEN_MISSING = "Les statistiques chargées ne donnent pas les effectifs féminins."
_R_NO_BREAKDOWN = "Les statistiques chargées pour ce territoire ne donnent pas cette répartition."
_R_COMMUNE_DETAIL = (
    "Les statistiques de ce territoire ne sont disponibles qu'à son propre niveau, pas par "
    "commune : la répartition rurale/urbaine ne peut pas être calculée."
)


class IndicatorError(ValueError):
    """A bad request (unknown level or territory), explained in French."""


# --------------------------------------------------------------------------- small helpers
def _ratio(num, den) -> float | None:
    """``num / den`` or None when either is missing or ``den`` is 0."""
    if num is None or den is None:
        return None
    try:
        if math.isnan(num) or math.isnan(den):
            return None
    except TypeError:
        return None
    if den == 0:
        return None
    return float(num) / float(den)


def _f(value) -> float | None:
    if value is None:
        return None
    try:
        if math.isnan(value):
            return None
    except TypeError:
        return None
    return float(value)


def _i(value) -> int | None:
    v = _f(value)
    return None if v is None else int(round(v))


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise IndicatorError(f"Niveau inconnu : « {level} » (attendu : {', '.join(LEVELS)}).")


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence = ()) -> list[tuple]:
    # A cursor per query: safe with Streamlit threads sharing the process connection.
    return con.cursor().execute(sql, list(params)).fetchall()


# --------------------------------------------------------------------------- years, territory
def available_years(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Years with ESS statistics or private-employment data, ascending."""
    rows = _rows(
        con,
        "SELECT DISTINCT year FROM ess_stats UNION SELECT DISTINCT year FROM private_employment "
        "ORDER BY 1",
    )
    return [int(r[0]) for r in rows]


def _years_detail(con: duckdb.DuckDBPyConnection) -> tuple[list[int], set[int], set[int]]:
    """(all years, years having ESS statistics, years having private-employment rows)."""
    rows = _rows(
        con,
        """
        SELECT year, bool_or(k = 'e'), bool_or(k = 'p') FROM (
            SELECT DISTINCT year, 'e' AS k FROM ess_stats
            UNION ALL SELECT DISTINCT year, 'p' AS k FROM private_employment
        ) GROUP BY year ORDER BY year
        """,
    )
    return (
        [int(r[0]) for r in rows],
        {int(r[0]) for r in rows if r[1]},
        {int(r[0]) for r in rows if r[2]},
    )


def default_year(con: duckdb.DuckDBPyConnection) -> int | None:
    """The latest year having both ESS statistics and private employment, else the latest year
    having either, else None."""
    return _pick_default(*_years_detail(con))


def territory_info(con: duckdb.DuckDBPyConnection, level: str, code: str) -> dict:
    """``{level, code, name, population, density}`` plus the parent codes (``epci_code``,
    ``departement_code``, ``region_code``); raises :class:`IndicatorError`."""
    return dict(_info(_Context(con, None), level, code))


def _public_territory(info: dict) -> dict:
    return {k: info[k] for k in ("level", "code", "name", "population")}


def _parent_pairs(info: dict) -> list[tuple[str, str]]:
    out = []
    for parent in PARENT_LEVELS[info["level"]]:
        if parent == "france":
            out.append(("france", "FR"))
        elif info.get(f"{parent}_code"):
            out.append((parent, info[f"{parent}_code"]))
    return out


# --------------------------------------------------------------------------- the cube
# Every query of a diagnostic aggregates the same few tables over sets of communes. Rather
# than scanning millions of ess_stats rows again for every territory, each table is read once
# per data state into per-commune arrays (set-based SQL, bound parameters); a territory's
# figures are then sums over its communes' rows, whatever its level — the arrays are indexed
# through ``territory_communes``. The cache key is the database (file path, or the connection
# for in-memory ones) plus a fingerprint (data_version and row counts), so an import, an undo
# or a test inserting rows without bumping data_version is seen at once.

_CACHE: OrderedDict = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4
_MEMO_SIZE = 20_000

# Cheap to read (row counts come from table metadata): the database path, data_version/demo,
# and the exact row count of each table the figures read — a deletion is seen too.
_FINGERPRINT_TABLES = (
    "ess_stats",
    "private_employment",
    "actors",
    "density_grid",
    "territory_communes",
    "territories",
    "unites_legales",
)
_FINGERPRINT_SQL = (
    "SELECT 'path', path FROM duckdb_databases() WHERE database_name = current_database()\n"
    + "".join(
        f"UNION ALL SELECT 'rows:{t}', count(*)::VARCHAR FROM {t}\n" for t in _FINGERPRINT_TABLES
    )
    + "UNION ALL SELECT 'meta:' || key, value FROM meta WHERE key IN ('data_version', 'demo')"
)

_SECTOR_KEYS: tuple[str, ...] = tuple(s.key for s in nomenclatures.SECTORS)
_FAMILY_KEYS: tuple[str, ...] = tuple(nomenclatures.FAMILIES)
_SECTOR_POS = {k: i for i, k in enumerate(_SECTOR_KEYS)}
_FAMILY_POS = {k: i for i, k in enumerate(_FAMILY_KEYS)}


def _cube(con: duckdb.DuckDBPyConnection) -> _Cube:
    rows = sorted(_rows(con, _FINGERPRINT_SQL), key=lambda r: r[0])
    path = next((v for k, v in rows if k == "path"), None)
    fingerprint = tuple(r for r in rows if r[0] != "path")
    ident = ("file", path) if path else ("memory", id(con))
    with _CACHE_LOCK:
        cube = _CACHE.get(ident)
        # An in-memory database is tied to its connection object (ids may be reused).
        if cube is not None and cube.fingerprint == fingerprint and (path or cube.owner is con):
            _CACHE.move_to_end(ident)
            return cube
    cube = _Cube(con, fingerprint, path)
    with _CACHE_LOCK:
        _CACHE[ident] = cube
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return cube


def warm_cache(con: duckdb.DuckDBPyConnection) -> None:
    """Build (and save beside the database file) the per-commune arrays of the current data,
    so that the first page or ``ess-diag indicators`` call after an import or ``init`` does not
    pay for it. Call it on the final database path (the cache is keyed by it)."""
    ctx = _Context(con, None)
    cube = ctx.cube
    for level in LEVELS:
        cube.members(con, level)
    cube.totals(con)
    cube.private(con)
    if ctx.year is not None:
        if ctx.year in cube.ess_years:
            cube.detail(con, ctx.year)
        if ctx.year in cube.private_years:
            cube.private_sector(con, ctx.year)
    if cube.has_actors:
        cube.estimate(con)
        cube.actors(con)


def clear_cache() -> None:
    """Forget every cached per-commune array (they are rebuilt on the next call)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _col(values, dtype=float, fill=0.0) -> np.ndarray:
    """A fetchnumpy column (masked where NULL) as a plain array with NULL → ``fill``."""
    if isinstance(values, np.ma.MaskedArray):
        values = values.filled(fill)
    arr = np.asarray(values)
    if arr.dtype == object:
        arr = np.array([fill if v is None else v for v in arr])
    return arr.astype(dtype) if len(arr) else np.zeros(0, dtype=dtype)


def _numpy(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence = ()) -> dict:
    return con.cursor().execute(sql, list(params)).fetchnumpy()


# Commune number = rank of its code: the same numbering as the cube's commune arrays (both
# ordered by code in SQL), so loaders return indices and never map codes in Python.
_CIDX = """ci AS (
    SELECT code AS commune_code, (row_number() OVER (ORDER BY code) - 1)::BIGINT AS i
    FROM territories WHERE level = 'commune'
)"""


class _Members:
    """Territories of one level → their communes, as contiguous slices of one index array."""

    def __init__(self, codes: list[str], starts: np.ndarray, idx: np.ndarray):
        self.codes = codes
        self.pos = {c: k for k, c in enumerate(codes)}
        self.starts = starts
        self.ends = np.append(starts[1:], len(idx)).astype(np.int64)
        self.idx = idx

    def of(self, code: str) -> np.ndarray:
        k = self.pos.get(code)
        if k is None:
            return np.zeros(0, dtype=np.int64)
        return self.idx[self.starts[k] : self.ends[k]]

    def reduce(self, values: np.ndarray, op=np.add) -> np.ndarray:
        """``op`` over each territory's communes (``values`` indexed by commune)."""
        if not len(self.codes):
            return values[:0]
        return op.reduceat(values[self.idx], self.starts, axis=0)


# Arrays saved by another version of this module are never read back: its source is in the key.
_CODE_STAMP = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


class _DiskCache:
    """The cube's parts saved beside a database file (``<dir>/cache/indicators/``), so that a
    new process — the CLI, a restarted app — does not rebuild them. Plain ``.npz`` arrays plus a
    JSON skeleton (no pickle). Keyed by the fingerprint and the file's size and modification
    time: any write to the database makes a new key. Every failure (read-only disk, corrupt
    file) falls back to rebuilding from the database."""

    def __init__(self, db_path: str, fingerprint: tuple):
        path = Path(db_path)
        stamp = []
        for f in (path, path.with_name(path.name + ".wal")):
            try:
                st = f.stat()
                stamp.append((st.st_size, st.st_mtime_ns))
            except OSError:
                stamp.append(None)
        digest = hashlib.sha256(repr((_CODE_STAMP, fingerprint, stamp)).encode()).hexdigest()[:16]
        self.root = path.parent / "cache" / "indicators"
        self.prefix = path.name + "-"
        self.dir = self.root / (self.prefix + digest)

    def load(self, name: str):
        part = self.dir / name
        try:
            skeleton = json.loads((part / "skeleton.json").read_text(encoding="utf-8"))
            # Memory-mapped: a part is read from the page cache only where it is used.
            arrays = _LazyArrays(part)
            return _decode(skeleton, arrays)
        except (OSError, ValueError, KeyError):
            return None

    def save(self, name: str, value) -> None:
        try:
            if not self.dir.exists():
                self.dir.mkdir(parents=True, exist_ok=True)
                for old in self.root.glob(self.prefix + "*"):  # earlier states of this base
                    if old != self.dir:
                        shutil.rmtree(old, ignore_errors=True)
            arrays: dict[str, np.ndarray] = {}
            skeleton = json.dumps(_encode(value, arrays))
            tmp = self.dir / f".{name}.{os.getpid()}.{threading.get_ident()}"
            tmp.mkdir()
            for key, arr in arrays.items():
                np.save(tmp / f"{key}.npy", arr, allow_pickle=False)
            (tmp / "skeleton.json").write_text(skeleton, encoding="utf-8")
            try:
                tmp.rename(self.dir / name)  # atomic: readers see a part whole or not at all
            except OSError:
                shutil.rmtree(tmp, ignore_errors=True)
        except (OSError, ValueError, TypeError):
            pass


class _LazyArrays:
    """``arrays[key]`` → the memory-mapped ``key.npy`` of a part directory."""

    def __init__(self, directory: Path):
        self.directory = directory

    def __getitem__(self, key: str) -> np.ndarray:
        arr = np.load(self.directory / f"{key}.npy", mmap_mode="r", allow_pickle=False)
        return np.asarray(arr)  # a plain array over the mapping: no memmap indexing overhead


def _encode(obj, arrays: dict):
    if isinstance(obj, np.ndarray):
        key = f"a{len(arrays)}"
        if obj.dtype == object:
            arrays[key] = np.array(["" if v is None else str(v) for v in obj], dtype=str)
            arrays[key + "n"] = np.array([v is None for v in obj], dtype=bool)
            return {"o": key}
        arrays[key] = obj
        return {"a": key}
    if isinstance(obj, dict):
        return {"d": [[_encode(k, arrays), _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"t": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return {"l": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, set):
        return {"s": [_encode(v, arrays) for v in sorted(obj, key=str)]}
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _decode(node, arrays: dict):
    if not isinstance(node, dict):
        return node
    if "a" in node:
        return arrays[node["a"]]
    if "o" in node:
        values = np.asarray(arrays[node["o"]]).tolist()
        for i in np.flatnonzero(arrays[node["o"] + "n"]):
            values[i] = None
        return values
    if "d" in node:
        return {_decode(k, arrays): _decode(v, arrays) for k, v in node["d"]}
    if "t" in node:
        return tuple(_decode(v, arrays) for v in node["t"])
    if "l" in node:
        return [_decode(v, arrays) for v in node["l"]]
    return {_decode(v, arrays) for v in node["s"]}


def _str_array(values) -> np.ndarray:
    """Text column → fixed-width unicode array, NULL → "" (saved without pickle, mapped back
    from disk without conversion)."""
    return np.array(["" if v is None else str(v) for v in values], dtype=str)


class _InfoTable:
    """Territories by ``(level, code)``: columns sorted by level then code; a row becomes a
    dict only when asked for (a request reads a handful of the 36 000 rows)."""

    def __init__(self, columns: dict):
        self.columns = columns
        levels = columns["level"]
        self.slices: dict[str, tuple[int, int]] = {}
        if len(levels):
            change = np.flatnonzero(np.concatenate([[True], levels[1:] != levels[:-1]]))
            ends = np.append(change[1:], len(levels))
            for start, end in zip(change, ends, strict=True):
                self.slices[str(levels[start])] = (int(start), int(end))
        self._rows: dict[int, dict] = {}

    def _pos(self, key: tuple[str, str]) -> int | None:
        bounds = self.slices.get(key[0])
        if bounds is None:
            return None
        codes = self.columns["code"][bounds[0] : bounds[1]]
        k = int(np.searchsorted(codes, key[1]))
        if k < len(codes) and codes[k] == key[1]:
            return bounds[0] + k
        return None

    def codes(self, level: str) -> list[str]:
        start, end = self.slices.get(level, (0, 0))
        return self.columns["code"][start:end].tolist()

    def get(self, key: tuple[str, str], default=None) -> dict | None:
        k = self._pos(key)
        if k is None:
            return default
        row = self._rows.get(k)
        if row is None:
            c = self.columns
            pop, density = float(c["population"][k]), float(c["density"][k])
            row = {
                "level": str(c["level"][k]),
                "code": str(c["code"][k]),
                "name": str(c["name"][k]),
                "population": None if math.isnan(pop) else int(pop),
                "density": None if math.isnan(density) else density,
                "epci_code": str(c["epci_code"][k]) or None,
                "departement_code": str(c["departement_code"][k]) or None,
                "region_code": str(c["region_code"][k]) or None,
            }
            self._rows[k] = row
        return row

    def __getitem__(self, key: tuple[str, str]) -> dict:
        row = self.get(key)
        if row is None:
            raise KeyError(key)
        return row


class _Cube:
    """Per-commune arrays of one database state (see the comment above)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, fingerprint: tuple, path: str | None):
        self.fingerprint = fingerprint
        self.owner = con
        self.lock = threading.RLock()
        self._parts: dict[str, object] = {}
        self.memo: dict[tuple, object] = {}  # per-territory blocks of this state
        self.disk = _DiskCache(path, fingerprint) if path else None
        base = self._part(con, "base", self._build_base)
        self.ccodes = base["ccodes"]
        self.cname = base["cname"]
        self.cpop = base["cpop"]
        self.crural = base["crural"]
        self.cgrid = base["cgrid"]
        self.n = len(self.ccodes)
        self.info = _InfoTable(base["territories"])
        self.years = [int(y) for y in base["years"]]
        self.ess_years = {int(y) for y in base["ess_years"]}
        self.private_years = {int(y) for y in base["private_years"]}
        self.has_actors = bool(base["has_actors"])
        self.covered = {int(y): arr for y, arr in base["covered"].items()}
        self.stat_sources = list(base["stat_sources"])
        self.direct = base["direct"]
        self._features: dict[str, dict] = {}

    def _part(self, con, name: str, build):
        """A part of the cube: in memory, else from the disk cache, else built from SQL."""
        value = self._parts.get(name)
        if value is None:
            with self.lock:
                value = self._parts.get(name)
                if value is None:
                    value = self.disk.load(name) if self.disk else None
                    if value is None:
                        value = build(con)
                        if self.disk:
                            self.disk.save(name, value)
                    self._parts[name] = value
        return value

    # ---- loaders (each a set-based query, run once per database state) ----
    def _build_base(self, con) -> dict:
        data = _numpy(
            con,
            """
            SELECT t.code, t.name, coalesce(t.population, 0) AS population,
                   t.departement_code, coalesce(r.rural, false) AS rural,
                   coalesce(r.source = 'grille', false) AS grid
            FROM territories t LEFT JOIN commune_rurality r ON r.commune_code = t.code
            WHERE t.level = 'commune' ORDER BY t.code
            """,
        )
        ccodes = np.asarray(data["code"], dtype=object)
        cdep = np.asarray(data["departement_code"], dtype=object)
        terr = _numpy(
            con,
            "SELECT level, code, name, population::DOUBLE AS population, density, epci_code, "
            "departement_code, region_code FROM territories ORDER BY level, code",
        )
        territories = {
            k: _str_array(terr[k])
            for k in ("level", "code", "name", "epci_code", "departement_code", "region_code")
        }
        for k in ("population", "density"):
            territories[k] = _col(terr[k], float, math.nan)
        years, ess_years, private_years = _years_detail(con)
        covered_deps: dict[int, list] = {}
        for year, dep in _rows(
            con,
            """
            SELECT DISTINCT s.year, c.departement_code FROM ess_stats s
            JOIN territories c ON c.level = 'commune' AND c.code = s.code
            WHERE s.level = 'commune' AND s.family IS NULL AND s.sector IS NULL
            """,
        ):
            covered_deps.setdefault(int(year), []).append(dep)
        return {
            "ccodes": _str_array(ccodes),
            "cname": _str_array(data["name"]),
            "cpop": _col(data["population"]),
            "crural": _col(data["rural"], bool, False),
            "cgrid": _col(data["grid"], bool, False),
            "territories": territories,
            "years": np.array(years, dtype=np.int64),
            "ess_years": np.array(sorted(ess_years), dtype=np.int64),
            "private_years": np.array(sorted(private_years), dtype=np.int64),
            "has_actors": bool(
                _rows(con, "SELECT EXISTS (SELECT 1 FROM actors WHERE is_ess)")[0][0]
            ),
            "covered": {
                y: np.isin(cdep.astype(str), [str(d) for d in deps])
                for y, deps in covered_deps.items()
            },
            "stat_sources": [
                r[0]
                for r in _rows(
                    con, "SELECT DISTINCT source FROM ess_stats WHERE level = 'commune' ORDER BY 1"
                )
            ],
            "direct": self._load_direct(con),
        }

    def _load_direct(self, con) -> dict:
        rows = _rows(
            con,
            """
            SELECT level, code, year, family, sector, measure, sum(value), list(DISTINCT source)
            FROM ess_stats
            WHERE level <> 'commune' AND measure IN ('etablissements', 'effectifs',
                  'effectifs_femmes') AND (family IS NULL OR sector IS NULL)
            GROUP BY ALL
            """,
        )
        blocks: dict[tuple[str, str, int], dict] = {}
        for lvl, code, year, family, sector, measure, value, sources in rows:
            block = blocks.setdefault(
                (lvl, code, int(year)), {"kind": "direct", "sources": set(), **_empty_block()}
            )
            block["sources"].update(sources or [])
            if family is None and sector is None:
                block["totals"][measure] = float(value)
            elif sector is None:
                block["family"].setdefault(family, {})[measure] = float(value)
            else:
                block["sector"].setdefault(sector, {})[measure] = float(value)
        # A territory-level dataset counts only when it gives a total.
        return {
            k: b
            for k, b in blocks.items()
            if "etablissements" in b["totals"] or "effectifs" in b["totals"]
        }

    def members(self, con, level: str) -> _Members:
        key = f"members-{level}"
        m = self._parts.get(key + "/obj")
        if m is None:
            raw = self._part(con, key, lambda con: self._build_members(con, level))
            m = _Members(list(raw["codes"]), raw["starts"], raw["idx"])
            self._parts[key + "/obj"] = m
        return m

    def _build_members(self, con, level: str) -> dict:
        data = _numpy(
            con,
            f"WITH {_CIDX} SELECT m.code, ci.i FROM territory_communes m "
            "JOIN ci ON ci.commune_code = m.commune_code WHERE m.level = ? "
            "ORDER BY m.code, ci.i",
            [level],
        )
        codes = np.asarray(data["code"], dtype=object)
        idx = _col(data["i"], np.int64, 0)
        change = np.ones(len(codes), dtype=bool)
        if len(codes):
            change[1:] = codes[1:] != codes[:-1]
        starts = np.flatnonzero(change).astype(np.int64)
        return {"codes": codes[starts], "starts": starts, "idx": idx}

    def totals(self, con) -> dict[int, dict]:
        """Commune-level ESS totals of every year: ``{year: {estab, jobs, women, has_women,
        sources}}`` (arrays by commune)."""
        return self._part(con, "totals", self._build_totals)

    def _build_totals(self, con) -> dict:
        data = _numpy(
            con,
            f"""
            WITH {_CIDX}, t AS (
                SELECT s.code, s.year,
                       coalesce(sum(s.value) FILTER (WHERE s.measure = 'etablissements'), 0) AS e,
                       coalesce(sum(s.value) FILTER (WHERE s.measure = 'effectifs'), 0) AS j,
                       coalesce(sum(s.value) FILTER (WHERE s.measure = 'effectifs_femmes'), 0)
                           AS w,
                       count(*) FILTER (WHERE s.measure = 'effectifs_femmes') > 0 AS hw,
                       bit_or(1::BIGINT << (list_position(?::VARCHAR[], s.source) - 1)) AS m
                FROM ess_stats s
                WHERE s.level = 'commune' AND s.family IS NULL AND s.sector IS NULL
                  AND s.measure IN ('etablissements', 'effectifs', 'effectifs_femmes')
                GROUP BY s.code, s.year
            )
            SELECT ci.i, t.year, t.e, t.j, t.w, t.hw, t.m
            FROM t JOIN ci ON ci.commune_code = t.code
            """,
            [self.stat_sources[:63]],
        )
        ci = _col(data["i"], np.int64, 0)
        years = _col(data["year"], np.int64, 0)
        cols = {
            "estab": _col(data["e"]),
            "jobs": _col(data["j"]),
            "women": _col(data["w"]),
            "has_women": _col(data["hw"], bool, False),
            "sources": _col(data["m"], np.int64, 0),
        }
        out = {}
        for year in np.unique(years):
            sel = years == year
            arrays = {}
            for name, values in cols.items():
                arr = np.zeros(self.n, dtype=values.dtype)
                arr[ci[sel]] = values[sel]
                arrays[name] = arr
            out[int(year)] = arrays
        return out

    def detail(self, con, year: int) -> dict:
        """Commune-level ESS breakdown of one year: ``{"sector": (n, S, 2), "family": (n, F,
        2), "has_sector": (n,), "has_family": (n,)}`` (measure 0 = établissements, 1 = jobs)."""
        return self._part(con, f"detail-{year}", lambda con: self._build_detail(con, year))

    def _build_detail(self, con, year: int) -> dict:
        data = _numpy(
            con,
            f"""
            WITH {_CIDX}
            SELECT ci.i, coalesce(list_position(?::VARCHAR[], s.sector), 0) AS si,
                   coalesce(list_position(?::VARCHAR[], s.family), 0) AS fi,
                   s.sector IS NOT NULL AS is_sector,
                   (s.measure = 'effectifs')::INTEGER AS mi, sum(s.value) AS v
            FROM ess_stats s JOIN ci ON ci.commune_code = s.code
            WHERE s.level = 'commune' AND s.year = ?
              AND s.measure IN ('etablissements', 'effectifs')
              AND ((s.family IS NULL) <> (s.sector IS NULL))
            GROUP BY ALL
            """,
            [list(_SECTOR_KEYS), list(_FAMILY_KEYS), year],
        )
        ci = _col(data["i"], np.int64, 0)
        si = _col(data["si"], np.int64, 0)
        fi = _col(data["fi"], np.int64, 0)
        is_sector = _col(data["is_sector"], bool, False)
        mi = _col(data["mi"], np.int64, 0)
        v = _col(data["v"])
        d = {
            "sector": np.zeros((self.n, len(_SECTOR_KEYS), 2)),
            "family": np.zeros((self.n, len(_FAMILY_KEYS), 2)),
            "has_sector": np.zeros(self.n, dtype=bool),
            "has_family": np.zeros(self.n, dtype=bool),
        }
        d["has_sector"][ci[is_sector]] = True
        d["has_family"][ci[~is_sector]] = True
        s = is_sector & (si > 0)
        np.add.at(d["sector"], (ci[s], si[s] - 1, mi[s]), v[s])
        f = ~is_sector & (fi > 0)
        np.add.at(d["family"], (ci[f], fi[f] - 1, mi[f]), v[f])
        return d

    def private(self, con) -> dict[int, np.ndarray]:
        """Private jobs by commune, every year."""
        return self._part(con, "private", self._build_private)

    def _build_private(self, con) -> dict:
        data = _numpy(
            con,
            # aggregate first, join the (much smaller) result to the commune numbers
            f"WITH {_CIDX}, p AS (SELECT commune_code, year, coalesce(sum(jobs), 0) AS j "
            "FROM private_employment GROUP BY ALL) "
            "SELECT ci.i, p.year, p.j FROM p JOIN ci ON ci.commune_code = p.commune_code",
        )
        ci = _col(data["i"], np.int64, 0)
        years = _col(data["year"], np.int64, 0)
        j = _col(data["j"])
        out = {}
        for year in self.private_years:
            arr = np.zeros(self.n)
            sel = years == year
            arr[ci[sel]] = j[sel]
            out[int(year)] = arr
        return out

    def private_sector(self, con, year: int) -> np.ndarray:
        """Private jobs by commune and sector for one year, shape (n, S)."""
        return self._part(
            con, f"private_sector-{year}", lambda con: self._build_private_sector(con, year)
        )

    def _build_private_sector(self, con, year: int) -> np.ndarray:
        data = _numpy(
            con,
            f"""
            WITH {_CIDX}
            SELECT ci.i, coalesce(list_position(?::VARCHAR[], p.sector), 0) AS si,
                   coalesce(sum(p.jobs), 0) AS j
            FROM private_employment p JOIN ci ON ci.commune_code = p.commune_code
            WHERE p.year = ? GROUP BY ALL
            """,
            [list(_SECTOR_KEYS), year],
        )
        ci = _col(data["i"], np.int64, 0)
        si = _col(data["si"], np.int64, 0)
        j = _col(data["j"])
        arr = np.zeros((self.n, len(_SECTOR_KEYS)))
        ok = si > 0
        np.add.at(arr, (ci[ok], si[ok] - 1), j[ok])
        return arr

    def estimate(self, con) -> dict:
        """SIRENE estimate by commune: active ESS employer establishments of ``actors``."""
        return self._part(con, "estimate", self._build_estimate)

    def _build_estimate(self, con) -> dict:
        sources = [r[0] for r in _rows(con, "SELECT DISTINCT source FROM actors ORDER BY 1")]
        data = _numpy(
            con,
            f"""
            WITH {_CIDX}
            SELECT ci.i, coalesce(list_position(?::VARCHAR[], a.family), 0) AS fi,
                   coalesce(list_position(?::VARCHAR[], a.sector), 0) AS si,
                   count(*) AS n, coalesce(sum(a.jobs), 0) AS j,
                   bit_or(1::BIGINT << (list_position(?::VARCHAR[], a.source) - 1)) AS m
            FROM actors a JOIN ci ON ci.commune_code = a.commune_code
            WHERE a.is_ess AND a.active AND a.employer
            GROUP BY ALL
            """,
            [list(_FAMILY_KEYS), list(_SECTOR_KEYS), sources[:63]],
        )
        ci = _col(data["i"], np.int64, 0)
        fi = _col(data["fi"], np.int64, 0)
        si = _col(data["si"], np.int64, 0)
        values = np.column_stack([_col(data["n"]), _col(data["j"])])
        mask = _col(data["m"], np.int64, 0)
        est = {
            "totals": np.zeros((self.n, 2)),
            "sector": np.zeros((self.n, len(_SECTOR_KEYS), 2)),
            "family": np.zeros((self.n, len(_FAMILY_KEYS), 2)),
            "mask": np.zeros(self.n, dtype=np.int64),
            "source_names": sources,
        }
        np.add.at(est["totals"], ci, values)
        np.bitwise_or.at(est["mask"], ci, mask)
        f = fi > 0
        np.add.at(est["family"], (ci[f], fi[f] - 1), values[f])
        s = si > 0
        np.add.at(est["sector"], (ci[s], si[s] - 1), values[s])
        return est

    def actors(self, con) -> dict:
        """Active ESS employer establishments, one entry each (for concentration and age)."""
        return self._part(con, "actors", self._build_actors)

    def _build_actors(self, con) -> dict:
        data = _numpy(
            con,
            f"""
            WITH {_CIDX}
            SELECT ci.i AS c, coalesce(a.siren, a.actor_id) AS k,
                   coalesce(a.jobs, 0) AS j,
                   coalesce(date_diff('day', DATE '1970-01-01', a.date_creation), 0) AS d,
                   a.date_creation IS NULL AS no_date,
                   a.partial_diffusion OR coalesce(u.partial_diffusion, false) AS p
            FROM actors a JOIN ci ON ci.commune_code = a.commune_code
            LEFT JOIN unites_legales u ON u.siren = a.siren
            WHERE a.is_ess AND a.active AND a.employer
            ORDER BY k
            """,
        )
        keys = np.asarray(data["k"], dtype=object)
        # keys are sorted: employer number = rank of the key
        change = np.ones(len(keys), dtype=bool)
        if len(keys):
            change[1:] = keys[1:] != keys[:-1]
        emp = np.cumsum(change) - 1
        no_date = _col(data["no_date"], bool, True)
        return {
            "commune": _col(data["c"], np.int64, 0),
            "employer": emp,
            "n_employers": int(emp[-1] + 1) if len(emp) else 0,
            # one key per employer (SIREN, else the establishment id): names are looked up
            # for the five largest only (see _employer_names)
            "keys": np.array([str(k) for k in keys[change]], dtype=str),
            "jobs": _col(data["j"]),
            "days": np.where(no_date, np.nan, _col(data["d"])),
            "partial": _col(data["p"], bool, False),
        }

    def employer_names(self, con, keys: list[str]) -> dict[str, str | None]:
        """Names of employers, looked up once each (the names are not kept in the arrays)."""
        names = self._parts.setdefault("names", {})
        missing = [k for k in keys if k not in names]
        if missing:
            names.update(_employer_names(con, missing))
            for k in missing:
                names.setdefault(k, None)
        return {k: names[k] for k in keys}

    def features(self, con, level: str) -> dict:
        """Similarity criteria of every territory of ``level`` with a population and density."""
        f = self._features.get(level)
        if f is None:
            m = self.members(con, level)
            pop = m.reduce(self.cpop)
            rural_pop = m.reduce(self.cpop * self.crural)
            codes, lp, ld, rs, pops, dens = [], [], [], [], [], []
            for k, code in enumerate(m.codes):
                info = self.info.get((level, code))
                if not info or not info["population"] or not info["density"]:
                    continue
                codes.append(code)
                pops.append(info["population"])
                dens.append(info["density"])
                lp.append(math.log(info["population"]))
                ld.append(math.log(info["density"]))
                rs.append(rural_pop[k] / pop[k] if pop[k] else 0.0)
            f = {
                "codes": codes,
                "pos": {c: i for i, c in enumerate(codes)},
                "population": np.array(pops, dtype=float),
                "density": np.array(dens, dtype=float),
                "rural": np.array(rs, dtype=float),
                "z": np.column_stack([_z(np.array(v, dtype=float)) for v in (lp, ld, rs)])
                if codes
                else np.zeros((0, 3)),
            }
            self._features[level] = f
        return f


def _z(values: np.ndarray) -> np.ndarray:
    """Standardise over the level (population standard deviation); a constant criterion
    contributes nothing."""
    sd = values.std()
    if not sd or math.isnan(sd):
        return np.zeros_like(values)
    return (values - values.mean()) / sd


def _empty_block() -> dict:
    return {"totals": {}, "family": {}, "sector": {}}


def _none_block() -> dict:
    return {"kind": None, "sources": set(), **_empty_block()}


def _source_bits(mask: int, names: list[str]) -> set[str]:
    return {name for bit, name in enumerate(names) if mask >> bit & 1}


def _kind(cube: _Cube, level: str, code: str, year: int | None, idx: np.ndarray) -> str | None:
    """The source rule: commune statistics, then the territory's own row (else None)."""
    if year is None or year not in cube.ess_years:
        return None
    covered = cube.covered.get(year)
    if covered is not None and len(idx) and covered[idx].all():
        return "communes"
    if (level, code, year) in cube.direct:
        return "direct"
    return None


def _commune_block(cube: _Cube, con, idx: np.ndarray, year: int, detail: bool) -> dict:
    tot = cube.totals(con).get(year)
    block = {"kind": "communes", "sources": set(), **_empty_block()}
    if tot is None:
        block["totals"] = {"etablissements": 0.0, "effectifs": 0.0}
        return block
    block["totals"] = {
        "etablissements": float(tot["estab"][idx].sum()),
        "effectifs": float(tot["jobs"][idx].sum()),
    }
    if tot["has_women"][idx].any():
        block["totals"]["effectifs_femmes"] = float(tot["women"][idx][tot["has_women"][idx]].sum())
    mask = int(np.bitwise_or.reduce(tot["sources"][idx])) if len(idx) else 0
    block["sources"] = _source_bits(mask, cube.stat_sources)
    if detail:
        d = cube.detail(con, year)
        if d["has_sector"][idx].any():
            sums = d["sector"][idx].sum(axis=0)
            block["sector"] = {
                k: {"etablissements": float(sums[i, 0]), "effectifs": float(sums[i, 1])}
                for i, k in enumerate(_SECTOR_KEYS)
            }
        if d["has_family"][idx].any():
            sums = d["family"][idx].sum(axis=0)
            block["family"] = {
                k: {"etablissements": float(sums[i, 0]), "effectifs": float(sums[i, 1])}
                for i, k in enumerate(_FAMILY_KEYS)
            }
    return block


def _estimate_block(cube: _Cube, con, idx: np.ndarray, detail: bool) -> dict:
    if not cube.has_actors:
        return _none_block()
    est = cube.estimate(con)
    tot = est["totals"][idx].sum(axis=0)
    mask = int(np.bitwise_or.reduce(est["mask"][idx])) if len(idx) else 0
    block = {
        "kind": "estimation",
        "sources": _source_bits(mask, est["source_names"]),
        "totals": {"etablissements": float(tot[0]), "effectifs": float(tot[1])},
        "family": {},
        "sector": {},
    }
    if detail:
        fam = est["family"][idx].sum(axis=0)
        sec = est["sector"][idx].sum(axis=0)
        block["family"] = {
            k: {"etablissements": float(fam[i, 0]), "effectifs": float(fam[i, 1])}
            for i, k in enumerate(_FAMILY_KEYS)
        }
        block["sector"] = {
            k: {"etablissements": float(sec[i, 0]), "effectifs": float(sec[i, 1])}
            for i, k in enumerate(_SECTOR_KEYS)
        }
    return block


def _stats_block(cube: _Cube, con, level: str, code: str, year: int | None, detail: bool) -> dict:
    """ESS block of a territory from statistics only (kind None when there are none).

    Memoised per database state: parents (région, France) and the reference territory are
    asked for by every territory's document. Blocks are never modified by their readers."""
    key = ("stats", level, code, year, detail)
    block = cube.memo.get(key)
    if block is None:
        if len(cube.memo) > _MEMO_SIZE:  # a long session: start afresh rather than grow
            cube.memo.clear()
        block = cube.memo[key] = _stats_block_uncached(cube, con, level, code, year, detail)
    return block


def _stats_block_uncached(
    cube: _Cube, con, level: str, code: str, year: int | None, detail: bool
) -> dict:
    idx = cube.members(con, level).of(code)
    kind = _kind(cube, level, code, year, idx)
    if kind == "communes":
        return _commune_block(cube, con, idx, year, detail)
    if kind == "direct":
        return cube.direct[(level, code, year)]
    return _none_block()


def _block(cube: _Cube, con, level: str, code: str, year: int | None, detail: bool) -> dict:
    """ESS block with the full rule: statistics, else the SIRENE estimate, else nothing."""
    block = _stats_block(cube, con, level, code, year, detail)
    if block["kind"] is None:
        key = ("estimate", level, code, detail)
        block = cube.memo.get(key)
        if block is None:
            idx = cube.members(con, level).of(code)
            block = cube.memo[key] = _estimate_block(cube, con, idx, detail)
    return block


def _private_total(cube: _Cube, con, idx: np.ndarray, year: int | None) -> float | None:
    if year is None or year not in cube.private_years:
        return None
    return float(cube.private(con)[year][idx].sum())


class _Context:
    """One request: the cube of the database state and the year asked (or the default)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, year: int | None):
        self.con = con
        self.cube = _cube(con)
        self.years = self.cube.years
        self.ess_years = self.cube.ess_years
        self.private_years = self.cube.private_years
        if year is None:
            year = _pick_default(self.years, self.ess_years, self.private_years)
        self.year = None if year is None else int(year)
        self.has_actors = self.cube.has_actors

    def block(self, level: str, code: str, detail: bool = False) -> dict:
        return _block(self.cube, self.con, level, code, self.year, detail)

    def communes(self, level: str, code: str) -> np.ndarray:
        return self.cube.members(self.con, level).of(code)


def _pick_default(years: list[int], ess_years: set[int], private_years: set[int]) -> int | None:
    both = [y for y in years if y in ess_years and y in private_years]
    if both:
        return both[-1]
    return years[-1] if years else None


# --------------------------------------------------------------------------- key figures
def _key_row(
    info: dict, year: int | None, block: dict, private_total: float | None, ctx: _Context
) -> dict:
    """The key figures of one territory from its ESS block and private-employment block."""
    notes: dict[str, str] = {}
    kind = block["kind"]
    totals = block["totals"]
    if kind is None:
        estab = jobs = None
        notes["ess_establishments"] = notes["ess_jobs"] = _R_NO_ESS_DATA
        source = None
    else:
        estab = _i(totals.get("etablissements", 0.0))
        jobs = _f(totals.get("effectifs", 0.0))
        source = JOBS_SOURCE_ESTIMATE if kind == "estimation" else JOBS_SOURCE_STATS
        if kind == "estimation":
            when = f" de {year}" if year is not None else ""
            notes["jobs_source"] = (
                f"Pas de statistiques ESS{when} pour ce territoire : emplois estimés à partir des "
                "tranches d'effectifs du répertoire SIRENE (centre de chaque tranche)."
            )
    if year is None:
        private_jobs = None
        notes["private_jobs"] = _R_NO_YEAR
    elif year not in ctx.private_years:
        private_jobs = None
        notes["private_jobs"] = _R_NO_PRIVATE.format(year=year)
    else:
        private_jobs = private_total
    share = _ratio(jobs, private_jobs)
    if share is None and "private_jobs" not in notes and jobs is not None:
        notes["ess_share_private_jobs"] = _R_ZERO_PRIVATE
    elif share is not None and share > 1:
        share = None
        notes["ess_share_private_jobs"] = _R_INCOHERENT
    elif share is None:
        notes["ess_share_private_jobs"] = notes.get("private_jobs") or notes.get("ess_jobs")
    non_ess = None
    if jobs is not None and private_jobs is not None and jobs <= private_jobs:
        non_ess = private_jobs - jobs
    else:
        notes["non_ess_private_jobs"] = (
            notes.get("ess_share_private_jobs") or notes.get("private_jobs") or _R_NO_ESS_DATA
        )
    per_1000 = _ratio(jobs, info.get("population"))
    if per_1000 is not None:
        per_1000 *= 1000
    else:
        notes["jobs_per_1000_inhabitants"] = notes.get("ess_jobs") or _R_ZERO_POP
    women = None
    if kind == "estimation":
        notes["women_share"] = _R_WOMEN_ESTIMATE
    elif kind is None:
        notes["women_share"] = _R_NO_ESS_DATA
    elif not totals.get("effectifs"):
        notes["women_share"] = _R_NO_ESS_JOBS
    elif "effectifs_femmes" not in totals:
        notes["women_share"] = _R_WOMEN_MISSING
    else:
        women = _ratio(totals["effectifs_femmes"], totals["effectifs"])
    return {
        "territory": _public_territory(info),
        "year": year,
        "ess_establishments": estab,
        "ess_jobs": jobs,
        "private_jobs": private_jobs,
        "non_ess_private_jobs": non_ess,
        "ess_share_private_jobs": share,
        "jobs_per_1000_inhabitants": per_1000,
        "women_share": women,
        "jobs_source": source,
        "sources": sorted(block["sources"]),
        "notes": notes,
    }


def _info(ctx: _Context, level: str, code: str) -> dict:
    _check_level(level)
    code = str(code).strip()
    info = ctx.cube.info.get((level, code))
    if info is None and level == "commune":
        # A commune déléguée/associée or a municipal arrondissement (75108, 69381…) stands for
        # the commune it belongs to.
        rows = _rows(ctx.con, "SELECT commune_code FROM commune_aliases WHERE code = ?", [code])
        if rows:
            info = ctx.cube.info.get((level, rows[0][0]))
    if info is None:
        raise IndicatorError(
            f"Territoire inconnu : {_LEVEL_LABELS[level]} « {code} ». Vérifiez le niveau et le "
            "code (un code de département et un code de région peuvent se ressembler)."
        )
    return info


def _key_many(ctx: _Context, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    out = {}
    for level, code in pairs:
        info = ctx.cube.info.get((level, code))
        if info is None:
            continue
        block = ctx.block(level, code)
        private = _private_total(ctx.cube, ctx.con, ctx.communes(level, code), ctx.year)
        out[(level, code)] = _key_row(info, ctx.year, block, private, ctx)
    return out


def key_figures(
    con: duckdb.DuckDBPyConnection, level: str, code: str, year: int | None = None
) -> dict:
    """Key figures of one territory for ``year`` (default: :func:`default_year`).

    Keys: ``territory``, ``year``, ``ess_establishments``, ``ess_jobs``, ``private_jobs``,
    ``non_ess_private_jobs``, ``ess_share_private_jobs``, ``jobs_per_1000_inhabitants``,
    ``women_share``, ``jobs_source``, ``sources``, ``notes``.

    >>> key_figures(con, "departement", "01")["ess_share_private_jobs"]  # doctest: +SKIP
    0.143
    """
    ctx = _Context(con, year)
    info = _info(ctx, level, code)
    return _key_many(ctx, [(info["level"], info["code"])])[(info["level"], info["code"])]


def _flat(row: dict) -> dict:
    t = row["territory"]
    return {
        "level": t["level"],
        "code": t["code"],
        "name": t["name"],
        "population": t["population"],
        **{k: row[k] for k in KEY_FIGURE_COLUMNS[4:]},
    }


def compute_all(
    con: duckdb.DuckDBPyConnection,
    level: str,
    year: int | None = None,
    within: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """Key figures of every territory of ``level`` in one set-based pass.

    Columns :data:`KEY_FIGURE_COLUMNS` then :data:`EXTRA_COLUMNS` (counts as ``Int64``, jobs
    and shares as ``float64`` with NaN where not available), sorted by code. Same rule and same
    values as :func:`key_figures` for each territory: the per-commune arrays are summed over
    every territory at once (``numpy.ufunc.reduceat`` over ``territory_communes``).
    ``within=(level, code)`` keeps the territories having a commune in that territory (the
    communes of an EPCI, the EPCI of a département…).

    >>> compute_all(con, "commune", within=("epci", "200000001"))  # doctest: +SKIP
    """
    _check_level(level)
    ctx = _Context(con, year)
    cube, year = ctx.cube, ctx.year
    m = cube.members(con, level)
    n = len(m.codes)
    wanted = cube.info.codes(level)
    if within is not None:
        parent = _info(ctx, *within)
        inside = np.zeros(cube.n, dtype=bool)
        inside[ctx.communes(parent["level"], parent["code"])] = True
        touching = m.reduce(inside, np.logical_or) if n else np.zeros(0, dtype=bool)
        wanted = [c for c, t in zip(m.codes, touching, strict=True) if t]
    # Statistics: which territories are fully covered by commune rows, and their sums.
    complete = np.zeros(n, dtype=bool)
    stat = None
    if year is not None and year in cube.ess_years and n:
        covered = cube.covered.get(year)
        if covered is not None:
            complete = m.reduce(covered, np.logical_and)
        tot = cube.totals(con).get(year)
        if tot is not None:
            stat = {
                "estab": m.reduce(tot["estab"]),
                "jobs": m.reduce(tot["jobs"]),
                "women": m.reduce(np.where(tot["has_women"], tot["women"], 0.0)),
                "has_women": m.reduce(tot["has_women"], np.logical_or),
                "sources": m.reduce(tot["sources"], np.bitwise_or),
            }
    est = None
    if cube.has_actors and n:
        e = cube.estimate(con)
        est = {
            "totals": m.reduce(e["totals"]),
            "mask": m.reduce(e["mask"], np.bitwise_or),
            "names": e["source_names"],
        }
    private = None
    if year is not None and year in cube.private_years and n:
        private = m.reduce(cube.private(con)[year])
    # Rural/urban split and sector mix, summed the same way (columns EXTRA_COLUMNS).
    rural = cube.crural.astype(float)
    split: dict[str, np.ndarray] = {}
    if stat is not None:
        split["stat_r"] = m.reduce(tot["jobs"] * rural)
        split["stat_u"] = m.reduce(tot["jobs"] * (1.0 - rural))
        if complete.any():
            d = cube.detail(con, year)
            split["stat_sec"] = _evenness_all(m.reduce(d["sector"][:, :, 1]))
            split["stat_has_sec"] = m.reduce(d["has_sector"], np.logical_or)
    if est is not None:
        split["est_r"] = m.reduce(e["totals"][:, 1] * rural)
        split["est_u"] = m.reduce(e["totals"][:, 1] * (1.0 - rural))
        split["est_sec"] = _evenness_all(m.reduce(e["sector"][:, :, 1]))
    if private is not None:
        split["priv_r"] = m.reduce(cube.private(con)[year] * rural)
        split["priv_u"] = m.reduce(cube.private(con)[year] * (1.0 - rural))
    return _all_frame(ctx, level, wanted, m, complete, stat, est, private, split)


def _all_frame(ctx: _Context, level, wanted, m, complete, stat, est, private, split):
    """compute_all's frame, column by column (same rules as :func:`_key_row`; the rare
    territories with a row of their own go through :func:`_key_row` itself)."""
    import pandas as pd

    cube, year = ctx.cube, ctx.year
    t = len(wanted)
    kpos = np.array([m.pos.get(c, -1) for c in wanted], dtype=np.int64)
    has_k = kpos >= 0
    k = np.where(has_k, kpos, 0)

    def pick(values, fill=0.0):
        return np.where(has_k, values[k], fill) if len(values) else np.full(t, fill)

    start, end = cube.info.slices.get(level, (0, 0))
    ipos = start + np.searchsorted(
        cube.info.columns["code"][start:end], np.array(wanted, dtype=str)
    )
    population = (
        np.asarray(cube.info.columns["population"], dtype=float)[ipos] if t else np.zeros(0)
    )
    names = cube.info.columns["name"][ipos].tolist() if t else []
    is_comm = has_k & (complete[k] if len(complete) else np.zeros(t, dtype=bool))
    direct_codes = {c for (lv, c, y) in cube.direct if lv == level and y == year}
    is_direct = ~is_comm & np.array([c in direct_codes for c in wanted], dtype=bool)
    is_est = ~is_comm & ~is_direct & (est is not None)
    nan = np.full(t, np.nan)
    estab, jobs, women = nan.copy(), nan.copy(), nan.copy()
    if stat is not None:
        estab = np.where(is_comm, pick(stat["estab"]), estab)
        jobs = np.where(is_comm, pick(stat["jobs"]), jobs)
        with np.errstate(divide="ignore", invalid="ignore"):
            w = pick(stat["women"]) / pick(stat["jobs"])
        women = np.where(is_comm & pick(stat["has_women"], False) & (jobs > 0), w, women)
    else:
        estab = np.where(is_comm, 0.0, estab)
        jobs = np.where(is_comm, 0.0, jobs)
    if est is not None:
        estab = np.where(is_est, pick(est["totals"][:, 0]), estab)
        jobs = np.where(is_est, pick(est["totals"][:, 1]), jobs)
    priv = pick(private) if private is not None else nan.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(priv > 0, jobs / priv, np.nan)
        per_1000 = np.where(population > 0, jobs / population * 1000, np.nan)
    share = np.where(share > 1, np.nan, share)
    non_ess = np.where(jobs <= priv, priv - jobs, np.nan)
    source = np.where(is_comm | is_direct, JOBS_SOURCE_STATS, None)
    source = np.where(is_est, JOBS_SOURCE_ESTIMATE, source).astype(object)
    source[~(is_comm | is_direct | is_est)] = None

    def extra_ratio(num, den):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / den, np.nan)

    ess_r, ess_u = nan.copy(), nan.copy()
    if "stat_r" in split:
        ess_r = np.where(is_comm, pick(split["stat_r"]), ess_r)
        ess_u = np.where(is_comm, pick(split["stat_u"]), ess_u)
    else:
        ess_r = np.where(is_comm, 0.0, ess_r)
        ess_u = np.where(is_comm, 0.0, ess_u)
    if "est_r" in split:
        ess_r = np.where(is_est, pick(split["est_r"]), ess_r)
        ess_u = np.where(is_est, pick(split["est_u"]), ess_u)
    prv_r = pick(split["priv_r"], np.nan) if "priv_r" in split else nan.copy()
    prv_u = pick(split["priv_u"], np.nan) if "priv_u" in split else nan.copy()
    share_rural = extra_ratio(ess_r, ess_r + ess_u)
    rural_share = extra_ratio(ess_r, prv_r)
    urban_share = extra_ratio(ess_u, prv_u)
    diversity = nan.copy()
    if "stat_sec" in split:
        ok = is_comm & pick(split["stat_has_sec"], False)
        diversity = np.where(ok, pick(split["stat_sec"], np.nan), diversity)
    if "est_sec" in split:
        diversity = np.where(is_est, pick(split["est_sec"], np.nan), diversity)
    frame = {
        "level": [level] * t,
        "code": list(wanted),
        "name": names,
        "population": population,
        "year": [year] * t,
        "ess_establishments": np.round(estab),
        "ess_jobs": jobs,
        "private_jobs": priv,
        "non_ess_private_jobs": non_ess,
        "ess_share_private_jobs": share,
        "jobs_per_1000_inhabitants": per_1000,
        "women_share": women,
        "jobs_source": source.tolist(),
        "share_ess_jobs_rural": share_rural,
        "ess_share_private_jobs_rural": np.where(rural_share > 1, np.nan, rural_share),
        "ess_share_private_jobs_urban": np.where(urban_share > 1, np.nan, urban_share),
        "sector_diversity": diversity,
    }
    df = pd.DataFrame(frame)
    for i in np.flatnonzero(is_direct):  # territory-level statistics: the scalar rules
        code = wanted[i]
        block = cube.direct[(level, code, year)]
        row = _key_row(
            cube.info[(level, code)], year, block, None if private is None else priv[i], ctx
        )
        values = {**_flat(row), **_extra_columns(block, None, split)}
        for col in df.columns[5:]:
            df.at[i, col] = values[col]
    df["population"] = pd.array(
        [None if math.isnan(p) else int(p) for p in population], dtype="Int64"
    )
    df["year"] = df["year"].astype("Int64")
    df["ess_establishments"] = pd.array(
        [
            None if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)
            for v in df["ess_establishments"]
        ],
        dtype="Int64",
    )
    for col in (*KEY_FIGURE_COLUMNS[6:12], *EXTRA_COLUMNS):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    return df


def _extra_columns(block: dict, k: int | None, split: dict) -> dict:
    """compute_all's rural and diversity columns for one territory (same values as
    :func:`rurality` and :func:`resilience`)."""
    kind = block["kind"]
    ess_r = ess_u = None
    diversity = None
    if kind == "communes":
        ess_r = float(split["stat_r"][k]) if "stat_r" in split and k is not None else 0.0
        ess_u = float(split["stat_u"][k]) if "stat_u" in split and k is not None else 0.0
        if "stat_sec" in split and k is not None and split["stat_has_sec"][k]:
            diversity = _nan_none(split["stat_sec"][k])
    elif kind == "estimation" and k is not None and "est_r" in split:
        ess_r, ess_u = float(split["est_r"][k]), float(split["est_u"][k])
        diversity = _nan_none(split["est_sec"][k])
    elif kind == "direct":
        diversity = _diversity(block)[0]
    prv_r = prv_u = None
    if "priv_r" in split and k is not None:
        prv_r, prv_u = float(split["priv_r"][k]), float(split["priv_u"][k])

    def capped(value):
        return None if value is None or value > 1 else value

    return {
        "share_ess_jobs_rural": _ratio(ess_r, None if ess_r is None else ess_r + ess_u),
        "ess_share_private_jobs_rural": capped(_ratio(ess_r, prv_r)),
        "ess_share_private_jobs_urban": capped(_ratio(ess_u, prv_u)),
        "sector_diversity": diversity,
    }


_DIVERSITY_POS = np.array([_SECTOR_POS[s] for s in DIVERSITY_SECTORS], dtype=np.int64)


def _evenness_all(sector_jobs: np.ndarray) -> np.ndarray:
    """Shannon evenness of each row of a territories × sectors jobs matrix (NaN without
    jobs), the formula of :func:`_diversity`."""
    jobs = sector_jobs[:, _DIVERSITY_POS]
    total = jobs.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = jobs / total[:, None]
        h = -np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0).sum(axis=1)
    return np.where(total > 0, h / math.log(len(DIVERSITY_SECTORS)), np.nan)


def _nan_none(value) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


# --------------------------------------------------------------------------- breakdowns
def _family_rows(block: dict) -> tuple[list[dict], dict]:
    notes: dict[str, str] = {}
    kind = block["kind"]
    tot_estab = block["totals"].get("etablissements")
    tot_jobs = block["totals"].get("effectifs")
    # A breakdown is known when the source gives one, or when there is nothing to break down.
    known = kind is not None and (
        bool(block["family"]) or kind == "estimation" or not (tot_estab or tot_jobs)
    )
    if kind is None:
        notes["by_family"] = _R_NO_ESS_DATA
    elif not known:
        notes["by_family"] = _R_NO_BREAKDOWN
    else:
        if not tot_jobs:
            notes["share_jobs"] = _R_NO_ESS_JOBS
        if not tot_estab:
            notes["share_establishments"] = _R_NO_ESS_ESTAB
    rows = []
    for fam, label in nomenclatures.FAMILIES.items():
        vals = block["family"].get(fam, {})
        estab = _i(vals.get("etablissements", 0.0)) if known else None
        jobs = _f(vals.get("effectifs", 0.0)) if known else None
        rows.append(
            {
                "family": fam,
                "label": label,
                "establishments": estab,
                "jobs": jobs,
                "share_establishments": _ratio(estab, tot_estab),
                "share_jobs": _ratio(jobs, tot_jobs),
            }
        )
    return rows, notes


def by_family(
    con: duckdb.DuckDBPyConnection, level: str, code: str, year: int | None = None
) -> dict:
    """ESS establishments and jobs by family, with their shares of the territory's total.

    ``{"year", "jobs_source", "rows": [{family, label, establishments, jobs,
    share_establishments, share_jobs}], "notes"}`` (rows in :data:`nomenclatures.FAMILIES`
    order).
    """
    ctx = _Context(con, year)
    info = _info(ctx, level, code)
    block = ctx.block(info["level"], info["code"], detail=True)
    rows, notes = _family_rows(block)
    return {"year": ctx.year, "jobs_source": _source_name(block), "rows": rows, "notes": notes}


def _source_name(block: dict) -> str | None:
    if block["kind"] is None:
        return None
    return JOBS_SOURCE_ESTIMATE if block["kind"] == "estimation" else JOBS_SOURCE_STATS


def _sector_rows(
    block: dict, ref_block: dict, private: dict | None, private_known: bool
) -> tuple[list[dict], dict]:
    notes: dict[str, str] = {}
    kind = block["kind"]
    tot_jobs = block["totals"].get("effectifs")
    ref_tot = ref_block["totals"].get("effectifs")
    known = kind is not None and (bool(block["sector"]) or kind == "estimation" or not tot_jobs)
    ref_known = ref_block["kind"] is not None and (
        bool(ref_block["sector"]) or ref_block["kind"] == "estimation"
    )
    if kind is None:
        notes["by_sector"] = _R_NO_ESS_DATA
    elif not known:
        notes["by_sector"] = _R_NO_BREAKDOWN
    elif not tot_jobs:
        notes["share_jobs"] = notes["location_quotient"] = _R_NO_ESS_JOBS
    if not ref_known or not ref_tot:
        notes["reference_share_jobs"] = notes["location_quotient"] = (
            "Le territoire de référence n'a pas d'emplois ESS par secteur."
        )
    if not private_known:
        notes["private_jobs"] = notes["ess_share_in_sector"] = (
            "Pas de données d'emploi privé par secteur pour cette année."
        )
    rows = []
    for sector in nomenclatures.SECTORS:
        vals = block["sector"].get(sector.key, {})
        estab = _i(vals.get("etablissements", 0.0)) if known else None
        jobs = _f(vals.get("effectifs", 0.0)) if known else None
        share = _ratio(jobs, tot_jobs)
        priv = (private or {}).get("sector", {}).get(sector.key, 0.0) if private_known else None
        in_sector = _ratio(jobs, priv)
        if in_sector is not None and in_sector > 1:
            in_sector = None
            notes["ess_share_in_sector"] = _R_INCOHERENT
        elif in_sector is None and private_known and jobs is not None:
            notes.setdefault(
                "ess_share_in_sector",
                "Part non calculable dans les secteurs sans emploi privé recensé sur le territoire.",
            )
        ref_jobs = ref_block["sector"].get(sector.key, {}).get("effectifs", 0.0)
        ref_share = _ratio(ref_jobs, ref_tot) if ref_known else None
        lq = _ratio(share, ref_share)
        if lq is None and share is not None and ref_share is not None:
            notes.setdefault(
                "location_quotient",
                "Indice non calculable pour les secteurs absents du territoire de référence.",
            )
        rows.append(
            {
                "sector": sector.key,
                "label": sector.label,
                "establishments": estab,
                "jobs": jobs,
                "share_jobs": share,
                "private_jobs": priv,
                "ess_share_in_sector": in_sector,
                "reference_share_jobs": ref_share,
                "location_quotient": lq,
            }
        )
    return rows, notes


def by_sector(
    con: duckdb.DuckDBPyConnection,
    level: str,
    code: str,
    year: int | None = None,
    reference: tuple[str, str] = ("france", "FR"),
) -> dict:
    """ESS establishments and jobs by sector, ESS share of private jobs within each sector and
    the location quotient against ``reference`` (default France).

    ``{"year", "jobs_source", "reference": {level, code, name, population}, "rows": [{sector,
    label, establishments, jobs, share_jobs, private_jobs, ess_share_in_sector,
    reference_share_jobs, location_quotient}], "notes"}``.
    """
    ctx = _Context(con, year)
    info = _info(ctx, level, code)
    ref_info = _info(ctx, *reference)
    return _by_sector(ctx, info, ref_info)


def _by_sector(ctx: _Context, info: dict, ref_info: dict) -> dict:
    block = ctx.block(info["level"], info["code"], detail=True)
    ref_block = ctx.block(ref_info["level"], ref_info["code"], detail=True)
    private_known = ctx.year is not None and ctx.year in ctx.private_years
    private = None
    if private_known:
        idx = ctx.communes(info["level"], info["code"])
        sums = ctx.cube.private_sector(ctx.con, ctx.year)[idx].sum(axis=0)
        private = {"sector": {k: float(sums[i]) for i, k in enumerate(_SECTOR_KEYS)}}
    rows, notes = _sector_rows(block, ref_block, private, private_known)
    return {
        "year": ctx.year,
        "jobs_source": _source_name(block),
        "reference": _public_territory(ref_info),
        "rows": rows,
        "notes": notes,
    }


# --------------------------------------------------------------------------- rurality
_DEFINITION_LABELS = {
    "grille": "Grille communale de densité de l'INSEE (niveaux 5 à 7 = rural)",
    "estimation": (
        "Estimation à partir de la densité de population (la grille INSEE n'est pas importée) ; "
        "niveaux estimés 5 à 7 = rural"
    ),
    "mixte": "Grille INSEE pour une partie des communes, estimation par la densité pour les autres",
}


def rurality(
    con: duckdb.DuckDBPyConnection, level: str, code: str, year: int | None = None
) -> dict:
    """Rural/urban split of ESS and private jobs (communes of density levels 5–7 are rural).

    Keys: ``definition`` (``grille`` | ``estimation`` | ``mixte``), ``definition_label``,
    ``rural_communes``, ``urban_communes``, ``rural_population``, ``rural_population_share``,
    ``ess_jobs_rural``, ``ess_jobs_urban``, ``share_ess_jobs_rural``, ``private_jobs_rural``,
    ``private_jobs_urban``, ``ess_share_private_jobs_rural``, ``ess_share_private_jobs_urban``,
    ``jobs_source``, ``notes``.
    """
    ctx = _Context(con, year)
    info = _info(ctx, level, code)
    block = ctx.block(info["level"], info["code"])
    return _rurality(ctx, info, block)


def _rurality(ctx: _Context, info: dict, block: dict) -> dict:
    notes: dict[str, str] = {}
    cube, kind, year = ctx.cube, block["kind"], ctx.year
    idx = ctx.communes(info["level"], info["code"])
    rural = cube.crural[idx]
    n_grid = int(cube.cgrid[idx].sum())
    definition = (
        "grille" if len(idx) and n_grid == len(idx) else ("mixte" if n_grid else "estimation")
    )
    pop = cube.cpop[idx]
    rural_pop = int(pop[rural].sum())
    ess = None
    if kind == "communes":
        tot = cube.totals(ctx.con).get(year)
        ess = tot["jobs"][idx] if tot is not None else np.zeros(len(idx))
    elif kind == "estimation":
        ess = cube.estimate(ctx.con)["totals"][idx, 1]
    elif kind is None:
        notes["ess_jobs_rural"] = notes["ess_jobs_urban"] = _R_NO_ESS_DATA
    else:
        notes["ess_jobs_rural"] = notes["ess_jobs_urban"] = _R_COMMUNE_DETAIL
    prv = None
    if year is not None and year in cube.private_years:
        prv = cube.private(ctx.con)[year][idx]
    else:
        reason = _R_NO_YEAR if year is None else _R_NO_PRIVATE.format(year=year)
        notes["private_jobs_rural"] = notes["private_jobs_urban"] = reason
    ess_r = None if ess is None else float(ess[rural].sum())
    ess_u = None if ess is None else float(ess[~rural].sum())
    prv_r = None if prv is None else float(prv[rural].sum())
    prv_u = None if prv is None else float(prv[~rural].sum())
    share_rural = _ratio(ess_r, None if ess_r is None else ess_r + ess_u)
    if share_rural is None:
        notes["share_ess_jobs_rural"] = notes.get("ess_jobs_rural", _R_NO_ESS_JOBS)

    def share(e, p, key, where):
        value = _ratio(e, p)
        if value is None:
            notes[key] = (
                notes.get("ess_jobs_rural")
                or notes.get("private_jobs_rural")
                or f"Aucun emploi privé recensé dans les communes {where} du territoire."
            )
        elif value > 1:
            notes[key] = _R_INCOHERENT
            return None
        return value

    return {
        "definition": definition,
        "definition_label": _DEFINITION_LABELS[definition],
        "rural_communes": int(rural.sum()),
        "urban_communes": int((~rural).sum()),
        "rural_population": rural_pop,
        "rural_population_share": _ratio(rural_pop, float(pop.sum())),
        "ess_jobs_rural": ess_r,
        "ess_jobs_urban": ess_u,
        "share_ess_jobs_rural": share_rural,
        "private_jobs_rural": prv_r,
        "private_jobs_urban": prv_u,
        "ess_share_private_jobs_rural": share(
            ess_r, prv_r, "ess_share_private_jobs_rural", "rurales"
        ),
        "ess_share_private_jobs_urban": share(
            ess_u, prv_u, "ess_share_private_jobs_urban", "urbaines"
        ),
        "jobs_source": _source_name(block),
        "notes": notes,
    }


# --------------------------------------------------------------------------- evolution
def evolution(
    con: duckdb.DuckDBPyConnection,
    level: str,
    code: str,
    base_year: int | None = None,
    start_year: int | None = None,
    end_year: int | None = None,
) -> dict:
    """ESS jobs and non-ESS private jobs over every year with statistics.

    Index base 100 on ``base_year`` (default: first year of the series); relative change
    between ``start_year`` and ``end_year`` (default first and last); years of decline (a year
    whose value is below the previous year's). Keys: ``base_year``, ``start_year``,
    ``end_year``, ``series`` (``year``, ``ess_jobs``, ``private_jobs``,
    ``non_ess_private_jobs``, ``ess_index``, ``non_ess_index``), ``change``
    (``ess_jobs``, ``non_ess_private_jobs``), ``rural_change`` (the same in the territory's
    rural communes), ``decline_years`` (same two keys), ``notes``.
    The SIRENE estimate is a snapshot and never enters a series.
    """
    ctx = _Context(con, None)
    info = _info(ctx, level, code)
    return _evolution(ctx, info, base_year, start_year, end_year)


def _evolution(ctx: _Context, info: dict, base_year, start_year, end_year) -> dict:
    notes: dict[str, str] = {}
    cube, level, code = ctx.cube, info["level"], info["code"]
    idx = ctx.communes(level, code)
    series = []
    for year in ctx.years:
        block = _stats_block(cube, ctx.con, level, code, year, False)
        ess = _f(block["totals"].get("effectifs", 0.0)) if block["kind"] else None
        priv = _private_total(cube, ctx.con, idx, year)
        non_ess = priv - ess if ess is not None and priv is not None and ess <= priv else None
        series.append(
            {"year": year, "ess_jobs": ess, "private_jobs": priv, "non_ess_private_jobs": non_ess}
        )
    usable = [
        r for r in series if r["ess_jobs"] is not None or r["non_ess_private_jobs"] is not None
    ]
    if not usable:
        notes["series"] = (
            "Aucune série annuelle : l'évolution demande des statistiques ESS et d'emploi privé "
            "sur plusieurs années (l'estimation SIRENE n'est qu'une photographie)."
        )
    years = [r["year"] for r in series]
    if base_year is None:
        base_year = next((r["year"] for r in series if r["ess_jobs"] is not None), None)
    base = next((r for r in series if r["year"] == base_year), None)
    for r in series:
        r["ess_index"] = _index(r["ess_jobs"], base and base["ess_jobs"])
        r["non_ess_index"] = _index(
            r["non_ess_private_jobs"], base and base["non_ess_private_jobs"]
        )
    if base_year is not None and base is None:
        notes["base_year"] = f"L'année {base_year} n'a pas de données."
    elif base is not None and not base["ess_jobs"]:
        notes["ess_index"] = "Aucun emploi ESS l'année de base : indice non calculable."
    if start_year is None:
        start_year = usable[0]["year"] if usable else None
    if end_year is None:
        end_year = usable[-1]["year"] if usable else None
    first = next((r for r in series if r["year"] == start_year), None)
    last = next((r for r in series if r["year"] == end_year), None)
    change = {}
    for key in ("ess_jobs", "non_ess_private_jobs"):
        value = None
        if first and last and first[key] is not None and last[key] is not None:
            value = _ratio(last[key] - first[key], first[key])
        if value is None:
            notes[f"change.{key}"] = (
                "Évolution non calculable : valeur manquante ou nulle la première année."
            )
        change[key] = value
    decline = {}
    for key in ("ess_jobs", "non_ess_private_jobs"):
        decline[key] = [
            cur["year"]
            for prev, cur in zip(series, series[1:], strict=False)
            if prev[key] is not None and cur[key] is not None and cur[key] < prev[key]
        ]
    del years
    return {
        "base_year": base_year,
        "start_year": start_year,
        "end_year": end_year,
        "series": series,
        "change": change,
        "rural_change": _rural_change(ctx, info, start_year, end_year, notes),
        "decline_years": decline,
        "notes": notes,
    }


def _rural_change(ctx: _Context, info: dict, start_year, end_year, notes: dict) -> dict:
    """The observatory's comparison restricted to the territory's rural communes: relative
    change of ESS jobs and of the rest of private jobs between the two years."""
    cube, level, code = ctx.cube, info["level"], info["code"]
    idx = ctx.communes(level, code)
    rural = idx[cube.crural[idx]]
    out: dict[str, float | None] = {"ess_jobs": None, "non_ess_private_jobs": None}
    values = []
    for year in (start_year, end_year):
        block = _stats_block(cube, ctx.con, level, code, year, False) if year else _none_block()
        if block["kind"] != "communes" or year not in cube.private_years or not len(rural):
            values = None
            break
        tot = cube.totals(ctx.con).get(year)
        ess = float(tot["jobs"][rural].sum()) if tot is not None else 0.0
        priv = float(cube.private(ctx.con)[year][rural].sum())
        values.append((ess, priv - ess if ess <= priv else None))
    if values is None:
        notes["rural_change"] = (
            "Pas de commune rurale, ou pas de statistiques par commune pour les deux années."
        )
        return out
    (e0, n0), (e1, n1) = values
    out["ess_jobs"] = _ratio(e1 - e0, e0)
    out["non_ess_private_jobs"] = None if n0 is None or n1 is None else _ratio(n1 - n0, n0)
    for key, value in out.items():
        if value is None:
            notes[f"rural_change.{key}"] = (
                "Évolution non calculable : valeur manquante ou nulle la première année."
            )
    return out


def _index(value, base) -> float | None:
    if _ratio(value, base) is None:
        return None
    return 100.0 * value / base


# --------------------------------------------------------------------------- resilience
def _diversity(block: dict) -> tuple[float | None, int, str | None]:
    """Shannon evenness of ESS jobs over :data:`DIVERSITY_SECTORS`: H / ln(K)."""
    jobs = [block["sector"].get(s, {}).get("effectifs", 0.0) or 0.0 for s in DIVERSITY_SECTORS]
    total = sum(jobs)
    present = sum(1 for j in jobs if j > 0)
    if block["kind"] is None:
        return None, 0, _R_NO_ESS_DATA
    if not block["sector"] and block["kind"] != "estimation":
        return None, 0, _R_NO_BREAKDOWN
    if total <= 0:
        return None, 0, _R_NO_ESS_JOBS
    h = -sum((j / total) * math.log(j / total) for j in jobs if j > 0)
    return h / math.log(len(DIVERSITY_SECTORS)), present, None


def resilience(
    con: duckdb.DuckDBPyConnection, level: str, code: str, year: int | None = None
) -> dict:
    """The parts of resilience, shown separately (no composite score).

    Keys: ``sector_diversity`` (Shannon evenness 0–1 of ESS jobs over the sectors),
    ``sectors_present``, ``sectors_total``, ``top5_employers_share``, ``top5_employers``
    (``name`` — None under partial diffusion —, ``partial``, ``jobs``, ``establishments``),
    ``employers``, ``median_age_years``, ``reference_date``, ``jobs_source``, ``notes``.
    Concentration and age come from the actors (SIRENE) whatever the jobs source.
    """
    ctx = _Context(con, year)
    info = _info(ctx, level, code)
    block = ctx.block(info["level"], info["code"], detail=True)
    return _resilience(ctx, info, block)


_EPOCH = dt.date(1970, 1, 1)


def _median(values: np.ndarray) -> float:
    """Median (mean of the two middle values for an even count), like SQL ``median``.
    (``np.median`` would import ``numpy.ma``: a noticeable share of a cold CLI call.)"""
    v = np.asarray(values, dtype=float)
    mid = len(v) // 2
    if len(v) % 2:
        return float(np.partition(v, mid)[mid])
    part = np.partition(v, [mid - 1, mid])
    return float((part[mid - 1] + part[mid]) / 2)


def _employer_names(con: duckdb.DuckDBPyConnection, keys: list[str]) -> dict[str, str | None]:
    """Display name of each employer key: the unité légale's denomination, else the
    alphabetically first establishment name."""
    if not keys:
        return {}
    rows = _rows(
        con,
        """
        SELECT coalesce(a.siren, a.actor_id) AS k,
               coalesce(any_value(u.denomination), min(a.name))
        FROM actors a LEFT JOIN unites_legales u ON u.siren = a.siren
        WHERE a.is_ess AND a.active AND a.employer
          AND coalesce(a.siren, a.actor_id) IN (SELECT unnest(?::VARCHAR[]))
        GROUP BY 1
        """,
        [keys],
    )
    return {k: name for k, name in rows}


def _resilience(ctx: _Context, info: dict, block: dict) -> dict:
    notes: dict[str, str] = {}
    diversity, present, reason = _diversity(block)
    if reason:
        notes["sector_diversity"] = reason
    ref_date = dt.date(ctx.year, 12, 31) if ctx.year is not None else dt.date.today()
    cube = ctx.cube
    top: list[dict] = []
    total_jobs, employers, median_age = 0.0, 0, None
    if cube.has_actors:
        act = cube.actors(ctx.con)
        inside = np.zeros(cube.n, dtype=bool)
        inside[ctx.communes(info["level"], info["code"])] = True
        sel = np.flatnonzero(inside[act["commune"]])
        jobs, emp = act["jobs"][sel], act["employer"][sel]
        total_jobs = float(jobs.sum())
        if len(sel):
            per_jobs = np.bincount(emp, weights=jobs, minlength=act["n_employers"])
            per_n = np.bincount(emp, minlength=act["n_employers"])
            cand = np.flatnonzero(per_n > 0)
            employers = len(cand)
            # largest jobs first, ties by employer key (employer numbers follow key order)
            if len(cand) > 5:
                # only employers at least as large as the fifth largest can be in the top five
                fifth = np.partition(per_jobs[cand], len(cand) - 5)[len(cand) - 5]
                cand = cand[per_jobs[cand] >= fifth]
            best = cand[np.lexsort((cand, -per_jobs[cand]))[:5]]
            names = cube.employer_names(ctx.con, [str(act["keys"][e]) for e in best])
            for e in best:
                partial = bool(act["partial"][sel[emp == e]].any())
                top.append(
                    {
                        "name": None if partial else names.get(str(act["keys"][e])),
                        "partial": partial,
                        "jobs": float(per_jobs[e]),
                        "establishments": int(per_n[e]),
                    }
                )
            days = act["days"][sel]
            ref_days = (ref_date - _EPOCH).days
            days = days[~np.isnan(days) & (days <= ref_days)]
            if len(days):
                median_age = _median(ref_days - days) / 365.25
    top_share = _ratio(sum(t["jobs"] for t in top), total_jobs) if top else None
    if top_share is None:
        notes["top5_employers_share"] = (
            "Aucun établissement employeur de l'ESS dans le répertoire pour ce territoire."
        )
    if median_age is None:
        notes["median_age_years"] = (
            "Aucune date de création connue pour les établissements employeurs de l'ESS."
        )
    return {
        "sector_diversity": diversity,
        "sectors_present": present,
        "sectors_total": len(DIVERSITY_SECTORS),
        "top5_employers_share": top_share,
        "top5_employers": top,
        "employers": int(employers),
        "median_age_years": median_age,
        "reference_date": ref_date.isoformat(),
        "jobs_source": _source_name(block),
        "notes": notes,
    }


# --------------------------------------------------------------------------- comparisons
def similar_territories(con: duckdb.DuckDBPyConnection, level: str, code: str, n: int = 5) -> dict:
    """The ``n`` territories of the same level closest by population, density and rural share.

    Distance: Euclidean over the three criteria standardised across the level (z-scores of
    ln(population), ln(density) and the rural population share). ``{"criteria": [...],
    "territories": [{level, code, name, population, density, rural_population_share,
    distance}], "notes"}``.
    """
    ctx = _Context(con, None)
    info = _info(ctx, level, code)
    return _similar(ctx, info, n)


def _similar(ctx: _Context, info: dict, n: int = 5) -> dict:
    notes: dict[str, str] = {}
    out = []
    if info["level"] != "france":
        f = ctx.cube.features(ctx.con, info["level"])
        me = f["pos"].get(info["code"])
        if me is not None:
            dist = np.sqrt(((f["z"] - f["z"][me]) ** 2).sum(axis=1))
            codes = np.array(f["codes"], dtype=object)
            order = [i for i in np.lexsort((codes, dist)) if i != me][:n]
            for i in order:
                out.append(
                    {
                        "level": info["level"],
                        "code": f["codes"][i],
                        "name": ctx.cube.info[(info["level"], f["codes"][i])]["name"],
                        "population": int(f["population"][i]),
                        "density": float(f["density"][i]),
                        "rural_population_share": float(f["rural"][i]),
                        "distance": float(dist[i]),
                    }
                )
    if not out:
        notes["territories"] = (
            "Pas de territoire comparable : la France est unique à son niveau."
            if info["level"] == "france"
            else "Population ou densité inconnue : pas de comparaison possible."
        )
    return {"criteria": list(SIMILARITY_CRITERIA), "territories": out, "notes": notes}


def _compare_row(key_row: dict) -> dict:
    row = _flat(key_row)
    row["notes"] = key_row["notes"]
    return row


def comparisons(
    con: duckdb.DuckDBPyConnection, level: str, code: str, year: int | None = None
) -> dict:
    """Key figures of the parent territories and of the five most similar territories.

    ``{"parents": [key-figure rows], "similar": {"criteria": [...], "territories": [key-figure
    rows + density, rural_population_share, distance]}, "notes"}``. A key-figure row has the
    columns of :data:`KEY_FIGURE_COLUMNS` plus ``notes``.
    """
    ctx = _Context(con, year)
    info = _info(ctx, level, code)
    return _comparisons(ctx, info)[0]


def _comparisons(ctx: _Context, info: dict) -> tuple[dict, dict]:
    """(comparisons section, key-figure row of the territory itself)."""
    pair = (info["level"], info["code"])
    parents = _parent_pairs(info)
    similar = _similar(ctx, info)
    sim_pairs = [(t["level"], t["code"]) for t in similar["territories"]]
    keys = _key_many(ctx, [pair, *parents, *sim_pairs])
    sim_rows = []
    for t in similar["territories"]:
        row = _compare_row(keys[(t["level"], t["code"])])
        row.update(
            density=t["density"],
            rural_population_share=t["rural_population_share"],
            distance=t["distance"],
        )
        sim_rows.append(row)
    section = {
        "parents": [_compare_row(keys[p]) for p in parents if p in keys],
        "similar": {
            "criteria": similar["criteria"],
            "territories": sim_rows,
            "notes": similar["notes"],
        },
        "notes": {},
    }
    return section, keys[pair]


# --------------------------------------------------------------------------- zones blanches
#: Sectors examined for zones blanches (non classé is not a service anybody lacks).
ZONE_SECTORS: tuple[str, ...] = DIVERSITY_SECTORS


def zones_blanches(
    con: duckdb.DuckDBPyConnection,
    level: str,
    code: str,
    year: int | None = None,
    sector: str | None = None,
) -> dict:
    """Communes of the territory with no ESS employer establishment in a sector.

    ``{"year", "jobs_source", "communes_total", "population_total", "by_sector": [{sector,
    label, communes, population, population_share}], "sector", "communes": [{code, name,
    population}] (only when ``sector`` is given), "notes"}``.
    """
    if sector is not None and sector not in nomenclatures.SECTOR_LABELS:
        raise IndicatorError(f"Secteur inconnu : « {sector} ».")
    ctx = _Context(con, year)
    info = _info(ctx, level, code)
    block = ctx.block(info["level"], info["code"])
    return _zones(ctx, info, block, sector)


def _zones(ctx: _Context, info: dict, block: dict, sector: str | None) -> dict:
    notes: dict[str, str] = {}
    cube, kind = ctx.cube, block["kind"]
    idx = ctx.communes(info["level"], info["code"])
    pop = cube.cpop[idx]
    pop_total = int(pop.sum())
    base = {
        "year": ctx.year,
        "jobs_source": _source_name(block),
        "communes_total": len(idx),
        "population_total": pop_total,
    }
    if kind not in ("communes", "estimation"):
        notes["by_sector"] = _R_NO_ESS_DATA if kind is None else _R_COMMUNE_DETAIL
        return {**base, "by_sector": [], "sector": sector, "communes": [], "notes": notes}
    if kind == "communes":
        estab = cube.detail(ctx.con, ctx.year)["sector"][idx, :, 0]
    else:
        estab = cube.estimate(ctx.con)["sector"][idx, :, 0]
    by_sector, communes = [], []
    for s in ZONE_SECTORS:
        lacking = estab[:, _SECTOR_POS[s]] <= 0
        lacking_pop = int(pop[lacking].sum())
        by_sector.append(
            {
                "sector": s,
                "label": nomenclatures.SECTOR_LABELS[s],
                "communes": int(lacking.sum()),
                "population": lacking_pop,
                "population_share": _ratio(lacking_pop, pop_total),
            }
        )
        if s == sector:
            rows = [
                {
                    "code": str(cube.ccodes[i]),
                    "name": str(cube.cname[i]),
                    "population": int(cube.cpop[i]),
                }
                for i in idx[lacking]
            ]
            communes = sorted(rows, key=lambda r: (-r["population"], r["code"]))
    return {
        **base,
        "by_sector": by_sector,
        "sector": sector,
        "communes": communes,
        "notes": notes,
    }


# --------------------------------------------------------------------------- the document
def compute(
    con: duckdb.DuckDBPyConnection,
    level: str,
    code: str,
    year: int | None = None,
    reference: tuple[str, str] = ("france", "FR"),
) -> dict:
    """The full indicator set of one territory: the stable JSON document of
    ``ess-diag indicators`` (every key documented in ``docs/methodologie.md``).

    >>> doc = compute(con, "departement", "01")  # doctest: +SKIP
    >>> doc["ess_jobs"], doc["jobs_source"]  # doctest: +SKIP
    (12345.0, 'statistiques')
    """
    ctx = _Context(con, year)
    info = _info(ctx, level, code)
    ref_info = _info(ctx, *reference)
    comps, key = _comparisons(ctx, info)
    sectors = _by_sector(ctx, info, ref_info)
    detail_block = ctx.block(info["level"], info["code"], detail=True)
    fam_rows, fam_notes = _family_rows(detail_block)
    return {
        "schema_version": 1,
        "territory": key["territory"],
        "year": ctx.year,
        "years_available": list(ctx.years),
        "demo": ("meta:demo", "1") in ctx.cube.fingerprint,
        "ess_establishments": key["ess_establishments"],
        "ess_jobs": key["ess_jobs"],
        "private_jobs": key["private_jobs"],
        "non_ess_private_jobs": key["non_ess_private_jobs"],
        "ess_share_private_jobs": key["ess_share_private_jobs"],
        "jobs_per_1000_inhabitants": key["jobs_per_1000_inhabitants"],
        "women_share": key["women_share"],
        "jobs_source": key["jobs_source"],
        "sources": key["sources"],
        "by_family": {"rows": fam_rows, "notes": fam_notes},
        "by_sector": {
            "reference": sectors["reference"],
            "rows": sectors["rows"],
            "notes": sectors["notes"],
        },
        "rural": _rurality(ctx, info, detail_block),
        "evolution": _evolution(ctx, info, None, None, None),
        "resilience": _resilience(ctx, info, detail_block),
        "comparisons": comps,
        "zones_blanches": _zones(ctx, info, detail_block, None),
        "notes": key["notes"],
    }


def summary_text(doc: dict) -> str:
    """A short French plain-text rendering of :func:`compute`'s document (for the terminal)."""
    from .formatting import NOT_AVAILABLE, fmt_int, fmt_num, fmt_pct

    t = doc["territory"]
    source = {
        JOBS_SOURCE_STATS: "statistiques importées",
        JOBS_SOURCE_ESTIMATE: "estimation à partir des tranches d'effectifs SIRENE",
        None: NOT_AVAILABLE,
    }[doc["jobs_source"]]
    lines = [
        f"{t['name']} ({_LEVEL_LABELS[t['level']]} {t['code']}), {fmt_int(t['population'])} "
        f"habitants — année {doc['year'] if doc['year'] is not None else NOT_AVAILABLE}"
        + (" — DONNÉES DE DÉMONSTRATION (simulées)" if doc.get("demo") else ""),
        f"  Établissements employeurs de l'ESS : {fmt_int(doc['ess_establishments'])}",
        f"  Emplois de l'ESS : {fmt_int(doc['ess_jobs'])} (source : {source})",
        f"  Emploi privé : {fmt_int(doc['private_jobs'])}",
        f"  Part de l'ESS dans l'emploi privé : {fmt_pct(doc['ess_share_private_jobs'])}",
        f"  Emplois ESS pour 1 000 habitants : {fmt_num(doc['jobs_per_1000_inhabitants'])}",
        f"  Part des femmes : {fmt_pct(doc['women_share'])}",
        f"  Part des emplois ESS en commune rurale : {fmt_pct(doc['rural']['share_ess_jobs_rural'])}"
        f" (définition : {doc['rural']['definition_label']})",
    ]
    for parent in doc["comparisons"]["parents"]:
        lines.append(
            f"  Comparaison — {parent['name']} : {fmt_pct(parent['ess_share_private_jobs'])} "
            "de l'emploi privé"
        )
    for key, reason in doc["notes"].items():
        lines.append(f"  Note ({key}) : {reason}")
    return "\n".join(lines)
