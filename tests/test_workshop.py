"""Workshop sessions: the whole scenario, votes, merges, undo, limits (ess_diag.workshop)."""

from __future__ import annotations

import datetime as dt

import pytest
from workshop_fixtures import EVIL, drive_session, fresh_con

from ess_diag import store, workshop


@pytest.fixture
def con():
    con = fresh_con()
    yield con
    con.close()


@pytest.fixture
def driven(con):
    return (con, *drive_session(con))


def test_session_survives_a_restart(tmp_path):
    path = tmp_path / "atelier.duckdb"
    con = store.connect(path)
    from workshop_fixtures import seed_territory

    seed_territory(con)
    session, people, ids = drive_session(con)
    before = workshop.board(con, session.session_id)
    con.close()
    con = store.connect(path)
    again = workshop.session_by_code(con, session.join_code)
    assert again == session
    after = workshop.board(con, session.session_id)
    assert after.drop(columns="merged_texts").equals(before.drop(columns="merged_texts"))
    assert list(after["merged_texts"]) == list(before["merged_texts"])
    con.close()


def test_session_fields(driven):
    con, session, people, ids = driven
    assert session.territory_name == "Ain"
    assert session.session_date == dt.date(2026, 11, 23)
    assert session.place == "Salle des fêtes"
    assert len(session.join_code) == 6 and session.join_code.isalnum()
    assert workshop.list_sessions(con, "departement", "01") == [session]
    assert workshop.list_sessions(con, "region", "01") == []


def test_whole_session_board_and_tally(driven):
    con, session, people, ids = driven
    sid = session.session_id
    frame = workshop.board(con, sid)
    # 20 posted, one merged into its duplicate: 19 on the board.
    assert len(frame) == 19
    assert workshop.stats(con, sid) == {
        "participants": 3,
        "contributions": 19,
        "hidden": 0,
        "merged": 1,
        # Alice's two votes on the duplicates count once after the merge: 7 dots - 1.
        "votes": 6,
    }
    assert list(frame["category"].drop_duplicates()) == list(workshop.CATEGORY_ORDER)
    assert workshop.tally(con, sid)[["text", "votes"]].values.tolist() == [
        ["Une épicerie solidaire", 2],
        ["Créer un pôle territorial de coopération", 2],
        ["Un tiers-lieu", 1],
        ["Un forum annuel de l'ESS", 1],
        ["Mutualiser un véhicule", 0],
        ["Une monnaie locale", 0],
        [EVIL, 0],
        ["De la mobilité solidaire", 0],
    ]
    row = frame[frame["contribution_id"] == ids["Une épicerie solidaire"]].iloc[0]
    assert row["merged_count"] == 1
    assert row["merged_texts"] == ["Épicerie solidaire !"]
    assert row["commune_name"] == "L'Abergement-de-Varey"
    assert row["author"] == "Alice"
    # The commune déléguée 01099 was stored as its commune 01001.
    friches = frame[frame["text"] == "Des friches à reconvertir"].iloc[0]
    assert friches["commune_code"] == "01001"


def test_vote_budget_and_refund_after_merge(driven):
    con, session, people, ids = driven
    sid, alice = session.session_id, people["alice"]
    # Alice gave 3 dots (budget 3) but two landed on merged duplicates: one is given back.
    assert workshop.votes_left(con, sid, alice) == 1
    workshop.vote(con, sid, alice, ids["Une monnaie locale"])
    assert workshop.votes_left(con, sid, alice) == 0
    with pytest.raises(workshop.VoteBudgetError, match="utilisé vos 3 votes"):
        workshop.vote(con, sid, alice, ids["Mutualiser un véhicule"])
    workshop.unvote(con, sid, alice, ids["Une monnaie locale"])
    workshop.vote(con, sid, alice, ids["Mutualiser un véhicule"])
    assert workshop.my_votes(con, sid, alice) == {
        ids["Une épicerie solidaire"],
        ids["Créer un pôle territorial de coopération"],
        ids["Mutualiser un véhicule"],
    }


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("Un tissu associatif dense", "seulement sur les besoins et pistes d'action"),
        ("Un tiers-lieu", "déjà voté"),
    ],
)
def test_vote_refusals(driven, label, message):
    con, session, people, ids = driven
    with pytest.raises(workshop.WorkshopError, match=message):
        workshop.vote(con, session.session_id, people["chloe"], ids[label])


