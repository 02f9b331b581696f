"""The actor template: hand-made lists of actors (CSV or XLSX) brought to a workshop.

Columns (French headers, as in the downloadable template — :func:`template_xlsx`,
:func:`template_csv`): ``Nom`` (required), ``Code commune`` or ``Commune`` (+ ``Département``
to tell homonyms apart), ``SIRET``, ``Famille``, ``Secteur``, ``Emplois``, ``Latitude``,
``Longitude``, ``Commentaire``; and for sourcing and cooperation (issue 15), all optional:
``Code NAF``, ``Structure inclusive`` (EI, AI, ACI, ETTI, EITI, GEIQ, EA, EATT, ESAT),
``Agrément ESUS`` (oui/non), ``Prestations`` (purchase segments, keys or labels of
:data:`ess_diag.nomenclatures.PURCHASE_SEGMENTS`, separated by ``|`` or ``,``), ``Projets``,
``Expertises``, ``Besoins`` (free text) and ``Réseaux`` (names separated by ``|``, e.g. a PTCE).
A bad value sets the row aside with the column named, like the other columns.

* The commune is found by its code (communes déléguées and arrondissements resolve to their
  commune) or by its name, accents, case, hyphens and "St"/"Saint" ignored, within the
  département when one is given (by code or name). A name several communes carry is
  *ambiguous*: the row is set aside and the report lists the candidates, so the user adds the
  département or the code.
* Coordinates typed in the list are kept (``coord_source = 'saisie'``); otherwise the actor is
  placed at its commune's centre (``'centre_commune'``) and the app says so.
* Every listed actor is taken as an ESS actor (the list's purpose) unless its family says
  "Hors ESS"; jobs given by the list are exact figures (``jobs_is_estimate = false``).
* ``actor_id`` is the SIRET when given (a listed establishment replaces the SIRENE row of the
  same SIRET; undo restores it), otherwise a stable id from the name and commune, so
  re-importing the same list does not duplicate anything. ``source = 'modele'``.
"""

from __future__ import annotations

import csv
import io
import re

import pandas as pd

from .. import nomenclatures, text
from .context import ImportContext
from .errors import Reason
from .observatoire import family_key, sector_key
from .registry import FormatSpec, register_format, register_group

__all__ = [
    "TEMPLATE",
    "TEMPLATE_COLUMNS",
    "template_csv",
    "template_xlsx",
    "prepare",
]

#: Canonical column → header of the template (in order).
TEMPLATE_COLUMNS: dict[str, str] = {
    "nom": "Nom",
    "code_commune": "Code commune",
    "commune": "Commune",
    "departement": "Département",
    "siret": "SIRET",
    "famille": "Famille",
    "secteur": "Secteur",
    "emplois": "Emplois",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "commentaire": "Commentaire",
    "naf": "Code NAF",
    "structure_inclusive": "Structure inclusive",
    "esus": "Agrément ESUS",
    "prestations": "Prestations",
    "projets": "Projets",
    "expertises": "Expertises",
    "besoins": "Besoins",
    "reseaux": "Réseaux",
}

#: The template's example row (shown in the CSV under the header, and in the XLSX notice).
EXAMPLE_ROW: dict[str, str] = {
    "nom": "EXEMPLE – Régie de quartier (ligne à remplacer)",
    "code_commune": "01004",
    "commune": "Ambérieu-en-Bugey",
    "departement": "01",
    "siret": "",
    "famille": "Association",
    "secteur": "",
    "emplois": "12",
    "latitude": "",
    "longitude": "",
    "commentaire": "Chantier d'insertion créé en 2015",
    "naf": "81.21Z",
    "structure_inclusive": "ACI",
    "esus": "oui",
    "prestations": "nettoyage | espaces_verts",
    "projets": "Recyclerie solidaire en 2026",
    "expertises": "Entretien d'espaces publics, gestion différenciée",
    "besoins": "Un local de stockage, des partenaires pour la collecte",
    "reseaux": "PTCE Bugey Solidaire | Chantier École",
}

