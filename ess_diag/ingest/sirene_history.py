"""SIRENE history files → yearly ESS employer establishments by commune, family and sector.

INSEE publishes, beside the stocks, the history of every establishment
(``StockEtablissementHistorique``: one row per period of a SIRET — ``dateDebut``, ``dateFin``,
administrative state, activity, employer character) and of every legal unit
(``StockUniteLegaleHistorique``: legal form, ESS flag… per period). This reader turns them into
``sirene_history``: for each year Y from 2008 (or the first year of the file) to the last full
year, the ESS establishments **active and employer on 31 December of Y**, by commune, family and
sector — a few rows per commune and year, never the period rows themselves.

The rules (also in ``docs/methodologie.md``, « Séries SIRENE historiques »):

* a period ``[dateDebut, dateFin]`` (``dateFin`` is the period's last day, empty for the current
  one) counts for Y when it holds 31 December of Y, its state is ``A`` and its
  ``caractereEmployeurEtablissement`` is ``O``;
* the commune is the current stock's (``actors``: addresses are not historised, a move makes a
  new SIRET); an ESS establishment absent from the stock loaded (hence from ``actors``) is set
  aside, counted and listed — never silently dropped;
* the legal form and ESS flag are the unit history's period holding the date when that file is
  imported with it, else the current unit's (``unites_legales``), else the establishment's
  current classification (``actors``); ESS France's list (not historised) applies as today;
* the sector is the period's NAF rev. 2 activity; a period coded in an older nomenclature
  (NAFRev1, NAF1993, NAP — only periods ending before the 2008 recoding in practice) takes the
  current stock's activity;
* effectifs are not historised: the series counts establishments, never jobs;
* only establishments of units that are or were in the ESS (unit history, ``unites_legales``,
  ESS ``actors``) are examined — every row of the files is still checked, and only the rows
  that count are kept (a few million of the 100 million national periods).

A history import replaces the years it covers (key ``year``) and is undone like any import.
"""

from __future__ import annotations

import datetime as dt

from .context import ImportContext
from .errors import Reason
from .registry import FormatSpec, register_format, register_group

__all__ = ["ETABLISSEMENTS_HISTORIQUE", "UNITES_LEGALES_HISTORIQUE", "FIRST_YEAR", "prepare"]

#: The first year of the series: NAF rev. 2 (and the ESS families as counted today) start in 2008.
FIRST_YEAR = 2008

#: SIRETs listed in the warning about ESS establishments absent from the stock.
_LISTED_MAX = 20

ETABLISSEMENTS_HISTORIQUE = register_format(
    FormatSpec(
        kind="sirene_historique_etablissements",
        label="SIRENE historique des établissements (StockEtablissementHistorique)",
        group="sirene_history",
        required=(
            "siret",
            "dateDebut",
            "dateFin",
            "etatAdministratifEtablissement",
            "activitePrincipaleEtablissement",
            "caractereEmployeurEtablissement",
        ),
        optional=("nomenclatureActivitePrincipaleEtablissement",),
        order=60,
    )
)

UNITES_LEGALES_HISTORIQUE = register_format(
    FormatSpec(
        kind="sirene_historique_unites_legales",
        label="SIRENE historique des unités légales (StockUniteLegaleHistorique)",
        group="sirene_history",
        required=("siren", "dateDebut", "dateFin", "categorieJuridiqueUniteLegale"),
        # Matched (not all used) so that the history file is told from the stock of units,
        # whose columns it shares: it must match more columns than that format does.
        optional=(
            "economieSocialeSolidaireUniteLegale",
            "changementCategorieJuridiqueUniteLegale",
            "changementEconomieSocialeSolidaireUniteLegale",
            "changementEtatAdministratifUniteLegale",
            "changementActivitePrincipaleUniteLegale",
            "changementCaractereEmployeurUniteLegale",
        ),
        order=55,
    )
)


def _current(ctx: ImportContext, table: str) -> str:
    """SQL of ``table`` as it will be after this import: the rows another reader of the same
    import declares (e.g. the stock imported with the history), then the stored ones."""
    sources = [s for t, s, _k in ctx.targets if t == table]
    if not sources:
        return f"SELECT * EXCLUDE (import_id) FROM {table}"  # noqa: S608
    key = "siren" if table == "unites_legales" else "actor_id"
    union = " UNION ALL BY NAME ".join(f"SELECT * FROM {s}" for s in sources)  # noqa: S608
    return (
        f"SELECT * FROM ({union}) UNION ALL BY NAME "  # noqa: S608
        f"SELECT * EXCLUDE (import_id) FROM {table} "
        f"WHERE {key} NOT IN (SELECT {key} FROM ({union}))"
    )


