"""The list of actors of a territory and the fiche of one actor, as the dashboard shows them.

Partial-diffusion entries (SIRENE ``statutDiffusion = 'P'``) never expose a person's name or
address: the SQL itself replaces them with "diffusion partielle", so no caller can leak them.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from . import nomenclatures
from .formatting import fmt_date, fmt_num, is_missing

__all__ = [
    "PARTIAL",
    "COLUMNS",
    "LIST_SEPARATOR",
    "list_actors",
    "actor_fiche",
    "filter_actors",
    "networks_present",
    "export_table",
    "segment_label",
    "inclusive_label",
]

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
    # Sourcing and cooperation (issue 15), after the historical columns so that scripts
    # reading the first ones by position keep working.
    "structure inclusive",
    "ESUS",
    "prestations",
    "projets",
    "expertises",
    "besoins",
    "réseaux",
]

#: How a list (services, networks) is written in one cell of the table and of the exports.
LIST_SEPARATOR = " | "

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
       a.source,
       a.inclusive_kind AS "structure inclusive",
       a.esus AS "ESUS",
       nullif(array_to_string(a.services, ?), '') AS prestations,
       -- Free texts follow the comment's rule: a partial-diffusion entry may be a person.
       CASE WHEN a.partial_diffusion OR coalesce(u.partial_diffusion, false) THEN NULL
            ELSE nullif(trim(a.projects), '') END AS projets,
       CASE WHEN a.partial_diffusion OR coalesce(u.partial_diffusion, false) THEN NULL
            ELSE nullif(trim(a.expertise), '') END AS expertises,
       CASE WHEN a.partial_diffusion OR coalesce(u.partial_diffusion, false) THEN NULL
            ELSE nullif(trim(a.needs), '') END AS besoins,
       -- Network names with runs of blanks collapsed, as ess_diag.cooperation compares them.
       nullif(array_to_string(list_filter(
           list_transform(a.networks, lambda n: trim(regexp_replace(n, '\\s+', ' ', 'g'))),
           lambda n: n <> ''), ?), '') AS "réseaux"
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
    params = [PARTIAL, LIST_SEPARATOR, LIST_SEPARATOR, level, code, include_non_ess, include_closed]
    frame = con.cursor().execute(_SQL, params).df()
    frame["famille"] = frame.pop("family").map(nomenclatures.FAMILIES).fillna("—")
    frame["secteur"] = frame.pop("sector").map(nomenclatures.SECTOR_LABELS).fillna("—")
    # Segment keys → labels, only on the few rows that declare services (lists of a large
    # territory run to a million rows).
    offered = frame["prestations"].notna()
    frame.loc[offered, "prestations"] = [
        LIST_SEPARATOR.join(segment_label(k) for k in keys.split(LIST_SEPARATOR))
        for keys in frame.loc[offered, "prestations"]
    ]
    return frame[COLUMNS]


def _items(value) -> list[str]:
    """A VARCHAR[] cell as a list (NULL → empty)."""
    return [] if value is None or is_missing(value) else [str(v) for v in value]


def _network_keys(cell) -> set[str]:
    """The networks of a ``réseaux`` cell, compared without case."""
    return {n.strip().lower() for n in str(cell or "").split(LIST_SEPARATOR) if n.strip()}


def networks_present(frame: pd.DataFrame) -> list[str]:
    """The networks named in a :func:`list_actors` frame, one spelling each, sorted by name."""
    spellings: dict[str, str] = {}
    for cell in frame["réseaux"].dropna():
        for name in str(cell).split(LIST_SEPARATOR):
            name = name.strip()
            if name:
                key = name.lower()
                spellings[key] = min(spellings.get(key, name), name)
    return sorted(spellings.values(), key=lambda n: (n.lower(), n))


def segment_label(key: str) -> str:
    """A purchase segment key → its French label (the key itself when unknown)."""
    return nomenclatures.PURCHASE_SEGMENT_LABELS.get(key, key)


def inclusive_label(kind: str | None) -> str:
    """An inclusive structure kind (EI, ESAT…) with its French label when known."""
    if not kind:
        return "—"
    label = nomenclatures.INCLUSIVE_KINDS.get(kind)
    return f"{kind} ({label})" if label else str(kind)


def filter_actors(
    frame: pd.DataFrame,
    *,
    search: str = "",
    families: list[str] | None = None,
    sectors: list[str] | None = None,
    employers_only: bool = False,
    networks: list[str] | None = None,
    seeking_partners: bool = False,
) -> pd.DataFrame:
    """Rows of :func:`list_actors` matching a free-text search (name, commune, SIRET) and the
    family / sector labels chosen (None = all), members of any of ``networks`` (names compared
    without case), and, with ``seeking_partners``, only actors that declared needs."""
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
    if networks:
        wanted = {n.strip().lower() for n in networks}
        mask &= frame["réseaux"].map(lambda cell: bool(_network_keys(cell) & wanted))
    if seeking_partners:
        mask &= frame["besoins"].notna()
    return frame[mask].reset_index(drop=True)


def export_table(
    con: duckdb.DuckDBPyConnection,
    level: str,
    code: str,
    *,
    family: str | None = None,
    sector: str | None = None,
    network: str | None = None,
    seeking_partners: bool = False,
) -> pd.DataFrame:
    """The Acteurs page's download, for scripts: the territory's active ESS actors, largest
    first, with the same columns and privacy rules, optionally for one family / sector key,
    one network (name, case ignored) and only the actors that declared needs.

    Raises ``ValueError`` (French message) for an unknown family or sector key.
    """
    families = _labels_of(family, nomenclatures.FAMILIES, "Famille inconnue")
    sectors = _labels_of(sector, nomenclatures.SECTOR_LABELS, "Secteur inconnu")
    return filter_actors(
        list_actors(con, level, code),
        families=families,
        sectors=sectors,
        networks=[network] if network else None,
        seeking_partners=seeking_partners,
    )


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
    # Sourcing and cooperation (issue 15): shown when known. The free texts follow the
    # comment's rule (a partial-diffusion entry may be a person).
    if r["inclusive_kind"]:
        fiche["Structure inclusive"] = inclusive_label(r["inclusive_kind"])
    if not is_missing(r["esus"]):
        fiche["Agrément ESUS"] = "oui" if r["esus"] else "non"
    services = _items(r["services"])
    if services:
        fiche["Prestations"] = ", ".join(segment_label(k) for k in services)
    if not partial:
        for column, label in (
            ("projects", "Projets"),
            ("expertise", "Expertises"),
            ("needs", "Besoins (cherche des partenaires)"),
        ):
            if text(r[column], "").strip():
                fiche[label] = text(r[column]).strip()
    networks = [n for n in _items(r["networks"]) if n.strip()]
    if networks:
        fiche["Réseaux"] = ", ".join(" ".join(n.split()) for n in networks)
    return fiche
