"""The territory's action plan: actions decided from the workshops' votes, followed over time.

An action belongs to a territory ``(level, code)``. It has a title, a description, an origin
(the workshop session, the contribution voted for and the ones merged into it, its counted
votes), an owner (service or partner), partners (actor ids of the directory), a due date, a
status (:data:`STATUSES`), an optional budget, and an **indicator to follow** chosen among
:data:`INDICATORS` — figures of the dashboard computed by :mod:`ess_diag.indicators` at the
action's territory. Its **baseline** (value and year) is frozen when the indicator is chosen;
its **latest** value is never stored: :func:`actions` computes it from the data at each read,
so a new import is seen at once. Dated follow-up notes hang on an action.

:func:`from_workshop` turns a session's voted pistes and besoins into draft actions, most voted
first (votes counted by ``workshop.tally``: merges resolved, a participant counted once per
surviving contribution); unvoted contributions are left out, and a contribution already
turned into an action is not drafted twice.

Every change (creation, edit, status, deletion, note, evaluation evidence) is written with the
rows as they were in ``plan_log`` and can be undone with :func:`undo_last`, like the
workshop's ``workshop_actions``. Text typed by a person goes through
:func:`ess_diag.text.clean` at the door and is stored raw: every output escapes it.

>>> import ess_diag.store as store
>>> con = store.connect(":memory:")
>>> a = add_action(con, "commune", "01001", "Ouvrir un tiers-lieu", indicator=None)
>>> [x["title"] for x in actions(con, "commune", "01001")]
['Ouvrir un tiers-lieu']
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import duckdb

from . import indicators, store, wage_bill, workshop
from .formatting import NOT_AVAILABLE, fmt_int, fmt_num, fmt_pct, is_missing
from .nomenclatures import SECTOR_LABELS
from .text import clean
from .vocabulary import LEVEL_LABELS_LOWER

__all__ = [
    "STATUSES",
    "STATUS_ORDER",
    "INDICATORS",
    "Indicator",
    "PlanError",
    "TITLE_MAX_LENGTH",
    "DESCRIPTION_MAX_LENGTH",
    "NOTE_MAX_LENGTH",
    "indicator_label",
    "indicator_line",
    "format_value",
    "measure",
    "add_action",
    "from_workshop",
    "update_action",
    "set_status",
    "delete_action",
    "add_note",
    "notes",
    "get_action",
    "actions",
    "status_counts",
    "partner_choices",
    "follow_up",
    "sessions_with_actions",
    "resolve_session",
    "record_change",
    "undo_last",
    "last_change",
    "history",
    "show_document",
]

#: Status key → French label, in the order of an action's life.
STATUSES: dict[str, str] = {
    "a_lancer": "à lancer",
    "en_cours": "en cours",
    "fait": "fait",
    "abandonne": "abandonné",
}
STATUS_ORDER: tuple[str, ...] = tuple(STATUSES)
#: A title holds any contribution (workshop.MAX_LENGTH) as it was voted.
TITLE_MAX_LENGTH = max(200, workshop.MAX_LENGTH)
DESCRIPTION_MAX_LENGTH = 2000
OWNER_MAX_LENGTH = 120
NOTE_MAX_LENGTH = 1000

_WRITE_LOCK = threading.RLock()


class PlanError(ValueError):
    """A refused change to the plan, with a French message to show as is."""


# --- followable indicators -------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    """A figure of the dashboard an action can follow at its territory.

    ``kind``: ``count`` | ``jobs`` | ``share`` (0–1) | ``ratio`` | ``euros`` (how to format it).
    ``value(con, level, code, year, sector)`` → the figure or None (never a silent 0).
    """

    key: str
    label: str
    kind: str
    value: Callable[..., float | None]
    needs_sector: bool = False


def _key_figure(name: str) -> Callable[..., float | None]:
    def value(con, level, code, year, sector=None):
        return indicators.key_figures(con, level, code, year)[name]

    return value


def _rural_share(con, level, code, year, sector=None):
    return indicators.rurality(con, level, code, year)["share_ess_jobs_rural"]


def _sector_jobs(con, level, code, year, sector=None):
    if not sector:
        return None
    for row in indicators.by_sector(con, level, code, year)["rows"]:
        if row["sector"] == sector:
            return row["jobs"]
    return None


def _wage_bill(con, level, code, year, sector=None):
    return wage_bill.wage_bill(con, level, code, year)


#: Key → indicator, in the order the pickers show them.
INDICATORS: dict[str, Indicator] = {
    i.key: i
    for i in (
        Indicator("ess_jobs", "Emplois de l'ESS", "jobs", _key_figure("ess_jobs")),
        Indicator(
            "ess_establishments",
            "Établissements employeurs de l'ESS",
            "count",
            _key_figure("ess_establishments"),
        ),
        Indicator(
            "ess_share_private_jobs",
            "Part de l'ESS dans l'emploi privé",
            "share",
            _key_figure("ess_share_private_jobs"),
        ),
        Indicator(
            "jobs_per_1000_inhabitants",
            "Emplois de l'ESS pour 1 000 habitants",
            "ratio",
            _key_figure("jobs_per_1000_inhabitants"),
        ),
        Indicator(
            "women_share", "Part des femmes dans l'emploi ESS", "share", _key_figure("women_share")
        ),
        Indicator(
            "share_ess_jobs_rural",
            "Part des emplois de l'ESS en commune rurale",
            "share",
            _rural_share,
        ),
        Indicator("sector_jobs", "Emplois de l'ESS d'un secteur", "jobs", _sector_jobs, True),
        Indicator("wage_bill", "Masse salariale de l'ESS (€)", "euros", _wage_bill),
    )
}


def indicator_label(key: str | None, sector: str | None = None) -> str:
    """``'Emplois de l'ESS — secteur Santé'``; empty for no indicator."""
    if not key:
        return ""
    found = INDICATORS.get(key)
    label = found.label if found else key
    if found and found.needs_sector:
        return f"Emplois de l'ESS — secteur {SECTOR_LABELS.get(sector or '', sector or '?')}"
    return label


