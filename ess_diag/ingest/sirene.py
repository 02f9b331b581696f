"""SIRENE readers: StockEtablissement (and the geolocated files), StockUniteLegale, ESS France.

Everything is SQL over the staged tables (no Python loop over rows):

* unités légales → ``unites_legales`` (one row per SIREN; the ESS France flag of a unit
  already stored is kept);
* the ESS France list → ``ess_france_listed = true`` on the units (a stub unit when unknown);
* établissements → ``actors`` classified with the ``ref_*`` tables (ESS perimeter, family,
  sector, jobs estimate from the band, employer), placed through ``commune_aliases`` with
  coordinates from the file (WGS84 in the geolocated files, Lambert 93 in the stock) or the
  commune's centre;
* actors already stored whose unit comes with this import are classified again.

Rows set aside (with their line numbers): SIRET/SIREN malformed, SIREN not matching the SIRET,
commune missing or unknown, SIRET/SIREN twice in the import.

**Streamed, ESS-only import** (the national files: 29 M units, 42 M establishments). The files
are filtered while DuckDB reads them (stream filters, :func:`~.registry.register_stream_filter`),
so that an import costs what the ESS weighs (≈ 1.5 M units), not what France weighs:

* units: kept when their legal form is one of the ESS families, or INSEE's ESS mention is
  ``O``, or they are already stored (an ESS France listing, a previous import: a newer month
  updates them, even when they leave the ESS) — and rows with a malformed SIREN, to be reported;
* establishments (when the import has a units file): kept when their unit was kept or is
  stored, or they are stored themselves — and rows with a malformed SIRET.

What is not kept is counted (``rows_skipped``, « hors périmètre de l'ESS ») but never staged.
Nothing else needs those rows: every figure counts ESS actors (``is_ess``), jobs and
establishments of the whole economy come from URSSAF (``private_employment``), and the
actor list's « hors ESS » rows are the few establishments of ESS-form units set outside the
perimeter (public administration NAF). An establishments file imported alone is not filtered: its units are
unknown, every row is kept.

When: ``ESS_DIAG_SIRENE_SCOPE`` = ``auto`` (default) filters the SIRENE files of an import
when one of them holds more than
``ESS_DIAG_SIRENE_STREAM_MB`` (100 Mo of data — a zip member's size, a gzip file's times 5:
a large département's stock, and every national file) and keeps every row of smaller extracts (the actor list then shows their « hors ESS »
establishments too); ``ess`` always filters, ``all`` never does.
"""

from __future__ import annotations

import os
import zipfile

from .. import store
from .context import ImportContext
from .registry import FormatSpec, register_format, register_group, register_stream_filter
from .report import FileReport

__all__ = ["ETABLISSEMENTS", "UNITES_LEGALES", "ESS_FRANCE", "prepare"]

ETABLISSEMENTS = register_format(
    FormatSpec(
        kind="sirene_etablissements",
        label="SIRENE établissements (StockEtablissement)",
        group="sirene",
        required=(
            "siret",
            "codeCommuneEtablissement",
            "activitePrincipaleEtablissement",
            "etatAdministratifEtablissement",
        ),
        optional=(
            "siren",
            "statutDiffusionEtablissement",
            "trancheEffectifsEtablissement",
            "dateCreationEtablissement",
            "enseigne1Etablissement",
            "denominationUsuelleEtablissement",
            "complementAdresseEtablissement",
            "numeroVoieEtablissement",
            "indiceRepetitionEtablissement",
            "typeVoieEtablissement",
            "libelleVoieEtablissement",
            "codePostalEtablissement",
            "libelleCommuneEtablissement",
            "nomenclatureActivitePrincipaleEtablissement",
            "coordonneeLambertAbscisseEtablissement",
            "coordonneeLambertOrdonneeEtablissement",
            "latitude",
            "longitude",
        ),
        order=30,
    )
)

