"""The plan pages under AppTest: Plan d'action (create from a workshop, edit, export),
Évaluation, the projection's « Où en sommes-nous ? » screen, and network mode (a stranger
never reaches them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest
from workshop_fixtures import EVIL, drive_session, seed_territory

from ess_diag import evaluation, plan, store
from ess_diag_ui import auth
from ess_diag_ui import plan_screens as ps

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "tulosu-zovafo-27"


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "plan_pages.duckdb"
    con = store.connect(path)
    seed_territory(con)
    session, _people, _ids = drive_session(con)
    con.close()
    monkeypatch.setenv("ESS_DIAG_DB", str(path))
    monkeypatch.delenv("ESS_DIAG_ADMIN_PASSWORD", raising=False)
    return path, session


def _page(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=90)
    at.session_state["territory"] = ("departement", "01")
    return at


def _con(path):
    # The pages hold the process connection: tests read through the same one.
    return store.get_connection(path)


def test_plan_page_creates_from_workshop_edits_and_exports(db):
    path, session = db
    at = _page("plan.py").run()
    assert not at.exception, at.exception
    assert any("Le plan est vide" in i.value for i in at.info)
    at.button(key="plan_from").click().run()
    assert not at.exception, at.exception
    assert "4 action(s) ajoutée(s)" in at.success[0].value
    editor = at.dataframe
    assert editor, "the plan's table is shown"
    con = _con(path)
    actions = plan.actions(con, "departement", "01")
    assert [a["title"] for a in actions][:2] == [
        "Une épicerie solidaire",
        "Créer un pôle territorial de coopération",
    ]
    assert [m.value for m in at.metric] == ["4", "0", "0", "0"]

    # The editor's changes (what the page's form hands to apply_edits).
    before = ps.editor_frame(actions)
    after = before.copy()
    first = actions[0]["action_id"]
    after.at[first, "Statut"] = "en cours"
    after.at[first, "Porteur"] = "CCAS"
    after.at[first, "Indicateur suivi"] = "Emplois de l'ESS"
    after.at[first, "Secteur suivi"] = "(aucun)"
    assert ps.apply_edits(con, before, after) == (1, [])
    edited = plan.get_action(con, first)
    assert (edited["status"], edited["owner"], edited["indicator"]) == (
        "en_cours",
        "CCAS",
        "ess_jobs",
    )
    assert edited["baseline_value"] == 280.0
    bad = ps.editor_frame(plan.actions(con, "departement", "01"))
    worse = bad.copy()
    worse.at[first, "Action"] = " "
    changed, errors = ps.apply_edits(con, bad, worse)
    assert changed == 0 and "Le titre est obligatoire" in errors[0]

    at.run()
    assert not at.exception
    assert [m.value for m in at.metric] == ["3", "1", "0", "0"]
    assert at.button(key="plan_undo").label == "↶ Annuler la modification d'une action"
    downloads = at.get("download_button")
    assert {d.proto.label for d in downloads} == {"Plan d'action (XLSX)", "Plan d'action (PDF)"}
    at.button(key="plan_undo").click().run()
    assert plan.get_action(con, first)["status"] == "a_lancer"

    # A note on the selected action (the first).
    note_form = [t for t in at.text_area if t.label == "Note"][0]
    note_form.input("Comité de pilotage le 12 mars")
    [b for b in at.button if b.label == "Ajouter la note"][0].click().run()
    assert not at.exception
    assert [n["text"] for n in plan.notes(con, first)] == ["Comité de pilotage le 12 mars"]


def test_evaluation_page_shows_criteria_and_takes_evidence(db):
    path, _session = db
    at = _page("evaluation.py").run()
    assert not at.exception, at.exception
    subheaders = [s.value for s in at.subheader]
    for i, criterion in enumerate(evaluation.CRITERIA, 1):
        assert f"{i}. {criterion.label}" in subheaders
    table = at.dataframe[0].value
    assert list(table["Emplois ESS"]) == ["274", "262", "280"]
    assert list(table["Année"]) == ["2021", "2022", "2023"]
    at.text_area[0].input(EVIL)
    [t for t in at.text_input if t.label == "Nom du document"][0].input("../../etc/passwd")
    [b for b in at.button if b.label == "Consigner"][0].click().run()
    assert not at.exception, at.exception
    entries = evaluation.evidence(_con(path), "departement", "01")
    assert [(e["text"], e["file_name"]) for e in entries] == [(EVIL, "passwd")]
    shown = "\n".join(m.value for m in at.markdown)
    assert EVIL not in shown and "passwd" in shown
    assert {d.proto.label for d in at.get("download_button")} == {
        "Évaluation (XLSX)",
        "Évaluation (PDF)",
    }


def test_projection_where_are_we_screen(db):
    path, session = db
    con = _con(path)
    first, *_ = plan.from_workshop(con, session.session_id)
    plan.set_status(con, first, "fait")
    at = AppTest.from_file(str(ROOT / "pages" / "projection.py"), default_timeout=90)
    at.query_params["atelier"] = session.join_code
    at.query_params["ecran"] = "suivi"
    at.run()
    assert not at.exception, at.exception
    html = "\n".join(str(h.proto) for h in at.get("html"))
    assert "Où en sommes-nous ?" in html
    assert "Une épicerie solidaire" in html
    assert "4 actions au plan" in html
    assert "Emplois de l&#x27;ESS" in html or "Emplois de l'ESS" in html


def test_where_are_we_without_plan_and_escaped(db):
    path, session = db
    con = _con(path)
    assert "Pas encore de plan" in ps.where_are_we_html(con, "departement", "01")
    first, *_ = plan.from_workshop(con, session.session_id)
    plan.update_action(con, first, title=EVIL)
    html = ps.where_are_we_html(con, "departement", "01")
    assert EVIL not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.fixture
def network():
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", "0.0.0.0")  # noqa: S104
    auth.THROTTLE.reset()
    yield
    st_config.set_option("server.address", before)
    auth.THROTTLE.reset()


@pytest.mark.parametrize("name", ["plan.py", "evaluation.py"])
def test_stranger_in_network_mode_cannot_reach_plan_pages(network, db, monkeypatch, name):
    path, session = db
    plan.from_workshop(_con(path), session.session_id)
    at = _page(name).run()
    assert not at.exception
    assert any("Page réservée à l'animateur" in w.value for w in at.warning)
    assert not at.main.button and not at.dataframe and not at.text_area
    assert not at.get("download_button")
    monkeypatch.setenv("ESS_DIAG_ADMIN_PASSWORD", PASSWORD)
    at = _page(name).run()
    assert [t.label for t in at.main.text_input] == ["Mot de passe administrateur"]
    assert not at.get("download_button")
    at.main.text_input[0].input("mauvais")
    at.main.button[0].click().run()
    assert not at.get("download_button") and not at.dataframe
