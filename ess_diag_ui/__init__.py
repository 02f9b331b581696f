"""Shared Streamlit pieces: the database connection, the territory picker, the demo banner.

Pages call :func:`current_territory` and :func:`current_year` to know what to show; the
entry point (``app.py``) draws the sidebar once for every page with :func:`sidebar`.
"""

from __future__ import annotations

import streamlit as st

from ess_diag import config, store
from ess_diag.formatting import escape, fmt_int
from ess_diag.vocabulary import FRANCE_CODE, LEVEL_LABELS, LEVEL_LABELS_PLURAL, LEVELS

from . import data

__all__ = [
    "get_con",
    "data_version",
    "current_territory",
    "current_year",
    "territory_label",
    "level_plural_title",
    "sidebar",
    "territory_picker",
    "demo_banner",
    "is_demo",
    "page_setup",
]

DEFAULT_TERRITORY = ("france", FRANCE_CODE)
_ALL = "__all__"


@st.cache_resource(show_spinner=False)
def _connection(path: str):
    return store.get_connection(path)


def get_con():
    """The process-wide DuckDB connection (take a ``.cursor()`` per query)."""
    return _connection(str(config.db_path()))


def data_version() -> int:
    """Bumped by every import/undo: the ``version`` argument of every ``ess_diag_ui.data``
    function."""
    return store.data_version(get_con().cursor())


def is_demo() -> bool:
    return store.get_meta(get_con().cursor(), "demo") == "1"


def current_territory() -> tuple[str, str]:
    """The selected ``(level, code)``; France until the user picks something."""
    value = st.session_state.get("territory")
    if not value:
        # A shared or reloaded address keeps its territory: ?niveau=departement&territoire=35
        params = st.query_params
        level, code = params.get("niveau"), params.get("territoire")
        if level in LEVELS and code:
            value = (level, code)
        else:
            value = DEFAULT_TERRITORY
        st.session_state["territory"] = value
    return tuple(value)


def current_year() -> int | None:
    """The selected year (the latest loaded by default), or None when no statistics exist."""
    years = data.available_years(data_version())
    if not years:
        return None
    year = st.session_state.get("year")
    if year not in years:
        year = years[-1]
        st.session_state["year"] = year
    return int(year)


def level_plural_title(level: str) -> str:
    """``'Départements'``, ``'Intercommunalités (EPCI)'``: a level's plural as a title."""
    if level == "epci":
        return "Intercommunalités (EPCI)"
    return LEVEL_LABELS_PLURAL[level].capitalize()


def territory_label(level: str, code: str) -> str:
    """``'Département Ain (01)'`` — a level is always named with its code."""
    info = data.territory_info(level, code, data_version())
    if level == "france":
        return "France"
    return f"{LEVEL_LABELS[level]} {info['name']} ({code})"


def _chain_from(level: str, code: str) -> dict[str, str]:
    """The picker's selections (région, département, EPCI, commune) for a territory."""
    if level == "france":
        return {}
    info = data.territory_info(level, code, data_version())
    chain = {level: code}
    if level in ("departement", "epci", "commune") and info.get("region_code"):
        chain["region"] = info["region_code"]
    if level in ("epci", "commune") and info.get("departement_code"):
        chain["departement"] = info["departement_code"]
    if level == "commune" and info.get("epci_code"):
        chain["epci"] = info["epci_code"]
    return chain


_PICK_KEYS = {
    "region": "pick_region",
    "departement": "pick_dep",
    "epci": "pick_epci",
    "commune": "pick_commune",
}
_PICK_ORDER = ("region", "departement", "epci", "commune")


def _on_pick(level: str) -> None:
    """Callback of a picker selectbox: runs before the script, so it may reset the others."""
    value = st.session_state.get(_PICK_KEYS[level])
    depth = _PICK_ORDER.index(level)
    target: tuple[str, str | None]
    if value in (None, _ALL):
        # "Toute la région" and the like: the territory one level up.
        if depth == 0:
            target = DEFAULT_TERRITORY
        else:
            upper = _PICK_ORDER[depth - 1]
            target = (upper, st.session_state.get(_PICK_KEYS[upper]))
    else:
        target = (level, value)
    st.session_state["territory"] = target
    for deeper in _PICK_ORDER[depth + 1 :]:
        st.session_state.pop(_PICK_KEYS[deeper], None)


def _on_search_pick() -> None:
    picked = st.session_state.get("territory_search_pick")
    if picked:
        st.session_state["territory"] = tuple(picked)
        for key in (*_PICK_KEYS.values(), "territory_search_pick", "territory_search"):
            st.session_state.pop(key, None)


