"""Animer un atelier: create the session, show how to join, run the board, moderate, export."""

from __future__ import annotations

import datetime as dt

import streamlit as st

import ess_diag_ui as ui
from ess_diag import report, workshop
from ess_diag.formatting import escape, fmt_date, fmt_int
from ess_diag.nomenclatures import SECTOR_LABELS
from ess_diag_ui import atelier as ws

level, code = ui.page_setup()
con = ui.get_con()
st.title("Animer un atelier")
ws.require_facilitator()

# --- undo a deletion (the deleted workshop is no longer in the list) ------------------------
deleted = st.session_state.get("atelier_deleted")
if deleted:
    c1, c2 = st.columns([3, 1])
    c1.info("L'atelier a été supprimé.")
    if c2.button("↶ Restaurer l'atelier", key="restore"):
        workshop.undo_last(con, deleted)
        st.session_state[ws.SESSION_KEY] = deleted
        st.session_state.pop("atelier_deleted", None)
        st.session_state.pop("atelier_choice", None)
        st.rerun()

# --- choose or create the session -------------------------------------------------------------
sessions = workshop.list_sessions(con)
NEW = "__new__"
ids = [s.session_id for s in sessions]
by_id = {s.session_id: s for s in sessions}
current = st.session_state.get(ws.SESSION_KEY)
choice = st.selectbox(
    "Atelier",
    [*ids, NEW],
    index=ids.index(current) if current in ids else 0,
    format_func=lambda i: "➕ Nouvel atelier…" if i == NEW else ws.session_label(by_id[i]),
    key="atelier_choice",
)

if choice == NEW:
    st.subheader("Nouvel atelier")
    st.caption(f"Territoire : {escape(ui.territory_label(level, code))} (choisi dans le menu).")
    with st.form("create_session"):
        title = st.text_input(
            "Titre",
            placeholder="Atelier diagnostic ESS du …",
            max_chars=workshop.TITLE_MAX_LENGTH,
        )
        c1, c2, c3 = st.columns(3)
        day = c1.date_input("Date", value=dt.date.today(), format="DD/MM/YYYY")
        place = c2.text_input(
            "Lieu",
            placeholder="Salle du conseil, mairie de …",
            max_chars=workshop.PLACE_MAX_LENGTH,
        )
        votes = c3.number_input(
            "Votes par participant", min_value=1, max_value=50, value=workshop.DEFAULT_VOTES
        )
        if st.form_submit_button("Créer l'atelier", type="primary"):
            try:
                session = workshop.create_session(
                    con,
                    level,
                    code,
                    title,
                    session_date=day,
                    place=place,
                    votes_per_participant=int(votes),
                )
            except workshop.WorkshopError as exc:
                st.error(str(exc))
            else:
                st.session_state[ws.SESSION_KEY] = session.session_id
                st.session_state.pop("atelier_choice", None)
                st.rerun()
    st.stop()

session = by_id[choice]
st.session_state[ws.SESSION_KEY] = session.session_id
sid = session.session_id

# --- how to join ------------------------------------------------------------------------------
url = ws.participant_url(session.join_code)
left, right = st.columns([3, 1])
with left:
    # st.html of escaped text, never Markdown: a place is typed by a person.
    st.html(
        f"<b>{escape(session.territory_name or session.territory_code)}</b>"
        + (f" · {escape(fmt_date(session.session_date))}" if session.session_date else "")
        + (f" · {escape(session.place)}" if session.place else "")
    )
    st.html(
        "<div style='font-size:1.1rem'>Code pour participer : "
        f"<span style='font-size:2.6rem;font-weight:800;letter-spacing:.3rem'>"
        f"{escape(session.join_code)}</span></div>"
        f"<div>Sur un téléphone connecté au même réseau : <code>{escape(url)}</code></div>"
    )
    # st.html in a dark grey, not a caption: a caption's `code` and links fail the contrast rule.
    st.html(
        "<div style='color:#444;font-size:.9rem'>Mode projection : ouvrez « Mode projection » "
        f"dans le menu (ou <code>{escape(ws.base_url())}/projection?atelier="
        f"{escape(session.join_code)}</code>).</div>"
    )
with right:
    st.image(
        ws.qr_png(url),
        width=220,
        caption="Scanner pour participer",
        alt=ws.qr_alt(session.join_code, url),
    )


