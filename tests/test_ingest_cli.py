"""`ess-diag import`, `ess-diag imports list|undo`: exit codes and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from geo_fixture import build_fixture_geography

from ess_diag import cli, nomenclatures, store

FIX = Path(__file__).resolve().parent / "fixtures" / "sirene"
UL = FIX / "StockUniteLegale_extrait.csv"
ETAB = FIX / "StockEtablissement_extrait.csv"


@pytest.fixture
def db_path(tmp_path) -> str:
    path = tmp_path / "cli.duckdb"
    con = store.connect(path)
    build_fixture_geography(con)
    nomenclatures.register(con)
    con.close()
    return str(path)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def count(db_path: str, table: str) -> int:
    con = store.connect(db_path, read_only=True)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]  # noqa: S608
    finally:
        con.close()


def test_import_json_then_list_and_undo(db_path, capsys):
    code, out, _ = run(capsys, "import", str(UL), str(ETAB), "--json", "--db", db_path)
    assert code == 0
    report = json.loads(out)
    assert report["status"] == "committed"
    assert report["rows_read"] == 24 and report["rows_loaded"] == 24
    assert report["rows_set_aside"] == 0 and report["set_aside"] == []
    assert report["unresolved_communes"] == []
    assert [f["format"] for f in report["files"]] == [
        "sirene_unites_legales",
        "sirene_etablissements",
    ]
    import_id = report["import_id"]
    assert count(db_path, "actors") == 13

    code, out, _ = run(capsys, "imports", "list", "--json", "--db", db_path)
    assert code == 0
    history = json.loads(out)
    assert [(h["import_id"], h["status"]) for h in history] == [(import_id, "committed")]
    assert [f["name"] for f in history[0]["files"]] == [UL.name, ETAB.name]

    code, out, _ = run(capsys, "imports", "list", "--db", db_path)
    assert code == 0 and import_id in out and "1 import(s)." in out

    code, out, _ = run(capsys, "imports", "undo", import_id, "--db", db_path)
    assert code == 0 and "annulé" in out
    assert count(db_path, "actors") == 0
    code, _, err = run(capsys, "imports", "undo", import_id, "--db", db_path)
    assert code == 1 and "déjà été annulé" in err


def test_dry_run_writes_nothing(db_path, capsys):
    code, out, _ = run(capsys, "import", str(UL), "--dry-run", "--json", "--db", db_path)
    assert code == 0
    assert json.loads(out)["status"] == "dry-run"
    assert count(db_path, "unites_legales") == 0
    assert count(db_path, "imports") == 0


def test_rejected_import_exits_1_with_french_text(db_path, capsys, tmp_path):
    bad = tmp_path / "vide.csv"
    bad.write_bytes(b"")
    code, out, _ = run(capsys, "import", str(bad), "--db", db_path)
    assert code == 1
    assert "Import refusé : la base n'a pas été modifiée." in out
    assert "« vide.csv » est vide" in out
    code, out, _ = run(capsys, "import", str(bad), "--json", "--db", db_path)
    assert code == 1 and json.loads(out)["status"] == "rejected"


def test_kind_forces_format(db_path, capsys):
    code, out, _ = run(
        capsys, "import", str(UL), "--kind", "sirene_etablissements", "--json", "--db", db_path
    )
    assert code == 1
    errors = json.loads(out)["errors"]
    assert "il y manque les colonnes siret, codeCommuneEtablissement" in errors[0]
    code, out, _ = run(capsys, "import", str(UL), "--kind", "inconnu", "--json", "--db", db_path)
    assert code == 1 and "Format « inconnu » inconnu" in json.loads(out)["errors"][0]


def test_undo_without_id(db_path, capsys):
    code, _, err = run(capsys, "imports", "undo", "--db", db_path)
    assert code == 2 and "identifiant" in err
