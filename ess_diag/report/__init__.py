"""The workshop synthesis: a self-contained HTML page, an A4 PDF and an XLSX of contributions.

:func:`content.describe` builds one description of the synthesis (the room's contributions and
votes from :func:`ess_diag.workshop.synthesis`, the territory's figures from
:func:`key_figures`); ``html``, ``pdf`` and ``xlsx`` each render that description. Charts and
the map are drawn without a browser — inline SVG in the HTML, vector drawing in the PDF — so
the export works offline, in a town hall with no internet, and the HTML opens anywhere.

Everything a participant wrote is escaped before it reaches HTML or SVG; XLSX cells are written
as text so a contribution starting with ``=`` never becomes a formula.

>>> slug("Atelier ESS : Bâgé-le-Châtel !")
'atelier-ess-bage-le-chatel'
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from . import html, pdf, xlsx
from .content import (
    CATEGORY_COLOURS,
    KeyFigures,
    SynthesisReport,
    describe,
    file_stem,
    key_figures,
    slug,
)
from .pdf import FONT_CANDIDATES

__all__ = [
    "CATEGORY_COLOURS",
    "FONT_CANDIDATES",
    "KeyFigures",
    "SynthesisReport",
    "describe",
    "key_figures",
    "build_html",
    "build_pdf",
    "build_xlsx",
    "export_all",
    "slug",
    "file_stem",
]


def build_html(
    con: duckdb.DuckDBPyConnection,
    session_id: str,
    year: int | None = None,
    *,
    figures: KeyFigures | None = None,
) -> str:
    """The synthesis as one self-contained HTML page (no script, no outside resource)."""
    return html.render(describe(con, session_id, year, figures=figures))


def build_pdf(
    con: duckdb.DuckDBPyConnection,
    session_id: str,
    year: int | None = None,
    *,
    figures: KeyFigures | None = None,
    font_candidates: tuple[Path, ...] | None = None,
) -> bytes:
    """The synthesis as an A4 portrait PDF (Chiffres clés, Carte de l'atelier, Priorités
    votées, Contributions)."""
    return pdf.render(describe(con, session_id, year, figures=figures), font_candidates)


def build_xlsx(con: duckdb.DuckDBPyConnection, session_id: str) -> bytes:
    """The contributions (with votes, commune, sector, merged duplicates) as an Excel file."""
    # The workbook shows no figure: an unknown territory must not stop it, nor cost a query.
    return xlsx.render(describe(con, session_id, figures=KeyFigures()))


def export_all(
    con: duckdb.DuckDBPyConnection, session_id: str, year: int | None = None
) -> dict[str, bytes]:
    """The three exports from one description: ``{"html", "pdf", "xlsx"}``."""
    synthesis = describe(con, session_id, year)
    return {
        "html": html.render(synthesis).encode("utf-8"),
        "pdf": pdf.render(synthesis),
        "xlsx": xlsx.render(synthesis),
    }
