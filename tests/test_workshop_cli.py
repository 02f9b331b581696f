"""``ess-diag atelier list|export``: the synthesis files written from the command line."""

from __future__ import annotations

import json

import pytest
from workshop_fixtures import drive_session, seed_territory

from ess_diag import cli, store


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "atelier.duckdb"
    con = store.connect(path)
    seed_territory(con)
    session, people, ids = drive_session(con)
    con.close()
    return path, session


def test_atelier_list_json(db, capsys):
    path, session = db
    assert cli.main(["atelier", "list", "--json", "--db", str(path)]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed == [
        {
            "join_code": session.join_code,
            "title": "Atelier ESS de l'Ain",
            "territory": {"level": "departement", "code": "01"},
            "date": "2026-11-23",
            "place": "Salle des fêtes",
            "participants": 3,
            "contributions": 19,
            "hidden": 0,
            "merged": 1,
            "votes": 6,
        }
    ]


def test_atelier_export_writes_three_files(db, tmp_path, capsys):
    path, session = db
    out = tmp_path / "synthese"
    code = session.join_code.lower()
    assert cli.main(["atelier", "export", code, "--out", str(out), "--db", str(path)]) == 0
    names = sorted(p.name for p in out.iterdir())
    stem = "synthese-2026-11-23-atelier-ess-de-l-ain"
    assert names == [f"{stem}.html", f"{stem}.pdf", f"{stem}.xlsx"]
    assert (out / f"{stem}.pdf").read_bytes().startswith(b"%PDF")
    assert capsys.readouterr().out.splitlines() == [
        str(out / f"{stem}.{ext}") for ext in ("html", "pdf", "xlsx")
    ]


@pytest.mark.parametrize(
    ("argv", "rc", "message"),
    [
        (["atelier", "export"], 2, "indiquez le code de l'atelier"),
        (["atelier", "export", "ZZZZZZ"], 1, "Aucun atelier en cours avec le code « ZZZZZZ »"),
    ],
)
def test_atelier_export_errors(db, capsys, argv, rc, message):
    path, session = db
    assert cli.main([*argv, "--db", str(path)]) == rc
    assert message in capsys.readouterr().err
