"""Carte: an indicator by territory below the selected one, with the ESS actors on top."""

from __future__ import annotations

import functools

import streamlit as st

import ess_diag_ui as ui
from ess_diag import maps, nomenclatures, print_map
from ess_diag.formatting import escape, fmt_int, fmt_num, is_missing
from ess_diag_ui import a11y, cards, data, downloads

level, code = ui.page_setup()
year = ui.current_year()
version = ui.data_version()
label = ui.territory_label(level, code)

st.title("Carte")
st.markdown(f"**{escape(label)}**" + (f" — année {year}" if year else ""))

if year is None and data.indicator_doc(level, code, year, version)["ess_jobs"] is None:
    downloads.empty_state("Aucune donnée sur l'ESS n'est chargée.", downloads.IMPORT_ESS)

child_options = maps.child_levels(level)
c1, c2, c3 = st.columns([2, 2, 1.3])
indicator_key = c1.selectbox(
    "Indicateur",
    list(maps.MAP_INDICATORS),
    format_func=lambda k: maps.MAP_INDICATORS[k].label,
    key="map_indicator",
)
child_level = c2.selectbox(
    "Découpage",
    child_options,
    format_func=ui.level_plural_title,
    key=f"map_child_{level}",
)
show_actors = c3.toggle("Acteurs", value=level not in ("france", "region"), key="map_actors")
show_cooperation = c3.toggle(
    "Coopérations",
    key="map_cooperation",
    help="Relie les membres d'un même réseau (PTCE, groupement…) déclaré dans la liste d'acteurs.",
)

families: tuple[str, ...] | None = None
sectors: tuple[str, ...] | None = None
employers_only = False
if show_actors:
    f1, f2, f3 = st.columns([2, 2, 1])
    chosen_f = f1.multiselect(
        "Familles",
        list(nomenclatures.FAMILIES),
        format_func=nomenclatures.FAMILIES.get,
        placeholder="Toutes les familles",
        key="map_families",
    )
    chosen_s = f2.multiselect(
        "Secteurs",
        [s.key for s in nomenclatures.SECTORS],
        format_func=nomenclatures.SECTOR_LABELS.get,
        placeholder="Tous les secteurs",
        key="map_sectors",
    )
    employers_only = f3.toggle(
        "Employeurs",
        value=True,
        key="map_employers",
        help="Seulement les établissements qui ont au moins un salarié.",
    )
    families = tuple(chosen_f) or None
    sectors = tuple(chosen_s) or None

indicator = maps.MAP_INDICATORS[indicator_key]
outlines = data.map_outlines(level, code, child_level, version)
if outlines.empty:
    downloads.empty_state(
        "Pas de contours pour ce territoire.",
        "La géographie de référence n'est pas chargée : lancez « ess-diag init ».",
    )
    st.stop()
view, kf = data.map_view(
    level,
    code,
    child_level,
    indicator_key,
    year,
    show_actors,
    families,
    sectors,
    employers_only,
    version,
    show_cooperation=show_cooperation,
)

# The map's text alternative: this sentence (alt and caption) and the table « Données de la carte ».
map_alt = a11y.describe(
    f"{indicator.label}, {label}", view.table[["territoire", indicator.label]], "Carte"
)
map_col, legend_col = st.columns([4, 1])
with map_col:
    st.pydeck_chart(
        view.deck,
        height=560,
        key=f"map_{level}_{code}_{child_level}",
        alt=map_alt,
    )
    st.caption(escape(map_alt))
with legend_col:
    cards.legend(indicator.label, view.legend)
    if view.actor_legend:
        cards.legend("Acteurs de l'ESS (taille : emplois)", view.actor_legend, shape="circle")
    if view.cooperation_legend:
        cards.legend("Coopérations (réseaux)", view.cooperation_legend)

notes = []
if kf["jobs_source"].eq("estimation_sirene").any():
    notes.append(
        "Emplois **estimés** (tranches d'effectifs SIRENE) pour "
        f"{fmt_int(kf['jobs_source'].eq('estimation_sirene').sum())} territoires sans "
        "statistiques importées."
    )
