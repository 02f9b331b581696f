"""SIRENE import: classification, placement, privacy, report, idempotence, undo, real file."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from geo_fixture import build_fixture_geography

from ess_diag import derived, ingest, nomenclatures, store
from ess_diag.ingest import Reason, run_import, undo_import

FIX = Path(__file__).resolve().parent / "fixtures" / "sirene"
UL = FIX / "StockUniteLegale_extrait.csv"
ETAB = FIX / "StockEtablissement_extrait.csv"
GEO = FIX / "GeoSirene_01_extrait.csv"
ESSF = FIX / "ess_france_liste_extrait.csv"
REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


def dump(
    con: duckdb.DuckDBPyConnection, *, skip: tuple[str, ...] = (), ids: bool = True
) -> dict[str, list]:
    """Every stored table, rows sorted: two equal dumps mean the same database content.

    ``ids=False`` leaves out ``import_id`` columns (to compare two databases)."""
    tables = con.execute(
        "SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns() "
        "WHERE database_name = current_database() AND table_name IN (SELECT table_name "
        "FROM duckdb_tables() WHERE database_name = current_database()) GROUP BY 1 ORDER BY 1"
    ).fetchall()
    out = {}
    for table, columns in tables:
        if table in skip:
            continue
        cols = ", ".join(f'"{c}"' for c in columns if ids or c != "import_id")
        rows = con.execute(f'SELECT {cols} FROM "{table}"').fetchall()  # noqa: S608
        out[table] = sorted(rows, key=repr)
    return out


# Hand-written expectations for the fixture extract (see tests/fixtures/sirene/*.csv).
# actor_id, name, commune, raw commune, ESS, family, sector, jobs, employer, active, coords
EXPECTED = [
    ("10000000100015", "ASSOCIATION LES AMIS DU BOCAGE", "01001", "01001", True, "association", "action_sociale_sans_hebergement", 14.5, True, True, "lambert93", False),
    ("10000000100023", "ANTENNE DU VILLAGE", "01001", "01099", True, "association", "action_sociale_sans_hebergement", 1.5, True, True, "centre_commune", False),
    ("10000000200018", "SCOP MENUISERIE DU BUGEY", "01004", "01004", True, "cooperative", "industrie_construction", 7.5, True, True, "lambert93", False),
    ("10000000200026", "SCOP MENUISERIE DU BUGEY", "01004", "01004", True, "cooperative", "industrie_construction", 0.0, False, False, "centre_commune", False),
    ("10000000300011", "MUTUELLE DE L'AIN", "69123", "69381", True, "mutuelle", "finance_assurance", 74.5, True, True, "centre_commune", False),
    ("10000000400014", "FONDATION DES DOMBES", "01005", "01005", True, "fondation", "action_sociale_avec_hebergement", 34.5, True, True, "centre_commune", False),
    ("10000000500017", "ESUS RECYCLAGE", "01002", "01002", True, "societe_commerciale", "industrie_construction", 0.0, False, True, "centre_commune", False),
    ("10000000600010", "BOULANGERIE DUPRE", "01004", "01004", False, None, "industrie_construction", 4.0, True, True, "centre_commune", False),
    ("10000000700013", None, "01004", "01004", False, None, "sante", 0.0, False, True, "centre_commune", True),
    ("10000000800016", "SYNDICAT DES SALARIES DE L'AIN", "69123", "69123", False, "association", "organisations_associatives", 7.5, True, True, "centre_commune", False),
    ("10000000900019", "AS LYON", "69123", "69123", True, "association", "sport_loisirs", 0.0, False, True, "centre_commune", False),
    ("10000001000015", "EPICERIE SOLIDAIRE, SARL", "01005", "01005", False, None, "commerce", 1.5, True, True, "centre_commune", False),
    ("10000001100018", "MAIRIE", "01004", "01004", False, None, "autres_services", 34.5, True, True, "centre_commune", False),
]  # fmt: skip
COLUMNS = [
    "actor_id", "name", "commune_code", "commune_code_raw", "is_ess", "family", "sector",
    "jobs", "employer", "active", "coord_source", "partial_diffusion",
]  # fmt: skip

# Independently counted from the fixture: active ESS establishments and estimated jobs.
ESS_BY_COMMUNE = {
    "01001": (2, 16.0),  # association 14.5 + antenne 1.5
    "01002": (1, 0.0),  # ESUS company, band 00
    "01004": (1, 7.5),  # SCOP; its closed establishment does not count
    "01005": (1, 34.5),  # fondation
    "69123": (2, 74.5),  # mutuelle (arrondissement 69381) + AS Lyon (band NN); union excluded
}


def actors_frame(con) -> pd.DataFrame:
    cols = ", ".join(COLUMNS)
    return con.execute(f"SELECT {cols} FROM actors ORDER BY actor_id").df()  # noqa: S608


def expected_frame(rows=EXPECTED) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


def assert_actors(con, rows=EXPECTED) -> None:
    got = actors_frame(con)
    exp = expected_frame(rows)
    got = got.astype(object).where(got.notna(), None)
    exp = exp.astype(object).where(exp.notna(), None)
    pd.testing.assert_frame_equal(got, exp, check_dtype=False)


@pytest.fixture
def db(tmp_path):
    """A database file with the fixture geography (file-based: byte checks possible)."""
    path = tmp_path / "t.duckdb"
    con = store.connect(path)
    build_fixture_geography(con)
    nomenclatures.register(con)  # as `ess-diag init` does
    con.execute("CHECKPOINT")
    yield con
    con.close()


def test_import_stock_files_classifies_and_places(db):
    report = run_import(db, [UL, ETAB])
    assert report.status == "committed", report.errors
    assert report.rows_read == 11 + 13
    assert report.rows_loaded == 24
    assert report.rows_set_aside == 0 and report.set_aside == []
    assert report.unresolved_communes == []
    assert [f.format for f in report.files] == ["sirene_unites_legales", "sirene_etablissements"]
    assert all(f.encoding == "utf-8" and f.separator == "," for f in report.files)
    assert_actors(db)
    got = dict(
        (c, (int(n), float(j)))
        for c, n, j in db.execute(
            "SELECT commune_code, count(*), sum(jobs) FROM actors WHERE is_ess AND active "
            "GROUP BY 1"
        ).fetchall()
    )
    assert got == ESS_BY_COMMUNE
    counts = report.counts
    assert counts["etablissements_fermes"] == 1
    assert counts["diffusion_partielle"] == 1
    assert counts["coordonnees_lambert93"] == 2
    assert counts["coordonnees_centre_commune"] == 11
    assert counts["etablissements_ess_actifs_par_famille"] == {
        "association": 3,
        "cooperative": 1,
        "fondation": 1,
        "mutuelle": 1,
        "societe_commerciale": 1,
    }
    assert counts["emplois_ess_estimes"] == 132.5
    assert any("centre de leur commune" in w for w in report.warnings)
    # Lambert 93 coordinates were written from (4.92, 46.12) and (5.32, 45.97).
    pts = dict(
        (a, (lon, lat))
        for a, lon, lat in db.execute(
            "SELECT actor_id, lon, lat FROM actors WHERE coord_source = 'lambert93'"
        ).fetchall()
    )
    assert pts["10000000100015"] == pytest.approx((4.92, 46.12), abs=2e-6)
    assert pts["10000000200018"] == pytest.approx((5.32, 45.97), abs=2e-6)
    # Commune centre = the territory's point.
    centre = db.execute("SELECT lon, lat FROM territories WHERE code = '01005'").fetchall()[0]
    got_centre = db.execute(
        "SELECT lon, lat FROM actors WHERE actor_id = '10000000400014'"
    ).fetchall()[0]
    assert got_centre == centre
    ul = db.execute(
        "SELECT siren, denomination, categorie_juridique, ess_flag, partial_diffusion "
        "FROM unites_legales WHERE siren IN ('100000007', '100000010') ORDER BY 1"
    ).fetchall()
    assert ul == [
        ("100000007", None, "1000", "N", True),
        ("100000010", "EPICERIE SOLIDAIRE, SARL", "5499", "N", False),
    ]
    address = db.execute("SELECT address FROM actors WHERE actor_id = '10000000100015'").fetchall()[
        0
    ][0]
    assert address == "12 RUE DE LA MAIRIE, 01400 L'ABERGEMENT-CLEMENCIAT"
    # Partial diffusion: no name, no address stored.
    assert db.execute("SELECT name, address FROM actors WHERE partial_diffusion").fetchall() == [
        (None, None)
    ]
    history = ingest.list_imports(db)
    assert history["import_id"].tolist() == [report.import_id]
    stored = json.loads(db.execute("SELECT files FROM imports").fetchall()[0][0])
    assert [f["name"] for f in stored] == [UL.name, ETAB.name]
    assert all(len(f["sha256"]) == 64 for f in stored)


def test_report_json_contract(db):
    report = run_import(db, [UL, ETAB], dry_run=True)
    data = json.loads(report.to_json())
    for key in (
        "status",
        "files",
        "rows_read",
        "rows_loaded",
        "rows_set_aside",
        "set_aside",
        "unresolved_communes",
        "import_id",
    ):
        assert key in data
    assert data["status"] == "dry-run"
    assert data["import_id"] is None
    assert {"name", "format", "encoding", "separator"} <= set(data["files"][0])
    # dry-run writes nothing
    assert db.execute("SELECT count(*) FROM actors").fetchall() == [(0,)]
    assert db.execute("SELECT count(*) FROM imports").fetchall() == [(0,)]


def test_ess_france_list_flags_units(db):
    report = run_import(db, [UL, ETAB, ESSF])
    assert report.status == "committed", report.errors
    assert report.files[1].format == "ess_france"
    assert report.files[1].separator == ";"
    rows = [list(r) for r in EXPECTED]
    rows[11][4], rows[11][5] = True, "societe_commerciale"
    assert_actors(db, [tuple(r) for r in rows])


def test_units_imported_after_establishments_reclassify_them(db):
    first = run_import(db, [ETAB])
    assert first.status == "committed", first.errors
    assert first.counts["sans_unite_legale"] == 13
    assert any("StockUniteLegale" in w for w in first.warnings)
    # Without units: no legal form, nothing is ESS.
    assert db.execute("SELECT count(*) FROM actors WHERE is_ess").fetchall() == [(0,)]
    second = run_import(db, [UL])
    assert second.status == "committed", second.errors
    assert second.counts["acteurs_reclasses"] == 13
    assert_actors(db)
    # Undo the units: the actors go back to their unclassified state.
    before_units = dump(db, skip=("imports", "meta"))
    third = run_import(db, [ESSF])
    assert third.status == "committed"
    undo_import(db, third.import_id)
    assert dump(db, skip=("imports", "meta")) == before_units


def test_geolocated_file_uses_wgs84(db):
    report = run_import(db, [UL, GEO])
    assert report.status == "committed", report.errors
    assert report.files[1].format == "sirene_etablissements"
    got = db.execute(
        "SELECT actor_id, coord_source, lon, lat FROM actors ORDER BY actor_id"
    ).fetchall()
    by_id = {a: (s, lon, lat) for a, s, lon, lat in got}
    assert by_id["10000000100015"] == ("wgs84", 4.921, 46.121)
    assert by_id["10000000200018"] == ("wgs84", 5.321, 45.971)
    # no WGS84 point, no Lambert point → commune centre
    assert by_id["10000000100023"][0] == "centre_commune"
    assert len(got) == 10  # the file holds département 01 only


@pytest.mark.parametrize("variant", ["gzip", "parquet", "semicolon_bom", "cp1252", "xlsx"])
def test_same_result_whatever_the_container(db, tmp_path, variant):
    if variant == "gzip":
        path = tmp_path / "StockEtablissement.csv.gz"
        path.write_bytes(gzip.compress(ETAB.read_bytes()))
        expected = {"compression": "gzip", "encoding": "utf-8"}
    elif variant == "parquet":
        path = tmp_path / "StockEtablissement.parquet"
        duckdb.connect().execute(
            f"COPY (SELECT * FROM read_csv('{ETAB}', all_varchar=true)) TO '{path}' (FORMAT parquet)"
        )
        expected = {"container": "parquet"}
    elif variant == "xlsx":
        path = tmp_path / "StockEtablissement.xlsx"
        pd.read_csv(ETAB, dtype=str, keep_default_na=False).to_excel(path, index=False)
        expected = {"container": "xlsx", "header_row": 1}
    else:
        rows = list(csv.reader(ETAB.open(encoding="utf-8")))
        path = tmp_path / "StockEtablissement.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f, delimiter=";", lineterminator="\r\n").writerows(rows)
        text = path.read_text(encoding="utf-8")
        if variant == "cp1252":
            text = text.replace("CLEMENCIAT", "CLÉMENCIAT")  # an accent to detect
            path.write_bytes(text.encode("cp1252"))
            expected = {"encoding": "cp1252", "separator": ";"}
        else:
            path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
            expected = {"encoding": "utf-8-sig", "separator": ";"}
    report = run_import(db, [UL, path])
    assert report.status == "committed", report.errors
    info = report.files[1]
    for key, value in expected.items():
        assert getattr(info, key) == value
    assert_actors(db)


def test_windows_1252_accents(db, tmp_path):
    text = UL.read_text(encoding="utf-8").replace(
        "ASSOCIATION LES AMIS DU BOCAGE", "Crèche « Les Œillets » — Hélène’s"
    )
    path = tmp_path / "ul_cp1252.csv"
    path.write_bytes(text.encode("cp1252"))
    report = run_import(db, [path, ETAB])
    assert report.status == "committed", report.errors
    assert report.files[0].encoding == "cp1252"
    names = db.execute("SELECT name FROM actors WHERE actor_id = '10000000100015'").fetchall()
    assert names == [("Crèche « Les Œillets » — Hélène’s",)]


def test_reimport_is_idempotent_and_undo_restores_exactly(db):
    before = dump(db)
    first = run_import(db, [UL, ETAB])
    after_first = dump(db, skip=("imports", "meta"))
    second = run_import(db, [UL, ETAB])
    assert second.status == "committed"
    assert second.previous_imports == [first.import_id]
    assert any("déjà été importé" in w for w in second.warnings)
    assert db.execute("SELECT count(*), count(DISTINCT actor_id) FROM actors").fetchall() == [
        (13, 13)
    ]
    assert db.execute("SELECT count(*), count(DISTINCT siren) FROM unites_legales").fetchall() == [
        (11, 11)
    ]
    # The first import cannot be undone before the second (same tables).
    with pytest.raises(ingest.UndoError, match="annulez d'abord"):
        undo_import(db, first.import_id)
    undo_import(db, second.import_id)
    assert dump(db, skip=("imports", "meta")) == after_first
    with pytest.raises(ingest.UndoError, match="déjà été annulé"):
        undo_import(db, second.import_id)
    undo_import(db, first.import_id)
    after = dump(db)
    assert after.pop("imports") != before.pop("imports")  # history keeps both, undone
    meta_before, meta_after = dict(before.pop("meta")), dict(after.pop("meta"))
    assert int(meta_after["data_version"]) > int(meta_before.get("data_version", 0))
    assert after == before
    statuses = ingest.list_imports(db)["status"].tolist()
    assert statuses == ["undone", "undone"]
    with pytest.raises(ingest.UndoError, match="Aucun import"):
        undo_import(db, "imp-inconnu")


def test_undo_refusals_carry_a_reason_code(db):
    first = run_import(db, [UL])
    second = run_import(db, [UL])
    for import_id, code in (
        ("imp-inconnu", Reason.UNKNOWN_IMPORT),
        (first.import_id, Reason.LATER_IMPORT),
    ):
        with pytest.raises(ingest.UndoError) as exc:
            undo_import(db, import_id)
        assert exc.value.code == code
    undo_import(db, second.import_id)
    with pytest.raises(ingest.UndoError) as exc:
        undo_import(db, second.import_id)
    assert exc.value.code == Reason.ALREADY_UNDONE


def test_derived_tables_refreshed_in_the_import_and_undo_transactions(db, monkeypatch):
    """derived.refresh runs inside the transaction, after data_version is bumped (the derived
    tables are stamped with the new version): when it fails, the import (or the undo) is rolled
    back whole."""
    seen = []

    def refresh(con):
        seen.append(
            (store.data_version(con), con.execute("SELECT count(*) FROM actors").fetchall()[0][0])
        )

    monkeypatch.setattr(derived, "refresh", refresh)
    v0 = store.data_version(db)
    report = run_import(db, [UL, ETAB])
    assert report.status == "committed"
    loaded = db.execute("SELECT count(*) FROM actors").fetchall()[0][0]
    assert loaded > 0
    assert seen == [(v0 + 1, loaded)]  # the new rows visible, the version already bumped
    undo_import(db, report.import_id)
    assert seen[1] == (v0 + 2, 0)

    def failing(con):
        raise duckdb.ConversionException("refresh failed")

    monkeypatch.setattr(derived, "refresh", failing)
    before = dump(db)
    rejected = run_import(db, [UL, ETAB])
    assert rejected.status == "rejected"
    assert rejected.error_codes == [Reason.DATABASE]
    assert dump(db) == before
    monkeypatch.setattr(derived, "refresh", refresh)
    committed = run_import(db, [UL, ETAB])
    monkeypatch.setattr(derived, "refresh", failing)
    before = dump(db)
    with pytest.raises(duckdb.Error):
        undo_import(db, committed.import_id)
    assert dump(db) == before


def test_data_version_bumped(db):
    v0 = store.data_version(db)
    report = run_import(db, [UL])
    assert store.data_version(db) == v0 + 1
    undo_import(db, report.import_id)
    assert store.data_version(db) == v0 + 2


# --- bad input -----------------------------------------------------------------------------


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _bad_file(kind: str, tmp: Path) -> tuple[list[Path], str]:
    """Files for a bad-input case and a fragment of the French message expected."""
    if kind == "empty":
        p = tmp / "vide.csv"
        p.write_bytes(b"")
        return [p], "« vide.csv » est vide"
    if kind == "header_only":
        p = tmp / "entete.csv"
        p.write_text(_lines(ETAB)[0], encoding="utf-8")
        return [p], "Aucune ligne de données dans « entete.csv »"
    if kind == "binary":
        p = tmp / "garbage.csv"
        p.write_bytes(bytes((i * 7919 + 13) % 256 for i in range(20000)))
        return [p], "n'est pas un fichier texte CSV"
    if kind == "xlsx_renamed":
        p = tmp / "etablissements.csv"
        x = tmp / "e.xlsx"
        pd.DataFrame({"siret": ["1"]}).to_excel(x, index=False)
        shutil.copy(x, p)
        return [p], "classeur Excel (xlsx) renommé"
    if kind == "old_xls":
        p = tmp / "etablissements.xls"
        p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
        return [p], "ancien format (.xls)"
    if kind == "wrong_columns":
        p = tmp / "mauvais.csv"
        p.write_text(
            "siret;activitePrincipaleEtablissement;commune\n10000000100015;88.10A;01001\n",
            encoding="utf-8",
        )
        return [p], (
            "ressemble le plus au format « SIRENE établissements (StockEtablissement) » mais il "
            "y manque les colonnes codeCommuneEtablissement, etatAdministratifEtablissement"
        )
    if kind == "unknown_columns":
        p = tmp / "autre.csv"
        p.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
        return [p], "n'a pas les colonnes d'un format connu"
    if kind == "truncated_gzip":
        p = tmp / "etab.csv.gz"
        data = gzip.compress(ETAB.read_bytes() * 50)
        p.write_bytes(data[: len(data) // 2])
        return [p], "est tronqué ou endommagé"
    if kind == "too_large":
        p = tmp / "StockEtablissement_2Go.csv"
        with p.open("wb") as f:  # sparse: 2 GB announced, nothing written
            f.truncate(2 * 1024**3)
        return [p], "pèse 2\u202f048 Mo, au-delà de la limite de 1\u202f024 Mo"
    if kind == "one_good_one_bad":
        p = tmp / "vide.csv"
        p.write_bytes(b"")
        return [UL, p], "« vide.csv » est vide"
    if kind == "missing":
        return [tmp / "absent.csv"], "est introuvable"
    raise AssertionError(kind)


#: The reason code each bad input is refused with (``report.error_codes``).
BAD_CODES = {
    "empty": Reason.EMPTY,
    "header_only": Reason.NO_DATA,
    "binary": Reason.BINARY,
    "xlsx_renamed": Reason.RENAMED_XLSX,
    "old_xls": Reason.OLD_XLS,
    "wrong_columns": Reason.MISSING_COLUMNS,
    "unknown_columns": Reason.UNKNOWN_COLUMNS,
    "truncated_gzip": Reason.DAMAGED,
    "too_large": Reason.TOO_LARGE,
    "one_good_one_bad": Reason.EMPTY,
    "missing": Reason.NOT_FOUND,
}

BAD = [
    "empty",
    "header_only",
    "binary",
    "xlsx_renamed",
    "old_xls",
    "wrong_columns",
    "unknown_columns",
    "truncated_gzip",
    "too_large",
    "one_good_one_bad",
    "missing",
]


@pytest.mark.parametrize("kind", BAD)
def test_bad_input_is_rejected_and_leaves_database_unchanged(db, tmp_path, kind, monkeypatch):
    monkeypatch.setenv("ESS_DIAG_MAX_IMPORT_MB", "1024")
    run_import(db, [UL])  # something already in the database
    db.execute("CHECKPOINT")
    path = Path(
        db.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()[0][0]
    )
    before, size_before = dump(db), path.stat().st_size
    sha_before = hashlib.sha256(path.read_bytes()).hexdigest()
    files, message = _bad_file(kind, tmp_path)
    report = run_import(db, files)
    assert report.status == "rejected"
    assert report.import_id is None
    assert any(message in e for e in report.errors), report.errors
    assert report.error_codes == [BAD_CODES[kind]] * len(report.errors)
    assert json.loads(report.to_json())["error_codes"] == report.error_codes
    db.execute("CHECKPOINT")
    assert dump(db) == before
    assert path.stat().st_size == size_before
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha_before


def test_size_limit_is_checked_before_reading(db, tmp_path, monkeypatch):
    monkeypatch.setenv("ESS_DIAG_MAX_IMPORT_MB", "0.001")  # ≈ 1 ko
    report = run_import(db, [ETAB])
    assert report.status == "rejected"
    assert "au-delà de la limite de 1 ko" in report.errors[0]


def test_no_geography_is_rejected(tmp_path):
    con = store.connect(":memory:")
    report = run_import(con, [UL, ETAB])
    assert report.status == "rejected"
    assert "géographie de référence n'est pas chargée" in report.errors[0]
    assert report.error_codes[0] == Reason.NO_GEOGRAPHY
    assert con.execute("SELECT count(*) FROM unites_legales").fetchall() == [(0,)]


def _with_extra_line(line: str, tmp: Path, at: int = 3) -> Path:
    lines = _lines(ETAB)
    lines.insert(at, line)
    p = tmp / "etab_modifie.csv"
    p.write_text("".join(lines), encoding="utf-8")
    return p


def _etab_line(**changes) -> str:
    """The first establishment of the fixture with some fields changed, as a CSV line."""
    header = _lines(ETAB)[0].strip().split(",")
    row = dict(zip(header, next(csv.reader([_lines(ETAB)[1]])), strict=True))
    row.update(changes)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([row[h] for h in header])
    return buf.getvalue()


SET_ASIDE = [
    # (name, extra line, reason, column, example, unresolved)
    (
        "too_many_fields",
        _etab_line(siret="10000009900011", nic="00011").rstrip("\n") + ",EN TROP,ENCORE\n",
        "Ligne mal formée : trop de champs",
        None,
        None,
        [],
    ),
    (
        "siret_short",
        _etab_line(siret="1000000010001", nic="0001"),
        "SIRET invalide (14 chiffres attendus)",
        "siret",
        "siret = « 1000000010001 »",
        [],
    ),
    (
        "siret_letters",
        _etab_line(siret="1000000010001A"),
        "SIRET invalide (14 chiffres attendus)",
        "siret",
        "siret = « 1000000010001A »",
        [],
    ),
    (
        "siren_mismatch",
        _etab_line(siret="20000000100015"),
        "SIREN différent des 9 premiers chiffres du SIRET",
        "siren",
        "siren = « 100000001 », siret = « 20000000100015 »",
        [],
    ),
    (
        "unknown_commune",
        _etab_line(siret="10000000100099", nic="00099", codeCommuneEtablissement="99999"),
        "Code commune inconnu",
        "codeCommuneEtablissement",
        "codeCommuneEtablissement = « 99999 »",
        ["99999"],
    ),
    (
        "abroad",
        _etab_line(siret="10000000100098", nic="00098", codeCommuneEtablissement=""),
        "Code commune absent (établissement à l'étranger ?)",
        "codeCommuneEtablissement",
        "codeCommuneEtablissement = vide",
        [],
    ),
    (
        "duplicate",
        _lines(ETAB)[1],
        "SIRET en double dans l'import (première ligne gardée)",
        "siret",
        "siret = « 10000000100015 »",
        [],
    ),
]


@pytest.mark.parametrize(
    ("name", "line", "reason", "column", "example", "unresolved"),
    SET_ASIDE,
    ids=[c[0] for c in SET_ASIDE],
)
def test_bad_lines_are_set_aside_and_change_nothing_else(
    db, tmp_path, name, line, reason, column, example, unresolved
):
    # Reference: the clean file.
    ref = store.connect(tmp_path / "ref.duckdb")
    build_fixture_geography(ref)
    assert run_import(ref, [UL, ETAB]).status == "committed"
    expected = dump(ref, skip=("imports", "meta"), ids=False)
    ref.close()
    at = 4 if name == "duplicate" else 3
    path = _with_extra_line(line, tmp_path, at=at)
    report = run_import(db, [UL, path])
    assert report.status == "committed", report.errors
    assert report.rows_set_aside == 1
    assert report.rows_read == 11 + 14
    assert report.rows_loaded == 24
    [entry] = report.set_aside
    assert entry.reason == reason
    assert entry.file == "etab_modifie.csv"
    assert entry.count == 1
    assert entry.rows == [at + 1]  # line number in the file (header = line 1)
    assert entry.column == column
    if example is not None:
        assert entry.example == example
    assert report.unresolved_communes == unresolved
    assert dump(db, skip=("imports", "meta"), ids=False) == expected
    text = "\n".join(report.summary())
    assert f"etab_modifie.csv, ligne {at + 1}" in text


def test_line_numbers_after_a_rejected_line(db, tmp_path):
    lines = _lines(ETAB)
    lines.insert(2, lines[1].rstrip("\n") + ",X\n")  # line 3: too many fields
    bad = lines[5].replace(",01004,", ",98765,")  # line 6 after insertion
    lines[5] = bad
    p = tmp_path / "e.csv"
    p.write_text("".join(lines), encoding="utf-8")
    report = run_import(db, [UL, p])
    rows = {s.reason: s.rows for s in report.set_aside}
    assert rows == {
        "Ligne mal formée : trop de champs": [3],
        "Code commune inconnu": [6],
    }


def test_process_killed_mid_import_leaves_previous_state(tmp_path):
    path = tmp_path / "k.duckdb"
    con = store.connect(path)
    build_fixture_geography(con)
    assert run_import(con, [UL]).status == "committed"
    before = dump(con)
    con.close()
    script = f"""
