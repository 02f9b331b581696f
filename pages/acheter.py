"""Acheter à l'ESS: structures offering a purchase segment near a site, the reserved contracts
they open, groupings, and the files for a « rencontre acheteurs–ESS » (XLSX, PDF).

Read-only like the other diagnostic pages (open in network mode as Carte and Acteurs are):
it shows what the Acteurs page already shows, arranged for a buyer."""

from __future__ import annotations

import functools

import streamlit as st

import ess_diag_ui as ui
from ess_diag import nomenclatures, sourcing
from ess_diag.formatting import escape, fmt_int, fmt_num
from ess_diag.report import sourcing as sourcing_report
from ess_diag_ui import downloads

level, code = ui.page_setup()
con = ui.get_con()

st.title("Acheter à l'ESS")
st.caption(
    "Les structures de l'ESS et de l'inclusion qui proposent un segment d'achat autour d'un "
    "site, de la plus proche à la plus lointaine, et les marchés réservés qu'elles ouvrent "
    "(Code de la commande publique, art. L2113-12, L2113-13, L2113-15). Une structure propose "
    "un segment quand son code NAF en relève ou que ses prestations déclarées le citent."
)

#: Above this many communes, the commune is searched by name instead of listed.
MAX_LISTED = 5000

mode = st.radio(
    "Site du marché",
    ["commune", "point"],
    format_func={"commune": "Une commune", "point": "Un point (latitude, longitude)"}.get,
    horizontal=True,
    key="src_mode",
)
site: sourcing.Site | None = None
if mode == "commune":
    choices = [(c, n) for c, n in ui.data.commune_choices(level, code, ui.data_version())]
    if 0 < len(choices) <= MAX_LISTED:
        default = sourcing.main_commune(con, level, code)
        codes = [c for c, _n in choices]
        names = dict(choices)
        commune = st.selectbox(
            "Commune",
            codes,
            index=codes.index(default) if default in codes else 0,
            format_func=lambda c: f"{names[c]} ({c})",
            key=f"src_commune_{level}_{code}",
        )
    else:
        typed = st.text_input("Commune (nom ou code INSEE)", value="Lyon", key="src_commune_search")
        found = sourcing.find_communes(con, typed)
        labels = dict(found)
        commune = st.selectbox(
            "Commune trouvée",
            [c for c, _l in found],
            format_func=lambda c: f"{labels[c]} — {c}",
            key="src_commune_found",
        )
        if not found:
            st.info(escape(f"Aucune commune ne correspond à « {typed} »."))
    if commune:
        try:
            site = sourcing.site_for_commune(con, commune)
        except sourcing.SourcingError as exc:
            st.error(escape(str(exc)))
else:
    info = ui.data.territory_info(level, code, ui.data_version())
    p1, p2 = st.columns(2)
    lat = p1.number_input(
        "Latitude", -90.0, 90.0, float(info.get("lat") or 46.6), format="%.5f", key="src_lat"
    )
    lon = p2.number_input(
        "Longitude", -180.0, 180.0, float(info.get("lon") or 2.5), format="%.5f", key="src_lon"
    )
    site = sourcing.site_at(lat, lon)

c1, c2, c3 = st.columns([3, 2, 2])
segment = c1.selectbox(
    "Segment d'achat",
    list(nomenclatures.PURCHASE_SEGMENT_LABELS),
    format_func=nomenclatures.PURCHASE_SEGMENT_LABELS.get,
    key="src_segment",
)
radius = c2.slider("Rayon (km)", 1, 150, 20, key="src_radius")
min_jobs_in = c3.number_input(
    "Emplois minimum (0 : sans)",
    min_value=0,
    max_value=100_000,
    value=0,
    step=5,
    key="src_min_jobs",
    help="Taille attendue du titulaire : sans structure assez grande, des groupements de 2 "
    "ou 3 structures proches sont proposés.",
)
min_jobs = float(min_jobs_in) if min_jobs_in else None

