"""ESS Diag benchmarks (``make bench``): national-scale timings with their baselines.

    .venv/bin/python benchmarks/run.py                      # full run (≈ 15 min on 2 cores)
    .venv/bin/python benchmarks/run.py --scale smoke        # seconds: checks the harness works
    .venv/bin/python benchmarks/run.py --only import,page   # some steps (merged into results)

Steps (see ``benchmarks/README.md`` for the targets and how to read the figures):

``init``        ``ess-diag init --demo`` from nothing, and the database file size;
``import``      SIRENE import (établissements + unités légales) vs DuckDB's bare ``read_csv``;
``indicators``  the full indicator set of one département, one EPCI and France, warm and cold;
``all_epci``    key figures of every EPCI at once (``indicators.compute_all``);
``pandas``      the same national key figures with a straightforward pandas implementation;
``page``        page re-render after a territory change (AppTest) and map bytes per view;
``scaling``     import and national indicators at 10k, 100k, 1M and 3M establishments;
``sourcing``    « Acheter à l'ESS » around the main commune of several départements (50 km).

Every step runs in its own child process so that its peak memory (``ru_maxrss`` from
``os.wait4``) is its own; each figure is the median of several runs after a warm-up, and
ratios compare figures measured in the same process, side by side.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

__all__ = ["SCALES", "STEPS", "TARGETS", "main", "run"]

STEPS = ("init", "import", "indicators", "all_epci", "pandas", "page", "scaling", "sourcing")

#: Sizes and repeat counts per scale. ``init`` runs are whole builds (≈ 40–80 s each), so the
#: full scale takes 3 of them to stay within the 15-minute budget; everything else takes the
#: median of ``repeat`` runs after ``warmup`` runs.
SCALES: dict[str, dict] = {
    "full": {
        "import_rows": 1_000_000,
        "repeat": 5,
        "warmup": 1,
        "init_runs": 3,
        "page_runs": 10,
        "page_runs_other": 5,
        "all_epci_repeat": 5,
        "scaling_sizes": (10_000, 100_000, 1_000_000, 3_000_000),
        # 1M: one import (to build the database measured next); its median of 5 comes from
        # the import step of the same run.
        "scaling_repeat": {10_000: 5, 100_000: 5, 1_000_000: 1, 3_000_000: 3},
        "scaling_warmup": {10_000: 1, 100_000: 1, 1_000_000: 0, 3_000_000: 0},
        "cli_runs": 5,
        "epci_sample": 20,
        "use_helpers": True,
        "geography": "national",
    },
    "smoke": {
        "import_rows": 1_000,
        "repeat": 1,
        "warmup": 0,
        "init_runs": 0,
        "page_runs": 1,
        "page_runs_other": 1,
        "all_epci_repeat": 1,
        "scaling_sizes": (300, 1_000),
        "scaling_repeat": {300: 1, 1_000: 1},
        "scaling_warmup": {300: 0, 1_000: 0},
        "cli_runs": 0,
        "epci_sample": 2,
        # bench_indicators.run times the CLI and pandas too: too slow for the smoke test.
        "use_helpers": False,
        "geography": "tiny",
    },
}

#: The targets of issues 3, 4, 6 and 8 (seconds unless said otherwise).
TARGETS = {
    "import_ratio": 3.0,
    "import_s": 10.0,
    "territory_warm_s": 0.050,
    "all_epci_s": 2.0,
    "page_rerender_s": 1.0,
    "map_bytes": 3_000_000,
    "init_s": 60.0,
    "db_bytes": 300_000_000,
    "pandas_speedup": 5.0,
    "cli_departement_s": 1.0,
    "peak_rss_3m_mb": 4096.0,
    "sourcing_s": 0.200,
}

#: Territories used when they exist (Rhône, Métropole de Lyon); otherwise the first by code.
PREFERRED = {"departement": "69", "epci": "200046977", "region": "84"}
#: Pages timed by the ``page`` step, in this order (those that exist).
PAGES = ("vue_ensemble", "carte", "secteurs", "ruralite", "evolution", "acteurs")

CACHE = HERE / "cache"


# =========================================================================== small helpers
def _progress(message: str) -> None:
    """A progress line from a child step (stderr, so it never mixes with results)."""
    print(f"    {message}", file=sys.stderr, flush=True)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def summarize(values: list[float]) -> dict:
    """min / median / max of timed runs (seconds), with the runs themselves."""
    vals = [float(v) for v in values]
    if not vals:
        return {"n": 0, "min": None, "median": None, "max": None, "runs": []}
    return {
        "n": len(vals),
        "min": round(min(vals), 6),
        "median": round(statistics.median(vals), 6),
        "max": round(max(vals), 6),
        "runs": [round(v, 6) for v in vals],
    }


def timeit(fn: Callable[[], object], repeat: int, warmup: int = 1) -> dict:
    """Call ``fn`` ``warmup`` times untimed, then ``repeat`` timed times.

    Besides wall-clock seconds, ``cpu_median`` is the process CPU time (all threads) of the
    median run: on a busy machine wall time grows, CPU time much less.
    """
    for _ in range(warmup):
        fn()
    runs, cpus = [], []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    out = summarize(runs)
    if cpus:
        out["cpu_median"] = round(statistics.median(cpus), 6)
    return out


def _median(fig: dict | None) -> float | None:
    return None if not fig else fig.get("median")


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 3)


def _machine() -> dict:
    import duckdb
    import numpy
    import pandas

    info: dict = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "duckdb": duckdb.__version__,
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
    }
    try:
        import streamlit

        info["streamlit"] = streamlit.__version__
    except ImportError:  # pragma: no cover - streamlit is a dependency
        info["streamlit"] = None
    try:
        with open("/proc/meminfo") as fh:
            kb = int(next(line for line in fh if line.startswith("MemTotal")).split()[1])
        info["memory_gb"] = round(kb / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
        info["memory_gb"] = None
    try:
        with open("/proc/cpuinfo") as fh:
            info["cpu_model"] = next(
                line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")
            )
    except (OSError, StopIteration):
        info["cpu_model"] = platform.processor() or None
    try:
        info["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        # Code measured but not committed yet (others may be editing the shared tree).
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "ess_diag", "ess_diag_ui", "pages"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout
        info["uncommitted_code_files"] = sorted(line[3:] for line in status.splitlines())
    except OSError:
        info["git_commit"] = None
    return info


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# =========================================================================== databases
def _tiny_geography(con) -> None:
    """A few real-coded communes in two départements (smoke scale): no national build."""
    import pandas as pd

    from ess_diag import geography

    rows = [
        ("01001", "L'Abergement-Clémenciat", 800, "200000001", "01", 4.92, 46.12, 15.6),
        ("01002", "L'Abergement-de-Varey", 200, "200000001", "01", 5.42, 46.0, 9.2),
        ("01004", "Ambérieu-en-Bugey", 15000, "200000002", "01", 5.36, 45.96, 24.4),
        ("01005", "Ambérieux-en-Dombes", 2000, "200000002", "01", 4.9, 45.99, 15.9),
        ("69123", "Lyon", 500000, "200046977", "69", 4.83, 45.76, 47.9),
        ("69266", "Villeurbanne", 150000, "200046977", "69", 4.88, 45.77, 14.5),
    ]
    communes = pd.DataFrame(
        rows,
        columns=[
            "code",
            "name",
            "population",
            "epci_code",
            "departement_code",
            "lon",
            "lat",
            "area_km2",
        ],
    )
    communes["region_code"] = "84"
    geography.build_from_frames(
        con,
        communes=communes,
        epci=pd.DataFrame(
            {
                "code": ["200000001", "200000002", "200046977"],
                "name": ["CC du Bocage", "CA de la Ville", "Métropole de Lyon"],
            }
        ),
        departements=pd.DataFrame(
            {"code": ["01", "69"], "name": ["Ain", "Rhône"], "region_code": ["84", "84"]}
        ),
        regions=pd.DataFrame({"code": ["84"], "name": ["Auvergne-Rhône-Alpes"]}),
        aliases=pd.DataFrame(
            {
                "code": ["01099", "69381", "69382"],
                "commune_code": ["01001", "69123", "69123"],
                "kind": ["COMD", "ARM", "ARM"],
                "name": ["Commune déléguée", "Lyon 1er", "Lyon 2e"],
            }
        ),
    )


def build_demo_db(path: Path, geography_kind: str) -> None:
    """The demo database used by the indicator and page steps (untimed preparation)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)
    if geography_kind == "national":
        subprocess.run(
            [sys.executable, "-m", "ess_diag.cli", "init", "--demo", "--quiet", "--db", str(path)],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return
    from ess_diag import demo, nomenclatures, store

    con = store.connect(path)
    try:
        _tiny_geography(con)
        nomenclatures.register(con)
        demo.load(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()


_GEO_TABLES = ("territories", "territory_communes", "commune_aliases", "geometries", "density_grid")


def build_geo_template(demo_db: Path, path: Path, urssaf_csv: Path | None) -> None:
    """A database holding only the geography of ``demo_db`` (and, when given, the private
    employment of the generated URSSAF table): the starting point of every timed import."""
    from ess_diag import nomenclatures, store

    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)
    con = store.connect(path)
    try:
        con.execute(f"ATTACH '{demo_db}' AS src (READ_ONLY)")
        for table in _GEO_TABLES:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM src.{table}")  # noqa: S608
        con.execute("DETACH src")
        nomenclatures.register(con)
        if urssaf_csv is not None:
            _load_private_employment(con, urssaf_csv)
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _load_private_employment(con, csv: Path) -> None:
    """Setup (untimed): the generated URSSAF commune × APE table → ``private_employment``."""
    import pandas as pd

    from ess_diag import nomenclatures

    raw = con.execute(
        f"SELECT * FROM read_csv('{csv}', delim=';', header=true, all_varchar=true)"
    ).df()
    year_cols = [c for c in raw.columns if c.startswith("Effectifs salariés ")]
    frames = []
    for col in year_cols:
        year = int(col.rsplit(" ", 1)[1])
        est = f"Nombre d'établissements {year}"
        frames.append(
            pd.DataFrame(
                {
                    "commune_code": raw["Code commune"],
                    "year": year,
                    "ape": raw["Code APE"],
                    "establishments": pd.to_numeric(raw[est]),
                    "jobs": pd.to_numeric(raw[col]),
                }
            )
        )
    long = pd.concat(frames, ignore_index=True)
    naf = {a: f"{a[:2]}.{a[2:]}" for a in long["ape"].unique()}
    long["naf"] = long["ape"].map(naf)
    long["sector"] = long["naf"].map({n: nomenclatures.sector_for_naf(n) for n in naf.values()})
    con.register("bench_private", long)
    con.execute(
        "INSERT INTO private_employment (commune_code, year, naf, sector, establishments, jobs, "
        "source) SELECT commune_code, year, naf, sector, establishments, jobs, 'benchmark' "
        "FROM bench_private WHERE jobs > 0 OR establishments > 0"
    )
    con.unregister("bench_private")


def _pick(con, level: str) -> str:
    if level == "france":
        return "FR"
    preferred = PREFERRED.get(level)
    rows = con.execute(
        "SELECT code FROM territories WHERE level = ? ORDER BY (code = ?) DESC, code LIMIT 1",
        [level, preferred or ""],
    ).fetchall()
    return rows[0][0]


def _codes(con, level: str, n: int) -> list[str]:
    """``n`` territories of ``level`` (largest population first; repeated if fewer exist)."""
    rows = con.execute(
        "SELECT code FROM territories WHERE level = ? ORDER BY population DESC NULLS LAST, code",
        [level],
    ).fetchall()
    codes = [r[0] for r in rows]
    return [codes[i % len(codes)] for i in range(n)] if codes else []


def _copy_db(src: Path, dst: Path) -> None:
    for p in (dst, dst.with_name(dst.name + ".wal")):
        p.unlink(missing_ok=True)
    shutil.copyfile(src, dst)


# =========================================================================== child steps
def _import_once(template: Path, db: Path, files) -> tuple[float, dict]:
    from ess_diag import store
    from ess_diag.ingest import run_import

    _copy_db(template, db)
    con = store.connect(db)
    try:
        c0, t0 = time.process_time(), time.perf_counter()
        report = run_import(con, [files.unites_legales, files.etablissements])
        elapsed = time.perf_counter() - t0
        _CPU.append(time.process_time() - c0)
    finally:
        con.close()
    if report.status != "committed":
        raise RuntimeError(f"import refusé : {report.errors}")
    info = {
        "rows_read": report.rows_read,
        "rows_loaded": report.rows_loaded,
        "rows_set_aside": report.rows_set_aside,
    }
    return elapsed, info


#: CPU seconds (all threads) of the last timed runs, beside their wall-clock seconds.
_CPU: list[float] = []


def _read_csv_once(files) -> float:
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        c0, t0 = time.process_time(), time.perf_counter()
        for path in (files.unites_legales, files.etablissements):
            con.execute(f"CREATE OR REPLACE TABLE t AS SELECT * FROM read_csv('{path}')")
        elapsed = time.perf_counter() - t0
        _CPU.append(time.process_time() - c0)
        return elapsed
    finally:
        con.close()


def _files(spec: dict):
    import generate

    return generate.SireneFiles(
        Path(spec["etablissements"]),
        Path(spec["unites_legales"]),
        spec["n_rows"],
        spec["n_units"],
    )


def step_import(spec: dict) -> dict:
    """SIRENE import vs bare ``read_csv`` of the same two files, interleaved run by run."""
    files = _files(spec)
    template = Path(spec["geo_template"])
    db = Path(spec["workdir"]) / "import.duckdb"
    for _ in range(spec["warmup"]):
        _read_csv_once(files)
        _import_once(template, db, files)
    reads, imports, info = [], [], {}
    read_cpu, import_cpu = [], []
    for i in range(spec["repeat"]):
        reads.append(_read_csv_once(files))
        read_cpu.append(_CPU[-1])
        elapsed, info = _import_once(template, db, files)
        imports.append(elapsed)
        import_cpu.append(_CPU[-1])
        _progress(f"import {i + 1}/{spec['repeat']} : {elapsed:.2f} s, read_csv {reads[-1]:.2f} s")
    per_run = [i / r for i, r in zip(imports, reads, strict=True)]
    return {
        "n_rows": files.n_rows,
        "n_units": files.n_units,
        "bytes": files.etablissements.stat().st_size + files.unites_legales.stat().st_size,
        "import_s": {**summarize(imports), "cpu_median": round(statistics.median(import_cpu), 3)},
        "read_csv_s": {**summarize(reads), "cpu_median": round(statistics.median(read_cpu), 3)},
        # Paired: each import divided by the read_csv run just before it, then the median —
        # steadier than a ratio of medians when the machine's load drifts during the step.
        "ratio": round(statistics.median(per_run), 3),
        "ratio_of_medians": round(statistics.median(imports) / statistics.median(reads), 3),
        # The same ratio in CPU seconds: steadier than wall time on a busy machine.
        "ratio_cpu": round(statistics.median(import_cpu) / statistics.median(read_cpu), 3),
        "ratio_per_run": summarize(per_run),
        "rows_per_s": round(files.n_rows / statistics.median(imports)),
        **info,
        "db_bytes_after_import": db.stat().st_size,
    }


def _national_indicators(db: Path, repeat: int, warmup: int, with_cold: bool) -> dict:
    """Warm: the same connection again (the dashboard's case). Cold: a new connection (what a
    restarted app pays: DuckDB's buffers empty; ``indicators`` keeps nothing between calls).
    First call: the same, on France."""
    from ess_diag import indicators, store

    # Outside the timings: derived tables left stale by a writer that did not refresh them are
    # caught up (on a writable connection) before the read-only runs.
    writable = store.connect(db)
    try:
        indicators.default_year(writable)
    finally:
        writable.close()
    out: dict = {}
    con = store.connect(db, read_only=True)
    try:
        targets = [
            ("departement", _pick(con, "departement")),
            ("epci", _pick(con, "epci")),
            ("france", "FR"),
        ]
        out["territories"] = [list(t) for t in targets]
        for level, code in targets:
            out[f"{level}_warm_s"] = timeit(
                lambda lv=level, c=code: indicators.compute(con, lv, c), repeat, warmup
            )
        out["all_epci_s"] = timeit(lambda: indicators.compute_all(con, "epci"), repeat, warmup)
    finally:
        con.close()
    if with_cold:
        for level, code in targets:
            out[f"{level}_cold_s"] = _cold(db, level, code, repeat)
    runs = max(1, min(3, repeat))
    out["france_first_call_s"] = _cold(db, "france", "FR", runs)
    return out


def _cold(db: Path, level: str, code: str, repeat: int) -> dict:
    """A new connection, then one document (both timed)."""
    from ess_diag import indicators, store

    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        con = store.connect(db, read_only=True)
        try:
            indicators.compute(con, level, code)
        finally:
            con.close()
        runs.append(time.perf_counter() - t0)
    return summarize(runs)


def _bench_indicators_module():
    """``benchmarks/bench_indicators.py`` (the indicators' own timings), when present."""
    try:
        import bench_indicators
    except ImportError:
        return None
    return bench_indicators


def _convert(stats: object) -> object:
    """bench_indicators' ``{min, median, max, runs: count}`` → this harness's form."""
    if isinstance(stats, dict) and {"min", "median", "max"} <= set(stats):
        runs = stats.get("runs")
        return {
            "n": runs if isinstance(runs, int) else len(runs or []),
            "min": round(float(stats["min"]), 6),
            "median": round(float(stats["median"]), 6),
            "max": round(float(stats["max"]), 6),
        }
    return stats


def _jsonable(value):
    import numpy as np

    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def step_indicators(spec: dict) -> dict:
    """One département, one EPCI, France (warm, cold, first call) and the CLI.

    With ``bench_indicators.py`` present, its ``run`` gives the warm/cold and CLI figures (the
    indicators' own definitions); this harness adds the first-call figure.
    """
    db = Path(spec["demo_db"])
    helper = _bench_indicators_module() if spec.get("use_helpers", True) else None
    if helper is not None and hasattr(helper, "run"):
        h = helper.run(str(db), runs=spec["repeat"])
        out: dict = {"source": "benchmarks/bench_indicators.py", "bench_indicators": _jsonable(h)}
        out["territories"] = [list(t) for t in helper.TERRITORIES.items()]
        for level, _code in helper.TERRITORIES.items():
            out[f"{level}_warm_s"] = _convert(h.get(f"compute_{level}_warm"))
            out[f"{level}_cold_s"] = _convert(h.get(f"compute_{level}_cold"))
        if "cli_departement" in h:
            out["cli_departement_s"] = _convert(h["cli_departement"])
        out["france_first_call_s"] = _cold(db, "france", "FR", max(1, min(3, spec["repeat"])))
        return out
    out = _national_indicators(db, spec["repeat"], spec["warmup"], with_cold=True)
    out.pop("all_epci_s", None)
    out["source"] = "benchmarks/run.py"
    # The CLI, start-up included (issue 3: a département in under 1 s).
    dep = out["territories"][0][1]
    cmd = [sys.executable, "-m", "ess_diag.cli", "indicators", "--level", "departement", dep]
    cmd += ["--json", "--db", str(db)]
    runs = []
    for i in range(spec["cli_runs"] + (1 if spec["cli_runs"] else 0)):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        if i >= 1:  # the first run warms the OS file cache
            runs.append(time.perf_counter() - t0)
    if runs:
        out["cli_departement_s"] = summarize(runs)
    return out


def step_all_epci(spec: dict) -> dict:
    """Key figures of every EPCI at once (warm, and cold = a new connection); every commune;
    the full document for a sample of EPCI, extrapolated to all of them."""
    from ess_diag import indicators, store

    db = Path(spec["demo_db"])
    con = store.connect(db, read_only=True)
    out: dict = {}
    try:
        n = con.execute("SELECT count(*) FROM territories WHERE level = 'epci'").fetchall()[0][0]
        out["epci_count"] = int(n)
        out["all_epci_s"] = timeit(
            lambda: indicators.compute_all(con, "epci"), spec["repeat"], spec["warmup"]
        )

        def cold():
            fresh = store.connect(db, read_only=True)
            try:
                indicators.compute_all(fresh, "epci")
            finally:
                fresh.close()

        out["all_epci_cold_s"] = timeit(cold, max(1, min(3, spec["repeat"])), 0)
        out["all_communes_s"] = timeit(
            lambda: indicators.compute_all(con, "commune"), max(1, spec["repeat"] // 2), 1
        )
        sample = _codes(con, "epci", min(spec["epci_sample"], int(n)))
        runs = []
        for code in sample:
            t0 = time.perf_counter()
            indicators.compute(con, "epci", code)
            runs.append(time.perf_counter() - t0)
        out["full_doc_per_epci_s"] = summarize(runs)
        out["full_doc_all_epci_estimate_s"] = round(statistics.median(runs) * int(n), 2)
    finally:
        con.close()
    return out


# --------------------------------------------------------------------------- pandas baseline
_NATIONAL_LEVELS = ("epci", "departement", "region", "france")


def _pandas_load(con, year: int) -> dict:
    """What an analyst would pull into pandas: the commune tables and the geography."""
    cur = con.cursor()
    return {
        "ess": cur.execute(
            "SELECT code AS commune_code, measure, value FROM ess_stats WHERE level = 'commune' "
            "AND year = ? AND family IS NULL AND sector IS NULL",
            [year],
        ).df(),
        "private": cur.execute(
            "SELECT commune_code, jobs FROM private_employment WHERE year = ?", [year]
        ).df(),
        "tc": cur.execute(
            "SELECT level, code, commune_code FROM territory_communes WHERE level IN "
            "('epci', 'departement', 'region', 'france')"
        ).df(),
        "territories": cur.execute("SELECT level, code, name, population FROM territories").df(),
    }


def pandas_key_figures(frames: dict):
    """Straightforward pandas: ESS establishments and jobs, private jobs, ESS share and jobs per
    1,000 inhabitants for every EPCI, département, région and France (commune statistics)."""
    import pandas as pd

    ess = frames["ess"].pivot_table(
        index="commune_code", columns="measure", values="value", aggfunc="sum"
    )
    private = frames["private"].groupby("commune_code")["jobs"].sum().rename("private_jobs")
    per_commune = ess.join(private, how="outer").reset_index()
    merged = frames["tc"].merge(per_commune, on="commune_code", how="left")
    cols = [c for c in ("etablissements", "effectifs", "private_jobs") if c in merged.columns]
    out = merged.groupby(["level", "code"])[cols].sum(min_count=1).reset_index()
    out = out.merge(frames["territories"], on=["level", "code"], how="left")
    out["ess_share_private_jobs"] = out["effectifs"] / out["private_jobs"].where(
        out["private_jobs"] > 0
    )
    out["jobs_per_1000_inhabitants"] = (
        1000 * out["effectifs"] / out["population"].where(out["population"] > 0)
    )
    return pd.DataFrame(out).sort_values(["level", "code"]).reset_index(drop=True)


def step_pandas(spec: dict) -> dict:
    """The national key figures with pandas vs ``indicators.compute_all``, same process.

    Headline (``speedup``): ``bench_indicators.pandas_baseline`` — every EPCI, tables read from
    the database then merged and grouped, as an analyst's script does — against
    ``compute_all(con, "epci")`` warm. Stricter variant (``speedup_compute_only``): this
    harness's pandas version for EPCI, départements, régions and France with the frames already
    in memory, against ``compute_all`` of the same four levels.
    """
    from ess_diag import indicators, store

    db = Path(spec["demo_db"])
    con = store.connect(db, read_only=True)
    out: dict = {}
    try:
        year = indicators.default_year(con)
        out["year"] = year
        epci = timeit(lambda: indicators.compute_all(con, "epci"), spec["repeat"], spec["warmup"])
        duck = timeit(
            lambda: [indicators.compute_all(con, lv) for lv in _NATIONAL_LEVELS],
            spec["repeat"],
            spec["warmup"],
        )
        load = timeit(lambda: _pandas_load(con, year), spec["repeat"], spec["warmup"])
        frames = _pandas_load(con, year)
        calc = timeit(lambda: pandas_key_figures(frames), spec["repeat"], spec["warmup"])
        ours = indicators.compute_all(con, "departement").set_index("code")
    finally:
        con.close()
    out["duckdb_compute_all_epci_s"] = epci
    out["duckdb_compute_all_4_levels_s"] = duck
    out["pandas_compute_only_4_levels_s"] = calc
    out["pandas_load_s"] = load
    out["speedup_compute_only"] = _ratio(_median(calc), _median(duck))
    # Same figures both ways (a benchmark of a wrong answer is no benchmark).
    theirs = pandas_key_figures(frames)
    theirs = theirs[theirs["level"] == "departement"].set_index("code")
    common = ours.index.intersection(theirs.index)
    diff = (ours.loc[common, "ess_jobs"] - theirs.loc[common, "effectifs"]).abs().max()
    out["max_abs_diff_ess_jobs_departements"] = None if diff != diff else float(diff)
    helper = _bench_indicators_module() if spec.get("use_helpers", True) else None
    if helper is not None and hasattr(helper, "pandas_baseline"):
        base = timeit(lambda: helper.pandas_baseline(str(db), year), spec["repeat"], spec["warmup"])
        out["pandas_baseline_epci_s"] = base
        out["speedup"] = _ratio(_median(base), _median(epci))
        out["speedup_source"] = "bench_indicators.pandas_baseline / compute_all(epci)"
    else:
        out["speedup"] = _ratio((_median(calc) or 0) + (_median(load) or 0), _median(duck))
        out["speedup_source"] = "pandas (lecture + calcul, 4 niveaux) / compute_all (4 niveaux)"
    return out


# --------------------------------------------------------------------------- pages
def _deck_bytes(at) -> int:
    total = 0
    for el in at.get("deck_gl_json_chart"):
        total += len(el.proto.json.encode("utf-8"))
    return total


def step_page(spec: dict) -> dict:
    """Server time of a page re-render after a territory change (AppTest), map bytes per view."""
    db = Path(spec["workdir"]) / "page.duckdb"
    _copy_db(Path(spec["demo_db"]), db)
    os.environ["ESS_DIAG_DB"] = str(db)
    from streamlit.testing.v1 import AppTest

    from ess_diag import store

    con = store.connect(db, read_only=True)
    try:
        n = spec["page_runs"] + 1
        deps = [("departement", c) for c in _codes(con, "departement", n)]
        epcis = [("epci", c) for c in _codes(con, "epci", n)]
        views = [
            ("france", "FR"),
            ("region", _pick(con, "region")),
            ("departement", _pick(con, "departement")),
            ("epci", _pick(con, "epci")),
        ]
        biggest = con.execute(
            "SELECT code FROM territories WHERE level = 'departement' "
            "ORDER BY commune_count DESC NULLS LAST, code LIMIT 1"
        ).fetchall()
        if biggest:
            views.append(("departement", biggest[0][0]))
    finally:
        con.close()

    out: dict = {"pages": {}, "map_views": []}
    for i, page in enumerate(PAGES):
        path = ROOT / "pages" / f"{page}.py"
        if not path.exists():
            out["pages"][page] = {"error": "page absente"}
            continue
        runs_wanted = (
            spec["page_runs"] if page in ("vue_ensemble", "carte") else spec["page_runs_other"]
        )
        # Alternate département / EPCI and never revisit a territory: each run computes afresh
        # (st.cache_data would otherwise answer from memory).
        seq = (deps if i % 2 == 0 else epcis)[: runs_wanted + 1]
        at = AppTest.from_file(str(path), default_timeout=300)
        at.session_state["territory"] = seq[0]
        t0 = time.perf_counter()
        at.run()
        first = time.perf_counter() - t0
        if at.exception:
            out["pages"][page] = {"error": str(at.exception[0].message)[:500]}
            continue
        runs = []
        errors = 0
        for territory in seq[1:]:
            at.session_state["territory"] = territory
            t0 = time.perf_counter()
            at.run()
            runs.append(time.perf_counter() - t0)
            errors += bool(at.exception)
        # Back to a territory already shown: served from the page caches.
        at.session_state["territory"] = seq[0]
        t0 = time.perf_counter()
        at.run()
        cached = time.perf_counter() - t0
        _progress(f"page {page} : médiane {statistics.median(runs) if runs else 0:.3f} s")
        out["pages"][page] = {
            "first_run_s": round(first, 4),
            "rerender_s": summarize(runs),
            "rerender_cached_s": round(cached, 4),
            "runs_with_exception": errors,
            "territories": [list(t) for t in seq[1:]],
        }
    carte = ROOT / "pages" / "carte.py"
    if carte.exists():
        at = AppTest.from_file(str(carte), default_timeout=300)
        for view in views:
            at.session_state["territory"] = view
            t0 = time.perf_counter()
            at.run()
            elapsed = time.perf_counter() - t0
            out["map_views"].append(
                {
                    "territory": list(view),
                    "deck_bytes": _deck_bytes(at),
                    "decks": len(at.get("deck_gl_json_chart")),
                    "run_s": round(elapsed, 4),
                    "exception": str(at.exception[0].message)[:300] if at.exception else None,
                }
            )
        out["map_bytes_max"] = max((v["deck_bytes"] for v in out["map_views"]), default=None)
    return out


# --------------------------------------------------------------------------- scaling
def step_scaling_one(spec: dict) -> dict:
    """One size: import (median of runs) then the national indicators on the result."""
    files = _files(spec)
    template = Path(spec["geo_template"])
    db = Path(spec["workdir"]) / f"scale_{files.n_rows}.duckdb"
    for _ in range(spec["warmup"]):
        _import_once(template, db, files)
    runs, cpus = [], []
    info: dict = {}
    for i in range(spec["repeat"]):
        elapsed, info = _import_once(template, db, files)
        runs.append(elapsed)
        cpus.append(_CPU[-1])
        _progress(f"import {files.n_rows} {i + 1}/{spec['repeat']} : {elapsed:.2f} s")
    import_s = {**summarize(runs), "cpu_median": round(statistics.median(cpus), 3)}
    out = {"n_rows": files.n_rows, "import_s": import_s, **info}
    out.update(
        _national_indicators(db, spec.get("indicator_repeat", spec["repeat"]), 1, with_cold=False)
    )
    out["db_bytes"] = db.stat().st_size
    db.unlink(missing_ok=True)
    return out


def step_sourcing(spec: dict) -> dict:
    """Sourcing (issue 15) on the national base, 50 km around a site (a département's size).

    Headline (``sourcing_s``): the median over every purchase segment at the main commune of
    five départements of median population — the typical request. ``worst_case``: the most
    populous département's main commune with the segment that finds the most structures
    (thousands of rows), for the record. Wall and CPU seconds both: on a busy machine the wall
    time grows, the CPU time much less. A minimum of jobs no structure reaches makes every
    request search groupings too.
    """
    from ess_diag import nomenclatures, sourcing, store

    db = Path(spec["demo_db"])
    con = store.connect(db, read_only=True)
    out: dict = {"radius_km": 50.0}
    repeat, warmup = spec["repeat"], spec["warmup"]
    try:
        rows = con.execute(
            "SELECT code FROM territories WHERE level = 'departement' ORDER BY population, code"
        ).fetchall()
        codes = [r[0] for r in rows]
        middle = len(codes) // 2
        chosen = codes[max(0, middle - 2) : middle + 3]
        sites = [
            sourcing.site_for_commune(con, sourcing.main_commune(con, "departement", d))
            for d in chosen
        ]
        out["sites"] = [s.label for s in sites]
        walls, cpus, found = [], [], []
        for site in sites:
            for segment in nomenclatures.PURCHASE_SEGMENT_LABELS:
                found.append(len(sourcing.search(con, site, 50.0, segment).results))
                timed = timeit(
                    lambda site=site, segment=segment: sourcing.search(
                        con, site, 50.0, segment, min_jobs=1e6
                    ),
                    repeat,
                    warmup,
                )
                walls.append(timed["median"])
                cpus.append(timed.get("cpu_median", timed["median"]))
        out["structures_found"] = summarize(found)
        out["sourcing_s"] = summarize(walls)
        out["sourcing_cpu_s"] = summarize(cpus)
        top = _codes(con, "departement", 1)[0]
        site = sourcing.site_for_commune(con, sourcing.main_commune(con, "departement", top))
        counts = {
            seg: len(sourcing.search(con, site, 50.0, seg).results)
            for seg in nomenclatures.PURCHASE_SEGMENT_LABELS
        }
        segment = max(counts, key=lambda k: counts[k])
        worst = timeit(
            lambda: sourcing.search(con, site, 50.0, segment, min_jobs=1e6), repeat, warmup
        )
        out["worst_case"] = {
            "site": site.label,
            "segment": segment,
            "structures_found": counts[segment],
            "wall_s": worst["median"],
            "cpu_s": worst.get("cpu_median"),
        }
        out["actors_in_base"] = int(con.execute("SELECT count(*) FROM actors").fetchall()[0][0])
    finally:
        con.close()
    return out


CHILD_STEPS: dict[str, Callable[[dict], dict]] = {
    "import": step_import,
    "indicators": step_indicators,
    "all_epci": step_all_epci,
    "pandas": step_pandas,
    "page": step_page,
    "scaling_one": step_scaling_one,
    "sourcing": step_sourcing,
}


# =========================================================================== parent side
_TIME = shutil.which("time", path="/usr/bin:/bin") if os.name == "posix" else None


def spawn(cmd: list[str], *, quiet: bool = False) -> dict:
    """Run ``cmd`` and measure it: exit code, wall seconds, peak memory (MB), CPU seconds.

    The peak memory comes from ``/usr/bin/time``: a process forked straight from this one
    would report at least this process's own memory (Linux keeps the high-water mark across
    ``exec``), ``time`` is small so its child's figure is the child's own.
    """
    out = subprocess.DEVNULL if quiet else None
    with tempfile.NamedTemporaryFile(prefix="essdiag-time-", suffix=".txt", delete=False) as fh:
        time_file = Path(fh.name)
    try:
        full = [_TIME, "-f", "%M %U %S", "-o", str(time_file), *cmd] if _TIME else cmd
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, cwd=ROOT, stdout=out)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        peak, cpu, exact = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, False
        if _TIME:
            lines = time_file.read_text().split("\n")
            fields = [ln for ln in lines if ln.strip()][-1].split()
            peak, cpu, exact = int(fields[0]) / 1024, float(fields[1]) + float(fields[2]), True
    finally:
        time_file.unlink(missing_ok=True)
    return {
        "returncode": proc.returncode,
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(peak, 1),
        "cpu_s": round(cpu, 2),
        "peak_rss_exact": exact,
    }


def run_child(step: str, spec: dict, inline: bool) -> dict:
    """Run a step in its own process and add its peak memory (MB) to the result."""
    if inline:
        t0 = time.perf_counter()
        result = CHILD_STEPS[step](spec)
        result["wall_s"] = round(time.perf_counter() - t0, 3)
        result["peak_rss_mb"] = None
        return result
    with tempfile.TemporaryDirectory(prefix="essdiag-bench-") as tmp:
        spec_file, out_file = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec_file.write_text(json.dumps(spec))
        measured = spawn([sys.executable, __file__, "--child", step, str(spec_file), str(out_file)])
        if measured["returncode"] != 0 or not out_file.exists():
            code = measured["returncode"]
            return {"error": f"le processus de l'étape {step} a échoué (code {code})", **measured}
        result = json.loads(out_file.read_text())
    measured.pop("returncode")
    result.update(measured)
    return result


def step_init(cfg: dict, demo_db: Path, workdir: Path) -> dict:
    """``ess-diag init --demo`` from nothing, timed as a whole process (start-up included)."""
    runs, cpus, peaks, sizes = [], [], [], []
    target = workdir / "init.duckdb"
    for _ in range(cfg["init_runs"]):
        for p in (target, target.with_name(target.name + ".wal")):
            p.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "ess_diag.cli", "init", "--demo", "--quiet"]
        measured = spawn([*cmd, "--db", str(target)], quiet=True)
        if measured["returncode"] != 0:
            return {"error": f"ess-diag init a échoué (code {measured['returncode']})"}
        runs.append(measured["wall_s"])
        cpus.append(measured["cpu_s"])
        peaks.append(measured["peak_rss_mb"])
        sizes.append(target.stat().st_size)
    # The last build becomes the demo database of the other steps.
    _copy_db(target, demo_db)
    target.unlink(missing_ok=True)
    return {
        "init_s": {**summarize(runs), "cpu_median": statistics.median(cpus)},
        "db_bytes": sizes[-1],
        "peak_rss_mb": round(max(peaks), 1),
        "note": "chaque mesure est une construction complète dans un processus neuf "
        "(démarrage de Python compris) ; pas d'échauffement.",
    }


