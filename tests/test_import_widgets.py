"""Import page widgets of issue 5 (AppTest): column mapping, template downloads, help."""

from __future__ import annotations

import pytest
from ingest_helpers import write
from streamlit.testing.v1 import AppTest

from ess_diag import store
from ess_diag.ingest import mapping

HEADERS = "Commune INSEE;Activité;Nombre d'établissements 2023;Effectifs salariés 2023\n"


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "ess.duckdb"
    store.connect(path).close()
    monkeypatch.setenv("ESS_DIAG_DB", str(path))
    return path


def _mapping_app(path: str, name: str) -> None:
    import streamlit as st

    from ess_diag_ui import import_widgets

    st.session_state["result"] = import_widgets.column_mapping(path, name, key="m")


def test_column_mapping_is_chosen_and_remembered(db, tmp_path):
    csv = write(tmp_path / "emploi.csv", HEADERS + "01001;8810A;2;30\n")
    at = AppTest.from_function(_mapping_app, kwargs={"path": str(csv), "name": "emploi.csv"})
    at.run(timeout=30)
    assert not at.exception
    # The closest format is proposed, with the columns it could guess.
    assert at.selectbox(key="m_kind").value == "urssaf_commune_ape"
    assert at.selectbox(key="m_urssaf_commune_ape_code_commune").value == "Commune INSEE"
    at.selectbox(key="m_urssaf_commune_ape_ape").select("Activité")
    at.button[0].click()
    at.run(timeout=30)
    assert not at.exception
    assert at.session_state["result"] == (
        "urssaf_commune_ape",
        {
            "code_commune": "Commune INSEE",
            "ape": "Activité",
            "etablissements_2023": "Nombre d'établissements 2023",
            "effectifs_2023": "Effectifs salariés 2023",
        },
    )
    con = store.get_connection(db)
    assert mapping.recall(con.cursor(), HEADERS.strip().split(";"))[0] == "urssaf_commune_ape"


def test_missing_required_column_is_said(db, tmp_path):
    csv = write(tmp_path / "x.csv", "A;B\n1;2\n")
    at = AppTest.from_function(_mapping_app, kwargs={"path": str(csv), "name": "x.csv"})
    at.run(timeout=30)
    at.selectbox(key="m_kind").select("grille_densite")
    at.run(timeout=30)
    at.button[0].click()
    at.run(timeout=30)
    assert at.session_state["result"] is None
    assert "Indiquez la colonne du fichier qui correspond à : CODGEO, DENS" in at.error[0].value


def _help_app() -> None:
    from ess_diag_ui import import_widgets

    import_widgets.template_downloads()
    import_widgets.formats_help(expanded=True)


def test_template_downloads_and_help(db):
    at = AppTest.from_function(_help_app)
    at.run(timeout=30)
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "Grille communale de densité INSEE (7 niveaux)" in text
    assert "URSSAF — établissements et effectifs salariés privés par commune × APE" in text
    buttons = [b.proto.label for b in at.get("download_button")]
    assert buttons == ["Télécharger le modèle (Excel)", "Télécharger le modèle (CSV)"]


def test_remembered_choice_is_applied_and_previewed(db, tmp_path):
    headers = HEADERS.strip().split(";")
    con = store.get_connection(db)
    mapping.remember(
        con.cursor(),
        "urssaf_commune_ape",
        headers,
        {"code_commune": "Commune INSEE", "ape": "Activité"},
    )
    csv = write(tmp_path / "emploi_2024.csv", HEADERS + "01001;8810A;2;30\n")
    at = AppTest.from_function(_mapping_app, kwargs={"path": str(csv), "name": "emploi_2024.csv"})
    at.run(timeout=30)
    assert not at.exception
    assert "mémorisée" in at.info[0].value
    kind, chosen = at.session_state["result"]
    assert (kind, chosen["ape"]) == ("urssaf_commune_ape", "Activité")
    assert len(at.dataframe) == 1
    at.button(key="m_change_btn").click()
    at.run(timeout=30)
    assert at.session_state["result"] is None
    assert at.selectbox(key="m_kind").value == "urssaf_commune_ape"
