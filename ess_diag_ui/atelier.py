"""Workshop widgets shared by the pages *Animer un atelier*, *Mode projection* and *Participer*.

Everything a participant wrote goes through :func:`ess_diag.formatting.escape` and is shown with
``st.html`` (no Markdown interpretation, sanitised by Streamlit) or in a dataframe, never
through ``st.markdown``, a caption or a widget label: an escaped ``![](http://…)`` is still a
Markdown image.

**Who is this phone?** (issue 12) A participant is a random id of 96 bits
(``secrets.token_urlsafe(12)``) checked against the database: whoever holds it *is* that
participant, and nobody can guess one. It is kept in three places, read in this order by
:func:`bound_participant`:

1. ``st.session_state`` — survives what Streamlit re-binds by itself: a phone whose screen went
   off, a Wi-Fi blip (the browser reconnects to the same server session);
2. a cookie ``essdiag_p_<session id>`` (two days, ``SameSite=Lax``) — survives a reload, the QR
   code scanned again, the tab closed and reopened. Streamlit 1.67 reads cookies
   (``st.context.cookies``) but cannot set them, so a two-line script in the page writes it
   (:func:`remember_participant`): no new dependency, no component to build;
3. the address ``?p=…`` — when the browser refuses cookies, a reload still keeps the id.

A browser bound to a participant never sees the join form again for that workshop, so a reload
gives back the same vote budget and rate limit, both counted in the database per participant.
The id is not signed: it is already an unguessable bearer token checked against the database,
and a signature would only add a server secret to manage. What a cookie cannot stop — another
browser, a private window — is bounded per client address by ``workshop.join`` (see
:func:`ess_diag.config.joins_per_minute` for the default and why) and shown to the facilitator
(:func:`shared_addresses_panel`).
"""

from __future__ import annotations

import math
import os
import re

import pandas as pd
import pydeck as pdk
import segno
import streamlit as st

import ess_diag_ui as ui
from ess_diag import maps, workshop
from ess_diag.formatting import escape, fmt_int
from ess_diag.report import CATEGORY_COLOURS

from .auth import admin_password, require_admin  # noqa: F401 - the gate lives in auth.py

__all__ = [
    "SESSION_KEY",
    "admin_password",
    "require_facilitator",
    "base_url",
    "participant_url",
    "qr_png",
    "qr_alt",
    "board_html",
    "tally_html",
    "workshop_map",
    "hide_chrome",
    "pick_session",
    "current_session",
    "commune_choices",
    "actor_choices",
    "actor_picker",
    "actors_editor",
    "session_label",
    "PARTICIPANT_KEY",
    "client_address",
    "browser_cookies",
    "cookie_name",
    "bound_participant",
    "bind_participant",
    "remember_participant",
    "shared_addresses_panel",
    "session_header_html",
]

#: st.session_state key of the workshop the facilitator is running (shared by the pages).
SESSION_KEY = "atelier_session"


def require_facilitator() -> None:
    """The facilitator's actions (create, hide, export, delete) need the admin password."""
    require_admin(
        "Les actions d'animation sont protégées par le mot de passe administrateur.",
        "facilitator_ok",
    )


def base_url() -> str:
    """The address participants type: ``ESS_DIAG_PUBLIC_URL`` (set by ``make run-lan``),
    else the address this browser used."""
    env = os.environ.get("ESS_DIAG_PUBLIC_URL")
    if env:
        return env.rstrip("/")
    try:
        url = st.context.url or ""
    except Exception:  # outside a browser session (AppTest)
        url = ""
    if "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0]}"
    return "http://127.0.0.1:8501"


def participant_url(join_code: str) -> str:
    return workshop.join_url(base_url(), join_code)


def qr_png(data: str, scale: int = 10) -> bytes:
    """A QR code as PNG bytes (segno, pure Python: no network, no image library)."""
    import io

    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


def qr_alt(join_code: str, url: str) -> str:
    """The QR code's text alternative: what scanning it gives (the address and the code)."""
    return (
        f"QR code pour participer à l'atelier : il ouvre l'adresse {url} "
        f"(code de l'atelier {join_code})"
    )


