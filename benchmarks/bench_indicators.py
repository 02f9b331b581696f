"""Timings of ``ess_diag.indicators`` at national scale, and a plain pandas baseline.

``run(db_path)`` returns a dict of timings (seconds; each ``{"min", "median", "max", "runs"}``):

* ``compute_<level>_rebuild`` — opening the base then the full document of one territory
  (what a new process pays after an import: the derived tables the import wrote are read,
  nothing else is rebuilt — ``indicators`` keeps nothing between calls);
* ``compute_<level>_cold`` — the full document on a connection just opened (DuckDB's buffers
  empty);
* ``compute_<level>_warm`` — the same call again on the same connection;
* ``compute_departement_switch`` — the document of a département not asked for before (the
  dashboard's case when the user picks another territory);
* ``compute_all_epci_rebuild`` / ``_cold`` / ``_warm`` — key figures of every EPCI, the same
  three ways;
* ``cli_departement`` — ``ess-diag indicators --level departement CODE --json`` as a new
  process (start-up included);
* ``pandas_baseline_epci`` — :func:`pandas_baseline`, the same key figures for every EPCI as an
  analyst would write them with pandas (read the tables, merge, group by), and
  ``speedup_vs_pandas`` = baseline median / ``compute_all_epci_warm`` median.

Run it alone: ``python benchmarks/bench_indicators.py data/ess_diag.duckdb``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["run", "pandas_baseline", "TERRITORIES"]

#: The territories timed: a département, an EPCI (Métropole de Lyon) and France.
TERRITORIES = {
    "departement": "69",
    "epci": "200046977",
    "france": "FR",
}


def _stats(samples: list[float]) -> dict:
    return {
        "min": min(samples),
        "median": statistics.median(samples),
        "max": max(samples),
        "runs": len(samples),
    }


def _time(fn: Callable[[], object], runs: int, setup: Callable[[], object] | None = None) -> dict:
    samples = []
    for _ in range(runs):
        if setup:
            setup()
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return _stats(samples)


def pandas_baseline(db_path: str | Path, year: int | None = None):
    """Key figures of every EPCI with plain pandas: the tables are read whole into frames,
    then merged and grouped. Returns the frame (code, ess_establishments, ess_jobs,
    private_jobs, ess_share_private_jobs, jobs_per_1000_inhabitants, women_share) — commune
    statistics only (no SIRENE fallback), as an analyst's script would do."""
    import duckdb
    import pandas as pd

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        stats = con.execute("SELECT * FROM ess_stats").df()
        private = con.execute("SELECT * FROM private_employment").df()
        members = con.execute("SELECT * FROM territory_communes").df()
        territories = con.execute("SELECT * FROM territories").df()
    finally:
        con.close()
    if year is None:
        year = int(min(stats["year"].max(), private["year"].max()))
    commune_stats = stats[
        (stats["level"] == "commune")
        & (stats["year"] == year)
        & stats["family"].isna()
        & stats["sector"].isna()
    ]
    wide = commune_stats.pivot_table(
        index="code", columns="measure", values="value", aggfunc="sum"
    ).reset_index()
    epci = members[members["level"] == "epci"]
    ess = (
        epci.merge(wide, left_on="commune_code", right_on="code", suffixes=("", "_c"))
        .groupby("code")[["etablissements", "effectifs", "effectifs_femmes"]]
        .sum()
    )
    priv = (
        epci.merge(private[private["year"] == year], on="commune_code")
        .groupby("code")["jobs"]
        .sum()
        .rename("private_jobs")
    )
    pop = territories[territories["level"] == "epci"].set_index("code")["population"]
    out = pd.concat([ess, priv, pop], axis=1).fillna({"etablissements": 0, "effectifs": 0})
    out["ess_share_private_jobs"] = out["effectifs"] / out["private_jobs"].where(
        out["private_jobs"] > 0
    )
    out["jobs_per_1000_inhabitants"] = (
        1000 * out["effectifs"] / out["population"].where(out["population"] > 0)
    )
    out["women_share"] = out["effectifs_femmes"] / out["effectifs"].where(out["effectifs"] > 0)
    return (
        out.rename(columns={"etablissements": "ess_establishments", "effectifs": "ess_jobs"})
        .rename_axis("code")
        .reset_index()
    )