UNITES_LEGALES = register_format(
    FormatSpec(
        kind="sirene_unites_legales",
        label="SIRENE unités légales (StockUniteLegale)",
        group="sirene",
        required=("siren", "categorieJuridiqueUniteLegale"),
        optional=(
            "denominationUniteLegale",
            "sigleUniteLegale",
            "nomUniteLegale",
            "nomUsageUniteLegale",
            "prenom1UniteLegale",
            "prenomUsuelUniteLegale",
            "economieSocialeSolidaireUniteLegale",
            "activitePrincipaleUniteLegale",
            "nomenclatureActivitePrincipaleUniteLegale",
            "statutDiffusionUniteLegale",
            "dateCreationUniteLegale",
        ),
        order=10,
    )
)

ESS_FRANCE = register_format(
    FormatSpec(
        kind="ess_france",
        label="Liste des entreprises de l'ESS (ESS France)",
        group="sirene",
        required=("siren",),
        # Not used, but matched so that a list with names and places is recognised as this
        # format rather than as a hand-made actor list (which has no SIREN column).
        optional=("raison_sociale", "famille_ess", "code_postal", "commune"),
        aliases={
            "Numéro SIREN": "siren",
            "SIREN de l'entreprise": "siren",
            "Raison sociale": "raison_sociale",
            "Dénomination": "raison_sociale",
            "Nom": "raison_sociale",
            "Famille": "famille_ess",
            "Famille ESS": "famille_ess",
            "Code postal": "code_postal",
            "Libellé commune": "commune",
        },
        order=20,
        # Staged before the units: the units it lists are kept by the units' stream filter.
        stage_order=5,
    )
)


def _filtering(ctx: ImportContext) -> bool:
    """Whether this import's SIRENE files are filtered to the ESS perimeter (module
    docstring): in ``auto``, when one of them is large (the units decide which establishments
    are kept, so both files follow the largest)."""
    scope = os.environ.get("ESS_DIAG_SIRENE_SCOPE", "auto").strip().lower()
    if scope in ("ess", "all"):
        return scope == "ess"
    above = float(os.environ.get("ESS_DIAG_SIRENE_STREAM_MB", "100")) * 1024 * 1024
    return any(
        _data_size(f) > above
        for f in ctx.report.files
        if f.format in ("sirene_unites_legales", "sirene_etablissements")
    )


def _data_size(f: FileReport) -> int:
    """The bytes of data a file holds: a zip member's declared size, a gzip file's at an
    assumed ratio of 5 (CSV compresses 5 to 15 times), else the size on disk."""
    if f.archive == "zip" and f.member:
        try:
            with zipfile.ZipFile(f.path) as archive:
                return archive.getinfo(f.member).file_size
        except (OSError, KeyError, zipfile.BadZipFile):
            return f.size
    return f.size * 5 if f.compression == "gzip" else f.size


_SIREN_OK = "COALESCE(regexp_full_match(ess_text(siren), '[0-9]{9}'), false)"
_SIRET_OK = "COALESCE(regexp_full_match(ess_text(siret), '[0-9]{14}'), false)"


def _units_filter(ctx: ImportContext, f: FileReport) -> str | None:
    """The units kept while the file is read (module docstring)."""
    if not _filtering(ctx):
        return None
    qi = store.quote_identifier
    listed = [
        f"SELECT CASE WHEN regexp_full_match(ess_text(siren), '[0-9]{{1,9}}') "  # noqa: S608
        f"THEN lpad(ess_text(siren), 9, '0') END FROM {qi(s.table)}"
        for s in ctx.staged_files("ess_france")
    ]
    essf = "".join(f" OR ess_text(siren) IN ({q})" for q in listed)
    return (
        f"NOT {_SIREN_OK}"
        " OR ess_text(categorieJuridiqueUniteLegale) IN (SELECT code FROM ref_categories_juridiques)"
        " OR upper(ess_text(economieSocialeSolidaireUniteLegale)) = 'O'"
        " OR ess_text(siren) IN (SELECT siren FROM unites_legales)" + essf
    )


