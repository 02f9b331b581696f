"""Vue d'ensemble: l'ESS du territoire en quelques chiffres, ses familles, un résumé écrit."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ess_diag_ui as ui
from ess_diag import figures, summary
from ess_diag.formatting import escape, fmt_int, fmt_num, fmt_pct
from ess_diag_ui import cards, data, downloads

level, code = ui.page_setup()
year = ui.current_year()
version = ui.data_version()
doc = data.indicator_doc(level, code, year, version)
label = ui.territory_label(level, code)

st.title("Vue d'ensemble")
st.markdown(f"**{escape(label)}**" + (f" — année {year}" if year else ""))

if doc["ess_jobs"] is None and doc["ess_establishments"] is None:
    downloads.empty_state(
        "Aucune donnée sur l'ESS n'est chargée pour ce territoire.",
        "Importez le répertoire SIRENE (établissements et unités légales) ou des statistiques "
        "URSSAF / observatoire (page « Importer des données »).",
    )
    st.stop()

st.header("L'ESS en quelques chiffres")
cards.key_figure_cards(doc)
cards.jobs_source_caption(doc)

st.subheader("Ce qui ressort")
st.markdown("\n".join(f"- {escape(line)}" for line in summary.summarize(doc)))

# Cooperations (issue 15): networks declared in the actor list with ≥ 2 members here.
coop = data.cooperation_counts(level, code, version)
st.subheader("Coopérations")
if coop["networks"] is None:
    st.caption(escape(coop["note"]))
else:
    m1, m2 = st.columns(2)
    m1.metric(
        "Coopérations (réseaux d'au moins 2 membres)",
        fmt_int(coop["networks"]),
        help="Réseaux (PTCE, groupements momentanés d'entreprises…) déclarés dans la liste "
        "d'acteurs qui ont au moins deux membres actifs situés dans le territoire. Voir la "
        "page Méthodologie.",
    )
    m2.metric("Acteurs engagés dans ces coopérations", fmt_int(coop["members"]))
    if coop["by_network"]:
        # Network names come from an imported file: shown as text in a table, never Markdown.
        st.dataframe(
            pd.DataFrame(
                [(n["network"], n["members"]) for n in coop["by_network"]],
                columns=["réseau", "membres dans le territoire"],
            ),
            hide_index=True,
        )
    st.caption(
        f"D'après {fmt_int(coop['declaring'])} acteurs actifs qui déclarent un réseau. Un réseau "
        "compte une fois dans chaque territoire où se trouvent au moins deux de ses membres."
    )

# One chart per row: long French labels and a projector need the whole width.
downloads.show_chart(
    figures.family_chart(doc["by_family"], doc["jobs_source"]), territory_suffix=code
)
downloads.show_chart(figures.comparison_chart(doc), territory_suffix=code)

st.subheader("Comparaison avec des territoires semblables")
similar = doc["comparisons"]["similar"]
if similar["territories"]:
    st.caption(
        "Les cinq territoires du même niveau les plus proches par : "
        + escape(", ".join(similar["criteria"]))
        + "."
    )
    rows = [
        {
            "territoire": t["name"],
            "code": t["code"],
            "population": fmt_int(t["population"]),
            "part rurale de la population": fmt_pct(t["rural_population_share"]),
            "emplois ESS": fmt_int(t["ess_jobs"]),
            "part de l'emploi privé": fmt_pct(t["ess_share_private_jobs"]),
            "emplois pour 1 000 hab.": fmt_num(t["jobs_per_1000_inhabitants"]),
        }
        for t in similar["territories"]
    ]
    table = pd.DataFrame(rows)
    st.dataframe(table, hide_index=True)
    raw = pd.DataFrame(
        [
            {
                "territoire": t["name"],
                "code": t["code"],
                "population": t["population"],
                "part rurale de la population": t["rural_population_share"],
                "emplois ESS": t["ess_jobs"],
                "part de l'emploi privé": t["ess_share_private_jobs"],
                "emplois pour 1 000 habitants": t["jobs_per_1000_inhabitants"],
            }
            for t in similar["territories"]
        ]
    )
    downloads.download_data(raw, f"ess_diag_territoires_semblables_{code}", key="similar")
else:
    downloads.empty_state(next(iter(similar["notes"].values()), "Pas de territoire comparable."))
