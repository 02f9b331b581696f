"""The benchmark harness at its smallest scale, so that ``make bench`` does not rot.

Not a timing test: it checks that the generated SIRENE files follow INSEE's layout and are
reproducible, that every step runs and writes its figures, and that the pandas baseline
computes the same numbers as ``indicators.compute_all`` (a benchmark of a wrong answer would be
no benchmark).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench_run = _load("run")
generate = _load("generate")


def _luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _tiny_geography():
    communes = pd.DataFrame(
        {
            "code": ["01001", "01004", "13055", "97411"],
            "name": ["L'Abergement-Clémenciat", "Ambérieu-en-Bugey", "Marseille", "Saint-Denis"],
            "population": [800, 15000, 870000, 150000],
            "lon": [4.92, 5.36, 5.37, 55.45],
            "lat": [46.15, 45.96, 43.3, -20.88],
            "departement_code": ["01", "01", "13", "974"],
        }
    )
    aliases = pd.DataFrame(
        {
            "code": ["01099", "13201", "13202"],
            "commune_code": ["01001", "13055", "13055"],
            "kind": ["COMD", "ARM", "ARM"],
        }
    )
    return communes, aliases


@pytest.fixture(scope="module")
def sirene_files(tmp_path_factory):
    communes, aliases = _tiny_geography()
    return generate.sirene(3000, communes, aliases, cache_dir=tmp_path_factory.mktemp("gen"))


def _rows(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def test_sirene_files_follow_insee_layout(sirene_files):
    header, rows = _rows(sirene_files.etablissements)
    assert header == list(generate.ETABLISSEMENT_COLUMNS)
    assert len(header) == 53
    assert len(rows) == 3000
    ul_header, units = _rows(sirene_files.unites_legales)
    assert ul_header == list(generate.UNITE_LEGALE_COLUMNS)
    assert len(units) == sirene_files.n_units
    # The first unit's SIREN starts with 0: identifiers are text, leading zeros kept.
    assert rows[0]["siren"] == "012345674"
    sirets = [r["siret"] for r in rows]
    assert len(set(sirets)) == len(sirets)
    for r in rows:
        assert r["siret"] == r["siren"] + r["nic"]
        assert len(r["siret"]) == 14 and r["siret"].isdigit() and _luhn_ok(r["siret"])
        assert _luhn_ok(r["siren"])
    assert {r["siren"] for r in rows} == {u["siren"] for u in units}


def test_sirene_values_are_realistic(sirene_files):
    _, rows = _rows(sirene_files.etablissements)
    places = {r["codeCommuneEtablissement"] for r in rows}
    assert places <= {"01001", "01004", "97411", "01099", "13201", "13202", ""}
    # Marseille establishments carry their arrondissement, as in the INSEE stock.
    assert "13055" not in places and {"13201", "13202"} <= places
    assert {r["etatAdministratifEtablissement"] for r in rows} == {"A", "F"}
    partial = [r for r in rows if r["statutDiffusionEtablissement"] == "P"]
    assert partial and all(r["libelleVoieEtablissement"] == "[ND]" for r in partial)
    # No Lambert 93 coordinates overseas (INSEE uses local projections there).
    overseas = [r for r in rows if r["codeCommuneEtablissement"] == "97411"]
    assert overseas
    assert {r["coordonneeLambertAbscisseEtablissement"] for r in overseas} <= {"", "[ND]"}
    bands = {r["trancheEffectifsEtablissement"] for r in rows}
    assert {"NN", "01", "02"} <= bands


def test_generation_is_reproducible_and_cached(sirene_files, tmp_path):
    communes, aliases = _tiny_geography()
    again = generate.sirene(3000, communes, aliases, cache_dir=tmp_path)
    assert again.etablissements.read_bytes() == sirene_files.etablissements.read_bytes()
    assert again.unites_legales.read_bytes() == sirene_files.unites_legales.read_bytes()
    mtime = again.etablissements.stat().st_mtime_ns
    cached = generate.sirene(3000, communes, aliases, cache_dir=tmp_path)
    assert cached.etablissements.stat().st_mtime_ns == mtime
    assert cached.n_units == again.n_units


def test_urssaf_table_has_ten_years_of_columns(tmp_path):
    communes, _ = _tiny_geography()
    path = generate.urssaf(communes, cache_dir=tmp_path)
    frame = pd.read_csv(path, sep=";", dtype=str)
    years = sorted({int(c.rsplit(" ", 1)[1]) for c in frame.columns if c[-4:].isdigit()})
    assert years == list(range(2015, 2025))
    assert set(frame["Code commune"]) <= set(communes["code"])


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([3.0, 1.0, 2.0], {"n": 3, "min": 1.0, "median": 2.0, "max": 3.0}),
        ([1.0, 4.0], {"n": 2, "min": 1.0, "median": 2.5, "max": 4.0}),
        ([], {"n": 0, "min": None, "median": None, "max": None}),
    ],
)
def test_summarize(values, expected):
    out = bench_run.summarize(values)
    assert {k: out[k] for k in expected} == expected
    assert out["runs"] == values


def test_smoke_run_of_every_step(tmp_path, capsys):
    output = tmp_path / "results.json"
    steps = ["import", "indicators", "all_epci", "pandas", "scaling", "sourcing"]
    results = bench_run.run("smoke", steps, tmp_path, output, inline=True, log=lambda _msg: None)
    assert json.loads(output.read_text())["scale"] == "smoke"
    assert set(results["steps"]) == set(steps)
    for name, step in results["steps"].items():
        assert "error" not in step, name
    imp = results["steps"]["import"]
    assert imp["n_rows"] == 1000 and imp["rows_loaded"] > 0
    assert imp["import_s"]["n"] == 1 and imp["ratio"] > 0
    ind = results["steps"]["indicators"]
    assert ind["territories"] == [["departement", "69"], ["epci", "200046977"], ["france", "FR"]]
    # The pandas baseline computes the same ESS jobs as the package.
    assert results["steps"]["pandas"]["max_abs_diff_ess_jobs_departements"] == 0
    scaling = results["steps"]["scaling"]
    assert [p["n_rows"] for p in scaling["points"]] == [300, 1000]
    assert [(g["from"], g["to"], g["size_factor"]) for g in scaling["growth"]["import_s"]] == [
        (300, 1000, 3.33)
    ]
    machine = results["machine"]
    assert machine["cores"] >= 1 and machine["duckdb"] and machine["pandas"]
    labels = [row["label"] for row in results["summary"]]
    assert "  idem / read_csv DuckDB" in labels
    src = results["steps"]["sourcing"]
    assert src["sourcing_s"]["n"] == 12 * len(src["sites"]) and src["sites"]
    assert src["worst_case"]["structures_found"] >= 0
    assert any(label.startswith("Acheter à l'ESS") for label in labels)
    bench_run.print_table(results)
    assert "Médiane" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("stats", "expected"),
    [
        (
            {"min": 0.01, "median": 0.02, "max": 0.05, "runs": 5},
            {"n": 5, "min": 0.01, "median": 0.02, "max": 0.05},
        ),
        (
            {"min": 1, "median": 2, "max": 3, "runs": [1, 2, 3]},
            {"n": 3, "min": 1.0, "median": 2.0, "max": 3.0},
        ),
        (True, True),
    ],
)
def test_helper_figures_are_converted(stats, expected):
    assert bench_run._convert(stats) == expected
