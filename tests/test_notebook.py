"""The worked example notebook runs from top to bottom on a fixture database."""

from __future__ import annotations

import pytest
from geo_fixture import PROJECT_ROOT, build_fixture_geography
from indicators_fixtures import insert_actors, insert_private, insert_stats

from ess_diag import store

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = PROJECT_ROOT / "notebooks" / "diagnostic_exemple.ipynb"


def test_notebook_runs_and_exports(tmp_path, monkeypatch):
    db = tmp_path / "fixture.duckdb"
    con = store.connect(db)
    build_fixture_geography(con)
    insert_stats(con)
    insert_private(con)
    insert_actors(con)
    con.close()
    export = tmp_path / "exports"
    # The kernel inherits the environment: the notebook reads these three variables.
    monkeypatch.setenv("ESS_DIAG_DB", str(db))
    monkeypatch.setenv("ESS_DIAG_NIVEAU", "departement")
    monkeypatch.setenv("ESS_DIAG_CODE", "01")
    monkeypatch.setenv("ESS_DIAG_EXPORT", str(export))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    text = "\n".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )
    assert "Ain — 18\u202f000 habitants — année 2023" in text
    assert "Emplois de l'ESS : 280 (statistiques)" in text
    assert "Part de l'ESS dans l'emploi privé : 20,0\u202f%" in text
    assert sorted(p.name for p in export.iterdir()) == [
        "comparaisons.csv",
        "diagnostic_departement_01.xlsx",
        "evolution.csv",
        "familles.csv",
        "secteurs.csv",
        "tous_departement.csv",
    ]
    secteurs = (export / "secteurs.csv").read_text(encoding="utf-8-sig").splitlines()
    assert secteurs[0].startswith("sector;label;establishments;jobs;share_jobs")