@st.fragment(run_every=3)
def live_counts() -> None:
    s = workshop.stats(con, sid)
    cols = st.columns(4)
    cols[0].metric("Participants", fmt_int(s["participants"]))
    cols[1].metric("Contributions", fmt_int(s["contributions"]))
    cols[2].metric("Votes", fmt_int(s["votes"]))
    cols[3].metric("Masquées", fmt_int(s["hidden"]))
    with st.expander("Participants par adresse réseau"):
        ws.shared_addresses_panel(con, sid)


live_counts()

tab_board, tab_add, tab_moderate, tab_votes, tab_export, tab_settings = st.tabs(
    ["Tableau", "Saisir", "Modérer", "Votes", "Synthèse", "Réglages"]
)

with tab_board:

    @st.fragment(run_every=3)
    def live_board() -> None:
        st.html(ws.board_html(workshop.board_records(con, sid)))
        st.caption(f"Actualisé automatiquement · {dt.datetime.now():%H:%M:%S}")

    live_board()

communes = ws.commune_choices(session.territory_level, session.territory_code)
commune_names = dict(communes)
sector_keys = list(SECTOR_LABELS)

with tab_add:
    st.caption("Saisir une contribution au nom de la salle (post-it, remarque orale…).")
    with st.form("facilitator_post", clear_on_submit=True):
        category = st.selectbox(
            "Catégorie", workshop.CATEGORY_ORDER, format_func=workshop.CATEGORIES.get
        )
        text = st.text_area("Contribution", max_chars=workshop.MAX_LENGTH)
        c1, c2 = st.columns(2)
        commune = c1.selectbox(
            "Commune (facultatif)",
            [c for c, _ in communes],
            index=None,
            format_func=lambda c: f"{commune_names[c]} ({c})",
            placeholder="Tapez un nom…",
        )
        sector = c2.selectbox(
            "Secteur (facultatif)",
            sector_keys,
            index=None,
            format_func=SECTOR_LABELS.get,
            placeholder="Choisir…",
        )
        actors = ws.actor_picker(
            session, limit=workshop.FACILITATOR_ACTOR_CHOICES, key="facilitator_actors"
        )
        if st.form_submit_button("Ajouter", type="primary"):
            try:
                workshop.post(
                    con,
                    sid,
                    category,
                    text,
                    commune_code=commune,
                    sector=sector,
                    actor_ids=actors,
                )
                st.success("Contribution ajoutée.")
            except workshop.WorkshopError as exc:
                st.error(str(exc))

with tab_moderate:
    undo_label = workshop.last_action(con, sid)
    if undo_label and undo_label != "suppression de l'atelier":
        if st.button(f"↶ Annuler la dernière action ({undo_label})", key="undo"):
            done = workshop.undo_last(con, sid)
            st.toast(f"Action annulée : {done}.")
            st.rerun()
    frame = workshop.board(con, sid, include_hidden=True)
    if frame.empty:
        st.info("Aucune contribution pour l'instant.")
    else:
        labels = {
            r.contribution_id: f"[{r.category_label}] {r.text[:90]}"
            + (" (masquée)" if r.hidden else "")
            for r in frame.itertuples(index=False)
        }
        st.subheader("Modifier, masquer")
        target = st.selectbox(
            "Contribution", list(labels), format_func=labels.get, key="moderate_target"
        )
        row = frame[frame["contribution_id"] == target].iloc[0]
        with st.form("edit_form"):
            new_text = st.text_area("Texte", value=row["text"], max_chars=workshop.MAX_LENGTH)
            new_cat = st.selectbox(
                "Catégorie",
                workshop.CATEGORY_ORDER,
                index=workshop.CATEGORY_ORDER.index(row["category"]),
                format_func=workshop.CATEGORIES.get,
            )
            if st.form_submit_button("Enregistrer"):
                try:
                    workshop.edit(con, sid, target, text=new_text, category=new_cat)
                    st.rerun()
                except workshop.WorkshopError as exc:
                    st.error(str(exc))
        ws.actors_editor(con, session, target)
        if row["hidden"]:
            if st.button("Afficher de nouveau", key="unhide"):
                workshop.set_hidden(con, sid, target, False)
                st.rerun()
        else:
            sure = st.checkbox("Je confirme le masquage (annulable)", key="confirm_hide")
            if st.button("Masquer cette contribution", disabled=not sure, key="hide"):
                workshop.set_hidden(con, sid, target, True)
                st.session_state.pop("confirm_hide", None)
                st.rerun()

        st.subheader("Fusionner des doublons")
        visible = [i for i in labels if not frame.set_index("contribution_id").loc[i, "hidden"]]
        merge_target = st.selectbox(
            "Contribution conservée", visible, format_func=labels.get, key="merge_target"
        )
        merge_sources = st.multiselect(
            "Doublons à fusionner dedans",
            [i for i in visible if i != merge_target],
            format_func=labels.get,
            key="merge_sources",
        )
        merged_text = st.text_input(
            "Nouveau texte (facultatif)", max_chars=workshop.MAX_LENGTH, key="merge_text"
        )
        sure_merge = st.checkbox(
            "Je confirme la fusion (les votes sont reportés, une fois par participant ; annulable)",
            key="confirm_merge",
        )
        if st.button(
            "Fusionner", disabled=not (sure_merge and merge_sources), key="merge", type="primary"
        ):
            try:
                workshop.merge(con, sid, merge_target, merge_sources, text=merged_text or None)
                for key in ("merge_sources", "merge_text", "confirm_merge"):
                    st.session_state.pop(key, None)
                st.rerun()
            except workshop.WorkshopError as exc:
                st.error(str(exc))

