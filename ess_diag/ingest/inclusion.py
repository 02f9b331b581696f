"""Lists of inclusive and ESUS structures, as published, for sourcing (issue 15).

Four readers, one format group (``inclusion``), so that lists imported together set each
actor once:

* ``liste_siae`` — the structures of the inclusion platforms (export of the Marché de
  l'inclusion / les emplois de l'inclusion, data.inclusion): ``siret`` and ``kind``/``Type``
  (EI, AI, ACI, ETTI, EITI, GEIQ, EA, EATT, ESAT; other kinds such as OPCS are set aside),
  name, postcode, city, département;
* ``liste_ea`` — the entreprises adaptées list of the ministère du Travail: SIRET, raison
  sociale, type (EA or EATT), postcode, commune, département;
* ``finess_etalab`` — ESAT from the FINESS extract published by the ministère de la Santé on
  data.gouv.fr (``etalab-cs1100507-stock-*.csv``): ``;``-separated, a first line
  ``finess;etalab;…`` instead of a header, then one ``structureet`` line per establishment
  (32 fields: nofinesset, nofinessej, rs, …, categetab, …, siret, …) and one
  ``geolocalisation`` line each (Lambert 93 coordinates). Only catégorie 246 (ESAT) is taken;
  the others are counted, not loaded;
* ``liste_esus`` — the ESUS-approved enterprises published by the DG Trésor from the DREETS'
  lists: SIREN (a SIRET in that column is accepted), raison sociale, date of the agreement
  (and of its end when given: an expired agreement is set aside), postcode, city,
  département.

Each row is matched on its **SIRET** onto an existing actor, then on its **SIREN** (an ESUS
agreement is the legal unit's: every establishment of the SIREN; a kind only when the SIREN has
a single establishment, otherwise the row is set aside asking for the SIRET); matched actors
get ``inclusive_kind`` / ``esus`` (their other columns unchanged). Rows matching nothing are
**added as actors** (``source`` = the list) at their commune's centre — or at FINESS's own
coordinates — when the commune is found (INSEE code, or name within the département), and set
aside otherwise. Every row is loaded, counted (FINESS's other categories) or set aside with its
reason and line: nothing is dropped silently. Undo restores the actors as they were.
"""

from __future__ import annotations

from pathlib import Path

from .. import nomenclatures, store
from .context import ImportContext
from .errors import FileRejected, Reason
from .registry import FormatSpec, register_format, register_group
from .staging import Staged, _set_aside_rejected_lines, _sql_str, _transcode_to_utf8

__all__ = ["FORMATS", "ESAT_CATEGORY", "FINESS_FIELDS", "prepare"]

#: FINESS catégorie d'établissement of the ESAT.
ESAT_CATEGORY = "246"

#: The 32 fields of a FINESS ``structureet`` line, in order (etalab extract).
FINESS_FIELDS = (
    "section", "nofinesset", "nofinessej", "rs", "rslongue", "complrs", "compldistrib",
    "numvoie", "typvoie", "voie", "compvoie", "lieuditbp", "commune", "departement",
    "libdepartement", "ligneacheminement", "telephone", "telecopie", "categetab",
    "libcategetab", "categagretab", "libcategagretab", "siret", "codeape", "codemft",
    "libmft", "codesph", "libsph", "dateouv", "dateautor", "datemaj", "numuai",
)  # fmt: skip

#: Canonical staged column → position in a FINESS line. ``finess``/``etalab`` are the words of
#: the first line (how the file is recognised) and the section/nofinesset fields of the others;
#: ``x``, ``y``, ``coord_source`` are the 3rd–5th fields of the ``geolocalisation`` lines.
_FINESS_COLUMNS = {
    "finess": 0,
    "etalab": 1,
    "x": 2,
    "y": 3,
    "coord_source": 4,
    "rs": 3,
    "rslongue": 4,
    "commune": 12,
    "departement": 13,
    "categetab": 18,
    "libcategetab": 19,
    "siret": 22,
}


