"""Besoins du territoire: the zones blanches of a sector or a proximity service, the population
living there, the nearest ESS establishment of each, and a "besoin" added to the workshop in
one click."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ess_diag_ui as ui
from ess_diag import maps, needs, nomenclatures, workshop
from ess_diag.formatting import escape, fmt_int, fmt_pct
from ess_diag_ui import a11y, auth, cards, data, downloads
from ess_diag_ui import atelier as ws

level, code = ui.page_setup()
year = ui.current_year()
version = ui.data_version()
label = ui.territory_label(level, code)
con = ui.get_con()

st.title("Besoins du territoire")
st.markdown(f"**{escape(label)}**" + (f" — année {year}" if year else ""))
st.markdown(
    "Les **zones blanches** sont les communes sans aucun établissement employeur de l'ESS "
    "pour un secteur ou un service de proximité : un point de départ pour parler des besoins "
    "en atelier."
)

if "commune" not in maps.child_levels(level) and level != "commune":
    downloads.empty_state(
        "Choisissez un département, une intercommunalité ou une commune.",
        "Les zones blanches se lisent commune par commune : à l'échelle d'une région ou de la "
        "France, la carte et la liste seraient trop lourdes.",
    )
    st.stop()

options = needs.choices()
choice = st.selectbox(
    "Secteur ou service de proximité",
    list(options),
    format_func=options.get,
    key="needs_choice",
)
result = needs.zones(con, level, code, choice, year)

c1, c2, c3 = st.columns(3)
c1.metric("Communes sans établissement", fmt_int(len(result["communes"])))
c2.metric("Habitants de ces communes", fmt_int(result["population"]))
c3.metric("Part de la population", fmt_pct(result["population_share"]))
st.markdown(escape(needs.summary_sentence(result)))
st.caption(escape(result["definition"]))
if result["kind"] == "service":
    st.caption(escape(nomenclatures.PROXIMITY_SOURCE))
for note in result["notes"].values():
    st.caption(escape(note))

# --- the map: distance to the nearest establishment, 0 where the commune has one -------------
outlines = data.map_outlines(level, code, "commune", version)
lacking = {c["code"]: c for c in result["communes"]}
distance = maps.MapIndicator(
    "distance_km", "Distance à l'établissement de l'ESS le plus proche (km)", "ratio"
)
if not outlines.empty:
    values = {
        c: (
            0.0
            if c not in lacking
            else (lacking[c]["nearest"] or {}).get("distance_km")  # None: none anywhere
        )
        for c in outlines["code"]
    }
    view = maps.build_deck(
        outlines,
        values,
        indicator=distance,
        parent_outline=data.parent_outline(level, code, version),
    )
    map_table = pd.DataFrame(
        {
            "commune": list(outlines["name"]),
            "zone blanche": ["oui" if c in lacking else "non" for c in outlines["code"]],
            "distance (km)": [values[c] for c in outlines["code"]],
        }
    )
    map_col, legend_col = st.columns([4, 1])
    with map_col:
        a11y.deck_chart(
            view.deck,
            description=(
                f"Carte des zones blanches « {result['label']} », {label} : "
                + needs.summary_sentence(result)
                + " Couleur : distance à l'établissement le plus proche (0 km : la commune en a un)."
            ),
            data=map_table,
            key=f"needs_map_{level}_{code}",
        )
    with legend_col:
        cards.legend(distance.label, view.legend)
        st.caption("0 km : au moins un établissement dans la commune.")

# --- the list -------------------------------------------------------------------------------
st.subheader("Les communes sans établissement")
rows = [
    {
        "code": c["code"],
        "commune": c["name"],
        "habitants": c["population"],
        "établissement de l'ESS le plus proche": (c["nearest"] or {}).get("name"),
        "sa commune": (c["nearest"] or {}).get("commune_name"),
        "distance (km)": (c["nearest"] or {}).get("distance_km"),
    }
    for c in result["communes"]
]
table = pd.DataFrame(
    rows,
    columns=[
        "code",
        "commune",
        "habitants",
        "établissement de l'ESS le plus proche",
        "sa commune",
        "distance (km)",
    ],
)
if table.empty:
    st.success(escape(needs.summary_sentence(result)))
else:
    # Shown the French way (« 8 233 », « 1,4 ») whatever the browser's language; the CSV below
    # keeps the raw numbers.
    st.dataframe(a11y.format_table(table), hide_index=True, key="needs_table")
    downloads.download_data(table, f"ess_diag_besoins_{result['key']}_{level}_{code}", key="needs")

# --- one click: a "besoin" for the workshop --------------------------------------------------
st.subheader("Ajouter un besoin à l'atelier")
sessions = workshop.list_sessions(con, level, code)
if not sessions:
    st.caption(
        "Aucun atelier en cours pour ce territoire : créez-en un dans « Animer un atelier » pour "
        "y ajouter des besoins depuis cette page."
    )
elif not lacking:
    st.caption("Aucune zone blanche à ajouter.")
elif (auth.network_mode() or auth.admin_password()) and not st.session_state.get(auth.ADMIN_KEY):
    st.caption(
        "Réservé à l'animateur : saisissez le mot de passe administrateur sur la page « Animer "
        "un atelier », puis revenez ici."
    )
else:
    current = st.session_state.get(ws.SESSION_KEY)
    session = next((s for s in sessions if s.session_id == current), sessions[0])
    a, b = st.columns([3, 2])
    commune_code = a.selectbox(
        "Commune",
        list(lacking),
        format_func=lambda c: (
            f"{lacking[c]['name']} ({c}) — {fmt_int(lacking[c]['population'])} hab."
        ),
        key="needs_commune",
    )
    text = needs.contribution_text(result, lacking[commune_code])
    b.markdown(" ")
    if b.button(
        f"Ajouter comme besoin à « {session.title} »",
        key="needs_add",
        type="primary",
        help=text,
    ):
        try:
            workshop.post(
                con,
                session.session_id,
                "besoins",
                text,
                commune_code=commune_code,
                sector=result["key"] if result["kind"] == "secteur" else None,
            )
        except workshop.WorkshopError as exc:
            st.error(str(exc))
        else:
            st.success(f"Besoin ajouté à l'atelier : {escape(text)}")
    st.caption(f"Texte ajouté : {escape(text)}")