def _select(level: str, label: str, parent: tuple[str, str] | None, chosen: str | None):
    version = data_version()
    parent_level, parent_code = parent or (None, None)
    options = data.territory_options(level, parent_level, parent_code, version)
    codes = [_ALL] + [c for c, _ in options]
    names = dict(options)
    key = _PICK_KEYS[level]
    if st.session_state.get(key) not in (None, *codes):
        st.session_state.pop(key)
    index = codes.index(chosen) if chosen in codes else 0
    all_label = {
        "region": "France entière",
        "departement": "Toute la région",
        "epci": "Tout le département",
        "commune": "Toute l'intercommunalité",
    }[level]
    return st.selectbox(
        label,
        codes,
        index=index if key not in st.session_state else None,
        format_func=lambda c: all_label if c == _ALL else f"{names[c]} ({c})",
        key=key,
        on_change=_on_pick,
        args=(level,),
    )


def territory_picker() -> tuple[str, str]:
    """Région → département → EPCI → commune, plus a search by name or code."""
    level, code = current_territory()
    chain = _chain_from(level, code)

    query = st.text_input(
        "Rechercher un territoire",
        placeholder="Nom ou code : Rennes, 35, 243500139…",
        key="territory_search",
    )
    if query and len(query.strip()) >= 2:
        hits = data.territory_search(query, data_version())
        if hits:
            labels = {(lv, cd): f"{LEVEL_LABELS[lv]} — {nm} ({cd})" for lv, cd, nm in hits}
            st.selectbox(
                "Résultats",
                [None, *labels],
                format_func=lambda k: "Choisir…" if k is None else labels[k],
                key="territory_search_pick",
                on_change=_on_search_pick,
            )
        else:
            st.caption("Aucun territoire ne correspond.")

    region = _select("region", "Région", None, chain.get("region"))
    if region not in (None, _ALL):
        dep = _select("departement", "Département", ("region", region), chain.get("departement"))
        if dep not in (None, _ALL):
            epci = _select("epci", "Intercommunalité", ("departement", dep), chain.get("epci"))
            if epci not in (None, _ALL):
                _select("commune", "Commune", ("epci", epci), chain.get("commune"))
    return current_territory()


def year_picker() -> int | None:
    years = data.available_years(data_version())
    if not years:
        st.caption("Aucune statistique annuelle chargée.")
        return None
    current = current_year()
    assert current is not None  # years are loaded
    chosen = st.selectbox("Année", years, index=years.index(current), key="year_select")
    st.session_state["year"] = int(chosen)
    return int(chosen)


def demo_banner() -> None:
    """A visible notice on every page while demo data is loaded."""
    if is_demo():
        st.warning(
            "**Données de démonstration** : acteurs, emplois et séries **simulés** sur la "
            "géographie réelle — ils ne décrivent aucun territoire réel. Chargez vos fichiers "
            "(*Importer des données*) ou lancez `ess-diag init --empty`.",
            icon="⚠️",
        )


def sidebar() -> tuple[str, str]:
    """The sidebar shared by every page: territory, year, data notice."""
    with st.sidebar:
        st.markdown("### Territoire")
        territory = territory_picker()
        year_picker()
        level, code = territory
        info = data.territory_info(level, code, data_version())
        st.caption(
            f"{escape(territory_label(level, code))} · {fmt_int(info['population'])} habitants"
        )
    return territory


def _leave_legacy_navigation() -> None:
    """Run a page opened by its address through ``app.py``'s navigation.

    On a freshly started server, until some visitor has loaded ``/`` (so that ``app.py`` has
    called ``st.navigation`` once), Streamlit serves ``/carte`` or ``/participer?code=…``
    the old way: the ``pages/`` file run alone, a menu of file names, no page titles. A
    participant scanning the QR code after a restart would land there. When a page finds
    itself run that way, it switches the server to ``app.py``'s navigation and reruns: the
    same address (query string included) then goes through ``app.py``.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without this class has no old-style navigation
        return
    if getattr(PagesManager, "uses_pages_directory", None):
        PagesManager.uses_pages_directory = False
        st.rerun()


def page_setup(chrome: bool = True) -> tuple[str, str]:
    """Call first in every page: draws the shared sidebar and the demo banner.

    Pages draw their own chrome (rather than ``app.py``) so that each page also runs alone,
    as ``AppTest.from_file("pages/x.py")`` does. Full-screen pages pass ``chrome=False``.
    """
    _leave_legacy_navigation()
    try:
        get_con()
    except store.StoreError as exc:
        st.error(str(exc))
        st.stop()
    from . import a11y

    a11y.french_toolbar()
    if not chrome:
        return current_territory()
    territory = sidebar()
    level, code = territory
    if st.query_params.get("niveau") != level or st.query_params.get("territoire") != code:
        st.query_params.update({"niveau": level, "territoire": code})
    demo_banner()
    return territory
