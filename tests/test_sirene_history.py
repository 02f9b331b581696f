"""SIRENE history files → yearly ESS employer establishments (issue 13): the hand-computed
fixture of ``history_fixtures``, additivity, the JSON contract, refusals and undo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from geo_fixture import build_fixture_geography
from history_fixtures import EXPECTED_WITH_UNITS, YEARS, expected_rows, write_files
from ingest_helpers import snapshot

from ess_diag import cli, indicators, nomenclatures, store
from ess_diag.formatting import escape
from ess_diag.ingest import Reason, inspect_file, run_import, undo_import

HISTORY_SQL = (
    "SELECT commune_code, year, family, sector, establishments FROM sirene_history "
    "WHERE commune_code IS NOT NULL ORDER BY ALL"
)


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    return write_files(tmp_path)


@pytest.fixture
def db(geo_con, files):
    """The fixture geography with the current stock (units and establishments) imported."""
    report = run_import(geo_con, [files["ul"], files["etab"]])
    assert report.status == "committed", report.errors
    return geo_con


def _by_year(con, level: str, code: str) -> dict[int, int]:
    return {r["year"]: r["establishments"] for r in indicators.sirene_history(con, level, code)}


def test_files_are_recognised_by_their_header(files):
    assert inspect_file(files["etab_hist"]).format == "sirene_historique_etablissements"
    # The unit history shares many columns with the stock of units: told apart all the same.
    assert inspect_file(files["ul_hist"]).format == "sirene_historique_unites_legales"
    assert inspect_file(files["ul"]).format == "sirene_unites_legales"
    assert inspect_file(files["etab"]).format == "sirene_etablissements"


def test_yearly_counts_by_commune_family_and_sector(db, files):
    report = run_import(db, [files["etab_hist"], files["ul_hist"]])
    assert report.status == "committed", report.errors
    assert db.execute(HISTORY_SQL).fetchall() == expected_rows(with_units=True)
    # One row per covered year says which years the history covers.
    assert [
        y for (y,) in db.execute("SELECT DISTINCT year FROM sirene_history ORDER BY 1").fetchall()
    ] == YEARS
    assert report.counts["historique_annees"] == [2008, 2022]
    assert report.counts["historique_ess_par_annee"] == {
        "2008": 2, "2009": 2, "2010": 2, "2011": 3, "2012": 4, "2013": 5, "2014": 5,
        "2015": 4, "2016": 4, "2017": 3, "2018": 3, "2019": 3, "2020": 3, "2021": 3, "2022": 3,
    }  # fmt: skip


def test_without_the_unit_history_the_current_unit_classifies(db, files):
    """The unit that was an association until 2015 is a SAS today: without the unit history it
    never counts; everything else is the same."""
    report = run_import(db, [files["etab_hist"]])
    assert report.status == "committed", report.errors
    assert db.execute(HISTORY_SQL).fetchall() == expected_rows(with_units=False)


def test_nothing_is_dropped_silently(db, files):
    report = run_import(db, [files["etab_hist"], files["ul_hist"]])
    aside = {(s.file, s.reason, s.column): (s.count, s.rows, s.example) for s in report.set_aside}
    name = files["etab_hist"].name
    assert aside == {
        (name, "SIRET invalide (14 chiffres attendus)", "siret"): (1, [17], "siret = « 1234 »"),
        (name, "Date de début illisible (AAAA-MM-JJ attendu)", "dateDebut"): (
            1,
            [18],
            "dateDebut = « 2015-13-01 »",
        ),
        (
            name,
            "Établissement de l'ESS absent du stock des établissements chargé : commune "
            "inconnue, non compté",
            "siret",
        ): (1, [16], "siret = « 20000000100045 »"),
    }
    assert report.counts["historique_ess_hors_stock"] == 1
    assert any("20000000100045" in w for w in report.warnings)
    assert report.rows_set_aside == 3
    assert report.rows_loaded == report.rows_read - 3


def test_sum_of_communes_equals_departement_region_and_france(db, files):
    run_import(db, [files["etab_hist"], files["ul_hist"]])
    communes = ["01001", "01002", "01004", "01005", "69123"]
    per_commune = {c: _by_year(db, "commune", c) for c in communes}
    dep01 = _by_year(db, "departement", "01")
    france = indicators.sirene_history(db, "france", "FR")
    for row in france:
        year = row["year"]
        assert row["establishments"] == sum(per_commune[c][year] for c in communes)
        assert dep01[year] == sum(per_commune[c][year] for c in communes if c.startswith("01"))
        assert _by_year(db, "region", "84")[year] == row["establishments"]
        assert sum(row["by_family"].values()) == row["establishments"]
    # Hand-computed: every (commune, family, sector) row counts one establishment per year.
    for year in YEARS:
        expected = sum(year in ys for ys in EXPECTED_WITH_UNITS.values())
        assert next(r for r in france if r["year"] == year)["establishments"] == expected
    assert [r["by_family"]["cooperative"] for r in france] == [1] * len(YEARS)


def test_json_contract(db, files):
    run_import(db, [files["etab_hist"], files["ul_hist"]])
    doc = indicators.compute(db, "departement", "01")
    history = doc["sirene_history"]
    assert [r["year"] for r in history] == YEARS  # oldest first, every covered year
    assert set(history[0]) == {"year", "establishments", "by_family"}
    assert set(history[0]["by_family"]) == set(nomenclatures.FAMILIES)
    assert history[0] == {
        "year": 2008,
        "establishments": 2,
        "by_family": {
            "association": 1, "cooperative": 1, "mutuelle": 0, "fondation": 0,
            "societe_commerciale": 0,
        },
    }  # fmt: skip
    # Lyon's establishment counted 2011–2014 only: years without one are 0, not missing.
    lyon = indicators.sirene_history(db, "commune", "69123")
    assert [r["establishments"] for r in lyon] == [0, 0, 0, 1, 1, 1, 1] + [0] * 8


def test_cli_json_has_the_series(tmp_path, files, capsys):
    path = tmp_path / "h.duckdb"
    con = store.connect(path)
    build_fixture_geography(con)
    assert run_import(con, [files["ul"], files["etab"]]).status == "committed"
    con.close()
    assert (
        cli.main(["import", str(files["etab_hist"]), str(files["ul_hist"]), "--db", str(path)]) == 0
    )
    capsys.readouterr()
    assert cli.main(["indicators", "--level", "commune", "01005", "--json", "--db", str(path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(r["year"], r["establishments"]) for r in doc["sirene_history"]] == [
        (y, 1 if y >= 2014 else 0) for y in YEARS
    ]


def test_empty_list_without_history(db):
    assert indicators.compute(db, "commune", "01001")["sirene_history"] == []
    assert indicators.sirene_history(db, "france", "FR") == []


def test_undo_restores_and_reimport_replaces(db, files):
    before = snapshot(db)
    before_history = db.execute("SELECT * FROM derived_history").fetchall()
    first = run_import(db, [files["etab_hist"], files["ul_hist"]])
    second = run_import(db, [files["etab_hist"], files["ul_hist"]])
    assert second.status == "committed"
    # Same years replaced, not doubled.
    assert db.execute(HISTORY_SQL).fetchall() == expected_rows(with_units=True)
    undo_import(db, second.import_id)
    assert db.execute(HISTORY_SQL).fetchall() == expected_rows(with_units=True)
    undo_import(db, first.import_id)
    assert db.execute("SELECT count(*) FROM sirene_history").fetchall() == [(0,)]
    assert db.execute("SELECT * FROM derived_history").fetchall() == before_history == []
    after = snapshot(db)
    for table in ("actors", "unites_legales", "ess_stats"):
        assert after[table] == before[table]
    assert indicators.sirene_history(db, "france", "FR") == []


def test_stock_and_history_in_one_import(geo_con, files):
    report = run_import(geo_con, [files["etab_hist"], files["ul_hist"], files["ul"], files["etab"]])
    assert report.status == "committed", report.errors
    assert geo_con.execute(HISTORY_SQL).fetchall() == expected_rows(with_units=True)


@pytest.mark.parametrize(
    ("which", "code", "words"),
    [
        (("etab_hist",), Reason.NOTHING_TO_IMPORT, "Importez d'abord le stock"),
        (("ul_hist",), Reason.NOTHING_TO_IMPORT, "importez les deux fichiers ensemble"),
    ],
)
def test_refusals_leave_the_base_unchanged(geo_con, files, which, code, words):
    before = snapshot(geo_con)
    report = run_import(geo_con, [files[w] for w in which])
    assert report.status == "rejected"
    assert code in report.error_codes
    assert any(words in e for e in report.errors)
    assert snapshot(geo_con) == before
    assert geo_con.execute("SELECT count(*) FROM sirene_history").fetchall() == [(0,)]


def test_missing_column_is_named(db, files, tmp_path):
    text = (
        files["etab_hist"]
        .read_text(encoding="utf-8")
        .replace("caractereEmployeurEtablissement,", "employeur,", 1)
    )
    bad = tmp_path / "historique_sans_employeur.csv"
    bad.write_text(text, encoding="utf-8")
    before = snapshot(db)
    report = run_import(db, [bad], kind="sirene_historique_etablissements")
    assert report.status == "rejected"
    assert any(
        "historique_sans_employeur.csv" in e and "caractereEmployeurEtablissement" in e
        for e in report.errors
    )
    assert snapshot(db) == before


def test_no_full_year_is_refused(db, tmp_path):
    path = tmp_path / "StockEtablissementHistorique_utf8.csv"
    path.write_text(
        "siret,dateFin,dateDebut,etatAdministratifEtablissement,"
        "activitePrincipaleEtablissement,caractereEmployeurEtablissement\n"
        "20000000100011,,pas une date,A,88.10A,O\n",
        encoding="utf-8",
    )
    before = snapshot(db)
    report = run_import(db, [path])
    assert report.status == "rejected"
    assert Reason.NOTHING_TO_IMPORT in report.error_codes
    assert snapshot(db) == before


# --------------------------------------------------------------------------- the page
@pytest.fixture
def page_db(tmp_path, files, monkeypatch):
    """A file database with the stock and the history, opened by the page."""
    import streamlit as st

    path = tmp_path / "page.duckdb"
    con = store.connect(path)
    build_fixture_geography(con)
    assert run_import(con, [files["ul"], files["etab"]]).status == "committed"
    assert run_import(con, [files["etab_hist"], files["ul_hist"]]).status == "committed"
    con.close()
    monkeypatch.setenv("ESS_DIAG_DB", str(path))
    st.cache_data.clear()
    yield path
    st.cache_data.clear()


def test_evolution_page_shows_the_series(page_db):
    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parents[1]
    expected = indicators.sirene_history(store.get_connection(page_db), "departement", "01")
    at = AppTest.from_file(str(root / "pages" / "evolution.py"), default_timeout=60)
    at.session_state["territory"] = ("departement", "01")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # Titles are shown HTML-escaped (entities render as the characters themselves).
    assert escape("Établissements employeurs de l'ESS (SIRENE, historique)") in [
        h.value for h in at.subheader
    ]
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    stacked = next(c for c in charts if c["layout"].get("barmode") == "stack")
    by_name = {t["name"]: t for t in stacked["data"]}
    assert by_name["Associations"]["x"] == YEARS
    assert [
        a + c
        for a, c in zip(by_name["Associations"]["y"], by_name["Coopératives"]["y"], strict=True)
    ] == [r["establishments"] for r in expected]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Au 31 décembre 2022"] == "3"  # E1, E4, E6 (Lyon's E5 is in the Rhône)
    assert metrics["Évolution 2008 → 2022"] == "+50,0\u202f%"  # E3, E6 in 2008: 2 → 3
    assert metrics["Années couvertes"] == "15"
    # The table behind the chart (also the CSV download).
    frames = [d.value for d in at.dataframe]
    assert any(
        list(f["établissements employeurs ESS"]) == [r["establishments"] for r in expected]
        for f in frames
    )


# --------------------------------------------------------------------------- the demo
def test_demo_has_a_simulated_history_consistent_with_its_actors(geo_con):
    from ess_diag import demo

    demo.load(geo_con, seed=42)
    france = indicators.sirene_history(geo_con, "france", "FR")
    last = int(geo_con.execute("SELECT max(year) FROM private_employment").fetchall()[0][0])
    assert [r["year"] for r in france] == list(range(2008, last + 1))
    # The last year counts the demo's ESS employer establishments open today.
    (alive,) = geo_con.execute(
        "SELECT count(*) FROM actors WHERE source = 'demo' AND is_ess AND active AND employer"
    ).fetchall()[0]
    assert france[-1]["establishments"] == alive > 0
    assert indicators.compute(geo_con, "france", "FR")["demo"] is True
    demo.unload(geo_con)
    assert indicators.sirene_history(geo_con, "france", "FR") == []


def test_a_base_at_schema_6_without_migration_5_gets_the_table(tmp_path):
    """Migration 5 was numbered after 6 reached development bases: opening one adds it."""
    path = tmp_path / "v6.duckdb"
    con = store.connect(path)
    con.execute("DROP TABLE sirene_history")
    con.close()
    con = store.connect(path)
    assert store.table_exists(con, "sirene_history")
    assert store.get_meta(con, "schema_version") == str(store.SCHEMA_VERSION)
    assert con.execute("SELECT count(*) FROM derived_history").fetchall() == [(0,)]
    con.close()