def _stage_finess(
    con, staged: Staged, workdir: Path, limit: int | None, source: Path | None = None
) -> None:
    """Stage a header-less FINESS extract: every line after the first, by position."""
    report = staged.report
    source = Path(report.path) if source is None else Path(source)
    path, compression = str(source), ("gzip" if report.compression else "none")
    if report.encoding == "cp1252":
        path, compression = str(_transcode_to_utf8(report, workdir, source)), "none"
    width = len(FINESS_FIELDS)  # longer lines are set aside as malformed
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    rejects, scans = f"_rej_{staged.index}", f"_rejscan_{staged.index}"
    select = ", ".join(f"c{pos} AS {name}" for name, pos in _FINESS_COLUMNS.items())
    limit_sql = f" LIMIT {int(limit)}" if limit else ""
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {store.quote_identifier(staged.table)} AS "  # noqa: S608
            f"SELECT {select} FROM read_csv({_sql_str(path)}, delim=';', header=false, skip=1, "
            f"columns={columns}, null_padding=true, quote='\"', escape='\"', "
            f"compression={_sql_str(compression)}, encoding='utf-8', max_line_size=10000000, "
            f"store_rejects=true, rejects_table={_sql_str(rejects)}, "
            f"rejects_scan={_sql_str(scans)}){limit_sql}"
        )
    except Exception as exc:  # DuckDB's reader raises several types on broken files
        raise FileRejected(
            f"Le fichier FINESS « {report.name} » n'a pas pu être lu : "
            f"{str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__}",
            code=Reason.DAMAGED,
            file=report.name,
        ) from None
    rows = con.execute(
        f"SELECT line, error_type::VARCHAR, csv_line FROM {rejects} ORDER BY line"  # noqa: S608
    ).fetchall()
    con.execute(f"DROP TABLE IF EXISTS {rejects}")
    con.execute(f"DROP TABLE IF EXISTS {scans}")
    _set_aside_rejected_lines(staged, rows)


SIAE = register_format(
    FormatSpec(
        kind="liste_siae",
        label="Structures inclusives (Marché / emplois de l'inclusion)",
        group="inclusion",
        required=("siret", "type_structure"),
        optional=("raison_sociale", "enseigne", "code_postal", "ville", "departement"),
        aliases={
            "kind": "type_structure",
            "type": "type_structure",
            "Type de structure": "type_structure",
            "Type de SIAE": "type_structure",
            "name": "raison_sociale",
            "Raison sociale": "raison_sociale",
            "brand": "enseigne",
            "post_code": "code_postal",
            "Code postal": "code_postal",
            "city": "ville",
            "department": "departement",
        },
        order=60,
    )
)
EA = register_format(
    FormatSpec(
        kind="liste_ea",
        label="Entreprises adaptées (ministère du Travail)",
        group="inclusion",
        required=("siret", "raison_sociale", "type_ea"),
        optional=("code_postal", "ville", "departement"),
        aliases={
            "N° SIRET": "siret",
            "Numéro SIRET": "siret",
            "Dénomination": "raison_sociale",
            "Nom de l'entreprise adaptée": "raison_sociale",
            "Type EA": "type_ea",
            "Type d'EA": "type_ea",
            "Type d'entreprise adaptée": "type_ea",
            "EA / EATT": "type_ea",
            "Commune": "ville",
            "Code postal": "code_postal",
        },
        order=61,
    )
)
FINESS = register_format(
    FormatSpec(
        kind="finess_etalab",
        label="FINESS, extraction etalab (ESAT, catégorie 246)",
        group="inclusion",
        required=("finess", "etalab"),
        optional=tuple(c for c in _FINESS_COLUMNS if c not in ("finess", "etalab")),
        order=62,
        stage=_stage_finess,
    )
)
ESUS = register_format(
    FormatSpec(
        kind="liste_esus",
        label="Entreprises agréées ESUS (DG Trésor, DREETS)",
        group="inclusion",
        required=("identifiant", "date_agrement"),
        optional=("raison_sociale", "code_postal", "ville", "departement", "date_fin"),
        aliases={
            # Not a bare "SIRET": SIRENE's files would then look closest to this list.
            "SIREN": "identifiant",
            "SIREN / SIRET": "identifiant",
            "N° SIREN": "identifiant",
            "Numéro SIREN": "identifiant",
            "Date d'agrément": "date_agrement",
            "Date de l'agrément": "date_agrement",
            "Date d'obtention de l'agrément": "date_agrement",
            "Date de délivrance de l'agrément": "date_agrement",
            "Date agrément ESUS": "date_agrement",
            "Raison sociale": "raison_sociale",
            "Dénomination": "raison_sociale",
            "Nom de l'entreprise": "raison_sociale",
            "Code postal": "code_postal",
            "Ville": "ville",
            "Commune": "ville",
            "Département": "departement",
            "Date de fin de validité": "date_fin",
            "Date de fin d'agrément": "date_fin",
            "Date d'expiration": "date_fin",
        },
        order=63,
    )
)
FORMATS = (SIAE, EA, FINESS, ESUS)
#: ``actors.source`` of the structures each list adds.
_SOURCE = {
    "liste_siae": "liste_siae",
    "liste_ea": "liste_ea",
    "finess_etalab": "finess",
    "liste_esus": "liste_esus",
}

