"""Plan d'action: from the workshop's votes to actions with an owner, a due date, a status and
an indicator to follow; dated notes; the territory's workshops over time; exports."""

from __future__ import annotations

import datetime as dt
import functools

import streamlit as st

import ess_diag_ui as ui
from ess_diag import plan, workshop
from ess_diag.formatting import escape_markdown, fmt_date, fmt_int
from ess_diag.report import plan_export
from ess_diag_ui import auth
from ess_diag_ui import plan_screens as ps

level, code = ui.page_setup()
con = ui.get_con()
st.title("Plan d'action")
auth.require_admin(
    "Le plan d'action est réservé à l'animateur : saisissez le mot de passe administrateur.",
    "plan_ok",
)
st.caption(
    f"Territoire : {escape_markdown(ui.territory_label(level, code))} (choisi dans le menu). "
    "Chaque modification est enregistrée et peut être annulée."
)

flash = st.session_state.pop("plan_flash", None)
if flash:
    st.success(flash)

last = plan.last_change(con, level, code)
if last and st.button(f"↶ Annuler {last}", key="plan_undo"):
    done = plan.undo_last(con, level, code)
    st.session_state["plan_flash"] = f"Annulé : {done}."
    st.rerun()

tab_actions, tab_follow, tab_exports = st.tabs(["Actions", "Suivi des ateliers", "Exports"])

