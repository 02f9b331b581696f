"""Derived tables of the database: figures precomputed from the imported data.

The database is the only cache. Whatever an indicator needs precomputed is written here, by
:func:`refresh`, inside the same transaction as the import, undo or rebuild that changed its
inputs — so no derived figure can ever disagree with the data it comes from.

The indicators read four views, one row per territory (``level``, ``code``) and key, every
level alike: ``ind_ess`` (ESS statistics by year × family × sector, NULL = all), ``ind_private``
(private jobs by year × sector, NULL = all), ``ind_estimate`` (the SIRENE estimate by family ×
sector) and ``ind_sources``. Commune rows are read live from the imported tables (a commune is
a handful of rows); the rows of larger territories — sums over thousands of communes through
``territory_communes`` — are precomputed here:

* ``derived_years`` — years with ESS statistics and/or private employment;
* ``derived_communes`` — each commune's département, population and rural class;
* ``derived_coverage`` — (département, year) having commune ESS totals;
* ``derived_territory`` — communes, grid-classified and rural communes, population and rural
  population of every territory;
* ``derived_ess`` — ``origin`` ``communes`` (commune rows summed; written only for a year when
  every commune of the territory is in a covered département) or ``direct`` (a dataset's rows
  at the territory's own level, kept when they give a total); ``communes_present`` /
  ``population_present`` count the communes having an establishment (zones blanches);
* ``derived_private``, ``derived_estimate``, ``derived_sources`` — the same for private jobs,
  the estimate (``?`` = unknown family or sector) and the sources.

Family and sector keys are stored as text, never as positions in a Python list: the order of
``nomenclatures.SECTORS`` or ``FAMILIES`` cannot change a figure.

Inputs: ``territories``, ``territory_communes``, ``density_grid`` (rurality), ``ess_stats``,
``private_employment``, ``actors``. :func:`refresh` must run after any change to one of them.
"""

from __future__ import annotations

import duckdb

__all__ = ["refresh", "is_fresh", "TABLES"]

TABLES = (
    "derived_years",
    "derived_communes",
    "derived_coverage",
    "derived_territory",
    "derived_ess",
    "derived_private",
    "derived_estimate",
    "derived_sources",
)

_DDL = """
CREATE TABLE IF NOT EXISTS derived_years (year SMALLINT, has_ess BOOLEAN, has_private BOOLEAN);
CREATE TABLE IF NOT EXISTS derived_communes (
    commune_code VARCHAR, departement_code VARCHAR, population DOUBLE, rural BOOLEAN,
    grid BOOLEAN
);
CREATE TABLE IF NOT EXISTS derived_coverage (departement_code VARCHAR, year SMALLINT);
CREATE TABLE IF NOT EXISTS derived_territory (
    level VARCHAR, code VARCHAR, communes BIGINT, grid_communes BIGINT, rural_communes BIGINT,
    population DOUBLE, rural_population DOUBLE
);
CREATE TABLE IF NOT EXISTS derived_ess (
    level VARCHAR, code VARCHAR, year SMALLINT, origin VARCHAR, family VARCHAR, sector VARCHAR,
    establishments DOUBLE, jobs DOUBLE, women DOUBLE, jobs_rural DOUBLE,
    communes_present BIGINT, population_present DOUBLE
);
CREATE TABLE IF NOT EXISTS derived_private (
    level VARCHAR, code VARCHAR, year SMALLINT, sector VARCHAR, jobs DOUBLE, jobs_rural DOUBLE
);
CREATE TABLE IF NOT EXISTS derived_estimate (
    level VARCHAR, code VARCHAR, family VARCHAR, sector VARCHAR, establishments DOUBLE,
    jobs DOUBLE, jobs_rural DOUBLE, communes_present BIGINT, population_present DOUBLE
);
CREATE TABLE IF NOT EXISTS derived_sources (
    level VARCHAR, code VARCHAR, year SMALLINT, origin VARCHAR, source VARCHAR
);
"""

# Commune grain, live: measures side by side (one row per commune × year × family × sector).
_COMMUNE_ESS = """
SELECT code AS commune_code, year, family, sector,
       sum(value) FILTER (measure = 'etablissements') AS e,
       sum(value) FILTER (measure = 'effectifs') AS j,
       sum(value) FILTER (measure = 'effectifs_femmes') AS w
FROM ess_stats
WHERE level = 'commune' AND measure IN ('etablissements', 'effectifs', 'effectifs_femmes')
  AND (family IS NULL OR sector IS NULL)
GROUP BY ALL
"""
_COMMUNE_ESTIMATE = """
SELECT commune_code, CASE WHEN grouping(f) = 0 THEN f END AS family,
       CASE WHEN grouping(s) = 0 THEN s END AS sector, count(*) AS e,
       coalesce(sum(jobs), 0) AS j
FROM (SELECT commune_code, coalesce(family, '?') AS f, coalesce(sector, '?') AS s, jobs
      FROM actors WHERE is_ess AND active AND employer)
GROUP BY GROUPING SETS ((commune_code), (commune_code, f), (commune_code, s))
"""