#: Why a row is set aside: code → (canonical column, French reason).
SET_ASIDE: dict[str, tuple[str, str]] = {
    "siret_invalide": ("siret", "SIRET invalide (14 chiffres attendus)"),
    "identifiant_invalide": ("identifiant", "SIREN ou SIRET invalide (9 ou 14 chiffres)"),
    "type_non_retenu": (
        "type_structure",
        "Type de structure non retenu (EI, AI, ACI, ETTI, EITI, GEIQ, EA, EATT, ESAT)",
    ),
    "type_ea_inconnu": ("type_ea", "Type d'entreprise adaptée inconnu (EA ou EATT)"),
    "date_invalide": ("date_agrement", "Date d'agrément illisible"),
    "agrement_expire": ("date_fin", "Agrément ESUS expiré"),
    "siren_plusieurs": (
        "siret",
        "SIRET absent de la base et SIREN à plusieurs établissements : précisez le SIRET "
        "ou importez d'abord l'établissement (SIRENE)",
    ),
    "commune_introuvable": ("ville", "Structure absente de la base et commune introuvable"),
}


# --------------------------------------------------------------------------- prepare


def _rows(ctx: ImportContext) -> str | None:
    """One TEMP table of every list row: ``_file, _row, kind (format), ident, name, kind_raw,
    esus, dates, place``."""
    parts = []
    siae = ctx.staged_for("liste_siae", geography="rattacher les structures")
    if siae:
        parts.append(
            f"""SELECT _file, _row, 'liste_siae' AS fmt, siret AS ident_raw,
                   coalesce(ess_text(raison_sociale), ess_text(enseigne)) AS name,
                   upper(replace(ess_text(type_structure), ' ', '')) AS kind_raw,
                   NULL::BOOLEAN AS esus, NULL::VARCHAR AS date_raw, NULL::VARCHAR AS end_raw,
                   ess_text(code_postal) AS postcode, ess_text(ville) AS city,
                   ess_text(departement) AS dep_text, NULL::VARCHAR AS code_raw,
                   NULL::DOUBLE AS lon, NULL::DOUBLE AS lat
            FROM {siae}"""
        )
    ea = ctx.staged_for("liste_ea", geography="rattacher les structures")
    if ea:
        parts.append(
            f"""SELECT _file, _row, 'liste_ea' AS fmt, siret AS ident_raw,
                   ess_text(raison_sociale) AS name,
                   CASE WHEN ess_text(type_ea) IS NULL THEN 'EA'
                        WHEN regexp_matches(upper(type_ea), 'EATT|TEMPORAIRE') THEN 'EATT'
                        WHEN regexp_matches(upper(type_ea), '^\\s*EA\\s*$|ADAPT') THEN 'EA'
                        ELSE '?' || type_ea END AS kind_raw,
                   NULL::BOOLEAN AS esus, NULL::VARCHAR AS date_raw, NULL::VARCHAR AS end_raw,
                   ess_text(code_postal) AS postcode, ess_text(ville) AS city,
                   ess_text(departement) AS dep_text, NULL::VARCHAR AS code_raw,
                   NULL::DOUBLE AS lon, NULL::DOUBLE AS lat
            FROM {ea}"""
        )
    finess = ctx.staged_for("finess_etalab", geography="rattacher les structures")
    if finess:
        parts.append(_finess_rows(ctx, finess))
    esus = ctx.staged_for("liste_esus", geography="rattacher les structures")
    if esus:
        parts.append(
            f"""SELECT _file, _row, 'liste_esus' AS fmt, identifiant AS ident_raw,
                   ess_text(raison_sociale) AS name, NULL::VARCHAR AS kind_raw,
                   true AS esus, ess_text(date_agrement) AS date_raw,
                   ess_text(date_fin) AS end_raw, ess_text(code_postal) AS postcode,
                   ess_text(ville) AS city, ess_text(departement) AS dep_text,
                   NULL::VARCHAR AS code_raw, NULL::DOUBLE AS lon, NULL::DOUBLE AS lat
            FROM {esus}"""
        )
    if not parts:
        return None
    table = ctx.temp_name("incl_rows")
    ctx.con.execute(
        f"CREATE TEMP TABLE {table} AS "  # noqa: S608
        "SELECT *, regexp_replace(coalesce(ident_raw, ''), '[\\s.\u00a0]', '', 'g') AS ident "
        f"FROM ({' UNION ALL BY NAME '.join(parts)})"
    )
    return table