_CHECKS = (
    "{what} invalide ({digits} chiffres attendus)",
    "Date de début illisible (AAAA-MM-JJ attendu)",
    "Date de fin illisible (AAAA-MM-JJ attendu)",
    "Date de fin antérieure à la date de début",
)


def _check(id_col: str, digits: int) -> str:
    """The number of the first check a period row fails (1–4, see :data:`_CHECKS`), NULL when
    it passes — from ``id_raw`` and ``id_fast`` (:func:`_ident`), ``raw_d0``/``raw_d1`` as in
    the file and ``d0``/``d1`` parsed. Rare rows only pay for trimming."""
    return f"""
      CASE WHEN NOT (id_fast OR COALESCE(regexp_full_match(ess_text(id_raw),
                                                           '[0-9]{{{digits}}}'), false))
             THEN 1
           WHEN d0 IS NULL AND raw_d0 IS NOT NULL AND trim(raw_d0) <> '' THEN 2
           WHEN d1 IS NULL AND raw_d1 IS NOT NULL AND trim(raw_d1) <> '' THEN 3
           WHEN d1 < d0 THEN 4
      END"""


def _explained(id_col: str, digits: int) -> str:
    """``_reason``, ``_column``, ``_example`` of a row from its ``_check`` (NULL when none)."""
    what = "SIRET" if digits == 14 else "SIREN"
    reasons = ", ".join(
        "'" + r.format(what=what, digits=digits).replace("'", "''") + "'" for r in _CHECKS
    )
    return f"""
      [{reasons}][_check] AS _reason,
      ['{id_col}', 'dateDebut', 'dateFin', 'dateFin'][_check] AS _column,
      CASE _check WHEN 1 THEN '{id_col} = ' || COALESCE('« ' || id_raw || ' »', 'vide')
                  WHEN 2 THEN 'dateDebut = « ' || raw_d0 || ' »'
                  WHEN 3 THEN 'dateFin = « ' || raw_d1 || ' »'
                  WHEN 4 THEN 'dateDebut = « ' || raw_d0 || ' », dateFin = « ' || raw_d1 || ' »'
      END AS _example"""


def _date(column: str) -> str:
    """A date as INSEE writes it (``AAAA-MM-JJ``), NULL when empty or unreadable."""
    return f"TRY_CAST({column} AS DATE)"


def _ident(column: str, digits: int) -> str:
    """``id_raw`` (the column), ``id_fast`` (it is ``digits`` digits: the published files,
    nothing to clean on 100 million rows) and ``ident`` (the identifier, trimmed otherwise)."""
    fast = f"regexp_full_match({column}, '[0-9]{{{digits}}}')"
    return (
        f"{column} AS id_raw, COALESCE({fast}, false) AS id_fast, "
        f"CASE WHEN {fast} THEN {column} ELSE ess_text({column}) END AS ident"
    )


def _years(ctx: ImportContext, eh: str) -> tuple[int, int] | None:
    """First and last year of the series: from 2008 (or the file's first year) to the last full
    year before the file's latest date (its extraction), and never beyond last year."""
    # ISO dates sort as text: no date parsing of every row for three extremes.
    iso = "LIKE '____-__-__'"
    row = ctx.sql(
        f"""SELECT min(dateDebut) FILTER (WHERE dateDebut {iso}),
                   max(dateDebut) FILTER (WHERE dateDebut {iso}),
                   max(dateFin) FILTER (WHERE dateFin {iso})
            FROM {eh}"""  # noqa: S608
    )[0]

    def parse(text: str | None) -> dt.date | None:
        try:
            return dt.date.fromisoformat(text) if text else None
        except ValueError:
            return None

    start, latest = parse(row[0]), max((d for d in map(parse, row[1:]) if d), default=None)
    if latest is None:
        return None
    first = max(FIRST_YEAR, start.year if start is not None else FIRST_YEAR)
    last = (latest + dt.timedelta(days=1)).year - 1
    last = min(last, dt.date.today().year - 1)
    return (first, last) if last >= first else None


