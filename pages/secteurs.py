"""Secteurs: ESS jobs by sector, the ESS share within each sector, specialisation."""

from __future__ import annotations

import streamlit as st

import ess_diag_ui as ui
from ess_diag import figures, indicators
from ess_diag.formatting import escape
from ess_diag.vocabulary import FRANCE_CODE
from ess_diag_ui import cards, data, downloads

level, code = ui.page_setup()
year = ui.current_year()
version = ui.data_version()
label = ui.territory_label(level, code)

st.title("Secteurs d'activité")
st.markdown(f"**{escape(label)}**" + (f" — année {year}" if year else ""))

doc = data.indicator_doc(level, code, year, version)
FRANCE = ("france", FRANCE_CODE)
# The reference of the specialisation index: France or one of the parents.
references = [FRANCE] + [
    (p["level"], p["code"]) for p in doc["comparisons"]["parents"] if p["level"] != "france"
]
names = {FRANCE: "France"} | {
    (p["level"], p["code"]): ui.territory_label(p["level"], p["code"])
    for p in doc["comparisons"]["parents"]
}
reference = (
    st.selectbox(
        "Territoire de référence pour la spécialisation",
        references,
        format_func=lambda r: names.get(r, r[1]),
        key="sector_reference",
    )
    if len(references) > 1
    else references[0]
)
# The document already holds the breakdown against France (the default reference).
sectors = (
    doc["by_sector"]
    if tuple(reference) == FRANCE
    else data.sector_breakdown(level, code, year, tuple(reference), version)
)
cards.jobs_source_caption(doc)
downloads.no_data_notice(doc)

downloads.show_chart(figures.sector_jobs_chart(sectors), territory_suffix=code)
with st.expander("Comment lire ce graphique ?"):
    st.markdown(
        "Chaque barre donne le nombre d'emplois de l'ESS du secteur et, entre parenthèses, sa "
        "part dans l'ensemble des emplois de l'ESS du territoire."
    )

downloads.show_chart(figures.sector_share_chart(sectors), territory_suffix=code)
with st.expander("Comment lire ce graphique ?"):
    st.markdown(
        "Pour chaque secteur, la part des emplois privés du territoire qui relèvent de l'ESS. "
        "Au niveau national, l'ESS pèse par exemple plus de la moitié de l'action sociale, "
        "mais quelques pour cent seulement du commerce."
    )

downloads.show_chart(figures.specialisation_chart(sectors), territory_suffix=code)
with st.expander("Comment lire ce graphique ?"):
    st.markdown(
        "L'indice compare le poids d'un secteur dans l'ESS du territoire à son poids dans l'ESS "
        "du territoire de référence. **1** : autant qu'ailleurs ; **1,5** : une fois et demie "
        "plus ; **0,5** : deux fois moins. Un indice élevé sur un petit secteur peut ne "
        "concerner que quelques emplois : lisez-le avec le premier graphique."
    )

st.caption(
    f"{len(indicators.DIVERSITY_SECTORS)} secteurs de l'ESS regroupant les divisions NAF rév. 2 "
    "(voir Méthodologie & sources)."
)
