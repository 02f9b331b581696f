"""The published lists of inclusive and ESUS structures (ingest/inclusion.py), read from
fixtures written on their published column lists (see docs/methodologie.md)."""

from __future__ import annotations

import pytest
from ingest_helpers import FIXTURES, snapshot

from ess_diag import ingest, projection, sourcing

LISTS = FIXTURES / "inclusion"


@pytest.fixture
def con(geo_con):
    """Actors already in the base (as SIRENE would have them)."""
    geo_con.executemany(
        "INSERT INTO actors (actor_id, siret, siren, name, commune_code, naf, is_ess, family, "
        "sector, jobs, jobs_is_estimate, employer, active, lon, lat, source) "
        "VALUES (?, ?, ?, ?, ?, ?, true, 'association', 'non_classe', ?, true, true, true, "
        "5.33, 45.97, 'sirene')",
        [
            ("11111111100011", "11111111100011", "111111111", "PROPRETE SOLIDAIRE", "01004",
             "81.21Z", 14.5),
            # SIRET unknown to the list (another NIC), single establishment of its SIREN.
            ("22222222200014", "22222222200014", "222222222", "ATELIER VERT", "01004",
             "81.30Z", 7.5),
            # Two establishments of one SIREN.
            ("33333333300011", "33333333300011", "333333333", "MULTI SERVICES", "69123",
             "81.21Z", 34.5),
            ("33333333300029", "33333333300029", "333333333", "MULTI SERVICES 2", "69123",
             "81.21Z", 4.0),
        ],
    )  # fmt: skip
    return geo_con


def _actor(con, actor_id):
    row = con.execute(
        "SELECT name, inclusive_kind, esus, source, commune_code, coord_source, is_ess "
        "FROM actors WHERE actor_id = ?",
        [actor_id],
    ).fetchall()
    return row[0] if row else None


def _aside(report):
    return {(s.reason.split(" (")[0], s.column): (s.rows, s.example) for s in report.set_aside}


def test_siae_list_of_the_inclusion_platforms(con):
    report = ingest.run_import(con, [LISTS / "siae_marche_inclusion.csv"])
    assert report.status == "committed", report.errors
    assert report.files[0].format == "liste_siae"
    assert (report.rows_read, report.rows_loaded, report.rows_set_aside) == (7, 3, 4)
    # Matched on SIRET, then on SIREN (single establishment); the others added at their commune.
    assert _actor(con, "11111111100011")[:4] == ("PROPRETE SOLIDAIRE", "EI", None, "sirene")
    assert _actor(con, "22222222200014")[:2] == ("ATELIER VERT", "ACI")
    assert _actor(con, "44444444400044") == (
        "JARDINS DE DOMBES",
        "ACI",
        None,
        "liste_siae",
        "01005",
        "centre_commune",
        False,
    )
    assert report.counts["structures_rapprochees_siret"] == 1
    assert report.counts["structures_rapprochees_siren"] == 1
    assert report.counts["structures_ajoutees"] == 1
    assert _aside(report) == {
        ("Type de structure non retenu", "kind"): ([5], "CLAUSE SOCIALE AIN — « OPCS »"),
        ("SIRET absent de la base et SIREN à plusieurs établissements : précisez le SIRET ou "
         "importez d'abord l'établissement", "siret"): ([6], "MULTI SERVICES — « 33333333300099 »"),
        ("SIRET invalide", "siret"): ([7], "SANS SIRET — « 1234 »"),
        ("Structure absente de la base et commune introuvable", "city"): (
            [8], "NULLE PART — « Atlantis »"),
    }  # fmt: skip
    # The sourcing finds the listed structure by its kind: L2113-13 for the ACI.
    result = sourcing.search(con, sourcing.site_for_commune(con, "01004"), 30, "espaces_verts")
    assert {r["actor_id"]: r["legal_bases"] for r in result.results} == {
        "22222222200014": ["L2113-13"]
    }