def _pandas_from_helper(pandas_step: dict, helper: dict) -> None:
    """Headline pandas ratio from ``bench_indicators.run`` (same process as its DuckDB side)."""
    if "error" in pandas_step or "speedup_vs_pandas" not in helper:
        return
    pandas_step["pandas_baseline_epci_s"] = _convert(helper.get("pandas_baseline_epci"))
    pandas_step["duckdb_compute_all_epci_helper_s"] = _convert(helper.get("compute_all_epci_warm"))
    pandas_step["speedup"] = round(float(helper["speedup_vs_pandas"]), 3)
    pandas_step["speedup_source"] = (
        "bench_indicators.run (étape indicators) : pandas_baseline / compute_all(epci) à chaud"
    )
    if "baseline_agrees" in helper:
        pandas_step["baseline_agrees"] = helper["baseline_agrees"]


def _growth(points: list[dict], key: str) -> list[dict]:
    out = []
    for a, b in zip(points, points[1:], strict=False):
        ma, mb = _median(a.get(key)), _median(b.get(key))
        out.append(
            {
                "from": a["n_rows"],
                "to": b["n_rows"],
                "size_factor": round(b["n_rows"] / a["n_rows"], 2),
                "time_factor": _ratio(mb, ma),
            }
        )
    return out


