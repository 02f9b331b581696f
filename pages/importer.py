"""Importer des données: upload or import-folder files → preview → check → confirm; history +
undo.

The logic is in ``ess_diag.ingest`` (the same as ``ess-diag import``); this page only composes
widgets. Protected by the administrator password when one is configured, and always in network
mode (``ess_diag_ui.auth``). An upload is stored under the digest of its bytes; a local file is
read only from the import folder (``ESS_DIAG_IMPORT_DIR``), never from a typed path.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

import ess_diag_ui
from ess_diag import config, ingest, nomenclatures, security
from ess_diag.formatting import escape_markdown, fmt_int, fmt_num
from ess_diag_ui import import_widgets
from ess_diag_ui.auth import require_admin

ess_diag_ui.page_setup()
st.title("Importer des données")

# --- access ----------------------------------------------------------------------------------
require_admin(
    "L'import de données est réservé : saisissez le mot de passe administrateur.",
    "import_admin_ok",
)

st.markdown(
    "Chargez des extraits **SIRENE** (fichiers *StockEtablissement*, y compris les fichiers "
    "géolocalisés, et *StockUniteLegale* : zip tel que publié par l'INSEE, CSV, CSV.gz ou "
    "Parquet), la "
    "**liste des entreprises de l'ESS** d'ESS France, des statistiques URSSAF ou d'observatoire, "
    "la grille de densité INSEE ou votre propre liste d'acteurs. Plusieurs fichiers forment un "
    "seul import : tout est enregistré, ou rien, et l'import peut être annulé."
)
import_widgets.formats_help()
import_widgets.template_downloads()

COUNT_LABELS = {
    "unites_legales": "Unités légales",
    "unites_legales_ess_flag_o": "Unités légales déclarées ESS (O)",
    "unites_legales_ess_france": "Unités légales listées par ESS France",
    "unites_legales_diffusion_partielle": "Unités légales en diffusion partielle",
    "etablissements": "Établissements",
    "etablissements_actifs": "Établissements actifs",
    "etablissements_fermes": "Établissements fermés (gardés en historique)",
    "diffusion_partielle": "Établissements en diffusion partielle",
    "coordonnees_lambert93": "Coordonnées Lambert 93 converties",
    "coordonnees_wgs84": "Coordonnées GPS (WGS84)",
    "coordonnees_centre_commune": "Placés au centre de leur commune",
    "sans_coordonnees": "Sans coordonnées",
    "etablissements_ess": "Établissements de l'ESS",
    "etablissements_ess_actifs": "Établissements de l'ESS actifs",
    "etablissements_ess_employeurs": "Établissements employeurs de l'ESS",
    "emplois_ess_estimes": "Emplois ESS estimés (milieu de tranche, estimation)",
    "sans_unite_legale": "Établissements sans unité légale connue",
    "tranches_inconnues": "Tranches d'effectif inconnues",
    "communes_recodees": "Codes commune rattachés (arrondissements, communes déléguées)",
    "acteurs_reclasses": "Acteurs déjà en base reclassés",
    "unites_legales_par_famille": "Unités légales par famille",
    "etablissements_ess_actifs_par_famille": "Établissements ESS actifs par famille",
    **import_widgets.COUNT_LABELS,
}
FAMILY_LABELS = {**nomenclatures.FAMILIES, "hors_ess": "Hors ESS"}


def _value(value) -> str:
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int):
        return fmt_int(value)
    if isinstance(value, float):
        return fmt_num(value, 1)
    if isinstance(value, dict):
        return ", ".join(f"{FAMILY_LABELS.get(k, k)} : {_value(v)}" for k, v in value.items())
    return str(value)


def show_report(report: ingest.ImportReport) -> None:
    """The validation report, in French."""
    if report.status == "committed":
        st.success(f"Import enregistré (identifiant {report.import_id}).")
    elif report.status == "dry-run":
        st.info("Vérification terminée : rien n'a encore été écrit dans la base.")
    else:
        st.error("Import refusé : la base n'a pas été modifiée.")
    for error in report.errors:
        st.error(escape_markdown(error))
    if report.files:
        st.markdown("**Fichiers détectés**")
        st.markdown("\n".join(f"- {escape_markdown(f.describe())}" for f in report.files))
    if report.rows_read or report.status != "rejected":
        a, b, c = st.columns(3)
        a.metric("Lignes lues", fmt_int(report.rows_read))
        b.metric("Lignes chargées", fmt_int(report.rows_loaded))
        c.metric("Lignes mises de côté", fmt_int(report.rows_set_aside))
    if report.set_aside:
        st.markdown("**Lignes mises de côté**")
        st.dataframe(
            pd.DataFrame(
                {
                    "Motif": [s.reason for s in report.set_aside],
                    "Fichier": [s.file or "" for s in report.set_aside],
                    "Colonne": [s.column or "" for s in report.set_aside],
                    "Nombre": [fmt_int(s.count) for s in report.set_aside],
                    "Lignes": [
                        ", ".join(str(r) for r in s.rows) + ("…" if s.count > len(s.rows) else "")
                        for s in report.set_aside
                    ],
                    "Exemple": [s.example or "" for s in report.set_aside],
                }
            ),
            hide_index=True,
            use_container_width=True,
        )
    if report.unresolved_communes:
        st.warning(
            "Codes commune non reconnus (lignes mises de côté) : "
            + escape_markdown(", ".join(report.unresolved_communes))
        )
    for warning in report.warnings:
        st.warning(escape_markdown(warning))
    if report.counts:
        with st.expander("Ce qui a été détecté", expanded=report.status != "rejected"):
            rows = [
                (COUNT_LABELS.get(k, k.replace("_", " ")), _value(v))
                for k, v in report.counts.items()
            ]
            st.dataframe(
                pd.DataFrame(rows, columns=["Élément", "Valeur"]),
                hide_index=True,
                use_container_width=True,
            )


# --- files -----------------------------------------------------------------------------------
st.subheader("1. Fichiers")
uploads = st.file_uploader(
    "Déposez un ou plusieurs fichiers",
    type=["csv", "gz", "txt", "parquet", "xlsx", "zip"],
    accept_multiple_files=True,
    key="import_uploads",
)
import_folder = config.import_dir()
local_names = security.import_files(import_folder)
with st.expander("Fichiers volumineux déposés dans le dossier d'import de cet ordinateur"):
    st.caption(
        "Un fichier SIRENE national dépasse la taille d'un dépôt par le navigateur : copiez-le "
        f"dans le dossier d'import ({import_folder}, réglage ESS_DIAG_IMPORT_DIR), tel que "
        "l'INSEE le publie (StockUniteLegale_utf8.zip et StockEtablissement_utf8.zip, sans les "
        "décompresser), puis choisissez-le ici. Il est lu sur place ; seuls les acteurs de "
        "l'ESS sont gardés (compter quelques minutes pour la France entière). Aucun autre "
        "dossier n'est lu."
    )
    chosen_local = st.multiselect(
        "Fichiers du dossier d'import",
        local_names,
        key="import_local",
        placeholder="Aucun fichier choisi" if local_names else "Le dossier d'import est vide",
    )

if "import_dir" not in st.session_state:
    st.session_state["import_dir"] = tempfile.mkdtemp(prefix="essdiag-upload-")
upload_dir = Path(st.session_state["import_dir"])

files: list[tuple[str, str]] = []  # (path, name shown)
uploaded: list[str] = []  # names of the files sent through the browser: bounded (ingest.limits)
for upload in uploads or []:
    # Stored as <sha256>.<extension>: the name the browser sent is only ever displayed.
    target = security.store_upload(upload_dir, upload.getvalue(), upload.name)
    files.append((str(target), security.display_name(upload.name)))
    uploaded.append(files[-1][1])
for name in chosen_local or []:
    try:
        files.append((str(security.resolve_import_path(import_folder, name)), Path(name).name))
    except security.PathRefused as exc:
        st.error(escape_markdown(str(exc)))

limits = ingest.UploadLimits.from_environment()
column_maps: dict[str, tuple[str, dict[str, str]]] = {}
readable: list[
    tuple[str, str]
] = []  # the files whose preview worked (or whose columns were chosen)
if files:
    st.subheader("2. Aperçu")
    for i, (path, name) in enumerate(files):
        try:
            info, frame = ingest.preview(
                path, name=name, limits=limits if name in uploaded else None
            )
        except ingest.FileRejected as exc:
            st.error(escape_markdown(str(exc)))
            if Path(path).exists() and exc.code.columns:
                chosen = import_widgets.column_mapping(
                    path, name, key=f"map_{i}_{hashlib.md5(name.encode()).hexdigest()[:6]}"
                )
                if chosen:
                    column_maps[name] = chosen
                    readable.append((path, name))
            continue
        readable.append((path, name))
        st.markdown(f"**{escape_markdown(info.describe())}**")
        recognised = ", ".join(f"{c} ← {h}" if c != h else c for c, h in info.mapping.items())
        st.caption(escape_markdown(f"Colonnes reconnues : {recognised}"))
        st.dataframe(frame.fillna(""), hide_index=True, use_container_width=True)

if readable:
    # A file refused at the preview is said once, above: it is not imported (nor refused again).
    st.subheader("3. Vérifier puis importer")
    if len(readable) < len(files):
        st.caption("Les fichiers refusés ci-dessus sont laissés de côté.")
    paths = [p for p, _ in readable]
    names = [n for _, n in readable]
    check, confirm = st.columns(2)
    if check.button("Vérifier (sans rien écrire)", key="import_check"):
        con = ess_diag_ui.get_con().cursor()
        with st.spinner("Vérification…"):
            st.session_state["import_report"] = ingest.run_import(
                con,
                paths,
                names=names,
                dry_run=True,
                column_maps=column_maps or None,
                limits=limits,
                limited=uploaded,
            )
    if confirm.button("Confirmer l'import", type="primary", key="import_confirm"):
        con = ess_diag_ui.get_con().cursor()
        bar = st.progress(0.0, text="Import en cours…")
        st.session_state["import_report"] = ingest.run_import(
            con,
            paths,
            names=names,
            column_maps=column_maps or None,
            progress=import_widgets.progress_callback(bar),
            limits=limits,
            limited=uploaded,
        )
        bar.empty()
    report = st.session_state.get("import_report")
    if report is not None:
        show_report(report)
elif not files:
    st.caption("Aucun fichier choisi pour l'instant.")

# --- history ---------------------------------------------------------------------------------
st.subheader("Historique des imports")
history = ingest.list_imports(ess_diag_ui.get_con().cursor())
if history.empty:
    st.caption("Aucun import pour l'instant.")
else:
    table = pd.DataFrame(
        {
            "Identifiant": history["import_id"],
            "Date": [f"{d:%d/%m/%Y %H:%M}" for d in history["created_at"]],
            "Fichiers": [
                ", ".join(f["name"] for f in json.loads(v or "[]")) for v in history["files"]
            ],
            "Lignes chargées": [fmt_int(v) for v in history["rows_loaded"]],
            "Mises de côté": [fmt_int(v) for v in history["rows_set_aside"]],
            "État": ["annulé" if s == "undone" else "en place" for s in history["status"]],
            "Par": history["created_by"].fillna(""),
        }
    )
    st.dataframe(table, hide_index=True, use_container_width=True)
    committed = history[history["status"] == "committed"]["import_id"].tolist()
    if committed:
        with st.form("import_undo"):
            st.markdown("**Annuler un import** — la base revient exactement à l'état d'avant.")
            target = st.selectbox("Import à annuler", committed, key="undo_target")
            sure = st.checkbox("Je confirme l'annulation de cet import", key="undo_sure")
            if st.form_submit_button("Annuler l'import"):
                if not sure:
                    st.warning("Cochez la case de confirmation pour annuler l'import.")
                else:
                    try:
                        ingest.undo_import(ess_diag_ui.get_con().cursor(), target)
                    except ingest.UndoError as exc:
                        st.error(escape_markdown(str(exc)))
                    else:
                        st.session_state["undo_done"] = target
                        st.session_state.pop("import_report", None)
                        st.rerun()
if st.session_state.get("undo_done"):
    st.success(f"Import {st.session_state['undo_done']} annulé.")