def _etablissements_filter(ctx: ImportContext, f: FileReport) -> str | None:
    """The establishments kept while the file is read: only with a units file in the import,
    itself filtered (module docstring)."""
    units = [s for s in ctx.staged_files("sirene_unites_legales") if s.filtered]
    if not _filtering(ctx) or not units:
        return None
    qi = store.quote_identifier
    kept = " UNION ALL ".join(
        f"SELECT ess_text(siren) FROM {qi(s.table)}"  # noqa: S608
        for s in units
    )
    return (
        f"NOT {_SIRET_OK}"
        f" OR left(ess_text(siret), 9) IN ({kept})"
        " OR left(ess_text(siret), 9) IN (SELECT siren FROM unites_legales)"
        " OR ess_text(siret) IN (SELECT actor_id FROM actors WHERE source = 'sirene')"
    )


register_stream_filter("sirene_unites_legales", _units_filter)
register_stream_filter("sirene_etablissements", _etablissements_filter)


def _unites_legales(ctx: ImportContext) -> str | None:
    """TEMP table of the unités légales this import writes (full rows), or None."""
    ul = ctx.staged("sirene_unites_legales")
    essf = ctx.staged("ess_france")
    if ul is None and essf is None:
        return None
    parts = []
    if ul is not None:
        checked = ctx.temp_name("ul_checked")
        # One pass: validate and derive the stored columns (no copy of the raw columns).
        ctx.con.execute(
            f"""
            CREATE TEMP TABLE {checked} AS
            SELECT _file, _row, s_siren AS siren,
              CASE WHEN NOT regexp_full_match(COALESCE(s_siren, ''), '[0-9]{{9}}')
                     THEN 'SIREN invalide (9 chiffres attendus)'
              END AS _reason,
              'siren' AS _column,
              CASE WHEN NOT regexp_full_match(COALESCE(s_siren, ''), '[0-9]{{9}}')
                   THEN 'siren = ' || COALESCE('« ' || s_siren || ' »', 'vide') END AS _example,
              CASE WHEN upper(ess_text(statutDiffusionUniteLegale)) IN ('P', 'N') THEN NULL
                   ELSE COALESCE(ess_text(denominationUniteLegale),
                                 NULLIF(trim(concat_ws(' ',
                                     COALESCE(ess_text(prenomUsuelUniteLegale),
                                              ess_text(prenom1UniteLegale)),
                                     COALESCE(ess_text(nomUsageUniteLegale),
                                              ess_text(nomUniteLegale)))), ''))
              END AS denomination,
              ess_text(categorieJuridiqueUniteLegale) AS categorie_juridique,
              CASE WHEN upper(ess_text(economieSocialeSolidaireUniteLegale)) IN ('O', 'N')
                   THEN upper(ess_text(economieSocialeSolidaireUniteLegale)) END AS ess_flag,
              ess_naf(activitePrincipaleUniteLegale) AS naf,
              COALESCE(upper(ess_text(statutDiffusionUniteLegale)) IN ('P', 'N'), false)
                  AS partial_diffusion,
              TRY_CAST(ess_text(dateCreationUniteLegale) AS DATE) AS date_creation
            FROM (SELECT *, ess_text(siren) AS s_siren FROM {ul})
            """  # noqa: S608
        )
        # Duplicated SIRENs (rare): only then pay for a window over the whole file.
        dup = ctx.scalar(
            f"SELECT count(*) - count(DISTINCT siren) FROM {checked} WHERE _reason IS NULL"  # noqa: S608
        )
        if dup:
            ctx.con.execute(
                f"""
                UPDATE {checked} c
                SET _reason = 'SIREN en double dans l''import (première ligne gardée)',
                    _example = 'siren = « ' || c.siren || ' »'
                FROM (SELECT _file, _row,
                             row_number() OVER (PARTITION BY siren ORDER BY _file, _row) AS k
                      FROM {checked} WHERE _reason IS NULL) d
                WHERE d._file = c._file AND d._row = c._row AND d.k > 1
                """  # noqa: S608
            )
            ctx.report.duplicates += int(dup)
        ctx.collect_set_aside(checked)
        parts.append(checked)
    essf_table = None
    if essf is not None:
        essf_table = ctx.temp_name("essf_checked")
        ctx.con.execute(
            f"""
            CREATE TEMP TABLE {essf_table} AS
            SELECT *,
              CASE WHEN NOT regexp_full_match(COALESCE(s_siren, ''), '[0-9]{{9}}')
                     THEN 'SIREN invalide (9 chiffres attendus)'
                   WHEN row_number() OVER (PARTITION BY s_siren ORDER BY _file, _row) > 1
                     THEN 'SIREN en double dans la liste (première ligne gardée)'
              END AS _reason,
              'SIREN' AS _column,
              'SIREN = ' || COALESCE('« ' || ess_text(siren) || ' »', 'vide') AS _example
            FROM (
              SELECT *, CASE WHEN regexp_full_match(ess_text(siren), '[0-9]{{1,9}}')
                             THEN lpad(ess_text(siren), 9, '0') ELSE ess_text(siren) END AS s_siren
              FROM {essf})
            """  # noqa: S608
        )
        ctx.collect_set_aside(essf_table)
    target = ctx.temp_name("t_unites_legales")
    unit_columns = (
        "siren, denomination, categorie_juridique, ess_flag, naf, partial_diffusion, date_creation"
    )
    new_rows = (
        f"SELECT {unit_columns} FROM {parts[0]} WHERE _reason IS NULL"  # noqa: S608
        if parts
        else """SELECT NULL::VARCHAR AS siren, NULL::VARCHAR AS denomination,
                NULL::VARCHAR AS categorie_juridique, NULL::VARCHAR AS ess_flag,
                NULL::VARCHAR AS naf, false AS partial_diffusion, NULL::DATE AS date_creation
                WHERE false"""
    )
    # A first import (no ESS France list, none of these units stored yet) has nothing to merge.
    nothing_to_merge = (
        bool(parts)
        and essf_table is None
        and not ctx.scalar(
            f"SELECT EXISTS (SELECT 1 FROM unites_legales "  # noqa: S608
            f"WHERE siren IN (SELECT siren FROM ({new_rows})))"
        )
    )
    if nothing_to_merge:
        ctx.con.execute(
            f"CREATE TEMP VIEW {target} AS SELECT siren, denomination, categorie_juridique, "  # noqa: S608
            f"ess_flag, false AS ess_france_listed, naf, partial_diffusion, date_creation "
            f"FROM ({new_rows})"
        )
    else:
        listed = (
            f"SELECT DISTINCT s_siren AS siren FROM {essf_table} WHERE _reason IS NULL"  # noqa: S608
            if essf_table
            else "SELECT NULL::VARCHAR AS siren WHERE false"
        )
        # A unit keeps the ESS France flag it already has; listed units unknown so far get a
        # stub.
        ctx.con.execute(
            f"""
            CREATE TEMP TABLE {target} AS
            WITH n AS ({new_rows}), l AS ({listed}),
            old AS (SELECT * FROM unites_legales
                    WHERE siren IN (SELECT siren FROM n UNION ALL SELECT siren FROM l))
            SELECT COALESCE(n.siren, old.siren, l.siren) AS siren,
                   CASE WHEN n.siren IS NOT NULL THEN n.denomination ELSE old.denomination END AS denomination,
                   CASE WHEN n.siren IS NOT NULL THEN n.categorie_juridique ELSE old.categorie_juridique END AS categorie_juridique,
                   CASE WHEN n.siren IS NOT NULL THEN n.ess_flag ELSE old.ess_flag END AS ess_flag,
                   (l.siren IS NOT NULL OR COALESCE(old.ess_france_listed, false)) AS ess_france_listed,
                   CASE WHEN n.siren IS NOT NULL THEN n.naf ELSE old.naf END AS naf,
                   CASE WHEN n.siren IS NOT NULL THEN n.partial_diffusion
                        ELSE COALESCE(old.partial_diffusion, false) END AS partial_diffusion,
                   CASE WHEN n.siren IS NOT NULL THEN n.date_creation ELSE old.date_creation END AS date_creation
            FROM n FULL OUTER JOIN l ON l.siren = n.siren
            LEFT JOIN old ON old.siren = COALESCE(n.siren, l.siren)
            """  # noqa: S608
        )
    ctx.add_target("unites_legales", target, ("siren",))
    stats = ctx.sql(
        f"""SELECT count(*), count(*) FILTER (WHERE ess_flag = 'O'),
                   count(*) FILTER (WHERE ess_france_listed),
                   count(*) FILTER (WHERE partial_diffusion)
            FROM {target}"""  # noqa: S608
    )[0]
    ctx.count("unites_legales", int(stats[0]))
    ctx.count("unites_legales_ess_flag_o", int(stats[1]))
    ctx.count("unites_legales_ess_france", int(stats[2]))
    ctx.count("unites_legales_diffusion_partielle", int(stats[3]))
    families = ctx.sql(
        f"""SELECT family, count(*) FROM (
              SELECT COALESCE(cj.family,
                     CASE WHEN u.ess_flag = 'O' OR u.ess_france_listed THEN 'societe_commerciale' END)
                     AS family
              FROM {target} u LEFT JOIN ref_categories_juridiques cj ON cj.code = u.categorie_juridique)
            GROUP BY 1 ORDER BY 1 NULLS LAST"""  # noqa: S608
    )
    ctx.count("unites_legales_par_famille", {(f or "hors_ess"): int(n) for f, n in families})
    return target