_HELP: dict[str, str] = {
    "nom": "Nom de la structure (obligatoire).",
    "code_commune": "Code INSEE de la commune (5 caractères, ex. 01004). Facultatif si la "
    "colonne Commune est remplie.",
    "commune": "Nom de la commune (accents et majuscules indifférents).",
    "departement": "Code ou nom du département : nécessaire quand plusieurs communes portent "
    "le même nom.",
    "siret": "Facultatif : 14 chiffres.",
    "famille": "Association, Coopérative, Mutuelle, Fondation, Société commerciale de l'ESS "
    "(ou Hors ESS pour un partenaire qui n'en fait pas partie).",
    "secteur": "Un secteur de la liste ci-dessous, ou un code NAF (ex. 88.10A).",
    "emplois": "Nombre de salariés (nombre positif, virgule décimale acceptée).",
    "latitude": "Facultatif, en degrés décimaux (ex. 45,95). Sans coordonnées, l'acteur est "
    "placé au centre de sa commune.",
    "longitude": "Facultatif, en degrés décimaux (ex. 5,35).",
    "commentaire": "Texte libre.",
    "naf": "Facultatif : code NAF rév. 2 de l'activité (ex. 81.21Z). Sert au sourcing des "
    "achats (segments d'achat) et, sans Secteur, à classer l'acteur.",
    "structure_inclusive": "Facultatif : EI, AI, ACI, ETTI, EITI, GEIQ, EA, EATT ou ESAT.",
    "esus": "Facultatif : oui ou non (agrément « entreprise solidaire d'utilité sociale »).",
    "prestations": "Facultatif : segments d'achat proposés (liste ci-dessous, clé ou libellé), "
    "séparés par | ou par une virgule.",
    "projets": "Texte libre : projets en cours ou envisagés.",
    "expertises": "Texte libre : savoir-faire à partager.",
    "besoins": "Texte libre : ce que la structure cherche (partenaires, locaux…).",
    "reseaux": "Facultatif : réseaux, PTCE ou groupements dont elle est membre, séparés par |.",
}

TEMPLATE = register_format(
    FormatSpec(
        kind="modele_acteurs",
        label="Liste d'acteurs (modèle ESS Diag)",
        group="modele_acteurs",
        required=("nom",),
        optional=tuple(c for c in TEMPLATE_COLUMNS if c != "nom"),
        aliases={
            **{header: canonical for canonical, header in TEMPLATE_COLUMNS.items()},
            "Nom de la structure": "nom",
            "Structure": "nom",
            "Raison sociale": "nom",
            "Dénomination": "nom",
            "Code INSEE": "code_commune",
            "Code INSEE commune": "code_commune",
            "Ville": "commune",
            "Nom de la commune": "commune",
            "Dép.": "departement",
            "Dept": "departement",
            "Code département": "departement",
            "N° SIRET": "siret",
            "Famille ESS": "famille",
            "Statut": "famille",
            "Secteur d'activité": "secteur",
            "Activité": "secteur",
            "Nombre d'emplois": "emplois",
            "Salariés": "emplois",
            "Effectif": "emplois",
            "Effectifs": "emplois",
            "Lat": "latitude",
            "Lon": "longitude",
            "Lng": "longitude",
            "Long": "longitude",
            "Commentaires": "commentaire",
            "Remarque": "commentaire",
            "Remarques": "commentaire",
            "NAF": "naf",
            "Code APE": "naf",
            "APE": "naf",
            "Type de structure inclusive": "structure_inclusive",
            "Type SIAE": "structure_inclusive",
            "ESUS": "esus",
            "Segments d'achat": "prestations",
            "Services": "prestations",
            "Projet": "projets",
            "Expertise": "expertises",
            "Besoin": "besoins",
            "Réseau": "reseaux",
        },
        order=40,
    )
)


# --------------------------------------------------------------------------- template files


def _notice_rows() -> list[list[str]]:
    rows = [["Colonne", "Contenu"]]
    rows += [[TEMPLATE_COLUMNS[c], _HELP[c]] for c in TEMPLATE_COLUMNS]
    rows += [[], ["Familles acceptées", ""]]
    rows += [[label, ""] for label in nomenclatures.FAMILIES.values()]
    rows += [[], ["Secteurs acceptés", "Divisions NAF"]]
    rows += [[s.label, ", ".join(s.divisions)] for s in nomenclatures.SECTORS]
    rows += [[], ["Structures inclusives acceptées", ""]]
    rows += [[k, label] for k, label in nomenclatures.INCLUSIVE_KINDS.items()]
    rows += [[], ["Prestations (segments d'achat)", "Clé — codes NAF couverts"]]
    rows += [[s.label, f"{s.key} — {', '.join(s.naf)}"] for s in nomenclatures.PURCHASE_SEGMENTS]
    rows += [[], ["Exemple de ligne", ""]]
    rows += [[TEMPLATE_COLUMNS[c], EXAMPLE_ROW[c]] for c in TEMPLATE_COLUMNS if EXAMPLE_ROW[c]]
    return rows