def hide_chrome(font_scale: float = 1.0) -> None:
    """Full-screen pages: no sidebar, no header, bigger type."""
    st.html(
        "<style>"
        "[data-testid='stSidebar'],[data-testid='stSidebarCollapsedControl'],"
        "[data-testid='stHeader'],[data-testid='stToolbar']{display:none !important}"
        "[data-testid='stMainBlockContainer'],.block-container"
        "{padding-top:1rem !important;max-width:100% !important}"
        f"html{{font-size:{16 * font_scale:.0f}px}}"
        "</style>"
    )


def _card(row: dict, *, big: bool, show_votes: bool, show_hidden: bool = False) -> str:
    meta = []
    if isinstance(row["commune_name"], str):
        meta.append(escape(row["commune_name"]))
    actors = row.get("actors")
    if actors is not None and len(actors):
        meta.append("🤝 " + escape(", ".join(str(a) for a in actors)))
    merged = int(row["merged_count"])
    if merged:
        meta.append(f"+{fmt_int(merged)} fusionnée{'s' if merged > 1 else ''}")
    if show_hidden and row["hidden"]:
        meta.append("<b>masquée</b>")
    n = int(row["votes"])
    votes = (
        f"<span class='ws-votes'>{fmt_int(n)}&nbsp;vote{'s' if n > 1 else ''}</span>"
        if show_votes
        else ""
    )
    return (
        f"<div class='ws-card{' ws-big' if big else ''}'>"
        f"<div class='ws-text'>{escape(row['text'])}</div>"
        f"<div class='ws-meta'>{' · '.join(meta)}{votes}</div></div>"
    )


_BOARD_CSS = """
<style>
.ws-board{display:grid;grid-template-columns:repeat(auto-fit,minmax(15rem,1fr));gap:.8rem}
.ws-col{background:#f6f7f9;border-top:.4rem solid var(--c);border-radius:.4rem;padding:.5rem}
.ws-col h3{margin:.1rem 0 .5rem 0;font-size:1.15rem;color:#1a1a1a}
.ws-card{background:#fff;border:1px solid #d5d8dc;border-radius:.35rem;padding:.45rem .6rem;
 margin-bottom:.45rem;color:#1a1a1a;overflow-wrap:anywhere}
.ws-card .ws-text{font-size:1rem;line-height:1.3}
.ws-big .ws-text{font-size:1.45rem}.ws-big h3{font-size:1.6rem}
.ws-meta{color:#555;font-size:.85rem;margin-top:.2rem;display:flex;justify-content:space-between;
 gap:.4rem}
.ws-votes{font-weight:700;color:#0b5394;white-space:nowrap}
.ws-empty{color:#555;font-style:italic}
.ws-tally{width:100%;border-collapse:collapse}.ws-tally td{padding:.35rem .5rem;
 border-bottom:1px solid #ddd;font-size:1.1rem;color:#1a1a1a}
.ws-tally .n{text-align:right;font-weight:700;white-space:nowrap}
.ws-bar{background:#0b5394;height:.8rem;border-radius:.2rem}
</style>
"""


def board_html(
    frame: pd.DataFrame | list[dict],
    *,
    big: bool = False,
    categories: tuple[str, ...] = workshop.CATEGORY_ORDER,
    show_hidden: bool = False,
    limit: int | None = None,
) -> str:
    """The board as HTML: one column per category, texts escaped.

    ``big`` is the projector layout (three columns, large type); ``limit`` caps the cards
    shown per category (most voted first, then oldest) and says how many are left out.
    """
    grid = " style='grid-template-columns:repeat(3,1fr)'" if big else ""
    parts = [_BOARD_CSS, f"<div class='ws-board'{grid}>"]
    # Plain dicts: row-wise pandas access costs more than the whole board query.
    by_category: dict[str, list[dict]] = {c: [] for c in categories}
    records = frame.to_dict("records") if isinstance(frame, pd.DataFrame) else frame
    for row in records:
        if row["category"] in by_category:
            by_category[row["category"]].append(row)
    for category in categories:
        rows = by_category[category]
        parts.append(
            f"<div class='ws-col{' ws-big' if big else ''}' "
            f"style='--c:{CATEGORY_COLOURS[category]}'>"
            f"<h3>{escape(workshop.CATEGORIES[category])} ({fmt_int(len(rows))})</h3>"
        )
        if not rows:
            parts.append("<div class='ws-empty'>Rien pour l'instant.</div>")
        show_votes = category in workshop.VOTABLE_CATEGORIES
        shown = rows if limit is None else rows[:limit]
        for row in shown:
            parts.append(_card(row, big=big, show_votes=show_votes, show_hidden=show_hidden))
        if len(rows) > len(shown):
            parts.append(
                f"<div class='ws-empty'>… et {fmt_int(len(rows) - len(shown))} autre(s)</div>"
            )
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