with tab_actions:
    sessions = workshop.list_sessions(con, level, code)
    if sessions:
        c1, c2 = st.columns([3, 2])
        chosen = c1.selectbox(
            "Atelier",
            sessions,
            format_func=lambda s: (
                f"{s.title} — "
                f"{fmt_date(s.session_date or s.created_at.date())} (code {s.join_code})"
            ),
            key="plan_session",
        )
        c2.write("")
        if c2.button("Créer les actions depuis les votes", type="primary", key="plan_from"):
            new = plan.from_workshop(con, chosen.session_id)
            st.session_state["plan_flash"] = (
                f"{fmt_int(len(new))} action(s) ajoutée(s) depuis l'atelier, les plus votées "
                "d'abord."
                if new
                else "Aucune nouvelle action : pas de piste ni de besoin voté, ou déjà au plan."
            )
            st.rerun()
    else:
        st.info(
            "Aucun atelier pour ce territoire : créez-en un dans « Animer un atelier », ou "
            "ajoutez une action ci-dessous."
        )

    with st.expander("Ajouter une action"), st.form("plan_add", clear_on_submit=True):
        title = st.text_input("Action", max_chars=plan.TITLE_MAX_LENGTH)
        owner = st.text_input("Porteur (service ou partenaire)", max_chars=plan.OWNER_MAX_LENGTH)
        if st.form_submit_button("Ajouter"):
            try:
                plan.add_action(con, level, code, title, owner=owner)
            except plan.PlanError as exc:
                st.error(str(exc))
            else:
                st.session_state["plan_flash"] = "Action ajoutée."
                st.rerun()

    actions = plan.actions(con, level, code)
    if not actions:
        st.info("Le plan est vide.")
    else:
        counts = plan.status_counts(con, level, code)
        cols = st.columns(len(plan.STATUS_ORDER))
        for col, key in zip(cols, plan.STATUS_ORDER, strict=True):
            col.metric(plan.STATUSES[key].capitalize(), fmt_int(counts[key]))
        before = ps.editor_frame(actions)
        with st.form("plan_edit"):
            edited = st.data_editor(
                before,
                column_config=ps.editor_config(),
                disabled=["Référence", "Dernière valeur", "Votes", "Origine"],
                hide_index=True,
                num_rows="fixed",
                key="plan_editor",
                width="stretch",
            )
            saved = st.form_submit_button("Enregistrer les modifications", type="primary")
        st.caption(
            "Référence : valeur de l'indicateur quand il a été choisi (figée). Dernière valeur : "
            "recalculée à partir des données importées."
        )
        if saved:
            changed, errors = ps.apply_edits(con, before, edited)
            for message in errors:
                st.error(message)
            if changed and not errors:
                st.session_state["plan_flash"] = f"{fmt_int(changed)} action(s) modifiée(s)."
                st.rerun()

        st.subheader("Détail d'une action")
        by_id = {a["action_id"]: a for a in actions}
        action_id = st.selectbox(
            "Action",
            list(by_id),
            format_func=lambda i: f"{by_id[i]['priority']}. {by_id[i]['title']}",
            key="plan_detail",
        )
        a = by_id[action_id]
        st.markdown(
            f"**{escape_markdown(a['title'])}** — {escape_markdown(a['status_label'])}  \n"
            f"Origine : {escape_markdown(a['origin_label'])}"
        )
        line = plan.indicator_line(a)
        if line:
            st.markdown(f"Indicateur suivi : {escape_markdown(line)}")
        with st.form(f"plan_describe_{action_id}"):
            description = st.text_area(
                "Description",
                value=a["description"] or "",
                max_chars=plan.DESCRIPTION_MAX_LENGTH,
            )
            if st.form_submit_button("Enregistrer la description"):
                try:
                    plan.update_action(con, action_id, description=description)
                except plan.PlanError as exc:
                    st.error(str(exc))
                else:
                    st.rerun()
        choices = dict(plan.partner_choices(con, level, code))
        choices.update(zip(a["partners"], a["partner_names"], strict=True))
        with st.form(f"plan_partners_{action_id}"):
            partners = st.multiselect(
                "Partenaires (annuaire des acteurs du territoire)",
                list(choices),
                default=a["partners"],
                format_func=choices.get,
            )
            if st.form_submit_button("Enregistrer les partenaires"):
                try:
                    plan.update_action(con, action_id, partners=partners)
                except plan.PlanError as exc:
                    st.error(str(exc))
                else:
                    st.rerun()
        st.markdown("**Notes de suivi**")
        for n in plan.notes(con, action_id):
            who = f" — {escape_markdown(n['author'])}" if n["author"] else ""
            st.markdown(f"*{fmt_date(n['note_date'])}*{who} : {escape_markdown(n['text'])}")
        with st.form(f"plan_note_{action_id}", clear_on_submit=True):
            c1, c2 = st.columns([1, 2])
            day = c1.date_input("Date", value=dt.date.today(), format="DD/MM/YYYY")
            author = c2.text_input("Auteur", max_chars=plan.OWNER_MAX_LENGTH)
            text = st.text_area("Note", max_chars=plan.NOTE_MAX_LENGTH)
            if st.form_submit_button("Ajouter la note"):
                try:
                    plan.add_note(con, action_id, text, author=author, note_date=day)
                except plan.PlanError as exc:
                    st.error(str(exc))
                else:
                    st.session_state["plan_flash"] = "Note ajoutée."
                    st.rerun()
        if st.button("Retirer cette action du plan", key=f"plan_delete_{action_id}"):
            plan.delete_action(con, action_id)
            st.session_state["plan_flash"] = "Action retirée (annulable)."
            st.rerun()

with tab_follow:
    rows = plan.follow_up(con, level, code)
    if not rows:
        st.info("Aucun atelier pour ce territoire.")
    else:
        st.markdown(
            "Les ateliers du territoire dans le temps : participation, contributions, votes, "
            "actions décidées et réalisées."
        )
        st.dataframe(ps.follow_up_frame(rows), hide_index=True, width="stretch")

with tab_exports:
    st.markdown(
        "Le plan d'action (actions, indicateurs, notes, ateliers), à joindre à une délibération."
    )
    names = plan_export.file_names(level, code)
    c1, c2 = st.columns(2)
    c1.download_button(
        "Plan d'action (XLSX)",
        functools.partial(plan_export.plan_xlsx, con, level, code),
        file_name=names["plan_xlsx"],
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="plan_xlsx",
        icon=":material/download:",
        on_click="ignore",
    )
    c2.download_button(
        "Plan d'action (PDF)",
        functools.partial(plan_export.plan_pdf, con, level, code),
        file_name=names["plan_pdf"],
        mime="application/pdf",
        key="plan_pdf",
        icon=":material/download:",
        on_click="ignore",
    )