def test_undo_restores_the_actors(con):
    before = snapshot(con)
    report = ingest.run_import(con, [LISTS / "siae_marche_inclusion.csv"])
    assert report.status == "committed"
    ingest.undo_import(con, report.import_id)
    assert snapshot(con)["actors"] == before["actors"]


def test_entreprises_adaptees(con):
    report = ingest.run_import(con, [LISTS / "entreprises_adaptees.csv"])
    assert report.status == "committed", report.errors
    assert report.files[0].format == "liste_ea"
    assert _actor(con, "77777777700077")[:5] == ("EA DU VAL", "EA", None, "liste_ea", "69123")
    assert _actor(con, "88888888800088")[1] == "EATT"
    assert _aside(report) == {
        ("Type d'entreprise adaptée inconnu", "Type EA"): ([4], "ATELIER FLOU — « Chantier »")
    }


def test_finess_etalab_extract_esat_only(con):
    report = ingest.run_import(con, [LISTS / "finess_etalab_extrait.csv"])
    assert report.status == "committed", report.errors
    f = report.files[0]
    assert (f.format, f.encoding, f.separator) == ("finess_etalab", "cp1252", ";")
    # Two ESAT added (one placed by its FINESS coordinates), the EHPAD counted, not loaded.
    assert report.counts["finess_autres_categories"] == 1
    assert report.counts["finess_lignes_geolocalisation"] == 2
    assert _actor(con, "12121212100012")[:6] == (
        "ESAT DU BUGEY - ATELIERS",
        "ESAT",
        None,
        "finess",
        "01004",
        "lambert93",
    )
    lon, lat = con.execute(
        "SELECT lon, lat FROM actors WHERE actor_id = '12121212100012'"
    ).fetchall()[0]
    expected = projection.lambert93_to_wgs84(881500.0, 6545000.0)
    assert (lon, lat) == (pytest.approx(float(expected[0])), pytest.approx(float(expected[1])))
    assert _actor(con, "13131313100013")[4] == "69123"
    assert not _actor(con, "14141414100014")  # EHPAD
    assert _aside(report) == {
        ("SIRET invalide", "siret"): ([5], "ESAT SANS SIRET — identifiant absent")
    }


def test_esus_agreements(con):
    ingest.run_import(con, [LISTS / "siae_marche_inclusion.csv"])
    report = ingest.run_import(con, [LISTS / "esus_dreets.csv"])
    assert report.status == "committed", report.errors
    assert report.files[0].format == "liste_esus"
    # The agreement is the legal unit's: both establishments of SIREN 333333333.
    assert _actor(con, "33333333300011")[2] is True
    assert _actor(con, "33333333300029")[2] is True
    # Matched onto the structure the SIAE list added; its kind kept.
    assert _actor(con, "44444444400044")[1:3] == ("ACI", True)
    new = con.execute(
        "SELECT name, esus, is_ess, source, commune_code FROM actors WHERE siren = '515151515'"
    ).fetchall()
    assert new == [("SCIC ALIMENTATION LOCALE", True, True, "liste_esus", "01004")]
    assert _aside(report) == {
        ("Agrément ESUS expiré", "Date de fin de validité"): (
            [5],
            "ANCIEN AGREMENT — fin le 31/12/2021",
        ),
        ("Date d'agrément illisible", "Date d'agrément"): ([6], "DATE ILLISIBLE — « bientôt »"),
    }


def test_lists_together_set_each_actor_once(con):
    report = ingest.run_import(
        con, [LISTS / "siae_marche_inclusion.csv", LISTS / "esus_dreets.csv"]
    )
    assert report.status == "committed", report.errors
    ids = [r[0] for r in con.execute("SELECT actor_id FROM actors").fetchall()]
    assert len(ids) == len(set(ids))
    assert _actor(con, "33333333300011")[2] is True
    ingest.undo_import(con, report.import_id)
    assert con.execute("SELECT count(*) FROM actors").fetchall() == [(4,)]
    assert con.execute(
        "SELECT count(*) FROM actors WHERE esus OR inclusive_kind IS NOT NULL"
    ).fetchall() == [(0,)]
