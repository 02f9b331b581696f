"""Derived tables of the database: figures precomputed from the imported data.

The database is the only cache. Whatever an indicator needs precomputed is written here, by
:func:`refresh`, inside the same transaction as the import, undo or rebuild that changed its
inputs — so no derived figure can ever disagree with the data it comes from.

Every table is keyed by territory (``level``, ``code``), every level alike: the commune rows
of the inputs, and their sums over each larger territory's communes (``territory_communes``),
written sorted by territory so that reading one territory touches a few blocks of the file.

* ``derived_years`` — years with ESS statistics and/or private employment;
* ``derived_communes`` — each commune's département, population and rural class;
* ``derived_coverage`` — (département, year) having commune ESS totals;
* ``derived_territory`` — every territory's row of ``territories`` with its communes,
  grid-classified and rural communes, population and rural population;
* ``derived_ess`` — ``origin`` ``communes`` (commune rows summed; written only for a year when
  every commune of the territory is in a covered département) or ``direct`` (a dataset's rows
  at the territory's own level, kept when they give a total); ``communes_present`` /
  ``population_present`` count the communes having an establishment (zones blanches);
* ``derived_employers`` — the five largest ESS employers of each territory, with the count
  and jobs of all; ``derived_creation`` — ESS employer establishments by creation date;
* ``derived_private``, ``derived_estimate``, ``derived_sources`` — the same for private jobs
  (communes: totals only, their sectors are rows of ``private_employment`` already), the
  estimate (``?`` = unknown family or sector) and the sources;
* ``derived_history`` — ESS employer establishments on 31 December of each year of the loaded
  SIRENE history (``sirene_history``) by family (``family`` NULL: all families), for every
  territory; ``derived_history_years`` — the years the history covers.

Family and sector keys are stored as text, never as positions in a Python list: the order of
``nomenclatures.SECTORS`` or ``FAMILIES`` cannot change a figure.

Inputs: ``territories``, ``territory_communes``, ``density_grid`` (rurality), ``ess_stats``,
``private_employment``, ``actors``, ``sirene_history``. :func:`refresh` must run after any change to one of them.
"""

from __future__ import annotations

import duckdb

__all__ = ["refresh", "TABLES", "LAYOUT"]

#: The version of the derived tables' layout, stamped with the data version they were written
#: for: a base whose derived tables were written by an older layout is refreshed on first read.
LAYOUT = "2"

TABLES = (
    "derived_years",
    "derived_communes",
    "derived_coverage",
    "derived_territory",
    "derived_ess",
    "derived_private",
    "derived_estimate",
    "derived_employers",
    "derived_creation",
    "derived_sources",
    "derived_history",
    "derived_history_years",
)