def _finess_rows(ctx: ImportContext, view: str) -> str:
    """ESAT lines of a FINESS extract with their Lambert 93 position when given; the other
    categories and the geolocation lines are counted."""
    other, geo = ctx.sql(
        f"SELECT count(*) FILTER (WHERE finess = 'structureet' AND categetab IS DISTINCT "  # noqa: S608
        f"FROM '{ESAT_CATEGORY}'), count(*) FILTER (WHERE finess = 'geolocalisation') "
        f"FROM {view}"
    )[0]
    ctx.count("finess_autres_categories", int(other))
    ctx.count("finess_lignes_geolocalisation", int(geo))
    # FINESS writes the overseas départements 9A…9F and a 3-digit commune number.
    return f"""
        SELECT s._file, s._row, 'finess_etalab' AS fmt, s.siret AS ident_raw,
               coalesce(s.rslongue, s.rs) AS name, 'ESAT' AS kind_raw, NULL::BOOLEAN AS esus,
               NULL::VARCHAR AS date_raw, NULL::VARCHAR AS end_raw, NULL::VARCHAR AS postcode,
               NULL::VARCHAR AS city, s.departement AS dep_text,
               CASE WHEN regexp_full_match(s.departement, '9[A-F]')
                    THEN '97' || (ascii(right(s.departement, 1)) - 64)::VARCHAR
                         || right(s.commune, 2)
                    ELSE s.departement || s.commune END AS code_raw,
               CASE WHEN contains(upper(g.coord_source), 'LAMBERT_93')
                    THEN ess_l93_lon(TRY_CAST(g.x AS DOUBLE), TRY_CAST(g.y AS DOUBLE)) END AS lon,
               CASE WHEN contains(upper(g.coord_source), 'LAMBERT_93')
                    THEN ess_l93_lat(TRY_CAST(g.x AS DOUBLE), TRY_CAST(g.y AS DOUBLE)) END AS lat
        FROM {view} s
        LEFT JOIN (SELECT etalab, any_value(x) AS x, any_value(y) AS y,
                          any_value(coord_source) AS coord_source
                   FROM {view} WHERE finess = 'geolocalisation' GROUP BY etalab) g
               ON g.etalab = s.etalab
        WHERE s.finess = 'structureet' AND s.categetab = '{ESAT_CATEGORY}'
    """  # noqa: S608


