"""``make bench-national``: INSEE's national SIRENE stocks, zipped as published, imported into
a fresh base — wall time, CPU, peak memory of the process tree, temporary disk, base size,
rows kept — with a scaling table (1 M, 10 M, 42 M establishments by default).

    .venv/bin/python benchmarks/national.py                       # 1 M, 10 M, 42 M
    .venv/bin/python benchmarks/national.py --sizes 1000000       # one size
    .venv/bin/python benchmarks/national.py --generate-only       # fill the cache only

Not part of CI (the 42 M files take ≈ 15 min to generate on 2 idle cores, ≈ 2.4 GB zipped
and ≈ 12 GB of CSV inside). They are generated once (``generate.sirene_zipped``: a million
rows at a time, drawn with numpy, written by DuckDB, deflated while the next part is drawn)
and cached in ``benchmarks/cache/national/`` (git-ignored).

Each import runs as ``ess-diag import UL.zip ETAB.zip --json`` in a child process; the parent
polls ``/proc`` every 0.2 s for the resident memory of the child and all its descendants (peak
of the sum) and the size of the import's temporary folder (``ESS_DIAG_IMPORT_TMP``), and takes
the child's CPU time from ``os.wait4``. Results are merged into ``benchmarks/results.json``
under the key ``national`` with the machine and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (HERE, ROOT):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import generate  # noqa: E402
import run as bench_run  # noqa: E402

CACHE = HERE / "cache" / "national"
RESULTS = HERE / "results.json"
SIZES = (1_000_000, 10_000_000, 42_000_000)

#: Issue 13's targets for the national stock (42 M establishments + their units).
TARGETS = {
    "wall_s": 300.0,
    "peak_rss_mb": 4096.0,
    "db_mb": 1536.0,
    "temp_disk_vs_csv": 2.0,
}


def _tree_rss_kb(root: int) -> int:
    """Resident memory of ``root`` and all its descendants (kB), from ``/proc``."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            ppid = int(fields[1])
            rss[pid] = int(fields[21]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def _dir_bytes(path: Path) -> int:
    """Bytes allocated under ``path`` (files being written included)."""
    total = 0
    for base, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(base, name)).st_blocks * 512
            except OSError:
                pass
    return total


def _member_bytes(zip_path: Path) -> int:
    import zipfile

    with zipfile.ZipFile(zip_path) as archive:
        return sum(i.file_size for i in archive.infolist())


def measure_import(template: Path, files, work: Path, memory_mb: int | None = None) -> dict:
    """One timed import of the two zips into a copy of the geography template."""
    work.mkdir(parents=True, exist_ok=True)
    db = work / "national.duckdb"
    tmp = work / "tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for p in (db, db.with_name(db.name + ".wal")):
        p.unlink(missing_ok=True)
    shutil.copyfile(template, db)
    env = {**os.environ, "ESS_DIAG_IMPORT_TMP": str(tmp), "PYTHONPATH": str(ROOT)}
    if memory_mb:
        env["ESS_DIAG_IMPORT_MEMORY_MB"] = str(memory_mb)
    cmd = [
        sys.executable,
        "-m",
        "ess_diag.cli",
        "import",
        str(files.unites_legales),
        str(files.etablissements),
        "--json",
        "--db",
        str(db),
    ]
    log = work / "import.log"
    started = time.perf_counter()
    peak_rss = peak_tmp = 0
    with open(log, "w") as err, open(work / "report.json", "w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak_rss = max(peak_rss, _tree_rss_kb(proc.pid))
            peak_tmp = max(peak_tmp, _dir_bytes(tmp))
            time.sleep(0.2)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    report = json.loads((work / "report.json").read_text() or "{}")
    csv_bytes = _member_bytes(files.etablissements) + _member_bytes(files.unites_legales)
    db_bytes = db.stat().st_size + (
        db.with_name(db.name + ".wal").stat().st_size
        if db.with_name(db.name + ".wal").exists()
        else 0
    )
    return {
        "n_etablissements": files.n_rows,
        "n_unites_legales": files.n_units,
        "zip_bytes": files.etablissements.stat().st_size + files.unites_legales.stat().st_size,
        "csv_bytes": csv_bytes,
        "exit_code": code,
        "status": report.get("status"),
        "errors": report.get("errors"),
        "wall_s": round(wall, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        # ru_maxrss: the child's own peak; the polled sum covers every descendant.
        "peak_rss_mb": round(max(peak_rss, usage.ru_maxrss) / 1024, 1),
        "temp_disk_peak_mb": round(peak_tmp / 1024 / 1024, 1),
        "temp_disk_vs_csv": round(peak_tmp / csv_bytes, 3) if csv_bytes else None,
        "db_mb": round(db_bytes / 1024 / 1024, 1),
        "rows_read": report.get("rows_read"),
        "rows_skipped": report.get("rows_skipped"),
        "rows_loaded": report.get("rows_loaded"),
        "rows_set_aside": report.get("rows_set_aside"),
        "tables": report.get("tables"),
        "memory_limit_mb": memory_mb or int(os.environ.get("ESS_DIAG_IMPORT_MEMORY_MB", "2048")),
        "load_average_after": bench_run._loadavg(),
        "progress_tail": log.read_text(errors="replace").splitlines()[-3:],
    }


def _geography(log) -> tuple[Path, object, object]:
    """The national demo base (geography source) and the empty geography template."""
    import duckdb

    CACHE.mkdir(parents=True, exist_ok=True)
    demo = CACHE / "demo_national.duckdb"
    template = CACHE / "geo_template_national.duckdb"
    if not demo.exists():
        log("Préparation : base de démonstration nationale (ess-diag init --demo)…")
        bench_run.build_demo_db(demo, "national")
    if not template.exists():
        log("Préparation : base géographique vierge…")
        bench_run.build_geo_template(demo, template, None)
    con = duckdb.connect(str(demo), read_only=True)
    try:
        communes, aliases = generate.load_geography(con)
    finally:
        con.close()
    return template, communes, aliases


def _merge(key: str, value: dict) -> None:
    doc = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    doc[key] = value
    tmp = RESULTS.with_name(RESULTS.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(RESULTS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--memory-mb", type=int, default=None)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]

    def log(message: str) -> None:
        print(message, flush=True)

    template, communes, aliases = _geography(log)
    files = {}
    for n in sizes:
        log(f"Fichiers SIRENE nationaux de {n:,} établissements (en cache)…".replace(",", " "))
        files[n] = generate.sirene_zipped(n, communes, aliases, cache_dir=CACHE, log=log)
    if args.generate_only:
        return 0
    result = {
        "generated_at": bench_run._now(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": bench_run._machine(),
        "load_average_start": bench_run._loadavg(),
        "targets": TARGETS,
        "scaling": {},
    }
    for n in sizes:
        log(f"[national] import de {n:,} établissements…".replace(",", " "))
        figures = measure_import(template, files[n], CACHE / "work", args.memory_mb)
        log(json.dumps({k: v for k, v in figures.items() if k != "tables"}, ensure_ascii=False))
        result["scaling"][str(n)] = figures
        if not args.no_save:
            _merge("national", {**result, "load_average_end": bench_run._loadavg()})
    biggest = result["scaling"][str(max(sizes))]
    result["national"] = biggest
    result["load_average_end"] = bench_run._loadavg()
    if not args.no_save:
        _merge("national", result)
    failed = [n for n, f in result["scaling"].items() if f["exit_code"] != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