def template_csv() -> bytes:
    """The template as a CSV for French spreadsheets (UTF-8 with BOM, ``;``): the headers and
    one example row (:data:`EXAMPLE_ROW`, to replace)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(TEMPLATE_COLUMNS.values())
    writer.writerow(EXAMPLE_ROW[c] for c in TEMPLATE_COLUMNS)
    return buf.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    """The template as an Excel workbook: sheet « Acteurs » (headers only, to fill) first,
    then « Notice » (what each column takes, families, sectors, inclusive structures and
    purchase segments accepted, and an example row)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Acteurs"
    ws.append(list(TEMPLATE_COLUMNS.values()))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    widths = [34, 14, 26, 14, 17, 28, 34, 10, 11, 11, 40, 11, 12, 11, 30, 30, 30, 30, 30]
    for i, width in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    # Codes are text: leading zeros (01004) and 14-digit SIRETs must survive typing.
    for col in ("B", "D", "E", "L"):
        for row in range(2, 1002):
            ws[f"{col}{row}"].number_format = "@"
    ws.freeze_panes = "A2"
    notice = wb.create_sheet("Notice")
    for line in _notice_rows():
        notice.append(line)
    notice.column_dimensions["A"].width = 42
    notice.column_dimensions["B"].width = 100
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- import


def _mapping_table(ctx: ImportContext, table: str, column: str, fn) -> str:
    values = [r[0] for r in ctx.sql(f"SELECT DISTINCT {column} FROM {table}")]  # noqa: S608
    keys: list[str | None] = []
    status: list[str] = []
    for v in values:
        if v is None:
            keys.append(None)
            status.append("vide")
            continue
        k = fn(v)
        if k is False:
            keys.append(None)
            status.append("inconnu")
        elif k is None:
            keys.append(None)
            status.append("vide")
        else:
            keys.append(k)
            status.append("ok")
    frame = pd.DataFrame({"raw": values, "key": keys, "status": status}, dtype=object)
    name = ctx.temp_name(f"tmap_{column}")
    ctx.con.register("_ess_tmap", frame)
    try:
        ctx.con.execute(
            f"CREATE TEMP TABLE {name} AS SELECT raw::VARCHAR AS raw, key::VARCHAR AS key, "  # noqa: S608
            "status::VARCHAR AS status FROM _ess_tmap"
        )
    finally:
        ctx.con.unregister("_ess_tmap")
    return name


#: Why a listed actor is set aside: code → (template column, French reason).
SET_ASIDE: dict[str, tuple[str, str]] = {
    "nom_absent": ("nom", "Nom absent"),
    "code_commune_inconnu": ("code_commune", "Code commune inconnu"),
    "commune_absente": ("commune", "Commune absente"),
    "departement_inconnu": ("departement", "Département inconnu"),
    "commune_ambigue": (
        "commune",
        "Commune ambiguë : plusieurs communes portent ce nom (précisez le département ou le "
        "code commune)",
    ),
    "commune_introuvable": ("commune", "Commune introuvable (nom inconnu)"),
    "commune_introuvable_departement": (
        "commune",
        "Commune introuvable (nom inconnu dans ce département)",
    ),
    "siret_invalide": ("siret", "SIRET invalide (14 chiffres attendus)"),
    "famille_inconnue": (
        "famille",
        "Famille inconnue (Association, Coopérative, Mutuelle, Fondation, Société commerciale "
        "de l'ESS, Hors ESS)",
    ),
    "secteur_inconnu": ("secteur", "Secteur inconnu (voir la notice du modèle)"),
    "emplois_pas_un_nombre": ("emplois", "Emplois : pas un nombre"),
    "emplois_negatif": ("emplois", "Emplois : nombre négatif"),
    "coordonnees_incompletes": (
        "latitude",
        "Coordonnées incomplètes (latitude et longitude vont ensemble)",
    ),
    "coordonnees_invalides": ("latitude", "Coordonnées invalides (degrés décimaux attendus)"),
    "naf_invalide": ("naf", "Code NAF invalide (format 81.21Z attendu)"),
    "structure_inclusive_inconnue": (
        "structure_inclusive",
        "Structure inclusive inconnue (EI, AI, ACI, ETTI, EITI, GEIQ, EA, EATT ou ESAT)",
    ),
    "esus_invalide": ("esus", "Agrément ESUS : oui ou non attendu"),
    "prestation_inconnue": (
        "prestations",
        "Prestation inconnue (segments d'achat : voir la notice du modèle)",
    ),
    "doublon": ("nom", "Doublon : même acteur qu'une ligne précédente"),
}