def _time_fresh(db_path: Path, fn: Callable, runs: int, with_open: bool) -> dict:
    """``fn(con)`` on a connection opened for each run (the opening timed or not)."""
    from ess_diag import store

    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        con = store.connect(db_path, read_only=True)
        try:
            if not with_open:
                started = time.perf_counter()
            fn(con)
            samples.append(time.perf_counter() - started)
        finally:
            con.close()
    return _stats(samples)


def run(db_path: str | Path, runs: int = 5) -> dict:
    """Time the indicators on ``db_path`` (opened read-only). See the module docstring."""
    from ess_diag import indicators, store

    db_path = Path(db_path)
    con = store.connect(db_path, read_only=True)
    results: dict[str, object] = {"db": str(db_path)}
    try:
        year = indicators.default_year(con)
        results["year"] = year
        rebuild_runs = max(1, runs // 2)
        for level, code in TERRITORIES.items():
            indicators.compute(con, level, code)  # warm-up (and sanity: it must not raise)

            def call(level=level, code=code):
                return indicators.compute(con, level, code)

            def fresh(c, level=level, code=code):
                return indicators.compute(c, level, code)

            results[f"compute_{level}_rebuild"] = _time_fresh(db_path, fresh, rebuild_runs, True)
            results[f"compute_{level}_cold"] = _time_fresh(db_path, fresh, runs, False)
            call()
            results[f"compute_{level}_warm"] = _time(call, runs)

        codes = [
            r[0]
            for r in con.execute(
                "SELECT code FROM territories WHERE level = 'departement' ORDER BY code"
            ).fetchall()
        ]
        others = [c for c in codes if c != TERRITORIES["departement"]][: min(runs * 2, 20)]
        pending = iter(others)
        results["compute_departement_switch"] = _time(
            lambda: indicators.compute(con, "departement", next(pending)), len(others)
        )

        def every_epci():
            return indicators.compute_all(con, "epci")

        def every_epci_fresh(c):
            return indicators.compute_all(c, "epci")

        results["compute_all_epci_rebuild"] = _time_fresh(db_path, every_epci_fresh,
                                                          rebuild_runs, True)  # fmt: skip
        results["compute_all_epci_cold"] = _time_fresh(db_path, every_epci_fresh, runs, False)
        frame = every_epci()
        results["epci_count"] = len(frame)
        results["compute_all_epci_warm"] = _time(every_epci, runs)
        call = None
    finally:
        con.close()
    dep = TERRITORIES["departement"]
    cli = [sys.executable, "-m", "ess_diag.cli", "indicators", "--level", "departement", dep]
    cli += ["--json", "--db", str(db_path)]
    results["cli_departement"] = _time(
        lambda: subprocess.run(cli, check=True, capture_output=True), max(1, runs // 2)
    )
    baseline = pandas_baseline(db_path, year)
    results["pandas_baseline_epci"] = _time(lambda: pandas_baseline(db_path, year), runs)
    # Same figures both ways (commune statistics): a speed ratio of two different answers
    # would mean nothing.
    merged = frame.merge(baseline, on="code", suffixes=("", "_pandas"))
    stat = merged["jobs_source"] == "statistiques"
    results["baseline_agrees"] = bool(
        ((merged["ess_jobs"] - merged["ess_jobs_pandas"]).abs()[stat] < 1e-6).all()
    )
    results["speedup_vs_pandas"] = (
        results["pandas_baseline_epci"]["median"] / results["compute_all_epci_warm"]["median"]
    )
    return results


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "data/ess_diag.duckdb"
    print(json.dumps(run(target), indent=2, ensure_ascii=False))
