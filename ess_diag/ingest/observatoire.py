"""ESS statistics tables (observatoires / CRESS, and the shared loader of ``ess_stats``).

Formats read here (French headers with spaces and accents; ``;`` and decimal commas are
sniffed at inspection):

* ``observatoire_long`` — one figure per row: territory, ``Année``, ``Famille``, ``Secteur``,
  ``Indicateur`` (établissements, effectifs, masse salariale, effectifs femmes), ``Valeur``;
* ``observatoire_mesures`` — one row per territory × year (× family / sector), one column per
  measure (``Établissements``, ``Effectifs salariés``, ``Masse salariale``…);
* ``observatoire_annees`` — one row per territory × indicator (× family / sector), one column
  per year (``2019``, ``2020``…).

The territory is given either by a level column (``Niveau``: commune, EPCI, département,
région, France) with a ``Code`` column, or by code columns (``Code commune``, ``Code EPCI``,
``Code département``, ``Code région``: the finest one filled gives the level), or not at all
(France). A two- or three-character code without a level is refused row by row: région 53 and
département 53 are different places.

:func:`prepare_stats` is the loader every ESS-statistics format uses (the URSSAF ESS datasets
of :mod:`.urssaf` register their own row builder): it validates, resolves, sums what must be
summed (NA88 divisions grouped into one ESS sector, merged communes), derives the missing
totals (family × sector rows give the family, sector and overall totals unless the file gives
them) and writes ``ess_stats``, replacing stored rows with the same territory, year, family,
sector and measure (the demo's included; undo puts them back).

Refused, the database unchanged: a year that is not a year (cell or column header), a negative
or non-numeric figure, the same figure twice with different values (both rows cited).
Set aside and reported: unknown territory codes, unknown families / sectors / indicators,
rows outside the ESS ("hors ESS", "ensemble du privé"), figures under statistical secrecy.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd

from .. import nomenclatures
from .checks import YEAR_MAX, YEAR_MIN, line_of, refuse_conflicts, refuse_rows, warn_if_demo
from .context import ImportContext
from .errors import IngestError, Reason
from .registry import FormatSpec, formats, normalize_header, register_format, register_group

__all__ = [
    "OBSERVATOIRE_LONG",
    "OBSERVATOIRE_MESURES",
    "OBSERVATOIRE_ANNEES",
    "MEASURE_SYNONYMS",
    "FAMILY_SYNONYMS",
    "LEVEL_SYNONYMS",
    "YEARS",
    "family_key",
    "sector_key",
    "measure_key",
    "level_key",
    "register_builder",
    "header_case",
    "prepare_stats",
    "measure_aliases",
    "territory_aliases",
]

#: Years accepted in a column header or a cell.
YEARS = range(YEAR_MIN, YEAR_MAX + 1)
_HEADER_YEARS = range(1990, 2041)

#: measure key → French spellings (headers or values of an "Indicateur" column).
MEASURE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "etablissements": (
        "Établissements",
        "Etablissement",
        "Nombre d'établissements",
        "Nombre d'établissements employeurs",
        "Établissements employeurs",
        "Nb établissements",
        "Nb d'établissements",
        "Nombre établissements",
        "etablissements",
    ),
    "effectifs": (
        "Effectifs",
        "Effectif",
        "Effectifs salariés",
        "Effectif salarié",
        "Effectifs salariés moyens",
        "Effectif salarié moyen",
        "Effectifs salariés moyens annuels",
        "Effectif moyen annuel",
        "Salariés",
        "Nombre de salariés",
        "Nb salariés",
        "Emplois",
        "Emploi salarié",
        "Postes",
    ),
    "masse_salariale": (
        "Masse salariale",
        "Masse salariale brute",
        "Masse salariale annuelle",
        "Masse salariale (€)",
        "Masse salariale (euros)",
        "Masse salariale en euros",
        "masse_salariale",
    ),
    "effectifs_femmes": (
        "Effectifs femmes",
        "Effectifs féminins",
        "Effectif femmes",
        "Salariées femmes",
        "Femmes",
        "Dont femmes",
        "Salariées",
        "effectifs_femmes",
    ),
}
_MEASURES = {normalize_header(s): k for k, syn in MEASURE_SYNONYMS.items() for s in (k, *syn)}

#: family key (or ``None`` = all families, ``"hors_ess"`` = not ESS) → French spellings.
FAMILY_SYNONYMS: dict[str | None, tuple[str, ...]] = {
    "association": ("Association", "Associations", "Asso"),
    "cooperative": ("Coopérative", "Coopératives", "Coop", "SCOP", "SCIC"),
    "mutuelle": ("Mutuelle", "Mutuelles", "Mutualité", "Mutuelles et assimilés"),
    "fondation": ("Fondation", "Fondations"),
    "societe_commerciale": (
        "Société commerciale",
        "Sociétés commerciales",
        "Société commerciale de l'ESS",
        "Sociétés commerciales de l'ESS",
        "Sociétés commerciales ESS",
        "Entreprises commerciales de l'ESS",
        "societe_commerciale",
    ),
    None: (
        "",
        "Ensemble",
        "Total",
        "Tout",
        "Toutes",
        "Toutes familles",
        "Ensemble des familles",
        "ESS",
        "Total ESS",
        "Ensemble ESS",
        "Ensemble de l'ESS",
        "Économie sociale et solidaire",
        "Économie sociale",
        "Ensemble économie sociale",
    ),
    "hors_ess": (
        "Hors ESS",
        "Privé hors ESS",
        "Secteur privé hors ESS",
        "Hors économie sociale",
        "Privé hors économie sociale",
        "Public",
        "Secteur public",
        "Ensemble du privé",
        "Secteur privé",
        "Privé",
        "Ensemble privé",
        "Total privé",
    ),
}
_FAMILIES = {normalize_header(s): k for k, syn in FAMILY_SYNONYMS.items() for s in (k or "", *syn)}
_SECTOR_TOTALS = {
    normalize_header(s)
    for s in ("", "Ensemble", "Total", "Tous secteurs", "Ensemble des secteurs", "Tout")
}
_SECTORS = {normalize_header(s.label): s.key for s in nomenclatures.SECTORS}
_SECTORS.update({normalize_header(s.key): s.key for s in nomenclatures.SECTORS})
_SECTORS.update(
    {
        normalize_header("Action sociale sans hébergement"): "action_sociale_sans_hebergement",
        normalize_header("Action sociale avec hébergement"): "action_sociale_avec_hebergement",
        normalize_header("Santé"): "sante",
        normalize_header("Arts, spectacles et activités récréatives"): "arts_spectacles",
        normalize_header("Sport et loisirs"): "sport_loisirs",
        normalize_header("Activités financières et d'assurance"): "finance_assurance",
        normalize_header("Non classé"): "non_classe",
        normalize_header("Non classés"): "non_classe",
        normalize_header("Autres activités"): "autres_services",
    }
)

LEVEL_SYNONYMS: dict[str, tuple[str, ...]] = {
    "commune": ("Commune", "Communes", "COM"),
    "epci": ("EPCI", "Intercommunalité", "Interco", "EPCI à fiscalité propre", "EPCI-FP"),
    "departement": ("Département", "Départements", "DEP", "Dept"),
    "region": ("Région", "Régions", "REG"),
    "france": ("France", "France entière", "National", "Nation", "FR", "France métropolitaine"),
}
_LEVELS = {normalize_header(s): k for k, syn in LEVEL_SYNONYMS.items() for s in (k, *syn)}
_LEVEL_NAMES = {
    "commune": "communes",
    "epci": "intercommunalités",
    "departement": "départements",
    "region": "régions",
    "france": "France",
}


def family_key(text) -> str | None | bool:
    """``'Coopératives'`` → ``'cooperative'``; a total (``'Ensemble'``, empty) → None;
    ``'Hors ESS'`` → ``'hors_ess'``; unknown → False."""
    return _FAMILIES.get(normalize_header(text if isinstance(text, str) else ""), False)


_DIVISION = re.compile(r"^\s*(\d{2})(?:\D|$)")


def sector_key(text) -> str | None | bool:
    """ESS sector key of a label, a key, an NA88 division (``'88'``, ``'88 - Action sociale…'``)
    or a NAF code (``'88.10A'``); a total → None; unknown → False."""
    raw = text if isinstance(text, str) else ""
    norm = normalize_header(raw)
    if norm in _SECTOR_TOTALS:
        return None
    if norm in _SECTORS:
        return _SECTORS[norm]
    naf = nomenclatures.normalize_naf(raw)
    if naf and re.match(r"^\d{2}\.\d{2}[A-Z]$", naf):
        return nomenclatures.sector_for_naf(naf)
    m = _DIVISION.match(raw)
    if m:
        return nomenclatures.sector_for_naf(f"{m.group(1)}.00Z")
    return False


def measure_key(text) -> str | None:
    return _MEASURES.get(normalize_header(text if isinstance(text, str) else ""))


def level_key(text) -> str | None:
    return _LEVELS.get(normalize_header(text if isinstance(text, str) else ""))


def measure_aliases(canonical_prefix: str = "") -> dict[str, str]:
    """Header spellings of the measure columns → canonical measure column name."""
    return {s: f"{canonical_prefix}{k}" for k, syn in MEASURE_SYNONYMS.items() for s in syn}


def territory_aliases() -> dict[str, str]:
    return {
        "Niveau": "niveau",
        "Niveau géographique": "niveau",
        "Type de territoire": "niveau",
        "Échelon": "niveau",
        "Échelon géographique": "niveau",
        "Maille": "niveau",
        "Code territoire": "code_territoire",
        "Code du territoire": "code_territoire",
        "Code géographique": "code_territoire",
        "Code": "code_territoire",
        "Code INSEE": "code_territoire",
        "Territoire": "territoire",
        "Libellé": "territoire",
        "Libellé territoire": "territoire",
        "Nom du territoire": "territoire",
        "Code commune": "code_commune",
        "Code INSEE commune": "code_commune",
        "Code commune INSEE": "code_commune",
        "CODGEO": "code_commune",
        "Code EPCI": "code_epci",
        "SIREN EPCI": "code_epci",
        "Code intercommunalité": "code_epci",
        "Code département": "code_departement",
        "Département (code)": "code_departement",
        "Code région": "code_region",
        "Région (code)": "code_region",
    }


_TERRITORY_COLUMNS = (
    "niveau",
    "code_territoire",
    "territoire",
    "code_commune",
    "code_epci",
    "code_departement",
    "code_region",
)
_BREAKDOWN_ALIASES = {
    "Famille": "famille",
    "Famille juridique": "famille",
    "Famille de l'économie sociale": "famille",
    "Secteur": "secteur",
    "Secteur d'activité": "secteur",
    "Activité": "secteur",
    "Année": "annee",
    "Annee": "annee",
    "An": "annee",
    "Millésime": "annee",
    "Indicateur": "indicateur",
    "Mesure": "indicateur",
    "Variable": "indicateur",
    "Valeur": "valeur",
    "Value": "valeur",
}
_MEASURE_COLUMNS = tuple(MEASURE_SYNONYMS)

OBSERVATOIRE_LONG = register_format(
    FormatSpec(
        kind="observatoire_long",
        label="Tableau d'observatoire ESS (une valeur par ligne)",
        group="stats_ess",
        required=("annee", "indicateur", "valeur"),
        optional=(*_TERRITORY_COLUMNS, "famille", "secteur"),
        aliases={**territory_aliases(), **_BREAKDOWN_ALIASES},
        order=60,
    )
)
OBSERVATOIRE_MESURES = register_format(
    FormatSpec(
        kind="observatoire_mesures",
        label="Tableau d'observatoire ESS (une colonne par mesure)",
        group="stats_ess",
        required=("annee", "effectifs"),
        optional=(
            *_TERRITORY_COLUMNS,
            "famille",
            "secteur",
            "etablissements",
            "masse_salariale",
            "effectifs_femmes",
        ),
        aliases={**territory_aliases(), **_BREAKDOWN_ALIASES, **measure_aliases()},
        order=61,
    )
)
_YEAR_COLUMNS = tuple(f"y{y}" for y in _HEADER_YEARS)
OBSERVATOIRE_ANNEES = register_format(
    FormatSpec(
        kind="observatoire_annees",
        label="Tableau d'observatoire ESS (une colonne par année)",
        group="stats_ess",
        required=("indicateur",),
        optional=(*_TERRITORY_COLUMNS, "famille", "secteur", *_YEAR_COLUMNS),
        aliases={
            **territory_aliases(),
            **_BREAKDOWN_ALIASES,
            **{str(y): f"y{y}" for y in _HEADER_YEARS},
            **{f"Année {y}": f"y{y}" for y in _HEADER_YEARS},
        },
        order=62,
    )
)

# --------------------------------------------------------------------------- row builders

#: A builder turns the staged view of one format into long rows (SQL SELECT); see
#: :func:`prepare_stats` for the columns it must produce.
Builder = Callable[[ImportContext, str, str], str]
_BUILDERS: dict[str, tuple[Builder, str]] = {}


def register_builder(kind: str, builder: Builder, source: str) -> None:
    """Declare how the staged rows of ``kind`` become long statistics rows (``source`` is the
    value of ``ess_stats.source``)."""
    _BUILDERS[kind] = (builder, source)


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def territory_sql() -> str:
    """SELECT items giving ``level_text`` (raw or inferred level) and ``code_text``."""
    return """
        CASE WHEN ess_text(niveau) IS NOT NULL THEN ess_text(niveau)
             WHEN ess_text(code_commune) IS NOT NULL THEN 'commune'
             WHEN ess_text(code_epci) IS NOT NULL THEN 'epci'
             WHEN ess_text(code_departement) IS NOT NULL THEN 'departement'
             WHEN ess_text(code_region) IS NOT NULL THEN 'region'
             WHEN ess_text(code_territoire) IS NULL THEN 'france'
             WHEN regexp_full_match(trim(code_territoire), '[0-9][0-9AB][0-9]{3}') THEN 'commune'
             WHEN regexp_full_match(trim(code_territoire), '[0-9]{9}') THEN 'epci'
             WHEN upper(trim(code_territoire)) IN ('FR', 'FRANCE') THEN 'france'
        END AS level_text,
        CASE WHEN ess_text(niveau) IS NOT NULL
               THEN COALESCE(ess_text(code_territoire), ess_text(code_commune), ess_text(code_epci),
                             ess_text(code_departement), ess_text(code_region))
             ELSE COALESCE(ess_text(code_commune), ess_text(code_epci),
                           ess_text(code_departement), ess_text(code_region),
                           ess_text(code_territoire))
        END AS code_text,
        ess_text(territoire) AS label_text
    """


def _header(ctx: ImportContext, kind: str, canonical: str) -> str:
    files = ctx.files(kind)
    return files[0].mapping.get(canonical, canonical) if files else canonical


def header_case(ctx: ImportContext, kind: str, canonical: str) -> str:
    """SQL giving the file's header of ``canonical`` for each row (files may differ)."""
    files = ctx.staged_files(kind)
    if not files:
        return _q(canonical)
    whens = " ".join(
        f"WHEN {s.index} THEN {_q(s.report.mapping.get(canonical, canonical))}" for s in files
    )
    return f"CASE _file {whens} END"