def _classified_unit_join(ul_target: str | None) -> str:
    """Units seen by an establishment: those of this import first, then the stored ones."""
    if ul_target is None:
        return "SELECT * FROM unites_legales"
    return (
        f"SELECT * FROM {ul_target} UNION ALL BY NAME "  # noqa: S608
        f"SELECT * EXCLUDE (import_id) FROM unites_legales "
        f"WHERE siren NOT IN (SELECT siren FROM {ul_target})"
    )


_ACTOR_COLUMNS_FROM_UNIT = """
    u.categorie_juridique AS categorie_juridique,
    CASE WHEN cj.family IS NOT NULL
         THEN NOT (COALESCE(x.code IS NOT NULL, false) OR COALESCE(left({naf}, 2) = '84', false))
         ELSE COALESCE(u.ess_flag = 'O' OR u.ess_france_listed, false) END AS is_ess,
    COALESCE(cj.family, CASE WHEN u.ess_flag = 'O' OR u.ess_france_listed
                             THEN 'societe_commerciale' END) AS family
"""


def _etablissements(ctx: ImportContext, ul_target: str | None) -> str | None:
    """Clean, validate, place and classify the staged establishments; declare the ``actors``
    rows (returns their TEMP view, or None when the import has no establishment file)."""
    et = ctx.staged_for(
        "sirene_etablissements", geography="placer les établissements dans leur commune"
    )
    if et is None:
        return None
    checked = _checked_etablissements(ctx, et, ul_target)
    _set_aside_duplicate_sirets(ctx, checked)
    ctx.collect_set_aside(checked)
    unresolved = ctx.sql(
        f"SELECT DISTINCT commune_code_raw FROM {checked} "  # noqa: S608
        "WHERE commune_code_raw IS NOT NULL AND commune_code IS NULL ORDER BY 1"
    )
    ctx.report.unresolved_communes = sorted(
        set(ctx.report.unresolved_communes) | {c for (c,) in unresolved}
    )
    target = ctx.temp_name("t_actors")
    ctx.con.execute(
        f"CREATE TEMP VIEW {target} AS SELECT * EXCLUDE (_file, _row, _reason, _column, "  # noqa: S608
        f"_example, _no_unit, _bad_band) FROM {checked} WHERE _reason IS NULL"
    )
    _report_etablissements(ctx, checked, target)
    ctx.add_target("actors", target, ("actor_id",))
    return target