def step_scaling(cfg: dict, ctx: dict, inline: bool, log) -> dict:
    points = []
    imp = ctx.get("import_result") or {}
    for n in cfg["scaling_sizes"]:
        files = ctx["sirene"](n)
        repeat = cfg["scaling_repeat"][n]
        if repeat < 3 and not (imp.get("n_rows") == n and "import_s" in imp):
            repeat = 3  # no import step in this run to stand for this size
        spec = {
            **_file_spec(files),
            "geo_template": str(ctx["geo_template"]),
            "workdir": str(ctx["workdir"]),
            "repeat": repeat,
            "indicator_repeat": cfg["repeat"],
            "warmup": cfg["scaling_warmup"][n],
        }
        log(f"  mise à l'échelle : {n:_} établissements…".replace("_", " "))
        res = run_child("scaling_one", spec, inline)
        res.setdefault("n_rows", n)
        if "error" not in res and imp.get("n_rows") == n and "import_s" in imp:
            # Same file, same code: the import step's median of more runs stands for this size.
            res["import_s_this_step"] = res["import_s"]
            res["import_s"] = imp["import_s"]
            res["import_s_from"] = "étape import"
        points.append(res)
    ok = [p for p in points if "error" not in p]
    return {
        "points": points,
        "growth": {
            key: _growth(ok, key)
            for key in (
                "import_s",
                "france_warm_s",
                "departement_warm_s",
                "epci_warm_s",
                "all_epci_s",
            )
        },
    }


