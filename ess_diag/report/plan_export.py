"""The action plan and its evaluation as files to annex to a deliberation: XLSX and A4 PDF.

:func:`plan_xlsx` / :func:`plan_pdf` lay out :func:`ess_diag.plan.actions` (with each action's
indicator: baseline, target, latest value) and the territory's workshops
(:func:`ess_diag.plan.follow_up`); :func:`evaluation_xlsx` / :func:`evaluation_pdf` lay out
:func:`ess_diag.evaluation.document` — the Kit's seven criteria, the quantitative series and
the qualitative evidence side by side. Spreadsheets go through :mod:`ess_diag.exports` (text
cells never formulas); the PDF embeds the Unicode font of :mod:`.pdf` when installed. File
names come from the level, the code and the date only (:func:`file_names`), never from text a
person typed.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import duckdb
import pandas as pd

from .. import evaluation, exports, indicators, plan, store
from ..formatting import NOT_AVAILABLE, fmt_date, fmt_int, fmt_num, fmt_pct, is_missing
from ..vocabulary import LEVEL_LABELS_LOWER
from .content import DEMO_NOTE
from .pdf import FONT_CANDIDATES, _Writer

__all__ = [
    "plan_frame",
    "plan_xlsx",
    "plan_pdf",
    "evaluation_xlsx",
    "evaluation_pdf",
    "file_names",
    "export_all",
]

PLAN_COLUMNS = (
    "Priorité",
    "Action",
    "Description",
    "Origine",
    "Votes",
    "Porteur",
    "Partenaires",
    "Échéance",
    "Statut",
    "Budget (€)",
    "Indicateur suivi",
    "Valeur de référence",
    "Année de référence",
    "Cible",
    "Dernière valeur",
    "Année de la dernière valeur",
    "Notes de suivi",
)


def _territory_line(con, level: str, code: str) -> tuple[dict, str]:
    info = indicators.territory_info(con, level, code)
    return info, f"{info['name']} ({LEVEL_LABELS_LOWER[info['level']]} {info['code']})"


def _is_demo(con) -> bool:
    return store.get_meta(con.cursor(), "demo") == "1"


def plan_frame(rows: list[dict]) -> pd.DataFrame:
    """The plan's actions as the table of the exports (French headers, numbers as numbers)."""
    records = [
        [
            a["priority"],
            a["title"],
            a["description"],
            a["origin_label"],
            a["votes"],
            a["owner"],
            ", ".join(a["partner_names"]) or None,
            a["due_date"],
            a["status_label"],
            a["budget"],
            a["indicator_label"] or None,
            a["baseline_value"],
            a["baseline_year"],
            a["target"],
            a["latest_value"],
            a["latest_year"],
            a["note_count"],
        ]
        for a in rows
    ]
    return pd.DataFrame(records, columns=list(PLAN_COLUMNS))


def _xlsx(sheets: list[tuple[str, pd.DataFrame]]) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets:
            exports.write_xlsx_sheet(writer, frame, name)
            sheet = writer.sheets[name]
            for column in sheet.columns:
                longest = max((len(str(c.value or "")) for c in column), default=8)
                sheet.column_dimensions[column[0].column_letter].width = min(max(longest, 8), 60)
            sheet.freeze_panes = "A2"
    return buffer.getvalue()


def _workshops_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            [r["date"], r["title"], r["participants"], r["contributions"], r["votes"],
             r["actions"], r["done"]]
            for r in rows
        ],
        columns=["Date", "Atelier", "Participants", "Contributions", "Votes",
                 "Actions décidées", "Actions faites"],
    )  # fmt: skip