def _in_files(ctx: ImportContext, kind: str, canonical: str) -> str:
    """SQL condition: the row comes from a file that has column ``canonical`` (files of one
    import may give different years or measures)."""
    idx = [s.index for s in ctx.staged_files(kind) if canonical in s.report.mapping]
    return f"_file IN ({', '.join(str(i) for i in idx)})" if idx else "false"


def _long_builder(ctx: ImportContext, view: str, kind: str) -> str:
    return f"""
        SELECT _file, _row, {territory_sql()},
               ess_text(annee) AS year_text, {header_case(ctx, kind, "annee")} AS year_col,
               ess_text(famille) AS family_text, ess_text(secteur) AS sector_text,
               NULL::VARCHAR AS champ_text,
               ess_text(indicateur) AS measure_text, valeur AS value_text,
               {header_case(ctx, kind, "valeur")} AS value_col
        FROM {view}
    """  # noqa: S608


def measures_builder(ctx: ImportContext, view: str, kind: str, champ: str = "NULL") -> str:
    """One long row per measure column present in the files of ``kind``."""
    present = [m for m in _MEASURE_COLUMNS if any(m in f.mapping for f in ctx.files(kind))]
    famille = "famille" if "famille" in _spec_columns(kind) else "famille_ess"
    secteur = "secteur" if "secteur" in _spec_columns(kind) else "secteur_na88"
    parts = [
        f"""
        SELECT _file, _row, {territory_sql()},
               ess_text(annee) AS year_text, {header_case(ctx, kind, "annee")} AS year_col,
               ess_text({famille}) AS family_text, ess_text({secteur}) AS sector_text,
               {champ} AS champ_text,
               {_q(m)} AS measure_text, {m} AS value_text,
               {header_case(ctx, kind, m)} AS value_col
        FROM {view} WHERE {_in_files(ctx, kind, m)}
        """  # noqa: S608
        for m in present
    ]
    return " UNION ALL ".join(parts)