_VIEWS = f"""
CREATE OR REPLACE VIEW ind_ess AS
SELECT * FROM derived_ess
UNION ALL
SELECT 'commune', c.commune_code, v.year, 'communes', s.family, s.sector,
       coalesce(s.e, 0), coalesce(s.j, 0), s.w,
       CASE WHEN c.rural THEN coalesce(s.j, 0) ELSE 0 END,
       (coalesce(s.e, 0) > 0)::BIGINT, CASE WHEN s.e > 0 THEN c.population ELSE 0 END
FROM derived_communes c JOIN derived_coverage v USING (departement_code)
LEFT JOIN ({_COMMUNE_ESS}) s ON s.commune_code = c.commune_code AND s.year = v.year;
CREATE OR REPLACE VIEW ind_private AS
SELECT * FROM derived_private
UNION ALL
SELECT 'commune', p.commune_code, p.year, p.sector, coalesce(sum(p.jobs), 0),
       CASE WHEN any_value(c.rural) THEN coalesce(sum(p.jobs), 0) ELSE 0 END
FROM private_employment p JOIN derived_communes c USING (commune_code)
GROUP BY GROUPING SETS ((p.commune_code, p.year, p.sector), (p.commune_code, p.year));
CREATE OR REPLACE VIEW ind_estimate AS
SELECT * FROM derived_estimate
UNION ALL
SELECT 'commune', a.commune_code, a.family, a.sector, a.e, a.j,
       CASE WHEN c.rural THEN a.j ELSE 0 END, 1, c.population
FROM ({_COMMUNE_ESTIMATE}) a JOIN derived_communes c USING (commune_code);
CREATE OR REPLACE VIEW ind_sources AS
SELECT * FROM derived_sources
UNION ALL
SELECT DISTINCT 'commune', code, year, 'communes', source FROM ess_stats
WHERE level = 'commune' AND family IS NULL AND sector IS NULL
  AND measure IN ('etablissements', 'effectifs', 'effectifs_femmes')
UNION ALL
SELECT DISTINCT 'commune', commune_code, NULL, 'estimate', source FROM actors
WHERE is_ess AND active AND employer;
"""