def _unit_periods(ctx: ImportContext, uh: str) -> tuple[str, str]:
    """Checked unit-history periods: the bad rows (set aside) and every period of the units
    that were ever in the ESS (an ESS legal form or the ESS mention in one period); and the
    TEMP table of those units' SIRENs."""
    ever = ctx.temp_name("hist_ess_units")
    ctx.con.execute(
        f"""
        CREATE TEMP TABLE {ever} AS
        SELECT DISTINCT ess_text(siren) AS siren FROM {uh}
        WHERE trim(categorieJuridiqueUniteLegale) IN (
                  SELECT code FROM ref_categories_juridiques WHERE family IS NOT NULL)
           OR upper(trim(economieSocialeSolidaireUniteLegale)) = 'O'
        """  # noqa: S608
    )
    table = ctx.temp_name("hist_unit_periods")
    ctx.con.execute(
        f"""
        CREATE TEMP TABLE {table} AS
        SELECT _file, _row, ident AS siren, d0, d1, {_explained("siren", 9)},
          ess_text(categorieJuridiqueUniteLegale) AS categorie_juridique,
          CASE WHEN upper(ess_text(economieSocialeSolidaireUniteLegale)) IN ('O', 'N')
               THEN upper(ess_text(economieSocialeSolidaireUniteLegale)) END AS ess_flag
        FROM (
          SELECT *, {_check("siren", 9)} AS _check
          FROM (
            SELECT _file, _row, {_ident("siren", 9)},
              dateDebut AS raw_d0, dateFin AS raw_d1,
              {_date("dateDebut")} AS d0, {_date("dateFin")} AS d1,
              categorieJuridiqueUniteLegale, economieSocialeSolidaireUniteLegale
            FROM {uh}))
        WHERE _check IS NOT NULL OR ident IN (SELECT siren FROM {ever})
        """  # noqa: S608
    )
    return table, ever


def _candidates(ctx: ImportContext, ever: str | None) -> str:
    """SIRENs whose establishments may count: units ever in the ESS by the unit history, ESS
    units of the base (legal form, mention, ESS France's list) and units of ESS actors.
    Establishments of other units are outside the perimeter the stock import kept."""
    table = ctx.temp_name("hist_candidates")
    from_history = f"UNION SELECT siren FROM {ever}" if ever else ""
    ctx.con.execute(
        f"""
        CREATE TEMP TABLE {table} AS
        SELECT siren FROM ({_current(ctx, "unites_legales")}) u
        WHERE u.ess_flag = 'O' OR u.ess_france_listed OR u.categorie_juridique IN (
                  SELECT code FROM ref_categories_juridiques WHERE family IS NOT NULL)
        UNION SELECT siren FROM ({_current(ctx, "actors")}) WHERE is_ess AND siren IS NOT NULL
        {from_history}
        """  # noqa: S608
    )
    return table


def _establishment_periods(
    ctx: ImportContext, eh: str, first: int, last: int, candidates: str
) -> str:
    """Checked period rows: the bad ones (set aside) and the ones that count for a year of the
    series (an establishment of a candidate unit, active, employer, holding a 31 December
    between ``first`` and ``last``). Every row is checked; only those are kept."""
    table = ctx.temp_name("hist_etab_periods")
    ctx.con.execute(
        f"""
        CREATE TEMP TABLE {table} AS
        SELECT _file, _row, ident AS siret, d0, d1, {_explained("siret", 14)}, y0, y1,
               ess_naf(activitePrincipaleEtablissement) AS naf,
               COALESCE(upper(ess_text(nomenclatureActivitePrincipaleEtablissement)),
                        'NAFREV2') = 'NAFREV2' AS rev2
        FROM (
          SELECT *, {_check("siret", 14)} AS _check,
            -- the years whose 31 December the period holds
            greatest(COALESCE(year(d0), ?), ?) AS y0,
            least(CASE WHEN d1 IS NULL THEN ?
                       WHEN month(d1) = 12 AND day(d1) = 31 THEN year(d1)
                       ELSE year(d1) - 1 END, ?) AS y1
          FROM (
            SELECT _file, _row, {_ident("siret", 14)},
              dateDebut AS raw_d0, dateFin AS raw_d1,
              {_date("dateDebut")} AS d0, {_date("dateFin")} AS d1,
              -- exact values: the published files write A/F and O/N
              COALESCE(etatAdministratifEtablissement IN ('A', 'a')
                       AND caractereEmployeurEtablissement IN ('O', 'o'), false) AS counts,
              activitePrincipaleEtablissement, nomenclatureActivitePrincipaleEtablissement
            FROM {eh}))
        WHERE _check IS NOT NULL
           OR (counts AND y0 <= y1 AND left(ident, 9) IN (SELECT siren FROM {candidates}))
        """,  # noqa: S608
        [first, first, last, last],
    )
    return table


