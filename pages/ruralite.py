"""Ruralité: the ESS in the rural and urban communes of the territory."""

from __future__ import annotations

import streamlit as st

import ess_diag_ui as ui
from ess_diag import figures
from ess_diag.formatting import escape, fmt_int, fmt_pct
from ess_diag_ui import cards, data, downloads

level, code = ui.page_setup()
year = ui.current_year()
version = ui.data_version()
label = ui.territory_label(level, code)

st.title("Ruralité")
st.markdown(f"**{escape(label)}**" + (f" — année {year}" if year else ""))

doc = data.indicator_doc(level, code, year, version)
rural = doc["rural"]

st.info(
    "**Définition utilisée** : " + escape(rural["definition_label"]) + ".",
    icon=":material/rule:",
)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Communes rurales", fmt_int(rural["rural_communes"]), border=True)
c2.metric("Communes urbaines", fmt_int(rural["urban_communes"]), border=True)
c3.metric("Population rurale", fmt_pct(rural["rural_population_share"]), border=True)
c4.metric(
    "Emplois ESS en rural",
    fmt_pct(rural["share_ess_jobs_rural"]),
    help=rural["notes"].get("share_ess_jobs_rural"),
    border=True,
)
cards.jobs_source_caption(doc)
downloads.no_data_notice(doc)

downloads.show_chart(figures.rural_chart(rural), territory_suffix=code)
with st.expander("Comment lire ce graphique ?", expanded=True):
    st.markdown(
        "Chaque barre rapporte les emplois de l'ESS aux emplois privés **des communes de ce "
        "type** du territoire. Dans les territoires ruraux français, l'ESS pèse en moyenne "
        "17,7 % de l'emploi privé (observatoire national de l'ESS) : elle y est souvent le "
        "premier employeur de l'action sociale et de l'aide à domicile."
    )
if not rural["rural_communes"] or not rural["urban_communes"]:
    kind = "rurales" if rural["rural_communes"] else "urbaines"
    st.caption(f"Toutes les communes de ce territoire sont {kind} : pas de comparaison interne.")
