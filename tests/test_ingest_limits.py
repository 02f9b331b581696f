"""Files sent through the browser are bounded (issue #12): a gzip or xlsx bomb, too many rows,
a preview that reads only what it shows; one import or undo at a time per base, while the
workshop keeps working."""

from __future__ import annotations

import gzip
import threading
import time
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest
from ingest_helpers import FIXTURES, snapshot, write
from openpyxl import Workbook

from ess_diag import derived, ingest, workshop
from ess_diag.ingest import Reason, UploadLimits, sniff
from ess_diag.ingest.errors import UndoError

HEADER = "CODGEO;LIBGEO;DENS;PMUN21\n"


@pytest.fixture
def con(geo_con):
    return geo_con


def _bomb(path: Path, rows: int = 3_000_000) -> Path:
    """A density grid of ``rows`` identical lines: a few hundred KB of gzip."""
    block = ("01001;L'Abergement-Clémenciat;6;832\n" * 20_000).encode()
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(HEADER.encode())
        for _ in range(rows // 20_000):
            out.write(block)
    return path


def test_gzip_bomb_refused_early_with_memory_bounded(con, tmp_path):
    bomb = _bomb(tmp_path / "grille.csv.gz")
    assert bomb.stat().st_size < 1_000_000  # compressed: under a megabyte…
    before = snapshot(con)
    tracemalloc.start()
    started = time.perf_counter()
    report = ingest.run_import(con, [bomb], names=["grille.csv.gz"], limits=UploadLimits())
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.status == "rejected"
    assert report.error_codes == [Reason.TOO_EXPANDED]
    assert "« grille.csv.gz »" in report.errors[0] and "se décompresse" in report.errors[0]
    assert elapsed < 10
    assert peak < 20 * 1024 * 1024  # streamed by chunks, never held whole
    assert snapshot(con) == before
    with pytest.raises(ingest.FileRejected) as exc:
        ingest.preview(bomb, name="grille.csv.gz", limits=UploadLimits())
    assert exc.value.code == Reason.TOO_EXPANDED


def test_an_ordinary_gzip_upload_passes_the_limits(con, tmp_path):
    text = (FIXTURES / "grille_densite_extrait.csv").read_bytes()
    path = tmp_path / "grille.csv.gz"
    path.write_bytes(gzip.compress(text))
    report = ingest.run_import(con, [path], limits=UploadLimits())
    assert report.status == "committed", report.errors


def test_too_many_rows_refused(con, tmp_path):
    path = write(
        tmp_path / "grille.csv",
        HEADER + "".join(f"0100{i};Commune;6;100\n" for i in (1, 2, 4, 5)),
    )
    before = snapshot(con)
    report = ingest.run_import(con, [path], limits=UploadLimits(max_rows=3))
    assert report.status == "rejected"
    assert report.error_codes == [Reason.TOO_MANY_ROWS]
    assert "plus de 3 lignes" in report.errors[0]
    assert snapshot(con) == before
    assert ingest.run_import(con, [path], limits=UploadLimits(max_rows=4)).status == "committed"


def test_xlsx_whose_members_expand_too_much_refused(con, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["CODGEO", "LIBGEO", "DENS"])
    for _ in range(2000):
        sheet.append(["01001", "x" * 50, 6])
    path = tmp_path / "grille.xlsx"
    book.save(path)
    report = ingest.run_import(con, [path], limits=UploadLimits(max_ratio=2))
    assert report.error_codes == [Reason.TOO_EXPANDED]


@pytest.mark.parametrize(
    "name",
    [
        "grille_densite_extrait.xlsx",
        "modele_acteurs_exemple.xlsx",
        "observatoire_cress_communes.xlsx",
    ],
)
def test_streamed_xlsx_head_reads_like_calamine(name):
    """Same cells as calamine (rows from A1, numbers as a spreadsheet shows them); blank rows
    after the last value may remain (the stream stops before it could know they are last)."""
    path = FIXTURES / name

    def lines(frame):
        text = [" ".join(r).rstrip() for r in sniff.xlsx_rows(frame)]
        while text and not text[-1]:
            text.pop()
        return text

    expected = lines(pd.read_excel(path, header=None, dtype=str, engine="calamine"))
    assert lines(sniff.read_xlsx_head(path, name, 1000)) == expected
    assert lines(sniff.read_xlsx_head(path, name, 3)) == lines(
        pd.read_excel(path, header=None, dtype=str, engine="calamine", nrows=3)
    )


def test_preview_of_a_large_workbook_never_loads_it_whole(monkeypatch, tmp_path):
    """Above the streaming threshold, the header search and the preview read the first rows
    only: the whole-workbook reader is never called."""
    monkeypatch.setattr(sniff, "_XLSX_STREAM_ABOVE", 0)

    def whole(*_a, **_k):
        raise AssertionError("the whole workbook was read")

    monkeypatch.setattr(sniff.pd, "read_excel", whole)
    report, frame = ingest.preview(FIXTURES / "grille_densite_extrait.xlsx")
    assert report.format == "grille_densite"
    assert frame["CODGEO"].tolist()[:2] == ["01001", "01002"]


def test_one_import_at_a_time_while_the_workshop_goes_on(con, monkeypatch):
    session = workshop.create_session(con, "departement", "01", "Atelier")
    participant = workshop.join(con, session.join_code, "Alice")
    entered, release = threading.Event(), threading.Event()
    real_refresh = derived.refresh

    def slow_refresh(c):
        entered.set()
        assert release.wait(30)
        real_refresh(c)

    monkeypatch.setattr(derived, "refresh", slow_refresh)
    results = {}
    first = threading.Thread(
        target=lambda: results.setdefault(
            "first",
            ingest.run_import(con.cursor(), [FIXTURES / "grille_densite_extrait.csv"]),
        )
    )
    first.start()
    try:
        assert entered.wait(30)
        second = ingest.run_import(con.cursor(), [FIXTURES / "grille_densite_extrait.csv"])
        assert second.status == "rejected"
        assert second.error_codes == [Reason.BUSY]
        assert "Un import est déjà en cours sur cette base" in second.errors[0]
        with pytest.raises(UndoError) as exc:
            ingest.undo_import(con.cursor(), "imp-inconnu")
        assert exc.value.code == Reason.BUSY
        # The room keeps posting while the import runs.
        workshop.post(
            con.cursor(), session.session_id, "besoins", "Une épicerie", participant_id=participant
        )
    finally:
        release.set()
        first.join(60)
    assert results["first"].status == "committed"
    assert ingest.run_import(con, [FIXTURES / "grille_densite_extrait.csv"]).status == "committed"
    texts = con.execute("SELECT text FROM workshop_contributions").fetchall()
    assert texts == [("Une épicerie",)]


# --- hostile workbooks (the streamed head reader) ---------------------------------------------
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _workbook(path: Path, sheet_rows: str, strings: list[str] = ()) -> Path:
    import zipfile

    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "xl/workbook.xml",
            f'<workbook {_NS} xmlns:r="{rel}"><sheets><sheet name="a" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>",
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="x"/></Relationships>',
        )
        z.writestr(
            "xl/worksheets/sheet1.xml",
            f"<worksheet {_NS}><sheetData>{sheet_rows}</sheetData></worksheet>",
        )
        sis = "".join(f"<si><t>{s}</t></si>" for s in strings)
        z.writestr("xl/sharedStrings.xml", f"<sst {_NS}>{sis}</sst>")
    return path