def _classified(ctx: ImportContext, periods: str, units: str | None) -> str:
    """One row per (SIRET, year) counted: the unit's family on 31 December, the sector, the
    commune from the current stock (NULL when the establishment is not in it)."""
    table = ctx.temp_name("hist_classified")
    unit_join = (
        f"""LEFT JOIN (SELECT * FROM {units} WHERE _reason IS NULL) uh
              ON uh.siren = left(y.siret, 9)
             AND COALESCE(uh.d0, DATE '0001-01-01') <= make_date(y.year, 12, 31)
             AND (uh.d1 IS NULL OR uh.d1 >= make_date(y.year, 12, 31))"""
        if units
        else "LEFT JOIN (SELECT NULL::VARCHAR AS siren, NULL::VARCHAR AS categorie_juridique, "
        "NULL::VARCHAR AS ess_flag) uh ON false"
    )
    ctx.con.execute(
        f"""
        CREATE TEMP TABLE {table} AS
        WITH y AS (
          -- one row per SIRET and year (a period repeated in the file counts once)
          SELECT siret, year, arg_max(naf, d0) AS naf, arg_max(rev2, d0) AS rev2,
                 min(_file) AS _file, min(_row) AS _row
          FROM (SELECT *, unnest(range(y0, y1 + 1)) AS year FROM {periods}
                WHERE _reason IS NULL)
          GROUP BY siret, year
        ), a AS (
          SELECT siret, commune_code, naf, categorie_juridique, is_ess, family
          FROM ({_current(ctx, "actors")})
          WHERE siret IN (SELECT DISTINCT siret FROM {periods})
        ), u AS (
          SELECT siren, categorie_juridique, ess_flag, ess_france_listed
          FROM ({_current(ctx, "unites_legales")})
          WHERE siren IN (SELECT DISTINCT left(siret, 9) FROM {periods})
        ), k AS (
          SELECT y.siret, y.year, y._file, y._row, a.commune_code,
            a.siret IS NOT NULL AS in_stock,
            CASE WHEN y.rev2 AND y.naf IS NOT NULL THEN y.naf ELSE a.naf END AS naf,
            uh.siren IS NOT NULL AS from_history,
            CASE WHEN uh.siren IS NOT NULL THEN uh.categorie_juridique
                 WHEN u.siren IS NOT NULL THEN u.categorie_juridique
                 ELSE a.categorie_juridique END AS categorie_juridique,
            CASE WHEN uh.siren IS NOT NULL THEN uh.ess_flag ELSE u.ess_flag END AS ess_flag,
            COALESCE(u.ess_france_listed, false) AS listed,
            uh.siren IS NULL AND u.siren IS NULL AS no_unit,
            a.is_ess AS actor_is_ess, a.family AS actor_family
          FROM y
          {unit_join}
          LEFT JOIN u ON u.siren = left(y.siret, 9)
          LEFT JOIN a ON a.siret = y.siret
        )
        SELECT k.*,
          CASE WHEN k.no_unit THEN CASE WHEN k.actor_is_ess THEN k.actor_family END
               WHEN cj.family IS NOT NULL
                 THEN CASE WHEN x.code IS NULL AND COALESCE(left(k.naf, 2) <> '84', true)
                           THEN cj.family END
               WHEN k.ess_flag = 'O' OR k.listed THEN 'societe_commerciale'
          END AS family,
          CASE WHEN k.naf IS NULL THEN 'non_classe'
               ELSE COALESCE(d.sector, 'non_classe') END AS sector
        FROM k
        LEFT JOIN ref_categories_juridiques cj ON cj.code = k.categorie_juridique
        LEFT JOIN ref_excluded_naf x ON x.code = k.naf
        LEFT JOIN ref_naf_divisions d ON d.division = left(k.naf, 2)
        """  # noqa: S608
    )
    return table


def _absent_from_stock(ctx: ImportContext, periods: str, classified: str) -> None:
    """ESS establishments the current stock does not place: their period rows are set aside
    (counted, with their line numbers), and their SIRETs listed in a warning."""
    aside = ctx.temp_name("hist_absent")
    ctx.con.execute(
        f"""
        CREATE TEMP TABLE {aside} AS
        SELECT p._file, p._row,
          'Établissement de l''ESS absent du stock des établissements chargé : commune '
          || 'inconnue, non compté' AS _reason,
          'siret' AS _column, 'siret = « ' || p.siret || ' »' AS _example
        FROM {periods} p
        SEMI JOIN (SELECT DISTINCT siret FROM {classified}
                   WHERE family IS NOT NULL AND commune_code IS NULL) c ON c.siret = p.siret
        WHERE p._reason IS NULL
        """  # noqa: S608
    )
    ctx.collect_set_aside(aside)
    sirets = ctx.sql(
        f"SELECT DISTINCT siret FROM {classified} "  # noqa: S608
        "WHERE family IS NOT NULL AND commune_code IS NULL ORDER BY 1"
    )
    ctx.count("historique_ess_hors_stock", len(sirets))
    if sirets:
        shown = ", ".join(s for (s,) in sirets[:_LISTED_MAX])
        more = f" et {len(sirets) - _LISTED_MAX} autre(s)" if len(sirets) > _LISTED_MAX else ""
        ctx.warn(
            f"{len(sirets)} établissement(s) employeur(s) de l'ESS de l'historique ne sont pas "
            f"dans le stock des établissements chargé (SIRET {shown}{more}) : leur commune est "
            "inconnue (l'historique ne donne pas d'adresse), ils ne sont pas comptés. Importez "
            "le stock complet, établissements fermés compris (StockEtablissement)."
        )


