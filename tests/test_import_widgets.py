"""Import page widgets of issue 5 (AppTest): column mapping, template downloads, help."""

from __future__ import annotations

import shutil

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


def test_import_page_with_statistics_and_unknown_headers(tmp_path, monkeypatch):
    """The import page: the density grid and URSSAF figures, and a file whose columns the
    user maps by hand, all imported through the page."""
    from pathlib import Path

    from geo_fixture import build_fixture_geography
    from ingest_helpers import FIXTURES

    from ess_diag import nomenclatures

    path = tmp_path / "page.duckdb"
    con = store.connect(path)
    build_fixture_geography(con)
    nomenclatures.register(con)
    con.close()
    monkeypatch.setenv("ESS_DIAG_DB", str(path))
    monkeypatch.delenv("ESS_DIAG_ADMIN_PASSWORD", raising=False)
    # Local files are read from the import folder only (``imports/`` next to the database).
    folder = tmp_path / "imports"
    folder.mkdir()
    odd = write(folder / "emploi.csv", HEADERS + "01002;0111Z;1;3\n")
    paths = [FIXTURES / "grille_densite_extrait.csv", FIXTURES / "urssaf_commune_ape_extrait.csv"]
    for p in paths:
        shutil.copy(p, folder / p.name)
    page = str(Path(__file__).resolve().parents[1] / "pages" / "importer.py")
    at = AppTest.from_file(page, default_timeout=60)
    at.run()
    at.multiselect(key="import_local").set_value([p.name for p in [*paths, odd]]).run()
    assert not at.exception
    # The unknown file gets the mapping form; the user picks the APE column.
    kind_box = next(s for s in at.selectbox if s.key and s.key.endswith("_kind"))
    prefix = kind_box.key[: -len("_kind")]
    assert kind_box.value == "urssaf_commune_ape"
    at.selectbox(key=f"{prefix}_urssaf_commune_ape_ape").select("Activité")
    next(b for b in at.button if b.label == "Utiliser cette correspondance").click()
    at.run()
    next(b for b in at.button if b.label == "Confirmer l'import").click()
    at.run()
    assert not at.exception
    assert any("Import enregistré" in s.value for s in at.success), [e.value for e in at.error]
    labels = " ".join(" ".join(map(str, df.value.iloc[:, 0].tolist())) for df in at.dataframe)
    assert "Codes de communes fusionnées depuis, rattachés à leur commune nouvelle" in labels
    con = store.get_connection(path).cursor()
    assert con.execute("SELECT count(*) FROM density_grid").fetchall() == [(6,)]
    # 01002 in 2023 is given by both files with the same figures: counted once.
    assert con.execute(
        "SELECT jobs FROM private_employment WHERE commune_code = '01002' AND year = 2023"
    ).fetchall() == [(3.0,)]
    assert con.execute("SELECT count(*) FROM column_mappings").fetchall() == [(1,)]