def _years_builder(ctx: ImportContext, view: str, kind: str) -> str:
    present = sorted({c for f in ctx.files(kind) for c in f.mapping if re.fullmatch(r"y\d{4}", c)})
    if not present:
        name = ctx.files(kind)[0].name
        raise IngestError(
            f"Le fichier « {name} » ressemble à un tableau d'observatoire (colonne Indicateur) "
            "mais n'a ni colonnes d'années (« 2019 », « 2020 »… : une colonne par année) ni "
            "colonne « Valeur » (une valeur par ligne, avec une colonne « Année ») : rien à "
            "importer.",
            code=Reason.NOTHING_TO_IMPORT,
            file=name,
        )
    parts = [
        f"""
        SELECT _file, _row, {territory_sql()},
               {_q(c[1:])} AS year_text, {header_case(ctx, kind, c)} AS year_col,
               ess_text(famille) AS family_text, ess_text(secteur) AS sector_text,
               NULL::VARCHAR AS champ_text,
               ess_text(indicateur) AS measure_text, {c} AS value_text,
               {header_case(ctx, kind, c)} AS value_col
        FROM {view} WHERE {_in_files(ctx, kind, c)}
        """  # noqa: S608
        for c in present
    ]
    return " UNION ALL ".join(parts)


def _spec_columns(kind: str) -> tuple[str, ...]:
    return formats()[kind].columns


