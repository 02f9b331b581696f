"""Acteurs: the searchable list of the territory's ESS actors, a fiche each, CSV/XLSX export."""

from __future__ import annotations

import streamlit as st

import ess_diag_ui as ui
from ess_diag import actor_list, nomenclatures
from ess_diag.formatting import escape, fmt_int
from ess_diag_ui import cards, data, downloads

level, code = ui.page_setup()
version = ui.data_version()
label = ui.territory_label(level, code)

st.title("Acteurs de l'ESS")
st.markdown(f"**{escape(label)}**")

o1, o2, o3 = st.columns(3)
include_closed = o1.toggle("Inclure les établissements fermés", key="actors_closed")
include_non_ess = o2.toggle("Inclure les acteurs hors ESS", key="actors_non_ess")
employers_only = o3.toggle("Employeurs seulement", key="actors_employers")

frame = data.actors_table(level, code, include_non_ess, include_closed, version)
if frame.empty:
    downloads.empty_state(
        "Aucun acteur de l'ESS n'est chargé pour ce territoire.",
        "Importez le répertoire SIRENE (établissements et unités légales) ou votre liste "
        "d'acteurs (modèle CSV/XLSX) depuis la page « Importer des données ».",
    )
    st.stop()

f1, f2, f3 = st.columns([2, 2, 2])
search = f1.text_input("Rechercher", placeholder="Nom, commune ou SIRET", key="actors_search")
families = f2.multiselect(
    "Familles", list(nomenclatures.FAMILIES.values()), placeholder="Toutes", key="actors_fam"
)
sectors = f3.multiselect(
    "Secteurs", list(nomenclatures.SECTOR_LABELS.values()), placeholder="Tous", key="actors_sec"
)
# Cooperation (issue 15): the networks declared in the actor template, and who looks for
# partners (declared needs).
g1, g2 = st.columns([4, 2])
networks = g1.multiselect(
    "Réseaux (PTCE, groupements…)",
    actor_list.networks_present(frame),
    placeholder="Tous" if frame["réseaux"].notna().any() else "Aucun réseau déclaré",
    key="actors_networks",
    help="Réseaux déclarés dans la colonne « Réseaux » de la liste d'acteurs importée.",
)
seeking = g2.toggle(
    "Cherche des partenaires",
    key="actors_seeking",
    help="Acteurs qui ont déclaré des besoins (colonne « Besoins » de la liste d'acteurs).",
)
shown = actor_list.filter_actors(
    frame,
    search=search,
    families=families,
    sectors=sectors,
    employers_only=employers_only,
    networks=networks,
    seeking_partners=seeking,
)
estimated = int(shown["emplois estimés"].fillna(False).sum())
st.caption(
    f"{fmt_int(len(shown))} acteurs sur {fmt_int(len(frame))}. Emplois : centre de la tranche "
    f"d'effectifs SIRENE (**estimation**) pour {fmt_int(estimated)} d'entre eux. Les entrées en "
    "« diffusion partielle » ne montrent ni nom ni adresse."
)

# Drawing tens of thousands of rows slows every rerun: the table shows the largest employers
# first and the search narrows it; the exports below always hold every matching row.
MAX_ROWS = 2000
visible = shown.head(MAX_ROWS)
if len(shown) > MAX_ROWS:
    st.caption(
        f"Le tableau montre les {fmt_int(MAX_ROWS)} plus grands employeurs : utilisez la "
        "recherche ou les filtres pour les autres (les exports contiennent toute la liste)."
    )
# st.dataframe draws text in a canvas: a name written in HTML shows as text.
event = st.dataframe(
    visible,
    hide_index=True,
    column_order=[
        "nom",
        "commune",
        "famille",
        "secteur",
        "emplois",
        "emplois estimés",
        "SIRET",
        *(["réseaux"] if networks or frame["réseaux"].notna().any() else []),
        *(["besoins"] if seeking else []),
    ],
    column_config={
        "nom": st.column_config.TextColumn("nom", width="large"),
        "commune": st.column_config.TextColumn("commune", width="medium"),
        "famille": st.column_config.TextColumn("famille", width="small"),
        "secteur": st.column_config.TextColumn("secteur", width="medium"),
        "emplois": st.column_config.NumberColumn("emplois", format="localized", width="small"),
        "emplois estimés": st.column_config.CheckboxColumn("estimation", width="small"),
        "SIRET": st.column_config.TextColumn("SIRET", width="medium"),
        "réseaux": st.column_config.TextColumn("réseaux", width="medium"),
        "besoins": st.column_config.TextColumn("besoins", width="large"),
    },
    on_select="rerun",
    selection_mode="single-row",
    key="actors_table",
    height=420,
)
stem = f"ess_diag_acteurs_{level}_{code}"
downloads.download_data(shown, stem, key="actors", xlsx=True, label="Liste")

st.subheader("Fiche de l'acteur")
rows = event.selection.rows if event is not None else []
if not rows:
    st.caption("Cliquez sur une ligne du tableau pour afficher la fiche de l'acteur.")
else:
    actor_id = visible.iloc[rows[0]]["identifiant"]
    fiche = actor_list.actor_fiche(ui.get_con(), actor_id)
    if fiche:
        st.html(cards.fiche_html(fiche))
