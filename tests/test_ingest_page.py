"""The import page under AppTest: preview, check, confirm, report, history and undo, password."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from geo_fixture import build_fixture_geography
from streamlit.testing.v1 import AppTest

from ess_diag import nomenclatures, store

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "importer.py")
FIX = ROOT / "tests" / "fixtures" / "sirene"
UL = FIX / "StockUniteLegale_extrait.csv"
ETAB = FIX / "StockEtablissement_extrait.csv"


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "page.duckdb"
    con = store.connect(path)
    build_fixture_geography(con)
    nomenclatures.register(con)
    con.close()
    monkeypatch.setenv("ESS_DIAG_DB", str(path))
    monkeypatch.delenv("ESS_DIAG_ADMIN_PASSWORD", raising=False)
    return path


def into_import_dir(db: Path, *files: Path) -> list[str]:
    """Copy files into the import folder of the test database (``imports/`` next to it);
    return the names the page offers for them."""
    folder = db.parent / "imports"
    folder.mkdir(exist_ok=True)
    for f in files:
        shutil.copy(f, folder / f.name)
    return [f.name for f in files]


def texts(at, kind: str) -> list[str]:
    return [e.value for e in at.get(kind)]


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def count(at_db: Path, table: str) -> int:
    con = store.get_connection(at_db)
    return con.cursor().execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]  # noqa: S608


def test_preview_check_confirm_history_undo(db):
    names = into_import_dir(db, UL, ETAB)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception
    assert "Aucun import pour l'instant." in texts(at, "caption")
    at.multiselect(key="import_local").set_value(names).run()
    assert not at.exception
    markdown = "\n".join(texts(at, "markdown"))
    assert (
        "StockUniteLegale_extrait.csv : SIRENE unités légales (StockUniteLegale), CSV UTF-8"
        in markdown
    )
    assert "StockEtablissement_extrait.csv : SIRENE établissements (StockEtablissement)" in markdown
    previews = at.dataframe
    assert len(previews[0].value) == 5  # first rows of the units
    assert "categorieJuridiqueUniteLegale" in previews[0].value.columns

    button(at, "Vérifier (sans rien écrire)").click().run()
    assert "Vérification terminée : rien n'a encore été écrit dans la base." in texts(at, "info")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Lignes lues": "24", "Lignes chargées": "24", "Lignes mises de côté": "0"}
    assert count(db, "actors") == 0

    button(at, "Confirmer l'import").click().run()
    assert not at.exception
    success = texts(at, "success")
    assert any(s.startswith("Import enregistré (identifiant imp-") for s in success)
    assert count(db, "actors") == 13
    history = at.dataframe[-1].value
    assert history["État"].tolist() == ["en place"]
    assert history["Lignes chargées"].tolist() == ["24"]
    assert history["Fichiers"].tolist() == [f"{UL.name}, {ETAB.name}"]

    # Undo needs the confirmation box.
    at.button(key="FormSubmitter:import_undo-Annuler l'import").click().run()
    assert "Cochez la case de confirmation pour annuler l'import." in texts(at, "warning")
    assert count(db, "actors") == 13
    at.checkbox(key="undo_sure").check()
    at.button(key="FormSubmitter:import_undo-Annuler l'import").click().run()
    assert not at.exception
    assert count(db, "actors") == 0
    assert any("annulé" in s for s in texts(at, "success"))
    assert at.dataframe[-1].value["État"].tolist() == ["annulé"]


def test_rejected_and_set_aside_reports(db, tmp_path):
    empty = tmp_path / "vide.csv"
    empty.write_bytes(b"")
    lines = ETAB.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(2, lines[1].replace(",01001,", ",99999,").replace("00015", "00099"))
    bad = tmp_path / "src" / "etab.csv"
    bad.parent.mkdir()
    bad.write_text("".join(lines), encoding="utf-8")
    into_import_dir(db, empty, UL, bad)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.multiselect(key="import_local").set_value(["vide.csv"]).run()
    # Refused at the preview: said once, and not offered for import (issue #12: the refusal
    # used to be repeated by the report after "Confirmer l'import").
    assert texts(at, "error") == ["Le fichier « vide.csv » est vide."]
    assert not [b for b in at.button if b.label == "Confirmer l'import"]

    at.multiselect(key="import_local").set_value([UL.name, "etab.csv"]).run()
    button(at, "Vérifier (sans rien écrire)").click().run()
    table = next(d.value for d in at.dataframe if "Motif" in d.value.columns)
    assert table.to_dict("records") == [
        {
            "Motif": "Code commune inconnu",
            "Fichier": "etab.csv",
            "Colonne": "codeCommuneEtablissement",
            "Nombre": "1",
            "Lignes": "3",
            "Exemple": "codeCommuneEtablissement = « 99999 »",
        }
    ]
    assert any("99999" in w for w in texts(at, "warning"))


def test_password_protects_the_page(db, monkeypatch):
    monkeypatch.setenv("ESS_DIAG_ADMIN_PASSWORD", "secret-atelier")
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert "L'import de données est réservé : saisissez le mot de passe administrateur." in texts(
        at, "info"
    )
    assert not at.text_area and not at.multiselect  # nothing else is drawn
    assert [t.label for t in at.main.text_input] == ["Mot de passe administrateur"]
    at.text_input[0].set_value("mauvais")
    at.button[0].click().run()
    assert "Mot de passe incorrect." in texts(at, "error")
    at.text_input[0].set_value("secret-atelier")
    at.button[0].click().run()
    assert not at.exception
    assert at.multiselect(key="import_local") is not None
    assert at.get("file_uploader")


def test_a_refused_file_is_said_once_and_not_offered_for_import(db):
    folder = db.parent / "imports"
    folder.mkdir(exist_ok=True)
    (folder / "![x](image.png).csv").write_bytes(bytes(range(256)) * 40)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.multiselect(key="import_local").set_value(["![x](image.png).csv"]).run()
    assert not at.exception
    errors = texts(at, "error")
    assert len(errors) == 1
    # The name is shown as written: its Markdown is escaped, no image element is made.
    assert "« \\!\\[x\\](image.png).csv »" in errors[0]
    assert not at.get("imgs") and not any("<img" in t for t in texts(at, "markdown"))
    assert not [b for b in at.button if b.label == "Vérifier (sans rien écrire)"]
