"""Benchmark: SIRENE import of an N-row StockEtablissement CSV (+ its unités légales) against
DuckDB's own ``read_csv`` of the same file.

    .venv/bin/python benchmarks/bench_import.py 1000000 /tmp/bench-import

``run(n_rows, workdir)`` returns the timings; ``make bench`` calls it through benchmarks/run.py.
Files are generated once per size in ``workdir`` (official INSEE column layouts, synthetic
values, 30 000 communes); the database is rebuilt for every run.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import duckdb

__all__ = ["ETAB_COLUMNS", "UL_COLUMNS", "make_files", "make_database", "run"]

#: StockEtablissement, INSEE layout (2024).
ETAB_COLUMNS = (
    "siren,nic,siret,statutDiffusionEtablissement,dateCreationEtablissement,"
    "trancheEffectifsEtablissement,anneeEffectifsEtablissement,"
    "activitePrincipaleRegistreMetiersEtablissement,dateDernierTraitementEtablissement,"
    "etablissementSiege,nombrePeriodesEtablissement,complementAdresseEtablissement,"
    "numeroVoieEtablissement,indiceRepetitionEtablissement,dernierNumeroVoieEtablissement,"
    "indiceRepetitionDernierNumeroVoieEtablissement,typeVoieEtablissement,"
    "libelleVoieEtablissement,codePostalEtablissement,libelleCommuneEtablissement,"
    "libelleCommuneEtrangerEtablissement,distributionSpecialeEtablissement,"
    "codeCommuneEtablissement,codeCedexEtablissement,libelleCedexEtablissement,"
    "codePaysEtrangerEtablissement,libellePaysEtrangerEtablissement,"
    "identifiantAdresseEtablissement,coordonneeLambertAbscisseEtablissement,"
    "coordonneeLambertOrdonneeEtablissement,complementAdresse2Etablissement,"
    "numeroVoie2Etablissement,indiceRepetition2Etablissement,typeVoie2Etablissement,"
    "libelleVoie2Etablissement,codePostal2Etablissement,libelleCommune2Etablissement,"
    "libelleCommuneEtranger2Etablissement,distributionSpeciale2Etablissement,"
    "codeCommune2Etablissement,codeCedex2Etablissement,libelleCedex2Etablissement,"
    "codePaysEtranger2Etablissement,libellePaysEtranger2Etablissement,dateDebut,"
    "etatAdministratifEtablissement,enseigne1Etablissement,enseigne2Etablissement,"
    "enseigne3Etablissement,denominationUsuelleEtablissement,activitePrincipaleEtablissement,"
    "nomenclatureActivitePrincipaleEtablissement,caractereEmployeurEtablissement"
).split(",")

#: StockUniteLegale, INSEE layout (2024).
UL_COLUMNS = (
    "siren,statutDiffusionUniteLegale,unitePurgeeUniteLegale,dateCreationUniteLegale,"
    "sigleUniteLegale,sexeUniteLegale,prenom1UniteLegale,prenom2UniteLegale,"
    "prenom3UniteLegale,prenom4UniteLegale,prenomUsuelUniteLegale,pseudonymeUniteLegale,"
    "identifiantAssociationUniteLegale,trancheEffectifsUniteLegale,anneeEffectifsUniteLegale,"
    "dateDernierTraitementUniteLegale,nombrePeriodesUniteLegale,categorieEntreprise,"
    "anneeCategorieEntreprise,dateDebut,etatAdministratifUniteLegale,nomUniteLegale,"
    "nomUsageUniteLegale,denominationUniteLegale,denominationUsuelle1UniteLegale,"
    "denominationUsuelle2UniteLegale,denominationUsuelle3UniteLegale,"
    "categorieJuridiqueUniteLegale,activitePrincipaleUniteLegale,"
    "nomenclatureActivitePrincipaleUniteLegale,nicSiegeUniteLegale,"
    "economieSocialeSolidaireUniteLegale,societeMissionUniteLegale,"
    "caractereEmployeurUniteLegale"
).split(",")

N_COMMUNES = 30000


def _commune(i: str) -> str:
    return f"lpad((1000 + {i} % {N_COMMUNES})::VARCHAR, 5, '0')"


def make_files(n_rows: int, workdir: str | Path) -> tuple[Path, Path]:
    """Write ``etab_N.csv`` (N establishments, 2 per unit) and ``ul_N.csv`` (N/2 units)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    etab, ul = workdir / f"etab_{n_rows}.csv", workdir / f"ul_{n_rows}.csv"
    if etab.exists() and ul.exists():
        return etab, ul
    con = duckdb.connect(":memory:")
    values = {c: "NULL" for c in ETAB_COLUMNS}
    values.update(
        {
            "siren": "lpad((i // 2)::VARCHAR, 9, '0')",
            "nic": "lpad((i % 2 + 1)::VARCHAR, 5, '0')",
            "siret": "lpad((i // 2)::VARCHAR, 9, '0') || lpad((i % 2 + 1)::VARCHAR, 5, '0')",
            "statutDiffusionEtablissement": "CASE WHEN i % 50 = 0 THEN 'P' ELSE 'O' END",
            "dateCreationEtablissement": "'2001-03-04'",
            "trancheEffectifsEtablissement": "(['NN','00','01','02','03','11','12','21','22','31'])[1 + i % 10]",
            "anneeEffectifsEtablissement": "'2022'",
            "dateDernierTraitementEtablissement": "'2024-03-01T10:00:00'",
            "etablissementSiege": "CASE WHEN i % 2 = 0 THEN 'true' ELSE 'false' END",
            "nombrePeriodesEtablissement": "'2'",
            "numeroVoieEtablissement": "(i % 200)::VARCHAR",
            "typeVoieEtablissement": "'RUE'",
            "libelleVoieEtablissement": "'DE LA REPUBLIQUE'",
            "codePostalEtablissement": "'69001'",
            "libelleCommuneEtablissement": "'LYON'",
            "codeCommuneEtablissement": _commune("i"),
            "identifiantAdresseEtablissement": "'69123_1234_00012'",
            "coordonneeLambertAbscisseEtablissement": "CASE WHEN i % 7 = 0 THEN '[ND]' ELSE (842000 + i % 1000)::VARCHAR || '.5' END",
            "coordonneeLambertOrdonneeEtablissement": "CASE WHEN i % 7 = 0 THEN '[ND]' ELSE (6519000 + i % 1000)::VARCHAR || '.2' END",
            "dateDebut": "'2010-01-01'",
            "etatAdministratifEtablissement": "CASE WHEN i % 9 = 0 THEN 'F' ELSE 'A' END",
            "enseigne1Etablissement": "CASE WHEN i % 3 = 0 THEN 'ENSEIGNE ' || i ELSE NULL END",
            "activitePrincipaleEtablissement": "(['88.10A','94.99Z','62.01Z','84.11Z','47.11F','94.20Z','85.59A','56.10A'])[1 + i % 8]",
            "nomenclatureActivitePrincipaleEtablissement": "'NAFRev2'",
            "caractereEmployeurEtablissement": "'N'",
        }
    )
    select = ", ".join(f"{v} AS {c}" for c, v in values.items())
    con.execute(f"COPY (SELECT {select} FROM range({int(n_rows)}) t(i)) TO '{etab}' (HEADER)")
    values = {c: "NULL" for c in UL_COLUMNS}
    values.update(
        {
            "siren": "lpad(i::VARCHAR, 9, '0')",
            "statutDiffusionUniteLegale": "'O'",
            "dateCreationUniteLegale": "'1999-01-01'",
            "denominationUniteLegale": "'ASSOCIATION NUMERO ' || i",
            "categorieJuridiqueUniteLegale": "(['9220','5710','5458','9300','8210','5499','1000'])[1 + i % 7]",
            "activitePrincipaleUniteLegale": "'88.10A'",
            "nomenclatureActivitePrincipaleUniteLegale": "'NAFRev2'",
            "economieSocialeSolidaireUniteLegale": "CASE WHEN i % 5 = 0 THEN 'O' ELSE 'N' END",
            "etatAdministratifUniteLegale": "'A'",
            "trancheEffectifsUniteLegale": "'01'",
            "nicSiegeUniteLegale": "'00001'",
        }
    )
    select = ", ".join(f"{v} AS {c}" for c, v in values.items())
    con.execute(f"COPY (SELECT {select} FROM range({int(n_rows) // 2}) t(i)) TO '{ul}' (HEADER)")
    con.close()
    return etab, ul