def plan_xlsx(con: duckdb.DuckDBPyConnection, level: str, code: str) -> bytes:
    """Sheets « Plan d'action », « Notes de suivi », « Ateliers »."""
    info, _label = _territory_line(con, level, code)
    rows = plan.actions(con, info["level"], info["code"])
    notes = [
        [a["priority"], a["title"], n["note_date"], n["text"], n["author"]]
        for a in rows
        for n in plan.notes(con, a["action_id"])
    ]
    return _xlsx(
        [
            ("Plan d'action", plan_frame(rows)),
            (
                "Notes de suivi",
                pd.DataFrame(notes, columns=["Priorité", "Action", "Date", "Note", "Auteur"]),
            ),
            ("Ateliers", _workshops_frame(plan.follow_up(con, info["level"], info["code"]))),
        ]
    )


def _series_frame(series: dict) -> pd.DataFrame:
    return pd.DataFrame(
        [
            [r["year"], r["ess_establishments"], r["ess_jobs"], r["wage_bill"],
             r["private_jobs"], r["non_ess_private_jobs"], r["ess_share_private_jobs"],
             r["ess_index"], r["non_ess_index"]]
            for r in series["rows"]
        ],
        columns=["Année", "Établissements employeurs de l'ESS", "Emplois de l'ESS",
                 "Masse salariale de l'ESS (€)", "Emploi privé", "Emploi privé hors ESS",
                 "Part de l'ESS dans l'emploi privé", "Indice emplois ESS (base 100)",
                 "Indice emploi privé hors ESS (base 100)"],
    )  # fmt: skip


def evaluation_xlsx(con: duckdb.DuckDBPyConnection, level: str, code: str) -> bytes:
    """Sheets « Critères », « Séries », « Participation », « Éléments qualitatifs »."""
    doc = evaluation.document(con, level, code)
    labels = {c["key"]: c["label"] for c in doc["criteria"]}
    criteria = pd.DataFrame(
        [
            [i, c["label"], c["kit_text"],
             {"series": "données (séries)", "participation": "données (ateliers) et éléments"}.get(
                 c["quantitative"] or "", "éléments qualitatifs"),
             len(c["evidence"])]
            for i, c in enumerate(doc["criteria"], 1)
        ],
        columns=["N°", "Critère", "Formulation du Kit", "Mesuré par", "Éléments consignés"],
    )  # fmt: skip
    entries = pd.DataFrame(
        [
            [labels[e["criterion"]], e["evidence_date"], e["text"], e["link"], e["file_name"],
             e["who"]]
            for c in doc["criteria"]
            for e in c["evidence"]
        ],
        columns=["Critère", "Date", "Élément", "Lien", "Document (nom)", "Apporté par"],
    )  # fmt: skip
    return _xlsx(
        [
            ("Critères", criteria),
            ("Séries", _series_frame(doc["series"])),
            ("Participation", _workshops_frame(doc["participation"]["workshops"])),
            ("Éléments qualitatifs", entries),
        ]
    )


# --- PDF --------------------------------------------------------------------------------------


def _writer(title: str, font_candidates) -> _Writer:
    w = _Writer(title, FONT_CANDIDATES if font_candidates is None else font_candidates)
    w.pdf.set_title(w.clean(title))
    return w


def _table(w: _Writer, headers: list[str], rows: list[list[str]], widths: tuple) -> None:
    pdf = w.pdf
    pdf.set_font(w.family, "", 8)
    with pdf.table(
        col_widths=widths,
        text_align=("LEFT", *(["RIGHT"] * (len(headers) - 1))),
        line_height=4.5,
        first_row_as_headings=True,
    ) as table:
        for values in [headers, *rows]:
            row = table.row()
            for value in values:
                row.cell(w.clean(value))
    pdf.ln(2)


def _head(w: _Writer, title: str, line: str, demo: bool) -> None:
    w.para(title, 18, "B", 9)
    w.para(line, 11, "", 6, 80)
    w.para(f"Document produit par ESS Diag le {fmt_date(dt.date.today())}.", 9, "", 5, 100)
    if demo:
        w.para(DEMO_NOTE, 9, "B", 5, 60)


