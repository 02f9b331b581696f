"""Méthodologie & sources: definitions, the data loaded (sources, dates), import history."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

import ess_diag_ui as ui
from ess_diag import config, store
from ess_diag.formatting import escape, fmt_date, fmt_int
from ess_diag.vocabulary import LEVEL_LABELS, LEVELS
from ess_diag_ui import downloads

ui.page_setup()
con = ui.get_con()

st.title("Méthodologie & sources")

tab_def, tab_data, tab_imports = st.tabs(
    ["Définitions", "Données chargées", "Historique des imports"]
)

with tab_def:
    doc_path = config.PROJECT_ROOT / "docs" / "methodologie.md"
    if doc_path.exists():
        # Our own documentation (no raw HTML in it): rendered as markdown.
        st.markdown(doc_path.read_text(encoding="utf-8"))
    else:
        downloads.empty_state("La documentation méthodologique (docs/methodologie.md) est absente.")


def _frame(sql: str) -> pd.DataFrame:
    return con.cursor().execute(sql).df()


#: Source keys written by the importers and the demo, as the tables show them.
_SOURCE_LABELS = {
    "demo": "démonstration (simulé)",
    "sirene": "SIRENE",
    "urssaf": "URSSAF",
    "modele": "liste d'acteurs (modèle)",
    "saisie": "saisie",
}


def _loaded_table(title: str, sql: str, empty: str) -> None:
    """A subheader and the table of what is loaded (French labels, numbers as in France)."""
    st.subheader(title)
    frame = _frame(sql)
    if frame.empty:
        st.caption(empty)
        return
    if "source" in frame:
        frame["source"] = frame["source"].map(lambda k: _SOURCE_LABELS.get(k, k))
    if "niveau" in frame:
        frame["niveau"] = frame["niveau"].map(lambda k: LEVEL_LABELS.get(k, k))
    numbers = {
        c: st.column_config.NumberColumn(c, format="localized")
        for c in frame.columns
        if pd.api.types.is_integer_dtype(frame[c]) and "année" not in c
    }
    st.dataframe(frame, hide_index=True, column_config=numbers)


with tab_data:
    st.subheader("Référentiel géographique")
    st.write(escape(store.get_meta(con.cursor(), "geography_source", "non chargé") or ""))
    levels = dict(
        con.cursor().execute("SELECT level, count(*) FROM territories GROUP BY level").fetchall()
    )
    if levels:
        st.caption(
            " · ".join(
                f"{ui.level_plural_title(level)} : {fmt_int(levels[level])}"
                for level in reversed(LEVELS)
                if level in levels and level != "france"
            )
        )
    if store.get_meta(con.cursor(), "demo") == "1":
        st.warning("Les données d'ESS chargées sont des **données de démonstration** (simulées).")

    _loaded_table(
        "Statistiques de l'ESS",
        'SELECT source AS source, level AS niveau, min(year) AS "première année", '
        'max(year) AS "dernière année", count(*) AS lignes FROM ess_stats '
        "GROUP BY source, level ORDER BY source, level",
        "Aucune statistique ESS importée (URSSAF, observatoire).",
    )
    _loaded_table(
        "Emploi privé (dénominateur des parts)",
        'SELECT source AS source, min(year) AS "première année", max(year) AS "dernière année", '
        "count(DISTINCT commune_code) AS communes, count(*) AS lignes "
        "FROM private_employment GROUP BY source ORDER BY source",
        "Aucune donnée d'emploi privé importée (URSSAF commune × APE).",
    )
    _loaded_table(
        "Acteurs",
        'SELECT source AS source, count(*) AS acteurs, count(*) FILTER (WHERE is_ess) AS "dont ESS", '
        'count(*) FILTER (WHERE lon IS NOT NULL) AS "géolocalisés", '
        'count(*) FILTER (WHERE jobs_is_estimate) AS "emplois estimés" '
        "FROM actors GROUP BY source ORDER BY source",
        "Aucun acteur chargé (répertoire SIRENE, liste d'acteurs).",
    )

with tab_imports:
    imports = _frame(
        "SELECT import_id, kind, status, created_at, files, rows_read, rows_loaded, "
        "rows_set_aside, undone_at FROM imports ORDER BY created_at DESC"
    )
    if imports.empty:
        st.caption(
            "Aucun import enregistré. Les données de démonstration et la géographie de référence "
            "sont créées par « ess-diag init »."
        )
    else:

        def _names(files) -> str:
            try:
                items = json.loads(files or "[]")
            except (TypeError, ValueError):
                return ""
            if isinstance(items, dict):
                items = [items]
            return ", ".join(str(i.get("name", "")) for i in items if isinstance(i, dict))

        table = pd.DataFrame(
            {
                "date": [fmt_date(d) for d in imports["created_at"]],
                "type": imports["kind"],
                "statut": imports["status"]
                .map({"committed": "chargé", "undone": "annulé"})
                .fillna(imports["status"]),
                "fichiers": [_names(f) for f in imports["files"]],
                "lignes lues": imports["rows_read"],
                "lignes chargées": imports["rows_loaded"],
                "lignes écartées": imports["rows_set_aside"],
                "identifiant": imports["import_id"],
            }
        )
        st.dataframe(
            table,
            hide_index=True,
            column_config={
                c: st.column_config.NumberColumn(c, format="localized")
                for c in ("lignes lues", "lignes chargées", "lignes écartées")
            },
        )
        downloads.download_data(table, "ess_diag_historique_imports", key="imports")