def _checked_etablissements(ctx: ImportContext, et: str, ul_target: str | None) -> str:
    """One pass: clean, validate, place, classify. Rows with a ``_reason`` are set aside."""
    dec = ctx.decimal_comma("sirene_etablissements")
    con = ctx.con
    checked = ctx.temp_name("etab_checked")
    units = _classified_unit_join(ul_target)
    con.execute(
        f"""
        CREATE TEMP TABLE {checked} AS
        WITH e AS (
          SELECT _file, _row,
            ess_text(siret) AS siret,
            COALESCE(regexp_full_match(ess_text(siret), '[0-9]{{14}}'), false) AS siret_ok,
            ess_text(siren) AS siren_col,
            ess_commune(codeCommuneEtablissement) AS code_raw,
            ess_naf(activitePrincipaleEtablissement) AS naf,
            ess_text(nomenclatureActivitePrincipaleEtablissement) AS naf_nomenclature,
            COALESCE(upper(ess_text(etatAdministratifEtablissement)), 'A') <> 'F' AS active,
            COALESCE(upper(ess_text(statutDiffusionEtablissement)) IN ('P', 'N'), false)
                AS etab_partial,
            ess_band(trancheEffectifsEtablissement) AS band,
            TRY_CAST(ess_text(dateCreationEtablissement) AS DATE) AS date_creation,
            COALESCE(NULLIF(enseigne1Etablissement, ''),
                     NULLIF(denominationUsuelleEtablissement, '')) AS etab_name,
            NULLIF(concat_ws(', ',
                NULLIF(concat_ws(' ', NULLIF(numeroVoieEtablissement, ''),
                                 NULLIF(indiceRepetitionEtablissement, ''),
                                 NULLIF(typeVoieEtablissement, ''),
                                 NULLIF(libelleVoieEtablissement, '')), ''),
                NULLIF(complementAdresseEtablissement, ''),
                NULLIF(concat_ws(' ', NULLIF(codePostalEtablissement, ''),
                                 NULLIF(libelleCommuneEtablissement, '')), '')), '') AS address,
            ess_number(coordonneeLambertAbscisseEtablissement, {dec}) AS l93_x,
            ess_number(coordonneeLambertOrdonneeEtablissement, {dec}) AS l93_y,
            ess_number(longitude, {dec}) AS wgs_lon,
            ess_number(latitude, {dec}) AS wgs_lat
          FROM {et}
        ),
        p AS (
          SELECT e.*, ca.commune_code,
            CASE WHEN wgs_lat BETWEEN -90 AND 90 AND wgs_lon BETWEEN -180 AND 180
                      AND NOT (wgs_lat = 0 AND wgs_lon = 0) THEN 'wgs84'
                 -- The stock gives overseas coordinates in local UTM projections, not
                 -- Lambert 93: those establishments are placed at their commune's centre.
                 WHEN NOT starts_with(COALESCE(code_raw, ''), '97')
                      AND l93_x BETWEEN 50000 AND 1250000 AND l93_y BETWEEN 6000000 AND 7200000
                   THEN 'lambert93'
                 WHEN t.lon IS NOT NULL THEN 'centre_commune'
            END AS coord_source,
            t.lon AS centre_lon, t.lat AS centre_lat
          FROM e
          LEFT JOIN commune_aliases ca ON ca.code = e.code_raw
          LEFT JOIN territories t ON t.level = 'commune' AND t.code = ca.commune_code
        ),
        c AS (
        SELECT p.*,
          CASE WHEN NOT siret_ok
                 THEN 'SIRET invalide (14 chiffres attendus)'
               WHEN siren_col IS NOT NULL AND siren_col <> left(siret, 9)
                 THEN 'SIREN différent des 9 premiers chiffres du SIRET'
               WHEN code_raw IS NULL
                 THEN 'Code commune absent (établissement à l''étranger ?)'
               WHEN commune_code IS NULL THEN 'Code commune inconnu'
          END AS _reason,
          CASE WHEN NOT siret_ok THEN 'siret'
               WHEN siren_col IS NOT NULL AND siren_col <> left(siret, 9) THEN 'siren'
               WHEN code_raw IS NULL OR commune_code IS NULL THEN 'codeCommuneEtablissement'
          END AS _column,
          CASE WHEN NOT siret_ok
                 THEN 'siret = ' || COALESCE('« ' || siret || ' »', 'vide')
               WHEN siren_col IS NOT NULL AND siren_col <> left(siret, 9)
                 THEN 'siren = « ' || siren_col || ' », siret = « ' || siret || ' »'
               WHEN code_raw IS NULL OR commune_code IS NULL
                 THEN 'codeCommuneEtablissement = ' || COALESCE('« ' || code_raw || ' »', 'vide')
          END AS _example
        FROM p)
        SELECT c._file, c._row, c._reason, c._column, c._example,
          c.siret AS actor_id, c.siret, left(c.siret, 9) AS siren,
          CASE WHEN c.etab_partial OR COALESCE(u.partial_diffusion, false) THEN NULL
               ELSE COALESCE(c.etab_name, u.denomination) END AS name,
          c.etab_partial OR COALESCE(u.partial_diffusion, false) AS partial_diffusion,
          CASE WHEN c.etab_partial OR COALESCE(u.partial_diffusion, false) THEN NULL
               ELSE c.address END AS address,
          c.commune_code, c.code_raw AS commune_code_raw, c.naf,
          {_ACTOR_COLUMNS_FROM_UNIT.format(naf="c.naf")},
          CASE WHEN c.naf IS NULL THEN 'non_classe'
               WHEN c.naf_nomenclature IS NOT NULL AND upper(c.naf_nomenclature) <> 'NAFREV2'
                 THEN 'non_classe'
               ELSE COALESCE(d.sector, 'non_classe') END AS sector,
          c.band AS effectif_band,
          CASE WHEN c.active THEN COALESCE(r.jobs_estimate, 0) ELSE 0 END AS jobs,
          true AS jobs_is_estimate,
          c.active AND COALESCE(r.employer, false) AS employer,
          c.active, c.date_creation,
          CASE c.coord_source WHEN 'wgs84' THEN c.wgs_lon
                              WHEN 'lambert93' THEN ess_l93_lon(c.l93_x, c.l93_y)
                              WHEN 'centre_commune' THEN c.centre_lon END AS lon,
          CASE c.coord_source WHEN 'wgs84' THEN c.wgs_lat
                              WHEN 'lambert93' THEN ess_l93_lat(c.l93_x, c.l93_y)
                              WHEN 'centre_commune' THEN c.centre_lat END AS lat,
          c.coord_source,
          NULL::VARCHAR AS comment,
          'sirene' AS source,
          u.siren IS NULL AS _no_unit,
          c.band IS NOT NULL AND r.band IS NULL AS _bad_band
        FROM c
        LEFT JOIN ({units}) u ON u.siren = left(c.siret, 9)
        LEFT JOIN ref_categories_juridiques cj ON cj.code = u.categorie_juridique
        LEFT JOIN ref_excluded_naf x ON x.code = c.naf
        LEFT JOIN ref_naf_divisions d ON d.division = left(c.naf, 2)
        LEFT JOIN ref_effectifs r ON r.band = c.band
        """  # noqa: S608
    )
    return checked