if show_actors:
    if view.actors_total == 0:
        notes.append(
            "Aucun acteur de l'ESS géolocalisé ici avec ces filtres : importez le répertoire "
            "SIRENE géolocalisé ou une liste d'acteurs avec coordonnées."
        )
    elif view.actors_shown < view.actors_total:
        notes.append(
            f"Les {fmt_int(view.actors_shown)} plus grands employeurs sur "
            f"{fmt_int(view.actors_total)} acteurs sont dessinés ; choisissez un territoire plus "
            "petit ou filtrez pour les voir tous."
        )
if show_cooperation and not view.networks_shown:
    notes.append(
        "Aucune coopération ici : aucun réseau n'a au moins deux membres localisés dans ce "
        "territoire (colonne « Réseaux » de la liste d'acteurs)."
    )
elif show_cooperation:
    notes.append(
        "Coopérations : chaque membre est relié au centre de son réseau (membres situés dans le "
        "territoire)."
    )
if level == "france":
    notes.append(
        "Les départements d'outre-mer sont dessinés en encarts à l'ouest, chacun à sa propre échelle."
    )
notes.append("Pas de fond de carte (fonctionne sans internet) : contours des territoires seuls.")
for note in notes:
    st.caption(note)

table = view.table.merge(
    kf[["code", "jobs_source"]].rename(columns={"jobs_source": "source des emplois"}),
    on="code",
    how="left",
)
with st.expander("Données de la carte"):
    # Shown the French way; the CSV below keeps the raw numbers.
    shown = table.copy()
    shown[indicator.label] = [
        "non disponible" if is_missing(v) else maps.format_value(v, indicator.kind)
        for v in table[indicator.label]
    ]
    st.dataframe(shown, hide_index=True)
    st.caption(f"Poids de la carte envoyée au navigateur : {fmt_num(view.json_bytes / 1e6, 2)} Mo.")
downloads.download_data(table, f"ess_diag_carte_{indicator_key}_{level}_{code}", key="map_data")


# --- Imprimer pour le paperboard: the same map as a vector PDF/SVG, A4 to A0 -------------------
def _printed(request: print_map.PrintRequest, fmt: str, mosaic: bool) -> bytes:
    return print_map.render(ui.get_con().cursor(), request, fmt, mosaic=mosaic)[0]


with st.expander("Imprimer pour le paperboard"):
    st.caption(
        "Carte vectorielle à l'échelle, communes nommées, légende, échelle et nord, marge pour "
        "écrire. Sans traceur : la mosaïque A4 découpe la grande page en feuilles A4 à "
        "assembler (recouvrement et traits de coupe)."
    )
    p1, p2, p3, p4 = st.columns(4)
    page_size = p1.selectbox("Format de page", list(print_map.PAGE_SIZES_MM), index=1,
                             key="print_page")  # fmt: skip
    orientation = p2.selectbox("Orientation", print_map.ORIENTATIONS, index=1,
                               format_func=str.capitalize, key="print_orientation")  # fmt: skip
    file_format = p3.selectbox("Fichier", print_map.FORMATS, format_func=str.upper,
                               key="print_format")  # fmt: skip
    mosaic = p4.toggle("Mosaïque A4", key="print_mosaic", disabled=file_format != "pdf",
                       help="La page découpée en feuilles A4 (PDF) avec un plan d'assemblage.")  # fmt: skip
    zones_sector = st.selectbox(
        "Hachurer les zones blanches d'un secteur (communes sans établissement employeur de "
        "l'ESS de ce secteur)",
        [None, *(s.key for s in nomenclatures.SECTORS)],
        format_func=lambda k: "Aucune" if k is None else nomenclatures.SECTOR_LABELS[k],
        key="print_zones",
    )
    request = print_map.PrintRequest(
        level,
        code,
        indicator=indicator_key,
        child_level=child_level,
        actors=show_actors,
        zones_sector=zones_sector,
        page=page_size,
        orientation=orientation,
        year=year,
    )
    mosaic = mosaic and file_format == "pdf"
    st.download_button(
        f"Télécharger la carte {page_size} ({'mosaïque A4, PDF' if mosaic else file_format.upper()})",
        functools.partial(_printed, request, file_format, mosaic),
        file_name=print_map.file_name(request, file_format, mosaic),
        mime="application/pdf" if file_format == "pdf" else "image/svg+xml",
        key="print_download",
        icon=":material/print:",
    )