def test_vote_on_merged_source_goes_to_target(driven):
    con, session, people, ids = driven
    sid, chloe = session.session_id, people["chloe"]
    workshop.unvote(con, sid, chloe, ids["Un tiers-lieu"])
    workshop.vote(con, sid, chloe, ids["Épicerie solidaire !"])
    assert workshop.tally(con, sid).iloc[0][["text", "votes"]].tolist() == [
        "Une épicerie solidaire",
        3,
    ]
    with pytest.raises(workshop.WorkshopError, match="déjà voté"):
        workshop.vote(con, sid, chloe, ids["Une épicerie solidaire"])


def test_merge_undo_restores_both(driven):
    con, session, people, ids = driven
    sid = session.session_id
    assert workshop.last_action(con, sid) == "fusion"
    assert workshop.undo_last(con, sid) == "fusion"
    tally = dict(workshop.tally(con, sid)[["text", "votes"]].values.tolist())
    assert tally["Une épicerie solidaire"] == 1
    assert tally["Épicerie solidaire !"] == 2
    assert workshop.undo_last(con, sid) is None


def test_merge_chain_stays_flat_and_text_rewrite(driven):
    con, session, people, ids = driven
    sid = session.session_id
    workshop.merge(
        con,
        sid,
        ids["Un tiers-lieu"],
        [ids["Une épicerie solidaire"]],
        text="Un tiers-lieu avec épicerie solidaire",
    )
    frame = workshop.board(con, sid)
    row = frame[frame["contribution_id"] == ids["Un tiers-lieu"]].iloc[0]
    assert row["text"] == "Un tiers-lieu avec épicerie solidaire"
    assert row["merged_count"] == 2
    # Alice, Bruno (épicerie) and Chloé (tiers-lieu): three distinct participants.
    assert row["votes"] == 3
    with pytest.raises(workshop.WorkshopError, match="déjà été fusionnée"):
        workshop.merge(con, sid, ids["Une épicerie solidaire"], [ids["Un tiers-lieu"]])
    workshop.undo_last(con, sid)
    restored = workshop.board(con, sid)
    assert set(restored["text"]) >= {"Un tiers-lieu", "Une épicerie solidaire"}
    assert len(restored) == 19


def test_hide_edit_and_undo(driven):
    con, session, people, ids = driven
    sid, target = session.session_id, ids["Des élus mobilisés"]
    workshop.set_hidden(con, sid, target)
    assert target not in set(workshop.board(con, sid)["contribution_id"])
    assert target in set(workshop.board(con, sid, include_hidden=True)["contribution_id"])
    assert workshop.stats(con, sid)["hidden"] == 1
    workshop.edit(con, sid, ids["Peu de coopératives"], text="Très peu de coopératives")
    assert workshop.undo_last(con, sid) == "modification"
    assert workshop.undo_last(con, sid) == "masquage"
    frame = workshop.board(con, sid)
    assert target in set(frame["contribution_id"])
    assert "Peu de coopératives" in set(frame["text"])


def test_hidden_contribution_votes_do_not_count(driven):
    con, session, people, ids = driven
    sid, chloe = session.session_id, people["chloe"]
    assert workshop.votes_left(con, sid, chloe) == 1
    workshop.set_hidden(con, sid, ids["Un tiers-lieu"])
    assert workshop.votes_left(con, sid, chloe) == 2
    with pytest.raises(workshop.WorkshopError, match="masquée"):
        workshop.vote(con, sid, people["alice"], ids["Un tiers-lieu"])


def _counted(con, sid: str) -> dict[str, int]:
    rows = con.execute(
        "SELECT participant_id, count(*) FROM workshop_counted_votes WHERE session_id = ? "
        "GROUP BY 1",
        [sid],
    ).fetchall()
    return dict(rows)