def make_database(path: str | Path) -> duckdb.DuckDBPyConnection:
    """A fresh database with a synthetic geography of 30 000 communes (codes 01000…)."""
    from ess_diag import nomenclatures, store

    path = Path(path)
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)
    con = store.connect(path)
    con.execute(
        f"""INSERT INTO territories (level, code, name, population, lon, lat)
            SELECT 'commune', {_commune("i")}, 'Commune ' || i, 1000,
                   2 + (i % 100) / 20.0, 44 + (i // 100) / 60.0
            FROM range({N_COMMUNES}) t(i)"""
    )
    con.execute(
        "INSERT INTO commune_aliases SELECT code, code, 'COM', name FROM territories "
        "WHERE level = 'commune'"
    )
    nomenclatures.register(con)
    con.execute("CHECKPOINT")
    return con


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(n_rows: int, workdir: str | Path) -> dict:
    """Time DuckDB's bare ``read_csv`` of the établissements file and the full import
    (unités légales + établissements, committed to a database file)."""
    from ess_diag.ingest import run_import

    workdir = Path(workdir)
    etab, ul = make_files(n_rows, workdir)
    bare_con = duckdb.connect(":memory:")
    c0, t0 = _cpu(), time.perf_counter()
    bare_con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{etab}', all_varchar=true)")
    bare, bare_cpu = time.perf_counter() - t0, _cpu() - c0
    bare_con.close()
    con = make_database(workdir / "bench.duckdb")
    c0, t0 = _cpu(), time.perf_counter()
    report = run_import(con, [ul, etab])
    full, full_cpu = time.perf_counter() - t0, _cpu() - c0
    assert report.status == "committed", report.errors
    t0 = time.perf_counter()
    again = run_import(con, [ul, etab])
    reimport = time.perf_counter() - t0
    assert again.status == "committed", again.errors
    con.close()
    return {
        "n_rows": n_rows,
        "etab_bytes": etab.stat().st_size,
        "ul_rows": n_rows // 2,
        "read_csv_seconds": round(bare, 3),
        "import_seconds": round(full, 3),
        "ratio": round(full / bare, 2),
        # CPU seconds of the process (all DuckDB threads): comparable when the machine is busy.
        "read_csv_cpu_seconds": round(bare_cpu, 3),
        "import_cpu_seconds": round(full_cpu, 3),
        "cpu_ratio": round(full_cpu / bare_cpu, 2),
        "reimport_seconds": round(reimport, 3),
        "rows_loaded": report.rows_loaded,
        "target": "ratio <= 3 and import_seconds < 10",
        "ok": full / bare <= 3 and full < 10,
    }


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    where = sys.argv[2] if len(sys.argv) > 2 else "/tmp/ess-diag-bench-import"
    print(json.dumps(run(n, where), indent=2))
