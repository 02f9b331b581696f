"""URSSAF open data: private employment by commune × APE, and the ESS datasets.

* ``urssaf_commune_ape`` — *Nombre d'établissements employeurs et effectifs salariés du
  secteur privé, par commune × APE*: one row per commune and APE code, one column per year of
  établissements (``Nombre d'établissements 2019``) and of effectifs (``Effectifs salariés
  2019``). The wide year columns become rows of ``private_employment`` (commune × year × APE,
  ESS sector from :func:`nomenclatures.sector_for_naf`): the denominator of every "share of
  private jobs" and the non-ESS series. A file is exhaustive for each commune and year it
  covers: it replaces every stored private-employment row of those commune-years (demo or an
  earlier import; undo puts them back). Codes of merged communes are summed into their
  commune; unknown codes are set aside and listed.
* ``urssaf_ess`` — établissements, effectifs salariés and masse salariale by *champ* / *famille
  ESS*, secteur NA88, France, département or région, and year → ``ess_stats`` (through the
  loader of :mod:`.observatoire`, ``source = 'urssaf'``).

Refused, the database unchanged: a year column whose year is not a year, a negative or
non-numeric count, the same commune × APE twice with different figures (both rows cited).
"""

from __future__ import annotations

import pandas as pd

from .. import nomenclatures
from .checks import refuse_conflicts, refuse_rows, warn_if_demo
from .context import ImportContext
from .errors import IngestError, Reason
from .observatoire import check_year_headers, header_case, measures_builder, register_builder
from .registry import FormatSpec, normalize_header, register_format, register_group

__all__ = [
    "COMMUNE_APE",
    "URSSAF_ESS",
    "ETAB_PREFIXES",
    "JOBS_PREFIXES",
    "prepare_private_employment",
]

YEARS = range(1990, 2041)

#: Header spellings (before the year) of the établissements and effectifs year columns.
ETAB_PREFIXES: tuple[str, ...] = (
    "Nombre d'établissements",
    "Nombre d'établissements employeurs",
    "Nombre établissements",
    "Établissements",
    "Établissements employeurs",
    "Nb établissements",
    "Nb d'établissements",
    "Nb étab",
    "Étab",
)
JOBS_PREFIXES: tuple[str, ...] = (
    "Effectifs salariés",
    "Effectif salarié",
    "Effectifs",
    "Effectif",
    "Effectifs salariés fin d'année",
    "Salariés",
    "Nb salariés",
)


def _year_aliases() -> dict[str, str]:
    out: dict[str, str] = {}
    for y in YEARS:
        for p in ETAB_PREFIXES:
            out[f"{p} {y}"] = f"etablissements_{y}"
        for p in JOBS_PREFIXES:
            out[f"{p} {y}"] = f"effectifs_{y}"
    return out


COMMUNE_APE = register_format(
    FormatSpec(
        kind="urssaf_commune_ape",
        label="URSSAF — établissements et effectifs salariés privés par commune × APE",
        group="urssaf_emploi_prive",
        required=("code_commune", "ape"),
        optional=(
            "commune",
            *(f"etablissements_{y}" for y in YEARS),
            *(f"effectifs_{y}" for y in YEARS),
        ),
        aliases={
            "Code commune": "code_commune",
            "Code INSEE commune": "code_commune",
            "Code commune INSEE": "code_commune",
            "Commune (code)": "code_commune",
            "CODGEO": "code_commune",
            "Commune": "commune",
            "Libellé commune": "commune",
            "Code APE": "ape",
            "APE": "ape",
            "Code NAF": "ape",
            "NAF": "ape",
            "APE (NAF rév. 2)": "ape",
            "Activité principale (APE)": "ape",
            **_year_aliases(),
        },
        order=70,
    )
)

