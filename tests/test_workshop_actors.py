"""A workshop contribution can name the actors it concerns: public names of the session's
territory only, checked whoever asks, undoable, listed in the synthesis."""

from __future__ import annotations

import cooperation_fixtures as cf
import pytest

from ess_diag import store, workshop
from ess_diag.report import content


@pytest.fixture
def con(geo_con):
    cf.insert_members(geo_con)
    return geo_con


@pytest.fixture
def session(con):
    # EPCI 200000001: communes 01001 and 01002 (actors N1, N2, N9 and N3).
    return workshop.create_session(con, "epci", "200000001", "Atelier du Bocage")


def test_choices_are_public_active_ess_names_of_the_territory(con):
    choices = workshop.actor_choices(con, "departement", "01", limit=50)
    # N5 is closed, N8 outside the ESS, N6 (partial diffusion) and N7 are in Lyon.
    assert sorted(a for a, _ in choices) == ["N1", "N2", "N3", "N4", "N9"]
    assert dict(choices)["N3"] == "Coop'Bois (L'Abergement-de-Varey)"
    assert len(workshop.actor_choices(con, "departement", "01", limit=2)) == 2
    lyon = workshop.actor_choices(con, "commune", "69123", limit=50)
    assert [a for a, _ in lyon] == ["N7"]  # never the partial-diffusion entry


def test_post_names_actors_and_the_board_lists_them(con, session):
    cid = workshop.post(
        con, session.session_id, "besoins", "Un local", actor_ids=["N2", "N1", "N2"]
    )
    assert workshop.contribution_actors(con, session.session_id, cid) == ["N2", "N1"]
    row = workshop.board_records(con, session.session_id)[0]
    assert row["actors"] == ["Jardins <b>solidaires</b>", "Ressourcerie du Bocage"]
    other = workshop.post(con, session.session_id, "forces", "Sans acteur")
    assert (
        workshop.board(con, session.session_id).set_index("contribution_id").loc[other, "actors"]
        == []
    )


def test_add_remove_and_undo(con, session):
    sid = session.session_id
    cid = workshop.post(con, sid, "pistes", "Mutualiser un camion")
    workshop.add_actors(con, sid, cid, ["N1"])
    workshop.add_actors(con, sid, cid, ["N3", "N1"])
    assert workshop.contribution_actors(con, sid, cid) == ["N1", "N3"]
    assert workshop.last_action(con, sid) == "acteurs nommés"
    workshop.remove_actors(con, sid, cid, ["N1"])
    assert workshop.contribution_actors(con, sid, cid) == ["N3"]
    assert workshop.undo_last(con, sid) == "acteurs nommés"
    assert workshop.contribution_actors(con, sid, cid) == ["N1", "N3"]
    workshop.undo_last(con, sid)
    assert workshop.contribution_actors(con, sid, cid) == ["N1"]
    workshop.undo_last(con, sid)
    assert workshop.contribution_actors(con, sid, cid) == []
    assert workshop.last_action(con, sid) is None
    # Setting the same actors again logs nothing.
    workshop.set_actors(con, sid, cid, [])
    assert workshop.last_action(con, sid) is None


@pytest.mark.parametrize(
    "actor_ids",
    [
        ["N4"],  # another EPCI
        ["N7"],  # another département
        ["N6"],  # partial diffusion: its name is not public
        ["N5"],  # closed
        ["N8"],  # outside the ESS
        ["N1", "inconnu"],  # one unknown spoils the lot
        ["'; DROP TABLE actors; --"],
    ],
)
def test_foreign_or_private_actor_refused_and_nothing_changes(con, session, actor_ids):
    sid = session.session_id
    cid = workshop.post(con, sid, "besoins", "Un local", actor_ids=["N1"])
    with pytest.raises(workshop.WorkshopError, match="hors du territoire de l'atelier"):
        workshop.set_actors(con, sid, cid, actor_ids)
    with pytest.raises(workshop.WorkshopError, match="hors du territoire"):
        workshop.post(con, sid, "besoins", "Autre", actor_ids=actor_ids)
    assert workshop.contribution_actors(con, sid, cid) == ["N1"]
    assert len(workshop.board(con, sid)) == 1


def test_at_most_max_actors(con):
    s = workshop.create_session(con, "region", "84", "Région")
    cid = workshop.post(con, s.session_id, "besoins", "x")
    many = ["N1", "N2", "N3", "N4", "N7", "N9"]
    assert len(many) > workshop.MAX_ACTORS
    with pytest.raises(workshop.WorkshopError, match=f"au plus {workshop.MAX_ACTORS}"):
        workshop.set_actors(con, s.session_id, cid, many)
    workshop.set_actors(con, s.session_id, cid, many[: workshop.MAX_ACTORS])
    assert len(workshop.contribution_actors(con, s.session_id, cid)) == workshop.MAX_ACTORS