def _set_aside_duplicate_sirets(ctx: ImportContext, checked: str) -> None:
    """Duplicated SIRETs (rare): only then pay for a window over the whole file; the first
    line is kept."""
    con = ctx.con
    dup = ctx.scalar(
        f"SELECT count(*) - count(DISTINCT siret) FROM {checked} WHERE _reason IS NULL"  # noqa: S608
    )
    if not dup:
        return
    con.execute(
        f"""
        UPDATE {checked} c SET _reason = 'SIRET en double dans l''import (première ligne gardée)',
               _column = 'siret', _example = 'siret = « ' || c.siret || ' »'
        FROM (SELECT _file, _row, row_number() OVER (PARTITION BY siret ORDER BY _file, _row) AS k
              FROM {checked} WHERE _reason IS NULL) d
        WHERE d._file = c._file AND d._row = c._row AND d.k > 1
        """  # noqa: S608
    )
    ctx.report.duplicates = int(dup)


def _report_etablissements(ctx: ImportContext, checked: str, target: str) -> None:
    """The figures of the import (active/closed, coordinates by source, ESS…) and warnings."""
    row = ctx.sql(
        f"""SELECT count(*),
                   count(*) FILTER (WHERE active), count(*) FILTER (WHERE NOT active),
                   count(*) FILTER (WHERE partial_diffusion),
                   count(*) FILTER (WHERE coord_source = 'lambert93'),
                   count(*) FILTER (WHERE coord_source = 'wgs84'),
                   count(*) FILTER (WHERE coord_source = 'centre_commune'),
                   count(*) FILTER (WHERE coord_source IS NULL),
                   count(*) FILTER (WHERE is_ess),
                   count(*) FILTER (WHERE is_ess AND active),
                   count(*) FILTER (WHERE is_ess AND employer),
                   sum(jobs) FILTER (WHERE is_ess AND active),
                   count(*) FILTER (WHERE _no_unit),
                   count(*) FILTER (WHERE _bad_band),
                   count(*) FILTER (WHERE commune_code <> commune_code_raw)
            FROM {checked} WHERE _reason IS NULL"""  # noqa: S608
    )[0]
    keys = [
        "etablissements",
        "etablissements_actifs",
        "etablissements_fermes",
        "diffusion_partielle",
        "coordonnees_lambert93",
        "coordonnees_wgs84",
        "coordonnees_centre_commune",
        "sans_coordonnees",
        "etablissements_ess",
        "etablissements_ess_actifs",
        "etablissements_ess_employeurs",
        "emplois_ess_estimes",
        "sans_unite_legale",
        "tranches_inconnues",
        "communes_recodees",
    ]
    for key, value in zip(keys, row, strict=True):
        ctx.count(key, float(value or 0) if key == "emplois_ess_estimes" else int(value or 0))
    families = ctx.sql(
        f"SELECT family, count(*) FROM {target} WHERE is_ess AND active "  # noqa: S608
        "GROUP BY 1 ORDER BY 1"
    )
    ctx.count("etablissements_ess_actifs_par_famille", {f: int(n) for f, n in families})
    if row[6]:
        ctx.warn(
            f"{row[6]} établissement(s) sans coordonnées utilisables : placés au centre de "
            "leur commune."
        )
    if row[12]:
        ctx.warn(
            f"{row[12]} établissement(s) dont l'unité légale n'est ni dans cet import ni dans "
            "la base : forme juridique inconnue, classés hors ESS sauf mention ESS. Importez "
            "aussi le fichier des unités légales (StockUniteLegale)."
        )
    if row[13]:
        ctx.warn(f"{row[13]} tranche(s) d'effectif inconnue(s) : comptées sans salarié.")


