"""Ingest core: sniffing, format recognition, Lambert 93, report text."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import numpy as np
import pytest

from ess_diag.ingest import core
from ess_diag.ingest.errors import FileRejected

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
    info = core.inspect_file(path)
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
    assert core.inspect_file(path).encoding == encoding


def test_utf8_character_cut_by_the_sample_is_still_utf8():
    raw = "é".encode() * 10
    assert core._decode_sample(raw[:-1], complete=False)[0] == "utf-8"
    assert core._decode_sample(raw[:-1], complete=True)[0] == "cp1252"


def test_gzip_and_header_matching_ignores_case_and_accents(tmp_path):
    path = tmp_path / "ul.csv.gz"
    path.write_bytes(gzip.compress(b"SIREN;Categorie Juridique Unite Legale\n100000001;9220\n"))
    info = core.inspect_file(path)
    assert info.compression == "gzip"
    assert info.format == "sirene_unites_legales"
    assert info.mapping == {
        "siren": "SIREN",
        "categorieJuridiqueUniteLegale": "Categorie Juridique Unite Legale",
    }


def test_normalize_header():
    assert core.normalize_header("\ufeff Code Commune (INSEE) ") == "codecommuneinsee"
    assert core.normalize_header("Numéro SIREN") == "numerosiren"


def test_recognise_names_missing_columns_and_closest_format():
    with pytest.raises(FileRejected) as exc:
        core.recognise(["siret", "activitePrincipaleEtablissement"], name="x.csv")
    message = str(exc.value)
    assert "« x.csv » ressemble le plus au format « SIRENE établissements" in message
    assert "les colonnes codeCommuneEtablissement, etatAdministratifEtablissement" in message
    assert exc.value.column == "codeCommuneEtablissement"


def test_recognise_prefers_the_format_matching_most_columns():
    spec, mapping = core.recognise(["siren", "categorieJuridiqueUniteLegale"])
    assert spec.kind == "sirene_unites_legales"
    spec, _ = core.recognise(["SIREN", "Raison sociale"])
    assert spec.kind == "ess_france"


def test_preview_returns_first_rows(tmp_path):
    info, frame = core.preview(UL, rows=3)
    assert info.format == "sirene_unites_legales"
    assert frame["siren"].tolist() == ["100000001", "100000002", "100000003"]
    assert frame.columns[0] == "siren"


@pytest.mark.parametrize(
    ("size", "text"), [(500, "1 ko"), (2 * 1024**3, "2\u202f048 Mo"), (3 * 1024**2, "3 Mo")]
)
def test_fmt_size(size, text):
    assert core.fmt_size(size) == text


# --- Lambert 93 ---------------------------------------------------------------------------

E = 0.0818191910428158


def _forward(lon, lat):
    """Lambert 93 forward projection (IGN ALG0003), written independently of the inverse."""
    n, c, xs, ys = 0.7256077650532670, 11754255.426096, 700000.0, 12655612.049876
    phi = np.radians(lat)
    iso = np.log(
        np.tan(np.pi / 4 + phi / 2) * ((1 - E * np.sin(phi)) / (1 + E * np.sin(phi))) ** (E / 2)
    )
    r = c * np.exp(-n * iso)
    gamma = n * (np.radians(lon) - np.radians(3.0))
    return xs + r * np.sin(gamma), ys - r * np.cos(gamma)


def test_lambert93_origin_and_round_trip():
    lon, lat = core.lambert93_to_wgs84([700000.0], [6600000.0])
    assert lon[0] == pytest.approx(3.0, abs=1e-12)
    assert lat[0] == pytest.approx(46.5, abs=1e-9)
    lons = np.array([-4.5, 2.35, 7.7, 9.4, 3.0])
    lats = np.array([48.4, 48.85, 48.58, 42.7, 50.6])
    x, y = _forward(lons, lats)
    back_lon, back_lat = core.lambert93_to_wgs84(x, y)
    np.testing.assert_allclose(back_lon, lons, atol=1e-9)
    np.testing.assert_allclose(back_lat, lats, atol=1e-9)


def test_lambert93_paris_notre_dame():
    # The brief's reference pair is rounded: (652 469, 6 861 573) ≈ (2.3499, 48.8530),
    # i.e. within ~200 m.
    lon, lat = core.lambert93_to_wgs84([652469.0], [6861573.0])
    assert lon[0] == pytest.approx(2.3499, abs=3e-3)
    assert lat[0] == pytest.approx(48.8530, abs=1e-3)


def test_sql_macros_match_numpy():
    con = duckdb.connect()
    for statement in core.SQL_MACROS.split(";"):
        if statement.strip():
            con.execute(statement)
    con.execute(
        "CREATE TABLE p AS SELECT 100000 + (i % 100) * 11000.0 AS x, "
        "6050000 + (i // 100) * 11000.0 AS y FROM range(10000) t(i)"
    )
    x, y, lon, lat = (
        np.array(v)
        for v in zip(
            *con.execute("SELECT x, y, ess_l93_lon(x, y), ess_l93_lat(x, y) FROM p").fetchall(),
            strict=True,
        )
    )
    ref_lon, ref_lat = core.lambert93_to_wgs84(x, y)
    np.testing.assert_allclose(lon, ref_lon, atol=1e-10)
    np.testing.assert_allclose(lat, ref_lat, atol=1e-9)


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
    for statement in core.SQL_MACROS.split(";"):
        if statement.strip():
            con.execute(statement)
    assert con.execute(f"SELECT {macro}(?)", [value]).fetchall() == [(expected,)]  # noqa: S608


def test_report_summary_french():
    report = core.ImportReport(
        status="committed",
        import_id="imp-1",
        rows_read=10,
        rows_loaded=9,
        rows_set_aside=1,
        set_aside=[
            core.SetAside(
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
