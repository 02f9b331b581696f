"""Accueil: the selected territory at a glance and where to go next."""

from __future__ import annotations

import streamlit as st

import ess_diag_ui as ui
from ess_diag.formatting import escape, fmt_int, fmt_num, fmt_pct
from ess_diag_ui import data

level, code = ui.page_setup()
version = ui.data_version()
info = data.territory_info(level, code, version)
rural = data.rural_population_share(level, code, version)

st.title("ESS Diag")
st.markdown(
    "**Diagnostic territorial partagé de l'économie sociale et solidaire** — associations, "
    "coopératives, mutuelles, fondations et sociétés commerciales de l'ESS."
)
st.header(escape(ui.territory_label(level, code)))

c1, c2, c3 = st.columns(3)
c1.metric("Population municipale", fmt_int(info["population"]))
c2.metric("Communes", fmt_int(info["commune_count"]))
rural_label = "Population rurale"
if rural["definition"] != "grille":
    rural_label += " (estimation)"
c3.metric(rural_label, fmt_pct(rural["share"]))

definition = {
    "grille": "la grille communale de densité de l'INSEE importée (niveaux 5 à 7 = rural)",
    "mixte": "la grille communale de densité de l'INSEE pour les communes qu'elle couvre, une "
    "estimation d'après la densité pour les autres",
    "estimation": "une **estimation** d'après la densité de population de chaque commune, faute "
    "de grille communale de densité INSEE importée (page *Importer des données*)",
}[rural["definition"]]
st.caption(
    f"{fmt_int(rural['rural_communes'])} communes rurales sur {fmt_int(rural['communes'])} ; "
    f"surface {fmt_num(info['area_km2'], 0)} km², densité {fmt_num(info['density'], 1)} hab./km². "
    f"Rural selon {definition}."
)

st.subheader("Par où commencer ?")
st.markdown(
    "- **Vue d'ensemble** : l'ESS en quelques chiffres, comparée au département, à la région et "
    "à la France.\n"
    "- **Carte** : où sont les emplois et les acteurs de l'ESS.\n"
    "- **Secteurs**, **Ruralité**, **Évolution & résilience** : les forces et fragilités.\n"
    "- **Atelier** : projeter le diagnostic, recueillir les forces, faiblesses et besoins de la "
    "salle, voter et produire la synthèse le jour même.\n"
    "- **Importer des données** : SIRENE, URSSAF, grille de densité INSEE, vos listes d'acteurs."
)
st.caption(
    "Choisissez le territoire dans la barre latérale : région, département, intercommunalité, "
    "commune, ou recherchez-le par son nom ou son code."
)