URSSAF_ESS = register_format(
    FormatSpec(
        kind="urssaf_ess",
        label="URSSAF — ESS : établissements, effectifs et masse salariale par famille et secteur",
        group="stats_ess",
        required=("annee", "effectifs", "masse_salariale"),
        optional=(
            "champ_ess",
            "famille_ess",
            "secteur_na88",
            "code_departement",
            "departement",
            "code_region",
            "region",
            "etablissements",
            # columns the shared territory expression reads (absent from URSSAF files)
            "niveau",
            "code_territoire",
            "territoire",
            "code_commune",
            "code_epci",
        ),
        aliases={
            "Année": "annee",
            "Annee": "annee",
            "Champ ESS": "champ_ess",
            "Champ": "champ_ess",
            "Champ de l'ESS": "champ_ess",
            "Famille ESS": "famille_ess",
            "Famille de l'ESS": "famille_ess",
            "Famille d'ESS": "famille_ess",
            "Secteur NA88": "secteur_na88",
            "NA88": "secteur_na88",
            "Secteur d'activité NA88": "secteur_na88",
            "Secteur d'activité (NA88)": "secteur_na88",
            "Code département": "code_departement",
            "Département": "departement",
            "Code région": "code_region",
            "Région": "region",
            "Nombre d'établissements": "etablissements",
            "Nombre d'établissements employeurs": "etablissements",
            "Établissements employeurs": "etablissements",
            "Établissements": "etablissements",
            "Effectifs salariés": "effectifs",
            "Effectifs salariés moyens": "effectifs",
            "Effectifs salariés moyens annuels": "effectifs",
            "Effectif salarié moyen annuel": "effectifs",
            "Effectifs": "effectifs",
            "Masse salariale": "masse_salariale",
            "Masse salariale annuelle": "masse_salariale",
            "Masse salariale (€)": "masse_salariale",
        },
        order=55,
    )
)


def _ess_builder(ctx: ImportContext, view: str, kind: str) -> str:
    return measures_builder(ctx, view, kind, champ="ess_text(champ_ess)")


register_builder("urssaf_ess", _ess_builder, "urssaf")


# --------------------------------------------------------------------------- commune × APE


def _year_columns(ctx: ImportContext) -> list[int]:
    years = {
        int(c.rsplit("_", 1)[1])
        for f in ctx.files("urssaf_commune_ape")
        for c in f.mapping
        if c.startswith(("etablissements_", "effectifs_"))
    }
    return sorted(years)


def prepare_private_employment(ctx: ImportContext) -> None:
    """Validate, unpivot and place a commune × APE file; declare the ``private_employment``
    replacement of the commune-years it covers.

    Communes and APE codes are checked once per file line (a national file has ~300,000
    lines); only the figures are unpivoted (lines × years), parsed once.
    """
    view = ctx.staged_for("urssaf_commune_ape", geography="rattacher les communes")
    if view is None:
        return
    warn_if_demo(ctx)
    kind = "urssaf_commune_ape"
    check_year_headers(
        ctx, kind, tuple(normalize_header(p) for p in (*ETAB_PREFIXES, *JOBS_PREFIXES))
    )
    years = _year_columns(ctx)
    if not years:
        name = ctx.files(kind)[0].name
        raise IngestError(
            f"Le fichier « {name} » n'a aucune colonne d'année (« Nombre d'établissements "
            "2022 », « Effectifs salariés 2022 »…) : rien à importer.",
            code=Reason.NOTHING_TO_IMPORT,
            file=name,
        )
    long = _figures(ctx, view, kind, years)
    lines = _lines(ctx, view, kind)
    _repeated_lines(ctx, long, lines)
    ctx.collect_set_aside(lines)
    ctx.report.unresolved_communes = sorted(
        set(ctx.report.unresolved_communes)
        | {
            c
            for (c,) in ctx.sql(
                f"SELECT DISTINCT code_raw FROM {lines} "  # noqa: S608
                "WHERE code_raw IS NOT NULL AND commune_code IS NULL"
            )
        }
    )
    target = _private_employment(ctx, long, lines)
    _report_counts(ctx, lines, target)


