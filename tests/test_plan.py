"""The action plan (issue 16): actions from a workshop's votes, baseline frozen while the latest
value follows the data, the undoable log, the evaluation's series, the CLI and the exports."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json

import pytest
from pypdf import PdfReader
from workshop_fixtures import EVIL, drive_session, fresh_con

from ess_diag import cli, derived, evaluation, indicators, ingest, plan, report, store, workshop
from ess_diag.report import content as report_content
from ess_diag.report import plan_export

URSSAF_HEADER = (
    "Année;Code département;Département;Famille ESS;Nombre d'établissements;"
    "Effectifs salariés moyens;Masse salariale\n"
)
VOTED = [  # (title, counted votes): see workshop_fixtures.drive_session
    ("Une épicerie solidaire", 2),  # Alice voted both duplicates, merged: she counts once
    ("Créer un pôle territorial de coopération", 2),
    ("Un tiers-lieu", 1),
    ("Un forum annuel de l'ESS", 1),
]


@pytest.fixture
def voted():
    con = fresh_con()
    session, people, ids = drive_session(con)
    yield con, session, ids
    con.close()


def _pdf_text(data: bytes) -> str:
    """The PDF's text, blanks collapsed (wrapped lines are justified)."""
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


# --- from the workshop -------------------------------------------------------------------------


def test_voted_workshop_gives_actions_in_vote_order(voted):
    con, session, ids = voted
    created = plan.from_workshop(con, session.session_id)
    rows = plan.actions(con, "departement", "01")
    assert [a["action_id"] for a in rows] == created
    assert [(a["title"], a["votes"]) for a in rows] == VOTED
    assert [a["priority"] for a in rows] == [1, 2, 3, 4]
    # The merged duplicate is part of the épicerie's origin, and counted once.
    assert rows[0]["contribution_ids"] == [
        ids["Une épicerie solidaire"],
        ids["Épicerie solidaire !"],
    ]
    assert all(a["session_id"] == session.session_id for a in rows)
    assert {a["origin_category"] for a in rows} == {"besoins", "pistes"}
    # Unvoted pistes and besoins (and the other categories) are left out.
    titles = {a["title"] for a in rows}
    for left_out in (
        "Mutualiser un véhicule",
        "De la mobilité solidaire",
        EVIL,
        "Des élus mobilisés",
    ):
        assert left_out not in titles
    # A sector contribution follows that sector's jobs, the others the territory's jobs.
    assert (rows[0]["indicator"], rows[0]["indicator_sector"]) == ("sector_jobs", "commerce")
    assert rows[1]["indicator"] == "ess_jobs"
    # Baseline of ESS jobs in the Ain, 2023: 30 + 200 + 50 (indicators_fixtures).
    assert (rows[1]["baseline_value"], rows[1]["baseline_year"]) == (280.0, 2023)
    assert rows[1]["baseline_value"] == indicators.key_figures(con, "departement", "01")["ess_jobs"]
    # Drafting again adds nothing: the voted contributions are already in the plan.
    assert plan.from_workshop(con, session.session_id) == []


def test_a_vote_after_the_draft_is_drafted_next(voted):
    con, session, ids = voted
    plan.from_workshop(con, session.session_id)
    dora = workshop.join(con, session.join_code, "Dora")
    workshop.vote(con, session.session_id, dora, ids["Mutualiser un véhicule"])
    new = plan.from_workshop(con, session.session_id)
    assert [plan.get_action(con, i)["title"] for i in new] == ["Mutualiser un véhicule"]
    assert plan.get_action(con, new[0])["priority"] == 5


# --- baseline and latest -----------------------------------------------------------------------


def _import(con, tmp_path, name: str, body: str):
    path = tmp_path / name
    path.write_text(URSSAF_HEADER + body, encoding="utf-8")
    result = ingest.run_import(con, [path])
    assert result.status == "committed", result.errors
    return result