def plan_pdf(
    con: duckdb.DuckDBPyConnection,
    level: str,
    code: str,
    *,
    font_candidates: tuple[Path, ...] | None = None,
) -> bytes:
    """The plan, A4 portrait: « État du plan », « Actions » (each with its indicator: baseline,
    target, latest value; origin; notes), « Ateliers et suivi »."""
    info, label = _territory_line(con, level, code)
    rows = plan.actions(con, info["level"], info["code"])
    w = _writer(f"Plan d'action ESS — {info['name']}", font_candidates)
    _head(w, "Plan d'action de l'économie sociale et solidaire", label, _is_demo(con))
    w.heading("État du plan")
    counts = plan.status_counts(con, info["level"], info["code"])
    w.para(
        f"{fmt_int(len(rows))} action{'s' if len(rows) > 1 else ''} : "
        + " · ".join(f"{fmt_int(counts[k])} {plan.STATUSES[k]}" for k in plan.STATUS_ORDER),
        10,
    )
    w.heading("Actions")
    if not rows:
        w.para("Aucune action au plan.", 10, "", 5, 100)
    for a in rows:
        if w.pdf.will_page_break(25):
            w.pdf.add_page()
        w.pdf.ln(1)
        w.para(f"{a['priority']}. {a['title']}", 11, "B", 6)
        facts = [f"Statut : {a['status_label']}"]
        if a["owner"]:
            facts.append(f"Porteur : {a['owner']}")
        if a["due_date"]:
            facts.append(f"Échéance : {fmt_date(a['due_date'])}")
        if not is_missing(a["budget"]):
            facts.append(f"Budget : {fmt_int(a['budget'])} €")
        w.para(" · ".join(facts), 9)
        w.para(f"Origine : {a['origin_label']}", 9, "", 5, 80)
        if a["partner_names"]:
            w.para(f"Partenaires : {', '.join(a['partner_names'])}", 9, "", 5, 80)
        line = plan.indicator_line(a)
        w.para(f"Indicateur suivi : {line}" if line else "Indicateur suivi : aucun", 9)
        if a["description"]:
            w.para(a["description"], 9, "", 4.5, 60)
        for n in plan.notes(con, a["action_id"]):
            who = f" ({n['author']})" if n["author"] else ""
            w.para(f"   {fmt_date(n['note_date'])}{who} : {n['text']}", 8, "", 4, 90)
    w.heading("Ateliers et suivi")
    workshops = plan.follow_up(con, info["level"], info["code"])
    if not workshops:
        w.para("Aucun atelier pour ce territoire.", 10, "", 5, 100)
    else:
        _table(
            w,
            ["Atelier", "Date", "Participants", "Contributions", "Votes", "Actions", "Faites"],
            [
                [r["title"], fmt_date(r["date"]), fmt_int(r["participants"]),
                 fmt_int(r["contributions"]), fmt_int(r["votes"]), fmt_int(r["actions"]),
                 fmt_int(r["done"])]
                for r in workshops
            ],
            (56, 28, 20, 24, 16, 18, 18),
        )  # fmt: skip
    return w.output()


def _euros(value) -> str:
    return NOT_AVAILABLE if is_missing(value) else f"{fmt_int(value)} €"


def _index(value) -> str:
    return fmt_num(value)