def format_value(key: str | None, value) -> str:
    """An indicator's value in French (``'1 234'``, ``'12,3 %'``, ``'421 000 000 €'``)."""
    kind = INDICATORS[key].kind if key in INDICATORS else "jobs"
    if is_missing(value):
        return NOT_AVAILABLE
    if kind == "share":
        return fmt_pct(value)
    if kind == "ratio":
        return fmt_num(value)
    if kind == "euros":
        return f"{fmt_int(value)} €"
    return fmt_int(value) if float(value).is_integer() or kind == "count" else fmt_num(value)


def indicator_line(action: Mapping) -> str:
    """``"Emplois de l'ESS : 280 en 2023 · cible 300 · dernière valeur 290 en 2024"`` for an
    action of :func:`actions` (empty without indicator)."""
    key = action.get("indicator")
    if not key:
        return ""

    def at(value, year) -> str:
        return format_value(key, value) + (f" en {year}" if year else "")

    parts = [
        f"{action['indicator_label']} : {at(action['baseline_value'], action['baseline_year'])}"
    ]
    if not is_missing(action.get("target")):
        parts.append(f"cible {format_value(key, action['target'])}")
    parts.append(f"dernière valeur {at(action['latest_value'], action['latest_year'])}")
    return " · ".join(parts)


def _check_indicator(key: str | None, sector: str | None) -> tuple[str | None, str | None]:
    if not key:
        return None, None
    if key not in INDICATORS:
        raise PlanError(f"Indicateur inconnu : « {key} ».")
    if INDICATORS[key].needs_sector:
        if sector not in SECTOR_LABELS:
            raise PlanError("Choisissez le secteur dont l'action suit les emplois.")
        return key, sector
    return key, None


def measure(
    con: duckdb.DuckDBPyConnection,
    key: str | None,
    level: str,
    code: str,
    sector: str | None = None,
    year: int | None = None,
) -> tuple[float | None, int | None]:
    """``(value, year)`` of a followable indicator at a territory, from the current data.

    Without ``year``: the dashboard's default year (:func:`indicators.default_year`); the wage
    bill, imported for fewer years, takes the latest year that has one. ``(None, year)`` when
    the figure cannot be computed (unknown territory, no data).
    """
    if not key or key not in INDICATORS:
        return None, None
    found = INDICATORS[key]
    try:
        if key == "wage_bill" and year is None:
            series = [r for r in wage_bill.wage_bill_series(con, level, code) if r[1] is not None]
            return (series[-1][1], series[-1][0]) if series else (None, None)
        use = indicators.default_year(con) if year is None else int(year)
        value = found.value(con, level, code, use, sector)
    except indicators.IndicatorError:
        return None, None
    return (None if value is None else float(value)), use


# --- the change log and undo -----------------------------------------------------------------

