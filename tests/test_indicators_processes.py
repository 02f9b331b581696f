"""The figures come from the database alone: not from the order of the nomenclatures in the
running code, not from anything a process kept or wrote beside the base file.

(These replace the tests of the former per-commune array cache and its ``.npy`` files: the
behaviour they guarded — an import is seen at once, a new process gives the same figures — is
checked here on a base file, across processes.)
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest
from geo_fixture import PROJECT_ROOT, build_fixture_geography
from indicators_fixtures import insert_actors, insert_private, insert_stats

from ess_diag import derived, store
from ess_diag import indicators as ind

TERRITORIES = [
    ("commune", "01001"),
    ("commune", "69123"),
    ("epci", "200000002"),
    ("departement", "01"),
    ("region", "84"),
    ("france", "FR"),
]

# Run in a new process: optionally reverse the sector and family tables of nomenclatures
# before the indicators are imported, then print every territory's document as JSON.
_SCRIPT = """
import json, sys
from ess_diag import nomenclatures
if sys.argv[2] == "reversed":
    nomenclatures.SECTORS = tuple(reversed(nomenclatures.SECTORS))
    nomenclatures.FAMILIES = dict(reversed(list(nomenclatures.FAMILIES.items())))
from ess_diag import indicators, store
con = store.connect(sys.argv[1], read_only=True)
docs = {f"{l}:{c}": indicators.compute(con, l, c) for l, c in json.loads(sys.argv[3])}
frames = {l: indicators.compute_all(con, l).to_dict("records") for l in ("commune", "epci")}
print(json.dumps({"docs": docs, "all": frames}, default=str))
"""


def _run(path, order="normal") -> dict:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(path), order, json.dumps(TERRITORIES)],
        capture_output=True, text=True, check=True, env=env, cwd=PROJECT_ROOT,
    )  # fmt: skip
    return json.loads(done.stdout)


def _figures(value, path=""):
    """Every figure of a document by a path that names rows by their key (sector, family,
    year, code…), not by their position: a reordered table must give the same set."""
    out = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(_figures(v, f"{path}/{k}"))
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        for i, row in enumerate(value):
            key = next((row[k] for k in ("sector", "family", "year", "code") if k in row), i)
            out.update(_figures(row, f"{path}[{key}]"))
    else:
        out[path] = value
    return out


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    return a == b


@pytest.fixture
def base(tmp_path):
    path = tmp_path / "base.duckdb"
    con = store.connect(path)
    build_fixture_geography(con)
    insert_stats(con)
    insert_private(con)
    insert_actors(con)
    con.close()
    return path


def test_reordering_nomenclatures_changes_no_figure(base):
    normal, reordered = _run(base), _run(base, "reversed")
    assert normal["docs"].keys() == reordered["docs"].keys()
    for name, doc in normal["docs"].items():
        got, expected = _figures(reordered["docs"][name]), _figures(doc)
        assert got.keys() == expected.keys(), name
        different = [k for k in expected if not _same(got[k], expected[k])]
        assert not different, (name, different[:5])
    # the sector order did change in the reordered process (the test is not vacuous)
    first = lambda r: r["docs"]["departement:01"]["by_sector"]["rows"][0]["sector"]  # noqa: E731
    assert first(normal) != first(reordered)
    for level, rows in normal["all"].items():
        assert len(rows) == len(reordered["all"][level])
        for a, b in zip(rows, reordered["all"][level], strict=True):
            assert all(_same(a[k], b[k]) for k in a), (level, a["code"])


def test_a_second_process_sees_an_import_of_the_first(base, tmp_path):
    before = _run(base)["docs"]["epci:200000002"]
    con = store.connect(base)
    with store.transaction(con):  # what an import does, in one transaction
        con.execute(
            "INSERT INTO private_employment (commune_code, year, sector, establishments, jobs, "
            "source) VALUES ('01004', 2023, 'sante', 1, 100, 'x')"
        )
        store.bump_data_version(con)
        derived.refresh(con)
    in_process = ind.key_figures(con, "epci", "200000002")
    con.close()
    after = _run(base)["docs"]["epci:200000002"]
    assert (before["private_jobs"], after["private_jobs"], in_process["private_jobs"]) == (
        1300.0,
        1400.0,
        1400.0,
    )
    assert after["ess_share_private_jobs"] == in_process["ess_share_private_jobs"] == 250 / 1400
    # Nothing but the database file (and DuckDB's own WAL) beside it.
    assert {p.name for p in tmp_path.iterdir()} <= {"base.duckdb", "base.duckdb.wal"}


def test_an_import_changes_the_figures_at_once(base):
    con = store.connect(base)
    assert ind.key_figures(con, "epci", "200000002")["private_jobs"] == 1300.0
    with store.transaction(con):
        con.execute("DELETE FROM private_employment WHERE commune_code = '01005'")
        store.bump_data_version(con)
        derived.refresh(con)
    assert ind.key_figures(con, "epci", "200000002")["private_jobs"] == 1000.0
    # A writer that forgot the refresh (the data version moved on) is caught up, never stale.
    con.execute("DELETE FROM private_employment WHERE commune_code = '01004'")
    store.bump_data_version(con)
    assert ind.key_figures(con, "epci", "200000002")["private_jobs"] == 0.0
    con.close()


def test_a_base_with_an_older_layout_of_derived_tables_is_refreshed(tmp_path):
    """The stamp carries the layout version: tables written by an older layout are rewritten on
    the first read of a writable base, and a read-only one says so in French."""
    path = tmp_path / "old.duckdb"
    con = store.connect(path)
    build_fixture_geography(con)
    insert_stats(con)
    derived.refresh(con)
    con.execute("DROP TABLE derived_employers")
    con.execute(
        "UPDATE meta SET value = '0:' || (SELECT value FROM meta WHERE key = 'data_version') "
        "WHERE key = 'derived_data_version'"
    )
    con.close()
    ro = store.connect(path, read_only=True)
    try:
        with pytest.raises(ind.IndicatorError, match="lecture seule"):
            ind.compute(ro, "departement", "01")
    finally:
        ro.close()
    con = store.connect(path)
    try:
        assert ind.compute(con, "departement", "01")["resilience"]["employers"] == 0
        assert store.get_meta(con, "derived_data_version").startswith(derived.LAYOUT + ":")
    finally:
        con.close()


def test_compute_all_within_a_territory_holding_none_of_the_level(geo_con, monkeypatch):
    """An island commune outside any EPCI, asked for its EPCI: an empty table, not a crash."""
    insert_stats(geo_con)
    derived.refresh(geo_con)
    monkeypatch.setattr(ind.q, "members_within", lambda st, level, within: [])
    frame = ind.compute_all(geo_con, "epci", within=("commune", "01001"))
    assert frame.empty
    assert list(frame.columns) == [*ind.KEY_FIGURE_COLUMNS, *ind.EXTRA_COLUMNS]