def test_undoing_a_merge_never_counts_more_votes_than_the_budget(driven):
    con, session, people, ids = driven
    sid, alice = session.session_id, people["alice"]
    # Alice's 3 dots: épicerie, its duplicate (merged: counted once) and the pôle; the
    # refunded dot goes to the monnaie locale.
    workshop.vote(con, sid, alice, ids["Une monnaie locale"])
    before = dict(workshop.tally(con, sid)[["text", "votes"]].values.tolist())
    assert workshop.undo_last(con, sid) == "fusion"
    # Four distinct contributions now carry her dots, but only her 3 earliest count.
    assert _counted(con, sid)[alice] == 3
    assert workshop.votes_left(con, sid, alice) == 0
    assert workshop.my_votes(con, sid, alice) == {
        ids["Une épicerie solidaire"],
        ids["Épicerie solidaire !"],
        ids["Créer un pôle territorial de coopération"],
    }
    after = dict(workshop.tally(con, sid)[["text", "votes"]].values.tolist())
    assert after["Une monnaie locale"] == before["Une monnaie locale"] - 1
    # Every participant within budget, and the board total equals the counted votes.
    assert max(_counted(con, sid).values()) <= session.votes_per_participant
    assert sum(after.values()) == sum(_counted(con, sid).values())
    assert workshop.waiting_votes(con, sid, alice) == {ids["Une monnaie locale"]}
    with pytest.raises(workshop.VoteBudgetError):
        workshop.vote(con, sid, alice, ids["Mutualiser un véhicule"])
    # Taking one back lets the waiting dot count again.
    workshop.unvote(con, sid, alice, ids["Épicerie solidaire !"])
    assert ids["Une monnaie locale"] in workshop.my_votes(con, sid, alice)
    assert workshop.waiting_votes(con, sid, alice) == set()
    assert _counted(con, sid)[alice] == 3


def test_showing_a_hidden_contribution_again_keeps_votes_within_budget(driven):
    con, session, people, ids = driven
    sid, chloe = session.session_id, people["chloe"]
    workshop.set_hidden(con, sid, ids["Un tiers-lieu"])
    workshop.vote(con, sid, chloe, ids["Mutualiser un véhicule"])
    workshop.vote(con, sid, chloe, ids["Une monnaie locale"])
    assert workshop.votes_left(con, sid, chloe) == 0
    assert workshop.undo_last(con, sid) == "masquage"
    assert _counted(con, sid)[chloe] == 3
    # The tiers-lieu vote came first: it counts again; the latest dot (monnaie) waits.
    assert workshop.my_votes(con, sid, chloe) == {
        ids["Un tiers-lieu"],
        ids["Un forum annuel de l'ESS"],
        ids["Mutualiser un véhicule"],
    }


def test_lowering_the_budget_counts_the_earliest_votes(driven):
    con, session, people, ids = driven
    sid, alice = session.session_id, people["alice"]
    workshop.update_session(con, sid, votes_per_participant=1)
    assert workshop.my_votes(con, sid, alice) == {ids["Une épicerie solidaire"]}
    assert workshop.votes_left(con, sid, alice) == 0
    assert max(_counted(con, sid).values()) == 1


def test_a_version_1_database_gets_the_capped_vote_count(tmp_path):
    path = tmp_path / "v1.duckdb"
    con = store.connect(path, migrate=False)
    for script in store.MIGRATIONS[1]:
        con.execute(script)
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', '1')")
    con.close()
    con = store.connect(path)
    # Migrated to the current schema (2: capped vote count; 3: client address hash; 4: derived tables).
    assert store.get_meta(con, "schema_version") == str(store.SCHEMA_VERSION) == "7"
    views = dict(
        con.execute(
            "SELECT view_name, sql FROM duckdb_views() "
            "WHERE view_name IN ('workshop_counted_votes', 'workshop_voted_roots')"
        ).fetchall()
    )
    assert "votes_per_participant" in views["workshop_voted_roots"]
    assert "workshop_voted_roots" in views["workshop_counted_votes"]
    con.close()


def test_delete_session_and_undo(driven):
    con, session, people, ids = driven
    workshop.delete_session(con, session.session_id)
    with pytest.raises(workshop.UnknownSessionError, match="Aucun atelier en cours"):
        workshop.session_by_code(con, session.join_code)
    assert workshop.undo_last(con, session.session_id) == "suppression de l'atelier"
    assert workshop.session_by_code(con, session.join_code) == session


