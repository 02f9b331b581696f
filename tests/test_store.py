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
