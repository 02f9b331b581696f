"""Workshop sessions: participants, contributions, dot-votes, merges, undo, synthesis content.

Everything lives in the ``workshop_*`` tables (see ``store.WORKSHOP_DDL``), so a session survives
a restart of the app. The module never imports Streamlit: the pages ``atelier`` (facilitator),
``participer`` (phones) and ``projection`` call the functions below.

Rules kept here, in one place:

* every text a person writes (contribution, first name, title, place) goes through
  :func:`ess_diag.text.clean` at the door: control and format characters removed, length bounded
  (:data:`MAX_LENGTH`, :data:`NAME_MAX_LENGTH`, :data:`TITLE_MAX_LENGTH`,
  :data:`PLACE_MAX_LENGTH`); it is stored raw otherwise, so every page shows it as text;
* a contribution is 1 to :data:`MAX_LENGTH` characters, in one of :data:`CATEGORIES`;
* joining is limited per client address (``joins_per_minute``, see :func:`join`): a phone that
  reloads keeps its participant (the pages re-bind it), and a stranger cannot make new
  participants — new vote budgets — faster than the limit; only a salted hash of the address is
  stored, enough to count and to show the facilitator how many participants share one address;
* a participant posts at most :data:`RATE_LIMIT_POSTS` contributions per
  :data:`RATE_LIMIT_SECONDS` seconds (the facilitator is not limited);
* dot-voting: each participant has ``votes_per_participant`` votes per session, at most one per
  contribution, only on :data:`VOTABLE_CATEGORIES`;
* merging B into A hides B behind A: A's tally counts the *distinct* participants who voted for
  A or B (a participant who voted for both counts once and gets the extra vote back);
* hide, edit, merge, delete and the actors a contribution names are logged in
  ``workshop_actions`` and can be undone;
* a contribution may name up to :data:`MAX_ACTORS` actors of the session's territory
  (``workshop_contribution_actors``): only active ESS actors whose name is public (never a
  partial-diffusion entry) can be named, checked here whoever asks — a participant's phone is a
  stranger on the room's Wi-Fi, so the pages offer it only the :data:`PARTICIPANT_ACTOR_CHOICES`
  largest public names (:func:`actor_choices`), and the facilitator up to
  :data:`FACILITATOR_ACTOR_CHOICES`.

Write operations that check then write (rate limit, vote budget, join limit) run under one
process lock: the Streamlit server is one process sharing one DuckDB connection, with a cursor
per call. Nothing else is kept between calls: every answer is read from the database, so the
module holds no cache to go stale (issue 14).

>>> import ess_diag.store as store
>>> con = store.connect(":memory:")
>>> s = create_session(con, "commune", "01001", "Atelier ESS")
>>> p = join(con, s.join_code, "Awa")
>>> c = post(con, s.session_id, "besoins", "Une épicerie solidaire", participant_id=p)
>>> vote(con, s.session_id, p, c)
>>> [(r.text, r.votes) for r in board(con, s.session_id).itertuples()]
[('Une épicerie solidaire', 1)]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from . import config, store
from .text import clean

__all__ = [
    "CATEGORIES",
    "CATEGORY_ORDER",
    "VOTABLE_CATEGORIES",
    "MAX_LENGTH",
    "NAME_MAX_LENGTH",
    "TITLE_MAX_LENGTH",
    "PLACE_MAX_LENGTH",
    "RATE_LIMIT_POSTS",
    "RATE_LIMIT_SECONDS",
    "DEFAULT_VOTES",
    "MAX_ACTORS",
    "PARTICIPANT_ACTOR_CHOICES",
    "FACILITATOR_ACTOR_CHOICES",
    "WorkshopError",
    "UnknownSessionError",
    "RateLimitError",
    "VoteBudgetError",
    "JoinLimitError",
    "Session",
    "Synthesis",
    "create_session",
    "get_session",
    "session_by_code",
    "list_sessions",
    "update_session",
    "delete_session",
    "join",
    "participant_name",
    "address_hash",
    "shared_addresses",
    "post",
    "edit",
    "set_hidden",
    "merge",
    "undo_last",
    "last_action",
    "actor_choices",
    "contribution_actors",
    "set_actors",
    "add_actors",
    "remove_actors",
    "vote",
    "unvote",
    "votes_left",
    "my_votes",
    "board",
    "board_records",
    "tally",
    "stats",
    "commune_choices",
    "resolve_commune_name",
    "commune_counts",
    "synthesis",
    "normalize_code",
    "join_url",
]

#: Category key → French label, in the order the board shows them.
CATEGORIES: dict[str, str] = {
    "forces": "Forces",
    "faiblesses": "Faiblesses",
    "besoins": "Besoins",
    "opportunites": "Opportunités",
    "freins": "Freins",
    "pistes": "Pistes d'action",
}
CATEGORY_ORDER: tuple[str, ...] = tuple(CATEGORIES)
#: Dot-voting prioritises needs and action ideas (issue 7).
VOTABLE_CATEGORIES: tuple[str, ...] = ("besoins", "pistes")
#: Longest contribution accepted: a sticky note, not an essay.
MAX_LENGTH = 280
#: A first name, as shown on the board and in the exports.
NAME_MAX_LENGTH = 40
#: A workshop title: one line on the projector and in a file name.
TITLE_MAX_LENGTH = 200
#: A place ("Salle du conseil, mairie de …").
PLACE_MAX_LENGTH = 120
#: Longest text read at all before the length check (a pasted page is refused, not processed).
_INPUT_MAX = 10 * MAX_LENGTH
#: Flood control: at most this many posts by one participant in the sliding window.
RATE_LIMIT_POSTS = 6
RATE_LIMIT_SECONDS = 60
DEFAULT_VOTES = 5
#: At most this many actors named by one contribution (a sticky note, not a directory).
MAX_ACTORS = 5
#: Actors offered to a participant's phone (the largest public names of the territory): a
#: bounded list, sent to every phone of the room.
PARTICIPANT_ACTOR_CHOICES = 500
#: Actors offered to the facilitator's picker.
FACILITATOR_ACTOR_CHOICES = 2000
#: Join codes avoid characters that read alike on a projector (0/O, 1/I/L, 5/S, 8/B, 2/Z).
_CODE_ALPHABET = "ACDEFHJKMNPRTUVWXY34679"
_CODE_LENGTH = 6

# One lock for check-then-write operations (rate limit, vote budget, merge): the app is one
# process whose threads share one DuckDB connection.
_WRITE_LOCK = threading.RLock()


class WorkshopError(ValueError):
    """A refused workshop action, with a French message to show as is."""


class UnknownSessionError(WorkshopError):
    """No (live) session has this id or join code."""


class RateLimitError(WorkshopError):
    """The participant posted too much in too little time."""


class VoteBudgetError(WorkshopError):
    """The participant has no vote left."""


class JoinLimitError(WorkshopError):
    """Too many participants joined from one client address in the last minute."""


@dataclass(frozen=True)
class Session:
    """One workshop: a territory, a title, a date, a place and a join code."""

    session_id: str
    territory_level: str
    territory_code: str
    title: str
    session_date: dt.date | None
    place: str | None
    join_code: str
    votes_per_participant: int
    created_at: dt.datetime
    territory_name: str | None = None


@dataclass
class Synthesis:
    """Everything the synthesis export shows, computed once (see :func:`synthesis`)."""

    session: Session
    stats: dict[str, int]
    #: category key → board rows (dicts) ranked by votes then time.
    contributions: dict[str, list[dict]]
    #: communes with at least one contribution: code, name, lon, lat, count, geojson.
    communes: list[dict] = field(default_factory=list)
    #: outlines of every commune of the territory (code, geojson) for the map background.
    outlines: list[dict] = field(default_factory=list)


def _now() -> dt.datetime:
    # Stored as naive UTC: DuckDB TIMESTAMP has no zone, and all comparisons are in UTC.
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _new_id() -> str:
    return secrets.token_hex(8)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Iterable | dict = ()) -> list[tuple]:
    cur = con.cursor()
    try:
        return cur.execute(sql, params if isinstance(params, dict) else list(params)).fetchall()
    finally:
        cur.close()


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: Iterable | dict = ()) -> pd.DataFrame:
    cur = con.cursor()
    try:
        return cur.execute(sql, params if isinstance(params, dict) else list(params)).df()
    finally:
        cur.close()


def _write(con: duckdb.DuckDBPyConnection, statements: list[tuple[str, list]]) -> None:
    """Run several statements in one transaction on a fresh cursor."""
    with _WRITE_LOCK:
        cur = con.cursor()
        try:
            with store.transaction(cur):
                for sql, params in statements:
                    cur.execute(sql, params)
        finally:
            cur.close()


def normalize_code(code: str | None) -> str:
    """What a participant typed → a join code (``' acd 347 '`` → ``'ACD347'``)."""
    return "".join(ch for ch in str(code or "").upper() if ch.isalnum())


def join_url(base_url: str, join_code: str) -> str:
    """The address a participant's phone opens (the QR code holds it)."""
    return f"{base_url.rstrip('/')}/participer?code={join_code}"


