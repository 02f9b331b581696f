"""Observatory / CRESS tables: long, one column per measure, one column per year."""

from __future__ import annotations

import pytest
from ingest_helpers import FIXTURES, snapshot, write

from ess_diag import ingest
from ess_diag.ingest import observatoire


def _stats(con, where: str = "TRUE") -> list[tuple]:
    return con.execute(
        "SELECT level, code, year, family, sector, measure, value, source FROM ess_stats "
        f"WHERE {where} ORDER BY level, code, year, family NULLS FIRST, sector NULLS FIRST, "
        "measure"
    ).fetchall()


def test_long_layout(geo_con):
    report = ingest.run_import(geo_con, [FIXTURES / "observatoire_long.csv"])
    assert report.status == "committed", report.errors
    f = report.files[0]
    assert (f.format, f.separator, f.decimal_comma) == ("observatoire_long", ";", True)
    # The masse salariale of 01005 is secret ("s"): that line is set aside, said so.
    assert [(s.reason, s.rows, s.column) for s in report.set_aside] == [
        ("Valeur non publiée (secret statistique)", [16], "Valeur")
    ]
    assert _stats(geo_con, "code IN ('01004', '84')") == [
        ("commune", "01004", 2023, None, None, "effectifs", 100.0, "observatoire"),
        ("commune", "01004", 2023, None, None, "effectifs_femmes", 62.5, "observatoire"),
        ("commune", "01004", 2023, None, None, "etablissements", 4.0, "observatoire"),
        ("commune", "01004", 2023, None, "finance_assurance", "effectifs", 40.0, "observatoire"),
        ("commune", "01004", 2023, None, "sante", "effectifs", 60.0, "observatoire"),
        ("commune", "01004", 2023, "cooperative", None, "effectifs", 40.0, "observatoire"),
        ("commune", "01004", 2023, "mutuelle", None, "effectifs", 60.0, "observatoire"),
        # "1 234 567,5": thousands separated by spaces, decimal comma
        ("region", "84", 2023, None, None, "effectifs", 1234567.5, "observatoire"),
    ]


def test_measure_columns_merged_commune_and_derived_totals(geo_con):
    report = ingest.run_import(geo_con, [FIXTURES / "observatoire_mesures.csv"])
    assert report.status == "committed", report.errors
    assert report.files[0].format == "observatoire_mesures"
    rows = _stats(geo_con, "code = '01001' AND measure = 'effectifs'")
    assert rows == [
        # the file's own total (33) plus its commune déléguée 01099 (2)
        ("commune", "01001", 2022, None, None, "effectifs", 35.0, "observatoire"),
        # derived from the family × sector rows, which the file does not total itself
        (
            "commune",
            "01001",
            2022,
            None,
            "action_sociale_sans_hebergement",
            "effectifs",
            28.0,
            "observatoire",
        ),
        (
            "commune",
            "01001",
            2022,
            None,
            "organisations_associatives",
            "effectifs",
            5.0,
            "observatoire",
        ),
        ("commune", "01001", 2022, "association", None, "effectifs", 33.0, "observatoire"),
        (
            "commune",
            "01001",
            2022,
            "association",
            "action_sociale_sans_hebergement",
            "effectifs",
            28.0,
            "observatoire",
        ),
        (
            "commune",
            "01001",
            2022,
            "association",
            "organisations_associatives",
            "effectifs",
            5.0,
            "observatoire",
        ),
    ]
    assert _stats(
        geo_con,
        "code = '01001' AND family IS NULL AND sector IS NULL AND measure = 'masse_salariale'",
    ) == [("commune", "01001", 2022, None, None, "masse_salariale", 1050000.5, "observatoire")]


def test_year_columns(geo_con):
    report = ingest.run_import(geo_con, [FIXTURES / "observatoire_annees.csv"])
    assert report.status == "committed", report.errors
    assert report.files[0].format == "observatoire_annees"
    assert report.rows_set_aside == 0
    # The secret 2023 cell of a loaded line is reported as a warning.
    assert any("secret statistique" in w and "ligne 4" in w for w in report.warnings)
    assert _stats(geo_con, "level = 'epci' AND measure = 'effectifs'") == [
        ("epci", "200000001", y, None, None, "effectifs", v, "observatoire")
        for y, v in ((2020, 40.0), (2021, 42.0), (2022, 44.0), (2023, 46.0))
    ]
    assert _stats(geo_con, "level = 'departement'") == [
        ("departement", "01", y, "association", None, "effectifs", v, "observatoire")
        for y, v in ((2020, 100.0), (2021, 104.0), (2022, 110.0))
    ]


