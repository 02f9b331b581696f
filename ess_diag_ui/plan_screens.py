"""Screens and widgets of the action plan: the plan's table for ``st.data_editor`` and what its
edits change, the projection's « Où en sommes-nous ? » screen, the workshops' follow-up table.

Everything typed by a person is escaped before it reaches HTML (:func:`ess_diag.formatting.escape`).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from ess_diag import plan, workshop
from ess_diag.formatting import escape, fmt_date, fmt_int
from ess_diag.nomenclatures import SECTOR_LABELS

__all__ = [
    "STATUS_COLOURS",
    "EDITOR_COLUMNS",
    "editor_frame",
    "editor_config",
    "apply_edits",
    "follow_up_frame",
    "where_are_we_html",
    "show_where_are_we",
]

#: One colour per status (chips on the projection, readable on white and on a projector).
STATUS_COLOURS = {
    "a_lancer": "#6b7280",
    "en_cours": "#1565c0",
    "fait": "#2e7d32",
    "abandonne": "#9a3412",
}
_NO_INDICATOR = "(aucun)"
_NO_SECTOR = "(aucun)"
_INDICATOR_BY_LABEL = {i.label: k for k, i in plan.INDICATORS.items()}
_SECTOR_BY_LABEL = {v: k for k, v in SECTOR_LABELS.items()}
_STATUS_BY_LABEL = {v: k for k, v in plan.STATUSES.items()}

#: Column of the editor → field of :func:`ess_diag.plan.update_action` (editable ones).
EDITOR_COLUMNS = {
    "Priorité": "priority",
    "Action": "title",
    "Porteur": "owner",
    "Échéance": "due_date",
    "Statut": "status",
    "Budget (€)": "budget",
    "Indicateur suivi": "indicator",
    "Secteur suivi": "indicator_sector",
    "Cible": "target",
}


def editor_frame(actions: list[dict]) -> pd.DataFrame:
    """The plan as the editor shows it: one row per action (index: action id), the editable
    columns of :data:`EDITOR_COLUMNS` then read-only ones (votes, origin, baseline, latest)."""
    rows = []
    for a in actions:
        indicator = plan.INDICATORS.get(a["indicator"] or "")
        rows.append(
            {
                "Priorité": int(a["priority"]),
                "Action": a["title"],
                "Porteur": a["owner"] or "",
                "Échéance": a["due_date"],
                "Statut": a["status_label"],
                "Budget (€)": a["budget"],
                "Indicateur suivi": indicator.label if indicator else _NO_INDICATOR,
                "Secteur suivi": SECTOR_LABELS.get(a["indicator_sector"] or "", _NO_SECTOR),
                "Cible": a["target"],
                "Référence": plan.format_value(a["indicator"], a["baseline_value"])
                + (f" ({a['baseline_year']})" if a["baseline_year"] else ""),
                "Dernière valeur": plan.format_value(a["indicator"], a["latest_value"])
                + (f" ({a['latest_year']})" if a["latest_year"] else ""),
                "Votes": a["votes"],
                "Origine": a["origin_label"],
            }
        )
    frame = pd.DataFrame(
        rows,
        index=pd.Index([a["action_id"] for a in actions], name="id"),
        columns=[*EDITOR_COLUMNS, "Référence", "Dernière valeur", "Votes", "Origine"],
    )
    frame["Échéance"] = pd.to_datetime(frame["Échéance"]).dt.date
    return frame


def editor_config() -> dict:
    """``column_config`` of the editor: pickers for status, indicator and sector."""
    return {
        "Priorité": st.column_config.NumberColumn(min_value=1, step=1, width="small"),
        "Action": st.column_config.TextColumn(max_chars=plan.TITLE_MAX_LENGTH, width="large"),
        "Porteur": st.column_config.TextColumn(max_chars=plan.OWNER_MAX_LENGTH),
        "Échéance": st.column_config.DateColumn(format="DD/MM/YYYY"),
        "Statut": st.column_config.SelectboxColumn(
            options=list(plan.STATUSES.values()), required=True
        ),
        "Budget (€)": st.column_config.NumberColumn(min_value=0, format="%.0f"),
        "Indicateur suivi": st.column_config.SelectboxColumn(
            options=[_NO_INDICATOR, *_INDICATOR_BY_LABEL], required=True, width="medium"
        ),
        "Secteur suivi": st.column_config.SelectboxColumn(
            options=[_NO_SECTOR, *_SECTOR_BY_LABEL],
            help="Seulement pour l'indicateur « Emplois de l'ESS d'un secteur ».",
        ),
        "Cible": st.column_config.NumberColumn(min_value=0),
        "Votes": st.column_config.NumberColumn(disabled=True, width="small"),
    }


def _field_value(column: str, value):
    if column == "Statut":
        return _STATUS_BY_LABEL.get(value, value)
    if column == "Indicateur suivi":
        return None if value in (None, _NO_INDICATOR) else _INDICATOR_BY_LABEL.get(value, value)
    if column == "Secteur suivi":
        return None if value in (None, _NO_SECTOR) else _SECTOR_BY_LABEL.get(value, value)
    if isinstance(value, float) and value != value:
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if column in ("Porteur",) and value == "":
        return None
    return value


def apply_edits(con, before: pd.DataFrame, after: pd.DataFrame) -> tuple[int, list[str]]:
    """Apply the editor's changes action by action (each an undoable change of the plan):
    ``(actions changed, French error messages)``."""
    changed, errors = 0, []
    for action_id in after.index:
        if action_id not in before.index:
            continue
        changes = {}
        for column, field in EDITOR_COLUMNS.items():
            old = _field_value(column, before.at[action_id, column])
            new = _field_value(column, after.at[action_id, column])
            if old != new:
                changes[field] = new
        if not changes:
            continue
        try:
            if plan.update_action(con, action_id, **changes):
                changed += 1
        except plan.PlanError as exc:
            errors.append(f"« {before.at[action_id, 'Action']} » : {exc}")
    return changed, errors


def follow_up_frame(rows: list[dict]) -> pd.DataFrame:
    """The territory's workshops over time, for a table."""
    return pd.DataFrame(
        [
            {
                "Date": fmt_date(r["date"]),
                "Atelier": r["title"],
                "Participants": r["participants"],
                "Contributions": r["contributions"],
                "Votes": r["votes"],
                "Actions décidées": r["actions"],
                "Actions faites": r["done"],
            }
            for r in rows
        ],
        columns=[
            "Date",
            "Atelier",
            "Participants",
            "Contributions",
            "Votes",
            "Actions décidées",
            "Actions faites",
        ],
    )