def test_baseline_frozen_at_creation_while_latest_follows_a_new_import(geo_con, tmp_path):
    con = geo_con
    _import(con, tmp_path, "ess_2023.csv", "2023;01;Ain;Ensemble;1 210;14 020,5;421 000 000\n")
    jobs = plan.add_action(con, "departement", "01", "Doubler les emplois", indicator="ess_jobs")
    wages = plan.add_action(con, "departement", "01", "Salaires", indicator="wage_bill")
    assert (
        plan.get_action(con, jobs)["baseline_value"],
        plan.get_action(con, jobs)["baseline_year"],
    ) == (14020.5, 2023)
    assert plan.get_action(con, wages)["baseline_value"] == 421_000_000.0

    second = _import(
        con, tmp_path, "ess_2024.csv", "2024;01;Ain;Ensemble;1 250;15 000;450 000 000\n"
    )
    a, w = plan.get_action(con, jobs), plan.get_action(con, wages)
    assert (a["baseline_value"], a["baseline_year"]) == (14020.5, 2023)
    assert (a["latest_value"], a["latest_year"]) == (15000.0, 2024)
    assert (w["baseline_value"], w["latest_value"], w["latest_year"]) == (421e6, 450e6, 2024)
    assert a["latest_value"] == indicators.key_figures(con, "departement", "01")["ess_jobs"]

    ingest.undo_import(con, second.import_id)
    a = plan.get_action(con, jobs)
    assert (a["latest_value"], a["latest_year"]) == (14020.5, 2023)

    # Choosing another indicator measures a new baseline; keeping it keeps the frozen one.
    plan.update_action(con, jobs, indicator="ess_establishments", target=1300)
    a = plan.get_action(con, jobs)
    assert (a["baseline_value"], a["target"]) == (1210.0, 1300.0)


# --- the log and undo --------------------------------------------------------------------------


def test_status_changes_are_logged_and_undone(voted):
    con, session, _ids = voted
    first = plan.from_workshop(con, session.session_id)[0]
    assert plan.set_status(con, first, "en cours") is True
    assert plan.set_status(con, first, "fait") is True
    assert plan.set_status(con, first, "fait") is False  # nothing changed, nothing logged
    log = plan.history(con, "departement", "01")
    assert [e["kind"] for e in log] == ["status", "status", "create"]
    assert plan.status_counts(con, "departement", "01")["fait"] == 1
    assert plan.last_change(con, "departement", "01") == "le changement de statut"

    assert plan.undo_last(con, "departement", "01") == "le changement de statut"
    assert plan.get_action(con, first)["status"] == "en_cours"
    plan.undo_last(con, "departement", "01")
    assert plan.get_action(con, first)["status"] == "a_lancer"
    assert [e["undone"] for e in plan.history(con, "departement", "01")] == [True, True, False]

    with pytest.raises(plan.PlanError, match="Statut inconnu"):
        plan.set_status(con, first, "terminé")


def test_edits_notes_deletion_and_creation_are_undone(voted):
    con, session, _ids = voted
    first, second, *_ = plan.from_workshop(con, session.session_id)
    plan.update_action(con, first, owner="  CCAS  ", due_date="2027-06-30", budget=15000)
    a = plan.get_action(con, first)
    assert (a["owner"], a["due_date"], a["budget"]) == ("CCAS", dt.date(2027, 6, 30), 15000.0)
    note = plan.add_note(con, first, "Réunion avec la coopérative", author="Awa")
    assert [n["note_id"] for n in plan.notes(con, first)] == [note]
    plan.delete_action(con, second)
    assert second not in [x["action_id"] for x in plan.actions(con, "departement", "01")]

    assert plan.undo_last(con, "departement", "01") == "la suppression d'une action"
    assert second in [x["action_id"] for x in plan.actions(con, "departement", "01")]
    plan.undo_last(con, "departement", "01")
    assert plan.notes(con, first) == []
    plan.undo_last(con, "departement", "01")
    a = plan.get_action(con, first)
    assert (a["owner"], a["due_date"], a["budget"]) == (None, None, None)
    plan.undo_last(con, "departement", "01")  # the creation from the workshop
    assert plan.actions(con, "departement", "01") == []
    assert plan.undo_last(con, "departement", "01") is None