def tally_html(frame: pd.DataFrame, limit: int = 15) -> str:
    """The vote tally as an HTML table with bars (texts escaped)."""
    if frame.empty:
        return _BOARD_CSS + "<p class='ws-empty'>Aucune contribution à prioriser.</p>"
    top = max(int(frame["votes"].max()), 1)
    rows = []
    for i, r in enumerate(frame.head(limit).to_dict("records"), 1):
        width = 100 * r["votes"] / top
        rows.append(
            f"<tr><td class='n'>{i}</td><td>{escape(r['text'])}<br>"
            f"<small>{escape(r['category_label'])}</small></td>"
            f"<td style='width:30%'><div class='ws-bar' style='width:{width:.0f}%'></div></td>"
            f"<td class='n'>{fmt_int(r['votes'])}</td></tr>"
        )
    return _BOARD_CSS + "<table class='ws-tally'>" + "".join(rows) + "</table>"


def commune_choices(level: str, code: str) -> tuple[tuple[str, str], ...]:
    """The territory's communes ``(code, name)`` for a picker (cached until the next import)."""
    from ess_diag_ui import data

    return data.commune_choices(level, code, ui.data_version())


def actor_choices(session: workshop.Session, limit: int) -> tuple[tuple[str, str], ...]:
    """Actors a contribution may name ``(actor_id, "Name (Commune)")``: public names only,
    the ``limit`` largest employers of the territory (cached until the next import)."""
    from ess_diag_ui import data

    return data.workshop_actor_choices(
        session.territory_level, session.territory_code, limit, ui.data_version()
    )


def actor_picker(
    session: workshop.Session,
    *,
    limit: int,
    key: str,
    default: list[str] | None = None,
    label: str = "Acteurs concernés (facultatif)",
) -> list[str]:
    """A multiselect of the actors a contribution may name (at most ``workshop.MAX_ACTORS``).

    Option labels are shown as text by the widget; ``workshop`` checks every id again on
    write, whoever sends it. Returns the chosen ids (empty when the territory has none)."""
    choices = actor_choices(session, limit)
    if not choices:
        return []
    names = dict(choices)
    options = [a for a, _ in choices]
    # An actor named earlier but no longer among the choices (an import changed it) stays
    # visible so that the facilitator can remove it.
    extra = [a for a in (default or []) if a not in names]
    return st.multiselect(
        label,
        options + extra,
        default=list(default or []),
        format_func=lambda a: names.get(a, "acteur retiré de la liste"),
        max_selections=workshop.MAX_ACTORS,
        placeholder="Tapez un nom…",
        key=key,
        help=f"Au plus {workshop.MAX_ACTORS} acteurs ; seuls les noms publics sont proposés "
        f"(les {fmt_int(limit)} plus grands employeurs de l'ESS du territoire).",
    )


def actors_editor(con, session: workshop.Session, contribution_id: str) -> None:
    """Facilitator: change the actors a contribution names (undoable like other edits)."""
    current = workshop.contribution_actors(con, session.session_id, contribution_id)
    if not actor_choices(session, workshop.FACILITATOR_ACTOR_CHOICES) and not current:
        st.caption("Aucun acteur de l'ESS à nommer dans ce territoire.")
        return
    with st.form(f"actors_form_{contribution_id}"):
        chosen = actor_picker(
            session,
            limit=workshop.FACILITATOR_ACTOR_CHOICES,
            key=f"actors_{contribution_id}",
            default=current,
            label="Acteurs concernés",
        )
        if st.form_submit_button("Enregistrer les acteurs"):
            try:
                workshop.set_actors(con, session.session_id, contribution_id, chosen)
            except workshop.WorkshopError as exc:
                st.error(str(exc))
            else:
                st.rerun()


