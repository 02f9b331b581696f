"""Ruralité: the ESS in the rural and urban communes of the territory, by sector and over time,
beside the national rural references (ess_diag.references: one place for those figures)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ess_diag_ui as ui
from ess_diag import figures, indicators, references
from ess_diag.formatting import escape, fmt_int, fmt_pct, fmt_signed_pct
from ess_diag_ui import cards, data, downloads


def _sentence(text: str) -> str:
    """``text`` with its first letter in capitals, the rest as written (names keep theirs)."""
    return text[:1].upper() + text[1:]


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
        "type** du territoire. Dans les territoires ruraux français, l'ESS pèse "
        f"**{fmt_pct(references.RURAL_ESS_SHARE)}** de l'emploi privé "
        f"({escape(references.rural_study_citation())}) : elle y est souvent le premier "
        "employeur de l'action sociale et de l'aide à domicile. "
        f"Attention : {escape(references.RURAL_STUDY['definition'])}."
    )
if not rural["rural_communes"] or not rural["urban_communes"]:
    kind = "rurales" if rural["rural_communes"] else "urbaines"
    st.caption(f"Toutes les communes de ce territoire sont {kind} : pas de comparaison interne.")

# --- by sector, beside the national rural references ----------------------------------------
st.header("Par secteur : communes rurales et urbaines")
by_sector = indicators.rural_sectors(ui.get_con(), level, code, year)
rows = [
    r
    for r in by_sector["rows"]
    if r["sector"] in references.RURAL_SECTOR_SHARES
    or (r["ess_jobs_rural"] or 0) + (r["ess_jobs_urban"] or 0) > 0
]
if not rows:
    st.info(
        escape(next(iter(by_sector["notes"].values()), "Aucun emploi de l'ESS par secteur.")),
        icon=":material/info:",
    )
else:
    table = pd.DataFrame(
        {
            "secteur": [r["label"] for r in rows],
            "part de l'ESS, communes rurales": [
                fmt_pct(r["ess_share_private_jobs_rural"]) for r in rows
            ],
            "part de l'ESS, communes urbaines": [
                fmt_pct(r["ess_share_private_jobs_urban"]) for r in rows
            ],
            "emplois ESS ruraux": [fmt_int(r["ess_jobs_rural"]) for r in rows],
            "emplois privés ruraux": [fmt_int(r["private_jobs_rural"]) for r in rows],
            "référence rurale nationale (2015)": [
                fmt_pct(references.RURAL_SECTOR_SHARES[r["sector"]])
                if r["sector"] in references.RURAL_SECTOR_SHARES
                else ""
                for r in rows
            ],
        }
    )
    st.table(table.set_index("secteur"))
    st.caption(
        "Part de l'ESS dans l'emploi privé du secteur, dans les communes rurales puis urbaines "
        "du territoire (« non disponible » : aucun emploi privé du secteur dans ces communes). "
        f"Référence : {escape(references.rural_study_citation())} ; "
        f"{escape(references.RURAL_STUDY['definition'])}."
    )

# --- over time: the rural communes ------------------------------------------------------------
st.header("Évolution de l'emploi dans les communes rurales")
evo = doc["evolution"]
change = evo["rural_change"]
r1, r2 = st.columns(2)
period = f"{evo['start_year']}-{evo['end_year']}" if evo["start_year"] and evo["end_year"] else ""
r1.metric(
    f"Emplois de l'ESS, communes rurales du territoire {period}",
    fmt_signed_pct(change["ess_jobs"]),
    help=evo["notes"].get("rural_change.ess_jobs") or evo["notes"].get("rural_change"),
    border=True,
)
r2.metric(
    f"Emplois privés hors ESS, communes rurales du territoire {period}",
    fmt_signed_pct(change["non_ess_private_jobs"]),
    help=evo["notes"].get("rural_change.non_ess_private_jobs") or evo["notes"].get("rural_change"),
    border=True,
)
if evo["notes"].get("rural_change"):
    st.caption(escape(evo["notes"]["rural_change"]))
kit = references.RURAL_CHANGE
st.markdown(
    "**Références nationales, territoires ruraux, 2008-2015** : "
    + " ; ".join(f"{escape(label)} **{fmt_signed_pct(value)}**" for value, label in kit.values())
    + ". Les emplois privés hors ESS du territoire se comparent à "
    f"**{fmt_signed_pct(kit['private_non_ess'][0])}** (même définition), pas à "
    f"{fmt_signed_pct(kit['non_ess_all'][0])}, qui inclut l'emploi public."
)
st.caption(
    f"Source : {escape(references.rural_study_citation())}. "
    f"{_sentence(escape(references.RURAL_STUDY['definition']))}. Définition du rural en "
    f"vigueur ici : {escape(rural['definition_label'])}."
)
