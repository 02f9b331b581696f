"""The territory vocabulary, defined once: levels, parents, labels, density classes.

Pure constants (no shapely, no DuckDB, no pandas): the CLI, the pages, the geography, the
indicators and the importers all import them from here.

>>> LEVEL_LABELS["epci"]
'Intercommunalité (EPCI)'
>>> PARENT_LEVELS["departement"]
('region', 'france')
>>> sorted(RURAL_DENSITY_LEVELS)
[5, 6, 7]
"""

from __future__ import annotations

__all__ = [
    "LEVELS",
    "LEVEL_LABELS",
    "LEVEL_LABELS_LOWER",
    "LEVEL_LABELS_PLURAL",
    "LEVEL_ADJECTIVES",
    "PARENT_LEVELS",
    "CHILD_LEVELS",
    "FRANCE_CODE",
    "DENSITY_LEVELS",
    "RURAL_DENSITY_LEVELS",
    "check_level",
]

#: Territory levels, smallest first. A level is always named together with a code:
#: région ``53`` and département ``53`` are different places.
LEVELS: tuple[str, ...] = ("commune", "epci", "departement", "region", "france")

#: The code of the one ``france`` territory.
FRANCE_CODE = "FR"

#: Level names as a heading or label starts them ("Département Ain (01)").
LEVEL_LABELS: dict[str, str] = {
    "commune": "Commune",
    "epci": "Intercommunalité (EPCI)",
    "departement": "Département",
    "region": "Région",
    "france": "France",
}

#: Level names inside a sentence ("la commune", "l'intercommunalité").
LEVEL_LABELS_LOWER: dict[str, str] = {
    "commune": "commune",
    "epci": "intercommunalité",
    "departement": "département",
    "region": "région",
    "france": "France",
}

#: Plural level names ("les départements", "par EPCI").
LEVEL_LABELS_PLURAL: dict[str, str] = {
    "commune": "communes",
    "epci": "EPCI",
    "departement": "départements",
    "region": "régions",
    "france": "France",
}

#: "la moyenne départementale" etc.
LEVEL_ADJECTIVES: dict[str, str] = {
    "commune": "communale",
    "epci": "intercommunale",
    "departement": "départementale",
    "region": "régionale",
    "france": "nationale",
}

#: For each level, the parent levels shown in comparisons (nearest first).
PARENT_LEVELS: dict[str, tuple[str, ...]] = {
    "commune": ("epci", "departement", "region", "france"),
    "epci": ("departement", "region", "france"),
    "departement": ("region", "france"),
    "region": ("france",),
    "france": (),
}

#: For a selected level, the levels a map can break it down into (first = default).
#: A national view never draws 35,000 communes: départements by default, EPCI on request.
CHILD_LEVELS: dict[str, tuple[str, ...]] = {
    "france": ("departement", "region", "epci"),
    "region": ("epci", "departement"),
    "departement": ("epci", "commune"),
    "epci": ("commune",),
    "commune": ("commune",),
}

#: INSEE's 7-level communal density grid (labels as INSEE writes them).
DENSITY_LEVELS: dict[int, str] = {
    1: "Grands centres urbains",
    2: "Centres urbains intermédiaires",
    3: "Ceintures urbaines",
    4: "Petites villes",
    5: "Bourgs ruraux",
    6: "Rural à habitat dispersé",
    7: "Rural à habitat très dispersé",
}

#: "Rural" in INSEE's sense: levels 5, 6 and 7 of the grid.
RURAL_DENSITY_LEVELS: frozenset[int] = frozenset({5, 6, 7})


def check_level(level: str) -> str:
    """Return ``level`` if it is a known level, else raise ``ValueError`` with a French message.

    >>> check_level("epci")
    'epci'
    """
    if level not in LEVELS:
        raise ValueError(f"Niveau inconnu : « {level} » (attendu : {', '.join(LEVELS)}).")
    return level
