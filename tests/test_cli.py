"""The ess-diag command: init and territories (the contract scripts rely on: exit codes, JSON)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from geo_fixture import build_fixture_geography

from ess_diag import cli, geography, store


@pytest.fixture
def small_build(monkeypatch):
    """`init` builds the fixture geography instead of all of France (fast)."""
    monkeypatch.setattr(geography, "build", lambda con, progress=None: _fixture(con))


def _fixture(con):
    build_fixture_geography(con)
    return dict(con.execute("SELECT level, count(*) FROM territories GROUP BY level").fetchall())


def _meta(path, key):
    con = store.connect(path, read_only=True)
    try:
        return store.get_meta(con, key)
    finally:
        con.close()


def test_init_empty_then_if_missing_keeps_the_file(small_build, tmp_path, capsys):
    db = tmp_path / "x.duckdb"
    assert cli.main(["init", "--empty", "--quiet", "--db", str(db)]) == 0
    assert _meta(db, "demo") == "0"
    before = db.stat().st_mtime_ns
    assert cli.main(["init", "--if-missing", "--db", str(db)]) == 0
    assert db.stat().st_mtime_ns == before
    assert "rien à faire" in capsys.readouterr().out


def test_init_demo_then_empty_removes_demo_in_place(small_build, tmp_path):
    db = tmp_path / "x.duckdb"
    assert cli.main(["init", "--demo", "--quiet", "--db", str(db)]) == 0
    assert _meta(db, "demo") == "1"
    con = store.connect(db, read_only=True)
    n_demo = con.execute("SELECT count(*) FROM actors WHERE source = 'demo'").fetchall()[0][0]
    con.close()
    assert n_demo > 0
    assert cli.main(["init", "--empty", "--db", str(db)]) == 0
    con = store.connect(db, read_only=True)
    assert con.execute("SELECT count(*) FROM actors WHERE source = 'demo'").fetchall() == [(0,)]
    assert store.get_meta(con, "demo") == "0"
    con.close()


def test_init_force_keeps_a_dated_backup(small_build, tmp_path):
    db = tmp_path / "x.duckdb"
    assert cli.main(["init", "--empty", "--quiet", "--db", str(db)]) == 0
    assert cli.main(["init", "--empty", "--force", "--quiet", "--db", str(db)]) == 0
    backups = list(tmp_path.glob("x-*.duckdb.bak"))
    assert len(backups) == 1 and db.exists()


def test_territories_json_within_a_parent(small_build, tmp_path, capsys):
    db = tmp_path / "x.duckdb"
    cli.main(["init", "--empty", "--quiet", "--db", str(db)])
    capsys.readouterr()
    code = cli.main(
        [
            "territories",
            "--level",
            "epci",
            "--parent-level",
            "departement",
            "--parent",
            "01",
            "--json",
            "--db",
            str(db),
        ]
    )
    assert code == 0
    records = json.loads(capsys.readouterr().out)
    assert [(r["code"], r["name"], r["population"]) for r in records] == [
        ("200000002", "CA de la Ville", 17000),
        ("200000001", "CC du Bocage", 1000),
    ]
    assert records[0]["level"] == "epci" and records[0]["departement_code"] == "01"


def test_territories_parent_options_go_together(small_build, tmp_path, capsys):
    db = tmp_path / "x.duckdb"
    cli.main(["init", "--empty", "--quiet", "--db", str(db)])
    assert cli.main(["territories", "--level", "epci", "--parent", "01", "--db", str(db)]) == 2
    assert "vont ensemble" in capsys.readouterr().err


def test_cli_on_all_of_france(national_db):
    """The acceptance figures of issue 2, through the installed console script."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ess_diag.cli",
            "territories",
            "--level",
            "departement",
            "--json",
            "--db",
            str(national_db),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    deps = json.loads(out)
    assert len(deps) == 101
    assert {"level", "code", "name", "population"} <= set(deps[0])
    epci = json.loads(
        subprocess.run(
            [
                sys.executable,
                "-m",
                "ess_diag.cli",
                "territories",
                "--level",
                "epci",
                "--json",
                "--db",
                str(national_db),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert 1200 <= len(epci) <= 1300
    assert sum(r["population"] for r in epci) <= sum(r["population"] for r in deps)