@pytest.mark.parametrize(
    "rows",
    [
        '<row r="1"><c r="ZZZZZZZ1" t="inlineStr"><is><t>x</t></is></c></row>',  # 8e9 columns
        '<row r="99999999"><c r="A99999999"><v>1</v></c></row>',
        '<row r="1"><c r="A1" t="s"><v>-1</v></c></row>',
        '<row r="1"><c r="A1" t="s"><v>abc</v></c></row>',
    ],
)
def test_hostile_sheet_refused_as_damaged(tmp_path, rows):
    path = _workbook(tmp_path / "x.xlsx", rows, ["a"])
    with pytest.raises(ingest.FileRejected) as exc:
        sniff.read_xlsx_head(path, "x.xlsx", 30)
    assert exc.value.code == Reason.DAMAGED
    assert "« x.xlsx » est illisible" in str(exc.value)


def test_rows_in_any_order_and_cells_without_reference(tmp_path):
    rows = (
        '<row r="3"><c r="A3" t="s"><v>2</v></c></row>'
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c t="s"><v>1</v></c></row>'
        '<row r="2"><c r="C2"><v>1.5</v></c></row>'
    )
    path = _workbook(tmp_path / "x.xlsx", rows, ["un", "deux", "trois"])
    frame = sniff.read_xlsx_head(path, "x.xlsx", 30)
    assert sniff.xlsx_rows(frame) == [["un", "deux", ""], ["", "", "1.5"], ["trois", "", ""]]


def test_limits_apply_only_to_the_files_named(con, tmp_path):
    folder_file = write(
        tmp_path / "grille.csv", HEADER + "01001;Commune;6;100\n01002;Commune;6;1\n"
    )
    report = ingest.run_import(
        con, [folder_file], limits=UploadLimits(max_rows=1), limited=["autre.csv"]
    )
    assert report.status == "committed", report.errors