def where_are_we_html(con, level: str, code: str, *, limit: int = 6) -> str:
    """The « Où en sommes-nous ? » screen: the plan's actions by status (big numbers), the
    first actions by priority with their status and indicator, the workshops held."""
    counts = plan.status_counts(con, level, code)
    actions = plan.actions(con, level, code)
    out = ["<div class='pj-title'>Où en sommes-nous ?</div>"]
    if not actions:
        out.append(
            "<div class='pj-sub'>Pas encore de plan d'action pour ce territoire : les priorités "
            "votées aujourd'hui en seront le point de départ.</div>"
        )
        return "".join(out)
    workshops = plan.follow_up(con, level, code)
    held = [w for w in workshops if w["actions"]]
    since = f" depuis {fmt_date(held[0]['date'])}" if held else ""
    out.append(
        f"<div class='pj-sub'>{fmt_int(len(actions))} action{'s' if len(actions) > 1 else ''} "
        f"au plan{escape(since)} · {fmt_int(len(workshops))} atelier"
        f"{'s' if len(workshops) > 1 else ''}</div>"
    )
    out.append("<div style='display:flex;gap:1.2rem;margin:1.2rem 0'>")
    for key in plan.STATUS_ORDER:
        out.append(
            f"<div style='flex:1;border-top:.5rem solid {STATUS_COLOURS[key]};padding:.6rem'>"
            f"<div style='font-size:4.5rem;font-weight:800;color:{STATUS_COLOURS[key]}'>"
            f"{fmt_int(counts[key])}</div>"
            f"<div class='pj-label'>{escape(plan.STATUSES[key])}</div></div>"
        )
    out.append("</div><ol style='font-size:1.5rem;line-height:1.35'>")
    for a in actions[:limit]:
        colour = STATUS_COLOURS.get(a["status"], "#444")
        line = plan.indicator_line(a)
        out.append(
            f"<li style='margin-bottom:.5rem'><b>{escape(a['title'])}</b> "
            f"<span style='background:{colour};color:#fff;border-radius:.4rem;"
            f"padding:0 .5rem;font-size:1.1rem'>{escape(a['status_label'])}</span>"
            + (f"<div class='pj-note'>{escape(line)}</div>" if line else "")
            + "</li>"
        )
    out.append("</ol>")
    if len(actions) > limit:
        out.append(f"<div class='pj-note'>… et {fmt_int(len(actions) - limit)} autres.</div>")
    return "".join(out)


def show_where_are_we(con, session: workshop.Session) -> None:
    """The projection's screen for the workshop's territory (a later workshop starts here)."""
    st.html(where_are_we_html(con, session.territory_level, session.territory_code))
    st.caption(f"État du plan le {fmt_date(dt.date.today())}.")