register_builder("observatoire_long", _long_builder, "observatoire")
register_builder("observatoire_mesures", measures_builder, "observatoire")
register_builder("observatoire_annees", _years_builder, "observatoire")

# --------------------------------------------------------------------------- header checks

_YEARISH = re.compile(r"^\d[0-9a-z]{1,5}$")


def check_year_headers(ctx: ImportContext, kind: str, prefixes: tuple[str, ...] = ("",)) -> None:
    """Refuse a column that should name a year but does not (``20X1``, ``Effectifs 1850``).

    A header is checked when, after one of ``prefixes`` (normalised), it starts with a digit.
    """
    for f in ctx.files(kind):
        used = set(f.mapping.values())
        for col in f.columns:
            if col in used or not str(col).strip():
                continue
            norm = normalize_header(col)
            for prefix in sorted(prefixes, key=len, reverse=True):
                if not norm.startswith(prefix):
                    continue
                rest = norm[len(prefix) :]
                if _YEARISH.match(rest):
                    raise IngestError(
                        f"Import refusé — fichier « {f.name} », colonne « {col} » : « {rest} » "
                        f"n'est pas une année (une année de {_HEADER_YEARS.start} à "
                        f"{_HEADER_YEARS.stop - 1} est attendue dans le nom de la colonne).",
                        code=Reason.INVALID_VALUE,
                        file=f.name,
                        column=col,
                    )
                break