def _checked(ctx: ImportContext, rows: str) -> str:
    """Rows with their match (``actor_id`` of an existing actor, or a new one) and, for those
    set aside, ``_reason`` / ``_column`` / ``_example``."""
    con = ctx.con
    reasons = ctx.temp_name("incl_reasons")
    con.execute(f"CREATE TEMP TABLE {reasons} (code VARCHAR, col VARCHAR, reason VARCHAR)")
    con.executemany(
        f"INSERT INTO {reasons} VALUES (?, ?, ?)",  # noqa: S608
        [(code, col, reason) for code, (col, reason) in SET_ASIDE.items()],
    )
    kinds = list(nomenclatures.INCLUSIVE_KINDS)
    checked = ctx.temp_name("incl_checked")
    con.execute(
        f"""
        CREATE TEMP TABLE {checked} AS
        WITH r AS (
            SELECT r.*,
                   CASE WHEN length(ident) = 14 THEN ident END AS siret,
                   CASE WHEN length(ident) IN (9, 14) THEN left(ident, 9) END AS siren,
                   coalesce(TRY_CAST(date_raw AS DATE), TRY_STRPTIME(date_raw, '%d/%m/%Y')::DATE)
                       AS date_ok,
                   coalesce(TRY_CAST(end_raw AS DATE), TRY_STRPTIME(end_raw, '%d/%m/%Y')::DATE)
                       AS end_ok
            FROM {rows} r
        ),
        by_siret AS (
            SELECT r._file, r._row, min(a.actor_id) AS actor_id FROM r
            JOIN actors a ON a.siret = r.siret GROUP BY ALL
        ),
        by_siren AS (
            SELECT r._file, r._row, count(DISTINCT a.actor_id) AS n, min(a.actor_id) AS actor_id
            FROM r JOIN actors a ON a.siren = r.siren GROUP BY ALL
        ),
        m AS (
            SELECT r.*, s.actor_id AS siret_actor, n.n AS siren_actors, n.actor_id AS siren_actor
            FROM r
            LEFT JOIN by_siret s ON s._file = r._file AND s._row = r._row
            LEFT JOIN by_siren n ON n._file = r._file AND n._row = r._row
        )
        SELECT m.*,
          CASE
            WHEN fmt <> 'liste_esus' AND NOT regexp_full_match(ident, '[0-9]{{14}}')
              THEN 'siret_invalide'
            WHEN fmt = 'liste_esus' AND NOT regexp_full_match(ident, '[0-9]{{9}}|[0-9]{{14}}')
              THEN 'identifiant_invalide'
            WHEN fmt = 'liste_ea' AND starts_with(kind_raw, '?') THEN 'type_ea_inconnu'
            WHEN fmt = 'liste_siae' AND NOT coalesce(list_contains($kinds, kind_raw), false)
              THEN 'type_non_retenu'
            WHEN fmt = 'liste_esus' AND date_ok IS NULL THEN 'date_invalide'
            WHEN fmt = 'liste_esus' AND end_ok < current_date THEN 'agrement_expire'
            WHEN siret_actor IS NULL AND fmt <> 'liste_esus' AND siren_actors > 1
              THEN 'siren_plusieurs'
          END AS _code,
          CASE WHEN siret_actor IS NOT NULL THEN 'siret'
               WHEN siren_actors = 1 OR (fmt = 'liste_esus' AND siren_actors > 1) THEN 'siren'
          END AS matched_by
        FROM m
        """,  # noqa: S608
        {"kinds": kinds},
    )
    _place_new(ctx, checked)
    con.execute(
        f"""
        UPDATE {checked} c SET _code = 'commune_introuvable'
        WHERE _code IS NULL AND matched_by IS NULL AND commune_code IS NULL
        """  # noqa: S608
    )
    table = ctx.temp_name("incl_final")
    con.execute(
        f"""
        CREATE TEMP TABLE {table} AS
        SELECT c.*, why.reason AS _reason, why.col AS _column,
               coalesce(name, '(sans nom)') || ' — ' || CASE
                   WHEN _code IN ('siret_invalide', 'identifiant_invalide', 'siren_plusieurs')
                     THEN CASE WHEN ident = '' THEN 'identifiant absent'
                               ELSE '« ' || ident_raw || ' »' END
                   WHEN _code IN ('type_non_retenu', 'type_ea_inconnu')
                     THEN '« ' || ltrim(coalesce(kind_raw, ''), '?') || ' »'
                   WHEN _code = 'date_invalide' THEN '« ' || coalesce(date_raw, '') || ' »'
                   WHEN _code = 'agrement_expire' THEN 'fin le ' || coalesce(end_raw, '')
                   ELSE '« ' || coalesce(city, code_raw, postcode, '') || ' »' END AS _example
        FROM {checked} c LEFT JOIN {reasons} why ON why.code = c._code
        """  # noqa: S608
    )
    for f in ctx.staged_files():
        if f.report.format not in _SOURCE:
            continue
        for canonical, header in f.report.mapping.items():
            con.execute(
                f"UPDATE {table} SET _column = ? WHERE _file = ? AND _column = ?",  # noqa: S608
                [header, f.index, canonical],
            )
        if f.report.format == "finess_etalab":
            # FINESS has no header: the column is named by its FINESS field name.
            con.execute(
                f"UPDATE {table} SET _column = CASE _column WHEN 'ville' THEN 'commune' "  # noqa: S608
                "ELSE _column END WHERE _file = ?",
                [f.index],
            )
    return table


