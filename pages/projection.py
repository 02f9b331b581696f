"""Mode projection: a full-screen sequence for the wall — one figure, chart or map per screen,
then the live board and the vote tally. Buttons or keyboard (→ / ← / Page suivante)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

import ess_diag_ui as ui
from ess_diag import figures, workshop
from ess_diag.formatting import escape, fmt_int, fmt_num, fmt_pct
from ess_diag_ui import a11y, auth, besoins_screen, cards, data, plan_screens
from ess_diag_ui import atelier as ws

ui.page_setup(chrome=False)
# On the network, the projection (join code, board, workshop switcher, ?atelier=) is the
# facilitator's: password first, before anything about a workshop is read.
auth.require_admin(
    "La projection est réservée à l'animateur : saisissez le mot de passe administrateur.",
    "projection_ok",
    network_only=True,
)
ws.hide_chrome(1.25)
con = ui.get_con()

session = ws.current_session()
if session is None:
    st.title("Mode projection")
    st.info("Aucun atelier : créez-en un dans « Animer un atelier ».")
    st.stop()

level, code = session.territory_level, session.territory_code
year = ui.current_year()
doc = data.indicator_doc(level, code, year, ui.data_version())
estimate = doc.get("jobs_source") == "estimation_sirene"
place = escape(session.territory_name or code)
DEMO_NOTE = (
    "<div class='pj-note' style='color:#9a3412;margin-top:1rem'>Données de démonstration "
    "(simulées) : elles ne décrivent pas le territoire réel.</div>"
    if ui.is_demo()
    else ""
)

# Every screen fits the projector (1280×720 to 1920×1080, tested) without scrolling: the type
# follows the screen's height, the chart box takes what the title leaves.
st.html(
    "<style>"
    "html{font-size:clamp(15px,1.9vh,20px) !important}"
    "[data-testid='stMainBlockContainer'],.block-container{padding-bottom:0 !important}"
    ".pj-title{font-size:2.6rem;font-weight:800;line-height:1.15;margin:.2rem 0;color:#1a1a1a}"
    ".pj-sub{font-size:1.4rem;color:#333}"
    ".pj-center{text-align:center;margin-top:4vh}"
    ".pj-figure{font-size:min(9rem,19vh);font-weight:800;color:#0b5394;line-height:1.05;"
    "margin:2vh 0}"
    ".pj-label{font-size:2rem;color:#1a1a1a}.pj-note{font-size:1.2rem;color:#444}"
    ".pj-code{font-size:min(5rem,11vh);font-weight:800;letter-spacing:.6rem;color:#1a1a1a}"
    ".st-key-pj_qr img{max-height:calc(100vh - 13rem);width:auto !important}"
    ".st-key-pj_chartbox{height:calc(100vh - 19rem) !important;"
    "min-height:calc(100vh - 19rem) !important;max-height:calc(100vh - 19rem) !important;"
    "flex:none !important}"
    "</style>"
)


def slide_welcome() -> None:
    url = ws.participant_url(session.join_code)
    left, right = st.columns([3, 2])
    with left:
        st.html(
            f"<div class='pj-title'>{escape(session.title)}</div>"
            f"<div class='pj-sub'>{place}</div>"
            "<div class='pj-label' style='margin-top:2rem'>Participez depuis votre téléphone :"
            "</div>"
            f"<div class='pj-note'>{escape(url)}</div>"
            "<div class='pj-label' style='margin-top:1rem'>Code de l'atelier</div>"
            f"<div class='pj-code'>{escape(session.join_code)}</div>"
        )
    with right, st.container(key="pj_qr"):
        st.image(ws.qr_png(url), width=460, alt=ws.qr_alt(session.join_code, url))
    with st.expander("Changer d'atelier"):
        if ws.pick_session("Atelier projeté").session_id != session.session_id:
            st.rerun()


def _figure_slide(value: str, label: str, note: str = "") -> None:
    st.html(
        f"<div class='pj-center'><div class='pj-sub'>{place}"
        + (f" · {year}" if year else "")
        + "</div>"
        f"<div class='pj-figure'>{escape(value)}</div>"
        f"<div class='pj-label'>{escape(label)}</div>"
        + (f"<div class='pj-note'>{escape(note)}</div>" if note else "")
        + DEMO_NOTE
        + "</div>"
    )


def _comparison_note(key: str) -> str:
    texts = {c["key"]: c for c in cards.card_texts(doc)}
    return " · ".join(texts.get(key, {}).get("comparisons", []))


def slide_jobs() -> None:
    _figure_slide(
        fmt_int(doc.get("ess_jobs")),
        "emplois dans l'économie sociale et solidaire",
        ("Estimation d'après les tranches d'effectifs SIRENE. " if estimate else "")
        + f"{fmt_int(doc.get('ess_establishments'))} établissements employeurs.",
    )


def slide_share() -> None:
    _figure_slide(
        fmt_pct(doc.get("ess_share_private_jobs")),
        "de l'emploi privé est dans l'ESS",
        _comparison_note("ess_share_private_jobs"),
    )


def slide_per_1000() -> None:
    _figure_slide(
        fmt_num(doc.get("jobs_per_1000_inhabitants")),
        "emplois de l'ESS pour 1 000 habitants",
        _comparison_note("jobs_per_1000_inhabitants"),
    )


def _chart_slide(chart: figures.Chart) -> None:
    st.html(
        f"<div class='pj-title'>{escape(chart.title)}</div><div class='pj-sub'>{place}</div>"
        + DEMO_NOTE
    )
    if chart.figure is None:
        st.info(chart.empty_reason or "Pas de données pour ce graphique.")
        return
    fig = chart.figure
    # No fixed height: the figure fills the box sized on the screen's height (CSS above).
    fig.update_layout(font={"size": 22}, height=None)
    with st.container(key="pj_chartbox"):
        a11y.plotly_chart(
            fig,
            title=chart.title,
            data=chart.data,
            config=figures.plotly_config(chart, displayModeBar=False),
            key=f"pj_{chart.key}",
            height="stretch",
            show_description=False,
        )
    if chart.note:
        st.caption(escape(chart.note))


def slide_families() -> None:
    _chart_slide(figures.family_chart(doc["by_family"], doc.get("jobs_source")))


def slide_sectors() -> None:
    _chart_slide(figures.sector_jobs_chart(doc["by_sector"]))


def slide_evolution() -> None:
    _chart_slide(figures.index_chart(doc["evolution"]))


def _big_legend(title: str, items, shape: str = "square") -> str:
    """A legend in type read from the back of the room (labels escaped: they may hold names)."""
    radius = "50%" if shape == "circle" else "4px"
    rows = "".join(
        "<div style='display:flex;align-items:center;gap:.6rem;margin:.35rem 0'>"
        f"<span style='width:1.6rem;height:1.6rem;border-radius:{radius};flex:none;"
        f"background:{escape(item.color)};border:1px solid #333'></span>"
        f"<span data-pj-legend-label style='font-size:max(24px,1.2rem);color:#1a1a1a'>"
        f"{escape(item.label)}</span></div>"
        for item in items
    )
    return (
        f"<div style='font-size:max(26px,1.3rem);font-weight:700;color:#1a1a1a;margin:.2rem 0 .4rem'>"
        f"{escape(title)}</div>{rows}"
    )


def slide_map() -> None:
    # The map takes the whole height under the navigation (no scroll on a 1280×720 projector);
    # the title and the legend stand beside it. deck.gl follows its container's size.
    st.html(
        "<style>"
        ".st-key-pj_map_box .stElementContainer,.st-key-pj_map_box .stFullScreenFrame,"
        ".st-key-pj_map_box [data-testid='stDeckGlJsonChart']"
        "{height:calc(100vh - 9.5rem) !important;max-height:calc(100vh - 9.5rem) !important;"
        "min-height:300px !important;flex:0 0 auto !important}"
        # The keyboard listener's 1 px frame, out of the flow: it must not push a scroll bar.
        "iframe[data-testid='stIFrame']{position:fixed;top:0;left:0;width:1px;height:1px}"
        "[data-testid='stMainBlockContainer']{padding-left:2rem !important;"
        "padding-right:2rem !important;padding-bottom:0 !important}"
        "</style>"
    )
    try:
        view, counts = ws.workshop_map(session, year)
    except Exception as exc:  # a map failure must not stop the workshop
        st.warning(f"Carte indisponible : {exc}")
        return
    map_col, legend_col = st.columns([3, 1.1], gap="medium")
    with map_col, st.container(key="pj_map_box"):
        st.pydeck_chart(
            view.deck,
            height=640,
            key="pj_map",
            alt=a11y.describe(
                f"{view.legend_title} par commune, contributions de l'atelier en cercles rouges",
                view.table.drop(columns="code"),
                "Carte",
            ),
        )
    located = int(counts["contributions"].sum()) if len(counts) else 0
    with legend_col, st.container(key="pj_legend"):
        st.html(
            "<div class='pj-title' style='font-size:2rem;margin:0 0 .6rem'>Carte de l'atelier"
            "</div>"
            + _big_legend(f"{view.legend_title}, par commune", view.legend)
            + "<div data-pj-legend-label style='font-size:max(24px,1.2rem);color:#1a1a1a;"
            "margin-top:.8rem'>"
            "<span style='display:inline-block;width:1.4rem;height:1.4rem;border-radius:50%;"
            "background:rgba(214,40,40,.82);vertical-align:middle'></span> "
            f"Contributions rattachées à une commune : {fmt_int(located)}</div>"
            + (
                "<div style='font-size:max(24px,1.2rem);color:#9a3412;margin-top:.8rem'>"
                "Données de démonstration (simulées).</div>"
                if ui.is_demo()
                else ""
            )
        )


def slide_needs() -> None:
    besoins_screen.show(session, year, DEMO_NOTE)


def slide_board() -> None:
    @st.fragment(run_every=3)
    def live() -> None:
        s = workshop.stats(con, session.session_id)
        st.html(
            "<div class='pj-title'>Le tableau de l'atelier</div>"
            f"<div class='pj-sub'>{fmt_int(s['contributions'])} contributions · "
            f"{fmt_int(s['participants'])} participants · code "
            f"<b>{escape(session.join_code)}</b></div>"
        )
        st.html(ws.board_html(workshop.board_records(con, session.session_id), big=True, limit=5))

    live()


def slide_votes() -> None:
    @st.fragment(run_every=3)
    def live() -> None:
        s = workshop.stats(con, session.session_id)
        st.html(
            "<div class='pj-title'>Priorités : le vote</div>"
            f"<div class='pj-sub'>{fmt_int(s['votes'])} votes · "
            f"{fmt_int(session.votes_per_participant)} par participant</div>"
        )
        st.html(ws.tally_html(workshop.tally(con, session.session_id)))

    live()


SLIDES = [
    ("Bienvenue", slide_welcome),
    ("Emplois", slide_jobs),
    ("Part de l'emploi privé", slide_share),
    ("Pour 1 000 habitants", slide_per_1000),
    ("Familles", slide_families),
    ("Secteurs", slide_sectors),
    ("Évolution", slide_evolution),
    ("Carte", slide_map),
    ("Besoins", slide_needs),
    ("Tableau", slide_board),
    ("Votes", slide_votes),
    ("Où en sommes-nous ?", lambda: plan_screens.show_where_are_we(con, session)),
]

# ``?ecran=tableau`` (or carte, votes…) opens a screen directly, e.g. on a second projector.
_SCREENS = {name.lower(): i for i, (name, _) in enumerate(SLIDES)}
_SCREENS["suivi"] = len(SLIDES) - 1  # « Où en sommes-nous ? »
if "proj_step" not in st.session_state and st.query_params.get("ecran") in _SCREENS:
    st.session_state["proj_step"] = _SCREENS[st.query_params["ecran"]]
step = int(st.session_state.get("proj_step", 0)) % len(SLIDES)


def _go(delta: int) -> None:
    st.session_state["proj_step"] = (step + delta) % len(SLIDES)


nav = st.columns([1, 6, 1])
nav[0].button("◀ Précédent", on_click=_go, args=(-1,), key="pj_prev", use_container_width=True)
nav[1].html(
    f"<div style='text-align:center;font-size:1.1rem;color:#444'>{step + 1} / {len(SLIDES)} · "
    f"{escape(SLIDES[step][0])} · {dt.datetime.now():%H:%M}</div>"
)
nav[2].button("Suivant ▶", on_click=_go, args=(1,), key="pj_next", use_container_width=True)

SLIDES[step][1]()

# Keyboard: → / Page suivante / espace = next, ← / Page précédente = previous. The component
# iframe is same-origin: it listens on the app's document and clicks the buttons above.
st.iframe(
    """
<script>
// Re-registered on every run: a listener left by a removed iframe would be dead.
const doc = window.parent.document;
if (doc.__essDiagKeys) doc.removeEventListener('keydown', doc.__essDiagKeys);
doc.__essDiagKeys = (e) => {
  const tag = (e.target && e.target.tagName) || '';
  if (tag === 'INPUT' || tag === 'TEXTAREA' || (tag === 'BUTTON' && e.key === ' ')) return;
  const want = ['ArrowRight', 'PageDown', ' '].includes(e.key) ? 'Suivant'
             : ['ArrowLeft', 'PageUp'].includes(e.key) ? 'Précédent' : null;
  if (!want) return;
  const button = [...doc.querySelectorAll('button')].find(b => b.innerText.includes(want));
  if (button) { e.preventDefault(); button.click(); }
};
doc.addEventListener('keydown', doc.__essDiagKeys);
</script>
""",
    height=1,
)