def test_participant_may_name_territory_actors_only(con, session):
    # A participant is a stranger on the room's Wi-Fi: the same check applies to a post.
    pid = workshop.join(con, session.join_code, "Awa", client="192.168.1.30")
    cid = workshop.post(
        con, session.session_id, "besoins", "Un local", participant_id=pid, actor_ids=["N3"]
    )
    assert workshop.contribution_actors(con, session.session_id, cid) == ["N3"]
    with pytest.raises(workshop.WorkshopError, match="hors du territoire"):
        workshop.post(
            con, session.session_id, "besoins", "Lyon", participant_id=pid, actor_ids=["N7"]
        )


def test_merged_duplicates_bring_their_actors_and_partial_rule_applies_on_read(con, session):
    sid = session.session_id
    a = workshop.post(con, sid, "besoins", "Un local", actor_ids=["N1"])
    b = workshop.post(con, sid, "besoins", "Un local partagé", actor_ids=["N3"])
    workshop.merge(con, sid, a, [b])
    assert workshop.board_records(con, sid)[0]["actors"] == ["Coop'Bois", "Ressourcerie du Bocage"]
    # An import later marks N3 as partial diffusion: its name leaves every output.
    con.execute("UPDATE actors SET partial_diffusion = true WHERE actor_id = 'N3'")
    assert workshop.board_records(con, sid)[0]["actors"] == [
        "Ressourcerie du Bocage",
        "diffusion partielle",
    ]


def test_synthesis_lists_the_actors_beside_each_contribution(con, session):
    sid = session.session_id
    workshop.post(con, sid, "pistes", "Mutualiser un camion", actor_ids=["N2", "N1"])
    workshop.post(con, sid, "forces", "Un tissu associatif", actor_ids=["N3"])
    report = content.describe(con, sid, None)
    items = {c.text: c for block in report.categories for c in block.items}
    camion = items["Mutualiser un camion"]
    assert camion.actors == ["Jardins <b>solidaires</b>", "Ressourcerie du Bocage"]
    assert "Acteurs : Jardins <b>solidaires</b>, Ressourcerie du Bocage" in camion.meta
    assert "Acteur : Coop'Bois" in items["Un tissu associatif"].meta
    from ess_diag.report import html as report_html

    page = report_html.render(report)
    assert "Jardins &lt;b&gt;solidaires&lt;/b&gt;" in page
    assert "Jardins <b>solidaires</b>" not in page


def test_synthesis_workbook_has_the_actors_named(con, session):
    import io

    from openpyxl import load_workbook

    from ess_diag.report import xlsx as report_xlsx

    sid = session.session_id
    workshop.post(con, sid, "pistes", "Mutualiser un camion", actor_ids=["N2", "N1"])
    workshop.post(con, sid, "forces", "Sans acteur nommé")
    book = load_workbook(io.BytesIO(report_xlsx.render(content.describe(con, sid, None))))
    rows = list(book["Contributions"].iter_rows(values_only=True))
    column = rows[0].index("Acteurs nommés")
    named = {r[1]: r[column] for r in rows[1:]}
    assert named["Mutualiser un camion"] == "Jardins <b>solidaires</b> | Ressourcerie du Bocage"
    assert named["Sans acteur nommé"] is None


def test_links_table_is_in_the_schema():
    con = store.connect(":memory:")
    cols = [r[0] for r in con.execute("DESCRIBE workshop_contribution_actors").fetchall()]
    assert cols == ["contribution_id", "actor_id", "created_at"]


def test_an_establishment_named_by_its_legal_unit_can_be_named(con, session):
    # SIRENE establishments often carry no name of their own: the legal unit's is public.
    con.execute(
        "INSERT INTO unites_legales (siren, denomination) VALUES ('123456789', 'Régie de quartier')"
    )
    con.execute(
        """INSERT INTO actors (actor_id, siren, commune_code, is_ess, active, jobs, source)
           VALUES ('S1', '123456789', '01002', true, true, 8, 'sirene')"""
    )
    assert ("S1", "Régie de quartier (L'Abergement-de-Varey)") in workshop.actor_choices(
        con, "epci", "200000001", limit=10
    )
    workshop.post(con, session.session_id, "forces", "La régie", actor_ids=["S1"])
    assert workshop.board_records(con, session.session_id)[0]["actors"] == ["Régie de quartier"]