def test_reimport_replaces_the_same_figures(geo_con):
    ingest.run_import(geo_con, [FIXTURES / "observatoire_long.csv"])
    n = geo_con.execute("SELECT count(*) FROM ess_stats").fetchall()
    again = ingest.run_import(geo_con, [FIXTURES / "observatoire_long.csv"])
    assert again.status == "committed"
    assert geo_con.execute("SELECT count(*) FROM ess_stats").fetchall() == n
    ingest.undo_import(geo_con, again.import_id)
    assert geo_con.execute("SELECT count(*) FROM ess_stats").fetchall() == n


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Coopératives", "cooperative"),
        ("ASSOCIATIONS", "association"),
        ("Sociétés commerciales de l'ESS", "societe_commerciale"),
        ("Ensemble", None),
        ("", None),
        ("Hors ESS", "hors_ess"),
        ("Syndicats", False),
    ],
)
def test_family_key(text, expected):
    assert observatoire.family_key(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("88 Action sociale sans hébergement", "action_sociale_sans_hebergement"),
        ("88", "action_sociale_sans_hebergement"),
        ("65 - Assurance", "finance_assurance"),
        ("88.10A", "action_sociale_sans_hebergement"),
        ("Santé humaine", "sante"),
        ("sport_loisirs", "sport_loisirs"),
        ("Tous secteurs", None),
        ("Sidérurgie lunaire", False),
    ],
)
def test_sector_key(text, expected):
    assert observatoire.sector_key(text) == expected


LONG = "Niveau;Code territoire;Année;Famille;Indicateur;Valeur\n"
BAD = [
    pytest.param(
        LONG + "Commune;01001;2023;Ensemble;Effectifs;35\nCommune;01004;deux mille;Ensemble;"
        "Effectifs;10\n",
        ["obs.csv", "ligne 3", "colonne « Année »", "« deux mille » n'est pas une année"],
        id="year-cell-not-a-year",
    ),
    pytest.param(
        "Niveau;Code;Indicateur;2022;20X3\nCommune;01001;Effectifs;30;35\n",
        ["obs.csv", "colonne « 20X3 »", "n'est pas une année"],
        id="year-column-not-a-year",
    ),
    pytest.param(
        LONG + "Commune;01001;2023;Ensemble;Effectifs;-35\n",
        ["ligne 2", "colonne « Valeur »", "« -35 » est négatif"],
        id="negative",
    ),
    pytest.param(
        LONG + "Commune;01001;2023;Ensemble;Effectifs;trente\n",
        ["ligne 2", "colonne « Valeur »", "« trente » n'est pas un nombre"],
        id="non-numeric",
    ),
    pytest.param(
        LONG + "Département;01;2023;Ensemble;Effectifs;145\nRégion;84;2023;Ensemble;Effectifs;9\n"
        "Département;1;2023;Ensemble;Effectifs;150\n",
        ["deux fois", "departement 01, 2023, effectifs", "ligne 2", "ligne 4"],
        id="same-territory-year-two-values",
    ),
    pytest.param(
        "Code commune;Année;Établissements;Effectifs salariés\n01001;2023;3;35\n01001;2023;3;36\n",
        ["deux fois", "commune 01001, 2023, effectifs", "ligne 2", "ligne 3"],
        id="same-commune-year-measure-columns",
    ),
    pytest.param("", ["obs.csv", "vide"], id="empty"),
    pytest.param(
        "Niveau;Code territoire;Année;Indicateur\nCommune;01001;2023;Effectifs\n",
        ["obs.csv", "ni colonnes d'années", "ni colonne « Valeur »"],
        id="indicator-without-values",
    ),
    pytest.param(
        "Code commune;Année;Salariés hommes\n01001;2023;12\n",
        [
            "ressemble le plus au format « Tableau d'observatoire ESS (une colonne par mesure) »",
            "effectifs",
        ],
        id="wrong-columns",
    ),
]


