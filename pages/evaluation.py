"""Évaluation: the Kit Municipal ESS's seven criteria (fiche 15) — the data's series and the
workshops' participation beside dated qualitative evidence — and their exports."""

from __future__ import annotations

import datetime as dt
import functools

import pandas as pd
import streamlit as st

import ess_diag_ui as ui
from ess_diag import evaluation, plan
from ess_diag.formatting import NOT_AVAILABLE, escape_markdown, fmt_date, fmt_int, fmt_num, fmt_pct
from ess_diag.report import plan_export
from ess_diag_ui import auth
from ess_diag_ui import plan_screens as ps

level, code = ui.page_setup()
con = ui.get_con()
st.title("Évaluation de la politique ESS")
auth.require_admin(
    "L'évaluation est réservée à l'animateur : saisissez le mot de passe administrateur.",
    "evaluation_ok",
)
st.caption(
    f"Territoire : {escape_markdown(ui.territory_label(level, code))}. Les sept critères du Kit "
    "Municipal ESS (fiche 15) : les données mesurent les structures, l'emploi, les salaires et "
    "la participation ; chaque critère reçoit des éléments datés (texte, lien, nom de document)."
)

flash = st.session_state.pop("evaluation_flash", None)
if flash:
    st.success(flash)
last = plan.last_change(con, level, code)
if last and st.button(f"↶ Annuler {last}", key="evaluation_undo"):
    st.session_state["evaluation_flash"] = f"Annulé : {plan.undo_last(con, level, code)}."
    st.rerun()

# (simulated figures: the demo banner of page_setup says so; the exports say it too)
doc = evaluation.document(con, level, code)


def _euros(value) -> str:
    return NOT_AVAILABLE if value is None else f"{fmt_int(value)} €"


def series_table(series: dict) -> None:
    if not series["rows"]:
        st.info(series["notes"].get("rows", "Aucune série."))
        return
    frame = pd.DataFrame(
        [
            {
                "Année": str(r["year"]),
                "Établissements": fmt_int(r["ess_establishments"]),
                "Emplois ESS": fmt_int(r["ess_jobs"]),
                "Masse salariale": _euros(r["wage_bill"]),
                "Emploi privé hors ESS": fmt_int(r["non_ess_private_jobs"]),
                "Part de l'ESS": fmt_pct(r["ess_share_private_jobs"]),
                "Indice ESS": fmt_num(r["ess_index"]),
                "Indice hors ESS": fmt_num(r["non_ess_index"]),
            }
            for r in series["rows"]
        ]
    )
    st.dataframe(frame, hide_index=True, width="stretch")
    for key, note in series["notes"].items():
        if key != "rows":
            st.caption(escape_markdown(note))


def participation_block(part: dict) -> None:
    tot = part["totals"]
    cols = st.columns(4)
    cols[0].metric("Ateliers", fmt_int(tot["workshops"]))
    cols[1].metric("Participants", fmt_int(tot["participants"]))
    cols[2].metric("Contributions", fmt_int(tot["contributions"]))
    cols[3].metric("Actions faites", f"{fmt_int(tot['done'])} / {fmt_int(tot['actions'])}")
    if part["workshops"]:
        st.dataframe(ps.follow_up_frame(part["workshops"]), hide_index=True, width="stretch")


def evidence_list(entries: list[dict]) -> None:
    if not entries:
        st.caption("Aucun élément consigné pour ce critère.")
    for e in entries:
        extra = [
            escape_markdown(x)
            for x in (
                e["link"],
                e["file_name"] and f"document : {e['file_name']}",
                e["who"] and f"apporté par {e['who']}",
            )
            if x
        ]
        st.markdown(
            f"- *{fmt_date(e['evidence_date'])}* — {escape_markdown(e['text'])}"
            + (f"  \n  {' · '.join(extra)}" if extra else "")
        )


for i, criterion in enumerate(doc["criteria"], 1):
    st.subheader(f"{i}. {criterion['label']}")
    st.caption(f"Kit : « {escape_markdown(criterion['kit_text'])} »")
    left, right = st.columns([3, 2])
    with left:
        if criterion["quantitative"] == "series":
            series_table(doc["series"])
        elif criterion["quantitative"] == "participation":
            participation_block(doc["participation"])
        else:
            st.caption("Critère qualitatif : documenté par les éléments ci-contre.")
    with right:
        evidence_list(criterion["evidence"])

st.subheader("Consigner un élément")
labels = {c["key"]: f"{i}. {c['label']}" for i, c in enumerate(doc["criteria"], 1)}
with st.form("evidence_add", clear_on_submit=True):
    criterion_key = st.selectbox("Critère", list(labels), format_func=labels.get)
    text = st.text_area("Élément", max_chars=evaluation.TEXT_MAX_LENGTH)
    c1, c2, c3 = st.columns(3)
    day = c1.date_input("Date", value=dt.date.today(), format="DD/MM/YYYY")
    who = c2.text_input("Apporté par", max_chars=120)
    file_name = c3.text_input(
        "Nom du document", max_chars=evaluation.NAME_MAX_LENGTH, help="Un nom seulement."
    )
    link = st.text_input("Lien (https://…)", max_chars=evaluation.LINK_MAX_LENGTH)
    if st.form_submit_button("Consigner", type="primary"):
        try:
            evaluation.add_evidence(
                con,
                doc["territory"]["level"],
                doc["territory"]["code"],
                criterion_key,
                text,
                link=link,
                file_name=file_name,
                who=who,
                evidence_date=day,
            )
        except evaluation.EvaluationError as exc:
            st.error(str(exc))
        else:
            st.session_state["evaluation_flash"] = "Élément consigné."
            st.rerun()

st.subheader("Exports")
names = plan_export.file_names(level, code)
c1, c2 = st.columns(2)
c1.download_button(
    "Évaluation (XLSX)",
    functools.partial(plan_export.evaluation_xlsx, con, level, code),
    file_name=names["evaluation_xlsx"],
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    key="evaluation_xlsx",
    icon=":material/download:",
    on_click="ignore",
)
c2.download_button(
    "Évaluation (PDF)",
    functools.partial(plan_export.evaluation_pdf, con, level, code),
    file_name=names["evaluation_pdf"],
    mime="application/pdf",
    key="evaluation_pdf",
    icon=":material/download:",
    on_click="ignore",
)
