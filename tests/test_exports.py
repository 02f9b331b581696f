"""Spreadsheet files handed to users are safe to open (ess_diag.exports)."""

import io

import openpyxl
import pandas as pd
import pytest

from ess_diag import exports

DANGEROUS = ['=HYPERLINK("http://exemple.invalid","clic")', "+1", "-1+2", "@SUM(A1)"]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "nom": [*DANGEROUS, "Ça\x01va", "Café"],
            "emplois": [1, -2, 3.5, 0, 7, 8],
        }
    )


def test_csv_writes_formula_like_text_as_text_and_keeps_numbers():
    raw = exports.csv_bytes(_frame())
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(raw), sep=";", decimal=",", encoding="utf-8-sig", dtype=str)
    assert back["nom"].tolist() == [*("'" + d for d in DANGEROUS), "Çava", "Café"]
    # A negative number is a number, not text to neutralise.
    assert back["emplois"].tolist() == ["1,0", "-2,0", "3,5", "0,0", "7,0", "8,0"]


def test_xlsx_writes_formula_like_text_as_text_cells():
    book = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(_frame(), "acteurs")))
    sheet = book["acteurs"]
    names = [sheet.cell(row=r, column=1) for r in range(2, 8)]
    assert [c.value for c in names] == [*DANGEROUS, "Çava", "Café"]
    assert {c.data_type for c in names} == {"s"}  # no formula cell
    numbers = [sheet.cell(row=r, column=2).value for r in range(2, 8)]
    assert numbers == [1, -2, 3.5, 0, 7, 8]
    assert all(sheet.cell(row=r, column=2).data_type == "n" for r in range(2, 8))


@pytest.mark.parametrize("header", ["=cmd", "+x"])
def test_headers_are_neutralised_too(header):
    frame = pd.DataFrame({header: ["a"]})
    assert exports.csv_bytes(frame).decode("utf-8-sig").splitlines()[0] == "'" + header
    book = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(frame)))
    assert book.active.cell(row=1, column=1).data_type == "s"
