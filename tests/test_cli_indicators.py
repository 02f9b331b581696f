"""`ess-diag indicators`: the JSON document, its documentation, errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from geo_fixture import PROJECT_ROOT, build_fixture_geography
from indicators_fixtures import insert_actors, insert_private, insert_stats

from ess_diag import cli, store

METHODOLOGY = PROJECT_ROOT / "docs" / "methodologie.md"
#: Keys of the document that every consumer may rely on (issue 3).
REQUIRED = {
    "territory",
    "year",
    "ess_establishments",
    "ess_jobs",
    "private_jobs",
    "ess_share_private_jobs",
    "jobs_per_1000_inhabitants",
    "women_share",
    "jobs_source",
    "by_family",
    "by_sector",
    "rural",
    "evolution",
    "resilience",
    "comparisons",
    "zones_blanches",
}


@pytest.fixture(scope="module")
def db_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "fixture.duckdb"
    con = store.connect(path)
    build_fixture_geography(con)
    insert_stats(con)
    insert_private(con)
    insert_actors(con)
    con.close()
    return path


def run(capsys, *args) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def all_keys(value, path="") -> set[str]:
    """Every key of the document, recursively (the reasons inside ``notes`` are free text)."""
    keys: set[str] = set()
    if isinstance(value, dict):
        for key, sub in value.items():
            keys.add(key)
            if key != "notes":
                keys |= all_keys(sub)
    elif isinstance(value, list):
        for item in value:
            keys |= all_keys(item)
    return keys


@pytest.fixture(scope="module")
def document(db_path) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ess_diag.cli",
            "indicators",
            "--level",
            "departement",
            "01",
            "--json",
            "--db",
            str(db_path),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
    ).stdout
    return json.loads(out)


def test_json_document_for_a_departement(document):
    assert REQUIRED <= set(document)
    assert document["territory"] == {
        "level": "departement",
        "code": "01",
        "name": "Ain",
        "population": 18000,
    }
    # département 01 in 2023: 3 + 0 + 10 + 5 establishments, 30 + 200 + 50 jobs (fixtures)
    assert (document["year"], document["ess_establishments"], document["ess_jobs"]) == (
        2023,
        18,
        280.0,
    )
    assert (document["private_jobs"], document["ess_share_private_jobs"]) == (1400.0, 0.2)
    assert document["jobs_source"] == "statistiques"
    assert isinstance(document["ess_establishments"], int)
    assert [p["code"] for p in document["comparisons"]["parents"]] == ["84", "FR"]


def test_every_key_is_documented(document):
    text = METHODOLOGY.read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_0-9]+)`", text))
    missing = sorted(all_keys(document) - documented)
    assert missing == [], f"clés absentes de docs/methodologie.md : {missing}"


def test_document_has_no_nan(document):
    text = json.dumps(document, allow_nan=False)
    assert "NaN" not in text


def test_summary_in_french(db_path, capsys):
    code, out, _ = run(capsys, "indicators", "--level", "epci", "200000001", "--db", str(db_path))
    assert code == 0
    assert "CC du Bocage" in out
    assert "Emplois de l'ESS : 30 (source : statistiques importées)" in out
    assert "Part de l'ESS dans l'emploi privé : 30,0\u202f%" in out


def test_france_code_defaults_to_fr(db_path, capsys):
    code, out, _ = run(capsys, "indicators", "--level", "france", "--json", "--db", str(db_path))
    assert code == 0
    assert json.loads(out)["territory"]["code"] == "FR"


def test_year_option(db_path, capsys):
    code, out, _ = run(
        capsys,
        "indicators",
        "--level",
        "commune",
        "01001",
        "--year",
        "2021",
        "--json",
        "--db",
        str(db_path),
    )
    doc = json.loads(out)
    assert (code, doc["year"], doc["ess_jobs"], doc["private_jobs"]) == (0, 2021, 24.0, 90.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--level", "departement", "99"], "Territoire inconnu"),
        (["--level", "region", "01"], "Territoire inconnu"),
        (["--level", "epci"], "indiquez le code"),
    ],
)
def test_errors_are_explained(db_path, capsys, args, message):
    code, out, err = run(capsys, "indicators", *args, "--db", str(db_path))
    assert code in (1, 2)
    assert message in err
    assert out == ""
