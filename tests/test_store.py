"""The store: migrations, version checks, transactions, friendly errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from ess_diag import store


def test_new_database_has_schema_version(tmp_path):
    con = store.connect(tmp_path / "a.duckdb")
    assert store.get_meta(con, "schema_version") == str(store.SCHEMA_VERSION)
    assert store.table_exists(con, "actors")
    con.close()


def test_database_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "b.duckdb"
    con = store.connect(path)
    store.set_meta(con, "schema_version", str(store.SCHEMA_VERSION + 1))
    con.close()
    with pytest.raises(store.StoreError, match="version plus récente"):
        store.connect(path)


def test_base_of_an_earlier_version_opened_for_reading_is_brought_up_to_date(tmp_path):
    # As a base built before migration 6 (sourcing columns) and 7 (plan tables) looks.
    path = tmp_path / "old.duckdb"
    con = store.connect(path)
    con.execute("ALTER TABLE actors DROP COLUMN inclusive_kind")
    con.execute("DROP TABLE plan_actions")
    store.set_meta(con, "schema_version", "5")
    con.close()
    con = store.connect(path, read_only=True)
    assert store.get_meta(con, "schema_version") == str(store.SCHEMA_VERSION)
    assert con.execute("SELECT count(inclusive_kind) FROM actors").fetchall() == [(0,)]
    assert store.table_exists(con, "plan_actions")
    con.close()


def test_base_of_an_earlier_version_held_by_another_program_gets_a_french_message(tmp_path):
    path = tmp_path / "held.duckdb"
    con = store.connect(path)
    store.set_meta(con, "schema_version", "5")
    con.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(path)!r}); "
         "print('ok', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        with pytest.raises(store.StoreError, match="autre programme"):
            store.connect(path, read_only=True)
    finally:
        holder.kill()
        holder.wait()


def test_transaction_rolls_back_everything(tmp_path):
    con = store.connect(tmp_path / "c.duckdb")
    with pytest.raises(RuntimeError):
        with store.transaction(con):
            store.set_meta(con, "k", "v")
            raise RuntimeError("boom")
    assert store.get_meta(con, "k") is None
    con.close()


def test_data_version_bumps(tmp_path):
    con = store.connect(":memory:")
    assert store.data_version(con) == 0
    assert store.bump_data_version(con) == 1
    assert store.data_version(con) == 1


def test_quote_identifier():
    assert store.quote_identifier('a"b') == '"a""b"'


def test_locked_file_gives_a_french_message(tmp_path):
    path = tmp_path / "locked.duckdb"
    store.connect(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import duckdb, sys, time
                con = duckdb.connect({str(path)!r})
                print("ready", flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(store.StoreError, match="déjà ouverte"):
            store.connect(path)
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