# --------------------------------------------------------------------------- the loader


def _mapping_frame(values: list[str | None], fn) -> pd.DataFrame:
    keys: list[str | None] = []
    kinds: list[str] = []
    for v in values:
        k = fn(v)
        if k is False or k is None and fn is measure_key:
            keys.append(None)
            kinds.append("inconnu")
        elif k is None:
            keys.append(None)
            kinds.append("total")
        elif k == "hors_ess":
            keys.append(None)
            kinds.append("hors_ess")
        else:
            keys.append(k)
            kinds.append("ok")
    return pd.DataFrame({"raw": values, "key": keys, "status": kinds}, dtype=object)


def _register_mapping(ctx: ImportContext, table: str, column: str, fn) -> str:
    values = [r[0] for r in ctx.sql(f"SELECT DISTINCT {column} FROM {table}")]  # noqa: S608
    frame = _mapping_frame(values, fn)
    name = ctx.temp_name(f"map_{column}")
    ctx.con.register("_ess_map_frame", frame)
    try:
        ctx.con.execute(
            f"CREATE TEMP TABLE {name} AS SELECT raw::VARCHAR AS raw, key::VARCHAR AS key, "  # noqa: S608
            "status::VARCHAR AS status FROM _ess_map_frame"
        )
    finally:
        ctx.con.unregister("_ess_map_frame")
    return name


def _level_fn(value):
    return level_key(value) or False


def prepare_stats(ctx: ImportContext) -> None:
    """Load every staged ESS-statistics file of this import into ``ess_stats``."""
    kinds = [k for k in sorted(ctx.kinds()) if k in _BUILDERS]
    if not kinds:
        return
    con = ctx.con
    selects = []
    for kind in kinds:
        builder, source = _BUILDERS[kind]
        if kind == "observatoire_annees":
            check_year_headers(ctx, kind, ("", "annee"))
        view = ctx.staged(kind)
        assert view is not None  # kind is one of ctx.kinds(): the import has such files
        selects.append(
            f"SELECT *, {_q(source)} AS source FROM ({builder(ctx, view, kind)})"  # noqa: S608
        )
    warn_if_demo(ctx)
    long = ctx.temp_name("stats_long")
    con.execute(f"CREATE TEMP TABLE {long} AS " + " UNION ALL BY NAME ".join(selects))
    _load_long(ctx, long)


