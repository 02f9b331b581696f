"""Cached calls to the package for the dashboard pages.

Every function takes the data version (``ess_diag_ui.data_version()``) as a *hashed* argument
(no leading underscore: Streamlit leaves underscored arguments out of the cache key), so that
an import or an undo invalidates what it changed; the connection itself is not an argument.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ess_diag_ui as ui
from ess_diag import actor_list, indicators, maps

__all__ = [
    "indicator_doc",
    "sector_breakdown",
    "key_figures_within",
    "map_outlines",
    "parent_outline",
    "actor_points",
    "actors_table",
    "map_view",
]


@st.cache_data(show_spinner=False, max_entries=256)
def indicator_doc(level: str, code: str, year: int | None, version: int) -> dict:
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
    )
    return view, figures
