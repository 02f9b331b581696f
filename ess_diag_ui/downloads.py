"""Showing a chart with its downloads: PNG from plotly's own modebar (drawn in the browser,
offline) and the data behind it as CSV (and XLSX for tables)."""

from __future__ import annotations

import functools
import re

import pandas as pd
import streamlit as st

from ess_diag import exports, figures
from ess_diag.formatting import escape

from . import a11y

__all__ = [
    "csv_bytes",
    "xlsx_bytes",
    "download_data",
    "show_chart",
    "empty_state",
    "no_data_notice",
    "IMPORT_ESS",
    "IMPORT_SERIES",
]

#: What to import, said the same way on every page.
IMPORT_ESS = (
    "Importez le répertoire SIRENE (établissements et unités légales) ou des statistiques "
    "URSSAF / observatoire depuis la page « Importer des données »."
)
IMPORT_SERIES = (
    "Importez plusieurs années de statistiques : effectifs ESS (URSSAF, observatoire) et "
    "emploi privé commune × APE (URSSAF), page « Importer des données »."
)


# The files themselves are made by the package (also used by the CLI): safe to open.
csv_bytes = exports.csv_bytes
xlsx_bytes = exports.xlsx_bytes


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def download_data(
    frame: pd.DataFrame, stem: str, *, key: str, xlsx: bool = False, label: str = "Données"
) -> None:
    """CSV (and optionally XLSX) download buttons for ``frame``.

    The files are generated only when a button is clicked (a callable as ``data``): an XLSX of
    40 000 actors takes seconds and must not slow down every rerun of the page.
    """
    cols = st.columns([1, 1, 3]) if xlsx else [st]
    cols[0].download_button(
        f"{label} (CSV)",
        functools.partial(csv_bytes, frame),
        file_name=f"{stem}.csv",
        mime="text/csv",
        key=f"csv_{key}",
        icon=":material/download:",
        on_click="ignore",
    )
    if xlsx:
        cols[1].download_button(
            f"{label} (XLSX)",
            functools.partial(xlsx_bytes, frame),
            file_name=f"{stem}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key=f"xlsx_{key}",
            icon=":material/download:",
            on_click="ignore",
        )


def empty_state(reason: str, what_to_import: str | None = None) -> None:
    """A figure that cannot be drawn: say why, and what to import to get it."""
    text = escape(reason)
    if what_to_import:
        text += f"\n\n{escape(what_to_import)}"
    st.info(text, icon=":material/info:")


def no_data_notice(doc: dict) -> bool:
    """Say what to import when no ESS figure exists for the territory; True when so."""
    if doc.get("ess_jobs") is None and doc.get("ess_establishments") is None:
        empty_state("Aucune donnée sur l'ESS n'est chargée pour ce territoire.", IMPORT_ESS)
        return True
    return False


def show_chart(
    chart: figures.Chart,
    *,
    territory_suffix: str = "",
    height: int | None = None,
    what_to_import: str | None = None,
) -> None:
    """Title, figure (or the reason it is empty and what to import), note, and the CSV of the
    data behind it."""
    st.subheader(escape(chart.title))
    if chart.figure is None:
        empty_state(chart.empty_reason or "Pas de données pour ce graphique.", what_to_import)
        return
    a11y.plotly_chart(
        chart.figure,
        title=chart.title,
        data=chart.data,
        config=figures.plotly_config(chart),
        key=f"chart_{chart.key}",
        height=height or "content",
    )
    if chart.note:
        st.caption(escape(chart.note))
    if len(chart.data):
        stem = chart.filename + (f"_{_slug(territory_suffix)}" if territory_suffix else "")
        download_data(chart.data, stem, key=chart.key)
