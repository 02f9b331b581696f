"""Cooperations: networks with at least two members in a territory, counted by hand, and the
map layer that links the members of each network."""

from __future__ import annotations

import json

import cooperation_fixtures as cf
import pandas as pd
import pytest

from ess_diag import cooperation, maps


@pytest.fixture
def con(geo_con):
    cf.insert_members(geo_con)
    return geo_con


@pytest.mark.parametrize(("territory", "expected"), list(cf.EXPECTED.items()), ids=str)
def test_counts_per_territory_are_the_hand_computed_ones(con, territory, expected):
    counts = cooperation.cooperation_counts(con, *territory)
    assert (counts["networks"], counts["members"]) == expected
    assert counts["note"] is None


def test_counts_name_each_network_once_largest_first(con):
    assert cooperation.cooperation_counts(con, "region", "84")["by_network"] == [
        {"network": "PTCE Bocage", "members": 4},
        {"network": "GME Cantine", "members": 3},
    ]
    # Same size: by name.
    assert cooperation.cooperation_counts(con, "departement", "01")["by_network"] == [
        {"network": "GME Cantine", "members": 3},
        {"network": "PTCE Bocage", "members": 3},
    ]


def test_not_additive_a_network_counts_once_per_territory(con):
    # PTCE Bocage has two members in 01001 and one in 01002: it counts in 01001 and in the
    # EPCI, not in 01002; the EPCI's count is not the sum of its communes'.
    communes = [
        cooperation.cooperation_counts(con, "commune", c)["networks"] for c in ("01001", "01002")
    ]
    assert communes == [1, 0]
    assert cooperation.cooperation_counts(con, "epci", "200000001")["members"] == 3


def test_nothing_declared_is_unknown_not_zero(geo_con):
    counts = cooperation.cooperation_counts(geo_con, "departement", "01")
    assert counts["networks"] is None and counts["members"] is None
    assert counts["note"] == cooperation.NOT_DECLARED


def test_members_follow_privacy_and_fall_back_on_the_commune_point(con):
    frame = cooperation.network_members(con, "region", "84")
    assert list(frame.columns) == cooperation.MEMBER_COLUMNS
    ptce = frame[frame["network_key"] == "ptce bocage"]
    assert sorted(ptce["actor_id"]) == ["N1", "N2", "N3", "N6"]
    assert ptce.set_index("actor_id").loc["N6", "name"] == cooperation.PARTIAL
    # N8 has no coordinates: the commune's point stands in (01005 is the square at 5.35, 45.95).
    n8 = frame[frame["actor_id"] == "N8"].iloc[0]
    assert n8["lon"] == pytest.approx(
        con.execute(
            "SELECT lon FROM territories WHERE level = 'commune' AND code = '01005'"
        ).fetchone()[0]
    )
    # Closed N5 and the lone « Solo » network are not there.
    assert "N5" not in set(frame["actor_id"]) and "Solo" not in set(frame["network"])


def test_links_join_each_member_to_its_network_centre(con):
    links = maps.cooperation_links(cooperation.network_members(con, "epci", "200000001"))
    # PTCE Bocage in the EPCI: N1 (4.91, 46.11), N2 (4.93, 46.13), N3 (4.97, 46.12).
    centre = [round((4.91 + 4.93 + 4.97) / 3, 4), round((46.11 + 46.13 + 46.12) / 3, 4)]
    assert [(link["actor_id"], link["source"], link["target"]) for link in links] == [
        ("N3", [4.97, 46.12], centre),
        ("N2", [4.93, 46.13], centre),
        ("N1", [4.91, 46.11], centre),
    ]
    assert {link["network"] for link in links} == {"PTCE Bocage"}


