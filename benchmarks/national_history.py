"""National-size SIRENE history import: the yearly series for every commune (issue 13).

Not run in CI. Generates, once and cached under ``benchmarks/cache/national/history_*``:

* ``StockEtablissementHistorique_utf8.parquet`` — INSEE's 18 columns, one row per period:
  44 M establishments, ≈ 96 M periods (the file published on 1 August 2026 had 95 865 102
  periods of 43 896 818 establishments, and the unit history 71 355 318 periods);
* ``StockUniteLegaleHistorique_utf8.parquet`` — INSEE's 28 columns, ≈ 29 M units, ≈ 70 M periods;
* a base with the real geography (``ess-diag init --empty``) and the ESS part of a national
  stock already imported (``unites_legales`` and ``actors`` of the ESS units: what the history
  needs from the stock — the communes), written directly with SQL (preparation, not timed).

Then imports both history files into a copy of that base in a child process (``run_import``, as
``ess-diag import`` does) and records wall time, CPU, peak RSS, the DuckDB temp directory's
peak size, the load average, rows and the re-render time of the Évolution page, into
``benchmarks/results.json`` key ``national_history`` → ``runs`` → number of establishments
(other keys and other sizes kept).

    .venv/bin/python benchmarks/national_history.py                   # national size
    .venv/bin/python benchmarks/national_history.py --establishments 1000000   # a try

Values are simulated (5 % of units in the ESS, ≈ 20 % of periods employer, half of the
establishments closed); the communes are the real ones, drawn uniformly.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

#: A period's employer character, nationally: about one period in five.
_EMPLOYER_PCT = 20
#: Units in the ESS: one in twenty (≈ 1.45 M of 29 M, as the ESS's 1.3–1.5 M units).
_ESS_MODULO = 20
#: ESS establishments left out of the stock (exercises the "absent from the stock" listing).
_ABSENT_MODULO = 1000

_NAF_REV2 = [
    "88.10A", "88.99B", "94.99Z", "85.59A", "93.12Z", "87.30A", "86.10Z", "43.32A", "65.12Z",
    "47.11B", "56.10A", "90.01Z", "01.11Z", "70.22Z", "64.19Z",
]  # fmt: skip
_NAF_1993 = ["85.3K", "91.3E", "80.4D", "92.6C", "85.1A"]


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def _units_of(establishments: int) -> int:
    """Units for a number of establishments (29.9 M for 43.9 M nationally)."""
    return max(1, round(establishments * 29_922_486 / 43_896_818))


def generate_history(con, out: Path, establishments: int) -> None:
    """The establishment history as INSEE publishes it (Parquet, 18 columns)."""
    units = _units_of(establishments)
    con.execute(
        f"""
        COPY (
          WITH e AS (
            SELECT i, (i * {units} // {establishments}) AS u,
                   hash(i) % 10 AS h, DATE '1973-01-01' + (hash(i * 7) % 19000)::INTEGER AS c,
                   hash(i * 13) % 10 < 5 AS closes
            FROM range({establishments}) t(i)
          ), k AS (
            SELECT *, CASE WHEN h < 3 THEN 1 WHEN h < 5 THEN 2 ELSE 3 END AS n
            FROM e
          ), p AS (
            SELECT i, u, c, closes, n, j,
                   c + ((DATE '2026-11-30' - c) * j // n)::INTEGER AS d0,
                   CASE WHEN j < n - 1
                        THEN c + ((DATE '2026-11-30' - c) * (j + 1) // n)::INTEGER - 1 END AS d1
            FROM k, unnest(range(n)) AS r(j)
          )
          SELECT lpad((100000000 + u * 3)::VARCHAR, 9, '0') AS siren,
                 lpad((i % 100000)::VARCHAR, 5, '0') AS nic,
                 lpad((100000000 + u * 3)::VARCHAR, 9, '0')
                     || lpad((i % 100000)::VARCHAR, 5, '0') AS siret,
                 strftime(d1, '%Y-%m-%d') AS dateFin,
                 strftime(d0, '%Y-%m-%d') AS dateDebut,
                 CASE WHEN j = n - 1 AND closes THEN 'F' ELSE 'A' END
                     AS etatAdministratifEtablissement,
                 CASE WHEN j = n - 1 AND closes THEN 'true' ELSE 'false' END
                     AS changementEtatAdministratifEtablissement,
                 NULL::VARCHAR AS enseigne1Etablissement, NULL::VARCHAR AS enseigne2Etablissement,
                 NULL::VARCHAR AS enseigne3Etablissement,
                 'false' AS changementEnseigneEtablissement,
                 NULL::VARCHAR AS denominationUsuelleEtablissement,
                 'false' AS changementDenominationUsuelleEtablissement,
                 CASE WHEN d1 IS NOT NULL AND d1 < DATE '2008-01-01'
                      THEN {_sql_list(_NAF_1993)}[(1 + hash(i + j) % {len(_NAF_1993)})::BIGINT]
                      ELSE {_sql_list(_NAF_REV2)}[(1 + hash(i + j) % {len(_NAF_REV2)})::BIGINT] END
                     AS activitePrincipaleEtablissement,
                 CASE WHEN d1 IS NOT NULL AND d1 < DATE '2008-01-01' THEN 'NAF1993'
                      ELSE 'NAFRev2' END AS nomenclatureActivitePrincipaleEtablissement,
                 CASE WHEN j > 0 THEN 'true' ELSE 'false' END
                     AS changementActivitePrincipaleEtablissement,
                 CASE WHEN hash(i * 17 + j) % 100 < {_EMPLOYER_PCT} THEN 'O' ELSE 'N' END
                     AS caractereEmployeurEtablissement,
                 'false' AS changementCaractereEmployeurEtablissement
          FROM p
        ) TO '{out}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)
        """  # noqa: S608
    )


def generate_unit_history(con, out: Path, establishments: int) -> None:
    """The unit history as INSEE publishes it (Parquet, 28 columns)."""
    units = _units_of(establishments)
    con.execute(
        f"""
        COPY (
          WITH k AS (
            SELECT u, DATE '1973-01-01' + (hash(u * 5) % 19000)::INTEGER AS c,
                   CASE WHEN hash(u) % 10 < 2 THEN 1 WHEN hash(u) % 10 < 6 THEN 2 ELSE 3 END AS n,
                   u % {_ESS_MODULO} = 0 AS ess
            FROM range({units}) t(u)
          ), p AS (
            SELECT *, c + ((DATE '2026-11-30' - c) * j // n)::INTEGER AS d0,
                   CASE WHEN j < n - 1
                        THEN c + ((DATE '2026-11-30' - c) * (j + 1) // n)::INTEGER - 1 END AS d1
            FROM k, unnest(range(n)) AS r(j)
          )
          SELECT lpad((100000000 + u * 3)::VARCHAR, 9, '0') AS siren,
                 strftime(d1, '%Y-%m-%d') AS dateFin, strftime(d0, '%Y-%m-%d') AS dateDebut,
                 'A' AS etatAdministratifUniteLegale,
                 'false' AS changementEtatAdministratifUniteLegale,
                 NULL::VARCHAR AS nomUniteLegale, 'false' AS changementNomUniteLegale,
                 NULL::VARCHAR AS nomUsageUniteLegale, 'false' AS changementNomUsageUniteLegale,
                 NULL::VARCHAR AS denominationUniteLegale,
                 'false' AS changementDenominationUniteLegale,
                 NULL::VARCHAR AS denominationUsuelle1UniteLegale,
                 NULL::VARCHAR AS denominationUsuelle2UniteLegale,
                 NULL::VARCHAR AS denominationUsuelle3UniteLegale,
                 'false' AS changementDenominationUsuelleUniteLegale,
                 CASE WHEN ess THEN (CASE WHEN u % 7 = 0 THEN '5458' ELSE '9220' END)
                      WHEN u % 3 = 0 THEN '1000' ELSE '5710' END
                     AS categorieJuridiqueUniteLegale,
                 CASE WHEN j > 0 THEN 'true' ELSE 'false' END
                     AS changementCategorieJuridiqueUniteLegale,
                 '88.99B' AS activitePrincipaleUniteLegale,
                 'NAFRev2' AS nomenclatureActivitePrincipaleUniteLegale,
                 'false' AS changementActivitePrincipaleUniteLegale,
                 '00001' AS nicSiegeUniteLegale, 'false' AS changementNicSiegeUniteLegale,
                 CASE WHEN ess THEN 'O' ELSE 'N' END AS economieSocialeSolidaireUniteLegale,
                 'false' AS changementEconomieSocialeSolidaireUniteLegale,
                 NULL::VARCHAR AS societeMissionUniteLegale,
                 'false' AS changementSocieteMissionUniteLegale,
                 'N' AS caractereEmployeurUniteLegale,
                 'false' AS changementCaractereEmployeurUniteLegale
          FROM p
        ) TO '{out}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)
        """  # noqa: S608
    )


def prepare_base(geo_db: Path, out: Path, establishments: int) -> dict:
    """The base the history is imported into: geography + the ESS stock (units, actors)."""
    from ess_diag import derived, store

    shutil.copyfile(geo_db, out)
    units = _units_of(establishments)
    con = store.connect(out)
    try:
        with store.transaction(con):
            con.execute(
                f"""
                INSERT INTO unites_legales (siren, denomination, categorie_juridique, ess_flag,
                    ess_france_listed, naf, partial_diffusion, import_id)
                SELECT lpad((100000000 + u * 3)::VARCHAR, 9, '0'), NULL,
                       CASE WHEN u % 7 = 0 THEN '5458' ELSE '9220' END, 'O', false, '88.99B',
                       false, 'bench-stock'
                FROM range(0, {units}, {_ESS_MODULO}) t(u)
                """  # noqa: S608
            )
            con.execute(
                f"""
                INSERT INTO actors (actor_id, siret, siren, commune_code, commune_code_raw, naf,
                    categorie_juridique, is_ess, family, sector, effectif_band, jobs, employer,
                    active, source, import_id, partial_diffusion)
                WITH communes AS (
                    SELECT row_number() OVER (ORDER BY code) - 1 AS k, code
                    FROM territories WHERE level = 'commune'
                ), n AS (SELECT count(*) AS n FROM communes),
                e AS (
                    SELECT i, i * {units} // {establishments} AS u FROM range({establishments}) t(i)
                )
                SELECT s.siret, s.siret, left(s.siret, 9), c.code, c.code, '88.99B',
                       CASE WHEN e.u % 7 = 0 THEN '5458' ELSE '9220' END, true,
                       CASE WHEN e.u % 7 = 0 THEN 'cooperative' ELSE 'association' END,
                       'action_sociale_sans_hebergement', '01', 1.5, true, true, 'sirene',
                       'bench-stock', false
                FROM e, n,
                     LATERAL (SELECT lpad((100000000 + e.u * 3)::VARCHAR, 9, '0')
                                  || lpad((e.i % 100000)::VARCHAR, 5, '0') AS siret) s
                JOIN communes c ON c.k = hash(e.i) % n.n
                WHERE e.u % {_ESS_MODULO} = 0 AND e.i % {_ABSENT_MODULO} <> 7
                """  # noqa: S608
            )
            store.bump_data_version(con)
            derived.refresh(con)
        counts = dict(
            zip(
                ("unites_legales", "actors"),
                con.execute(
                    "SELECT (SELECT count(*) FROM unites_legales), (SELECT count(*) FROM actors)"
                ).fetchall()[0],
                strict=True,
            )
        )
    finally:
        con.close()
    return counts


# --------------------------------------------------------------------------- the child
def child(db: Path, files: list[str], temp_dir: Path, memory_limit: str, out: Path) -> None:
    """Import the history files into ``db`` and time the Évolution page (a separate process:
    its peak RSS is the import's)."""
    from ess_diag import indicators, store
    from ess_diag.ingest import run_import

    con = store.connect(db)
    con.execute(f"SET temp_directory = '{temp_dir}'")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    t0 = time.perf_counter()
    report = run_import(con, files)
    import_s = time.perf_counter() - t0
    result = {
        "status": report.status,
        "errors": report.errors,
        "import_s": round(import_s, 2),
        "rows_read": report.rows_read,
        "rows_loaded": report.rows_loaded,
        "rows_set_aside": report.rows_set_aside,
        "counts": report.counts,
        "sirene_history_rows": con.execute("SELECT count(*) FROM sirene_history").fetchall()[0][0],
    }
    timings = {}
    for level, code in (("france", "FR"), ("departement", "69"), ("commune", "75056")):
        t0 = time.perf_counter()
        series = indicators.sirene_history(con, level, code)
        timings[f"{level}_{code}_s"] = round(time.perf_counter() - t0, 4)
        if level == "france":
            result["france_series"] = [(r["year"], r["establishments"]) for r in series]
    result["sirene_history_query"] = timings
    con.close()
    result["page"] = _page_times(db)
    out.write_text(json.dumps(result, ensure_ascii=False, default=str))


def _page_times(db: Path) -> dict:
    """The Évolution page for a département: first run, then re-render (cached document)."""
    os.environ["ESS_DIAG_DB"] = str(db)
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "evolution.py"), default_timeout=300)
    at.session_state["territory"] = ("departement", "69")
    t0 = time.perf_counter()
    at.run()
    first = time.perf_counter() - t0
    rerender, rerender_cpu = [], []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        at.run()
        rerender.append(time.perf_counter() - t0)
        rerender_cpu.append(time.process_time() - c0)
    return {
        "first_run_s": round(first, 3),
        "rerender_s": sorted(round(x, 3) for x in rerender),
        # CPU of this process during a re-render: what the wall time would be on an idle core
        "rerender_cpu_s": sorted(round(x, 3) for x in rerender_cpu),
        "exception": [str(e.value) for e in at.exception],
    }


# --------------------------------------------------------------------------- the parent
def _dir_bytes(path: Path) -> int:
    total = 0
    for root, _dirs, names in os.walk(path):
        for name in names:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def _measure(cmd: list[str], temp_dir: Path) -> dict:
    """Run the child under /usr/bin/time, polling the temp directory's size."""
    peak = {"bytes": 0}
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            peak["bytes"] = max(peak["bytes"], _dir_bytes(temp_dir))
            stop.wait(0.5)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    with tempfile.NamedTemporaryFile(prefix="essdiag-time-", delete=False) as fh:
        time_file = Path(fh.name)
    t0 = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%M %U %S", "-o", str(time_file), *cmd], cwd=ROOT, check=False
    )
    wall = time.perf_counter() - t0
    stop.set()
    watcher.join()
    rss_kb, user, system = time_file.read_text().split()[-3:]
    time_file.unlink(missing_ok=True)
    return {
        "returncode": proc.returncode,
        "wall_s": round(wall, 1),
        "cpu_s": round(float(user) + float(system), 1),
        "peak_rss_mb": round(int(rss_kb) / 1024, 1),
        "temp_disk_peak_mb": round(peak["bytes"] / 1e6, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--establishments", type=int, default=44_000_000)
    parser.add_argument("--memory-limit", default="3GB")
    parser.add_argument("--no-units", action="store_true", help="sans l'historique des unités")
    parser.add_argument(
        "--prepare-only", action="store_true", help="générer les fichiers et la base, sans mesurer"
    )
    parser.add_argument("--output", type=Path, default=HERE / "results.json")
    parser.add_argument("--note", help="texte enregistré avec les résultats (conditions)")
    parser.add_argument("--child", nargs=5, metavar=("DB", "FILES", "TEMP", "LIMIT", "OUT"))
    args = parser.parse_args(argv)
    if args.child:
        db, files, temp, limit, out = args.child
        child(Path(db), json.loads(files), Path(temp), limit, Path(out))
        return 0

    import duckdb

    n = args.establishments
    cache = HERE / "cache" / "national" / f"history_{n}"
    cache.mkdir(parents=True, exist_ok=True)
    etab = cache / "StockEtablissementHistorique_utf8.parquet"
    units = cache / "StockUniteLegaleHistorique_utf8.parquet"
    geo = HERE / "cache" / "national" / "geo_empty.duckdb"
    prep: dict = {}
    if not geo.exists():
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "ess_diag.cli", "init", "--empty", "--quiet", "--db", str(geo)],
            cwd=ROOT,
            check=True,
        )
        prep["geography_s"] = round(time.perf_counter() - t0, 1)
    gen = duckdb.connect()
    gen.execute(f"SET temp_directory = '{cache / 'gen_tmp'}'")
    wanted = [(etab, generate_history)] + (
        [] if args.no_units else [(units, generate_unit_history)]
    )
    for path, fn in wanted:
        if not path.exists():
            t0 = time.perf_counter()
            fn(gen, path.with_suffix(".part"), n)
            path.with_suffix(".part").rename(path)
            prep[f"generate_{path.stem}_s"] = round(time.perf_counter() - t0, 1)
    sizes = {
        p.name: {
            "mb": round(p.stat().st_size / 1e6, 1),
            "rows": gen.execute(f"SELECT count(*) FROM read_parquet('{p}')").fetchall()[0][0],  # noqa: S608
        }
        for p in (etab, units)
        if p.exists()
    }
    gen.close()
    shutil.rmtree(cache / "gen_tmp", ignore_errors=True)
    template = cache / "stock_ess.duckdb"
    if not template.exists():
        t0 = time.perf_counter()
        prep["stock"] = prepare_base(geo, template.with_suffix(".part"), n)
        template.with_suffix(".part").rename(template)
        prep["stock_s"] = round(time.perf_counter() - t0, 1)
    if args.prepare_only:
        print(json.dumps({"files": sizes, "preparation": prep}, ensure_ascii=False))
        return 0
    work = cache / "run"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    db = work / "ess_diag.duckdb"
    shutil.copyfile(template, db)
    temp_dir = work / "duckdb_tmp"
    temp_dir.mkdir()
    files = [str(etab)] if args.no_units else [str(etab), str(units)]
    out = work / "child.json"
    load_before = [round(x, 2) for x in os.getloadavg()]
    measured = _measure(
        [
            sys.executable,
            __file__,
            "--child",
            str(db),
            json.dumps(files),
            str(temp_dir),
            args.memory_limit,
            str(out),
        ],
        temp_dir,
    )
    load_after = [round(x, 2) for x in os.getloadavg()]
    result = json.loads(out.read_text()) if out.exists() else {"error": "child failed"}
    record = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git_commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
        "machine": {"cores": os.cpu_count(), "memory_gb": _memory_gb()},
        "load_average_before": load_before,
        "load_average_after": load_after,
        "establishments": n,
        "files": sizes,
        "duckdb_memory_limit": args.memory_limit,
        "preparation": prep,
        "base_mb_after": round(db.stat().st_size / 1e6, 1),
        **measured,
        **result,
    }
    print(json.dumps(record, ensure_ascii=False, indent=1, default=str))
    results = json.loads(args.output.read_text()) if args.output.exists() else {}
    section = results.get("national_history")
    if not isinstance(section, dict) or "runs" not in section:
        section = {"runs": {}}
    section["runs"][str(n)] = record  # one run per size, the other sizes kept
    if args.note:
        section["note"] = args.note
    results["national_history"] = section
    args.output.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if measured["returncode"] == 0 and result.get("status") == "committed" else 1


def _memory_gb() -> float | None:
    try:
        with open("/proc/meminfo") as fh:
            kb = int(next(line for line in fh if line.startswith("MemTotal")).split()[1])
        return round(kb / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
        return None


if __name__ == "__main__":
    raise SystemExit(main())
