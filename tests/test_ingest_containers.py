"""SIRENE files as INSEE publishes them: zip archives (one CSV, or the known member among
several), .csv.gz, Parquet — detected by content, never by name; every refusal a French
message and the base unchanged."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from geo_fixture import build_fixture_geography
from test_ingest_sirene import ETAB, UL, dump

from ess_diag import cli, nomenclatures, store
from ess_diag.ingest import Reason, UploadLimits, inspect_file, preview, run_import
from ess_diag.ingest.errors import FileRejected
from ess_diag.ingest.sniff import container_of, extract_member


@pytest.fixture
def db(tmp_path):
    con = store.connect(tmp_path / "t.duckdb")
    build_fixture_geography(con)
    nomenclatures.register(con)
    con.execute("CHECKPOINT")
    yield con
    con.close()


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _insee_zips(tmp_path: Path) -> tuple[Path, Path]:
    ul = _zip(
        tmp_path / "StockUniteLegale_utf8.zip", {"StockUniteLegale_utf8.csv": UL.read_bytes()}
    )
    et = _zip(
        tmp_path / "StockEtablissement_utf8.zip",
        {"StockEtablissement_utf8.csv": ETAB.read_bytes()},
    )
    return ul, et


def _figures(con) -> dict:
    """What an import of the fixture stock produced, without import ids."""
    return dump(con, skip=("imports", "meta"), ids=False)


def test_insee_zips_import_like_the_csv(db, tmp_path):
    ul, et = _insee_zips(tmp_path)
    assert container_of(ul) == "zip"
    report = run_import(db, [ul, et])
    assert report.status == "committed", report.errors
    zipped = _figures(db)
    names = {f.name: f for f in report.files}
    assert names["StockEtablissement_utf8.zip"].member == "StockEtablissement_utf8.csv"
    assert "archive zip (fichier « StockEtablissement_utf8.csv »)" in report.summary()[2]
    # The same files unzipped give the same base.
    other = store.connect(tmp_path / "plain.duckdb")
    build_fixture_geography(other)
    nomenclatures.register(other)
    plain = run_import(other, [UL, ETAB])
    assert plain.status == "committed"
    assert (plain.rows_read, plain.rows_loaded) == (report.rows_read, report.rows_loaded)
    assert _figures(other) == zipped
    other.close()


def test_zip_with_two_members_picks_the_known_one(db, tmp_path):
    et = _zip(
        tmp_path / "sirene.zip",
        {"LISEZMOI.txt": b"Fichier SIRENE\n", "StockEtablissement_utf8.csv": ETAB.read_bytes()},
    )
    ul = _zip(tmp_path / "ul.zip", {"StockUniteLegale_utf8.csv": UL.read_bytes()})
    report = run_import(db, [ul, et])
    assert report.status == "committed", report.errors
    assert {f.member for f in report.files} == {
        "StockEtablissement_utf8.csv",
        "StockUniteLegale_utf8.csv",
    }


def test_zip_with_two_unknown_members_is_refused_naming_them(db, tmp_path):
    run_import(db, [UL])
    before = dump(db)
    bad = _zip(tmp_path / "deux.zip", {"a.csv": ETAB.read_bytes(), "b.csv": UL.read_bytes()})
    report = run_import(db, [bad])
    assert report.status == "rejected"
    assert report.error_codes == [Reason.ZIP_MEMBERS]
    assert "contient 2 fichiers (« a.csv », « b.csv »)" in report.errors[0]
    assert dump(db) == before


def test_zip_holding_a_workbook_is_read_as_the_workbook(db, tmp_path):
    frame = pd.read_csv(UL, dtype=str)
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    archive = _zip(tmp_path / "unites.zip", {"StockUniteLegale.xlsx": buffer.getvalue()})
    assert container_of(archive) == "zip"
    report = run_import(db, [archive])
    assert report.status == "committed", report.errors
    assert report.files[0].container == "xlsx"
    assert report.files[0].format == "sirene_unites_legales"
    # A zip that IS a workbook (xl/workbook.xml inside) is an xlsx, whatever its name.
    workbook = tmp_path / "classeur.zip"
    workbook.write_bytes(buffer.getvalue())
    assert container_of(workbook) == "xlsx"
    assert inspect_file(workbook).format == "sirene_unites_legales"


def test_zip_holding_an_unexpected_member_says_what_it_holds(db, tmp_path):
    before = dump(db)
    inner = _zip(tmp_path / "inner.zip", {"x.csv": b"a\n1\n"})
    nested = _zip(tmp_path / "nested.zip", {"inner.zip": inner.read_bytes()})
    report = run_import(db, [nested])
    assert report.status == "rejected"
    assert "contient « inner.zip », une autre archive zip" in report.errors[0]
    empty = tmp_path / "vide.zip"
    zipfile.ZipFile(empty, "w").close()
    report = run_import(db, [empty])
    assert report.status == "rejected"
    assert "ne contient aucun fichier" in report.errors[0]
    assert dump(db) == before


def test_truncated_zip_is_refused_and_base_unchanged(db, tmp_path):
    run_import(db, [UL])
    before = dump(db)
    _ul, et = _insee_zips(tmp_path)
    data = et.read_bytes()
    cut = tmp_path / "StockEtablissement_tronque.zip"
    cut.write_bytes(data[: len(data) // 2])
    report = run_import(db, [cut])
    assert report.status == "rejected"
    assert report.error_codes == [Reason.DAMAGED]
    assert "tronquée ou endommagée" in report.errors[0]
    # A member whose bytes are corrupt (CRC) is refused when it is decompressed.
    corrupt = tmp_path / "corrompu.zip"
    raw = bytearray(data)
    start = raw.index(b"StockEtablissement_utf8.csv") + len("StockEtablissement_utf8.csv") + 40
    raw[start : start + 20] = bytes(20)
    corrupt.write_bytes(bytes(raw))
    report = run_import(db, [corrupt])
    assert report.status == "rejected"
    assert report.error_codes[0] in (Reason.DAMAGED, Reason.BINARY)
    assert dump(db) == before


def test_zip_bomb_through_the_browser_is_refused(db, tmp_path):
    before = dump(db)
    header = ETAB.read_text().splitlines()[0] + "\n"
    bomb = tmp_path / "bombe.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("StockEtablissement_utf8.csv", "w") as member:
            member.write(header.encode())
            block = (b"," * header.count(",") + b"\n") * 100_000
            for _ in range(4):  # ≈ 21 Mo of commas, ≈ 20 ko zipped
                member.write(block)
    limits = UploadLimits(max_bytes=5 * 1024 * 1024)
    report = run_import(db, [bomb], limits=limits)
    assert report.status == "rejected"
    assert report.error_codes == [Reason.TOO_EXPANDED]
    assert "se décompresse en plus de" in report.errors[0]
    assert dump(db) == before
    # The real bytes are counted while decompressing too (declared sizes are not trusted):
    # decompression stops at the limit and leaves nothing behind.
    target = tmp_path / "membre.csv"
    with pytest.raises(FileRejected) as refused:
        extract_member(
            bomb, "StockEtablissement_utf8.csv", target, name="bombe.zip", max_bytes=1 << 20
        )
    assert refused.value.code == Reason.TOO_EXPANDED
    assert not target.exists()


def test_gzip_and_parquet_stocks_import_like_the_csv(db, tmp_path):
    gz_ul, gz_et = tmp_path / "ul.csv.gz", tmp_path / "et.csv.gz"
    gz_ul.write_bytes(gzip.compress(UL.read_bytes()))
    gz_et.write_bytes(gzip.compress(ETAB.read_bytes()))
    report = run_import(db, [gz_ul, gz_et])
    assert report.status == "committed", report.errors
    gz = _figures(db)
    pq_ul, pq_et = tmp_path / "StockUniteLegale.parquet", tmp_path / "StockEtablissement.parquet"
    con = duckdb.connect()
    for src, dst in ((UL, pq_ul), (ETAB, pq_et)):
        con.execute(
            f"COPY (SELECT * FROM read_csv('{src}', all_varchar=true)) TO '{dst}' (FORMAT parquet)"
        )
    con.close()
    other = store.connect(tmp_path / "pq.duckdb")
    build_fixture_geography(other)
    nomenclatures.register(other)
    report = run_import(other, [pq_ul, pq_et])
    assert report.status == "committed", report.errors
    assert _figures(other) == gz
    other.close()


def test_preview_of_a_zip_reads_only_its_head(tmp_path):
    _ul, et = _insee_zips(tmp_path)
    report, frame = preview(et, rows=3)
    assert report.member == "StockEtablissement_utf8.csv"
    assert len(frame) == 3
    assert frame["siret"].iloc[0] == "10000000100015"


def test_cli_imports_the_zips_with_progress_on_stderr(tmp_path, capsys):
    db_path = tmp_path / "cli.duckdb"
    con = store.connect(db_path)
    build_fixture_geography(con)
    nomenclatures.register(con)
    con.close()
    ul, et = _insee_zips(tmp_path)
    code = cli.main(["import", str(ul), str(et), "--json", "--db", str(db_path)])
    out, err = capsys.readouterr()
    assert code == 0
    doc = json.loads(out)
    assert doc["status"] == "committed"
    assert doc["files"][0]["archive"] == "zip"
    assert "Lecture de StockUniteLegale_utf8.zip" in err
    assert "Import terminé" in err


def test_upload_extension_keeps_zip(tmp_path):
    from ess_diag import security

    assert security.upload_extension("StockEtablissement_utf8.ZIP") == ".zip"
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_column_mapping_reads_the_headers_inside_a_zip(tmp_path):
    from ess_diag.ingest.mapping import read_headers

    archive = _zip(tmp_path / "autre.zip", {"donnees.csv": b"code;valeur\n01001;3\n"})
    assert read_headers(archive) == ["code", "valeur"]
