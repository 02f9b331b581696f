"""National reference figures quoted beside a territory's own (one place: pages, docs and
reports import them from here).

The rural figures come from one study, whose definition of « rural » is **not** the one ESS Diag
applies to a territory (INSEE density grid levels 5–7, or their estimate): wherever they are set
side by side, :data:`RURAL_STUDY` ``definition`` is said with them.
"""

from __future__ import annotations

__all__ = [
    "RURAL_STUDY",
    "RURAL_ESS_SHARE",
    "RURAL_SECTOR_SHARES",
    "RURAL_CHANGE",
    "rural_study_citation",
]

#: Avise & RTES, *L'économie sociale et solidaire dans les territoires ruraux* (project
#: TRESSONS), written by the Observatoire national de l'ESS (CNCRESS), published June 2019, from
#: INSEE data (CLAP: local employment and establishments). Employment change 2008–2015; the
#: snapshot figures describe 2015, the study's last year.
RURAL_STUDY: dict[str, str] = {
    "title": "L'économie sociale et solidaire dans les territoires ruraux",
    "authors": (
        "Avise et RTES, étude rédigée par l'Observatoire national de l'ESS (CNCRESS), juin 2019"
    ),
    "data": "données INSEE (CLAP), emploi 2015 et évolution 2008-2015",
    "definition": (
        "l'étude appelle rurales les communes peu ou très peu denses dont la majorité des actifs "
        "ne travaillent pas dans une ville (3 des 9 groupes de la typologie du CGET, "
        "15 960 communes) ; ESS Diag classe rurales les communes des niveaux 5 à 7 de la grille "
        "communale de densité de l'INSEE : les deux périmètres diffèrent, la comparaison donne "
        "un ordre de grandeur"
    ),
}

#: ESS share of private jobs in rural areas (study above).
RURAL_ESS_SHARE = 0.177

#: ESS share of the sector's private jobs in rural areas (study above). Keys: the sector keys of
#: :func:`ess_diag.indicators.rural_sectors` (``action_sociale`` = both action sociale sectors).
RURAL_SECTOR_SHARES: dict[str, float] = {
    "action_sociale": 0.562,
    "sport_loisirs": 0.504,
    "finance_assurance": 0.481,
    "commerce": 0.056,
}

#: Change in jobs in rural areas, 2008–2015 (study above), each with its French label. Only
#: ``private_non_ess`` compares like with like with ESS Diag's « emplois privés hors ESS »;
#: ``non_ess_all`` includes public employment (which fell by 8,4 %).
RURAL_CHANGE: dict[str, tuple[float, str]] = {
    "ess": (0.049, "emplois de l'ESS"),
    "private_non_ess": (-0.026, "emplois privés hors ESS"),
    "non_ess_all": (-0.041, "toute l'économie hors ESS, emploi public compris"),
    "public": (-0.084, "emploi public"),
}


def rural_study_citation() -> str:
    """« Avise et RTES, *L'économie sociale…* (…, juin 2019 ; données INSEE (CLAP)…) »."""
    s = RURAL_STUDY
    return f"{s['authors']}, « {s['title']} » ({s['data']})"