_FILL = [
    """INSERT INTO derived_years
    SELECT year, bool_or(k = 'e'), bool_or(k = 'p') FROM (
        SELECT DISTINCT year, 'e' AS k FROM ess_stats
        UNION ALL SELECT DISTINCT year, 'p' AS k FROM private_employment
    ) GROUP BY year""",
    """INSERT INTO derived_communes
    SELECT t.code, t.departement_code, coalesce(t.population, 0), coalesce(r.rural, false),
           coalesce(r.source = 'grille', false)
    FROM territories t LEFT JOIN commune_rurality r ON r.commune_code = t.code
    WHERE t.level = 'commune' ORDER BY t.code""",
    """INSERT INTO derived_coverage
    SELECT DISTINCT c.departement_code, s.year FROM ess_stats s
    JOIN derived_communes c ON c.commune_code = s.code
    WHERE s.level = 'commune' AND s.family IS NULL AND s.sector IS NULL""",
    """INSERT INTO derived_territory
    SELECT m.level, m.code, count(*), count(*) FILTER (c.grid), count(*) FILTER (c.rural),
           sum(c.population), coalesce(sum(c.population) FILTER (c.rural), 0)
    FROM territory_communes m JOIN derived_communes c USING (commune_code)
    GROUP BY ALL ORDER BY m.level, m.code""",
    # Territories whose every commune lies in a covered département, by year.
    """CREATE OR REPLACE TEMP TABLE derived_tmp_covered AS
    SELECT m.level, m.code, v.year FROM territory_communes m
    JOIN derived_communes c USING (commune_code)
    JOIN derived_coverage v USING (departement_code)
    JOIN derived_territory t ON t.level = m.level AND t.code = m.code
    WHERE m.level <> 'commune'
    GROUP BY m.level, m.code, v.year HAVING count(*) = any_value(t.communes)""",
    f"""INSERT INTO derived_ess
    WITH sums AS (
        SELECT m.level, m.code, cs.year, cs.family, cs.sector,
               coalesce(sum(cs.e), 0) AS e, coalesce(sum(cs.j), 0) AS j, sum(cs.w) AS w,
               coalesce(sum(cs.j) FILTER (c.rural), 0) AS jr, count(*) FILTER (cs.e > 0) AS n,
               coalesce(sum(c.population) FILTER (cs.e > 0), 0) AS p
        FROM ({_COMMUNE_ESS}) cs JOIN territory_communes m USING (commune_code)
        JOIN derived_communes c USING (commune_code)
        SEMI JOIN derived_tmp_covered v
            ON v.level = m.level AND v.code = m.code AND v.year = cs.year
        GROUP BY ALL
    )
    SELECT v.level, v.code, v.year, 'communes', NULL, NULL, coalesce(s.e, 0), coalesce(s.j, 0),
           s.w, coalesce(s.jr, 0), coalesce(s.n, 0), coalesce(s.p, 0)
    FROM derived_tmp_covered v LEFT JOIN sums s
        ON s.level = v.level AND s.code = v.code AND s.year = v.year
       AND s.family IS NULL AND s.sector IS NULL
    UNION ALL
    SELECT level, code, year, 'communes', family, sector, e, j, w, jr, n, p
    FROM sums WHERE family IS NOT NULL OR sector IS NOT NULL""",
    # A dataset's rows at a territory's own level count when they give a total.
    """INSERT INTO derived_ess
    WITH d AS (
        SELECT level, code, year, family, sector,
               sum(value) FILTER (measure = 'etablissements') AS e,
               sum(value) FILTER (measure = 'effectifs') AS j,
               sum(value) FILTER (measure = 'effectifs_femmes') AS w
        FROM ess_stats
        WHERE level <> 'commune' AND (family IS NULL OR sector IS NULL)
          AND measure IN ('etablissements', 'effectifs', 'effectifs_femmes')
        GROUP BY ALL
    )
    SELECT level, code, year, 'direct', family, sector, e, j, w, NULL, NULL, NULL FROM d
    SEMI JOIN (
        SELECT level, code, year FROM d
        WHERE family IS NULL AND sector IS NULL AND (e IS NOT NULL OR j IS NOT NULL)
    ) USING (level, code, year)""",
    """INSERT INTO derived_private
    WITH p AS (
        SELECT m.level, m.code, p.year, p.sector, sum(p.jobs) AS j,
               coalesce(sum(p.jobs) FILTER (c.rural), 0) AS jr
        FROM private_employment p JOIN territory_communes m USING (commune_code)
        JOIN derived_communes c USING (commune_code)
        WHERE m.level <> 'commune' GROUP BY ALL
    )
    SELECT level, code, year, sector, coalesce(j, 0), jr FROM p
    UNION ALL
    SELECT level, code, year, NULL, coalesce(sum(j), 0), sum(jr) FROM p GROUP BY ALL""",
    f"""INSERT INTO derived_estimate
    SELECT m.level, m.code, a.family, a.sector, sum(a.e), sum(a.j),
           coalesce(sum(a.j) FILTER (c.rural), 0), count(*), sum(c.population)
    FROM ({_COMMUNE_ESTIMATE}) a JOIN territory_communes m USING (commune_code)
    JOIN derived_communes c USING (commune_code)
    WHERE m.level <> 'commune' GROUP BY ALL""",
    """INSERT INTO derived_sources
    WITH s AS (
        SELECT DISTINCT level, code, year, source FROM ess_stats
        WHERE measure IN ('etablissements', 'effectifs', 'effectifs_femmes')
          AND (level <> 'commune' OR (family IS NULL AND sector IS NULL))
    )
    SELECT DISTINCT m.level, m.code, s.year, 'communes', s.source
    FROM s JOIN territory_communes m ON m.commune_code = s.code
    WHERE s.level = 'commune' AND m.level <> 'commune'
    UNION ALL
    SELECT level, code, year, 'direct', source FROM s WHERE level <> 'commune'
    UNION ALL
    SELECT DISTINCT m.level, m.code, NULL, 'estimate', a.source
    FROM (SELECT DISTINCT commune_code, source FROM actors WHERE is_ess AND active AND employer) a
    JOIN territory_communes m USING (commune_code) WHERE m.level <> 'commune'""",
    "DROP TABLE derived_tmp_covered",
]


def create(con: duckdb.DuckDBPyConnection) -> None:
    """Create the derived tables and the views over them (idempotent)."""
    con.execute(_DDL)
    con.execute(_VIEWS)


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite the derived tables from the current data (call inside the caller's transaction,
    after ``store.bump_data_version``: the tables are stamped with that data version).

    Callers: every place that changes an input listed in the module docstring — imports of any
    kind (statistics, SIRENE, actors, density grid), undo, ``init``, the demo build.
    """
    create(con)
    for table in TABLES:
        con.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)
    for sql in _FILL:
        con.execute(sql)
    con.execute(
        "INSERT OR REPLACE INTO meta SELECT 'derived_data_version', "
        "coalesce((SELECT value FROM meta WHERE key = 'data_version'), '0')"
    )


def is_fresh(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the derived tables were written for the current data version."""
    rows = (
        con.cursor()
        .execute(
            "SELECT coalesce(max(value) FILTER (key = 'data_version'), '0') = "
            "max(value) FILTER (key = 'derived_data_version') FROM meta"
        )
        .fetchall()
    )
    return bool(rows[0][0])
