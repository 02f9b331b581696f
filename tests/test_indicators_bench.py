"""Smoke run of benchmarks/bench_indicators.py on the fixture (the harness must not rot)."""

from __future__ import annotations

import importlib.util

import pandas as pd
from geo_fixture import PROJECT_ROOT, build_fixture_geography
from indicators_fixtures import insert_actors, insert_private, insert_stats

from ess_diag import store

spec = importlib.util.spec_from_file_location(
    "bench_indicators", PROJECT_ROOT / "benchmarks" / "bench_indicators.py"
)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def _db(tmp_path):
    path = tmp_path / "bench.duckdb"
    con = store.connect(path)
    build_fixture_geography(con)
    insert_stats(con)
    insert_private(con)
    insert_actors(con)
    con.close()
    return path


def test_pandas_baseline_matches_hand_values(tmp_path):
    got = bench.pandas_baseline(_db(tmp_path), 2023)
    got = got.set_index("code")[["ess_establishments", "ess_jobs", "private_jobs"]]
    expected = pd.DataFrame(
        {
            "ess_establishments": [3.0, 15.0, 40.0],
            "ess_jobs": [30.0, 250.0, 1000.0],
            "private_jobs": [100.0, 1300.0, 10000.0],
        },
        index=pd.Index(["200000001", "200000002", "200046977"], name="code"),
    )
    pd.testing.assert_frame_equal(got.sort_index(), expected)


def test_run_reports_every_timing(tmp_path):
    results = bench.run(_db(tmp_path), runs=1)
    for level in bench.TERRITORIES:
        for kind in ("rebuild", "cold", "warm"):
            timing = results[f"compute_{level}_{kind}"]
            assert timing["runs"] >= 1 and 0 < timing["min"] <= timing["max"]
    assert results["compute_departement_switch"]["runs"] == 1  # the fixture has two
    assert results["epci_count"] == 3
    assert results["baseline_agrees"] is True
    assert results["speedup_vs_pandas"] > 0
    assert results["cli_departement"]["runs"] >= 1