def _reclassify_stored_actors(
    ctx: ImportContext, ul_target: str, actors_target: str | None
) -> None:
    """Stored SIRENE actors whose unit comes with this import take its legal form and flags."""
    target = ctx.temp_name("t_actors_reclassified")
    exclude = (
        f"AND a.actor_id NOT IN (SELECT actor_id FROM {actors_target})" if actors_target else ""
    )
    ctx.con.execute(
        f"""
        CREATE TEMP TABLE {target} AS
        SELECT a.* EXCLUDE (import_id, categorie_juridique, is_ess, family, name),
          CASE WHEN a.partial_diffusion OR u.partial_diffusion THEN NULL
               ELSE COALESCE(a.name, u.denomination) END AS name,
          {_ACTOR_COLUMNS_FROM_UNIT.format(naf="a.naf")}
        FROM actors a
        JOIN {ul_target} u ON u.siren = a.siren
        LEFT JOIN ref_categories_juridiques cj ON cj.code = u.categorie_juridique
        LEFT JOIN ref_excluded_naf x ON x.code = a.naf
        WHERE a.source = 'sirene' {exclude}
        """  # noqa: S608
    )
    n = ctx.scalar(f"SELECT count(*) FROM {target}")  # noqa: S608
    if n:
        ctx.count("acteurs_reclasses", int(n))
        ctx.add_target("actors", target, ("actor_id",))


def prepare(ctx: ImportContext) -> None:
    """Group handler of the SIRENE formats (see the module docstring)."""
    ul_target = _unites_legales(ctx)
    actors_target = _etablissements(ctx, ul_target)
    if (
        ul_target is not None
        and store.table_exists(ctx.con, "actors")
        and ctx.scalar("SELECT EXISTS (SELECT 1 FROM actors WHERE source = 'sirene')")
    ):
        _reclassify_stored_actors(ctx, ul_target, actors_target)


register_group("sirene", prepare)
