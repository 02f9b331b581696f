"""The list of actors of a territory and the fiche of one actor, as the dashboard shows them.

Partial-diffusion entries (SIRENE ``statutDiffusion = 'P'``) never expose a person's name or
address: the SQL itself replaces them with "diffusion partielle", so no caller can leak them.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from . import nomenclatures
from .formatting import fmt_date, fmt_num

__all__ = ["PARTIAL", "COLUMNS", "list_actors", "actor_fiche", "filter_actors", "export_table"]

PARTIAL = "diffusion partielle"

#: Display columns of :func:`list_actors`, in order (French: they are the CSV/XLSX headers).
COLUMNS = [
    "identifiant",
    "nom",
    "commune",
    "code commune",
    "famille",
    "secteur",
    "emplois",
    "emplois estimés",
    "employeur",
    "actif",
    "ESS",
    "SIRET",
    "NAF",
    "source",
]

_SQL = """
SELECT a.actor_id AS identifiant,
       CASE WHEN a.partial_diffusion OR coalesce(u.partial_diffusion, false) THEN ?
            ELSE coalesce(a.name, u.denomination, '(sans nom)') END AS nom,
       c.name AS commune,
       a.commune_code AS "code commune",
       a.family, a.sector,
       a.jobs AS emplois,
       a.jobs_is_estimate AS "emplois estimés",
       a.employer AS employeur,
       a.active AS actif,
       a.is_ess AS "ESS",
       a.siret AS "SIRET",
       a.naf AS "NAF",
       a.source
FROM actors a
JOIN territory_communes tc ON tc.commune_code = a.commune_code
LEFT JOIN territories c ON c.level = 'commune' AND c.code = a.commune_code
LEFT JOIN unites_legales u ON u.siren = a.siren
WHERE tc.level = ? AND tc.code = ? AND (a.is_ess OR ?) AND (a.active OR ?)
ORDER BY a.jobs DESC NULLS LAST, nom, a.actor_id
"""


def list_actors(
    con: duckdb.DuckDBPyConnection,
    level: str,
    code: str,
    *,
    include_non_ess: bool = False,
    include_closed: bool = False,
) -> pd.DataFrame:
    """Actors located in (level, code), largest first, with French labels (:data:`COLUMNS`)."""
    frame = con.cursor().execute(_SQL, [PARTIAL, level, code, include_non_ess, include_closed]).df()
    frame["famille"] = frame.pop("family").map(nomenclatures.FAMILIES).fillna("—")
    frame["secteur"] = frame.pop("sector").map(nomenclatures.SECTOR_LABELS).fillna("—")
    return frame[COLUMNS]


def filter_actors(
    frame: pd.DataFrame,
    *,
    search: str = "",
    families: list[str] | None = None,
    sectors: list[str] | None = None,
    employers_only: bool = False,
) -> pd.DataFrame:
    """Rows of :func:`list_actors` matching a free-text search (name, commune, SIRET) and the
    family / sector labels chosen (None = all)."""
    mask = pd.Series(True, index=frame.index)
    text = search.strip().lower()
    if text:
        hay = (
            frame["nom"].fillna("")
            + " "
            + frame["commune"].fillna("")
            + " "
            + frame["SIRET"].fillna("")
        ).str.lower()
        mask &= hay.str.contains(text, regex=False)
    if families:
        mask &= frame["famille"].isin(families)
    if sectors:
        mask &= frame["secteur"].isin(sectors)
    if employers_only:
        mask &= frame["employeur"].fillna(False).astype(bool)
    return frame[mask].reset_index(drop=True)


def export_table(
    con: duckdb.DuckDBPyConnection,
    level: str,
    code: str,
    *,
    family: str | None = None,
    sector: str | None = None,
) -> pd.DataFrame:
    """The Acteurs page's download, for scripts: the territory's active ESS actors, largest
    first, with the same columns and privacy rules, optionally for one family / sector key.

    Raises ``ValueError`` (French message) for an unknown family or sector key.
    """
    families = _labels_of(family, nomenclatures.FAMILIES, "Famille inconnue")
    sectors = _labels_of(sector, nomenclatures.SECTOR_LABELS, "Secteur inconnu")
    return filter_actors(list_actors(con, level, code), families=families, sectors=sectors)


def _labels_of(key: str | None, table: dict[str, str], unknown: str) -> list[str] | None:
    """The French label of ``key`` in ``table`` as a one-item filter list (None = no filter)."""
    if key is None:
        return None
    if key not in table:
        raise ValueError(f"{unknown} : « {key} » (attendu : {', '.join(table)}).")
    return [table[key]]


def actor_fiche(con: duckdb.DuckDBPyConnection, actor_id: str) -> dict[str, str] | None:
    """One actor's fiche as ordered French label → text pairs (None when unknown)."""
    df = (
        con.cursor()
        .execute(
            """
            SELECT a.*, c.name AS commune_name, u.denomination,
                   coalesce(u.partial_diffusion, false) AS ul_partial,
                   u.categorie_juridique AS ul_cj
            FROM actors a
            LEFT JOIN territories c ON c.level = 'commune' AND c.code = a.commune_code
            LEFT JOIN unites_legales u ON u.siren = a.siren
            WHERE a.actor_id = ?
            """,
            [actor_id],
        )
        .df()
    )
    if df.empty:
        return None
    r = df.iloc[0].to_dict()
    partial = bool(r["partial_diffusion"]) or bool(r["ul_partial"])

    def text(value, default="—") -> str:
        if value is None or (isinstance(value, float) and value != value):
            return default
        try:
            if pd.isna(value):
                return default
        except (TypeError, ValueError):
            pass
        return str(value)

    jobs = r["jobs"]
    if jobs is None or jobs != jobs:
        jobs_text = "non renseigné"
    else:
        jobs_text = fmt_num(jobs, 1 if jobs % 1 else 0)
        if r["jobs_is_estimate"]:
            band = nomenclatures.EFFECTIF_BANDS.get(text(r["effectif_band"], ""), ("", 0))[0]
            jobs_text += " (estimation" + (f", tranche « {band} »" if band else "") + ")"
    fiche = {
        "Nom": PARTIAL if partial else text(r["name"] if r["name"] else r["denomination"]),
        "Adresse": PARTIAL if partial else text(r["address"]),
        "Commune": f"{text(r['commune_name'])} ({text(r['commune_code'])})",
        "Famille": nomenclatures.FAMILIES.get(r["family"], "—") if r["is_ess"] else "hors ESS",
        "Secteur": nomenclatures.SECTOR_LABELS.get(r["sector"], "—"),
        "Emplois": jobs_text,
        "Employeur": "oui" if r["employer"] else "non",
        "État": "actif" if r["active"] else "fermé",
        "SIRET": text(r["siret"]),
        "Code NAF": text(r["naf"]),
        "Catégorie juridique": text(r["categorie_juridique"] or r["ul_cj"]),
        "Date de création": fmt_date(r["date_creation"]) if text(r["date_creation"], "") else "—",
        "Source": text(r["source"]),
    }
    if r.get("comment") and not partial:
        fiche["Commentaire"] = text(r["comment"])
    return fiche