# --- sessions ---------------------------------------------------------------------------------

# One query for every session lookup; unused filters are bound as NULL.
_SESSION_SQL = """
SELECT s.session_id, s.territory_level, s.territory_code, s.title, s.session_date, s.place,
       s.join_code, s.votes_per_participant, s.created_at, t.name
FROM workshop_sessions s
LEFT JOIN territories t ON t.level = s.territory_level AND t.code = s.territory_code
WHERE s.deleted_at IS NULL
  AND ($id IS NULL OR s.session_id = $id)
  AND ($join_code IS NULL OR s.join_code = $join_code)
  AND ($level IS NULL OR (s.territory_level = $level AND s.territory_code = $code))
ORDER BY s.created_at DESC, s.session_id
"""


def _find_sessions(con, **filters) -> list[Session]:
    params = {"id": None, "join_code": None, "level": None, "code": None, **filters}
    return [_session(r) for r in _rows(con, _SESSION_SQL, params)]


def _session(row: tuple) -> Session:
    return Session(*row)


def _one_line(value: str | None) -> str:
    """Cleaned at the door (control/format characters out), blanks collapsed, read up to
    :data:`_INPUT_MAX` characters: callers then check their own, smaller bound."""
    return " ".join(clean(value, _INPUT_MAX, multiline=False).split())


def _clean_text(value: str | None, what: str, max_length: int = TITLE_MAX_LENGTH) -> str:
    text = _one_line(value)
    if not text:
        raise WorkshopError(f"{what} est obligatoire.")
    if len(text) > max_length:
        raise WorkshopError(f"{what} dépasse {max_length} caractères.")
    return text


def _clean_place(value: str | None) -> str | None:
    text = _one_line(value)
    if len(text) > PLACE_MAX_LENGTH:
        raise WorkshopError(f"Le lieu dépasse {PLACE_MAX_LENGTH} caractères.")
    return text or None


def create_session(
    con: duckdb.DuckDBPyConnection,
    level: str,
    code: str,
    title: str,
    session_date: dt.date | None = None,
    place: str | None = None,
    votes_per_participant: int = DEFAULT_VOTES,
) -> Session:
    """Create a workshop for the territory ``(level, code)`` and give it a fresh join code."""
    title = _clean_text(title, "Le titre")
    place = _clean_place(place)
    if not 1 <= int(votes_per_participant) <= 50:
        raise WorkshopError("Le nombre de votes par participant doit être entre 1 et 50.")
    with _WRITE_LOCK:
        taken = {r[0] for r in _rows(con, "SELECT join_code FROM workshop_sessions")}
        join_code = _fresh_code(taken)
        session_id = _new_id()
        _write(
            con,
            [
                (
                    "INSERT INTO workshop_sessions (session_id, territory_level, territory_code,"
                    " title, session_date, place, join_code, votes_per_participant, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        session_id,
                        level,
                        str(code),
                        title,
                        session_date,
                        place,
                        join_code,
                        int(votes_per_participant),
                        _now(),
                    ],
                )
            ],
        )
    return get_session(con, session_id)


def _fresh_code(taken: set[str]) -> str:
    while True:
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
        if code not in taken:
            return code