#: Table → its key column (the tables whose rows the log keeps).
_KEYS = {
    "plan_actions": "action_id",
    "plan_notes": "note_id",
    "evaluation_evidence": "evidence_id",
}
_DATE_COLUMNS = {"due_date", "note_date", "evidence_date"}
_TIMESTAMP_COLUMNS = {"created_at", "updated_at", "deleted_at"}
_KIND_LABELS = {
    "create": "la création d'actions",
    "edit": "la modification d'une action",
    "status": "le changement de statut",
    "delete": "la suppression d'une action",
    "note": "l'ajout d'une note de suivi",
    "evidence": "l'ajout d'un élément d'évaluation",
    "evidence_delete": "la suppression d'un élément d'évaluation",
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _new_id() -> str:
    return secrets.token_hex(8)


def _log_id() -> str:
    # Sortable by time (nanoseconds first): two changes within one clock tick keep their order
    # for undo (ORDER BY created_at DESC, log_id DESC).
    return f"{time.time_ns():020d}-{secrets.token_hex(4)}"


def _cursor_rows(con, sql: str, params: Iterable | Mapping = ()) -> tuple[list[str], list[tuple]]:
    cur = con.cursor()
    try:
        result = cur.execute(sql, params if isinstance(params, Mapping) else list(params))
        names = [d[0] for d in result.description]
        return names, result.fetchall()
    finally:
        cur.close()


def _dicts(con, sql: str, params: Iterable | Mapping = ()) -> list[dict]:
    names, rows = _cursor_rows(con, sql, params)
    return [dict(zip(names, r, strict=True)) for r in rows]


def _row(con, table: str, key: str) -> dict | None:
    found = _dicts(
        con,
        f"SELECT * FROM {store.quote_identifier(table)} "
        f"WHERE {store.quote_identifier(_KEYS[table])} = ?",
        [key],
    )
    return found[0] if found else None


def _jsonable(row: dict | None) -> dict | None:
    if row is None:
        return None
    return {
        k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v) for k, v in row.items()
    }


def _typed(row: dict) -> dict:
    out = dict(row)
    for k, v in row.items():
        if v is None:
            continue
        if k in _DATE_COLUMNS:
            out[k] = dt.date.fromisoformat(v)
        elif k in _TIMESTAMP_COLUMNS:
            out[k] = dt.datetime.fromisoformat(v)
    return out


def _insert(table: str, row: dict) -> tuple[str, list]:
    cols = list(row)
    return (
        f"INSERT INTO {store.quote_identifier(table)} "
        f"({', '.join(store.quote_identifier(c) for c in cols)}) "
        f"VALUES ({', '.join('?' * len(cols))})",
        [row[c] for c in cols],
    )


def _delete(table: str, key: str) -> tuple[str, list]:
    return (
        f"DELETE FROM {store.quote_identifier(table)} "
        f"WHERE {store.quote_identifier(_KEYS[table])} = ?",
        [key],
    )


def record_change(
    con: duckdb.DuckDBPyConnection,
    level: str,
    code: str,
    kind: str,
    touched: Iterable[tuple[str, str]],
    statements: list[tuple[str, list]],
) -> None:
    """Run ``statements`` in one transaction with a ``plan_log`` entry keeping, for each
    ``(table, key)`` in ``touched``, the row as it was before (None: it did not exist), so that
    :func:`undo_last` can put it back."""
    with _WRITE_LOCK:
        touched = list(touched)
        payload: dict[str, list] = {}
        for table, key in touched:
            payload.setdefault(table, []).append(
                {"key": key, "before": _jsonable(_row(con, table, key))}
            )
        log = (
            "INSERT INTO plan_log (log_id, territory_level, territory_code, kind, payload,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [_log_id(), level, str(code), kind, json.dumps(payload), _now()],
        )
        _write(con, [*statements, log])


def _write(con, statements: list[tuple[str, list]]) -> None:
    with _WRITE_LOCK:
        cur = con.cursor()
        try:
            with store.transaction(cur):
                for sql, params in statements:
                    cur.execute(sql, params)
        finally:
            cur.close()


def _last_log(con, level: str, code: str) -> tuple | None:
    _names, rows = _cursor_rows(
        con,
        "SELECT log_id, kind, payload FROM plan_log WHERE territory_level = ? "
        "AND territory_code = ? AND undone_at IS NULL ORDER BY created_at DESC, log_id DESC "
        "LIMIT 1",
        [level, str(code)],
    )
    return rows[0] if rows else None