_YES_NO = {
    "oui": "true",
    "o": "true",
    "yes": "true",
    "y": "true",
    "vrai": "true",
    "1": "true",
    "x": "true",
    "non": "false",
    "n": "false",
    "no": "false",
    "faux": "false",
    "0": "false",
}
#: Separator of list values inside the TEMP mapping tables (control characters never survive
#: the free-text cleaning, so no name can hold it).
_LIST_SEP = "\x1f"


def _inclusive_kind(value) -> str | None | bool:
    raw = str(value).strip().upper().replace(" ", "")
    if not raw:
        return None
    return raw if raw in nomenclatures.INCLUSIVE_KINDS else False


def _yes_no(value) -> str | None | bool:
    raw = str(value).strip().lower().rstrip(".")
    if not raw:
        return None
    return _YES_NO.get(raw, False)


def _segments(value) -> str | None | bool:
    """``'nettoyage | Espaces verts et paysage'`` → keys joined by :data:`_LIST_SEP`."""
    parts = [p.strip() for p in re.split(r"[|,;]", str(value)) if p.strip()]
    if not parts:
        return None
    keys = [nomenclatures.segment_key(p) for p in parts]
    if any(k is None for k in keys):
        return False
    return _LIST_SEP.join(dict.fromkeys(k for k in keys if k is not None))


def _networks(value) -> str | None:
    """``'PTCE Bugey | GME Propreté'`` → cleaned names joined by :data:`_LIST_SEP`."""
    names = [text.clean(p, 200, multiline=False) for p in str(value).split("|")]
    names = [n for n in names if n]
    return _LIST_SEP.join(dict.fromkeys(names)) if names else None


def prepare(ctx: ImportContext) -> None:
    """Validate, place and classify the listed actors; declare the ``actors`` rows."""
    files = ctx.files("modele_acteurs")
    if not files or not _has_commune_columns(ctx, files):
        return
    view = ctx.staged_for("modele_acteurs", geography="placer les acteurs")
    if view is None:
        return
    base = _cleaned(ctx, view)
    placed = _placed(ctx, base)
    checked = _checked(ctx, placed)
    _report_set_aside(ctx, checked)
    target = _actors(ctx, checked)
    _report_counts(ctx, checked, target)
    ctx.add_target("actors", target, ("actor_id",))


def _has_commune_columns(ctx: ImportContext, files) -> bool:
    """Every list names the actors' commune (by code or by name); else a refusal."""
    for f in files:
        if "code_commune" not in f.mapping and "commune" not in f.mapping:
            ctx.refuse(
                f"Le fichier « {f.name} » n'indique pas la commune des acteurs : il faut une "
                "colonne « Code commune » ou « Commune » (voir le modèle téléchargeable).",
                Reason.MISSING_COLUMNS,
            )
    return not ctx.report.errors


