"""What a browser upload costs at worst (issue #12): a 300 000-row workbook's preview and a
gzip bomb's refusal, timed.

    .venv/bin/python benchmarks/bench_uploads.py        # prints JSON

The workbook is generated once into ``benchmarks/cache/`` (about a minute with openpyxl); the
bomb (3 000 000 identical rows, ≈ 320 KB of gzip) is rebuilt in a second.
"""

from __future__ import annotations

import gzip
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ess_diag import ingest, store  # noqa: E402

CACHE = ROOT / "benchmarks" / "cache"


def workbook(rows: int = 300_000) -> Path:
    path = CACHE / f"grille_{rows}.xlsx"
    if not path.exists():
        from openpyxl import Workbook

        CACHE.mkdir(parents=True, exist_ok=True)
        book = Workbook(write_only=True)
        sheet = book.create_sheet("grille")
        sheet.append(["CODGEO", "LIBGEO", "DENS", "PMUN21"])
        for i in range(rows):
            sheet.append([f"{1000 + i % 90000:05d}", f"Commune {i}", str(1 + i % 7), str(100 + i)])
        book.save(path)
    return path


def bomb(folder: Path, rows: int = 3_000_000) -> Path:
    path = folder / "grille.csv.gz"
    block = ("01001;L'Abergement-Clémenciat;6;832\n" * 20_000).encode()
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(b"CODGEO;LIBGEO;DENS;PMUN21\n")
        for _ in range(rows // 20_000):
            out.write(block)
    return path


def timed(func, runs: int = 5) -> dict:
    values = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        values.append(time.perf_counter() - start)
    return {"median_s": round(statistics.median(values), 3), "max_s": round(max(values), 3)}


def main() -> int:
    book = workbook()
    result: dict = {"workbook_rows": 300_000, "workbook_bytes": book.stat().st_size}
    result["xlsx_preview"] = timed(lambda: ingest.preview(book, limits=ingest.UploadLimits()))
    with tempfile.TemporaryDirectory() as tmp:
        path = bomb(Path(tmp))
        result["bomb_bytes"] = path.stat().st_size
        con = store.connect(":memory:")

        def refuse() -> None:
            report = ingest.run_import(con, [path], limits=ingest.UploadLimits())
            assert report.error_codes == [ingest.Reason.TOO_EXPANDED], report.errors

        result["bomb_refusal"] = timed(refuse)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    result["targets"] = {"xlsx_preview_s": "< 1", "bomb_refusal_s": "< 10"}
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