def test_too_long_contribution_refused_in_french(driven):
    con, session, people, ids = driven
    with pytest.raises(workshop.WorkshopError) as err:
        workshop.post(con, session.session_id, "besoins", "a" * 281, participant_id=None)
    assert str(err.value) == (
        "Votre contribution fait 281 caractères : la limite est de 280. "
        "Raccourcissez-la ou découpez-la en plusieurs idées."
    )
    # Exactly the limit passes (blanks collapsed first).
    cid = workshop.post(con, session.session_id, "besoins", "  " + "a" * 280 + "\n")
    frame = workshop.board(con, session.session_id)
    assert frame.loc[frame["contribution_id"] == cid, "text"].item() == "a" * 280


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"category": "besoins", "text": "   "}, "La contribution est vide."),
        ({"category": "idees", "text": "x"}, "Catégorie inconnue « idees »"),
        ({"category": "besoins", "text": "x", "sector": "lune"}, "Secteur inconnu « lune »"),
        (
            {"category": "besoins", "text": "x", "commune_code": "69123"},
            "La commune 69123 n'appartient pas au territoire de l'atelier.",
        ),
    ],
)
def test_bad_contributions(driven, kwargs, message):
    con, session, people, ids = driven
    with pytest.raises(workshop.WorkshopError) as err:
        workshop.post(con, session.session_id, participant_id=people["bruno"], **kwargs)
    assert str(err.value).startswith(message)


def test_rate_limit(driven):
    con, session, people, ids = driven
    sid, bruno = session.session_id, people["bruno"]
    start = dt.datetime(2026, 11, 24, 10, 0, 0)
    for i in range(workshop.RATE_LIMIT_POSTS):
        workshop.post(
            con,
            sid,
            "forces",
            f"idée {i}",
            participant_id=bruno,
            now=start + dt.timedelta(seconds=i),
        )
    with pytest.raises(workshop.RateLimitError) as err:
        workshop.post(
            con,
            sid,
            "forces",
            "une de trop",
            participant_id=bruno,
            now=start + dt.timedelta(seconds=10),
        )
    assert str(err.value) == (
        "Doucement : 6 contributions par minute au plus. Réessayez dans 50 s."
    )
    # Someone else is not limited, nor the facilitator, nor Bruno a minute later.
    workshop.post(con, sid, "forces", "Alice", participant_id=people["alice"], now=start)
    workshop.post(con, sid, "forces", "animateur", now=start + dt.timedelta(seconds=10))
    workshop.post(
        con, sid, "forces", "plus tard", participant_id=bruno, now=start + dt.timedelta(seconds=61)
    )


@pytest.mark.parametrize(
    ("code", "message"),
    [("ZZZZZZ", "Aucun atelier en cours avec le code « ZZZZZZ »"), ("", "Aucun atelier")],
)
def test_join_unknown_code(con, code, message):
    with pytest.raises(workshop.UnknownSessionError, match=message):
        workshop.join(con, code)


def test_unknown_participant_cannot_post(driven):
    con, session, people, ids = driven
    other = workshop.create_session(con, "departement", "01", "Autre atelier")
    with pytest.raises(workshop.WorkshopError, match="Participant inconnu"):
        workshop.post(con, other.session_id, "forces", "x", participant_id=people["alice"])


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("l'abergement de varey", "01002"),
        ("  L'Abergement-de-Varey ", "01002"),
        ("AMBERIEU EN BUGEY", "01004"),
        ("l'abergement clemenciat", "01001"),
        ("01004", "01004"),
        ("Lyon", None),
        ("", None),
    ],
)
def test_resolve_commune_name(con, typed, expected):
    assert workshop.resolve_commune_name(con, "departement", "01", typed) == expected


def test_commune_counts(driven):
    con, session, people, ids = driven
    frame = workshop.commune_counts(con, session.session_id)
    assert frame[["commune_code", "name", "contributions"]].values.tolist() == [
        ["01001", "L'Abergement-Clémenciat", 3],
        ["01002", "L'Abergement-de-Varey", 1],
        ["01004", "Ambérieu-en-Bugey", 2],
    ]
    assert frame.loc[0, "by_category"] == {"forces": 1, "besoins": 1, "opportunites": 1}


def test_synthesis_content(driven):
    con, session, people, ids = driven
    content = workshop.synthesis(con, session.session_id)
    assert [len(content.contributions[c]) for c in workshop.CATEGORY_ORDER] == [4, 3, 4, 2, 2, 4]
    assert content.contributions["besoins"][0]["text"] == "Une épicerie solidaire"
    assert len(content.outlines) == 4
    assert content.stats["votes"] == 6


@pytest.mark.parametrize(("typed", "expected"), [(" acd 347 ", "ACD347"), (None, "")])
def test_normalize_code(typed, expected):
    assert workshop.normalize_code(typed) == expected


def test_join_url():
    assert (
        workshop.join_url("http://192.168.1.20:8501/", "ACD347")
        == "http://192.168.1.20:8501/participer?code=ACD347"
    )