def last_change(con: duckdb.DuckDBPyConnection, level: str, code: str) -> str | None:
    """What :func:`undo_last` would revert (French label), or None."""
    found = _last_log(con, level, code)
    return _KIND_LABELS.get(found[1], found[1]) if found else None


def undo_last(con: duckdb.DuckDBPyConnection, level: str, code: str) -> str | None:
    """Revert the territory's last change to its plan or evaluation; returns its label."""
    with _WRITE_LOCK:
        found = _last_log(con, level, code)
        if found is None:
            return None
        log_id, kind, payload = found
        statements: list[tuple[str, list]] = []
        for table, entries in json.loads(payload).items():
            for entry in entries:
                statements.append(_delete(table, entry["key"]))
                if entry["before"] is not None:
                    statements.append(_insert(table, _typed(entry["before"])))
        statements.append(("UPDATE plan_log SET undone_at = ? WHERE log_id = ?", [_now(), log_id]))
        _write(con, statements)
    return _KIND_LABELS.get(kind, kind)


def history(con: duckdb.DuckDBPyConnection, level: str, code: str) -> list[dict]:
    """The territory's change log, newest first: ``{kind, label, created_at, undone}``."""
    rows = _dicts(
        con,
        "SELECT kind, created_at, undone_at IS NOT NULL AS undone FROM plan_log "
        "WHERE territory_level = ? AND territory_code = ? ORDER BY created_at DESC, log_id DESC",
        [level, str(code)],
    )
    for r in rows:
        r["label"] = _KIND_LABELS.get(r["kind"], r["kind"])
    return rows


# --- actions ----------------------------------------------------------------------------------


def _text(value, what: str, max_length: int, *, required: bool = False, multiline=False):
    text = clean(value, 10 * max_length, multiline=multiline).strip()
    if not multiline:
        text = " ".join(text.split())
    if required and not text:
        raise PlanError(f"{what} est obligatoire.")
    if len(text) > max_length:
        raise PlanError(f"{what} dépasse {max_length} caractères.")
    return text or None


def _check_status(status: str) -> str:
    if status in STATUSES:
        return status
    by_label = {v: k for k, v in STATUSES.items()}
    if status in by_label:
        return by_label[status]
    raise PlanError(f"Statut inconnu : « {status} » (attendu : {', '.join(STATUSES.values())}).")