def _load_long(ctx: ImportContext, long: str) -> None:
    """Check, place and classify the long rows; declare the ``ess_stats`` rows."""
    # Refusals first: they concern the file as a whole.
    _refuse_bad_values(ctx, long)
    checked = _checked(ctx, long)
    _set_aside_repeated_figures(ctx, checked)
    _report_set_aside(ctx, checked)
    _report_unknown_territories(ctx, checked)
    target = _stats(ctx, checked)
    _report_counts(ctx, target)
    ctx.add_target("ess_stats", target, ("level", "code", "year", "family", "sector", "measure"))


def _refuse_bad_values(ctx: ImportContext, long: str) -> None:
    """A year that is not a year, a figure that is not a number or is negative: refused."""
    refuse_rows(
        ctx,
        long,
        # (a line without any figure — a note under the table — is set aside below instead)
        f"ess_text(value_text) IS NOT NULL AND (year_text IS NULL "
        f"OR NOT regexp_full_match(year_text, '[0-9]{{4}}(\\.0)?') "
        f"OR TRY_CAST(TRY_CAST(year_text AS DOUBLE) AS INTEGER) NOT BETWEEN {YEAR_MIN} AND "
        f"{YEAR_MAX})",
        canonical=None,
        column_sql="year_col",
        value="COALESCE(year_text, 'vide')",
        problem="« {value} » n'est pas une année",
    )
    refuse_rows(
        ctx,
        long,
        "ess_fr_not_number(value_text)",
        canonical=None,
        column_sql="value_col",
        value="value_text",
        problem="« {value} » n'est pas un nombre",
    )
    refuse_rows(
        ctx,
        long,
        "ess_fr_number(value_text) < 0",
        canonical=None,
        column_sql="value_col",
        value="value_text",
        problem="« {value} » est négatif (un effectif, un nombre d'établissements ou une masse "
        "salariale ne peut pas l'être)",
    )


def _checked(ctx: ImportContext, long: str) -> str:
    """TEMP table of the long rows with level, territory, family, sector and measure keys
    (``_reason`` set for the rows set aside)."""
    con = ctx.con
    levels = _register_mapping(ctx, long, "level_text", _level_fn)
    families = _register_mapping(ctx, long, "family_text", family_key)
    sectors = _register_mapping(ctx, long, "sector_text", sector_key)
    measures = _register_mapping(ctx, long, "measure_text", measure_key)
    champs = _register_mapping(ctx, long, "champ_text", family_key)
    checked = ctx.temp_name("stats_checked")
    con.execute(
        f"""
        CREATE TEMP TABLE {checked} AS
        WITH m AS (
            SELECT l.*, TRY_CAST(TRY_CAST(l.year_text AS DOUBLE) AS INTEGER) AS year,
                   lv.key AS level, fa.key AS family, fa.status AS family_status,
                   se.key AS sector, se.status AS sector_status,
                   me.key AS measure, me.status AS measure_status,
                   ch.status AS champ_status,
                   ess_fr_number(l.value_text) AS value,
                   ess_fr_secret(l.value_text) AS secret,
                   -- normalised key of the row as written, for the duplicate check
                   lower(strip_accents(COALESCE(l.family_text, ''))) AS family_norm,
                   lower(strip_accents(COALESCE(l.sector_text, ''))) AS sector_norm
            FROM {long} l
            LEFT JOIN {levels} lv ON lv.raw IS NOT DISTINCT FROM l.level_text
            LEFT JOIN {families} fa ON fa.raw IS NOT DISTINCT FROM l.family_text
            LEFT JOIN {sectors} se ON se.raw IS NOT DISTINCT FROM l.sector_text
            LEFT JOIN {measures} me ON me.raw IS NOT DISTINCT FROM l.measure_text
            LEFT JOIN {champs} ch ON ch.raw IS NOT DISTINCT FROM l.champ_text
        ),
        c AS (
            SELECT m.*,
                CASE WHEN level = 'france' THEN 'FR'
                     WHEN level = 'commune' THEN ess_commune(code_text)
                     WHEN level IN ('departement', 'region') THEN ess_dep(code_text)
                     ELSE trim(code_text) END AS code_raw
            FROM m
        )
        SELECT c.*,
            CASE WHEN c.level = 'commune' THEN a.commune_code
                 WHEN t.code IS NOT NULL THEN t.code END AS code,
            CASE
              WHEN ess_text(c.value_text) IS NULL AND c.year IS NULL
                THEN 'Ligne sans chiffre (note, titre ou ligne vide)'
              WHEN c.level IS NULL AND c.level_text IS NULL
                THEN 'Niveau de territoire absent (un code à 2 ou 3 caractères peut être un '
                     || 'département ou une région : ajoutez une colonne Niveau)'
              WHEN c.level IS NULL THEN 'Niveau de territoire inconnu'
              WHEN c.code_raw IS NULL THEN 'Code de territoire absent'
              WHEN c.level = 'commune' AND a.commune_code IS NULL THEN 'Code commune inconnu'
              WHEN c.level <> 'commune' AND t.code IS NULL THEN 'Code de territoire inconnu'
              WHEN c.champ_status = 'hors_ess' OR c.family_status = 'hors_ess'
                THEN 'Ligne hors ESS (seuls les chiffres de l''ESS sont chargés)'
              WHEN c.champ_status = 'inconnu' THEN 'Champ ESS inconnu'
              WHEN c.family_status = 'inconnu'
                THEN 'Famille ESS inconnue (associations, coopératives, mutuelles, fondations, '
                     || 'sociétés commerciales de l''ESS, ensemble)'
              WHEN c.sector_status = 'inconnu' THEN 'Secteur inconnu'
              WHEN c.measure_status = 'inconnu'
                THEN 'Indicateur inconnu (établissements, effectifs, masse salariale, '
                     || 'effectifs femmes)'
              WHEN c.value IS NULL AND c.secret THEN 'Valeur non publiée (secret statistique)'
              WHEN c.value IS NULL THEN 'Valeur absente'
            END AS _reason,
            CASE
              WHEN c.level IS NULL OR c.code_raw IS NULL OR a.commune_code IS NULL
                   AND c.level = 'commune' OR c.level NOT IN ('commune') AND t.code IS NULL
                THEN 'territoire'
              WHEN c.champ_status <> 'ok' AND c.champ_status <> 'total' THEN 'champ'
              WHEN c.family_status NOT IN ('ok', 'total') THEN 'famille'
              WHEN c.sector_status NOT IN ('ok', 'total') THEN 'secteur'
              WHEN c.measure_status <> 'ok' THEN 'indicateur'
              ELSE c.value_col
            END AS _column,
            concat_ws(' ; ',
                COALESCE(c.level_text, '') || ' ' || COALESCE(c.code_text, ''),
                c.label_text, c.year_text, c.champ_text, c.family_text, c.sector_text,
                c.measure_text || ' = ' || COALESCE(c.value_text, 'vide')) AS _example
        FROM c
        LEFT JOIN commune_aliases a ON c.level = 'commune' AND a.code = c.code_raw
        LEFT JOIN territories t ON c.level <> 'commune' AND t.level = c.level
                               AND t.code = c.code_raw
        """  # noqa: S608
    )
    return checked