def _cleaned(ctx: ImportContext, view: str) -> str:
    """TEMP table of the staged rows, cleaned (codes, names, French numbers)."""
    base = ctx.temp_name("tpl_base")
    ctx.con.execute(
        f"""
        CREATE TEMP TABLE {base} AS
        SELECT _file, _row,
               ess_text(nom) AS name,
               ess_commune(code_commune) AS code_raw,
               ess_text(commune) AS commune_text,
               ess_norm_name(commune) AS commune_norm,
               ess_text(departement) AS dep_text,
               NULLIF(regexp_replace(COALESCE(siret, ''), '[\\s.\u00a0]', '', 'g'), '') AS siret,
               ess_text(famille) AS family_text,
               ess_text(secteur) AS sector_text,
               ess_fr_clean(emplois) AS jobs_text,
               ess_fr_number(emplois) AS jobs,
               ess_fr_number(latitude) AS lat_in,
               ess_fr_number(longitude) AS lon_in,
               ess_fr_clean(latitude) AS lat_text,
               ess_fr_clean(longitude) AS lon_text,
               ess_text(commentaire) AS comment,
               ess_text(naf) AS naf_text,
               ess_naf(ess_text(naf)) AS naf_code,
               ess_text(structure_inclusive) AS kind_text,
               ess_text(esus) AS esus_text,
               ess_text(prestations) AS services_text,
               ess_text(projets) AS projects,
               ess_text(expertises) AS expertise,
               ess_text(besoins) AS needs,
               ess_text(reseaux) AS networks_text
        FROM {view}
        """  # noqa: S608
    )
    return base


def _placed(ctx: ImportContext, base: str) -> str:
    """TEMP table of the cleaned rows with their commune (by code, else by name within the
    département given), family and sector keys."""
    con = ctx.con
    families = _mapping_table(ctx, base, "family_text", family_key)
    sectors = _mapping_table(ctx, base, "sector_text", sector_key)
    kinds = _mapping_table(ctx, base, "kind_text", _inclusive_kind)
    esus = _mapping_table(ctx, base, "esus_text", _yes_no)
    services = _mapping_table(ctx, base, "services_text", _segments)
    networks = _mapping_table(ctx, base, "networks_text", _networks)
    naf_sectors = _mapping_table(ctx, base, "naf_code", nomenclatures.sector_for_naf)
    # Département given by code (01, 2A, 974) or by name (Ain, Côtes-d'Armor).
    deps = ctx.temp_name("tpl_deps")
    con.execute(
        f"""
        CREATE TEMP TABLE {deps} AS
        SELECT DISTINCT b.dep_text,
               COALESCE(t1.code, t2.code) AS dep_code
        FROM {base} b
        LEFT JOIN territories t1 ON t1.level = 'departement' AND t1.code = ess_dep(b.dep_text)
        LEFT JOIN territories t2 ON t2.level = 'departement'
                                AND ess_norm_name(t2.name) = ess_norm_name(b.dep_text)
        WHERE b.dep_text IS NOT NULL
        """  # noqa: S608
    )
    # Communes that a name may designate: the communes and their déléguées / associées.
    names = ctx.temp_name("tpl_names")
    con.execute(
        f"""
        CREATE TEMP TABLE {names} AS
        SELECT DISTINCT n.norm, n.commune_code, t.name, t.departement_code
        FROM (
            SELECT ess_norm_name(name) AS norm, code AS commune_code
            FROM territories WHERE level = 'commune'
            UNION ALL
            SELECT ess_norm_name(name), commune_code FROM commune_aliases
            WHERE kind IN ('COMD', 'COMA') AND name IS NOT NULL
        ) n
        JOIN territories t ON t.level = 'commune' AND t.code = n.commune_code
        WHERE n.norm IN (SELECT commune_norm FROM {base})
        """  # noqa: S608
    )
    placed = ctx.temp_name("tpl_placed")
    con.execute(
        f"""
        CREATE TEMP TABLE {placed} AS
        WITH d AS (
            SELECT b.*, dp.dep_code FROM {base} b LEFT JOIN {deps} dp ON dp.dep_text = b.dep_text
        ),
        by_name AS (
            SELECT d._file, d._row,
                   count(DISTINCT n.commune_code) AS n_candidates,
                   min(n.commune_code) AS name_commune,
                   string_agg(DISTINCT n.commune_code || ' ' || n.name || ' ('
                              || n.departement_code || ')', ', '
                              ORDER BY n.commune_code || ' ' || n.name || ' ('
                              || n.departement_code || ')') AS candidates
            FROM d JOIN {names} n ON n.norm = d.commune_norm
                AND (d.dep_code IS NULL OR n.departement_code = d.dep_code)
            WHERE d.code_raw IS NULL
            GROUP BY d._file, d._row
        )
        SELECT d.*, a.commune_code AS code_commune,
               bn.n_candidates, bn.name_commune, bn.candidates,
               COALESCE(a.commune_code, CASE WHEN bn.n_candidates = 1 THEN bn.name_commune END)
                   AS commune_code,
               fa.key AS family_key, fa.status AS family_status,
               se.key AS sector_key, se.status AS sector_status,
               ki.key AS inclusive_kind, ki.status AS kind_status,
               es.key::BOOLEAN AS esus, es.status AS esus_status,
               CASE WHEN sv.key IS NOT NULL THEN string_split(sv.key, ?) END AS services,
               sv.status AS services_status,
               CASE WHEN nw.key IS NOT NULL THEN string_split(nw.key, ?) END AS networks,
               ns.key AS naf_sector
        FROM d
        LEFT JOIN commune_aliases a ON a.code = d.code_raw
        LEFT JOIN by_name bn ON bn._file = d._file AND bn._row = d._row
        LEFT JOIN {families} fa ON fa.raw IS NOT DISTINCT FROM d.family_text
        LEFT JOIN {sectors} se ON se.raw IS NOT DISTINCT FROM d.sector_text
        LEFT JOIN {kinds} ki ON ki.raw IS NOT DISTINCT FROM d.kind_text
        LEFT JOIN {esus} es ON es.raw IS NOT DISTINCT FROM d.esus_text
        LEFT JOIN {services} sv ON sv.raw IS NOT DISTINCT FROM d.services_text
        LEFT JOIN {networks} nw ON nw.raw IS NOT DISTINCT FROM d.networks_text
        LEFT JOIN {naf_sectors} ns ON ns.raw IS NOT DISTINCT FROM d.naf_code
        """,  # noqa: S608
        [_LIST_SEP, _LIST_SEP],
    )
    return placed