def test_partners_are_actors_of_the_directory(voted):
    from indicators_fixtures import insert_actors

    con, session, _ids = voted
    insert_actors(con)
    first = plan.from_workshop(con, session.session_id)[0]
    choices = plan.partner_choices(con, "departement", "01")
    ids = [c[0] for c in choices]
    assert ids and "A3a" in ids  # Mutuelle Ville, the Ain's largest ESS employer
    assert ids[0] == "A3a" and choices[0][1].startswith("Mutuelle Ville — ")
    plan.update_action(con, first, partners=["A3a", "A1", "A3a"])
    a = plan.get_action(con, first)
    assert a["partners"] == ["A3a", "A1"]
    assert a["partner_names"] == ["Mutuelle Ville", "Asso Bocage"]
    plan.undo_last(con, "departement", "01")
    assert plan.get_action(con, first)["partners"] == []


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"title": "  "}, "Le titre est obligatoire"),
        ({"budget": -5}, "ne peut pas être négatif"),
        ({"indicator": "nope"}, "Indicateur inconnu"),
        ({"indicator": "sector_jobs"}, "Choisissez le secteur"),
        ({"due_date": "31/12/2027"}, "Date invalide"),
        ({"partners": ["inconnu"]}, "Acteur inconnu"),
        ({"session_id": "x"}, "Champ non modifiable"),
    ],
)
def test_bad_edits_are_refused_in_french(voted, changes, message):
    con, session, _ids = voted
    second = plan.from_workshop(con, session.session_id)[1]  # follows the Ain's ESS jobs
    with pytest.raises(plan.PlanError, match=message):
        plan.update_action(con, second, **changes)


# --- the follow-up and the evaluation ---------------------------------------------------------


def test_follow_up_counts_workshops_actions_and_done(voted):
    con, session, _ids = voted
    first, *_ = plan.from_workshop(con, session.session_id)
    plan.set_status(con, first, "fait")
    later = workshop.create_session(con, "departement", "01", "Atelier 2", dt.date(2027, 3, 1))
    rows = plan.follow_up(con, "departement", "01")
    assert [(r["title"], r["participants"], r["votes"], r["actions"], r["done"]) for r in rows] == [
        ("Atelier ESS de l'Ain", 3, 6, 4, 1),
        ("Atelier 2", 0, 0, 0, 0),
    ]
    assert rows[1]["session_id"] == later.session_id
    part = evaluation.participation(con, "departement", "01")
    assert part["totals"] == {
        "participants": 3,
        "contributions": 19,
        "votes": 6,
        "actions": 4,
        "done": 1,
        "workshops": 2,
    }


def test_evaluation_series_equal_the_indicators(voted):
    con = voted[0]
    # Wage bill rows for two communes of the Ain (2023): the département sums them.
    for commune, value in (("01001", 900_000.0), ("01004", 6_000_000.0)):
        con.execute(
            "INSERT INTO ess_stats VALUES ('commune', ?, 2023, NULL, NULL, 'masse_salariale', ?,"
            " 'urssaf_test', NULL)",
            [commune, value],
        )
    series = evaluation.series(con, "departement", "01")
    evolution = indicators.evolution(con, "departement", "01")
    assert [r["year"] for r in series["rows"]] == [2021, 2022, 2023]
    for row, ev in zip(series["rows"], evolution["series"], strict=True):
        key = indicators.key_figures(con, "departement", "01", row["year"])
        assert row["ess_establishments"] == key["ess_establishments"]
        assert row["ess_jobs"] == key["ess_jobs"] == ev["ess_jobs"]
        assert row["non_ess_private_jobs"] == key["non_ess_private_jobs"]
        assert (row["ess_index"], row["non_ess_index"]) == (ev["ess_index"], ev["non_ess_index"])
    assert [r["wage_bill"] for r in series["rows"]] == [None, None, 6_900_000.0]
    assert [(r["ess_establishments"], r["ess_jobs"]) for r in series["rows"]] == [
        (17, 274.0),
        (18, 262.0),
        (18, 280.0),
    ]
    assert evaluation.wage_bill(con, "commune", "01004", 2023) == 6_000_000.0
    assert plan.measure(con, "wage_bill", "departement", "01") == (6_900_000.0, 2023)