def _file_spec(files) -> dict:
    return {
        "etablissements": str(files.etablissements),
        "unites_legales": str(files.unites_legales),
        "n_rows": files.n_rows,
        "n_units": files.n_units,
    }


# =========================================================================== report
def _fmt_s(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 1:
        return f"{value * 1000:.1f} ms".replace(".", ",")
    return f"{value:.2f} s".replace(".", ",")


def _fmt_bytes(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1e6:.1f} Mo".replace(".", ",")


def _fmt_x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×".replace(".", ",")


def _fmt_mb(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} Mo".replace(",", " ")


def summary_rows(results: dict) -> list[dict]:
    """The short table: label, measured value (text), target (text), verdict (bool/None)."""
    steps = results.get("steps", {})
    rows: list[dict] = []

    def add(label, value, text, target_text, ok):
        rows.append({"label": label, "value": value, "text": text, "target": target_text, "ok": ok})

    def le(v, t):
        return None if v is None else bool(v <= t)

    imp = steps.get("import", {})
    if imp and "error" not in imp:
        v = _median(imp.get("import_s"))
        add(
            f"Import SIRENE {imp['n_rows']:,} lignes".replace(",", " "),
            v,
            _fmt_s(v),
            "< 10 s",
            le(v, TARGETS["import_s"]),
        )
        add(
            "  idem / read_csv DuckDB",
            imp.get("ratio"),
            _fmt_x(imp.get("ratio")),
            "≤ 3×",
            le(imp.get("ratio"), TARGETS["import_ratio"]),
        )
        if imp.get("ratio_cpu") is not None:
            v = imp["ratio_cpu"]
            add("  idem en temps CPU", v, _fmt_x(v), "≤ 3×", le(v, TARGETS["import_ratio"]))
    ind = steps.get("indicators", {})
    if ind and "error" not in ind:
        for level, label in (
            ("departement", "département"),
            ("epci", "EPCI"),
            ("france", "France"),
        ):
            v = _median(ind.get(f"{level}_warm_s"))
            add(
                f"Indicateurs complets, {label} (chaud)",
                v,
                _fmt_s(v),
                "≤ 50 ms",
                le(v, TARGETS["territory_warm_s"]),
            )
            c = _median(ind.get(f"{level}_cold_s"))
            add("  idem à froid (caches mémoire vidés)", c, _fmt_s(c), "—", None)
        v = _median(ind.get("france_first_call_s"))
        add("  France, premier appel sans aucun cache", v, _fmt_s(v), "—", None)
        v = _median(ind.get("cli_departement_s"))
        add(
            "CLI indicators d'un département (démarrage compris)",
            v,
            _fmt_s(v),
            "< 1 s",
            le(v, TARGETS["cli_departement_s"]),
        )
    ae = steps.get("all_epci", {})
    if ae and "error" not in ae:
        v = _median(ae.get("all_epci_s"))
        add(
            f"Chiffres clés de tous les EPCI ({ae.get('epci_count')})",
            v,
            _fmt_s(v),
            "≤ 2 s",
            le(v, TARGETS["all_epci_s"]),
        )
    src = steps.get("sourcing", {})
    if src and "error" not in src:
        v = _median(src.get("sourcing_s"))
        add(
            f"Acheter à l'ESS, {src.get('radius_km', 50):g} km (médiane, "
            f"{len(src.get('sites', []))} sites × 12 segments)",
            v,
            _fmt_s(v),
            "≤ 200 ms",
            le(v, TARGETS["sourcing_s"]),
        )
        c = _median(src.get("sourcing_cpu_s"))
        add("  idem en temps CPU", c, _fmt_s(c), "≤ 200 ms", le(c, TARGETS["sourcing_s"]))
        w = src.get("worst_case") or {}
        if w.get("wall_s") is not None:
            add(
                f"  pire cas : {w['site']}, {w['segment']} ({w['structures_found']} structures)",
                w["wall_s"],
                _fmt_s(w["wall_s"]) + f" (CPU {_fmt_s(w.get('cpu_s'))})",
                "—",
                None,
            )
    pdx = steps.get("pandas", {})
    if pdx and "error" not in pdx:
        v = pdx.get("speedup")
        add(
            "Gain sur pandas (tous les EPCI, lecture + calcul)",
            v,
            _fmt_x(v),
            "≥ 5×",
            None if v is None else v >= TARGETS["pandas_speedup"],
        )
        v = pdx.get("speedup_compute_only")
        add("  variante stricte : calcul seul, 4 niveaux", v, _fmt_x(v), "—", None)
    page = steps.get("page", {})
    if page and "error" not in page:
        for name, res in page.get("pages", {}).items():
            if "error" in res:
                add(f"Page {name} : re-rendu", None, "erreur", "≤ 1 s", False)
                continue
            v = _median(res.get("rerender_s"))
            add(
                f"Page {name} : re-rendu après changement de territoire",
                v,
                _fmt_s(v),
                "≤ 1 s",
                le(v, TARGETS["page_rerender_s"]),
            )
        v = page.get("map_bytes_max")
        add(
            "Carte : données envoyées (vue la plus lourde)",
            v,
            _fmt_bytes(v),
            "< 3 Mo",
            None if v is None else v < TARGETS["map_bytes"],
        )
    ini = steps.get("init", {})
    if ini and "error" not in ini:
        v = _median(ini.get("init_s"))
        add("ess-diag init --demo depuis rien", v, _fmt_s(v), "≤ 60 s", le(v, TARGETS["init_s"]))
        v = ini.get("db_bytes")
        add(
            "  taille de la base",
            v,
            _fmt_bytes(v),
            "< 300 Mo",
            None if v is None else v < TARGETS["db_bytes"],
        )
    sc = steps.get("scaling", {})
    if sc and "error" not in sc:
        for p in sc.get("points", []):
            if "error" in p:
                add(f"Échelle {p['n_rows']:,}".replace(",", " "), None, "erreur", "", False)
                continue
            n = f"{p['n_rows']:,}".replace(",", " ")
            v = _median(p.get("import_s"))
            add(f"Échelle {n} : import", v, _fmt_s(v), "", None)
            v = _median(p.get("france_warm_s"))
            add(f"Échelle {n} : indicateurs France (chaud)", v, _fmt_s(v), "", None)
            v = _median(p.get("all_epci_s"))
            add(f"Échelle {n} : tous les EPCI", v, _fmt_s(v), "", None)
            m = p.get("peak_rss_mb")
            target = "< 4 Go" if p["n_rows"] >= 3_000_000 else ""
            ok = None if (m is None or not target) else m < TARGETS["peak_rss_3m_mb"]
            add(f"Échelle {n} : mémoire maximale", m, _fmt_mb(m), target, ok)
        for g in sc.get("growth", {}).get("import_s", []):
            add(
                f"Croissance import {g['from']:,} → {g['to']:,} (taille ×{g['size_factor']:g})".replace(
                    ",", " "
                ),
                g["time_factor"],
                _fmt_x(g["time_factor"]),
                "≈ linéaire",
                None,
            )
        for g in sc.get("growth", {}).get("departement_warm_s", []):
            add(
                f"Croissance indicateurs département {g['from']:,} → {g['to']:,}".replace(",", " "),
                g["time_factor"],
                _fmt_x(g["time_factor"]),
                "plat / sous-linéaire",
                None,
            )
    return rows


def print_table(results: dict) -> None:
    rows = summary_rows(results)
    mem = {
        k: v.get("peak_rss_mb")
        for k, v in results.get("steps", {}).items()
        if isinstance(v, dict) and v.get("peak_rss_mb") is not None
    }
    width = max((len(r["label"]) for r in rows), default=20)
    print()
    print(f"{'Mesure':<{width}}  {'Médiane':>12}  {'Cible':>20}  ")
    print("-" * (width + 40))
    for r in rows:
        verdict = {True: "ok", False: "HORS CIBLE", None: ""}[r["ok"]]
        print(f"{r['label']:<{width}}  {r['text']:>12}  {r['target']:>20}  {verdict}")
    if mem:
        print(
            "\nMémoire maximale par étape : "
            + ", ".join(f"{k} {_fmt_mb(v)}" for k, v in mem.items())
        )
    m = results.get("machine", {})
    print(
        f"Machine : {m.get('cores')} cœurs, {m.get('memory_gb')} Go, {m.get('cpu_model')}, "
        f"Python {m.get('python')}, DuckDB {m.get('duckdb')}, pandas {m.get('pandas')}; "
        f"charge {results.get('load_average_start')} → {results.get('load_average_end')}"
    )


# =========================================================================== orchestration
def run(
    scale: str = "full",
    only: list[str] | None = None,
    workdir: Path | None = None,
    output: Path | None = None,
    inline: bool = False,
    rebuild: bool = False,
    log: Callable[[str], None] = print,
) -> dict:
    """Run the selected steps and return (and write) the results document."""
    import duckdb
    import generate

    cfg = SCALES[scale]
    selected = [s for s in STEPS if not only or s in only]
    cache = Path(workdir) if workdir else CACHE
    cache.mkdir(parents=True, exist_ok=True)
    work = cache / "work"
    work.mkdir(exist_ok=True)
    demo_db = cache / f"demo_{scale}.duckdb"
    geo_template = cache / f"geo_template_{scale}.duckdb"
    if rebuild:
        for p in (demo_db, geo_template):
            p.unlink(missing_ok=True)

    results: dict = {
        "generated_at": _now(),
        "scale": scale,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": _machine(),
        "load_average_start": _loadavg(),
        "targets": TARGETS,
        "steps": {},
    }
    started = time.perf_counter()
    # A partial run (--only) updates its steps in the results file and keeps the others; every
    # run keeps the keys other benchmarks write there (national, national_history).
    previous: dict = {}
    if output is not None and Path(output).exists():
        try:
            previous = json.loads(Path(output).read_text())
        except (OSError, ValueError):
            previous = {}
    previous_steps: dict = previous.get("steps", {}) if only else {}
    others = {k: v for k, v in previous.items() if k not in results and k != "summary"}

    def save() -> dict:
        """Write what is measured so far: an interrupted run keeps its finished steps."""
        doc = {**results, "steps": {**previous_steps, **results["steps"]}, **others}
        doc["summary"] = summary_rows(doc)
        if output is not None:
            tmp = Path(output).with_name(Path(output).name + ".tmp")
            tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
            tmp.replace(output)
        return doc

    def record(name: str, value: dict) -> None:
        value["measured_at"] = _now()
        value["load_average"] = _loadavg()
        value["git_commit"] = results["machine"].get("git_commit")
        results["steps"][name] = value
        save()

    if "init" in selected and cfg["init_runs"] > 0:
        log(f"[init] ess-diag init --demo × {cfg['init_runs']}…")
        record("init", step_init(cfg, demo_db, work))
    if not demo_db.exists():
        log("Préparation : base de démonstration…")
        build_demo_db(demo_db, cfg["geography"])

    need_files = any(s in selected for s in ("import", "scaling"))
    if need_files:
        con = duckdb.connect(str(demo_db), read_only=True)
        try:
            communes, aliases = generate.load_geography(con)
        finally:
            con.close()
        urssaf_csv = generate.urssaf(communes, cache_dir=cache)
        if not geo_template.exists():
            log("Préparation : base géographique vierge (+ emploi privé URSSAF simulé)…")
            build_geo_template(demo_db, geo_template, urssaf_csv)

        def sirene(n: int):
            log(f"Préparation : fichiers SIRENE de {n:,} lignes (en cache)…".replace(",", " "))
            return generate.sirene(n, communes, aliases, cache_dir=cache)

    base = {
        "repeat": cfg["repeat"],
        "warmup": cfg["warmup"],
        "workdir": str(work),
        "demo_db": str(demo_db),
        "cli_runs": cfg["cli_runs"],
        "epci_sample": cfg["epci_sample"],
        "use_helpers": cfg["use_helpers"],
    }

    if "import" in selected:
        files = sirene(cfg["import_rows"])
        log("[import] import SIRENE et read_csv…")
        spec = {**base, **_file_spec(files), "geo_template": str(geo_template)}
        record("import", run_child("import", spec, inline))
    for step in ("indicators", "all_epci", "pandas"):
        if step in selected:
            log(f"[{step}]…")
            spec = {**base}
            if step == "all_epci":
                spec["repeat"] = cfg["all_epci_repeat"]
            helper_figures = (results["steps"].get("indicators") or {}).get("bench_indicators")
            if step == "pandas" and helper_figures and "speedup_vs_pandas" in helper_figures:
                spec["use_helpers"] = False  # already timed by bench_indicators.run
            value = run_child(step, spec, inline)
            if step == "pandas" and not spec["use_helpers"] and helper_figures:
                _pandas_from_helper(value, helper_figures)
            record(step, value)
    if "page" in selected:
        log("[page] AppTest…")
        spec = {**base, "page_runs": cfg["page_runs"], "page_runs_other": cfg["page_runs_other"]}
        record("page", run_child("page", spec, inline))
    if "scaling" in selected:
        log("[scaling]…")
        ctx = {
            "sirene": sirene,
            "geo_template": geo_template,
            "workdir": work,
            "import_result": results["steps"].get("import"),
        }
        record("scaling", step_scaling(cfg, ctx, inline, log))

    if "sourcing" in selected:
        log("[sourcing]…")
        record("sourcing", run_child("sourcing", {**base}, inline))

    results["total_s"] = round(time.perf_counter() - started, 1)
    results["load_average_end"] = _loadavg()
    return save()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        step, spec_file, out_file = argv[1:4]
        spec = json.loads(Path(spec_file).read_text())
        result = CHILD_STEPS[step](spec)
        Path(out_file).write_text(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description="Benchmarks d'ESS Diag (make bench).")
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument(
        "--only", help=f"étapes séparées par des virgules parmi : {', '.join(STEPS)}"
    )
    parser.add_argument(
        "--workdir", type=Path, help="dossier des données générées (défaut : benchmarks/cache)"
    )
    parser.add_argument("--output", type=Path, help="fichier de résultats JSON")
    parser.add_argument(
        "--inline", action="store_true", help="sans processus enfants (pas de mesure mémoire)"
    )
    parser.add_argument("--rebuild", action="store_true", help="reconstruire les bases en cache")
    parser.add_argument(
        "--repeat", type=int, help="nombre d'exécutions mesurées par chiffre (défaut : 5)"
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="ne rien mesurer : relire le fichier de résultats, refaire son résumé, l'afficher",
    )
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",")] if args.only else None
    if only:
        unknown = sorted(set(only) - set(STEPS))
        if unknown:
            parser.error(f"étape(s) inconnue(s) : {', '.join(unknown)}")
    output = args.output
    if output is None:
        output = (
            HERE / "results.json"
            if args.scale == "full"
            else (args.workdir or CACHE) / f"results-{args.scale}.json"
        )
    if args.report:
        results = json.loads(Path(output).read_text())
        results["summary"] = summary_rows(results)
        Path(output).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        print_table(results)
        return 0
    if args.repeat:
        SCALES[args.scale]["repeat"] = args.repeat
        SCALES[args.scale]["all_epci_repeat"] = args.repeat
    results = run(args.scale, only, args.workdir, output, args.inline, args.rebuild)
    print_table(results)
    print(f"\nRésultats : {output} ({results['total_s']} s)")
    failed = [k for k, v in results["steps"].items() if isinstance(v, dict) and "error" in v]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