def _checked(ctx: ImportContext, placed: str) -> str:
    """TEMP table of the placed rows with ``actor_id``, commune centre and, for the rows set
    aside, ``_code`` (a key of :data:`SET_ASIDE`), ``_reason``, ``_column``, ``_example``."""
    con = ctx.con
    reasons = ctx.temp_name("tpl_reasons")
    con.execute(f"CREATE TEMP TABLE {reasons} (code VARCHAR, col VARCHAR, reason VARCHAR)")
    con.executemany(
        f"INSERT INTO {reasons} VALUES (?, ?, ?)",  # noqa: S608
        [(code, col, reason) for code, (col, reason) in SET_ASIDE.items()],
    )
    checked = ctx.temp_name("tpl_checked")
    con.execute(
        rf"""
        CREATE TEMP TABLE {checked} AS
        WITH p AS (
            SELECT p.*, t.lon AS centre_lon, t.lat AS centre_lat,
                   CASE WHEN p.siret IS NOT NULL THEN p.siret
                        ELSE 'modele-' || left(md5(COALESCE(ess_norm_name(p.name), '') || '|'
                                                   || COALESCE(p.commune_code, '')), 16)
                   END AS actor_id
            FROM {placed} p
            LEFT JOIN territories t ON t.level = 'commune' AND t.code = p.commune_code
        ),
        r AS (
            SELECT p.*,
              CASE
                WHEN name IS NULL THEN 'nom_absent'
                WHEN code_raw IS NOT NULL AND code_commune IS NULL THEN 'code_commune_inconnu'
                WHEN code_raw IS NULL AND commune_norm IS NULL THEN 'commune_absente'
                WHEN code_raw IS NULL AND dep_text IS NOT NULL AND dep_code IS NULL
                  THEN 'departement_inconnu'
                WHEN code_raw IS NULL AND n_candidates > 1 THEN 'commune_ambigue'
                WHEN code_raw IS NULL AND commune_code IS NULL
                  THEN CASE WHEN dep_code IS NOT NULL THEN 'commune_introuvable_departement'
                            ELSE 'commune_introuvable' END
                WHEN siret IS NOT NULL AND NOT regexp_full_match(siret, '[0-9]{{14}}')
                  THEN 'siret_invalide'
                WHEN family_status = 'inconnu' THEN 'famille_inconnue'
                WHEN sector_status = 'inconnu' THEN 'secteur_inconnu'
                WHEN naf_text IS NOT NULL AND NOT regexp_full_match(naf_code, '[0-9]{{2}}\.[0-9]{{2}}[A-Z]')
                  THEN 'naf_invalide'
                WHEN kind_status = 'inconnu' THEN 'structure_inclusive_inconnue'
                WHEN esus_status = 'inconnu' THEN 'esus_invalide'
                WHEN services_status = 'inconnu' THEN 'prestation_inconnue'
                WHEN jobs_text IS NOT NULL AND jobs IS NULL THEN 'emplois_pas_un_nombre'
                WHEN jobs < 0 THEN 'emplois_negatif'
                WHEN (lat_text IS NULL) <> (lon_text IS NULL) THEN 'coordonnees_incompletes'
                WHEN lat_text IS NOT NULL AND (lat_in IS NULL OR lon_in IS NULL
                     OR lat_in NOT BETWEEN -90 AND 90 OR lon_in NOT BETWEEN -180 AND 180)
                  THEN 'coordonnees_invalides'
              END AS _code
            FROM p
        )
        SELECT r.*, why.reason AS _reason, why.col AS _column,
          COALESCE(name, '(sans nom)') || ' — '
            || CASE WHEN _code = 'commune_ambigue'
                    THEN '« ' || commune_text || ' » : ' || candidates
                    WHEN _code = 'code_commune_inconnu' THEN 'code « ' || code_raw || ' »'
                    WHEN _code IN ('commune_absente', 'commune_introuvable',
                                   'commune_introuvable_departement', 'departement_inconnu')
                      THEN '« ' || COALESCE(commune_text, '') || ' »'
                           || COALESCE(' (' || dep_text || ')', '')
                    WHEN _code = 'siret_invalide' THEN 'SIRET « ' || siret || ' »'
                    WHEN _code = 'famille_inconnue' THEN '« ' || family_text || ' »'
                    WHEN _code = 'secteur_inconnu' THEN '« ' || sector_text || ' »'
                    WHEN _code IN ('emplois_pas_un_nombre', 'emplois_negatif')
                      THEN '« ' || jobs_text || ' »'
                    WHEN _code = 'naf_invalide' THEN '« ' || naf_text || ' »'
                    WHEN _code = 'structure_inclusive_inconnue' THEN '« ' || kind_text || ' »'
                    WHEN _code = 'esus_invalide' THEN '« ' || esus_text || ' »'
                    WHEN _code = 'prestation_inconnue' THEN '« ' || services_text || ' »'
                    ELSE COALESCE(lat_text, '?') || ' ; ' || COALESCE(lon_text, '?') END
            AS _example
        FROM r LEFT JOIN {reasons} why ON why.code = r._code
        """  # noqa: S608
    )
    # The same actor twice in the list (same SIRET, or same name in the same commune).
    column, reason = SET_ASIDE["doublon"]
    con.execute(
        f"""
        UPDATE {checked} c SET _code = 'doublon', _reason = ?, _column = ?, _example = c.name
        FROM (SELECT _file, _row, row_number() OVER (PARTITION BY actor_id
                ORDER BY _file, _row) AS k FROM {checked} WHERE _code IS NULL) d
        WHERE d._file = c._file AND d._row = c._row AND d.k > 1
        """,  # noqa: S608
        [reason, column],
    )
    ctx.report.duplicates += int(
        ctx.scalar(f"SELECT count(*) FROM {checked} WHERE _code = 'doublon'")  # noqa: S608
    )
    # Column names as the file spells them.
    for f in ctx.staged_files("modele_acteurs"):
        for canonical, header in f.report.mapping.items():
            con.execute(
                f"UPDATE {checked} SET _column = ? WHERE _file = ? AND _column = ?",  # noqa: S608
                [header, f.index, canonical],
            )
    return checked