def test_evaluation_wage_bill_from_an_urssaf_file(geo_con, tmp_path):
    _import(
        geo_con,
        tmp_path,
        "ess.csv",
        "2022;01;Ain;Ensemble;1 200;13 900;400 000 000\n"
        "2023;01;Ain;Ensemble;1 210;14 020,5;421 000 000\n"
        "2023;01;Ain;Associations;1 050;11 000;300 000 000\n",
    )
    rows = evaluation.series(geo_con, "departement", "01")["rows"]
    assert [(r["year"], r["ess_establishments"], r["ess_jobs"], r["wage_bill"]) for r in rows] == [
        (2022, 1200, 13900.0, 400e6),
        (2023, 1210, 14020.5, 421e6),
    ]
    for r in rows:
        key = indicators.key_figures(geo_con, "departement", "01", r["year"])
        assert (r["ess_establishments"], r["ess_jobs"]) == (
            key["ess_establishments"],
            key["ess_jobs"],
        )
    # No wage bill where none was imported: None with a reason, never 0.
    assert evaluation.wage_bill(geo_con, "departement", "69", 2023) is None


def test_evidence_keeps_a_file_name_only_and_is_undoable(voted):
    con = voted[0]
    eid = evaluation.add_evidence(
        con,
        "departement",
        "01",
        "documents_cadres",
        "Le PLUi cite l'ESS",
        link="https://example.org/plui",
        file_name="C:\\Users\\awa\\..\\secret\\deliberation-2027.pdf",
        who="Awa",
        evidence_date=dt.date(2027, 1, 15),
    )
    entries = evaluation.evidence(con, "departement", "01")
    assert [(e["evidence_id"], e["file_name"], e["link"]) for e in entries] == [
        (eid, "deliberation-2027.pdf", "https://example.org/plui")
    ]
    assert evaluation.add_evidence(
        con, "departement", "01", "cooperation", "x", file_name="/etc/passwd"
    )
    assert evaluation.evidence(con, "departement", "01")[1]["file_name"] == "passwd"
    with pytest.raises(evaluation.EvaluationError, match="https://"):
        evaluation.add_evidence(
            con, "departement", "01", "cooperation", "x", link="javascript:alert(1)"
        )
    with pytest.raises(evaluation.EvaluationError, match="Critère inconnu"):
        evaluation.add_evidence(con, "departement", "01", "nope", "x")
    assert plan.undo_last(con, "departement", "01") == "l'ajout d'un élément d'évaluation"
    assert len(evaluation.evidence(con, "departement", "01")) == 1
    doc = evaluation.document(con, "departement", "01")
    assert [c["key"] for c in doc["criteria"]] == [c.key for c in evaluation.CRITERIA]
    assert len(doc["criteria"]) == 7
    assert doc["criteria"][1]["evidence"][0]["text"] == "Le PLUi cite l'ESS"


# --- the CLI -----------------------------------------------------------------------------------


def _run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(argv)
    return code, out.getvalue()


@pytest.fixture
def voted_file(tmp_path):
    from workshop_fixtures import seed_territory

    path = tmp_path / "plan.duckdb"
    con = store.connect(path)
    seed_territory(con)
    session, _people, _ids = drive_session(con)
    con.close()
    return path, session


def test_cli_plan_from_atelier_show_and_export(voted_file, tmp_path):
    path, session = voted_file
    code, out = _run(["plan", "from-atelier", session.join_code.lower(), "--db", str(path)])
    assert code == 0 and "4 action(s)" in out
    # By session id too; nothing new the second time.
    code, out = _run(["plan", "from-atelier", session.session_id, "--json", "--db", str(path)])
    assert code == 0 and json.loads(out)["created"] == []

    code, out = _run(["plan", "show", "--level", "departement", "01", "--json", "--db", str(path)])
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"territory", "actions"}
    assert doc["territory"]["code"] == "01" and doc["territory"]["name"] == "Ain"
    contract = {"id", "title", "origin", "votes", "owner", "due", "status", "indicator",
                "baseline", "target", "latest"}  # fmt: skip
    for action in doc["actions"]:
        assert contract <= set(action)
    assert [(a["title"], a["votes"]) for a in doc["actions"]] == VOTED
    second = doc["actions"][1]
    assert (second["status"], second["indicator"], second["baseline"], second["latest"]) == (
        "a_lancer",
        "ess_jobs",
        280.0,
        280.0,
    )
    assert second["origin"]["join_code"] == session.join_code
    assert second["due"] is None and second["target"] is None

    out_dir = tmp_path / "sorties" / "plan"
    code, out = _run(
        ["plan", "export", "--level", "departement", "01", "--out", str(out_dir), "--db", str(path)]
    )
    assert code == 0
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == sorted(plan_export.file_names("departement", "01").values())
    text = _pdf_text(
        (out_dir / plan_export.file_names("departement", "01")["plan_pdf"]).read_bytes()
    )
    for expected in ("Plan d'action", "État du plan", "Actions", "Ateliers et suivi",
                     "1. Une épicerie solidaire", "4. Un forum annuel de l'ESS",
                     "Emplois de l'ESS : 280 en 2023", "dernière valeur 280 en 2023"):  # fmt: skip
        assert expected in text, expected

    code, _ = _run(["plan", "show", "--level", "departement", "99", "--db", str(path)])
    assert code == 1
    code, _ = _run(["plan", "from-atelier", "ZZZZZZ", "--db", str(path)])
    assert code == 1


