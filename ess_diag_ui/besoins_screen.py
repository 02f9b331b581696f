"""The projection mode's Besoins screen: the zones blanches of a sector or proximity service of
the workshop's territory, in type readable from the back of the room (pages/projection.py)."""

from __future__ import annotations

import streamlit as st

import ess_diag_ui as ui
from ess_diag import needs, workshop
from ess_diag.formatting import escape, fmt_int, fmt_num, fmt_pct

__all__ = ["DEFAULT_CHOICE", "TOP", "screen_html", "show"]

#: The screen opens on the Kit's first proximity service that the room usually asks about.
DEFAULT_CHOICE = "service:commerce_alimentaire"
#: Communes listed on the wall (the most populous zones blanches).
TOP = 6

_CSS = """
<style>
.nd-wrap{display:grid;grid-template-columns:minmax(14rem,1fr) 2fr;gap:2rem;margin-top:1.2rem}
.nd-figure{font-size:min(6rem,13vh);font-weight:800;color:#0b5394;line-height:1.05}
.nd-label{font-size:1.5rem;color:#1a1a1a;margin-top:.4rem}
.nd-list{width:100%;border-collapse:collapse;font-size:1.3rem;color:#1a1a1a}
.nd-list th{text-align:left;font-weight:600;border-bottom:2px solid #1a1a1a;padding:.3rem .4rem}
.nd-list td{border-bottom:1px solid #bbb;padding:.3rem .4rem}
.nd-list .n{text-align:right;white-space:nowrap}
</style>
"""


def screen_html(result: needs.Needs, top: int = TOP) -> str:
    """The screen's body: the population in zones blanches and the most populous of them."""
    communes = result["communes"][:top]
    rows = "".join(
        "<tr>"
        f"<td>{escape(c['name'])}</td>"
        f"<td class='n'>{fmt_int(c['population'])}</td>"
        + (
            f"<td class='n'>{fmt_num(c['nearest']['distance_km'], 1)}&nbsp;km</td>"
            if c["nearest"]
            else "<td class='n'>aucun</td>"
        )
        + "</tr>"
        for c in communes
    )
    more = len(result["communes"]) - len(communes)
    table = (
        "<table class='nd-list'><caption style='text-align:left;font-size:1.2rem;color:#333'>"
        "Les communes les plus peuplées sans établissement"
        + (f" ({fmt_int(more)} autres)" if more > 0 else "")
        + "</caption><thead><tr><th scope='col'>Commune</th><th scope='col' class='n'>Habitants"
        "</th><th scope='col' class='n'>ESS la plus proche</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        if communes
        else f"<div class='nd-label'>{escape(needs.summary_sentence(result))}</div>"
    )
    return (
        _CSS + "<div class='nd-wrap'><div>"
        f"<div class='nd-figure'>{fmt_int(result['population'])}</div>"
        "<div class='nd-label'>habitants vivent dans une commune sans établissement de l'ESS "
        f"« {escape(result['label'])} »</div>"
        f"<div class='nd-label' style='color:#333'>{fmt_int(len(result['communes']))} communes "
        f"sur {fmt_int(result['communes_total'])} · {fmt_pct(result['population_share'])} de la "
        "population</div>"
        f"</div><div>{table}</div></div>"
    )


def show(session: workshop.Session, year: int | None, demo_note: str = "") -> None:
    """Draw the Besoins screen for the workshop's territory (a picker, then the figures)."""
    level, code = session.territory_level, session.territory_code
    options = needs.choices()
    title, picker = st.columns([3, 2])
    title.html(
        "<div class='pj-title'>Besoins : les zones blanches</div>"
        f"<div class='pj-sub'>{escape(session.territory_name or code)}"
        + (f" · {year}" if year else "")
        + "</div>"
    )
    keys: list[str] = list(options)
    choice: str = (
        picker.selectbox(
            "Secteur ou service de proximité",
            keys,
            index=keys.index(DEFAULT_CHOICE),
            format_func=lambda k: options[k],
            key="pj_needs_choice",
        )
        or DEFAULT_CHOICE
    )
    result = needs.zones(ui.get_con(), level, code, choice, year)
    st.html(screen_html(result) + demo_note)