@pytest.mark.parametrize(("content", "fragments"), BAD)
def test_bad_input_is_refused_and_database_unchanged(geo_con, tmp_path, content, fragments):
    ingest.run_import(geo_con, [FIXTURES / "observatoire_long.csv"])
    before = snapshot(geo_con)
    report = ingest.run_import(geo_con, [write(tmp_path / "obs.csv", content)])
    assert report.status == "rejected"
    message = " ".join(report.errors)
    for fragment in fragments:
        assert fragment in message, message
    assert snapshot(geo_con) == before


def test_rows_that_do_not_belong_are_set_aside(geo_con, tmp_path):
    path = write(
        tmp_path / "obs.csv",
        "Code territoire;Année;Famille;Indicateur;Valeur\n"
        "01001;2023;Ensemble;Effectifs;35\n"  # commune (5 characters): level inferred
        "53;2023;Ensemble;Effectifs;10\n"  # région or département 53? not guessed
        "99999;2023;Ensemble;Effectifs;1\n"  # unknown commune
        "01004;2023;Syndicats;Effectifs;4\n"  # not an ESS family
        "01004;2023;Ensemble;Chiffre d'affaires;4\n",  # unknown indicator
    )
    report = ingest.run_import(geo_con, [path])
    assert report.status == "committed", report.errors
    assert report.rows_loaded == 1
    reasons = {s.reason.split(" (")[0]: s.rows for s in report.set_aside}
    assert reasons == {
        "Niveau de territoire absent": [3],
        "Code commune inconnu": [4],
        "Famille ESS inconnue": [5],
        "Indicateur inconnu": [6],
    }
    assert report.unresolved_communes == ["99999"]
    assert _stats(geo_con) == [
        ("commune", "01001", 2023, None, None, "effectifs", 35.0, "observatoire")
    ]


def test_two_files_with_different_year_columns(geo_con, tmp_path):
    a = write(
        tmp_path / "a.csv", "Niveau;Code;Indicateur;2020;2021\nEPCI;200000001;Effectifs;40;42\n"
    )
    b = write(tmp_path / "b.csv", "Niveau;Code;Indicateur;2022\nEPCI;200000001;Effectifs;44\n")
    report = ingest.run_import(geo_con, [a, b])
    assert report.status == "committed", report.errors
    assert (report.rows_set_aside, report.warnings) == (0, [])
    assert [r[2:7] for r in _stats(geo_con)] == [
        (y, None, None, "effectifs", v) for y, v in ((2020, 40.0), (2021, 42.0), (2022, 44.0))
    ]


def test_identical_figure_in_two_lines_counts_once(geo_con, tmp_path):
    path = write(
        tmp_path / "obs.csv",
        "Niveau;Code;Indicateur;2021;2022\nEPCI;200000001;Effectifs;42;44\n"
        "EPCI;200000001;Effectifs;42;44\n",
    )
    report = ingest.run_import(geo_con, [path])
    assert report.status == "committed", report.errors
    assert (report.rows_loaded, report.rows_set_aside, report.duplicates) == (1, 1, 2)
    assert [r[2:7] for r in _stats(geo_con)] == [
        (2021, None, None, "effectifs", 42.0),
        (2022, None, None, "effectifs", 44.0),
    ]


def test_cress_workbook_with_title_rows_and_notes(geo_con):
    """An observatory workbook as published: title rows, a note below the table, secrets."""
    report = ingest.run_import(geo_con, [FIXTURES / "observatoire_cress_communes.xlsx"])
    assert report.status == "committed", report.errors
    f = report.files[0]
    assert (f.format, f.container, f.header_row) == ("observatoire_mesures", "xlsx", 4)
    # The note under the table carries no figure: set aside, said so.
    assert [(a.reason, a.rows) for a in report.set_aside] == [
        ("Ligne sans chiffre (note, titre ou ligne vide)", [9])
    ]
    assert _stats(geo_con, "family IS NULL AND sector IS NULL AND measure = 'effectifs'") == [
        ("commune", c, 2023, None, None, "effectifs", v, "observatoire")
        for c, v in (("01001", 35.0), ("01004", 100.0), ("01005", 10.0))
    ]
    assert any("secret statistique" in w and "ligne 7" in w for w in report.warnings)