def _place_new(ctx: ImportContext, checked: str) -> None:
    """The commune (and a point) of the rows matching no actor: INSEE code (FINESS), else the
    city's name within the département (given, or from the postcode)."""
    con = ctx.con
    con.execute(f"ALTER TABLE {checked} ADD COLUMN commune_code VARCHAR")  # noqa: S608
    con.execute(
        f"""
        UPDATE {checked} c SET commune_code = a.commune_code
        FROM commune_aliases a WHERE a.code = c.code_raw AND c.matched_by IS NULL
        """  # noqa: S608
    )
    con.execute(
        f"""
        UPDATE {checked} c SET commune_code = p.commune_code
        FROM (
            SELECT c._file, c._row, min(t.code) AS commune_code, count(DISTINCT t.code) AS n
            FROM {checked} c
            JOIN territories t ON t.level = 'commune'
                 AND ess_norm_name(t.name) = ess_norm_name(c.city)
                 AND (t.departement_code = ess_dep(c.dep_text)
                      OR t.departement_code = ess_dep(left(c.postcode, 2))
                      OR (left(c.postcode, 2) = '20' AND t.departement_code IN ('2A', '2B'))
                      OR (left(c.postcode, 2) = '97'
                          AND t.departement_code = left(c.postcode, 3)))
            WHERE c.matched_by IS NULL AND c.commune_code IS NULL AND c.city IS NOT NULL
            GROUP BY ALL
        ) p
        WHERE p._file = c._file AND p._row = c._row AND p.n = 1
        """  # noqa: S608
    )