_DDL = """
CREATE OR REPLACE TABLE derived_years (year SMALLINT, has_ess BOOLEAN, has_private BOOLEAN);
CREATE OR REPLACE TABLE derived_communes (
    commune_code VARCHAR, departement_code VARCHAR, population DOUBLE, rural BOOLEAN,
    grid BOOLEAN
);
CREATE OR REPLACE TABLE derived_coverage (departement_code VARCHAR, year SMALLINT);
CREATE OR REPLACE TABLE derived_territory (
    level VARCHAR, code VARCHAR, name VARCHAR, population BIGINT, density DOUBLE,
    epci_code VARCHAR, departement_code VARCHAR, region_code VARCHAR, communes BIGINT,
    grid_communes BIGINT, rural_communes BIGINT, commune_population DOUBLE,
    rural_population DOUBLE
);
CREATE OR REPLACE TABLE derived_ess (
    level VARCHAR, code VARCHAR, year SMALLINT, origin VARCHAR, family VARCHAR, sector VARCHAR,
    establishments DOUBLE, jobs DOUBLE, women DOUBLE, jobs_rural DOUBLE,
    communes_present BIGINT, population_present DOUBLE
);
CREATE OR REPLACE TABLE derived_private (
    level VARCHAR, code VARCHAR, year SMALLINT, sector VARCHAR, jobs DOUBLE, jobs_rural DOUBLE
);
CREATE OR REPLACE TABLE derived_estimate (
    level VARCHAR, code VARCHAR, family VARCHAR, sector VARCHAR, establishments DOUBLE,
    jobs DOUBLE, jobs_rural DOUBLE, communes_present BIGINT, population_present DOUBLE
);
CREATE OR REPLACE TABLE derived_employers (
    level VARCHAR, code VARCHAR, rank BIGINT, employer VARCHAR, name VARCHAR, jobs DOUBLE,
    establishments BIGINT, partial BOOLEAN, employers BIGINT, total_jobs DOUBLE
);
CREATE OR REPLACE TABLE derived_creation (
    level VARCHAR, code VARCHAR, date_creation DATE, establishments BIGINT
);
CREATE OR REPLACE TABLE derived_sources (
    level VARCHAR, code VARCHAR, year SMALLINT, origin VARCHAR, source VARCHAR
);
CREATE OR REPLACE TABLE derived_history (
    level VARCHAR, code VARCHAR, year SMALLINT, family VARCHAR, establishments BIGINT
);
CREATE OR REPLACE TABLE derived_history_years (year SMALLINT);
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
    WITH g AS (
        SELECT m.level, m.code, count(*) AS n, count(*) FILTER (c.grid) AS grid,
               count(*) FILTER (c.rural) AS rural, sum(c.population) AS pop,
               coalesce(sum(c.population) FILTER (c.rural), 0) AS rural_pop
        FROM territory_communes m JOIN derived_communes c USING (commune_code) GROUP BY ALL
    )
    SELECT t.level, t.code, t.name, t.population, t.density, t.epci_code, t.departement_code,
           t.region_code, coalesce(g.n, 0), coalesce(g.grid, 0), coalesce(g.rural, 0),
           coalesce(g.pop, 0), coalesce(g.rural_pop, 0)
    FROM territories t LEFT JOIN g USING (level, code) ORDER BY t.level, t.code""",
    f"CREATE OR REPLACE TEMP TABLE derived_tmp_ess AS {_COMMUNE_ESS}",
    f"CREATE OR REPLACE TEMP TABLE derived_tmp_estimate AS {_COMMUNE_ESTIMATE}",
    """CREATE OR REPLACE TEMP TABLE derived_tmp_private AS
    SELECT commune_code, year, sector, sum(jobs) AS j FROM private_employment GROUP BY ALL""",
    # Commune rows: every commune of a covered département has a total row (0 without data).
    """INSERT INTO derived_ess
    SELECT 'commune', c.commune_code, v.year, 'communes', s.family, s.sector,
           coalesce(s.e, 0), coalesce(s.j, 0), s.w,
           CASE WHEN c.rural THEN coalesce(s.j, 0) ELSE 0 END, (coalesce(s.e, 0) > 0)::BIGINT,
           CASE WHEN s.e > 0 THEN c.population ELSE 0 END
    FROM derived_communes c JOIN derived_coverage v USING (departement_code)
    LEFT JOIN derived_tmp_ess s ON s.commune_code = c.commune_code AND s.year = v.year
    ORDER BY c.commune_code""",
    # (a commune's private jobs by sector are read from private_employment itself)
    """INSERT INTO derived_private
    SELECT 'commune', p.commune_code, p.year, NULL, coalesce(sum(p.j), 0),
           CASE WHEN any_value(c.rural) THEN coalesce(sum(p.j), 0) ELSE 0 END
    FROM derived_tmp_private p JOIN derived_communes c USING (commune_code)
    GROUP BY p.commune_code, p.year ORDER BY p.commune_code""",
    """INSERT INTO derived_estimate
    SELECT 'commune', a.commune_code, a.family, a.sector, a.e, a.j,
           CASE WHEN c.rural THEN a.j ELSE 0 END, 1, c.population
    FROM derived_tmp_estimate a JOIN derived_communes c USING (commune_code)
    ORDER BY a.commune_code""",
    # Territories whose every commune lies in a covered département, by year.
    """CREATE OR REPLACE TEMP TABLE derived_tmp_covered AS
    SELECT m.level, m.code, v.year FROM territory_communes m
    JOIN derived_communes c USING (commune_code)
    JOIN derived_coverage v USING (departement_code)
    JOIN derived_territory t ON t.level = m.level AND t.code = m.code
    WHERE m.level <> 'commune'
    GROUP BY m.level, m.code, v.year HAVING count(*) = any_value(t.communes)""",
    """INSERT INTO derived_ess
    WITH sums AS (
        SELECT m.level, m.code, cs.year, cs.family, cs.sector,
               coalesce(sum(cs.e), 0) AS e, coalesce(sum(cs.j), 0) AS j, sum(cs.w) AS w,
               coalesce(sum(cs.j) FILTER (c.rural), 0) AS jr, count(*) FILTER (cs.e > 0) AS n,
               coalesce(sum(c.population) FILTER (cs.e > 0), 0) AS p
        FROM derived_tmp_ess cs JOIN territory_communes m USING (commune_code)
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
    FROM sums WHERE family IS NOT NULL OR sector IS NOT NULL
    ORDER BY 1, 2, 3""",
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
    SELECT m.level, m.code, p.year, p.sector, coalesce(sum(p.j), 0),
           coalesce(sum(p.j) FILTER (c.rural), 0)
    FROM derived_tmp_private p JOIN territory_communes m USING (commune_code)
    JOIN derived_communes c USING (commune_code)
    WHERE m.level <> 'commune' GROUP BY ALL ORDER BY 1, 2""",
    # Totals over the sectors.
    """INSERT INTO derived_private
    SELECT level, code, year, NULL, sum(jobs), sum(jobs_rural) FROM derived_private
    WHERE level <> 'commune' GROUP BY ALL ORDER BY 1, 2""",
    """INSERT INTO derived_estimate
    SELECT m.level, m.code, a.family, a.sector, sum(a.e), sum(a.j),
           coalesce(sum(a.j) FILTER (c.rural), 0), count(*), sum(c.population)
    FROM derived_tmp_estimate a JOIN territory_communes m USING (commune_code)
    JOIN derived_communes c USING (commune_code)
    WHERE m.level <> 'commune' GROUP BY ALL ORDER BY 1, 2""",
    """INSERT INTO derived_sources
    WITH s AS (
        SELECT DISTINCT level, code, year, source FROM ess_stats
        WHERE measure IN ('etablissements', 'effectifs', 'effectifs_femmes')
          AND (level <> 'commune' OR (family IS NULL AND sector IS NULL))
    )
    SELECT DISTINCT m.level, m.code, s.year, 'communes', s.source
    FROM s JOIN territory_communes m ON m.commune_code = s.code
    WHERE s.level = 'commune'
    UNION ALL
    SELECT level, code, year, 'direct', source FROM s WHERE level <> 'commune'
    UNION ALL
    SELECT DISTINCT m.level, m.code, NULL, 'estimate', a.source
    FROM (SELECT DISTINCT commune_code, source FROM actors WHERE is_ess AND active AND employer) a
    JOIN territory_communes m USING (commune_code)
    ORDER BY 1, 2""",
    # Employers (SIREN, else the establishment): the five largest of each territory, ties by
    # key, with the count and jobs of all; establishments by creation date (median age).
    """CREATE OR REPLACE TEMP TABLE derived_tmp_actors AS
    SELECT a.commune_code, coalesce(a.siren, a.actor_id) AS k, coalesce(a.jobs, 0) AS j,
           a.date_creation AS d, a.name, u.denomination,
           a.partial_diffusion OR coalesce(u.partial_diffusion, false) AS p
    FROM actors a LEFT JOIN unites_legales u ON u.siren = a.siren
    WHERE a.is_ess AND a.active AND a.employer""",
    """INSERT INTO derived_employers
    WITH per AS (
        SELECT m.level, m.code, a.k, sum(a.j) AS j, count(*) AS n, bool_or(a.p) AS p,
               coalesce(any_value(a.denomination), min(a.name)) AS name
        FROM derived_tmp_actors a JOIN territory_communes m USING (commune_code) GROUP BY ALL
    ), ranked AS (
        SELECT *, row_number() OVER (PARTITION BY level, code ORDER BY j DESC, k) AS r,
               count(*) OVER (PARTITION BY level, code) AS employers,
               sum(j) OVER (PARTITION BY level, code) AS total
        FROM per
    )
    SELECT level, code, r, k, name, j, n, p, employers, total FROM ranked WHERE r <= 5
    ORDER BY 1, 2, 3""",
    """INSERT INTO derived_creation
    SELECT m.level, m.code, a.d, count(*)
    FROM derived_tmp_actors a JOIN territory_communes m USING (commune_code)
    WHERE a.d IS NOT NULL GROUP BY ALL ORDER BY 1, 2""",
    # SIRENE history: commune × year × family first (sectors summed), then every territory.
    """INSERT INTO derived_history_years
    SELECT DISTINCT year FROM sirene_history ORDER BY year""",
    """INSERT INTO derived_history
    WITH c AS (
        SELECT commune_code, year, family, sum(establishments) AS e FROM sirene_history
        WHERE commune_code IS NOT NULL AND family IS NOT NULL GROUP BY ALL
    ), f AS (
        SELECT m.level, m.code, c.year, c.family, sum(c.e) AS e
        FROM c JOIN territory_communes m USING (commune_code) GROUP BY ALL
    )
    SELECT level, code, year, family, e FROM f
    UNION ALL
    SELECT level, code, year, NULL, sum(e) FROM f GROUP BY ALL
    ORDER BY 1, 2, 3""",
    "DROP TABLE derived_tmp_actors; DROP TABLE derived_tmp_covered; DROP TABLE derived_tmp_ess; DROP TABLE derived_tmp_private; "
    "DROP TABLE derived_tmp_estimate",
]


def create(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the derived tables, empty: derived data has no history to keep."""
    con.execute(_DDL)


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite the derived tables from the current data (call inside the caller's transaction,
    after ``store.bump_data_version``: the tables are stamped with that data version).

    Callers: every place that changes an input listed in the module docstring — imports of any
    kind (statistics, SIRENE, actors, density grid), undo, ``init``, the demo build.
    """
    create(con)
    # (store.connect creates sirene_history on a base numbered 6 before migration 5 existed)
    has_history = bool(
        con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = 'sirene_history'").fetchall()
    )
    for sql in _FILL:
        if has_history or "sirene_history" not in sql:
            con.execute(sql)
    con.execute(
        "INSERT OR REPLACE INTO meta SELECT 'derived_data_version', "
        "? || ':' || coalesce((SELECT value FROM meta WHERE key = 'data_version'), '0')",
        [LAYOUT],
    )
