"""The charts' text alternative (ess_diag_ui.a11y): the sentence says what the chart draws, the
table is written the French way, and every chart of the dashboard pages gets both."""

from __future__ import annotations

from pathlib import Path

import indicators_fixtures as fx
import pandas as pd
import pytest
import streamlit as st
from geo_fixture import build_fixture_geography
from streamlit.testing.v1 import AppTest

from ess_diag import figures, indicators, store
from ess_diag_ui import a11y

ROOT = Path(__file__).resolve().parents[1]


def test_describe_names_the_highest_and_lowest():
    table = pd.DataFrame({"famille": ["A", "B", "C"], "emplois": [3.0, 9.0, 1.0]})
    assert a11y.describe("Emplois par famille", table) == (
        "Graphique : Emplois par famille (3 lignes). Valeur la plus élevée de « emplois » : "
        "B (9) ; la plus basse : C (1)."
    )


def test_describe_a_series_gives_first_and_last_year():
    table = pd.DataFrame({"année": [2021, 2022, 2023], "indice ESS": [100.0, 95.6, 102.2]})
    assert a11y.describe("Indice", table) == (
        "Graphique : Indice, de 2021 à 2023. « indice ESS » : 100,0 en 2021, 102,2 en 2023."
    )


def test_describe_without_data():
    assert a11y.describe("Vide", pd.DataFrame({"x": []})) == "Graphique : Vide. Aucune donnée."


@pytest.mark.parametrize(
    ("chart", "column"),
    [
        ("family_chart", "emplois"),
        ("sector_jobs_chart", "emplois ESS"),
        ("sector_share_chart", "part de l'ESS dans le secteur"),
        ("index_chart", "indice ESS"),
    ],
)
def test_value_column_is_the_one_drawn(chart, column):
    con = fx.build()
    doc = indicators.compute(con, "departement", "01", 2023)
    arg = {
        "family_chart": lambda: figures.family_chart(doc["by_family"], doc["jobs_source"]),
        "sector_jobs_chart": lambda: figures.sector_jobs_chart(doc["by_sector"]),
        "sector_share_chart": lambda: figures.sector_share_chart(doc["by_sector"]),
        "index_chart": lambda: figures.index_chart(doc["evolution"]),
    }[chart]()
    assert a11y.value_column(arg.figure, arg.data) == column


def test_format_table_french():
    table = pd.DataFrame(
        {
            "secteur": ["Commerce"],
            "emplois ESS": [1234.0],
            "part de l'ESS": [0.123],
            "année": [2023],
            "indice de spécialisation": [1.25],
        }
    )
    row = a11y.format_table(table).iloc[0].tolist()
    assert row == ["Commerce", "1\u202f234", "12,3\u202f%", "2023", "1,2"]


@pytest.fixture
def db_path(tmp_path) -> Path:
    path = tmp_path / "a11y.duckdb"
    con = store.connect(path)
    build_fixture_geography(con)
    fx.insert_stats(con)
    fx.insert_private(con)
    store.bump_data_version(con)
    con.close()
    return path


@pytest.mark.parametrize("page", ["vue_ensemble.py", "secteurs.py", "ruralite.py", "evolution.py"])
def test_every_chart_has_its_alternative(db_path, monkeypatch, page):
    st.cache_data.clear()
    monkeypatch.setenv("ESS_DIAG_DB", str(db_path))
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=60)
    at.session_state["territory"] = ("departement", "01")
    at.run()
    assert not at.exception, at.exception
    charts = at.get("plotly_chart")
    assert charts
    data_panels = [e for e in at.expander if e.label == "Données du graphique"]
    assert len(data_panels) == len(charts)
    sentences = [c.value for c in at.caption if c.value.startswith("Graphique : ")]
    assert len(sentences) == len(charts)
    st.cache_data.clear()