def _targets(ctx: ImportContext, final: str) -> str:
    """The ``actors`` rows to write: matched actors with their kind / ESUS set, and new
    actors. Several rows for one actor (two lists, or a list twice) are merged."""
    con = ctx.con
    hits = ctx.temp_name("incl_hits")
    con.execute(
        f"""
        CREATE TEMP TABLE {hits} AS SELECT * FROM {final} WHERE _reason IS NULL
        """  # noqa: S608
    )
    # SIREN matches: every actor of the SIREN for an ESUS agreement, the single one otherwise.
    matched = ctx.temp_name("incl_matched")
    con.execute(
        f"""
        CREATE TEMP TABLE {matched} AS
        WITH m AS (
            SELECT siret_actor AS actor_id, kind_raw, esus, fmt FROM {hits}
            WHERE matched_by = 'siret'
            UNION ALL
            SELECT a.actor_id, h.kind_raw, h.esus, h.fmt FROM {hits} h
            JOIN actors a ON a.siren = h.siren
            WHERE h.matched_by = 'siren'
        )
        SELECT actor_id,
               arg_min(kind_raw, fmt) FILTER (WHERE kind_raw IS NOT NULL) AS kind,
               bool_or(esus) AS esus
        FROM m GROUP BY actor_id
        """  # noqa: S608
    )
    target = ctx.temp_name("t_actors_inclusion")
    con.execute(
        f"""
        CREATE TEMP TABLE {target} AS
        SELECT a.* EXCLUDE (import_id, inclusive_kind, esus),
               coalesce(m.kind, a.inclusive_kind) AS inclusive_kind,
               CASE WHEN m.esus THEN true ELSE a.esus END AS esus
        FROM actors a JOIN {matched} m ON m.actor_id = a.actor_id
        """  # noqa: S608
    )
    con.execute(
        f"""
        INSERT INTO {target} BY NAME
        SELECT coalesce(h.siret, 'liste-' || left(md5(h.fmt || '|' || h.ident), 16)) AS actor_id,
               any_value(h.siret) AS siret, any_value(h.siren) AS siren,
               arg_min(h.name, h._row) AS name,
               false AS partial_diffusion, any_value(h.commune_code) AS commune_code,
               any_value(coalesce(h.code_raw, h.city)) AS commune_code_raw,
               bool_or(h.fmt = 'liste_esus') AS is_ess,
               'non_classe' AS sector, NULL::DOUBLE AS jobs, true AS jobs_is_estimate,
               false AS employer, true AS active,
               coalesce(any_value(h.lon), any_value(t.lon)) AS lon,
               coalesce(any_value(h.lat), any_value(t.lat)) AS lat,
               CASE WHEN any_value(h.lon) IS NOT NULL THEN 'lambert93'
                    ELSE 'centre_commune' END AS coord_source,
               arg_min(CASE h.fmt WHEN 'finess_etalab' THEN 'finess' ELSE h.fmt END, h._row)
                   AS source,
               arg_min(h.kind_raw, h.fmt) FILTER (WHERE h.kind_raw IS NOT NULL)
                   AS inclusive_kind,
               bool_or(h.esus) AS esus
        FROM {hits} h
        LEFT JOIN territories t ON t.level = 'commune' AND t.code = h.commune_code
        WHERE h.matched_by IS NULL
        GROUP BY 1
        """  # noqa: S608
    )
    return target


def prepare(ctx: ImportContext) -> None:
    """Match the lists' rows onto the actors (SIRET, then SIREN), add the others; declare the
    ``actors`` rows."""
    rows = _rows(ctx)
    if rows is None:
        return
    final = _checked(ctx, rows)
    ctx.collect_set_aside(final)
    target = _targets(ctx, final)
    stats = ctx.sql(
        f"""
        SELECT count(*) FILTER (WHERE _reason IS NULL AND matched_by = 'siret'),
               count(*) FILTER (WHERE _reason IS NULL AND matched_by = 'siren'),
               count(*) FILTER (WHERE _reason IS NULL AND matched_by IS NULL)
        FROM {final}
        """  # noqa: S608
    )[0]
    ctx.count("structures_rapprochees_siret", int(stats[0]))
    ctx.count("structures_rapprochees_siren", int(stats[1]))
    ctx.count("structures_ajoutees", int(stats[2]))
    ctx.count("acteurs_mis_a_jour", int(ctx.scalar(f"SELECT count(*) FROM {target}")))  # noqa: S608
    if stats[2]:
        ctx.warn(
            f"{stats[2]} structure(s) des listes absente(s) de la base : ajoutée(s) comme "
            "acteurs, au centre de leur commune (ou aux coordonnées FINESS), sans effectif "
            "connu. Importez SIRENE pour leurs effectifs."
        )
    ctx.add_target("actors", target, ("actor_id",))


register_group("inclusion", prepare)