def _target(ctx: ImportContext, classified: str, first: int, last: int) -> str:
    """The ``sirene_history`` rows: counts by commune, year, family and sector, and one row per
    year covered (commune, family and sector NULL, 0 establishments)."""
    target = ctx.temp_name("t_sirene_history")
    ctx.con.execute(
        f"""
        CREATE TEMP TABLE {target} AS
        SELECT commune_code, year::SMALLINT AS year, family, sector,
               count(*)::BIGINT AS establishments
        FROM {classified}
        WHERE family IS NOT NULL AND commune_code IS NOT NULL
        GROUP BY ALL
        UNION ALL
        SELECT NULL, y::SMALLINT, NULL, NULL, 0::BIGINT FROM range(?, ? + 1) t(y)
        """,  # noqa: S608
        [first, last],
    )
    return target


def _report(ctx: ImportContext, classified: str, target: str, first: int, last: int) -> None:
    row = ctx.sql(
        f"""SELECT count(DISTINCT siret),
                   count(DISTINCT siret) FILTER (WHERE family IS NOT NULL
                                                 AND commune_code IS NOT NULL),
                   count(DISTINCT siret) FILTER (WHERE from_history)
            FROM {classified}"""  # noqa: S608
    )[0]
    ctx.count("historique_annees", [first, last])
    ctx.count("historique_etablissements_employeurs_candidats", int(row[0]))
    ctx.count("historique_etablissements_ess_comptes", int(row[1]))
    ctx.count("historique_classes_par_historique_unites", int(row[2]))
    per_year = ctx.sql(
        f"SELECT year, sum(establishments) FROM {target} GROUP BY year ORDER BY year"  # noqa: S608
    )
    ctx.count("historique_ess_par_annee", {str(y): int(n) for y, n in per_year})


def prepare(ctx: ImportContext) -> None:
    """Group handler of the SIRENE history formats (see the module docstring)."""
    eh = ctx.staged_for("sirene_historique_etablissements")
    uh = ctx.staged("sirene_historique_unites_legales")
    if eh is None:
        if uh is not None:
            ctx.refuse(
                "L'historique des unités légales (StockUniteLegaleHistorique) ne sert qu'à "
                "classer les établissements de l'historique des établissements "
                "(StockEtablissementHistorique) : importez les deux fichiers ensemble.",
                Reason.NOTHING_TO_IMPORT,
            )
        return
    if not ctx.scalar(
        f"SELECT EXISTS (SELECT 1 FROM ({_current(ctx, 'actors')}) WHERE siret IS NOT NULL)"  # noqa: S608
    ):
        ctx.refuse(
            "L'historique des établissements ne donne pas d'adresse : la commune de chaque "
            "établissement vient du stock (StockEtablissement). Importez d'abord le stock des "
            "établissements et des unités légales, ou importez-les avec l'historique.",
            Reason.NOTHING_TO_IMPORT,
        )
        return
    years = _years(ctx, eh)
    if years is None:
        ctx.refuse(
            f"L'historique des établissements ne couvre aucune année complète depuis "
            f"{FIRST_YEAR} (dates de début et de fin vides, illisibles ou trop récentes).",
            Reason.NOTHING_TO_IMPORT,
        )
        return
    first, last = years
    units = ever = None
    if uh is not None:
        units, ever = _unit_periods(ctx, uh)
        ctx.collect_set_aside(units)
    periods = _establishment_periods(ctx, eh, first, last, _candidates(ctx, ever))
    ctx.collect_set_aside(periods)
    classified = _classified(ctx, periods, units)
    _absent_from_stock(ctx, periods, classified)
    target = _target(ctx, classified, first, last)
    _report(ctx, classified, target, first, last)
    ctx.add_target("sirene_history", target, ("year",))


register_group("sirene_history", prepare)
