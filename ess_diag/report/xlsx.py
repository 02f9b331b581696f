"""The synthesis as an Excel workbook: the contributions (votes, commune, sector, merged
duplicates) and a sheet of workshop facts. Cells typed by someone are written as text, so a
contribution starting with ``=`` never becomes a formula (CSV/XLSX injection)."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from .content import Contribution, SynthesisReport

__all__ = ["render", "COLUMNS"]

#: (header, width) of the Contributions sheet.
COLUMNS: tuple[tuple[str, int], ...] = (
    ("Catégorie", 16),
    ("Contribution", 70),
    ("Votes", 8),
    ("Commune", 24),
    ("Code commune", 13),
    ("Secteur", 30),
    ("Auteur", 18),
    ("Doublons fusionnés", 10),
    ("Textes fusionnés", 40),
    ("Saisie par l'animateur", 12),
    ("Date (UTC)", 18),
    ("Acteurs nommés", 30),
)


def _append_as_text(sheet: Worksheet, values: list) -> None:
    """Append a row; its strings stay strings (never a formula)."""
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def _row(category_label: str, c: Contribution) -> list:
    return [
        category_label,
        c.text,
        c.votes,
        c.commune_name,
        c.commune_code,
        c.sector_label,
        c.author,
        c.merged_count,
        " | ".join(c.merged_texts) or None,
        "oui" if c.by_facilitator else "non",
        c.created_at,
        " | ".join(c.actors) or None,
    ]


def _contributions_sheet(sheet: Worksheet, synthesis: SynthesisReport) -> None:
    sheet.title = "Contributions"
    sheet.append([header for header, _ in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for block in synthesis.categories:
        for c in block.items:
            _append_as_text(sheet, _row(block.label, c))
    for cell, (_, width) in zip(sheet[1], COLUMNS, strict=True):
        sheet.column_dimensions[cell.column_letter].width = width
    for row in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions


def render(synthesis: SynthesisReport) -> bytes:
    """The XLSX of a :class:`~ess_diag.report.content.SynthesisReport` (two sheets:
    Contributions, Atelier)."""
    book = Workbook()
    _contributions_sheet(book.active, synthesis)
    info = book.create_sheet("Atelier")
    for label, value in synthesis.facts:
        _append_as_text(info, [label, value])
    if synthesis.follow_up:
        follow = book.create_sheet("Suites données")
        follow.append(["Rang", "Action", "Statut", "Porteur", "Échéance", "Indicateur suivi"])
        for cell in follow[1]:
            cell.font = Font(bold=True)
        for item in synthesis.follow_up:
            _append_as_text(
                follow,
                [item.rank, item.title, item.status_label, item.owner, item.due,
                 item.indicator_line or None],
            )  # fmt: skip
        for letter, width in zip("ABCDEF", (6, 60, 12, 24, 14, 70), strict=True):
            follow.column_dimensions[letter].width = width
    info.column_dimensions["A"].width = 38
    info.column_dimensions["B"].width = 50
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
