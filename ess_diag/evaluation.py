"""Evaluating the territory's ESS policy on the seven criteria of the Kit Municipal ESS (fiche 15).

Quantitative criteria come from the data, by the rules of :mod:`ess_diag.indicators`:

* :func:`series` — ESS establishments and jobs by year (the figures of
  ``indicators.key_figures`` for each year having statistics), the **wage bill** where an
  URSSAF or observatoire file gave ``masse_salariale`` (:func:`wage_bill`), and the comparison
  with the rest of the private economy (non-ESS private jobs, both as an index base 100, from
  ``indicators.evolution``);
* :func:`participation` — the territory's workshops (participants, contributions, votes,
  actions decided and done, from :func:`ess_diag.plan.follow_up`).

Qualitative criteria are **evidence entries** (:func:`add_evidence`): a date, a text, a link,
a document's file name (a name only: never a path, never opened), who brought it. They are
logged and undoable with the plan (:func:`ess_diag.plan.undo_last`).

The wage bill (:mod:`ess_diag.wage_bill`) follows the jobs-source rule of the indicators.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

import duckdb

from . import indicators, plan, store
from .text import clean
from .wage_bill import wage_bill, wage_bill_series

__all__ = [
    "CRITERIA",
    "Criterion",
    "EvaluationError",
    "wage_bill",
    "wage_bill_series",
    "series",
    "participation",
    "add_evidence",
    "delete_evidence",
    "evidence",
    "document",
]


class EvaluationError(ValueError):
    """A refused evidence entry, with a French message."""


@dataclass(frozen=True)
class Criterion:
    """One of the Kit's seven criteria: its key, its wording, and whether the data measure it."""

    key: str
    label: str
    kit_text: str
    quantitative: str | None = None  # "series" | "participation"


#: The seven criteria of the Kit Municipal ESS, fiche 15 « Évaluer la politique ESS ».
CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "emploi_structures",
        "Structures, emploi et salaires",
        "Évolution du nombre de structures et de l'emploi, en termes quantitatifs et "
        "qualitatifs, montant des salaires versés, comparaison avec l'économie traditionnelle.",
        "series",
    ),
    Criterion(
        "documents_cadres",
        "Place de l'ESS dans les documents cadres et la communication",
        "Présence de l'ESS dans les documents cadres et dans la communication de la collectivité.",
    ),
    Criterion(
        "cooperation",
        "Coopération entre services et collectivités",
        "Coopération avec d'autres services ou d'autres collectivités.",
    ),
    Criterion(
        "utilite_sociale",
        "Utilité sociale et environnementale",
        "Contribution à l'utilité sociale et environnementale.",
    ),
    Criterion(
        "developpement_local",
        "Développement local",
        "Contribution au développement local.",
    ),
    Criterion(
        "reconnaissance",
        "Reconnaissance de la politique et des acteurs",
        "Reconnaissance de la politique et des acteurs.",
    ),
    Criterion(
        "participation",
        "Qualité de la participation à la coconstruction",
        "Qualité de la participation des acteurs à la coconstruction.",
        "participation",
    ),
)
_BY_KEY = {c.key: c for c in CRITERIA}

TEXT_MAX_LENGTH = 2000
LINK_MAX_LENGTH = 500
NAME_MAX_LENGTH = 200


# --- quantitative criteria --------------------------------------------------------------------


def series(con: duckdb.DuckDBPyConnection, level: str, code: str) -> dict:
    """Structures, jobs, wage bill and the comparison with the rest of the private economy,
    by year.

    ``{"rows": [{year, ess_establishments, ess_jobs, wage_bill, private_jobs,
    non_ess_private_jobs, ess_share_private_jobs, ess_index, non_ess_index}], "change":
    {ess_jobs, non_ess_private_jobs}, "notes": {…}}`` — rows for every year having ESS
    statistics (the SIRENE estimate is a snapshot and never enters a series).
    """
    evolution = indicators.evolution(con, level, code)
    by_year: dict[int, dict] = {r["year"]: dict(r) for r in evolution["series"]}
    wages = dict(wage_bill_series(con, level, code))
    rows = []
    for year in sorted(wages):
        key = indicators.key_figures(con, level, code, year)
        if key["jobs_source"] != indicators.JOBS_SOURCE_STATS:
            continue
        ev = by_year.get(year, {})
        rows.append(
            {
                "year": year,
                "ess_establishments": key["ess_establishments"],
                "ess_jobs": key["ess_jobs"],
                "wage_bill": wages[year],
                "private_jobs": key["private_jobs"],
                "non_ess_private_jobs": key["non_ess_private_jobs"],
                "ess_share_private_jobs": key["ess_share_private_jobs"],
                "ess_index": ev.get("ess_index"),
                "non_ess_index": ev.get("non_ess_index"),
            }
        )
    notes = dict(evolution["notes"])
    if not rows:
        notes["rows"] = (
            "Aucune statistique de l'ESS importée pour ce territoire : les séries commencent "
            "avec le premier fichier URSSAF ou d'observatoire importé."
        )
    elif all(r["wage_bill"] is None for r in rows):
        notes["wage_bill"] = (
            "Masse salariale non importée : elle vient des fichiers URSSAF ou d'observatoire "
            "qui la donnent (colonne « Masse salariale »)."
        )
    return {"rows": rows, "change": evolution["change"], "notes": notes}


