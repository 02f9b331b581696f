"""Import page pieces for statistics, the density grid and actor lists (issue 5).

* :func:`template_downloads` — the actor template (XLSX and CSV) to fill in;
* :func:`formats_help` — which files the import page reads, and what each must contain;
* :func:`progress_callback` — an import's progress on a ``st.progress`` bar, also from the
  thread that follows a long DuckDB statement (rows read, rate, time left);
* :func:`column_mapping` — for a file no format recognises: the user picks the format and,
  for each column the format needs, the file's column; the choice is stored in the database
  (``ess_diag.ingest.mapping``) and applied to the next file with the same headers.

Pages only call these functions; the logic is in ``ess_diag.ingest``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from ess_diag import ingest
from ess_diag.formatting import escape_markdown
from ess_diag.ingest import actors_template, mapping

from . import get_con

__all__ = [
    "COLUMN_LABELS",
    "COUNT_LABELS",
    "STATS_FORMATS",
    "template_downloads",
    "formats_help",
    "column_mapping",
    "progress_callback",
]


def progress_callback(bar) -> Callable[[float, str], None]:
    """``progress(fraction, message)`` for :func:`ess_diag.ingest.run_import` drawing on
    ``bar`` (``st.progress``). The import reports from its own thread during long statements
    (:class:`ess_diag.ingest.run._Ticker`): that thread is given the page's script context,
    else Streamlit would drop its updates."""
    ctx = get_script_run_ctx()
    lock = threading.Lock()

    def progress(fraction: float, message: str) -> None:
        if ctx is not None and get_script_run_ctx(suppress_warning=True) is None:
            add_script_run_ctx(threading.current_thread(), ctx)
        with lock:
            bar.progress(min(max(fraction, 0.0), 1.0), text=message)

    return progress


#: French names of the columns a format expects (the others are shown as they are).
COLUMN_LABELS: dict[str, str] = {
    "CODGEO": "Code commune (CODGEO)",
    "DENS": "Niveau de densité, 1 à 7 (DENS)",
    "LIBGEO": "Nom de la commune",
    "LIBDENS": "Libellé du niveau de densité",
    "population": "Population municipale",
    "code_commune": "Code commune",
    "commune": "Commune (nom)",
    "ape": "Code APE / NAF",
    "annee": "Année",
    "indicateur": "Indicateur (établissements, effectifs…)",
    "valeur": "Valeur",
    "niveau": "Niveau de territoire (commune, EPCI, département, région)",
    "code_territoire": "Code du territoire",
    "territoire": "Nom du territoire",
    "code_epci": "Code EPCI (SIREN)",
    "code_departement": "Code département",
    "code_region": "Code région",
    "famille": "Famille ESS",
    "secteur": "Secteur d'activité",
    "famille_ess": "Famille ESS",
    "champ_ess": "Champ ESS",
    "secteur_na88": "Secteur NA88",
    "departement": "Département",
    "region": "Région",
    "etablissements": "Établissements",
    "effectifs": "Effectifs salariés",
    "masse_salariale": "Masse salariale",
    "effectifs_femmes": "Effectifs femmes",
    "nom": "Nom de la structure",
    "siret": "SIRET",
    "emplois": "Emplois",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "commentaire": "Commentaire",
}

#: French labels of the report counts of these importers (the import page shows them).
COUNT_LABELS: dict[str, str] = {
    "grille_lignes_rattachees": "Lignes de la grille rattachées à une commune",
    "grille_codes_fusionnes_resolus": "Codes de communes fusionnées depuis, rattachés à leur "
    "commune nouvelle",
    "grille_communes": "Communes classées par la grille",
    "grille_codes_non_resolus": "Codes de la grille sans commune correspondante",
    "grille_pourcentage_population_rurale": "Population en commune rurale, niveaux 5 à 7 (%, "
    "population du fichier)",
    "emploi_prive_lignes_ecrites": "Lignes d'emploi privé écrites (commune × année × APE)",
    "emploi_prive_communes": "Communes couvertes",
    "emploi_prive_annees": "Années",
    "emploi_prive_effectifs_derniere_annee": "Effectifs salariés privés, dernière année",
    "statistiques_lignes_ecrites": "Chiffres ESS écrits (avec les totaux déduits)",
    "statistiques_territoires": "Territoires couverts",
    "statistiques_annees": "Années",
    "statistiques_niveaux": "Niveaux de territoire",
    "acteurs": "Acteurs chargés",
    "acteurs_coordonnees_saisies": "Acteurs placés par leurs coordonnées",
    "acteurs_centre_commune": "Acteurs placés au centre de leur commune",
    "acteurs_hors_ess": "Acteurs hors ESS",
    "acteurs_employeurs": "Acteurs employeurs",
    "acteurs_emplois": "Emplois déclarés",
    "acteurs_communes_par_nom": "Communes trouvées par leur nom",
    "acteurs_communes_ambigues": "Acteurs dont la commune est ambiguë (non chargés)",
    "structures_rapprochees_siret": "Structures rapprochées d'un acteur par leur SIRET",
    "structures_rapprochees_siren": "Structures rapprochées d'un acteur par leur SIREN",
    "structures_ajoutees": "Structures ajoutées comme acteurs",
    "acteurs_mis_a_jour": "Acteurs écrits (mis à jour ou ajoutés)",
    "finess_autres_categories": "Établissements FINESS d'autres catégories que l'ESAT (non "
    "chargés)",
    "finess_lignes_geolocalisation": "Lignes de géolocalisation FINESS",
}

#: The formats of issue 5, in the order the help lists them, with what each must contain.
STATS_FORMATS: tuple[tuple[str, str], ...] = (
    (
        "grille_densite",
        "Le fichier Excel publié par l'INSEE tel quel (les lignes de titre sont ignorées) ou "
        "sa version CSV : colonnes CODGEO et DENS (et PMUNxx). Remplace la grille précédente ; "
        "les codes de communes fusionnées depuis sont rattachés à leur commune nouvelle.",
    ),
    (
        "urssaf_commune_ape",
        "Export URSSAF « établissements et effectifs salariés du secteur privé par commune × "
        "APE » : une ligne par commune et code APE, une colonne par année (« Nombre "
        "d'établissements 2023 », « Effectifs salariés 2023 »). Sert de dénominateur à toutes "
        "les parts de l'emploi privé.",
    ),
    (
        "urssaf_ess",
        "Jeux URSSAF de l'ESS : Année, Famille ESS et/ou Secteur NA88, Code département ou "
        "Code région (sinon France entière), établissements, effectifs, masse salariale.",
    ),
    (
        "observatoire_long",
        "Tableau d'observatoire, une valeur par ligne : Niveau, Code territoire, Année, "
        "Famille, Secteur, Indicateur, Valeur.",
    ),
    (
        "observatoire_mesures",
        "Tableau d'observatoire, une colonne par mesure : territoire, Année, Établissements, "
        "Effectifs salariés, Masse salariale, Effectifs femmes.",
    ),
    (
        "observatoire_annees",
        "Tableau d'observatoire, une colonne par année : territoire, Indicateur, 2019, 2020, …",
    ),
    (
        "modele_acteurs",
        "Liste d'acteurs faite à la main, sur le modèle téléchargeable ci-dessous : Nom, "
        "Code commune ou Commune (+ Département), SIRET, Famille, Secteur, Emplois, "
        "Latitude, Longitude, Commentaire ; et, pour le sourcing et la coopération : Code NAF, "
        "Structure inclusive, Agrément ESUS, Prestations, Projets, Expertises, Besoins, Réseaux.",
    ),
    (
        "liste_siae",
        "Export des structures inclusives du Marché de l'inclusion ou des emplois de "
        "l'inclusion : siret et type (kind) de la structure (EI, AI, ACI, ETTI, EITI, GEIQ, "
        "EA, EATT, ESAT), nom, ville, département, code postal.",
    ),
    (
        "liste_ea",
        "Liste des entreprises adaptées (ministère du Travail) : SIRET, raison sociale, type "
        "(EA ou EATT), code postal, commune, département.",
    ),
    (
        "finess_etalab",
        "Extraction FINESS publiée sur data.gouv.fr (etalab-cs1100507-stock-….csv), telle "
        "quelle : seuls les ESAT (catégorie 246) sont retenus.",
    ),
    (
        "liste_esus",
        "Liste des entreprises agréées ESUS (DG Trésor, DREETS) : SIREN, raison sociale, date "
        "d'agrément (et de fin de validité), code postal, ville, département.",
    ),
)

_NONE = "— aucune —"
_YEAR_COLUMN = re.compile(r".*\d{4}$")


def template_downloads(key: str = "modele_acteurs") -> None:
    """Download buttons for the actor template (XLSX with a « Notice » sheet, and CSV)."""
    st.markdown(
        "**Modèle de liste d'acteurs** — à remplir dans un tableur puis à importer ici. "
        "Sans coordonnées, un acteur est placé au centre de sa commune."
    )
    left, right = st.columns(2)
    left.download_button(
        "Télécharger le modèle (Excel)",
        data=actors_template.template_xlsx(),
        file_name="ess_diag_modele_acteurs.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{key}_xlsx",
    )
    right.download_button(
        "Télécharger le modèle (CSV)",
        data=actors_template.template_csv(),
        file_name="ess_diag_modele_acteurs.csv",
        mime="text/csv",
        key=f"{key}_csv",
    )


def formats_help(expanded: bool = False) -> None:
    """What the import page reads besides SIRENE (statistics, density grid, actor lists)."""
    known = ingest.formats()
    with st.expander(
        "Statistiques, grille de densité et listes d'acteurs : fichiers acceptés", expanded=expanded
    ):
        for kind, text in STATS_FORMATS:
            if kind in known:
                st.markdown(f"- **{known[kind].label}** — {text}")
        st.caption(
            "CSV en UTF-8 ou Windows-1252, séparateur « ; » ou « , », virgule décimale et "
            "espaces entre milliers acceptés ; classeurs .xlsx. Les chiffres sous secret "
            "statistique (« s », « nd »…) sont signalés, jamais comptés comme zéro. Un fichier "
            "refusé ne modifie rien."
        )


def _visible_columns(kind: str) -> list[str]:
    """Columns worth asking about: required ones and optional ones not named after a year
    (year columns are recognised by their headers)."""
    spec = ingest.formats()[kind]
    return list(spec.required) + [
        c for c in spec.optional if not _YEAR_COLUMN.match(c) and c not in spec.required
    ]


def _best_kind(headers: list[str]) -> str:
    """The format whose columns the headers resemble most (for the default choice)."""
    best, best_score = None, -1
    for kind, spec in ingest.formats().items():
        exact, _missing = spec.match(headers)
        suggestion = mapping.suggest(kind, headers)
        score = (
            100 * len(exact)
            + 10 * sum(1 for c in spec.required if suggestion.get(c))
            + sum(1 for v in suggestion.values() if v)
        )
        if score > best_score:
            best, best_score = kind, score
    return best or next(iter(ingest.formats()))


def column_mapping(
    path: str, name: str, *, key: str, error: str | None = None
) -> tuple[str, dict[str, str]] | None:
    """Let the user say which column is which for a file no format recognises.

    Returns ``(kind, {canonical: header})`` once the user has confirmed a valid choice (it is
    then remembered for files with the same headers), else None. Pass the result to
    ``run_import(..., column_maps={name: result})``.
    """
    done = st.session_state.get(f"{key}_done")
    if done:
        st.success(
            f"« {escape_markdown(name)} » : correspondance de colonnes enregistrée "
            f"(format « {ingest.formats()[done[0]].label} »)."
        )
        return done
    try:
        headers = mapping.read_headers(path, name)
    except Exception as exc:  # noqa: BLE001 — any unreadable file: say so, offer nothing
        st.error(escape_markdown(str(exc)))
        return None
    remembered = mapping.recall(get_con().cursor(), headers)
    if remembered and not st.session_state.get(f"{key}_change"):
        kind_r, map_r = remembered
        st.info(
            f"« {escape_markdown(name)} » : correspondance de colonnes mémorisée pour ces en-têtes, "
            "appliquée "
            f"(format « {ingest.formats()[kind_r].label} »)."
        )
        try:
            _info, frame = ingest.preview(path, name=name, kind=kind_r, column_map=map_r)
            st.dataframe(frame.dropna(axis=1, how="all").fillna(""), hide_index=True)
        except Exception as exc:  # noqa: BLE001 — shown, the user may choose again
            st.warning(escape_markdown(str(exc)))
        if st.button("Choisir une autre correspondance", key=f"{key}_change_btn"):
            st.session_state[f"{key}_change"] = True
            st.rerun()
        return remembered
    if error:
        st.warning(escape_markdown(error))
    st.markdown(
        f"**« {escape_markdown(name)} »** : les colonnes ne correspondent à aucun format connu. Indiquez ce que "
        "contient chaque colonne ; ce choix sera retenu pour les prochains fichiers ayant les "
        "mêmes colonnes."
    )
    formats = ingest.formats()
    kinds = list(formats)
    default = _best_kind(headers)
    kind = st.selectbox(
        "Format du fichier",
        kinds,
        index=kinds.index(default),
        format_func=lambda k: formats[k].label,
        key=f"{key}_kind",
    )
    suggestion = mapping.suggest(kind, headers)
    options = [_NONE] + [h for h in headers if h]
    spec = formats[kind]
    chosen: dict[str, str | None] = {}
    with st.form(f"{key}_form"):
        for canonical in _visible_columns(kind):
            label = COLUMN_LABELS.get(canonical, canonical)
            if canonical in spec.required:
                label += " (obligatoire)"
            current = suggestion.get(canonical)
            value = st.selectbox(
                label,
                options,
                index=options.index(current) if current in options else 0,
                key=f"{key}_{kind}_{canonical}",
            )
            chosen[canonical] = None if value == _NONE else value
        submitted = st.form_submit_button("Utiliser cette correspondance")
    if not submitted:
        return None
    # Year columns the format recognises by itself are kept as they are.
    chosen.update({c: h for c, h in suggestion.items() if h and _YEAR_COLUMN.match(c)})
    try:
        mapping.remember(get_con().cursor(), kind, headers, chosen)
        clean = mapping.validate(kind, headers, chosen)
    except ValueError as exc:
        st.error(escape_markdown(str(exc)))
        return None
    st.session_state[f"{key}_done"] = (kind, clean)
    st.success(
        f"Correspondance enregistrée pour « {escape_markdown(name)} » (format « {spec.label} »)."
    )
    return kind, clean