def get_session(con: duckdb.DuckDBPyConnection, session_id: str) -> Session:
    """The live session ``session_id``; :class:`UnknownSessionError` if absent or deleted."""
    found = _find_sessions(con, id=session_id)
    if not found:
        raise UnknownSessionError("Cet atelier n'existe pas ou a été supprimé.")
    return found[0]


def session_by_code(con: duckdb.DuckDBPyConnection, join_code: str) -> Session:
    """The live session whose join code is ``join_code`` (case and spaces ignored)."""
    code = normalize_code(join_code)
    found = _find_sessions(con, join_code=code)
    if not found:
        raise UnknownSessionError(
            f"Aucun atelier en cours avec le code « {code} ». Vérifiez le code affiché à l'écran."
        )
    return found[0]


def list_sessions(
    con: duckdb.DuckDBPyConnection, level: str | None = None, code: str | None = None
) -> list[Session]:
    """Live sessions, newest first, optionally only those of one territory."""
    if level is None:
        return _find_sessions(con)
    return _find_sessions(con, level=level, code=str(code))


def update_session(
    con: duckdb.DuckDBPyConnection,
    session_id: str,
    *,
    title: str | None = None,
    session_date: dt.date | None = None,
    place: str | None = None,
    votes_per_participant: int | None = None,
) -> Session:
    """Change a session's title, date, place or vote budget (None keeps the current value)."""
    current = get_session(con, session_id)
    new_title = _clean_text(title, "Le titre") if title is not None else current.title
    new_votes = current.votes_per_participant
    if votes_per_participant is not None:
        if not 1 <= int(votes_per_participant) <= 50:
            raise WorkshopError("Le nombre de votes par participant doit être entre 1 et 50.")
        new_votes = int(votes_per_participant)
    _write(
        con,
        [
            (
                "UPDATE workshop_sessions SET title = ?, session_date = ?, place = ?,"
                " votes_per_participant = ? WHERE session_id = ?",
                [
                    new_title,
                    session_date if session_date is not None else current.session_date,
                    _clean_place(place) if place is not None else current.place,
                    new_votes,
                    session_id,
                ],
            )
        ],
    )
    return get_session(con, session_id)


def delete_session(con: duckdb.DuckDBPyConnection, session_id: str) -> None:
    """Delete a session (kept in the database, undoable with :func:`undo_last`)."""
    get_session(con, session_id)
    with _WRITE_LOCK:
        _write(
            con,
            [
                (
                    "UPDATE workshop_sessions SET deleted_at = ? WHERE session_id = ?",
                    [_now(), session_id],
                ),
                _action(session_id, "delete_session", {}),
            ],
        )


# --- participants -----------------------------------------------------------------------------


def join(
    con: duckdb.DuckDBPyConnection,
    join_code: str,
    display_name: str | None = None,
    *,
    client: str | None = None,
    joins_per_minute: int | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Register a participant in the session with ``join_code``; returns their id.

    No account: the id is a random token (96 bits) that the participant's browser keeps (see
    ``ess_diag_ui.atelier``). ``client`` is the address the request came from (None: not a
    network client — the command line, the facilitator, a test): at most ``joins_per_minute``
    participants (default :func:`ess_diag.config.joins_per_minute`) join one session from one
    address in 60 seconds, else :class:`JoinLimitError`. Only a salted hash of the address is
    stored (:func:`address_hash`).
    """
    session = session_by_code(con, join_code)
    name = clean(display_name, NAME_MAX_LENGTH, multiline=False) or None
    participant_id = secrets.token_urlsafe(12)
    now = now or _now()
    with _WRITE_LOCK:
        hashed = address_hash(con, client) if client is not None else None
        if hashed is not None:
            limit = config.joins_per_minute() if joins_per_minute is None else joins_per_minute
            recent = _rows(
                con,
                "SELECT count(*) FROM workshop_participants WHERE session_id = ? "
                "AND client_hash = ? AND created_at > ?",
                [session.session_id, hashed, now - dt.timedelta(seconds=60)],
            )[0][0]
            if recent >= limit:
                raise JoinLimitError(
                    f"Trop d'arrivées depuis cette connexion ({limit} par minute au plus). "
                    "Patientez une minute puis réessayez, ou demandez à l'animateur."
                )
        _write(
            con,
            [
                (
                    "INSERT INTO workshop_participants (participant_id, session_id, display_name,"
                    " created_at, client_hash) VALUES (?, ?, ?, ?, ?)",
                    [participant_id, session.session_id, name, now, hashed],
                )
            ],
        )
    return participant_id


_SALT_KEY = "workshop_address_salt"
_UNKNOWN_PARTICIPANT = "Participant inconnu pour cet atelier : rejoignez-le avec son code."


def address_hash(con: duckdb.DuckDBPyConnection, client: str) -> str:
    """A client address → 16 hex characters of SHA-256 over a random salt kept in the database.

    Enough to count joins per address and to group participants sharing one; the address itself
    is never stored, and without the salt the hash cannot be reversed by trying all IPv4s.
    """
    with _WRITE_LOCK:
        salt = store.get_meta(con.cursor(), _SALT_KEY)
        if salt is None:
            salt = secrets.token_hex(16)
            cur = con.cursor()
            try:
                with store.transaction(cur):
                    store.set_meta(cur, _SALT_KEY, salt)
            finally:
                cur.close()
    return hashlib.sha256(f"{salt}|{client}".encode()).hexdigest()[:16]


def shared_addresses(con: duckdb.DuckDBPyConnection, session_id: str) -> pd.DataFrame:
    """Client addresses shared by several participants, most shared first.

    Columns: ``address`` (a short label of the hash, ``adresse 1``, ``adresse 2``…),
    ``participants``. Many participants behind one address is normal (the room's Wi-Fi, a
    hotspot, a reverse proxy); the facilitator compares it with the people in the room.
    """
    rows = _rows(
        con,
        "SELECT client_hash, count(*) AS n FROM workshop_participants "
        "WHERE session_id = ? AND client_hash IS NOT NULL GROUP BY client_hash HAVING n > 1 "
        "ORDER BY n DESC, client_hash",
        [session_id],
    )
    return pd.DataFrame(
        [(f"adresse {i}", int(n)) for i, (_hash, n) in enumerate(rows, 1)],
        columns=["address", "participants"],
    )


def participant_name(
    con: duckdb.DuckDBPyConnection, session_id: str, participant_id: str
) -> str | None:
    """A participant's display name; raises :class:`WorkshopError` if not in this session."""
    rows = _rows(
        con,
        "SELECT display_name FROM workshop_participants WHERE session_id = ? "
        "AND participant_id = ?",
        [session_id, participant_id],
    )
    if not rows:
        raise WorkshopError(_UNKNOWN_PARTICIPANT)
    return rows[0][0]