def participation(con: duckdb.DuckDBPyConnection, level: str, code: str) -> dict:
    """The workshops of the territory and their totals: ``{"workshops": [...], "totals":
    {workshops, participants, contributions, votes, actions, done}}``."""
    rows = plan.follow_up(con, level, code)
    keys = ("participants", "contributions", "votes", "actions", "done")
    totals = {k: sum(r[k] for r in rows) for k in keys}
    totals["workshops"] = len(rows)
    return {"workshops": rows, "totals": totals}


# --- qualitative evidence ---------------------------------------------------------------------


def _file_name(value: str | None) -> str | None:
    """A document's name only: any folder part is dropped (nothing is ever opened)."""
    text = clean(value, NAME_MAX_LENGTH * 4, multiline=False).strip()
    if not text:
        return None
    name = PureWindowsPath(PurePosixPath(text).name).name.strip()
    if not name or name in {".", ".."}:
        raise EvaluationError("Nom de fichier invalide.")
    if len(name) > NAME_MAX_LENGTH:
        raise EvaluationError(f"Le nom de fichier dépasse {NAME_MAX_LENGTH} caractères.")
    return name


_LINK = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)


def _link(value: str | None) -> str | None:
    text = clean(value, LINK_MAX_LENGTH * 2, multiline=False).strip()
    if not text:
        return None
    if len(text) > LINK_MAX_LENGTH or not _LINK.match(text):
        raise EvaluationError(
            "Le lien doit être une adresse web commençant par https:// ou http://."
        )
    return text


def add_evidence(
    con: duckdb.DuckDBPyConnection,
    level: str,
    code: str,
    criterion: str,
    text: str,
    *,
    link: str | None = None,
    file_name: str | None = None,
    who: str | None = None,
    evidence_date: dt.date | None = None,
) -> str:
    """A dated qualitative evidence entry for one of :data:`CRITERIA` (undoable with
    :func:`ess_diag.plan.undo_last`); returns its id."""
    if criterion not in _BY_KEY:
        raise EvaluationError(f"Critère inconnu : « {criterion} ».")
    body = clean(text, TEXT_MAX_LENGTH * 4).strip()
    if not body:
        raise EvaluationError("Le texte de l'élément est obligatoire.")
    if len(body) > TEXT_MAX_LENGTH:
        raise EvaluationError(f"Le texte dépasse {TEXT_MAX_LENGTH} caractères.")
    person = " ".join(clean(who, 400, multiline=False).split()) or None
    if person and len(person) > 120:
        raise EvaluationError("Le nom de la personne dépasse 120 caractères.")
    row = {
        "evidence_id": plan._new_id(),
        "territory_level": level,
        "territory_code": str(code),
        "criterion": criterion,
        "evidence_date": evidence_date or dt.date.today(),
        "text": body,
        "link": _link(link),
        "file_name": _file_name(file_name),
        "who": person,
        "created_at": plan._now(),
    }
    plan.record_change(
        con,
        level,
        code,
        "evidence",
        [("evaluation_evidence", str(row["evidence_id"]))],
        [plan._insert("evaluation_evidence", row)],
    )
    return str(row["evidence_id"])


def delete_evidence(con: duckdb.DuckDBPyConnection, evidence_id: str) -> None:
    """Remove an evidence entry (undoable)."""
    found = plan._row(con, "evaluation_evidence", evidence_id)
    if found is None:
        raise EvaluationError("Cet élément n'existe pas.")
    plan.record_change(
        con,
        found["territory_level"],
        found["territory_code"],
        "evidence_delete",
        [("evaluation_evidence", evidence_id)],
        [plan._delete("evaluation_evidence", evidence_id)],
    )


def evidence(con: duckdb.DuckDBPyConnection, level: str, code: str) -> list[dict]:
    """The territory's evidence entries, by criterion (Kit order) then newest first."""
    cur = con.cursor()
    try:
        result = cur.execute(
            "SELECT evidence_id, criterion, evidence_date, text, link, file_name, who "
            "FROM evaluation_evidence WHERE territory_level = ? AND territory_code = ? "
            "ORDER BY list_position(?, criterion), evidence_date DESC, created_at DESC",
            [level, str(code), [c.key for c in CRITERIA]],
        )
        names = [d[0] for d in result.description]
        return [dict(zip(names, r, strict=True)) for r in result.fetchall()]
    finally:
        cur.close()


def document(con: duckdb.DuckDBPyConnection, level: str, code: str) -> dict:
    """The whole evaluation, criteria side by side: ``{"territory", "demo", "criteria":
    [{key, label, kit_text, quantitative, evidence: [...]}], "series", "participation"}``."""
    info = indicators.territory_info(con, level, code)
    lv, cd = info["level"], info["code"]
    entries = evidence(con, lv, cd)
    return {
        "territory": {"level": lv, "code": cd, "name": info["name"]},
        "demo": store.get_meta(con.cursor(), "demo") == "1",
        "criteria": [
            {
                "key": c.key,
                "label": c.label,
                "kit_text": c.kit_text,
                "quantitative": c.quantitative,
                "evidence": [e for e in entries if e["criterion"] == c.key],
            }
            for c in CRITERIA
        ],
        "series": series(con, lv, cd),
        "participation": participation(con, lv, cd),
    }