def _report_set_aside(ctx: ImportContext, checked: str) -> None:
    """Rows set aside, unknown commune codes, and a warning per ambiguous commune name."""
    ctx.collect_set_aside(checked)
    ctx.report.unresolved_communes = sorted(
        set(ctx.report.unresolved_communes)
        | {
            c
            for (c,) in ctx.sql(
                f"SELECT DISTINCT code_raw FROM {checked} "  # noqa: S608
                "WHERE code_raw IS NOT NULL AND code_commune IS NULL"
            )
        }
    )
    ambiguous = ctx.sql(
        f"SELECT commune_text, candidates, count(*) FROM {checked} "  # noqa: S608
        "WHERE _code = 'commune_ambigue' GROUP BY ALL ORDER BY 1"
    )
    if ambiguous:
        ctx.count("acteurs_communes_ambigues", sum(int(n) for _c, _k, n in ambiguous))
        for commune, candidates, n in ambiguous:
            ctx.warn(
                f"« {commune} » désigne plusieurs communes ({candidates}) : {n} acteur(s) "
                "non chargé(s). Ajoutez le département ou le code commune."
            )


def _actors(ctx: ImportContext, checked: str) -> str:
    """TEMP table of the ``actors`` rows of the list (the rows not set aside)."""
    target = ctx.temp_name("t_actors_modele")
    ctx.con.execute(
        f"""
        CREATE TEMP TABLE {target} AS
        SELECT actor_id, siret, left(siret, 9) AS siren, name,
               false AS partial_diffusion, NULL::VARCHAR AS address,
               commune_code,
               COALESCE(code_raw, commune_text) AS commune_code_raw,
               COALESCE(naf_code,
                        CASE WHEN regexp_full_match(COALESCE(sector_text, ''),
                                                    '[0-9]{{2}}\\.?[0-9]{{2}}[A-Za-z]')
                             THEN ess_naf(sector_text) END) AS naf,
               NULL::VARCHAR AS categorie_juridique,
               family_key IS DISTINCT FROM 'hors_ess' AS is_ess,
               CASE WHEN family_key = 'hors_ess' THEN NULL ELSE family_key END AS family,
               COALESCE(sector_key, naf_sector, 'non_classe') AS sector,
               NULL::VARCHAR AS effectif_band,
               jobs, false AS jobs_is_estimate,
               COALESCE(jobs > 0, false) AS employer,
               true AS active,
               NULL::DATE AS date_creation,
               CASE WHEN lat_in IS NOT NULL THEN lon_in ELSE centre_lon END AS lon,
               CASE WHEN lat_in IS NOT NULL THEN lat_in ELSE centre_lat END AS lat,
               CASE WHEN lat_in IS NOT NULL THEN 'saisie'
                    WHEN centre_lon IS NOT NULL THEN 'centre_commune' END AS coord_source,
               comment,
               'modele' AS source,
               inclusive_kind, esus, services, projects, expertise, needs, networks
        FROM {checked} WHERE _reason IS NULL
        """  # noqa: S608
    )
    return target


