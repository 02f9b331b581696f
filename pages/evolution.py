"""Évolution & résilience: ESS jobs against the rest of the private sector over the years,
and the parts of resilience (diversity, concentration, age) shown separately."""

from __future__ import annotations

import streamlit as st

import ess_diag_ui as ui
from ess_diag import figures, indicators
from ess_diag.formatting import NOT_AVAILABLE, escape, fmt_int, fmt_num, fmt_pct, fmt_signed_pct
from ess_diag.references import RURAL_CHANGE, rural_study_citation
from ess_diag_ui import data, downloads

level, code = ui.page_setup()
year = ui.current_year()
version = ui.data_version()
label = ui.territory_label(level, code)

st.title("Évolution & résilience")
st.markdown(f"**{escape(label)}**")

doc = data.indicator_doc(level, code, year, version)
evo = doc["evolution"]
res = doc["resilience"]


st.header("Évolution de l'emploi")
if evo["start_year"] is not None and evo["end_year"] is not None:
    period = f"{evo['start_year']} → {evo['end_year']}"
    c1, c2, c3 = st.columns(3)
    c1.metric(f"Emplois de l'ESS, {period}", fmt_signed_pct(evo["change"]["ess_jobs"]), border=True)
    c2.metric(
        f"Reste de l'emploi privé, {period}",
        fmt_signed_pct(evo["change"]["non_ess_private_jobs"]),
        border=True,
    )
    declines = evo["decline_years"]["ess_jobs"]
    c3.metric(
        "Années de baisse de l'emploi ESS",
        fmt_int(len(declines)),
        help="Une année est « de baisse » quand l'emploi y est inférieur à l'année précédente.",
        border=True,
    )
    if declines:
        st.caption(
            "Années de baisse de l'emploi ESS : " + ", ".join(str(y) for y in declines) + "."
        )

downloads.show_chart(
    figures.index_chart(evo), territory_suffix=code, what_to_import=downloads.IMPORT_SERIES
)
with st.expander("Comment lire ce graphique ?", expanded=True):
    st.markdown(
        "Les deux courbes partent de **100** la première année : une valeur de 110 signifie "
        "10 % d'emplois de plus que cette année-là. Si la courbe de l'ESS reste au-dessus de "
        "celle du reste du privé, l'ESS a mieux résisté ou davantage créé d'emplois. Au niveau "
        "national, entre 2008 et 2015, dans les territoires ruraux, l'emploi de l'ESS a "
        f"progressé de {fmt_signed_pct(RURAL_CHANGE['ess'][0])} quand l'emploi privé hors ESS "
        f"évoluait de {fmt_signed_pct(RURAL_CHANGE['private_non_ess'][0])} (et l'ensemble de "
        f"l'économie hors ESS, emploi public compris, de "
        f"{fmt_signed_pct(RURAL_CHANGE['non_ess_all'][0])}) — "
        f"{escape(rural_study_citation())} ; sa définition du rural n'est pas celle d'ESS Diag "
        "(voir la page Ruralité)."
    )
downloads.show_chart(
    figures.jobs_series_chart(evo), territory_suffix=code, what_to_import=downloads.IMPORT_SERIES
)

st.header("Évolution du nombre d'établissements employeurs")
history = doc["sirene_history"]
IMPORT_HISTORY = (
    "Importez l'historique des établissements SIRENE (StockEtablissementHistorique, et "
    "StockUniteLegaleHistorique pour la forme juridique au fil du temps) après le stock des "
    "établissements, page « Importer des données »."
)
if history:
    first, last = history[0], history[-1]
    h1, h2, h3 = st.columns(3)
    h1.metric(
        f"Au 31 décembre {last['year']}",
        fmt_int(last["establishments"]),
        help="Établissements de l'ESS actifs et employeurs au 31 décembre (SIRENE).",
        border=True,
    )
    h2.metric(
        f"Évolution {first['year']} → {last['year']}",
        fmt_signed_pct(indicators.history_change(history)),
        border=True,
    )
    h3.metric(
        "Années couvertes",
        fmt_int(len(history)),
        help="De 2008 (ou de la première année du fichier) à la dernière année complète.",
        border=True,
    )
chart = figures.history_chart(history)
if history and doc["demo"]:
    st.caption("Série simulée : données de démonstration, pas l'historique SIRENE réel.")
downloads.show_chart(chart, territory_suffix=code, what_to_import=IMPORT_HISTORY)
if history:
    with st.expander("Tableau par année et par famille"):
        st.dataframe(chart.data, hide_index=True, width="stretch")
with st.expander("Définition et limites", expanded=not history):
    st.markdown(
        "**Définition** : établissements dont l'unité légale relève de l'ESS (forme juridique "
        "ou mention ESS à cette date), **actifs et employeurs au 31 décembre** de chaque année, "
        "d'après l'historique du répertoire SIRENE (périodes de chaque établissement).\n\n"
        "**Limites** : les effectifs ne sont pas historisés — la série compte des "
        "établissements, pas des emplois ; les adresses non plus — la commune est celle du "
        "stock actuel (un déménagement crée un nouveau SIRET) ; le caractère employeur est "
        "celui que le répertoire enregistre ; les unités en diffusion partielle sont comptées "
        "sans être nommées. Voir la page Méthodologie."
    )

st.header("Résilience : les éléments, séparément")
st.caption(
    "Pas de note globale : chaque élément se lit seul, avec ses limites (voir Méthodologie)."
)
r1, r2, r3 = st.columns(3)
r1.metric(
    "Diversité sectorielle (0 à 1)",
    fmt_num(res["sector_diversity"], 2),
    help=res["notes"].get("sector_diversity"),
    border=True,
)
r1.caption(
    f"{fmt_int(res['sectors_present'])} secteurs présents sur {fmt_int(res['sectors_total'])}. "
    "Indice 1 : emplois également répartis entre tous les secteurs ; proche de 0 : concentrés "
    "dans un seul."
)
r2.metric(
    "Part des 5 premiers employeurs",
    fmt_pct(res["top5_employers_share"]),
    help=res["notes"].get("top5_employers_share"),
    border=True,
)
r2.caption(
    f"Sur {fmt_int(res['employers'])} employeurs de l'ESS (répertoire SIRENE). Plus la part est "
    "forte, plus le territoire dépend de quelques structures."
)
r3.metric(
    "Âge médian des établissements",
    NOT_AVAILABLE
    if res["median_age_years"] is None
    else f"{fmt_num(res['median_age_years'], 0)} ans",
    help=res["notes"].get("median_age_years"),
    border=True,
)
r3.caption("Âge médian des établissements employeurs de l'ESS à la fin de l'année choisie.")

downloads.show_chart(
    figures.top_employers_chart(res), territory_suffix=code, what_to_import=downloads.IMPORT_ESS
)