# --- contributions ----------------------------------------------------------------------------


def _check_text(text: str | None) -> str:
    # Cleaned at the door, runs of blanks collapsed (a pasted text's line breaks), words kept.
    cleaned = _one_line(text)
    if not cleaned:
        raise WorkshopError("La contribution est vide.")
    if len(cleaned) > MAX_LENGTH:
        raise WorkshopError(
            f"Votre contribution fait {len(cleaned)} caractères : la limite est de "
            f"{MAX_LENGTH}. Raccourcissez-la ou découpez-la en plusieurs idées."
        )
    return cleaned


def _check_category(category: str) -> str:
    if category not in CATEGORIES:
        allowed = ", ".join(CATEGORIES.values())
        raise WorkshopError(f"Catégorie inconnue « {category} » (attendu : {allowed}).")
    return category


def _check_sector(sector: str | None) -> str | None:
    if not sector:
        return None
    from .nomenclatures import SECTOR_LABELS

    if sector not in SECTOR_LABELS:
        raise WorkshopError(f"Secteur inconnu « {sector} ».")
    return sector


def _check_commune(con, session: Session, commune_code: str | None) -> str | None:
    if not commune_code:
        return None
    rows = _rows(
        con,
        "SELECT tc.commune_code FROM territory_communes tc "
        "LEFT JOIN commune_aliases a ON a.code = ? "
        "WHERE tc.level = ? AND tc.code = ? AND tc.commune_code = COALESCE(a.commune_code, ?)",
        [commune_code, session.territory_level, session.territory_code, commune_code],
    )
    if not rows:
        raise WorkshopError(
            f"La commune {commune_code} n'appartient pas au territoire de l'atelier."
        )
    return rows[0][0]