# --- exports -------------------------------------------------------------------------------------


def test_plan_and_evaluation_exports_escape_and_carry_values(voted):
    con, session, _ids = voted
    first, *_ = plan.from_workshop(con, session.session_id)
    plan.update_action(con, first, title='=HYPERLINK("http://x")', owner=EVIL, target=12)
    plan.add_note(con, first, "Premier comité de pilotage", note_date=dt.date(2027, 2, 1))
    evaluation.add_evidence(
        con, "departement", "01", "reconnaissance", "Article dans la presse", who="Awa"
    )

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(plan_export.plan_xlsx(con, "departement", "01")))
    assert book.sheetnames == ["Plan d'action", "Notes de suivi", "Ateliers"]
    sheet = book["Plan d'action"]
    headers = [c.value for c in sheet[1]]
    assert headers == list(plan_export.PLAN_COLUMNS)
    cell = sheet.cell(row=2, column=2)
    assert cell.value == '=HYPERLINK("http://x")' and cell.data_type == "s"
    assert sheet.cell(row=2, column=headers.index("Cible") + 1).value == 12
    assert book["Notes de suivi"].cell(row=2, column=4).value == "Premier comité de pilotage"

    book = load_workbook(io.BytesIO(plan_export.evaluation_xlsx(con, "departement", "01")))
    assert book.sheetnames == ["Critères", "Séries", "Participation", "Éléments qualitatifs"]
    assert book["Critères"].max_row == 8
    assert [c.value for c in book["Séries"]["C"]][1:] == [274, 262, 280]

    text = _pdf_text(plan_export.evaluation_pdf(con, "departement", "01"))
    for i, criterion in enumerate(evaluation.CRITERIA, 1):
        assert f"{i}. {criterion.label}" in text
    for expected in ("2023", "280", "Article dans la presse", "apporté par Awa",
                     "3 participants", "4 actions décidées"):  # fmt: skip
        assert expected in text, expected
    text = _pdf_text(plan_export.plan_pdf(con, "departement", "01"))
    assert "Premier comité de pilotage" in text and "cible 12" in text


def test_synthesis_gains_suites_donnees_once_a_plan_exists(voted):
    con, session, _ids = voted
    figures = report.KeyFigures()
    before = report.build_html(con, session.session_id, figures=figures)
    assert "Suites données" not in before
    first, *_ = plan.from_workshop(con, session.session_id)
    plan.update_action(con, first, title=EVIL, status="en_cours", owner="CCAS")
    files = report.export_all(con, session.session_id)
    html = files["html"].decode()
    assert "<h2>Suites données</h2>" in html
    assert EVIL not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    text = _pdf_text(files["pdf"])
    assert "Suites données" in text and "en cours · porteur : CCAS" in text
    assert "Emplois de l'ESS : 280 en 2023" in text

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(files["xlsx"]))
    assert book["Suites données"].cell(row=2, column=2).value == EVIL


def test_synthesis_says_demonstration_data_not_source_demo(voted):
    con, session, _ids = voted
    store.set_meta(con, "demo", "1")
    with store.transaction(con):
        store.bump_data_version(con)
        derived.refresh(con)
    text = _pdf_text(report.build_pdf(con, session.session_id))
    assert "Données de démonstration" in text
    assert "Source : demo" not in text
    doc = {"demo": False, "jobs_source": "statistiques", "sources": ["demo", "urssaf"]}
    assert report_content._source_note(doc) == "Source : données de démonstration, urssaf."