with tab_votes:
    st.caption(
        f"Vote par gommettes : {fmt_int(session.votes_per_participant)} votes par participant, "
        "sur les besoins et les pistes d'action."
    )

    @st.fragment(run_every=3)
    def live_tally() -> None:
        st.html(ws.tally_html(workshop.tally(con, sid)))

    live_tally()

with tab_export:
    st.caption(
        "La synthèse reprend les chiffres clés du territoire, la carte de l'atelier et les "
        "contributions classées par catégorie et par votes. Les contributions masquées n'y "
        "figurent pas."
    )
    if st.button("Préparer la synthèse", type="primary", key="build_exports"):
        with st.spinner("Préparation…"):
            st.session_state["atelier_exports"] = (
                sid,
                report.export_all(con, sid, ui.current_year()),
            )
    prepared = st.session_state.get("atelier_exports")
    if prepared and prepared[0] == sid:
        files = prepared[1]
        stem = report.file_stem(session)
        c1, c2, c3 = st.columns(3)
        c1.download_button(
            "Synthèse (HTML)",
            files["html"],
            f"{stem}.html",
            "text/html",
            on_click="ignore",
            icon=":material/download:",
        )
        c2.download_button(
            "Synthèse (PDF)",
            files["pdf"],
            f"{stem}.pdf",
            "application/pdf",
            on_click="ignore",
            icon=":material/download:",
        )
        c3.download_button(
            "Contributions (XLSX)",
            files["xlsx"],
            f"{stem}.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            on_click="ignore",
            icon=":material/download:",
        )

with tab_settings:
    with st.form("settings"):
        new_title = st.text_input("Titre", value=session.title, max_chars=workshop.TITLE_MAX_LENGTH)
        new_place = st.text_input(
            "Lieu", value=session.place or "", max_chars=workshop.PLACE_MAX_LENGTH
        )
        new_date = st.date_input("Date", value=session.session_date, format="DD/MM/YYYY")
        new_votes = st.number_input(
            "Votes par participant", 1, 50, value=session.votes_per_participant
        )
        if st.form_submit_button("Enregistrer"):
            try:
                workshop.update_session(
                    con,
                    sid,
                    title=new_title,
                    place=new_place,
                    session_date=new_date,
                    votes_per_participant=int(new_votes),
                )
                st.rerun()
            except workshop.WorkshopError as exc:
                st.error(str(exc))
    st.subheader("Supprimer l'atelier")
    # The title stays out of the label: a widget label is Markdown.
    st.html(f"Atelier : <b>{escape(session.title)}</b>")
    sure_delete = st.checkbox("Je confirme la suppression de cet atelier", key="confirm_delete")
    if st.button("Supprimer l'atelier", disabled=not sure_delete, key="delete"):
        workshop.delete_session(con, sid)
        st.session_state["atelier_deleted"] = sid
        st.session_state.pop(ws.SESSION_KEY, None)
        st.session_state.pop("atelier_choice", None)
        st.rerun()