def post(
    con: duckdb.DuckDBPyConnection,
    session_id: str,
    category: str,
    text: str,
    *,
    participant_id: str | None = None,
    commune_code: str | None = None,
    sector: str | None = None,
    actor_ids: Iterable[str] | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Add a contribution; returns its id.

    ``participant_id=None`` means the facilitator typed it (no rate limit). ``actor_ids``: the
    actors it concerns (see :func:`set_actors` for the rule). Raises :class:`WorkshopError`
    (French message) when the text is empty or longer than :data:`MAX_LENGTH`, the
    category/commune/sector/actor is unknown, or :class:`RateLimitError`.
    """
    session = get_session(con, session_id)
    category = _check_category(category)
    cleaned = _check_text(text)
    sector = _check_sector(sector)
    commune = _check_commune(con, session, commune_code)
    actors = _check_actors(con, session, actor_ids)
    now = now or _now()
    contribution_id = _new_id()
    with _WRITE_LOCK:
        if participant_id is not None:
            # One query: is this a participant of the session, and how much did they post in
            # the window (a post is the hot path of a busy room).
            since = now - dt.timedelta(seconds=RATE_LIMIT_SECONDS)
            known, *recent = _rows(
                con,
                "SELECT (SELECT count(*) FROM workshop_participants WHERE session_id = $s "
                "AND participant_id = $p), count(*), min(created_at) FROM workshop_contributions "
                "WHERE session_id = $s AND participant_id = $p AND created_at > $since",
                {"s": session_id, "p": participant_id, "since": since},
            )[0]
            if not known:
                raise WorkshopError(_UNKNOWN_PARTICIPANT)
            if recent[0] >= RATE_LIMIT_POSTS:
                wait = RATE_LIMIT_SECONDS - int((now - recent[1]).total_seconds())
                raise RateLimitError(
                    f"Doucement : {RATE_LIMIT_POSTS} contributions par minute au plus. "
                    f"Réessayez dans {max(wait, 1)} s."
                )
        _write(
            con,
            [
                (
                    "INSERT INTO workshop_contributions (contribution_id, session_id,"
                    " participant_id, category, text, commune_code, sector, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        contribution_id,
                        session_id,
                        participant_id,
                        category,
                        cleaned,
                        commune,
                        sector,
                        now,
                    ],
                ),
                *_link_statements(contribution_id, actors, now),
            ],
        )
    return contribution_id


# --- actors named by a contribution -------------------------------------------------------------

# Actors a contribution may name: active ESS actors of the territory whose name is public.
_NAMEABLE_SQL = """
SELECT a.actor_id, coalesce(a.name, u.denomination) AS name, c.name AS commune_name
FROM actors a
JOIN territory_communes tc ON tc.commune_code = a.commune_code
LEFT JOIN territories c ON c.level = 'commune' AND c.code = a.commune_code
LEFT JOIN unites_legales u ON u.siren = a.siren
WHERE tc.level = $level AND tc.code = $code AND a.active AND a.is_ess
  AND NOT a.partial_diffusion AND NOT coalesce(u.partial_diffusion, false)
  AND trim(coalesce(a.name, u.denomination, '')) <> ''
  AND ($ids IS NULL OR list_contains($ids, a.actor_id))
ORDER BY a.jobs DESC NULLS LAST, name, a.actor_id
LIMIT $limit
"""


def actor_choices(
    con: duckdb.DuckDBPyConnection, level: str, code: str, *, limit: int
) -> list[tuple[str, str]]:
    """Actors a contribution may name, as ``(actor_id, "Name (Commune)")``: the territory's
    active ESS actors whose name is public (never a partial-diffusion entry), largest employers
    first, at most ``limit``. Names are raw text: show them as text."""
    rows = _rows(
        con,
        _NAMEABLE_SQL,
        {"level": level, "code": str(code), "ids": None, "limit": int(limit)},
    )
    return [(r[0], f"{r[1]} ({r[2]})" if r[2] else str(r[1])) for r in rows]


def _check_actors(con, session: Session, actor_ids: Iterable[str] | None) -> list[str]:
    """The distinct actor ids, each an actor the session's contributions may name."""
    ids = list(dict.fromkeys(str(a) for a in (actor_ids or []) if a))
    if not ids:
        return []
    if len(ids) > MAX_ACTORS:
        raise WorkshopError(f"Une contribution nomme au plus {MAX_ACTORS} acteurs.")
    rows = _rows(
        con,
        _NAMEABLE_SQL,
        {
            "level": session.territory_level,
            "code": session.territory_code,
            "ids": ids,
            "limit": len(ids),
        },
    )
    if len(rows) != len(ids):
        raise WorkshopError(
            "Acteur inconnu, hors du territoire de l'atelier ou dont le nom n'est pas public."
        )
    return ids


def _link_statements(
    contribution_id: str, actor_ids: list[str], now: dt.datetime
) -> list[tuple[str, list]]:
    # One microsecond apart: the order in which the actors were named is kept.
    return [
        (
            "INSERT INTO workshop_contribution_actors (contribution_id, actor_id, created_at)"
            " VALUES (?, ?, ?)",
            [contribution_id, actor_id, now + dt.timedelta(microseconds=i)],
        )
        for i, actor_id in enumerate(actor_ids)
    ]


def contribution_actors(
    con: duckdb.DuckDBPyConnection, session_id: str, contribution_id: str
) -> list[str]:
    """Ids of the actors the contribution names, in the order they were named."""
    _contribution(con, session_id, contribution_id)
    rows = _rows(
        con,
        "SELECT actor_id FROM workshop_contribution_actors WHERE contribution_id = ? "
        "ORDER BY created_at, actor_id",
        [contribution_id],
    )
    return list(dict.fromkeys(r[0] for r in rows))


def set_actors(
    con: duckdb.DuckDBPyConnection,
    session_id: str,
    contribution_id: str,
    actor_ids: Iterable[str],
) -> None:
    """Facilitator: the contribution now names exactly ``actor_ids`` (undoable).

    Each must be an active ESS actor of the session's territory with a public name (not a
    partial-diffusion entry), at most :data:`MAX_ACTORS`; else :class:`WorkshopError` and
    nothing changes.
    """
    session = get_session(con, session_id)
    with _WRITE_LOCK:
        before = contribution_actors(con, session_id, contribution_id)
        after = _check_actors(con, session, actor_ids)
        if after == before:
            return
        now = _now()
        _write(
            con,
            [
                (
                    "DELETE FROM workshop_contribution_actors WHERE contribution_id = ?",
                    [contribution_id],
                ),
                *_link_statements(contribution_id, after, now),
                _action(
                    session_id,
                    "actors",
                    {"links": {"contribution_id": contribution_id, "actor_ids": before}},
                ),
            ],
        )


def add_actors(
    con: duckdb.DuckDBPyConnection,
    session_id: str,
    contribution_id: str,
    actor_ids: Iterable[str],
) -> None:
    """Facilitator: the contribution also names ``actor_ids`` (undoable, see :func:`set_actors`)."""
    current = contribution_actors(con, session_id, contribution_id)
    set_actors(con, session_id, contribution_id, [*current, *actor_ids])


def remove_actors(
    con: duckdb.DuckDBPyConnection,
    session_id: str,
    contribution_id: str,
    actor_ids: Iterable[str],
) -> None:
    """Facilitator: the contribution no longer names ``actor_ids`` (undoable)."""
    gone = set(actor_ids)
    current = contribution_actors(con, session_id, contribution_id)
    set_actors(con, session_id, contribution_id, [a for a in current if a not in gone])


def _contribution(con, session_id: str, contribution_id: str) -> dict:
    rows = _rows(
        con,
        "SELECT contribution_id, category, text, commune_code, sector, hidden, merged_into "
        "FROM workshop_contributions WHERE session_id = ? AND contribution_id = ?",
        [session_id, contribution_id],
    )
    if not rows:
        raise WorkshopError("Contribution introuvable dans cet atelier.")
    keys = ("contribution_id", "category", "text", "commune_code", "sector", "hidden")
    return dict(zip((*keys, "merged_into"), rows[0], strict=True))


def _action(session_id: str, kind: str, payload: dict) -> tuple[str, list]:
    return (
        "INSERT INTO workshop_actions (action_id, session_id, kind, payload, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [_new_id(), session_id, kind, json.dumps(payload, default=str), _now()],
    )


def edit(
    con: duckdb.DuckDBPyConnection,
    session_id: str,
    contribution_id: str,
    *,
    text: str | None = None,
    category: str | None = None,
    commune_code: str | None = None,
    sector: str | None = None,
    clear_commune: bool = False,
    clear_sector: bool = False,
) -> None:
    """Facilitator edit of a contribution (undoable). None keeps a field as it is."""
    session = get_session(con, session_id)
    before = _contribution(con, session_id, contribution_id)
    new_text = _check_text(text) if text is not None else before["text"]
    new_category = _check_category(category) if category is not None else before["category"]
    new_commune = (
        None
        if clear_commune
        else (
            _check_commune(con, session, commune_code) if commune_code else before["commune_code"]
        )
    )
    new_sector = None if clear_sector else (_check_sector(sector) or before["sector"])
    with _WRITE_LOCK:
        _write(
            con,
            [
                (
                    "UPDATE workshop_contributions SET text = ?, category = ?, commune_code = ?,"
                    " sector = ?, edited_at = ? WHERE contribution_id = ?",
                    [new_text, new_category, new_commune, new_sector, _now(), contribution_id],
                ),
                _action(session_id, "edit", {"before": [before]}),
            ],
        )


def set_hidden(
    con: duckdb.DuckDBPyConnection, session_id: str, contribution_id: str, hidden: bool = True
) -> None:
    """Hide (or show again) a contribution; hidden ones leave the board, tally and exports."""
    before = _contribution(con, session_id, contribution_id)
    with _WRITE_LOCK:
        _write(
            con,
            [
                (
                    "UPDATE workshop_contributions SET hidden = ? WHERE contribution_id = ?",
                    [bool(hidden), contribution_id],
                ),
                _action(session_id, "hide" if hidden else "unhide", {"before": [before]}),
            ],
        )


def merge(
    con: duckdb.DuckDBPyConnection,
    session_id: str,
    target_id: str,
    source_ids: Iterable[str],
    *,
    text: str | None = None,
) -> None:
    """Merge duplicates ``source_ids`` into ``target_id`` (undoable).

    The sources leave the board; their votes count for the target, once per participant.
    Contributions already merged into a source follow it to the target. ``text`` optionally
    rewrites the target's text.
    """
    sources = [s for s in dict.fromkeys(source_ids) if s != target_id]
    if not sources:
        raise WorkshopError("Choisissez au moins une contribution à fusionner avec la cible.")
    with _WRITE_LOCK:
        target = _contribution(con, session_id, target_id)
        if target["merged_into"]:
            raise WorkshopError("La cible a déjà été fusionnée dans une autre contribution.")
        before = [target] + [_contribution(con, session_id, s) for s in sources]
        followers = _rows(
            con,
            "SELECT contribution_id FROM workshop_contributions WHERE session_id = ? AND "
            "list_contains(?, merged_into)",
            [session_id, sources],
        )
        # Keep the tree one level deep: a contribution merged into a source now points at the
        # target, so the tally needs no recursion.
        before += [_contribution(con, session_id, f[0]) for f in followers]
        moved = sources + [f[0] for f in followers]
        statements: list[tuple[str, list]] = [
            (
                "UPDATE workshop_contributions SET merged_into = ? "
                "WHERE list_contains(?, contribution_id)",
                [target_id, moved],
            )
        ]
        if text is not None:
            statements.append(
                (
                    "UPDATE workshop_contributions SET text = ?, edited_at = ? "
                    "WHERE contribution_id = ?",
                    [_check_text(text), _now(), target_id],
                )
            )
        statements.append(_action(session_id, "merge", {"before": before}))
        _write(con, statements)


_ACTION_LABELS = {
    "edit": "modification",
    "hide": "masquage",
    "unhide": "affichage",
    "merge": "fusion",
    "actors": "acteurs nommés",
    "delete_session": "suppression de l'atelier",
}


def last_action(con: duckdb.DuckDBPyConnection, session_id: str) -> str | None:
    """French label of the last action that :func:`undo_last` would revert, or None."""
    rows = _rows(
        con,
        "SELECT kind FROM workshop_actions WHERE session_id = ? AND undone_at IS NULL "
        "ORDER BY created_at DESC, action_id DESC LIMIT 1",
        [session_id],
    )
    return _ACTION_LABELS.get(rows[0][0], rows[0][0]) if rows else None


def undo_last(con: duckdb.DuckDBPyConnection, session_id: str) -> str | None:
    """Revert the session's last facilitator action; returns its French label (None if none)."""
    with _WRITE_LOCK:
        rows = _rows(
            con,
            "SELECT action_id, kind, payload FROM workshop_actions WHERE session_id = ? "
            "AND undone_at IS NULL ORDER BY created_at DESC, action_id DESC LIMIT 1",
            [session_id],
        )
        if not rows:
            return None
        action_id, kind, payload = rows[0]
        data = json.loads(payload)
        statements: list[tuple[str, list]] = []
        if kind == "delete_session":
            statements.append(
                (
                    "UPDATE workshop_sessions SET deleted_at = NULL WHERE session_id = ?",
                    [session_id],
                )
            )
        links = data.get("links")
        if links:
            cid = links["contribution_id"]
            statements.append(
                ("DELETE FROM workshop_contribution_actors WHERE contribution_id = ?", [cid])
            )
            statements.extend(_link_statements(cid, list(links["actor_ids"]), _now()))
        for row in data.get("before", []):
            statements.append(
                (
                    "UPDATE workshop_contributions SET category = ?, text = ?, commune_code = ?,"
                    " sector = ?, hidden = ?, merged_into = ? WHERE contribution_id = ?",
                    [
                        row["category"],
                        row["text"],
                        row["commune_code"],
                        row["sector"],
                        row["hidden"],
                        row["merged_into"],
                        row["contribution_id"],
                    ],
                )
            )
        statements.append(
            ("UPDATE workshop_actions SET undone_at = ? WHERE action_id = ?", [_now(), action_id])
        )
        _write(con, statements)
    return _ACTION_LABELS.get(kind, kind)


# --- votes ------------------------------------------------------------------------------------


def _votes_used(con, session_id: str, participant_id: str) -> int:
    return _rows(
        con,
        "SELECT count(*) FROM workshop_counted_votes WHERE session_id = ? AND participant_id = ?",
        [session_id, participant_id],
    )[0][0]


def votes_left(con: duckdb.DuckDBPyConnection, session_id: str, participant_id: str) -> int:
    """How many votes the participant can still give in this session."""
    session = get_session(con, session_id)
    return max(session.votes_per_participant - _votes_used(con, session_id, participant_id), 0)


def my_votes(con: duckdb.DuckDBPyConnection, session_id: str, participant_id: str) -> set[str]:
    """Ids of the board contributions (roots) the participant voted for."""
    rows = _rows(
        con,
        "SELECT root_id FROM workshop_counted_votes WHERE session_id = ? AND participant_id = ?",
        [session_id, participant_id],
    )
    return {r[0] for r in rows}


def waiting_votes(con: duckdb.DuckDBPyConnection, session_id: str, participant_id: str) -> set[str]:
    """Board contributions the participant voted for whose vote does not count (yet): beyond the
    budget after the facilitator undid a merge, showed a contribution again or lowered the
    budget (the earliest votes count, see ``store.WORKSHOP_COUNTED_VOTES_V2``)."""
    rows = _rows(
        con,
        "SELECT root_id FROM workshop_voted_roots "
        "WHERE session_id = ? AND participant_id = ? AND NOT counted",
        [session_id, participant_id],
    )
    return {r[0] for r in rows}


def vote(
    con: duckdb.DuckDBPyConnection, session_id: str, participant_id: str, contribution_id: str
) -> None:
    """Give one vote to a contribution (one per contribution; the budget is enforced)."""
    session = get_session(con, session_id)
    participant_name(con, session_id, participant_id)
    with _WRITE_LOCK:
        target = _contribution(con, session_id, contribution_id)
        root_id = target["merged_into"] or contribution_id
        root = _contribution(con, session_id, root_id) if root_id != contribution_id else target
        if root["hidden"]:
            raise WorkshopError("Cette contribution a été masquée par l'animateur.")
        if root["category"] not in VOTABLE_CATEGORIES:
            labels = " et ".join(CATEGORIES[c].lower() for c in VOTABLE_CATEGORIES)
            raise WorkshopError(f"Le vote porte seulement sur les {labels}.")
        if root_id in my_votes(con, session_id, participant_id):
            raise WorkshopError("Vous avez déjà voté pour cette contribution.")
        if _votes_used(con, session_id, participant_id) >= session.votes_per_participant:
            raise VoteBudgetError(
                f"Vous avez utilisé vos {session.votes_per_participant} votes. Retirez-en un "
                "pour voter ailleurs."
            )
        _write(
            con,
            [
                (
                    "INSERT INTO workshop_votes VALUES (?, ?, ?, ?)",
                    [session_id, participant_id, root_id, _now()],
                )
            ],
        )


def unvote(
    con: duckdb.DuckDBPyConnection, session_id: str, participant_id: str, contribution_id: str
) -> None:
    """Take back the participant's vote(s) on a board contribution and those merged into it."""
    with _WRITE_LOCK:
        _write(
            con,
            [
                (
                    "DELETE FROM workshop_votes WHERE session_id = ? AND participant_id = ? AND "
                    "contribution_id IN (SELECT contribution_id FROM workshop_contributions "
                    "WHERE contribution_id = ? OR merged_into = ?)",
                    [session_id, participant_id, contribution_id, contribution_id],
                )
            ],
        )


# --- board ------------------------------------------------------------------------------------

# Votes are counted through the view store.workshop_counted_votes (merges resolved, hidden
# contributions left out).
_BOARD_SQL = """
WITH tally AS (
    SELECT root_id, count(*) AS votes FROM workshop_counted_votes WHERE session_id = $session
    GROUP BY root_id
),
merged AS (
    SELECT merged_into AS root_id, count(*) AS merged_count,
           list(text ORDER BY created_at) AS merged_texts
    FROM workshop_contributions WHERE session_id = $session AND merged_into IS NOT NULL
    GROUP BY merged_into
)
SELECT c.contribution_id, c.category, c.text, c.commune_code, t.name AS commune_name,
       c.sector, COALESCE(tally.votes, 0) AS votes, COALESCE(m.merged_count, 0) AS merged_count,
       m.merged_texts, p.display_name AS author, c.participant_id IS NULL AS by_facilitator,
       c.created_at, c.edited_at, c.hidden
FROM workshop_contributions c
LEFT JOIN tally ON tally.root_id = c.contribution_id
LEFT JOIN merged m ON m.root_id = c.contribution_id
LEFT JOIN workshop_participants p ON p.participant_id = c.participant_id
LEFT JOIN territories t ON t.level = 'commune' AND t.code = c.commune_code
WHERE c.session_id = $session AND c.merged_into IS NULL AND ($hidden OR NOT c.hidden)
ORDER BY list_position($order, c.category), votes DESC, c.created_at, c.contribution_id
"""

_BOARD_COLUMNS = [
    "contribution_id",
    "category",
    "category_label",
    "text",
    "commune_code",
    "commune_name",
    "sector",
    "votes",
    "merged_count",
    "merged_texts",
    "author",
    "by_facilitator",
    "created_at",
    "edited_at",
    "hidden",
    "actors",
]

# Names of the actors each board contribution names, its merged duplicates' included; the
# partial-diffusion rule is applied when reading (an import may have changed an actor since).
_NAMED_SQL = """
SELECT COALESCE(c.merged_into, c.contribution_id) AS root_id,
       list_sort(list_distinct(list(
           CASE WHEN a.partial_diffusion OR coalesce(u.partial_diffusion, false)
                THEN 'diffusion partielle'
                ELSE coalesce(a.name, u.denomination, '(sans nom)') END))) AS names
FROM workshop_contribution_actors l
JOIN workshop_contributions c ON c.contribution_id = l.contribution_id
JOIN actors a ON a.actor_id = l.actor_id
LEFT JOIN unites_legales u ON u.siren = a.siren
WHERE c.session_id = $session
  AND list_contains($ids, a.actor_id)
GROUP BY 1
"""


def board(
    con: duckdb.DuckDBPyConnection, session_id: str, *, include_hidden: bool = False
) -> pd.DataFrame:
    """The board: one row per visible contribution (merged ones folded into their target).

    Columns: ``contribution_id, category, category_label, text, commune_code, commune_name,
    sector, votes, merged_count, merged_texts, author, by_facilitator, created_at, edited_at,
    hidden, actors`` (names of the actors it and its merged duplicates name, sorted); ordered
    by category (:data:`CATEGORY_ORDER`), votes (desc), then time.
    Texts and names are raw: escape them before any HTML.
    """
    return pd.DataFrame(
        board_records(con, session_id, include_hidden=include_hidden), columns=_BOARD_COLUMNS
    )


def board_records(
    con: duckdb.DuckDBPyConnection, session_id: str, *, include_hidden: bool = False
) -> list[dict]:
    """:func:`board` as a list of dicts (same keys and order), for rendering row by row."""
    return _board_rows(con, session_id, include_hidden)


def _board_rows(con, session_id: str, include_hidden: bool) -> list[dict]:
    cur = con.cursor()
    try:
        result = cur.execute(
            _BOARD_SQL,
            {"session": session_id, "hidden": bool(include_hidden), "order": list(CATEGORY_ORDER)},
        )
        names = [d[0] for d in result.description]
        fetched = result.fetchall()
        # Most sessions name no actor: the actors table is read only when links exist.
        linked = cur.execute(
            "SELECT list(DISTINCT l.actor_id) FROM workshop_contribution_actors l "
            "JOIN workshop_contributions c ON c.contribution_id = l.contribution_id "
            "WHERE c.session_id = ?",
            [session_id],
        ).fetchall()[0][0]
        named = (
            dict(cur.execute(_NAMED_SQL, {"session": session_id, "ids": linked}).fetchall())
            if linked
            else {}
        )
    finally:
        cur.close()
    rows = []
    for values in fetched:
        row = dict(zip(names, values, strict=True))
        row["category_label"] = CATEGORIES[row["category"]]
        row["votes"] = int(row["votes"])
        row["merged_count"] = int(row["merged_count"])
        row["merged_texts"] = list(row["merged_texts"] or [])
        row["actors"] = list(named.get(row["contribution_id"]) or [])
        rows.append({k: row[k] for k in _BOARD_COLUMNS})
    return rows


def tally(con: duckdb.DuckDBPyConnection, session_id: str) -> pd.DataFrame:
    """The vote tally: votable contributions ranked by votes (desc), then time."""
    frame = board(con, session_id)
    frame = frame[frame["category"].isin(VOTABLE_CATEGORIES)]
    frame = frame.sort_values(["votes", "created_at"], ascending=[False, True])
    return frame[["contribution_id", "category", "category_label", "text", "votes"]].reset_index(
        drop=True
    )


def stats(con: duckdb.DuckDBPyConnection, session_id: str) -> dict[str, int]:
    """Counts for the header: participants, contributions (on the board), votes, hidden."""
    row = _rows(
        con,
        "SELECT (SELECT count(*) FROM workshop_participants WHERE session_id = $1),"
        " (SELECT count(*) FROM workshop_contributions WHERE session_id = $1"
        "   AND merged_into IS NULL AND NOT hidden),"
        " (SELECT count(*) FROM workshop_contributions WHERE session_id = $1 AND hidden),"
        " (SELECT count(*) FROM workshop_contributions WHERE session_id = $1"
        "   AND merged_into IS NOT NULL)",
        [session_id],
    )[0]
    votes = _rows(
        con, "SELECT count(*) FROM workshop_counted_votes WHERE session_id = ?", [session_id]
    )[0][0]
    return {
        "participants": int(row[0]),
        "contributions": int(row[1]),
        "hidden": int(row[2]),
        "merged": int(row[3]),
        "votes": int(votes),
    }


# --- communes ---------------------------------------------------------------------------------


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return " ".join(text.lower().replace("-", " ").replace("'", " ").split())


def commune_choices(con: duckdb.DuckDBPyConnection, level: str, code: str) -> list[tuple[str, str]]:
    """The territory's communes as ``(code, name)`` sorted by name, for a picker."""
    rows = _rows(
        con,
        "SELECT t.code, t.name FROM territory_communes tc "
        "JOIN territories t ON t.level = 'commune' AND t.code = tc.commune_code "
        "WHERE tc.level = ? AND tc.code = ? ORDER BY t.name, t.code",
        [level, str(code)],
    )
    return [(r[0], r[1]) for r in rows]


def resolve_commune_name(
    con: duckdb.DuckDBPyConnection, level: str, code: str, name: str
) -> str | None:
    """A commune typed by name (accents, case, hyphens ignored) or code → its code, or None."""
    wanted = _fold(name)
    if not wanted:
        return None
    choices = commune_choices(con, level, code)
    for commune_code, commune_name in choices:
        if wanted in (_fold(commune_name), commune_code.lower()):
            return commune_code
    return None


def commune_counts(con: duckdb.DuckDBPyConnection, session_id: str) -> pd.DataFrame:
    """Contributions tied to communes for the workshop map.

    Columns: ``commune_code, name, lon, lat, contributions, by_category`` (dict of counts),
    ``texts`` (list, raw).
    """
    frame = board(con, session_id)
    frame = frame[frame["commune_code"].notna()]
    if frame.empty:
        return pd.DataFrame(
            columns=["commune_code", "name", "lon", "lat", "contributions", "by_category", "texts"]
        )
    codes = sorted(frame["commune_code"].unique())
    places = _df(
        con,
        "SELECT code AS commune_code, name, lon, lat FROM territories WHERE level = 'commune' "
        "AND list_contains(?, code)",
        [codes],
    )
    grouped = (
        frame.groupby("commune_code")
        .agg(
            contributions=("contribution_id", "count"),
            by_category=("category", lambda s: s.value_counts().to_dict()),
            texts=("text", list),
        )
        .reset_index()
    )
    out = places.merge(grouped, on="commune_code", how="right")
    return out[
        ["commune_code", "name", "lon", "lat", "contributions", "by_category", "texts"]
    ].sort_values("commune_code", ignore_index=True)


def _outlines(con, level: str, code: str, limit: int = 1500) -> list[dict]:
    # The map background: every commune outline of the territory, when the geometry is loaded
    # and the territory is small enough to draw commune by commune.
    rows = _rows(
        con,
        "SELECT g.code, g.geojson FROM territory_communes tc "
        "JOIN geometries g ON g.level = 'commune' AND g.code = tc.commune_code "
        "WHERE tc.level = ? AND tc.code = ? ORDER BY g.code LIMIT ?",
        [level, str(code), limit + 1],
    )
    if len(rows) > limit:
        return []
    return [{"code": r[0], "geojson": r[1]} for r in rows]


def _records(frame: pd.DataFrame) -> list[dict]:
    # Missing values as None (not NaN/NA) so that exports can test them plainly.
    return [
        {k: (None if not isinstance(v, list | dict) and pd.isna(v) else v) for k, v in r.items()}
        for r in frame.to_dict("records")
    ]


def synthesis(con: duckdb.DuckDBPyConnection, session_id: str) -> Synthesis:
    """The workshop's content for the synthesis export (key figures are added by ``report``)."""
    session = get_session(con, session_id)
    frame = board(con, session_id)
    grouped: dict[str, list[dict]] = {}
    for category in CATEGORY_ORDER:
        part = frame[frame["category"] == category].sort_values(
            ["votes", "created_at"], ascending=[False, True]
        )
        grouped[category] = _records(part)
    communes = _records(commune_counts(con, session_id))
    return Synthesis(
        session=session,
        stats=stats(con, session_id),
        contributions=grouped,
        communes=communes,
        outlines=_outlines(con, session.territory_level, session.territory_code),
    )