def evaluation_pdf(
    con: duckdb.DuckDBPyConnection,
    level: str,
    code: str,
    *,
    font_candidates: tuple[Path, ...] | None = None,
) -> bytes:
    """The evaluation, A4 portrait: one section per criterion of the Kit (fiche 15), its data
    (series, participation) and its dated evidence side by side."""
    doc = evaluation.document(con, level, code)
    t = doc["territory"]
    label = f"{t['name']} ({LEVEL_LABELS_LOWER[t['level']]} {t['code']})"
    w = _writer(f"Évaluation de la politique ESS — {t['name']}", font_candidates)
    _head(w, "Évaluation de la politique ESS", label, doc["demo"])
    w.para(
        "Les sept critères du Kit Municipal ESS (fiche 15) : les données importées mesurent les "
        "structures, l'emploi, les salaires et la participation ; les autres critères sont "
        "documentés par des éléments datés.",
        9,
        "",
        4.5,
        80,
    )
    series, part = doc["series"], doc["participation"]
    for i, c in enumerate(doc["criteria"], 1):
        w.heading(f"{i}. {c['label']}")
        w.para(f"Kit : « {c['kit_text']} »", 8.5, "", 4.5, 90)
        if c["quantitative"] == "series":
            if series["rows"]:
                _table(
                    w,
                    ["Année", "Établissements", "Emplois ESS", "Masse salariale",
                     "Emploi privé hors ESS", "Indice ESS", "Indice hors ESS"],
                    [
                        [str(r["year"]), fmt_int(r["ess_establishments"]), fmt_int(r["ess_jobs"]),
                         _euros(r["wage_bill"]), fmt_int(r["non_ess_private_jobs"]),
                         _index(r["ess_index"]), _index(r["non_ess_index"])]
                        for r in series["rows"]
                    ],
                    (14, 29, 22, 32, 35, 22, 26),
                )  # fmt: skip
                last = series["rows"][-1]
                w.para(
                    f"Part de l'ESS dans l'emploi privé en {last['year']} : "
                    f"{fmt_pct(last['ess_share_private_jobs'])}.",
                    9,
                )
            for note in series["notes"].values():
                w.para(note, 8, "", 4, 110)
        if c["quantitative"] == "participation":
            tot = part["totals"]
            w.para(
                f"{fmt_int(tot['workshops'])} atelier(s) · {fmt_int(tot['participants'])} "
                f"participants · {fmt_int(tot['contributions'])} contributions · "
                f"{fmt_int(tot['votes'])} votes · {fmt_int(tot['actions'])} actions décidées, "
                f"dont {fmt_int(tot['done'])} faites.",
                9,
            )
        if c["evidence"]:
            for e in c["evidence"]:
                extra = [x for x in (e["link"], e["file_name"] and f"document : {e['file_name']}",
                                     e["who"] and f"apporté par {e['who']}") if x]  # fmt: skip
                w.para(f"• {fmt_date(e['evidence_date'])} — {e['text']}", 9)
                if extra:
                    w.para(f"   {' · '.join(extra)}", 8, "", 4, 100)
        else:
            w.para("Aucun élément consigné pour ce critère.", 9, "", 5, 120)
    return w.output()


def file_names(level: str, code: str, day: dt.date | None = None) -> dict[str, str]:
    """``{"plan_xlsx": "plan-action-departement-01-2026-12-02.xlsx", …}`` — from the level,
    the code (letters and digits only) and the date, never from typed text."""
    safe = re.sub(r"[^A-Za-z0-9]", "", str(code)) or "territoire"
    stem = f"{level}-{safe}-{(day or dt.date.today()).isoformat()}"
    return {
        "plan_xlsx": f"plan-action-{stem}.xlsx",
        "plan_pdf": f"plan-action-{stem}.pdf",
        "evaluation_xlsx": f"evaluation-{stem}.xlsx",
        "evaluation_pdf": f"evaluation-{stem}.pdf",
    }


def export_all(con: duckdb.DuckDBPyConnection, level: str, code: str) -> dict[str, bytes]:
    """The four files, by their generated names."""
    info = indicators.territory_info(con, level, code)
    lv, cd = info["level"], info["code"]
    names = file_names(lv, cd)
    return {
        names["plan_xlsx"]: plan_xlsx(con, lv, cd),
        names["plan_pdf"]: plan_pdf(con, lv, cd),
        names["evaluation_xlsx"]: evaluation_xlsx(con, lv, cd),
        names["evaluation_pdf"]: evaluation_pdf(con, lv, cd),
    }
