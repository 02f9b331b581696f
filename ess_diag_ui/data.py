"""The one Streamlit data cache: every cached call to the package lives here.

Every function takes the data version (``ess_diag_ui.data_version()``) as a *hashed* argument
named ``version`` (no leading underscore: Streamlit leaves underscored arguments out of the
cache key), so that an import or an undo, which bumps it, invalidates what it changed; the
connection itself is not an argument. The only other Streamlit cache is the connection
resource in ``ess_diag_ui``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ess_diag_ui as ui
from ess_diag import actor_list, cooperation, geography, indicators, maps, workshop

__all__ = [
    "available_years",
    "territory_info",
    "territory_options",
    "territory_search",
    "rural_population_share",
    "commune_choices",
    "indicator_doc",
    "sector_breakdown",
    "key_figures_within",
    "map_outlines",
    "parent_outline",
    "actor_points",
    "actors_table",
    "map_view",
    "cooperation_counts",
    "workshop_actor_choices",
]


@st.cache_data(show_spinner=False)
def available_years(version: int) -> list[int]:
    """Years for which statistics are loaded (employment or ESS tables), newest last."""
    del version  # part of the cache key only
    return indicators.available_years(ui.get_con())


@st.cache_data(show_spinner=False, max_entries=256)
def territory_info(level: str, code: str, version: int) -> dict:
    """One territory (``geography.territory``): name, population, parents, area."""
    del version
    return geography.territory(ui.get_con(), level, code)


@st.cache_data(show_spinner=False, max_entries=256)
def territory_options(
    level: str, parent_level: str | None, parent_code: str | None, version: int
) -> list[tuple[str, str]]:
    """``(code, name)`` of the ``level`` territories within a parent, for a picker."""
    del version
    frame = geography.territories(ui.get_con(), level, parent_level, parent_code)
    return list(zip(frame["code"], frame["name"], strict=True))


@st.cache_data(show_spinner=False, max_entries=256)
def territory_search(text: str, version: int) -> list[tuple[str, str, str]]:
    """Up to 30 ``(level, code, name)`` whose name contains ``text`` or whose code starts it."""
    del version
    needle = f"%{text.strip()}%"
    rows = (
        ui.get_con()
        .cursor()
        .execute(
            """
            SELECT level, code, name FROM territories
            WHERE level <> 'france'
              AND (strip_accents(lower(name)) LIKE strip_accents(lower(?)) OR code LIKE ?)
            ORDER BY CASE level WHEN 'region' THEN 0 WHEN 'departement' THEN 1
                                WHEN 'epci' THEN 2 ELSE 3 END, population DESC
            LIMIT 30
            """,
            [needle, f"{text.strip()}%"],
        )
        .fetchall()
    )
    return [(r[0], r[1], r[2]) for r in rows]


@st.cache_data(show_spinner=False, max_entries=256)
def rural_population_share(level: str, code: str, version: int) -> dict:
    """The territory's rural population share and the definition used (grid or estimate).

    A density-grid import bumps the version: the next run shows the grid's share at once.
    """
    del version
    return geography.rural_population_share(ui.get_con(), level, code)


# A resource cache: the same tuple for every phone, not a pickled copy per run (the
# participant form asks for it at each post). Callers only read it.
@st.cache_resource(show_spinner=False, max_entries=64)
def commune_choices(level: str, code: str, version: int) -> tuple[tuple[str, str], ...]:
    """The territory's communes ``(code, name)`` for the workshop's commune picker."""
    del version
    return tuple(workshop.commune_choices(ui.get_con(), level, code))


@st.cache_data(show_spinner=False, max_entries=256)
def indicator_doc(level: str, code: str, year: int | None, version: int) -> indicators.Document:
    """The full indicator document (``indicators.compute``) of a territory."""
    del version  # part of the cache key only
    return indicators.compute(ui.get_con(), level, code, year)


@st.cache_data(show_spinner=False, max_entries=256)
def sector_breakdown(
    level: str, code: str, year: int | None, reference: tuple[str, str], version: int
) -> dict:
    del version
    return indicators.by_sector(ui.get_con(), level, code, year, reference=reference)


@st.cache_data(show_spinner=False, max_entries=64)
def key_figures_within(
    level: str, within: tuple[str, str], year: int | None, version: int
) -> pd.DataFrame:
    """Key figures of the ``level`` territories having a commune in ``within`` (one pass)."""
    del version
    return indicators.compute_all(ui.get_con(), level, year, within=within)


@st.cache_data(show_spinner=False, max_entries=64)
def map_outlines(level: str, code: str, child_level: str, version: int) -> pd.DataFrame:
    del version
    return maps.load_outlines(ui.get_con(), level, code, child_level)


@st.cache_data(show_spinner=False, max_entries=64)
def parent_outline(level: str, code: str, version: int) -> str | None:
    del version
    return maps.load_parent_outline(ui.get_con(), level, code)


@st.cache_data(show_spinner=False, max_entries=64)
def actor_points(
    level: str,
    code: str,
    families: tuple[str, ...] | None,
    sectors: tuple[str, ...] | None,
    employers_only: bool,
    version: int,
) -> pd.DataFrame:
    del version
    return maps.load_actor_points(
        ui.get_con(),
        level,
        code,
        families=families,
        sectors=sectors,
        employers_only=employers_only,
    )


@st.cache_data(show_spinner=False, max_entries=32)
def actors_table(level: str, code: str, include_non_ess: bool, include_closed: bool, version: int):
    del version
    return actor_list.list_actors(
        ui.get_con(), level, code, include_non_ess=include_non_ess, include_closed=include_closed
    )


@st.cache_data(show_spinner=False, max_entries=32)
def map_view(
    level: str,
    code: str,
    child_level: str,
    indicator_key: str,
    year: int | None,
    show_actors: bool,
    families: tuple[str, ...] | None,
    sectors: tuple[str, ...] | None,
    employers_only: bool,
    version: int,
    show_cooperation: bool = False,
) -> tuple[maps.MapView, pd.DataFrame]:
    """The map of a view and the key figures of its territories (built once per view)."""
    outlines = map_outlines(level, code, child_level, version)
    figures = key_figures_within(child_level, (level, code), year, version)
    actors = (
        actor_points(level, code, families, sectors, employers_only, version)
        if show_actors
        else None
    )
    view = maps.build_deck(
        outlines,
        dict(zip(figures["code"], figures[indicator_key], strict=True)),
        indicator=maps.MAP_INDICATORS[indicator_key],
        parent_outline=parent_outline(level, code, version),
        actors=actors,
        cooperation=(
            cooperation.network_members(ui.get_con(), level, code) if show_cooperation else None
        ),
    )
    return view, figures


@st.cache_data(show_spinner=False, max_entries=256)
def cooperation_counts(level: str, code: str, version: int) -> dict:
    """Networks with at least two members in the territory (``ess_diag.cooperation``)."""
    del version  # part of the cache key only
    return cooperation.cooperation_counts(ui.get_con(), level, code)


# A resource cache like commune_choices: the participant form reads it at each post.
@st.cache_resource(show_spinner=False, max_entries=64)
def workshop_actor_choices(
    level: str, code: str, limit: int, version: int
) -> tuple[tuple[str, str], ...]:
    """The actors a workshop contribution may name (``workshop.actor_choices``)."""
    del version  # part of the cache key only
    return tuple(workshop.actor_choices(ui.get_con(), level, code, limit=limit))
