"""Every nomenclature mapping, checked against DATA.md (hand-copied values)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from ess_diag import nomenclatures as nom

# --- legal forms --------------------------------------------------------------------------

ASSOCIATIONS = ["9210", "9220", "9221", "9222", "9223", "9230", "9240", "9260"]
FONDATIONS = ["9300"]
MUTUELLES = ["8210", "8250", "8290", "6411"]
# DATA.md list, written out by hand (ranges expanded).
COOPERATIVES = (
    ["5203", "5307", "5309", "5443", "5451", "5453", "5454", "5455", "5458", "5459", "5460"]
    + ["5543", "5547", "5551", "5552", "5553", "5554", "5555", "5558", "5559", "5560"]
    + ["5643", "5647", "5651", "5652", "5653", "5654", "5655", "5658", "5659", "5660"]
    + ["6316", "6317", "6318", "6543", "6551", "6554", "6558", "6560", "5195"]
    + ["5191", "5192", "5193", "5194", "5196", "6100", "6595", "6596"]
    + ["5432", "5532", "5632", "6532"]
)


def test_categories_juridiques_exactly_data_md():
    expected = {
        **{c: "association" for c in ASSOCIATIONS},
        **{c: "fondation" for c in FONDATIONS},
        **{c: "mutuelle" for c in MUTUELLES},
        **{c: "cooperative" for c in COOPERATIVES},
    }
    assert nom.CATEGORIES_JURIDIQUES == expected
    assert len(COOPERATIVES) == 52


@pytest.mark.parametrize(
    ("cj", "flag", "listed", "family"),
    [
        ("9220", None, False, "association"),
        (9220, "N", False, "association"),  # legal form wins over a 'N' flag
        ("9220.0", None, False, "association"),
        ("9300", None, False, "fondation"),
        ("8210", None, False, "mutuelle"),
        ("6411", "O", False, "mutuelle"),
        ("5458", None, False, "cooperative"),
        ("6100", None, False, "cooperative"),
        ("5632", None, False, "cooperative"),
        ("5710", "O", False, "societe_commerciale"),
        ("5499", "o", False, "societe_commerciale"),
        ("5710", None, True, "societe_commerciale"),  # ESS France listed counts as flagged
        ("5710", "N", True, "societe_commerciale"),
        ("5710", "N", False, None),
        ("5710", None, False, None),
        ("5710", "", False, None),
        (None, "O", False, "societe_commerciale"),
        (None, None, False, None),
        ("1000", None, False, None),  # entrepreneur individuel
    ],
)
def test_family_for(cj, flag, listed, family):
    assert nom.family_for(cj, flag, listed) == family


@pytest.mark.parametrize(
    ("cj", "naf", "flag", "listed", "expected"),
    [
        ("9220", "88.10A", None, False, True),
        ("9220", "84.11Z", None, False, False),  # public administration
        ("9220", "84.30A", None, False, False),
        ("9220", "94.11Z", None, False, False),  # employers' / consular
        ("9220", "94.12Z", None, False, False),  # professional bodies
        ("9220", "94.20Z", None, False, False),  # trade unions
        ("9220", "94.91Z", None, False, False),  # religious
        ("9220", "94.92Z", None, False, False),  # political
        ("9220", "9492Z", None, False, False),  # unpunctuated form
        ("9220", "94.99Z", None, False, True),  # other associations stay
        ("9220", None, None, False, True),
        ("5458", "94.20Z", None, False, False),
        ("9300", "85.59A", None, False, True),
        ("5710", "62.01Z", "O", False, True),
        ("5710", "62.01Z", "N", False, False),
        ("5710", "62.01Z", None, True, True),
        ("5499", "84.11Z", "O", False, True),  # flagged companies added after the exclusion
        ("5710", "62.01Z", None, False, False),
    ],
)
def test_is_ess(cj, naf, flag, listed, expected):
    assert nom.is_ess(cj, naf, flag, listed) is expected


# --- NAF → sector -------------------------------------------------------------------------

SECTOR_DIVISIONS = {
    "action_sociale_sans_hebergement": ["88"],
    "action_sociale_avec_hebergement": ["87"],
    "sante": ["86"],
    "enseignement": ["85"],
    "arts_spectacles": ["90", "91"],
    "sport_loisirs": ["93"],
    "finance_assurance": ["64", "65", "66"],
    "commerce": ["45", "46", "47"],
    "hebergement_restauration": ["55", "56"],
    "agriculture": ["01", "02", "03"],
    "industrie_construction": [f"{d:02d}" for d in range(5, 44)],
    "soutien_entreprises": [str(d) for d in range(69, 83)],
    "organisations_associatives": ["94"],
    "autres_services": [],
    "non_classe": [],
}


def test_sectors_table():
    assert [s.key for s in nom.SECTORS] == list(SECTOR_DIVISIONS)
    assert {s.key: list(s.divisions) for s in nom.SECTORS} == SECTOR_DIVISIONS
    assert nom.SECTOR_LABELS["sante"] == "Santé humaine"
    assert nom.SECTOR_LABELS["non_classe"] == "Non classé"
    assert len(nom.SECTOR_LABELS) == 15


@pytest.mark.parametrize(
    ("naf", "sector"),
    [
        ("88.10A", "action_sociale_sans_hebergement"),
        ("87.10A", "action_sociale_avec_hebergement"),
        ("86.21Z", "sante"),
        ("85.59A", "enseignement"),
        ("90.01Z", "arts_spectacles"),
        ("91.02Z", "arts_spectacles"),
        ("93.12Z", "sport_loisirs"),
        ("64.19Z", "finance_assurance"),
        ("66.22Z", "finance_assurance"),
        ("47.11F", "commerce"),
        ("55.10Z", "hebergement_restauration"),
        ("56.10A", "hebergement_restauration"),
        ("01.11Z", "agriculture"),
        ("03.22Z", "agriculture"),
        ("05.10Z", "industrie_construction"),
        ("43.99C", "industrie_construction"),
        ("69.20Z", "soutien_entreprises"),
        ("82.99Z", "soutien_entreprises"),
        ("94.99Z", "organisations_associatives"),
        ("94.11Z", "organisations_associatives"),
        ("62.01Z", "autres_services"),
        ("84.11Z", "autres_services"),
        ("96.09Z", "autres_services"),
        ("44.00Z", "autres_services"),  # division 44 does not exist; not industry
        ("8810A", "action_sociale_sans_hebergement"),
        ("88.10a", "action_sociale_sans_hebergement"),
        (None, "non_classe"),
        ("", "non_classe"),
        ("  ", "non_classe"),
        (float("nan"), "non_classe"),
        ("ZZ.ZZZ", "non_classe"),
    ],
)
def test_sector_for_naf(naf, sector):
    assert nom.sector_for_naf(naf) == sector


@pytest.mark.parametrize(
    ("naf", "excluded"),
    [
        ("84.11Z", True),
        ("84.30C", True),
        ("94.11Z", True),
        ("94.12Z", True),
        ("94.20Z", True),
        ("94.91Z", True),
        ("94.92Z", True),
        ("94.99Z", False),
        ("88.10A", False),
        ("83.00Z", False),
        (None, False),
    ],
)
def test_is_excluded_naf(naf, excluded):
    assert nom.is_excluded_naf(naf) is excluded


# --- effectif bands -----------------------------------------------------------------------

BANDS = {
    "NN": 0.0,
    "00": 0.0,
    "01": 1.5,
    "02": 4.0,
    "03": 7.5,
    "11": 14.5,
    "12": 34.5,
    "21": 74.5,
    "22": 149.5,
    "31": 224.5,
    "32": 374.5,
    "41": 749.5,
    "42": 1499.5,
    "51": 3499.5,
    "52": 7499.5,
    "53": 10000.0,
}


def test_effectif_bands_exactly_data_md():
    assert {k: v[1] for k, v in nom.EFFECTIF_BANDS.items()} == BANDS
    assert nom.EFFECTIF_BANDS["42"][0] == "1 000 à 1 999 salariés"


@pytest.mark.parametrize(("band", "jobs"), [*BANDS.items(), (None, 0.0), ("", 0.0), ("1", 1.5)])
def test_jobs_estimate(band, jobs):
    assert nom.jobs_estimate(band) == jobs


@pytest.mark.parametrize("band", ["99", "XX", "1-2"])
def test_jobs_estimate_unknown_band(band):
    with pytest.raises(ValueError, match="Tranche d'effectif inconnue"):
        nom.jobs_estimate(band)


@pytest.mark.parametrize(
    ("band", "employer"),
    [
        ("NN", False),
        ("00", False),
        (None, False),
        ("", False),
        ("01", True),
        ("53", True),
        ("99", False),
    ],
)
def test_is_employer_band(band, employer):
    assert nom.is_employer_band(band) is employer


def test_families_labels():
    assert list(nom.FAMILIES) == [
        "association",
        "cooperative",
        "mutuelle",
        "fondation",
        "societe_commerciale",
    ]
    assert nom.FAMILIES["societe_commerciale"] == "Sociétés commerciales de l'ESS"


# --- SQL mirror ---------------------------------------------------------------------------


def test_register_mirrors_python_tables():
    con = duckdb.connect(":memory:")
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    assert nom.register(con) is True
    assert nom.register(con) is False  # already up to date: no rewrite
    cj = dict(con.execute("SELECT code, family FROM ref_categories_juridiques").fetchall())
    assert cj == nom.CATEGORIES_JURIDIQUES
    eff = con.execute(
        "SELECT band, jobs_estimate, employer FROM ref_effectifs ORDER BY band"
    ).fetchall()
    assert {b: j for b, j, _ in eff} == BANDS
    assert {b for b, _, e in eff if e} == set(BANDS) - {"NN", "00"}
    divisions = dict(con.execute("SELECT division, sector FROM ref_naf_divisions").fetchall())
    assert len(divisions) == 99
    for division, sector in divisions.items():
        assert nom.sector_for_naf(f"{division}.00Z") == sector
    fams = con.execute("SELECT family, label, ord FROM ref_families ORDER BY ord").df()
    expected = pd.DataFrame(
        {
            "family": list(nom.FAMILIES),
            "label": list(nom.FAMILIES.values()),
            "ord": list(range(1, 6)),
        }
    )
    pd.testing.assert_frame_equal(fams, expected, check_dtype=False)
    sectors = con.execute("SELECT sector FROM ref_sectors ORDER BY ord").fetchall()
    assert [s for (s,) in sectors] == list(SECTOR_DIVISIONS)
    excluded = {c for (c,) in con.execute("SELECT code FROM ref_excluded_naf").fetchall()}
    assert excluded == {"94.11Z", "94.12Z", "94.20Z", "94.91Z", "94.92Z"}


def test_register_without_meta_table():
    con = duckdb.connect(":memory:")
    assert nom.register(con) is True
    assert con.execute("SELECT count(*) FROM ref_sectors").fetchall() == [(15,)]