import sys, time
from ess_diag import store, ingest
con = store.connect({str(path)!r})
def stop(_con):
    print("IN_TRANSACTION", flush=True)
    time.sleep(60)
store.bump_data_version = stop  # called inside the import transaction, after the inserts
print(ingest.run_import(con, [{str(UL)!r}, {str(ETAB)!r}, {str(ESSF)!r}]).to_json())
"""
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.time() + 60
        line = ""
        while time.time() < deadline:
            line = proc.stdout.readline()
            if "IN_TRANSACTION" in line or proc.poll() is not None:
                break
        if "IN_TRANSACTION" not in line:
            proc.kill()
            raise AssertionError(f"{proc.wait()} {line} {proc.stdout.read()} {proc.stderr.read()}")
    finally:
        proc.kill()
        proc.wait()
    con = store.connect(path)
    try:
        assert dump(con) == before
        assert con.execute("SELECT count(*) FROM actors").fetchall() == [(0,)]
    finally:
        con.close()


# --- real file ------------------------------------------------------------------------------


def test_real_unites_legales_file(geo_con):
    path = REAL / "sirene_unites_legales_ess_numerique.csv"
    if not path.exists():
        pytest.skip(f"Fichier réel absent : {path}")
    report = run_import(geo_con, [path])
    assert report.status == "committed", report.errors
    assert report.files[0].format == "sirene_unites_legales"
    assert report.rows_read == 3375
    # The lines a naive comma split would shift (commas inside quoted names) are read right:
    # nothing is set aside, and their fields land in the right columns.
    assert report.rows_set_aside == 0
    assert report.rows_loaded == 3375
    row = geo_con.execute(
        "SELECT denomination, categorie_juridique, naf, ess_flag FROM unites_legales "
        "WHERE siren = '840832067'"
    ).fetchall()
    assert row == [("HEY, GUL!", "5499", "62.02A", "O")]
    families = dict(
        geo_con.execute(
            """SELECT COALESCE(f.family, 'societe_commerciale'), count(*)
               FROM unites_legales u
               LEFT JOIN ref_categories_juridiques f ON f.code = u.categorie_juridique
               WHERE u.ess_flag = 'O' GROUP BY 1"""
        ).fetchall()
    )
    # Counted from the file by catégorie juridique (DATA.md lists):
    # associations 9220 (2318) + 9260 (40) + 9230 (6) + 9221 (1);
    # coopératives 5460 (108) 5458 (68) 5560 (22) 5660 (4) 6318 (3) 5453 5532 5432 6317 5558 (1 each);
    # fondations 9300 (4); the rest are sociétés commerciales flagged ESS.
    assert families == {
        "association": 2365,
        "cooperative": 210,
        "fondation": 4,
        "societe_commerciale": 796,
    }
    assert report.counts["unites_legales_par_famille"] == families


def test_unites_legales_duplicate_and_invalid_siren(db, tmp_path):
    lines = _lines(UL)
    path = tmp_path / "ul.csv"
    path.write_text("".join(lines + [lines[1], lines[1].replace("100000001", "12A", 1)]))
    report = run_import(db, [path])
    assert report.status == "committed", report.errors
    assert [(s.reason, s.rows, s.column, s.example) for s in report.set_aside] == [
        (
            "SIREN en double dans l'import (première ligne gardée)",
            [13],
            "siren",
            "siren = « 100000001 »",
        ),
        ("SIREN invalide (9 chiffres attendus)", [14], "siren", "siren = « 12A »"),
    ]
    assert report.duplicates == 1
    assert report.rows_loaded == 11
    assert db.execute("SELECT count(*), count(DISTINCT siren) FROM unites_legales").fetchall() == [
        (11, 11)
    ]