def _figures(ctx: ImportContext, view: str, kind: str, years: list[int]) -> str:
    """TEMP table of the figures: one row per line and year, parsed once; a figure that is
    not a number, or negative, refuses the import."""
    con = ctx.con
    long = ctx.temp_name("pe_long")
    parts = [
        f"SELECT _file, _row, {y} AS year, etablissements_{y} AS etab_text, "
        f"effectifs_{y} AS jobs_text FROM {view}"  # noqa: S608
        for y in years
    ]
    con.execute(
        f"CREATE TEMP TABLE {long} AS SELECT *, ess_fr_number(etab_text) AS establishments, "  # noqa: S608
        "ess_fr_number(jobs_text) AS jobs, ess_fr_not_number(etab_text) AS etab_bad, "
        "ess_fr_not_number(jobs_text) AS jobs_bad, false AS _dup FROM ("
        + " UNION ALL ".join(parts)
        # a year a file does not give is no figure (several files may cover different years)
        + ") WHERE ess_text(etab_text) IS NOT NULL OR ess_text(jobs_text) IS NOT NULL"
    )
    for measure, text, bad, value in (
        ("etablissements", "etab_text", "etab_bad", "establishments"),
        ("effectifs", "jobs_text", "jobs_bad", "jobs"),
    ):
        column = (
            "CASE year "
            + " ".join(f"WHEN {y} THEN ({header_case(ctx, kind, f'{measure}_{y}')})" for y in years)
            + " END"
        )
        refuse_rows(
            ctx,
            long,
            bad,
            canonical=None,
            column_sql=column,
            value=text,
            problem="« {value} » n'est pas un nombre",
        )
        refuse_rows(
            ctx,
            long,
            f"{value} < 0",
            canonical=None,
            column_sql=column,
            value=text,
            problem="« {value} » est négatif (un effectif ou un nombre d'établissements ne "
            "peut pas l'être)",
        )
    return long


def _lines(ctx: ImportContext, view: str, kind: str) -> str:
    """TEMP table of the lines: commune and APE, checked once per line. APE → NAF → sector
    through the nomenclature itself (a few hundred distinct codes)."""
    con = ctx.con
    codes = [r[0] for r in ctx.sql(f"SELECT DISTINCT ess_text(ape) FROM {view}")]  # noqa: S608
    naf = [_naf_of(c) for c in codes]
    frame = pd.DataFrame(
        {
            "ape_text": ["" if c is None else c for c in codes],
            "naf": naf,
            "sector": [nomenclatures.sector_for_naf(n) for n in naf],
        },
        dtype=object,
    )
    ape_map = ctx.temp_name("ape_map")
    con.register("_ess_ape_frame", frame)
    try:
        con.execute(
            f"CREATE TEMP TABLE {ape_map} AS SELECT ape_text::VARCHAR AS ape_text, "  # noqa: S608
            "naf::VARCHAR AS naf, sector::VARCHAR AS sector FROM _ess_ape_frame"
        )
    finally:
        con.unregister("_ess_ape_frame")
    lines = ctx.temp_name("pe_lines")
    con.execute(
        f"""
        CREATE TEMP TABLE {lines} AS
        WITH w AS (
            SELECT _file, _row, ess_commune(code_commune) AS code_raw,
                   COALESCE(ess_text(ape), '') AS ape_text, ess_text(commune) AS commune_name
            FROM {view}
        )
        SELECT w.*, m.naf, m.sector, a.commune_code,
               CASE WHEN w.code_raw IS NULL THEN 'Code commune absent'
                    WHEN a.commune_code IS NULL THEN 'Code commune inconnu'
               END AS _reason,
               {header_case(ctx, kind, "code_commune")} AS _column,
               CASE WHEN a.commune_code IS NULL
                    THEN 'code commune = ' || COALESCE('« ' || w.code_raw || ' »', 'vide')
                         || COALESCE(' (' || w.commune_name || ')', '') END AS _example
        FROM w
        JOIN {ape_map} m ON m.ape_text = w.ape_text
        LEFT JOIN commune_aliases a ON a.code = w.code_raw
        """  # noqa: S608
    )
    return lines