def _set_aside_repeated_figures(ctx: ImportContext, checked: str) -> None:
    """The same figure twice: refused when the values differ, the later line set aside when
    they are the same."""
    con = ctx.con
    given = ctx.temp_name("stats_given")
    con.execute(f"CREATE TEMP VIEW {given} AS SELECT * FROM {checked} WHERE value IS NOT NULL")  # noqa: S608
    dup = refuse_conflicts(
        ctx,
        given,
        ("level", "code_raw", "year", "champ_text", "family_norm", "sector_norm", "measure"),
        ("value",),
        describe_key="a.level || ' ' || a.code_raw || ', ' || a.year || ', ' || a.measure"
        " || COALESCE(', ' || a.family_text, '') || COALESCE(', ' || a.sector_text, '')",
    )
    if not dup:
        return
    con.execute(
        f"""
        UPDATE {checked} c SET _reason = 'Ligne en double (mêmes chiffres qu''une ligne '
               || 'précédente)'
        FROM (SELECT _file, _row, measure, year, row_number() OVER (
                PARTITION BY level, code_raw, year, champ_text, family_norm, sector_norm,
                             measure ORDER BY _file, _row) AS k
              FROM {checked} WHERE _reason IS NULL) d
        WHERE d._file = c._file AND d._row = c._row AND d.measure IS NOT DISTINCT FROM
              c.measure AND d.year IS NOT DISTINCT FROM c.year AND d.k > 1
        """  # noqa: S608
    )
    ctx.report.duplicates += dup


