"""CSV and XLSX files handed to users: French conventions, and safe to open.

Every spreadsheet file the app or the CLI writes goes through :func:`csv_bytes` or
:func:`xlsx_bytes`. Text that a spreadsheet would evaluate (starting with ``=``, ``+``, ``-``,
``@``, tab or carriage return — OWASP CSV injection) is never a formula: in a CSV it is prefixed
with an apostrophe (:func:`ess_diag.text.neutralize_cell`), in an XLSX it is written as a text cell,
exactly as typed. Numbers stay numbers. Control characters (which openpyxl refuses and which
break the file for its reader) are removed.
"""

from __future__ import annotations

import io

import pandas as pd

from . import text

__all__ = ["csv_bytes", "xlsx_bytes", "write_xlsx_sheet"]

#: Longest text openpyxl accepts in one cell.
_CELL_MAX = 32767


def _map_text(frame: pd.DataFrame, func) -> pd.DataFrame:
    from pandas.api.types import is_object_dtype, is_string_dtype

    out = frame.copy()
    for column in out.columns:
        if is_object_dtype(out[column].dtype) or is_string_dtype(out[column].dtype):
            out[column] = out[column].map(lambda v: func(v) if isinstance(v, str) else v)
    out.columns = [func(str(c)) for c in out.columns]
    return out


def _clean(value: str) -> str:
    return text.clean(value, _CELL_MAX)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV for French spreadsheets: ``;`` separator, decimal comma, UTF-8 with BOM (Excel)."""
    safe = _map_text(frame, lambda v: text.neutralize_cell(_clean(v)))
    return safe.to_csv(index=False, sep=";", decimal=",").encode("utf-8-sig")


def write_xlsx_sheet(writer: pd.ExcelWriter, frame: pd.DataFrame, sheet: str) -> None:
    """Write ``frame`` as one sheet of an openpyxl ``ExcelWriter``, formula-like text as text."""
    name = text.clean(sheet, 31, multiline=False) or "données"
    _map_text(frame, _clean).to_excel(writer, index=False, sheet_name=name)
    for row in writer.sheets[name].iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith(text.FORMULA_PREFIXES):
                cell.data_type = "s"  # shown as typed, never evaluated


def xlsx_bytes(frame: pd.DataFrame, sheet: str = "données") -> bytes:
    """The frame as an .xlsx workbook (one sheet)."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        write_xlsx_sheet(writer, frame, sheet)
    return buffer.getvalue()