def _repeated_lines(ctx: ImportContext, long: str, lines: str) -> None:
    """The same commune × APE on two lines: refused when the figures differ, the later line
    set aside when they are the same."""
    con = ctx.con
    repeated = ctx.scalar(
        f"SELECT count(*) FROM (SELECT code_raw, naf FROM {lines} GROUP BY ALL "  # noqa: S608
        "HAVING count(*) > 1)"
    )
    if not repeated:
        return
    subset = ctx.temp_name("pe_dup")
    con.execute(
        f"""
        CREATE TEMP TABLE {subset} AS
        SELECT f.*, l.code_raw, l.naf FROM {long} f
        JOIN {lines} l ON l._file = f._file AND l._row = f._row
        JOIN (SELECT code_raw, naf FROM {lines} GROUP BY ALL HAVING count(*) > 1) d
          ON d.code_raw IS NOT DISTINCT FROM l.code_raw AND d.naf IS NOT DISTINCT FROM l.naf
        """  # noqa: S608
    )
    refuse_conflicts(
        ctx,
        subset,
        ("code_raw", "naf", "year"),
        ("establishments", "jobs"),
        describe_key="'commune ' || a.code_raw || ', APE ' || COALESCE(a.naf, 'vide') "
        "|| ', ' || a.year",
    )
    # Figures given twice with the same values count once (the first line's); a line
    # all of whose figures repeat earlier ones is set aside as a duplicate line.
    con.execute(
        f"""
        UPDATE {long} f SET _dup = true
        FROM (SELECT _file, _row, year, row_number() OVER (PARTITION BY code_raw, naf, year
                ORDER BY _file, _row) AS k FROM {subset}) d
        WHERE d._file = f._file AND d._row = f._row AND d.year = f.year AND d.k > 1
        """  # noqa: S608
    )
    ctx.report.duplicates += int(
        ctx.scalar(f"SELECT count(*) FROM {long} WHERE _dup")  # noqa: S608
    )
    con.execute(
        f"""
        UPDATE {lines} c SET _reason = 'Ligne en double (mêmes chiffres qu''une ligne '
               || 'précédente)', _example = 'code commune = « ' || c.code_raw
               || ' », APE = « ' || c.ape_text || ' »'
        FROM (SELECT _file, _row FROM {long} GROUP BY ALL HAVING bool_and(_dup)) d
        WHERE d._file = c._file AND d._row = c._row AND c._reason IS NULL
        """  # noqa: S608
    )


def _private_employment(ctx: ImportContext, long: str, lines: str) -> str:
    """TEMP table of the ``private_employment`` rows (commune × year × NAF)."""
    con = ctx.con
    target = ctx.temp_name("t_private_employment")
    con.execute(
        f"""
        CREATE TEMP TABLE {target} AS
        SELECT l.commune_code, f.year::SMALLINT AS year, l.naf, l.sector,
               sum(f.establishments) AS establishments, sum(f.jobs) AS jobs,
               'urssaf' AS source
        FROM {long} f
        JOIN {lines} l ON l._file = f._file AND l._row = f._row AND l._reason IS NULL
        WHERE (f.establishments IS NOT NULL OR f.jobs IS NOT NULL) AND NOT f._dup
        GROUP BY l.commune_code, f.year, l.naf, l.sector
        """  # noqa: S608
    )
    return target


def _report_counts(ctx: ImportContext, lines: str, target: str) -> None:
    """What the file brings (rows, communes, years, jobs of the last year)."""
    stats = ctx.sql(
        f"SELECT count(*), count(DISTINCT commune_code), min(year), max(year), "  # noqa: S608
        f"sum(jobs) FILTER (WHERE year = (SELECT max(year) FROM {target})) FROM {target}"
    )[0]
    ctx.count("emploi_prive_lignes_ecrites", int(stats[0]))
    ctx.count("emploi_prive_communes", int(stats[1]))
    if stats[2] is not None:
        ctx.count(
            "emploi_prive_annees",
            str(stats[2]) if stats[2] == stats[3] else f"{stats[2]} à {stats[3]}",
        )
        ctx.count("emploi_prive_effectifs_derniere_annee", float(stats[4] or 0.0))
    unclassified = ctx.scalar(
        f"SELECT count(DISTINCT ape_text) FROM {lines} WHERE sector = 'non_classe'"  # noqa: S608
    )
    if unclassified:
        ctx.warn(f"{unclassified} code(s) APE illisible(s) : rangés dans « Non classé ».")
    ctx.add_target("private_employment", target, ("commune_code", "year"))


def _naf_of(text) -> str | None:
    """``'8810A Aide à domicile'``, ``'88.10A'``, ``'8810a'`` → ``'88.10A'``; else None."""
    if not isinstance(text, str) or not text.strip():
        return None
    head = text.strip().split()[0].rstrip("-–:")
    naf = nomenclatures.normalize_naf(head)
    if naf and len(naf) == 6 and naf[:2].isdigit() and naf[2] == ".":
        return naf
    return None


register_group("urssaf_emploi_prive", prepare_private_employment)