def _report_unknown_territories(ctx: ImportContext, checked: str) -> None:
    """Commune codes that resolve to nothing (listed in the report), other unknown territories
    (a warning)."""
    unresolved = ctx.sql(
        f"SELECT DISTINCT code_raw FROM {checked} WHERE level = 'commune' "  # noqa: S608
        "AND code_raw IS NOT NULL AND code IS NULL ORDER BY 1"
    )
    ctx.report.unresolved_communes = sorted(
        set(ctx.report.unresolved_communes) | {c for (c,) in unresolved}
    )
    other = ctx.sql(
        f"SELECT DISTINCT level || ' ' || code_raw FROM {checked} "  # noqa: S608
        "WHERE level <> 'commune' AND code_raw IS NOT NULL AND code IS NULL ORDER BY 1"
    )
    if other:
        ctx.warn(
            "Territoires inconnus du référentiel (lignes mises de côté) : "
            + ", ".join(o for (o,) in other[:20])
            + ("…" if len(other) > 20 else "")
        )


def _stats(ctx: ImportContext, checked: str) -> str:
    """TEMP table of the ``ess_stats`` rows."""
    # Sum what falls together (NA88 divisions of one ESS sector, merged communes), then add
    # the totals the file does not give, derived from its family × sector rows.
    target = ctx.temp_name("t_ess_stats")
    ctx.con.execute(
        f"""
        CREATE TEMP TABLE {target} AS
        WITH given AS (
            SELECT level, code, year::SMALLINT AS year, family, sector, measure,
                   sum(value) AS value, min(source) AS source
            FROM {checked} WHERE _reason IS NULL
            GROUP BY level, code, year, family, sector, measure
        ),
        derived AS (
            SELECT level, code, year, family, sector, measure, sum(value) AS value,
                   min(source) AS source
            FROM given WHERE family IS NOT NULL AND sector IS NOT NULL
            GROUP BY GROUPING SETS ((level, code, year, measure, family),
                                    (level, code, year, measure, sector),
                                    (level, code, year, measure))
        )
        SELECT * FROM given
        UNION ALL
        SELECT d.* FROM derived d
        WHERE NOT EXISTS (
            SELECT 1 FROM given g
            WHERE g.level = d.level AND g.code = d.code AND g.year = d.year
              AND g.measure = d.measure AND g.family IS NOT DISTINCT FROM d.family
              AND g.sector IS NOT DISTINCT FROM d.sector)
        """  # noqa: S608
    )
    return target


def _report_counts(ctx: ImportContext, target: str) -> None:
    """Rows written, territories, years and levels."""
    stats = ctx.sql(
        f"SELECT count(*), count(DISTINCT level || code), min(year), max(year), "  # noqa: S608
        f"list(DISTINCT level ORDER BY level) FROM {target}"
    )[0]
    ctx.count("statistiques_lignes_ecrites", int(stats[0]))
    ctx.count("statistiques_territoires", int(stats[1]))
    if stats[2] is not None:
        ctx.count(
            "statistiques_annees",
            str(stats[2]) if stats[2] == stats[3] else f"{stats[2]} à {stats[3]}",
        )
        ctx.count("statistiques_niveaux", ", ".join(_LEVEL_NAMES[lv] for lv in stats[4]))


def _report_set_aside(ctx: ImportContext, checked: str) -> None:
    """Report what was not loaded, in file lines (the unit of ``rows_read``).

    A line none of whose figures was loaded is set aside (with the reason of its first figure);
    a figure left out of a line otherwise loaded (a secret cell, say) is reported as a warning.
    """
    lines = ctx.temp_name("stats_lines")
    ctx.con.execute(
        f"""
        CREATE TEMP TABLE {lines} AS
        SELECT _file, _row,
               CASE WHEN count(*) FILTER (WHERE _reason IS NULL) = 0
                    THEN min_by(_reason, value_col) END AS _reason,
               min_by(_column, value_col) AS _column,
               min_by(_example, value_col) AS _example,
               count(*) FILTER (WHERE _reason IS NULL) AS loaded
        FROM {checked} GROUP BY _file, _row
        """  # noqa: S608
    )
    ctx.collect_set_aside(lines)
    partial = ctx.sql(
        f"""
        SELECT c._reason, count(*), list(DISTINCT c._file || ':' || c._row)[1:10]
        FROM {checked} c JOIN {lines} l ON l._file = c._file AND l._row = c._row
        WHERE l.loaded > 0 AND c._reason IS NOT NULL
        GROUP BY 1 ORDER BY 1
        """  # noqa: S608
    )
    for reason, n, where in partial:
        shown = []
        for item in where:
            f, r = item.split(":")
            shown.append(f"{ctx.file_name(int(f))} ligne {line_of(ctx, int(f), int(r))}")
        ctx.warn(
            f"{n} valeur(s) non chargée(s) dans des lignes par ailleurs chargées — {reason} "
            f"({', '.join(shown)}{'…' if n > len(shown) else ''})."
        )


register_group("stats_ess", prepare_stats)