def _report_counts(ctx: ImportContext, checked: str, target: str) -> None:
    """The list's figures (placed by coordinates or commune centre, ESS or not, jobs) and the
    warnings that go with them."""
    stats = ctx.sql(
        f"""
        SELECT count(*), count(*) FILTER (WHERE coord_source = 'saisie'),
               count(*) FILTER (WHERE coord_source = 'centre_commune'),
               count(*) FILTER (WHERE NOT is_ess), count(*) FILTER (WHERE employer),
               COALESCE(sum(jobs), 0)
        FROM {target}
        """  # noqa: S608
    )[0]
    by_name = ctx.scalar(
        f"SELECT count(*) FROM {checked} WHERE _reason IS NULL AND code_raw IS NULL"  # noqa: S608
    )
    ctx.count("acteurs", int(stats[0]))
    ctx.count("acteurs_coordonnees_saisies", int(stats[1]))
    ctx.count("acteurs_centre_commune", int(stats[2]))
    ctx.count("acteurs_hors_ess", int(stats[3]))
    ctx.count("acteurs_employeurs", int(stats[4]))
    ctx.count("acteurs_emplois", float(stats[5]))
    ctx.count("acteurs_communes_par_nom", int(by_name or 0))
    if stats[2]:
        ctx.warn(
            f"{stats[2]} acteur(s) sans coordonnées : placés au centre de leur commune "
            "(« centre de la commune » sur la carte)."
        )
    replaced = ctx.scalar(
        f"SELECT count(*) FROM actors a JOIN {target} t ON t.actor_id = a.actor_id "  # noqa: S608
        "WHERE a.source <> 'modele'"
    )
    if replaced:
        ctx.warn(
            f"{replaced} acteur(s) de la liste ont le SIRET d'un établissement déjà chargé : "
            "la ligne de la liste le remplace (annuler l'import le rétablit)."
        )


register_group("modele_acteurs", prepare)