def workshop_map(session: workshop.Session, year: int | None):
    """The territory's ESS share of private jobs with the workshop's contributions on top.

    Returns ``(MapView, counts)``; circles sized by the number of contributions per commune.
    The choropleth is the dashboard's own map view (same cache, same colours).
    """
    from ess_diag_ui import data

    level, code = session.territory_level, session.territory_code
    children = maps.child_levels(level)
    child = "commune" if "commune" in children else children[0]
    view, _figures = data.map_view(
        level,
        code,
        child,
        "ess_share_private_jobs",
        year,
        False,
        None,
        None,
        False,
        ui.data_version(),
    )
    counts = workshop.commune_counts(ui.get_con(), session.session_id)
    counts = counts.dropna(subset=["lon", "lat"])
    if len(counts):
        top = max(int(counts["contributions"].max()), 1)
        points = []
        for r in counts.itertuples(index=False):
            texts = [t if len(t) <= 80 else t[:79] + "…" for t in r.texts[:3]]
            more = f"\n… et {len(r.texts) - 3} autre(s)" if len(r.texts) > 3 else ""
            points.append(
                {
                    "lon": float(r.lon),
                    "lat": float(r.lat),
                    "r": 10 + 18 * math.sqrt(int(r.contributions) / top),
                    # deck.gl text tooltips use innerText: no HTML is ever interpreted.
                    "tip": f"{r.name} : {r.contributions} contribution(s)\n"
                    + "\n".join(f"• {t}" for t in texts)
                    + more,
                }
            )
        # A new list: the cached view is never changed in place.
        view.deck.layers = [
            *view.deck.layers,
            pdk.Layer(
                "ScatterplotLayer",
                id="contributions",
                data=points,
                get_position=["lon", "lat"],
                get_radius="r",
                # Quoted: pydeck turns a bare string into a JavaScript accessor expression.
                radius_units="'pixels'",
                get_fill_color=[214, 40, 40, 210],
                stroked=True,
                get_line_color=[255, 255, 255, 255],
                line_width_min_pixels=2,
                pickable=True,
            ),
        ]
    return view, counts


def current_session() -> workshop.Session | None:
    """The workshop this browser works on: ``?atelier=CODE`` in the URL, else the one opened in
    this browser session, else the most recent live one (None when there is none)."""
    con = ui.get_con()
    code = st.query_params.get("atelier")
    if code:
        try:
            session = workshop.session_by_code(con, code)
            st.session_state[SESSION_KEY] = session.session_id
            return session
        except workshop.WorkshopError as exc:
            st.warning(str(exc))
    sid = st.session_state.get(SESSION_KEY)
    if sid:
        try:
            return workshop.get_session(con, sid)
        except workshop.WorkshopError:
            st.session_state.pop(SESSION_KEY, None)
    sessions = workshop.list_sessions(con)
    if not sessions:
        return None
    st.session_state[SESSION_KEY] = sessions[0].session_id
    return sessions[0]


def pick_session(label: str = "Atelier") -> workshop.Session | None:
    """A picker among the live workshops, starting on :func:`current_session`."""
    current = current_session()
    sessions = workshop.list_sessions(ui.get_con())
    if not sessions:
        return None
    ids = [s.session_id for s in sessions]
    by_id = {s.session_id: s for s in sessions}
    chosen = st.selectbox(
        label,
        ids,
        index=ids.index(current.session_id) if current and current.session_id in ids else 0,
        format_func=lambda i: session_label(by_id[i]),
        key="pick_atelier",
    )
    if chosen != st.session_state.get(SESSION_KEY) and "atelier" in st.query_params:
        del st.query_params["atelier"]
    st.session_state[SESSION_KEY] = chosen
    return by_id[chosen]