def _check_number(value, what: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PlanError(f"{what} : « {value} » n'est pas un nombre.") from None
    if number != number:  # NaN from an emptied table cell
        return None
    if number < 0:
        raise PlanError(f"{what} ne peut pas être négatif.")
    return number


def _check_date(value) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise PlanError(f"Date invalide : « {value} » (attendu : AAAA-MM-JJ).") from None


def _check_partners(con, partners) -> list[str]:
    ids = [str(p) for p in (partners or []) if str(p).strip()]
    if not ids:
        return []
    _names, rows = _cursor_rows(
        con, "SELECT DISTINCT actor_id FROM actors WHERE list_contains(?, actor_id)", [ids]
    )
    known = {r[0] for r in rows}
    unknown = [p for p in ids if p not in known]
    if unknown:
        raise PlanError(f"Acteur inconnu de l'annuaire : {', '.join(unknown[:3])}.")
    return list(dict.fromkeys(ids))


def _next_priority(con, level: str, code: str) -> int:
    _names, rows = _cursor_rows(
        con,
        "SELECT coalesce(max(priority), 0) FROM plan_actions WHERE territory_level = ? "
        "AND territory_code = ? AND deleted_at IS NULL",
        [level, str(code)],
    )
    return int(rows[0][0]) + 1


def _new_row(
    con,
    level: str,
    code: str,
    title: str,
    *,
    priority: int,
    description=None,
    owner=None,
    partners=None,
    due_date=None,
    status: str = "a_lancer",
    budget=None,
    indicator: str | None = "ess_jobs",
    indicator_sector: str | None = None,
    target=None,
    origin: Mapping | None = None,
) -> dict:
    key, sector = _check_indicator(indicator, indicator_sector)
    baseline, year = measure(con, key, level, code, sector)
    origin = origin or {}
    return {
        "action_id": _new_id(),
        "territory_level": level,
        "territory_code": str(code),
        "priority": int(priority),
        "title": _text(title, "Le titre", TITLE_MAX_LENGTH, required=True),
        "description": _text(description, "La description", DESCRIPTION_MAX_LENGTH, multiline=True),
        "session_id": origin.get("session_id"),
        "contribution_ids": list(origin.get("contribution_ids") or []) or None,
        "origin_category": origin.get("category"),
        "votes": origin.get("votes"),
        "owner": _text(owner, "Le porteur", OWNER_MAX_LENGTH),
        "partners": _check_partners(con, partners) or None,
        "due_date": _check_date(due_date),
        "status": _check_status(status),
        "budget": _check_number(budget, "Le budget"),
        "indicator": key,
        "indicator_sector": sector,
        "baseline_value": baseline,
        "baseline_year": year,
        "target": _check_number(target, "La cible"),
        "created_at": _now(),
        "updated_at": None,
        "deleted_at": None,
    }


def add_action(con: duckdb.DuckDBPyConnection, level: str, code: str, title: str, **fields) -> str:
    """Add one action at the end of the territory's plan (undoable); returns its id.

    ``fields``: ``description, owner, partners, due_date, status, budget, indicator``
    (default ``ess_jobs``), ``indicator_sector, target``. The baseline is measured now.
    """
    with _WRITE_LOCK:
        row = _new_row(con, level, code, title, priority=_next_priority(con, level, code), **fields)
        record_change(
            con,
            level,
            code,
            "create",
            [("plan_actions", row["action_id"])],
            [_insert("plan_actions", row)],
        )
    return row["action_id"]


def resolve_session(con: duckdb.DuckDBPyConnection, code: str) -> workshop.Session:
    """A workshop by its join code (as ``ess-diag atelier export``) or its session id."""
    try:
        return workshop.session_by_code(con, code)
    except workshop.UnknownSessionError:
        try:
            return workshop.get_session(con, str(code).strip())
        except workshop.UnknownSessionError:
            raise workshop.UnknownSessionError(
                f"Aucun atelier avec le code ou l'identifiant « {code} » "
                "(voir « ess-diag atelier list »)."
            ) from None


_ORIGIN_WORDS = {"besoins": "Besoin voté", "pistes": "Piste d'action votée"}


def from_workshop(con: duckdb.DuckDBPyConnection, session_id: str) -> list[str]:
    """Draft actions from a session's voted pistes and besoins, most voted first.

    Votes are the counted ones (``workshop.tally``: a merged duplicate's votes count for the
    surviving contribution, once per participant); unvoted contributions are left out, and so
    are those already turned into an action. A contribution about a sector follows that
    sector's ESS jobs, the others the territory's ESS jobs. One undoable change; returns the new
    action ids in priority order.
    """
    session = workshop.get_session(con, session_id)
    level, code = session.territory_level, session.territory_code
    ranked = workshop.tally(con, session_id)
    ranked = ranked[ranked["votes"] > 0]
    sectors = {r["contribution_id"]: r["sector"] for r in workshop.board_records(con, session_id)}
    _names, taken_rows = _cursor_rows(
        con,
        "SELECT DISTINCT unnest(contribution_ids) FROM plan_actions WHERE session_id = ? "
        "AND deleted_at IS NULL",
        [session_id],
    )
    taken = {r[0] for r in taken_rows}
    day = session.session_date or session.created_at.date()
    with _WRITE_LOCK:
        priority = _next_priority(con, level, code)
        rows: list[dict] = []
        for record in ranked.to_dict("records"):
            root = record["contribution_id"]
            if root in taken:
                continue
            _n, merged = _cursor_rows(
                con,
                "SELECT contribution_id FROM workshop_contributions WHERE merged_into = ? "
                "ORDER BY created_at, contribution_id",
                [root],
            )
            votes = int(record["votes"])
            sector = sectors.get(root)
            rows.append(
                _new_row(
                    con,
                    level,
                    code,
                    record["text"],
                    priority=priority + len(rows),
                    description=(
                        f"{_ORIGIN_WORDS.get(record['category'], 'Contribution votée')} à "
                        f"l'atelier « {session.title} » du {day.strftime('%d/%m/%Y')} "
                        f"({votes} vote{'s' if votes > 1 else ''})."
                    ),
                    indicator="sector_jobs" if sector in SECTOR_LABELS else "ess_jobs",
                    indicator_sector=sector if sector in SECTOR_LABELS else None,
                    origin={
                        "session_id": session_id,
                        "contribution_ids": [root, *(m[0] for m in merged)],
                        "category": record["category"],
                        "votes": votes,
                    },
                )
            )
        if rows:
            record_change(
                con,
                level,
                code,
                "create",
                [("plan_actions", r["action_id"]) for r in rows],
                [_insert("plan_actions", r) for r in rows],
            )
    return [r["action_id"] for r in rows]


#: Fields :func:`update_action` changes, and how each is checked.
EDITABLE = (
    "title",
    "description",
    "owner",
    "partners",
    "due_date",
    "status",
    "budget",
    "indicator",
    "indicator_sector",
    "target",
    "priority",
)


def _live(con, action_id: str) -> dict:
    row = _row(con, "plan_actions", action_id)
    if row is None or row["deleted_at"] is not None:
        raise PlanError("Cette action n'existe pas ou a été supprimée.")
    return row


def update_action(con: duckdb.DuckDBPyConnection, action_id: str, **changes) -> bool:
    """Change fields of an action (undoable). Choosing another indicator (or sector) measures
    a new baseline; keeping it keeps the frozen one. Returns False when nothing changed."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise PlanError(f"Champ non modifiable : {', '.join(sorted(unknown))}.")
    with _WRITE_LOCK:
        before = _live(con, action_id)
        new = dict(before)
        checks: dict[str, Callable] = {
            "title": lambda v: _text(v, "Le titre", TITLE_MAX_LENGTH, required=True),
            "description": lambda v: _text(
                v, "La description", DESCRIPTION_MAX_LENGTH, multiline=True
            ),
            "owner": lambda v: _text(v, "Le porteur", OWNER_MAX_LENGTH),
            "partners": lambda v: _check_partners(con, v) or None,
            "due_date": _check_date,
            "status": _check_status,
            "budget": lambda v: _check_number(v, "Le budget"),
            "target": lambda v: _check_number(v, "La cible"),
            "priority": lambda v: max(int(v), 1),
        }
        for name, value in changes.items():
            if name in checks:
                new[name] = checks[name](value)
        if "indicator" in changes or "indicator_sector" in changes:
            key = changes.get("indicator", before["indicator"])
            sector = changes.get("indicator_sector", before["indicator_sector"])
            new["indicator"], new["indicator_sector"] = _check_indicator(key, sector)
        if (new["indicator"], new["indicator_sector"]) != (
            before["indicator"],
            before["indicator_sector"],
        ):
            new["baseline_value"], new["baseline_year"] = measure(
                con,
                new["indicator"],
                before["territory_level"],
                before["territory_code"],
                new["indicator_sector"],
            )
        changed = [k for k in new if new[k] != before[k]]
        if not changed:
            return False
        new["updated_at"] = _now()
        kind = "status" if changed == ["status"] else "edit"
        record_change(
            con,
            before["territory_level"],
            before["territory_code"],
            kind,
            [("plan_actions", action_id)],
            [_delete("plan_actions", action_id), _insert("plan_actions", new)],
        )
    return True


def set_status(con: duckdb.DuckDBPyConnection, action_id: str, status: str) -> bool:
    """Move an action to ``status`` (a key or a French label of :data:`STATUSES`)."""
    return update_action(con, action_id, status=status)


def delete_action(con: duckdb.DuckDBPyConnection, action_id: str) -> None:
    """Remove an action from the plan (kept in the base, undoable)."""
    with _WRITE_LOCK:
        before = _live(con, action_id)
        record_change(
            con,
            before["territory_level"],
            before["territory_code"],
            "delete",
            [("plan_actions", action_id)],
            [
                (
                    "UPDATE plan_actions SET deleted_at = ? WHERE action_id = ?",
                    [_now(), action_id],
                )
            ],
        )


def add_note(
    con: duckdb.DuckDBPyConnection,
    action_id: str,
    text: str,
    *,
    author: str | None = None,
    note_date: dt.date | None = None,
) -> str:
    """A dated follow-up note on an action (undoable); returns its id."""
    action = _live(con, action_id)
    row = {
        "note_id": _new_id(),
        "action_id": action_id,
        "note_date": _check_date(note_date) or dt.date.today(),
        "text": _text(text, "La note", NOTE_MAX_LENGTH, required=True, multiline=True),
        "author": _text(author, "L'auteur", OWNER_MAX_LENGTH),
        "created_at": _now(),
    }
    record_change(
        con,
        action["territory_level"],
        action["territory_code"],
        "note",
        [("plan_notes", row["note_id"])],
        [_insert("plan_notes", row)],
    )
    return row["note_id"]


def notes(con: duckdb.DuckDBPyConnection, action_id: str) -> list[dict]:
    """An action's notes, newest first: ``{note_id, note_date, text, author}``."""
    return _dicts(
        con,
        "SELECT note_id, note_date, text, author FROM plan_notes WHERE action_id = ? "
        "ORDER BY note_date DESC, created_at DESC",
        [action_id],
    )


_ACTIONS_SQL = """
SELECT a.*, s.title AS session_title, s.session_date, s.join_code,
       (SELECT count(*) FROM plan_notes n WHERE n.action_id = a.action_id) AS note_count
FROM plan_actions a
LEFT JOIN workshop_sessions s ON s.session_id = a.session_id
WHERE a.deleted_at IS NULL AND ($id IS NULL OR a.action_id = $id)
  AND ($level IS NULL OR (a.territory_level = $level AND a.territory_code = $code))
ORDER BY a.priority, a.created_at, a.action_id
"""


def _enrich(con, rows: list[dict]) -> list[dict]:
    cache: dict[tuple, tuple] = {}
    names = _partner_names(con, [p for r in rows for p in (r["partners"] or [])])
    for r in rows:
        r["status_label"] = STATUSES.get(r["status"], r["status"])
        r["indicator_label"] = indicator_label(r["indicator"], r["indicator_sector"])
        r["contribution_ids"] = list(r["contribution_ids"] or [])
        r["partners"] = list(r["partners"] or [])
        r["partner_names"] = [names.get(p, p) for p in r["partners"]]
        k = (r["territory_level"], r["territory_code"], r["indicator"], r["indicator_sector"])
        if k not in cache:
            cache[k] = measure(con, r["indicator"], k[0], k[1], k[3])
        r["latest_value"], r["latest_year"] = cache[k]
        r["origin_label"] = _origin_label(r)
    return rows


def partner_choices(
    con: duckdb.DuckDBPyConnection, level: str, code: str, limit: int = 300
) -> list[tuple[str, str]]:
    """Actors of the directory a partner may be chosen from: the territory's active ESS actors
    with a name (never one under partial diffusion), largest employers first, as
    ``(actor_id, "Name — Commune")``."""
    _n, rows = _cursor_rows(
        con,
        "SELECT a.actor_id, a.name, t.name FROM actors a "
        "JOIN territory_communes m ON m.commune_code = a.commune_code "
        "LEFT JOIN territories t ON t.level = 'commune' AND t.code = a.commune_code "
        "WHERE m.level = ? AND m.code = ? AND a.is_ess AND a.active "
        "AND NOT a.partial_diffusion AND a.name IS NOT NULL "
        "ORDER BY coalesce(a.jobs, 0) DESC, a.name, a.actor_id LIMIT ?",
        [level, str(code), int(limit)],
    )
    return [(r[0], f"{r[1]} — {r[2]}" if r[2] else r[1]) for r in rows]


def _partner_names(con, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    _n, rows = _cursor_rows(
        con,
        "SELECT actor_id, CASE WHEN partial_diffusion THEN NULL ELSE name END FROM actors "
        "WHERE list_contains(?, actor_id)",
        [sorted(set(ids))],
    )
    return {r[0]: r[1] or r[0] for r in rows}


def _origin_label(r: dict) -> str:
    if not r.get("session_id"):
        return "Saisie directe"
    day = r.get("session_date")
    when = f" du {day.strftime('%d/%m/%Y')}" if day else ""
    category = workshop.CATEGORIES.get(r.get("origin_category") or "", "")
    votes = r.get("votes") or 0
    title = r.get("session_title") or "supprimé"
    return (
        f"Atelier « {title} »{when} — {category.lower() or 'contribution'}, "
        f"{votes} vote{'s' if votes > 1 else ''}"
    )


def get_action(con: duckdb.DuckDBPyConnection, action_id: str) -> dict:
    """One live action with its latest value (see :func:`actions`)."""
    rows = _dicts(con, _ACTIONS_SQL, {"id": action_id, "level": None, "code": None})
    if not rows:
        raise PlanError("Cette action n'existe pas ou a été supprimée.")
    return _enrich(con, rows)[0]


def actions(con: duckdb.DuckDBPyConnection, level: str, code: str) -> list[dict]:
    """The territory's live actions by priority, each a dict of the ``plan_actions`` columns
    plus ``status_label``, ``indicator_label``, ``partner_names``, ``origin_label``,
    ``session_title``, ``session_date``, ``join_code``, ``note_count`` and ``latest_value`` /
    ``latest_year`` computed now from the data (never stored)."""
    rows = _dicts(con, _ACTIONS_SQL, {"id": None, "level": level, "code": str(code)})
    return _enrich(con, rows)


def status_counts(con: duckdb.DuckDBPyConnection, level: str, code: str) -> dict[str, int]:
    """Live actions of the territory by status key (every key present)."""
    _n, rows = _cursor_rows(
        con,
        "SELECT status, count(*) FROM plan_actions WHERE territory_level = ? "
        "AND territory_code = ? AND deleted_at IS NULL GROUP BY status",
        [level, str(code)],
    )
    found = {r[0]: int(r[1]) for r in rows}
    return {k: found.get(k, 0) for k in STATUS_ORDER}


def follow_up(con: duckdb.DuckDBPyConnection, level: str, code: str) -> list[dict]:
    """The territory's workshops over time, oldest first: ``{session_id, title, date,
    join_code, participants, contributions, votes, actions, done}`` — ``actions`` decided from
    the workshop (live), ``done`` of them with status « fait »."""
    sessions = sorted(
        workshop.list_sessions(con, level, code),
        key=lambda s: (s.session_date or s.created_at.date(), s.created_at),
    )
    _n, rows = _cursor_rows(
        con,
        "SELECT session_id, count(*), count(*) FILTER (status = 'fait') FROM plan_actions "
        "WHERE deleted_at IS NULL AND territory_level = ? AND territory_code = ? "
        "AND session_id IS NOT NULL GROUP BY session_id",
        [level, str(code)],
    )
    decided = {r[0]: (int(r[1]), int(r[2])) for r in rows}
    out = []
    for s in sessions:
        counts = workshop.stats(con, s.session_id)
        n, done = decided.get(s.session_id, (0, 0))
        out.append(
            {
                "session_id": s.session_id,
                "title": s.title,
                "date": s.session_date or s.created_at.date(),
                "join_code": s.join_code,
                "participants": counts["participants"],
                "contributions": counts["contributions"],
                "votes": counts["votes"],
                "actions": n,
                "done": done,
            }
        )
    return out


def sessions_with_actions(con: duckdb.DuckDBPyConnection, session_id: str) -> list[dict]:
    """The live actions decided from one workshop, by priority (the synthesis's « Suites
    données »)."""
    _n, rows = _cursor_rows(
        con, "SELECT DISTINCT action_id FROM plan_actions WHERE session_id = ?", [session_id]
    )
    if not rows:
        return []
    session = workshop.get_session(con, session_id)
    return [
        a
        for a in actions(con, session.territory_level, session.territory_code)
        if a["session_id"] == session_id
    ]


def show_document(con: duckdb.DuckDBPyConnection, level: str, code: str) -> dict:
    """The plan as ``ess-diag plan show --json`` prints it (a stable shape):

    ``{"territory": {level, code, name}, "actions": [{id, title, origin, votes, owner, due,
    status, status_label, indicator, indicator_label, indicator_sector, baseline,
    baseline_year, target, latest, latest_year, …}]}``, actions by priority; ``origin`` is
    None for an action typed directly, else ``{session_id, join_code, title, date, category,
    contribution_ids}``.
    """
    info = indicators.territory_info(con, level, code)
    out = []
    for a in actions(con, info["level"], info["code"]):
        origin = None
        if a["session_id"]:
            origin = {
                "session_id": a["session_id"],
                "join_code": a["join_code"],
                "title": a["session_title"],
                "date": a["session_date"].isoformat() if a["session_date"] else None,
                "category": a["origin_category"],
                "contribution_ids": a["contribution_ids"],
            }
        out.append(
            {
                "id": a["action_id"],
                "priority": a["priority"],
                "title": a["title"],
                "description": a["description"],
                "origin": origin,
                "votes": a["votes"],
                "owner": a["owner"],
                "partners": a["partners"],
                "due": a["due_date"].isoformat() if a["due_date"] else None,
                "status": a["status"],
                "status_label": a["status_label"],
                "budget": a["budget"],
                "indicator": a["indicator"],
                "indicator_label": a["indicator_label"],
                "indicator_sector": a["indicator_sector"],
                "baseline": a["baseline_value"],
                "baseline_year": a["baseline_year"],
                "target": a["target"],
                "latest": a["latest_value"],
                "latest_year": a["latest_year"],
                "notes": len(notes(con, a["action_id"])),
            }
        )
    return {
        "territory": {
            "level": info["level"],
            "code": info["code"],
            "name": info["name"],
            "label": f"{info['name']} ({LEVEL_LABELS_LOWER[info['level']]} {info['code']})",
        },
        "actions": out,
    }
