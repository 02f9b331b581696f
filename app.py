"""ESS Diag — entry point: navigation, shared sidebar (territory, year), demo banner.

Run with `make run` (127.0.0.1:8501) or `make run-lan` for a workshop on the local network.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ess_diag_ui import auth

HERE = Path(__file__).resolve().parent

#: (section, file, title, icon), in menu order (tests/test_app_smoke.py runs every one).
PAGES = [
    ("Diagnostic", "pages/accueil.py", "Accueil", ":material/home:"),
    ("Diagnostic", "pages/vue_ensemble.py", "Vue d'ensemble", ":material/dashboard:"),
    ("Diagnostic", "pages/carte.py", "Carte", ":material/map:"),
    ("Diagnostic", "pages/secteurs.py", "Secteurs", ":material/bar_chart:"),
    ("Diagnostic", "pages/ruralite.py", "Ruralité", ":material/agriculture:"),
    ("Diagnostic", "pages/evolution.py", "Évolution & résilience", ":material/trending_up:"),
    ("Diagnostic", "pages/acteurs.py", "Acteurs", ":material/groups:"),
    ("Diagnostic", "pages/besoins.py", "Besoins", ":material/location_off:"),
    ("Atelier", "pages/atelier.py", "Animer un atelier", ":material/forum:"),
    ("Atelier", "pages/projection.py", "Mode projection", ":material/slideshow:"),
    ("Atelier", "pages/participer.py", "Participer", ":material/how_to_vote:"),
    ("Agir", "pages/plan.py", "Plan d'action", ":material/checklist:"),
    ("Agir", "pages/acheter.py", "Acheter à l'ESS", ":material/storefront:"),
    ("Agir", "pages/evaluation.py", "Évaluation", ":material/fact_check:"),
    ("Données", "pages/importer.py", "Importer des données", ":material/upload_file:"),
    ("Données", "pages/methodologie.py", "Méthodologie & sources", ":material/menu_book:"),
]

# A local icon: a Material icon as page_icon is fetched from an outside host.
st.set_page_config(
    page_title="ESS Diag", page_icon=str(HERE / "ess_diag_ui" / "icon.png"), layout="wide"
)


#: Full-screen pages (a projector, a participant's phone): no menu is drawn on them.
FULL_SCREEN = {"pages/projection.py", "pages/participer.py"}


def _navigation():
    """Streamlit's own menu is hidden (its markup fails the WCAG list rules: a ``ul`` holding
    ``div`` children), and drawn here instead: one heading per section, a link per page — a
    plain list of links that a screen reader and the Tab key go through in order."""
    sections: dict[str, list] = {}
    for section, file, title, icon in PAGES:
        sections.setdefault(section, []).append(
            (file, st.Page(file, title=title, icon=icon, default=file == "pages/accueil.py"))
        )
    current = st.navigation(
        {name: [page for _, page in pages] for name, pages in sections.items()},
        position="hidden",
    )
    full_screen = any(
        page._script_hash == current._script_hash and file in FULL_SCREEN
        for pages in sections.values()
        for file, page in pages
    )
    if not full_screen:
        with st.sidebar:
            for name, pages in sections.items():
                st.markdown(f"#### {name}")
                for _, page in pages:
                    st.page_link(page)
    return current


# Each page starts with ``ess_diag_ui.page_setup()`` (sidebar, demo banner), so that it also
# runs alone under AppTest; full-screen pages (projection, participants) skip the sidebar.
# In network mode an error shows a French message, its details only in the server's log.
auth.run_page(_navigation())