def session_label(s: workshop.Session) -> str:
    """``'Titre — Territoire — 23 novembre 2026 (code ACD347)'`` for a picker."""
    from ess_diag.formatting import fmt_date

    when = fmt_date(s.session_date) if s.session_date else fmt_date(s.created_at)
    return f"{s.title} — {s.territory_name or s.territory_code} — {when} (code {s.join_code})"


# --- participants -----------------------------------------------------------------------------

#: st.session_state key of the participant this browser session is: ``(session_id, id)``.
PARTICIPANT_KEY = "participant"
#: How long a phone stays its participant without the address (?p=): a workshop day and more.
COOKIE_MAX_AGE_S = 2 * 24 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def client_address() -> str:
    """The address this browser's connection comes from, as the join limit counts it.

    Streamlit gives no address for a loopback connection (a local test, or a reverse proxy in
    front of the app, where the whole room is one address): those count as ``127.0.0.1``.
    """
    try:
        return st.context.ip_address or "127.0.0.1"
    except Exception:  # outside a browser session
        return "127.0.0.1"


def browser_cookies() -> dict[str, str]:
    """The cookies the browser sent when it opened this session (read-only in Streamlit)."""
    try:
        return dict(st.context.cookies)
    except Exception:  # outside a browser session (AppTest has no cookies)
        return {}


def cookie_name(session_id: str) -> str:
    return f"essdiag_p_{session_id}"


def bind_participant(session: workshop.Session, participant_id: str) -> None:
    st.session_state[PARTICIPANT_KEY] = (session.session_id, participant_id)


def bound_participant(con, session: workshop.Session) -> str | None:
    """The participant this browser already is in ``session`` (session, cookie, ``?p=``)."""
    candidates = []
    held = st.session_state.get(PARTICIPANT_KEY)
    if held and held[0] == session.session_id:
        candidates.append(held[1])
    candidates.append(browser_cookies().get(cookie_name(session.session_id)))
    candidates.append(st.query_params.get("p"))
    for pid in dict.fromkeys(c for c in candidates if c and _TOKEN.match(c)):
        try:
            workshop.participant_name(con, session.session_id, pid)
        except workshop.WorkshopError:
            continue
        bind_participant(session, pid)
        return pid
    return None


def remember_participant(session: workshop.Session, participant_id: str) -> None:
    """Write the participant's cookie unless the browser already sent it (see module doc)."""
    name = cookie_name(session.session_id)
    if not _TOKEN.match(participant_id) or browser_cookies().get(name) == participant_id:
        return
    st.html(
        f"<script>document.cookie='{name}={participant_id}; path=/; "
        f"max-age={COOKIE_MAX_AGE_S}; SameSite=Lax';</script>",
        unsafe_allow_javascript=True,
    )


def session_header_html(session: workshop.Session) -> str:
    """The workshop's title and territory as escaped HTML (never Markdown)."""
    return (
        "<div style='font-size:1.5rem;font-weight:700;line-height:1.2;color:#1a1a1a;"
        f"overflow-wrap:anywhere'>{escape(session.title)}</div>"
        "<div style='color:#555;font-size:.9rem'>"
        f"{escape(session.territory_name or session.territory_code)}</div>"
    )


def shared_addresses_panel(con, session_id: str) -> None:
    """For the facilitator: how many participants joined from one client address."""
    frame = workshop.shared_addresses(con, session_id)
    if frame.empty:
        st.caption("Aucune adresse réseau n'est partagée par plusieurs participants.")
        return
    top = int(frame["participants"].iloc[0])
    st.caption(
        f"{fmt_int(len(frame))} adresse{'s' if len(frame) > 1 else ''} réseau partagée"
        f"{'s' if len(frame) > 1 else ''} par plusieurs participants ; jusqu'à {fmt_int(top)} "
        "participants sur une même adresse. Le Wi-Fi de la salle ou un partage de connexion en "
        "regroupe normalement beaucoup : comparez avec le nombre de personnes présentes."
    )
    st.dataframe(
        frame.rename(columns={"address": "Adresse (anonymisée)", "participants": "Participants"}),
        hide_index=True,
    )