if site is None:
    st.stop()

result = sourcing.search(con, site, float(radius), segment, min_jobs=min_jobs)
st.markdown(
    f"**{escape(result.segment_label)}** à moins de {fmt_int(radius)} km de "
    f"**{escape(site.label)}** : {fmt_int(len(result.results))} structure(s)."
)

cols = st.columns(4)
for col, (basis, n) in zip(cols, result.by_legal_basis.items(), strict=False):
    col.metric(
        basis,
        fmt_int(n),
        help=nomenclatures.LEGAL_BASES[basis][0],
        border=True,
    )
cols[3].metric(
    "Capacité totale",
    f"{fmt_num(result.total_jobs, 0)} emplois",
    help="Somme des emplois des structures trouvées (estimés d'après la tranche d'effectif "
    "SIRENE ou déclarés par une liste).",
    border=True,
)

deck = sourcing_report.build_deck(result, sourcing.outlines_near(con, site, float(radius)))
st.pydeck_chart(deck, height=520, key="src_map")
legend = " · ".join(
    f"<span style='color:{colour}'>●</span> {escape(label)}"
    for label, colour in (
        ("L2113-12 (EA, ESAT)", sourcing_report.BASIS_COLOURS["L2113-12"]),
        ("L2113-13 (SIAE)", sourcing_report.BASIS_COLOURS["L2113-13"]),
        ("L2113-15 (ESS, services sociaux)", sourcing_report.BASIS_COLOURS["L2113-15"]),
        ("aucune base de marché réservé", sourcing_report.BASIS_COLOURS[""]),
    )
)
st.markdown(
    f"<small>{legend} · <span style='color:#c81e2d'>◯</span> site et rayon</small>",
    unsafe_allow_html=True,
)

if not result.results:
    downloads.empty_state(
        "Aucune structure ne propose ce segment dans ce rayon.",
        "Élargissez le rayon, ou importez les listes de structures inclusives (SIAE, "
        "entreprises adaptées, ESAT, ESUS) et votre liste d'acteurs avec leurs prestations "
        "depuis la page « Importer des données ».",
    )
else:
    table = sourcing_report.table_frame(result)
    # st.dataframe draws text in a canvas: a name written in HTML shows as text.
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "distance (km)": st.column_config.NumberColumn(format="localized", width="small"),
            "nom": st.column_config.TextColumn(width="large"),
            "emplois": st.column_config.NumberColumn(format="localized", width="small"),
        },
        key="src_table",
        height=min(420, 38 + 35 * len(table)),
    )
    st.caption(
        "Emplois « estimés » : milieu de la tranche d'effectif SIRENE ; « déclarés » : donnés "
        "par une liste. Les entrées en diffusion partielle ne montrent pas de nom."
    )

if min_jobs is not None and not result.reached_by_one:
    st.subheader("Groupements possibles")
    st.markdown(
        escape(
            f"Aucune structure seule n'atteint {fmt_num(min_jobs, 0)} emplois : voici les "
            "combinaisons de 2 ou 3 structures proches (groupement momentané d'entreprises) "
            "qui l'atteignent ensemble."
        )
    )
    if result.groupings:
        st.dataframe(sourcing_report.groupings_frame(result), hide_index=True, key="src_gme")
    else:
        st.info("Aucune combinaison de 2 ou 3 structures proches n'atteint ce nombre.")

stem = sourcing_report.file_stem(result)
d1, d2, _ = st.columns([1, 1, 3])
d1.download_button(
    "Liste (XLSX)",
    functools.partial(sourcing_report.xlsx_bytes, result),
    file_name=f"{stem}.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    key="src_xlsx",
    icon=":material/download:",
    on_click="ignore",
)
d2.download_button(
    "Document (PDF)",
    functools.partial(sourcing_report.pdf_bytes, result),
    file_name=f"{stem}.pdf",
    mime="application/pdf",
    key="src_pdf",
    icon=":material/download:",
    on_click="ignore",
)
