"""Ingest pieces: sniffing, format recognition, SQL macros, report text, reason codes."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest

from ess_diag import ingest
from ess_diag.ingest import macros, registry, sniff
from ess_diag.ingest.errors import FileRejected, Reason
from ess_diag.ingest.report import fmt_size

FIX = Path(__file__).resolve().parent / "fixtures" / "sirene"
UL = FIX / "StockUniteLegale_extrait.csv"

UL_HEADER = "siren{sep}categorieJuridiqueUniteLegale{sep}denominationUniteLegale\n"


@pytest.mark.parametrize(
    ("content", "encoding", "separator", "decimal_comma"),
    [
        (UL_HEADER.format(sep=",") + "100000001,9220,Crèche\n", "utf-8", ",", False),
        (UL_HEADER.format(sep=";") + "100000001;9220;Crèche\n", "utf-8", ";", False),
        (UL_HEADER.format(sep="\t") + "100000001\t9220\tCrèche\n", "utf-8", "\t", False),
        (UL_HEADER.format(sep="|") + "100000001|9220|Crèche\n", "utf-8", "|", False),
        (UL_HEADER.format(sep=";") + "100000001;9220;12,5\n", "utf-8", ";", True),
        (UL_HEADER.format(sep=",") + '100000001,9220,"12,5"\n', "utf-8", ",", False),
    ],
)
def test_sniff_separator_and_decimal_comma(tmp_path, content, encoding, separator, decimal_comma):
    path = tmp_path / "f.csv"
    path.write_text(content, encoding=encoding)
    info = ingest.inspect_file(path)
    assert (info.encoding, info.separator, info.decimal_comma) == (
        encoding,
        separator,
        decimal_comma,
    )
    assert info.format == "sirene_unites_legales"
    assert info.columns == ["siren", "categorieJuridiqueUniteLegale", "denominationUniteLegale"]


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        ("Crèche Œillet".encode(), "utf-8"),
        ("BOM", "utf-8-sig"),
        ("Crèche Œillet".encode("cp1252"), "cp1252"),
        ("Crèche".encode("latin-1"), "cp1252"),
    ],
)
def test_sniff_encoding(tmp_path, raw, encoding):
    path = tmp_path / "f.csv"
    bom = b""
    if raw == "BOM":  # the byte-order mark opens the file
        bom, raw = b"\xef\xbb\xbf", "Crèche Œillet".encode()
    path.write_bytes(bom + UL_HEADER.format(sep=";").encode() + b"100000001;9220;" + raw + b"\n")
    assert ingest.inspect_file(path).encoding == encoding


def test_utf8_character_cut_by_the_sample_is_still_utf8():
    raw = "é".encode() * 10
    assert sniff.decode_sample(raw[:-1], complete=False)[0] == "utf-8"
    assert sniff.decode_sample(raw[:-1], complete=True)[0] == "cp1252"


def test_gzip_and_header_matching_ignores_case_and_accents(tmp_path):
    path = tmp_path / "ul.csv.gz"
    path.write_bytes(gzip.compress(b"SIREN;Categorie Juridique Unite Legale\n100000001;9220\n"))
    info = ingest.inspect_file(path)
    assert info.compression == "gzip"
    assert info.format == "sirene_unites_legales"
    assert info.mapping == {
        "siren": "SIREN",
        "categorieJuridiqueUniteLegale": "Categorie Juridique Unite Legale",
    }


def test_normalize_header():
    assert registry.normalize_header("\ufeff Code Commune (INSEE) ") == "codecommuneinsee"
    assert registry.normalize_header("Numéro SIREN") == "numerosiren"


def test_recognise_names_missing_columns_and_closest_format():
    with pytest.raises(FileRejected) as exc:
        registry.recognise(["siret", "activitePrincipaleEtablissement"], name="x.csv")
    message = str(exc.value)
    assert "« x.csv » ressemble le plus au format « SIRENE établissements" in message
    assert "les colonnes codeCommuneEtablissement, etatAdministratifEtablissement" in message
    assert exc.value.column == "codeCommuneEtablissement"
    assert exc.value.code == Reason.MISSING_COLUMNS and exc.value.code.columns


@pytest.mark.parametrize(
    ("header", "kind", "code"),
    [
        (["a", "b"], None, Reason.UNKNOWN_COLUMNS),
        (["siren"], "inconnu", Reason.UNKNOWN_FORMAT),
        (["siret"], "sirene_etablissements", Reason.MISSING_COLUMNS),
    ],
)
def test_recognise_refusals_carry_their_reason(header, kind, code):
    with pytest.raises(FileRejected) as exc:
        registry.recognise(header, kind, name="x.csv")
    assert exc.value.code == code
    # only a refusal about columns may be answered with a column mapping
    assert exc.value.code.columns == (code != Reason.UNKNOWN_FORMAT)


def test_recognise_prefers_the_format_matching_most_columns():
    spec, mapping = registry.recognise(["siren", "categorieJuridiqueUniteLegale"])
    assert spec.kind == "sirene_unites_legales"
    spec, _ = registry.recognise(["SIREN", "Raison sociale"])
    assert spec.kind == "ess_france"


def test_preview_returns_first_rows(tmp_path):
    info, frame = ingest.preview(UL, rows=3)
    assert info.format == "sirene_unites_legales"
    assert frame["siren"].tolist() == ["100000001", "100000002", "100000003"]
    assert frame.columns[0] == "siren"


@pytest.mark.parametrize(
    ("size", "text"), [(500, "1 ko"), (2 * 1024**3, "2\u202f048 Mo"), (3 * 1024**2, "3 Mo")]
)
def test_fmt_size(size, text):
    assert fmt_size(size) == text


@pytest.mark.parametrize(
    ("macro", "value", "expected"),
    [
        ("ess_naf", "88.10A", "88.10A"),
        ("ess_naf", "8810a", "88.10A"),
        ("ess_naf", " 88.10A ", "88.10A"),
        ("ess_naf", "", None),
        ("ess_commune", "1001", "01001"),
        ("ess_commune", "2a004", "2A004"),
        ("ess_commune", " 69381 ", "69381"),
        ("ess_band", "1", "01"),
        ("ess_band", "nn", "NN"),
        ("ess_band", " ", None),
        ("ess_text", "  x ", "x"),
    ],
)
def test_sql_cleaning_macros(macro, value, expected):
    con = duckdb.connect()
    macros.install(con)
    assert con.execute(f"SELECT {macro}(?)", [value]).fetchall() == [(expected,)]  # noqa: S608


def test_report_summary_french():
    report = ingest.ImportReport(
        status="committed",
        import_id="imp-1",
        rows_read=10,
        rows_loaded=9,
        rows_set_aside=1,
        set_aside=[
            ingest.SetAside(
                "Code commune inconnu",
                1,
                [5],
                "codeCommuneEtablissement = « 99999 »",
                "e.csv",
                "codeCommuneEtablissement",
            )
        ],
        unresolved_communes=["99999"],
    )
    assert report.summary() == [
        "Import enregistré (import imp-1).",
        "Lignes lues : 10 ; chargées : 9 ; mises de côté : 1.",
        "Mise de côté — Code commune inconnu : 1 ligne (e.csv, ligne 5, colonne "
        "codeCommuneEtablissement) — exemple : codeCommuneEtablissement = « 99999 »",
        "Codes commune non reconnus : 99999",
    ]
