"""The streamed SIRENE import: files filtered to the ESS perimeter while DuckDB reads them,
memory bounded by DuckDB's ``memory_limit`` (same figures under 300 MB as unbounded), an
import where no row can be loaded refused, and a newer month replacing the previous one with
undo storing only the previous kept rows."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest
from geo_fixture import build_fixture_geography
from test_ingest_sirene import ETAB, UL, dump

from ess_diag import cli, nomenclatures, store
from ess_diag.ingest import Reason, run_import, undo_import
from ess_diag.ingest.run import _rate_message

_COMMUNES = ["01001", "01002", "01004", "01005", "69123"]
#: Legal forms drawn: association, SCOP, SARL (not ESS), mutuelle, SAS (not ESS).
_FORMS = ["9220", "5458", "5499", "8210", "5710"]


def _base(path: Path) -> duckdb.DuckDBPyConnection:
    con = store.connect(path)
    build_fixture_geography(con)
    nomenclatures.register(con)
    con.execute("CHECKPOINT")
    return con


def generate(folder: Path, n_etab: int, *, month: int = 1) -> tuple[Path, Path]:
    """A stock of ``n_etab`` establishments (≈ 2 per unit) and its units, written by DuckDB
    from ``range()`` in seconds. Month 2: unit 0 becomes a SARL (leaves the ESS), and every
    tenth establishment closes. Unit 0 is an association in month 1."""
    folder.mkdir(parents=True, exist_ok=True)
    n_units = max(n_etab // 2, 1)
    ul, et = folder / f"StockUniteLegale_m{month}.csv", folder / f"StockEtablissement_m{month}.csv"
    forms = "[" + ", ".join(f"'{f}'" for f in _FORMS) + "]"
    communes = "[" + ", ".join(f"'{c}'" for c in _COMMUNES) + "]"
    con = duckdb.connect()
    con.execute(f"""
        COPY (SELECT lpad((100000000 + i)::VARCHAR, 9, '0') AS siren,
                     'O' AS statutDiffusionUniteLegale,
                     CASE WHEN i = 0 THEN (CASE WHEN {month} = 2 THEN '5499' ELSE '9220' END)
                          ELSE {forms}[(hash(i) % 5)::INTEGER + 1] END
                         AS categorieJuridiqueUniteLegale,
                     'UNITE ' || i AS denominationUniteLegale,
                     CASE WHEN i > 0 AND hash(i * 7) % 50 = 0 THEN 'O' ELSE 'N' END
                         AS economieSocialeSolidaireUniteLegale,
                     '88.10A' AS activitePrincipaleUniteLegale,
                     'NAFRev2' AS nomenclatureActivitePrincipaleUniteLegale
              FROM range({n_units}) t(i))
        TO '{ul}' (FORMAT csv, HEADER true)""")
    con.execute(f"""
        COPY (SELECT lpad((100000000 + u)::VARCHAR, 9, '0') AS siren,
                     lpad((100000000 + u)::VARCHAR, 9, '0') || lpad((10 + k)::VARCHAR, 5, '0')
                         AS siret,
                     'O' AS statutDiffusionEtablissement,
                     {communes}[(hash(i) % 5)::INTEGER + 1] AS codeCommuneEtablissement,
                     CASE WHEN hash(i * 3) % 3 = 0 THEN '88.10A' ELSE '56.10A' END
                         AS activitePrincipaleEtablissement,
                     'NAFRev2' AS nomenclatureActivitePrincipaleEtablissement,
                     CASE WHEN {month} = 2 AND i % 10 = 0 THEN 'F' ELSE 'A' END
                         AS etatAdministratifEtablissement,
                     ['NN', '01', '11', '21'][(hash(i * 5) % 4)::INTEGER + 1]
                         AS trancheEffectifsEtablissement,
                     'ETAB ' || i AS enseigne1Etablissement
              FROM (SELECT i, i // 2 AS u, i % 2 AS k FROM range({n_etab}) t(i)))
        TO '{et}' (FORMAT csv, HEADER true)""")
    con.close()
    return ul, et


def _ess_content(con) -> dict:
    """What the figures are made of: the ESS actors and the derived tables."""
    out = {
        "actors": sorted(
            con.execute(
                "SELECT * EXCLUDE (import_id) FROM actors WHERE is_ess ORDER BY actor_id"
            ).fetchall(),
            key=repr,
        )
    }
    for (table,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'derived_%' "
        "AND database_name = current_database() ORDER BY 1"
    ).fetchall():
        out[table] = sorted(con.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)  # noqa: S608
    return out


def _check_same_figures_under_memory_limit(tmp_path, monkeypatch, n: int) -> None:
    ul, et = generate(tmp_path / "files", n)
    monkeypatch.setenv("ESS_DIAG_SIRENE_SCOPE", "ess")
    results = {}
    for label, memory in (("unbounded", "100000"), ("bounded", "300")):
        monkeypatch.setenv("ESS_DIAG_IMPORT_MEMORY_MB", memory)
        con = _base(tmp_path / f"{label}.duckdb")
        report = run_import(con, [ul, et])
        assert report.status == "committed", report.errors
        # The import ran under the limit, and the limit was put back afterwards.
        assert con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] != "300.0 MiB"
        results[label] = (
            (report.rows_read, report.rows_skipped, report.rows_loaded, report.rows_set_aside),
            report.counts,
            _ess_content(con),
        )
        con.close()
    assert results["bounded"] == results["unbounded"]
    (rows_read, skipped, loaded, _aside), counts, content = results["bounded"]
    assert rows_read == n + n // 2
    assert skipped > 0 and loaded > 0
    assert loaded + skipped == rows_read
    assert counts["etablissements_ess"] == len(content["actors"])


def test_same_figures_under_a_300mb_memory_limit(tmp_path, monkeypatch):
    _check_same_figures_under_memory_limit(tmp_path, monkeypatch, 200_000)


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("ESS_DIAG_RUN_SLOW"), reason="3 M rows: ESS_DIAG_RUN_SLOW=1 to run"
)
def test_same_figures_under_a_300mb_memory_limit_3m_rows(tmp_path, monkeypatch):
    _check_same_figures_under_memory_limit(tmp_path, monkeypatch, 3_000_000)


def test_filtered_import_keeps_every_ess_figure(tmp_path, monkeypatch):
    """The ESS perimeter read from the stream gives exactly the ESS actors and derived
    figures of the import that keeps every row."""
    out = {}
    for scope in ("all", "ess"):
        monkeypatch.setenv("ESS_DIAG_SIRENE_SCOPE", scope)
        con = _base(tmp_path / f"{scope}.duckdb")
        report = run_import(con, [UL, ETAB])
        assert report.status == "committed", report.errors
        out[scope] = (report, _ess_content(con))
        con.close()
    (full, full_content), (ess, ess_content) = out["all"], out["ess"]
    assert ess_content == full_content
    assert ess.rows_read == full.rows_read
    assert ess.rows_skipped > 0
    assert ess.rows_loaded == full.rows_loaded - ess.rows_skipped
    assert "hors périmètre de l'ESS, non conservées" in "\n".join(ess.summary())
    assert json.loads(ess.to_json())["rows_skipped"] == ess.rows_skipped


def test_auto_scope_filters_only_large_files(tmp_path, monkeypatch):
    monkeypatch.delenv("ESS_DIAG_SIRENE_SCOPE", raising=False)
    con = _base(tmp_path / "auto.duckdb")
    report = run_import(con, [UL, ETAB])
    assert report.rows_skipped == 0  # a small extract keeps its hors-ESS rows
    monkeypatch.setenv("ESS_DIAG_SIRENE_STREAM_MB", "0.001")
    report = run_import(con, [UL, ETAB])
    assert report.status == "committed"
    assert report.rows_skipped == 0  # stored rows are kept: a new month updates them
    con.close()
    con = _base(tmp_path / "auto2.duckdb")
    report = run_import(con, [UL, ETAB])
    assert report.rows_skipped > 0
    con.close()


def test_all_malformed_sirens_are_rejected(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "StockUniteLegale_faux.csv"
    lines = UL.read_text().splitlines()
    bad.write_text(
        "\n".join([lines[0], *("X1," + line.split(",", 1)[1] for line in lines[1:])]) + "\n"
    )
    db_path = tmp_path / "t.duckdb"
    con = _base(db_path)
    before = dump(con)
    for scope in ("all", "ess"):
        monkeypatch.setenv("ESS_DIAG_SIRENE_SCOPE", scope)
        report = run_import(con, [bad])
        assert report.status == "rejected"
        assert report.import_id is None
        assert Reason.NO_ROW_LOADED in report.error_codes
        assert "Aucune ligne n'a pu être chargée" in report.errors[0]
        assert "SIREN invalide" in report.errors[0]
        assert dump(con) == before
    con.close()
    code = cli.main(["import", str(bad), "--json", "--quiet", "--db", str(db_path)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    assert doc["status"] == "rejected"
    assert "no_row_loaded" in doc["error_codes"]
    assert doc["set_aside"][0]["reason"].startswith("SIREN invalide")


def test_newer_month_replaces_and_undo_stores_only_the_previous_kept_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("ESS_DIAG_SIRENE_SCOPE", "ess")
    m1 = generate(tmp_path / "m1", 20_000, month=1)
    m2 = generate(tmp_path / "m2", 20_000, month=2)
    con = _base(tmp_path / "t.duckdb")
    first = run_import(con, list(m1))
    assert first.status == "committed"
    kept_actors = con.execute("SELECT count(*) FROM actors").fetchall()[0][0]
    kept_units = con.execute("SELECT count(*) FROM unites_legales").fetchall()[0][0]
    assert kept_actors < 20_000 and kept_units < 10_000  # only the ESS perimeter
    after_first = dump(con, skip=("imports", "meta"))
    second = run_import(con, list(m2))
    assert second.status == "committed", second.errors
    # Undo keeps the rows the new month replaced: never more than what was kept before.
    undo_actors = con.execute("SELECT count(*) FROM undo_actors").fetchall()[0][0]
    undo_units = con.execute("SELECT count(*) FROM undo_unites_legales").fetchall()[0][0]
    assert 0 < undo_actors <= kept_actors
    assert 0 < undo_units <= kept_units
    # Unit 0 left the ESS (a SARL now): its stored establishments follow.
    rows = con.execute(
        "SELECT is_ess FROM actors WHERE siren = '100000000' ORDER BY actor_id"
    ).fetchall()
    assert rows and all(not r[0] for r in rows)
    closed = con.execute(
        "SELECT count(*) FROM actors WHERE actor_id = '10000000000010' AND NOT active"
    ).fetchall()[0][0]
    assert closed == 1
    undo_import(con, second.import_id)
    assert dump(con, skip=("imports", "meta")) == after_first
    con.close()


def test_progress_reports_steps_and_rates(tmp_path, monkeypatch):
    monkeypatch.setenv("ESS_DIAG_SIRENE_SCOPE", "ess")
    ul, et = generate(tmp_path / "files", 50_000)
    con = _base(tmp_path / "t.duckdb")
    seen: list[tuple[float, str]] = []
    report = run_import(con, [ul, et], progress=lambda f, m: seen.append((f, m)))
    con.close()
    assert report.status == "committed"
    messages = [m for _f, m in seen]
    assert any(m.startswith("Lecture de StockEtablissement_m1.csv") for m in messages)
    assert messages[-1] == "Import terminé."
    assert all(0.0 <= f <= 1.0 for f, _m in seen)
    text = _rate_message("Lecture de x.csv", 40.0, 1_000_000, 20.0)
    assert text == (
        "Lecture de x.csv : 40 % — ≈ 400\u202f000 lignes lues, 20\u202f000 lignes/s, reste ≈ 30 s"
    )
