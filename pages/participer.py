"""Participer: join a workshop from a phone with its code, post contributions, vote."""

from __future__ import annotations

import streamlit as st

import ess_diag_ui as ui
from ess_diag import workshop
from ess_diag.formatting import escape, fmt_int
from ess_diag.nomenclatures import SECTOR_LABELS
from ess_diag_ui import atelier as ws

ui.page_setup(chrome=False)
ws.hide_chrome(1.1)
con = ui.get_con()

st.html(
    "<style>"
    # Phone-sized targets: tall buttons, large radio options.
    "button{min-height:2.8rem}"
    "div[role='radiogroup'] label{font-size:1.05rem;padding:.15rem 0}"
    ".ws-vote{color:#1a1a1a;overflow-wrap:anywhere;font-size:1.05rem}"
    "</style>"
)


def _session_from_code(code: str) -> workshop.Session | None:
    try:
        return workshop.session_by_code(con, code)
    except workshop.WorkshopError as exc:
        st.error(str(exc))
        return None


# --- who am I? ------------------------------------------------------------------------------
# The participant lives in the session, a cookie and the address (ess_diag_ui.atelier explains
# why): a reload or the QR code scanned again gives back the same participant, votes and limits.
params = st.query_params
session = _session_from_code(params["code"]) if params.get("code") else None
pid = ws.bound_participant(con, session) if session else None

if session is None or pid is None:
    st.html("<h2 style='margin:.2rem 0'>Participer à l'atelier</h2>")
    with st.form("join"):
        typed = st.text_input(
            "Code de l'atelier (affiché à l'écran)",
            value=params.get("code", ""),
            max_chars=12,
            placeholder="Ex. : ACD347",
        )
        name = st.text_input("Votre prénom (facultatif)", max_chars=workshop.NAME_MAX_LENGTH)
        if st.form_submit_button("Rejoindre", type="primary", width="stretch"):
            joined = _session_from_code(typed)
            if joined:
                # The same browser joining again is the same participant (a second tab, the
                # code typed again): only a browser unknown to this workshop gets a new id.
                pid = ws.bound_participant(con, joined)
                try:
                    pid = pid or workshop.join(
                        con, joined.join_code, name, client=ws.client_address()
                    )
                except workshop.WorkshopError as exc:
                    st.error(str(exc))
                else:
                    ws.bind_participant(joined, pid)
                    st.query_params["code"] = joined.join_code
                    st.query_params["p"] = pid
                    st.rerun()
    st.caption(
        "Aucun compte n'est nécessaire. Vos contributions sont anonymes si vous le souhaitez."
    )
    st.stop()

sid = session.session_id
ws.remember_participant(session, pid)
st.html(ws.session_header_html(session))


def _toggle_vote(contribution_id: str, voted: bool) -> None:
    # A callback runs before the fragment redraws, so the buttons show the new state at once.
    try:
        if voted:
            workshop.unvote(con, sid, pid, contribution_id)
        else:
            workshop.vote(con, sid, pid, contribution_id)
    except workshop.WorkshopError as exc:
        st.session_state["vote_error"] = str(exc)


# A switch rather than tabs: only the chosen view runs, so a post does not also redraw the
# whole vote list (and thirty phones stay light on the server).
view = st.segmented_control(
    "Vue",
    ["Contribuer", "Voter"],
    default="Contribuer",
    key="participer_view",
    label_visibility="collapsed",
    width="stretch",
)

if view != "Voter":
    # A fragment: sending a contribution reruns only the form, not the page around it (the
    # navigation, the participant check, the header). With 100 phones posting, the page run
    # is what the server spends its time on (issue 12: posts acknowledged within 1 s).
    # Read by the page run; a fragment rerun reuses the values of the last page run.
    communes = ws.commune_choices(session.territory_level, session.territory_code)
    names = dict(communes)
    # Participants may name the actors a contribution concerns, but a phone is a stranger on
    # the room's Wi-Fi: it is offered only public names (never a partial-diffusion entry), the
    # territory's largest employers up to a bound, and workshop.post checks every id again.

    @st.fragment
    def contribute() -> None:
        with st.form("post", clear_on_submit=True):
            category = st.radio(
                "Catégorie", workshop.CATEGORY_ORDER, format_func=workshop.CATEGORIES.get
            )
            text = st.text_area(
                "Votre contribution",
                max_chars=workshop.MAX_LENGTH,
                placeholder="Une idée par contribution.",
            )
            commune = st.selectbox(
                "Commune concernée (facultatif)",
                [c for c, _ in communes],
                index=None,
                format_func=names.get,
                placeholder="Tapez le nom de la commune…",
            )
            sector = st.selectbox(
                "Secteur (facultatif)",
                list(SECTOR_LABELS),
                index=None,
                format_func=SECTOR_LABELS.get,
                placeholder="Choisir…",
            )
            actors = ws.actor_picker(
                session, limit=workshop.PARTICIPANT_ACTOR_CHOICES, key="participant_actors"
            )
            if st.form_submit_button("Envoyer", type="primary", width="stretch"):
                try:
                    workshop.post(
                        con,
                        sid,
                        category,
                        text,
                        participant_id=pid,
                        commune_code=commune,
                        sector=sector,
                        actor_ids=actors,
                    )
                    st.success("Merci ! Votre contribution est au tableau.")
                except workshop.WorkshopError as exc:
                    st.error(str(exc))

    contribute()


else:

    @st.fragment(run_every=10)
    def votes() -> None:
        if "vote_error" in st.session_state:
            st.error(st.session_state.pop("vote_error"))
        left = workshop.votes_left(con, sid, pid)
        st.html(
            f"<b>Il vous reste {fmt_int(left)} vote{'s' if left > 1 else ''}</b> "
            f"sur {fmt_int(session.votes_per_participant)} : choisissez les besoins et les "
            "pistes d'action prioritaires."
        )
        mine = workshop.my_votes(con, sid, pid)
        waiting = workshop.waiting_votes(con, sid, pid)
        if waiting:
            n = len(waiting)
            st.info(
                f"{fmt_int(n)} de vos votes {'est' if n == 1 else 'sont'} en attente : après "
                "une correction de l'animateur (fusion annulée, contribution réaffichée ou "
                "nombre de votes réduit), vous en aviez plus que les "
                f"{fmt_int(session.votes_per_participant)} permis. Vos premiers votes comptent ; "
                "retirez-en un pour qu'un vote en attente compte."
            )
        rows = [
            r
            for r in workshop.board_records(con, sid)
            if r["category"] in workshop.VOTABLE_CATEGORIES
        ]
        if not rows:
            st.info("Rien à voter pour l'instant : les besoins et pistes apparaîtront ici.")
            return
        for row in rows:
            voted = row["contribution_id"] in mine
            pending = row["contribution_id"] in waiting
            box = st.container(border=True)
            box.html(
                f"<div class='ws-vote'><small>{escape(row['category_label'])}</small><br>"
                f"{escape(row['text'])}</div>"
            )
            if voted:
                label = "✓ Vous avez voté — retirer"
            elif pending:
                label = "⏳ Vote en attente — retirer"
            else:
                label = "Voter"
            box.button(
                label,
                key=f"vote_{row['contribution_id']}",
                disabled=not (voted or pending) and left == 0,
                type="secondary" if voted or pending else "primary",
                width="stretch",
                on_click=_toggle_vote,
                args=(row["contribution_id"], voted or pending),
            )

    votes()