def test_links_skip_members_without_position():
    members = pd.DataFrame(
        [
            ("R", "r", 3, "X1", "Un", "01001", "c", "association", 1.0, 2.0),
            ("R", "r", 3, "X2", "Deux", "01001", "c", "association", 3.0, 4.0),
            ("R", "r", 3, "X3", "Trois", "01001", "c", "association", None, None),
        ],
        columns=cooperation.MEMBER_COLUMNS,
    )
    links = maps.cooperation_links(members)
    assert [link["actor_id"] for link in links] == ["X1", "X2"]
    assert links[0]["target"] == [2.0, 3.0] and links[0]["members"] == 3


def _deck(con, level, code, cooperation_frame):
    outlines = maps.load_outlines(con, level, code, "commune")
    return maps.build_deck(
        outlines,
        {},
        indicator=maps.MAP_INDICATORS["ess_jobs"],
        parent_outline=maps.load_parent_outline(con, level, code),
        cooperation=cooperation_frame,
    )


def test_deck_layer_draws_the_lines_with_text_tooltips_and_a_legend(con):
    con.execute(
        "UPDATE actors SET networks = ['<b>PTCE</b> **Bocage**'] WHERE actor_id IN ('N1', 'N3')"
    )
    view = _deck(con, "departement", "01", cooperation.network_members(con, "departement", "01"))
    spec = json.loads(view.deck.to_json())
    layers = {layer["id"]: layer for layer in spec["layers"]}
    lines = layers["cooperations"]["data"]
    # GME Cantine: N4, N8 (its commune point). « <b>PTCE</b> **Bocage** »: N1, N3 (N2 keeps
    # its own spelling « ptce bocage », a network of one member here: not drawn).
    assert len(lines) == 4
    tips = {line["tip"].split("\n")[0] for line in lines}
    assert tips == {"Réseau : GME Cantine", "Réseau : <b>PTCE</b> **Bocage**"}
    # Text tooltips (deck.gl writes them with innerText): a name is never HTML.
    assert view.deck._tooltip["text"] == "{tip}" and "html" not in view.deck._tooltip
    assert len(layers["cooperations_centres"]["data"]) == 2
    members = {p["tip"].split("\n")[0] for p in layers["cooperations_membres"]["data"]}
    assert members == {
        "Ressourcerie du Bocage",
        "Coop'Bois",
        "Cantine de la Ville",
        "Traiteur ESAT",
    }
    # Two members each: by name (« < » sorts before letters).
    assert [item.label for item in view.cooperation_legend] == [
        "<b>PTCE</b> **Bocage** (2 membres)",
        "GME Cantine (2 membres)",
    ]
    assert view.networks_shown == 2


def test_deck_without_cooperation_has_no_such_layer(con):
    view = _deck(con, "departement", "01", None)
    ids = {layer["id"] for layer in json.loads(view.deck.to_json())["layers"]}
    assert not ids & {"cooperations", "cooperations_membres", "cooperations_centres"}
    assert view.cooperation_legend == [] and view.networks_shown == 0


def test_legend_is_bounded(con):
    members = pd.DataFrame(
        [
            (
                f"Réseau {i:02d}",
                f"réseau {i:02d}",
                2,
                f"X{i}{j}",
                "n",
                "01001",
                "c",
                None,
                4.9 + j / 100,
                46.1,
            )
            for i in range(maps.MAX_COOPERATION_LEGEND + 3)
            for j in range(2)
        ],
        columns=cooperation.MEMBER_COLUMNS,
    )
    view = _deck(con, "departement", "01", members)
    assert len(view.cooperation_legend) == maps.MAX_COOPERATION_LEGEND + 1
    assert view.cooperation_legend[-1].label == "… et 3 autres réseaux"
    assert view.networks_shown == maps.MAX_COOPERATION_LEGEND + 3


def test_network_colours_are_not_family_or_choropleth_colours():
    taken = {c.lower() for c in (*maps.FAMILY_COLORS.values(), *maps.CHOROPLETH_COLORS)}
    assert not taken & {c.lower() for c in maps.COOPERATION_COLORS}
    assert len(set(maps.COOPERATION_COLORS)) == len(maps.COOPERATION_COLORS)
