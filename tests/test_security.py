"""ess_diag.security: network mode, the run password, the attempt throttle, uploads stored under
their digest, and local files read only from the import folder."""

from __future__ import annotations

import hashlib
import os
import re

import pytest

from ess_diag import config, security


@pytest.mark.parametrize(
    ("address", "networked"),
    [
        ("127.0.0.1", False),
        ("localhost", False),
        ("LOCALHOST", False),
        ("::1", False),
        ("[::1]", False),
        ("0.0.0.0", True),
        ("::", True),
        ("192.168.1.20", True),
        ("", True),  # Streamlit's default: every interface
        (None, True),
    ],
)
def test_network_mode(address, networked):
    assert security.is_network_mode(address) is networked


def test_generated_passwords_are_long_readable_and_random():
    passwords = {security.generate_password() for _ in range(200)}
    assert len(passwords) == 200
    for pw in passwords:
        assert len(pw) >= 10
        assert re.fullmatch(r"([bdfjlmnprstvz][aeiou]){3}-([bdfjlmnprstvz][aeiou]){3}-\d\d", pw)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_delay_doubles_then_caps_and_success_resets():
    clock = Clock()
    throttle = security.AttemptThrottle(base=2, cap=300, free=1, clock=clock)
    keys = [("session", "a"), ("address", "10.0.0.5")]
    delays = []
    for _ in range(12):
        assert throttle.wait(keys) == 0
        delays.append(throttle.failure(keys))
        clock.now += delays[-1]
    assert delays == [0, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    # Refused before the delay has elapsed, with the time left.
    throttle.failure(keys)
    clock.now += 100
    assert throttle.wait(keys) == 200
    clock.now += 200
    assert throttle.wait(keys) == 0
    throttle.success(keys)
    assert throttle.failures(keys[0]) == throttle.failures(keys[1]) == 0
    assert throttle.failure(keys) == 0  # a typo after a success is free again


def test_throttle_counts_per_address_across_sessions():
    """A new browser session (new websocket) does not escape the address's count."""
    clock = Clock()
    throttle = security.AttemptThrottle(clock=clock)
    for session in "abcd":
        throttle.failure([("session", session), ("address", "10.0.0.9")])
    assert throttle.wait([("session", "e"), ("address", "10.0.0.9")]) == 8
    assert throttle.wait([("session", "e"), ("address", "10.0.0.10")]) == 0


def test_throttle_is_bounded_and_forgets():
    clock = Clock()
    throttle = security.AttemptThrottle(max_keys=100, forget_after=3600, clock=clock)
    for i in range(1000):
        throttle.failure([("session", str(i)), ("address", "10.0.0.1")])
    assert len(throttle) == 100
    assert throttle.failures(("address", "10.0.0.1")) == 1000  # kept: the most recent key
    clock.now += 300 + 3601
    assert throttle.failures(("address", "10.0.0.1")) == 0


EVIL_NAMES = [
    "../../../../tmp/x/evil.csv",
    "/etc/passwd",
    "/tmp/x/evil.csv",
    "..\\..\\..\\evil.csv",
    "evil\x00.csv",
    "evil.csv\x00.sh",
    "",
    "....//....//evil.parquet",
]


@pytest.mark.parametrize("name", EVIL_NAMES)
def test_upload_is_stored_under_its_digest_inside_the_folder(tmp_path, name):
    folder = tmp_path / "deep" / "uploads"
    data = b"siren;nom\n1;x\n" + name.encode("utf-8", "replace")
    before = set(tmp_path.rglob("*"))
    stored = security.store_upload(folder, data, name)
    assert stored.parent == folder.resolve()
    assert re.fullmatch(r"[0-9a-f]{64}\.(csv|parquet|bin)", stored.name)
    assert stored.name.startswith(hashlib.sha256(data).hexdigest())
    assert stored.read_bytes() == data
    created = set(tmp_path.rglob("*")) - before
    assert {p for p in created if p.is_file()} == {stored}
    assert not (tmp_path / "x").exists()
    shown = security.display_name(name)
    assert "/" not in shown and "\\" not in shown and "\x00" not in shown and shown


def test_upload_extension_whitelist_and_display_name(tmp_path):
    assert security.upload_extension("StockEtablissement_35.CSV.GZ") == ".csv.gz"
    assert security.upload_extension("grille.xlsx") == ".xlsx"
    assert security.upload_extension("x.php") == ".bin"
    assert security.display_name("C:\\Users\\moi\\acteurs.csv") == "acteurs.csv"
    assert security.display_name("../../etc/passwd") == "passwd"
    # The same bytes are stored once.
    assert security.store_upload(tmp_path, b"a", "a.csv") == security.store_upload(
        tmp_path, b"a", "autre.csv"
    )


@pytest.fixture
def import_folder(tmp_path):
    folder = tmp_path / "imports"
    (folder / "sirene").mkdir(parents=True)
    (folder / "acteurs.csv").write_text("nom\nx\n")
    (folder / "sirene" / "StockEtablissement.csv").write_text("siret\n1\n")
    (folder / ".cache").write_text("hidden")
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0")
    os.symlink(secret, folder / "lien.csv")  # a link inside that leads outside
    os.symlink(folder / "acteurs.csv", folder / "lien_interne.csv")
    return folder


def test_import_folder_lists_only_its_own_files(import_folder):
    assert security.import_files(import_folder) == [
        "acteurs.csv",
        "lien_interne.csv",
        "sirene/StockEtablissement.csv",
    ]
    assert security.import_files(import_folder / "absent") == []


def test_import_path_inside_is_resolved(import_folder):
    assert security.resolve_import_path(import_folder, "sirene/StockEtablissement.csv") == (
        import_folder / "sirene" / "StockEtablissement.csv"
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("/etc/passwd", "n'est pas dans le dossier d'import"),
        ("../secret.txt", "n'est pas dans le dossier d'import"),
        ("sirene/../../secret.txt", "n'est pas dans le dossier d'import"),
        ("lien.csv", "n'est pas dans le dossier d'import"),  # symlink escape
        ("absent.csv", "est introuvable dans le dossier d'import"),
        ("sirene", "est introuvable dans le dossier d'import"),  # a folder is not a file
        ("a\x00b.csv", "contient un caractère interdit"),
    ],
)
def test_import_path_outside_is_refused(import_folder, name, message):
    with pytest.raises(security.PathRefused, match=message):
        security.resolve_import_path(import_folder, name)


def test_import_dir_setting(monkeypatch, tmp_path):
    monkeypatch.delenv("ESS_DIAG_IMPORT_DIR", raising=False)
    monkeypatch.setenv("ESS_DIAG_DB", str(tmp_path / "base" / "ess.duckdb"))
    assert config.import_dir() == (tmp_path / "base" / "imports").resolve()
    monkeypatch.setenv("ESS_DIAG_IMPORT_DIR", str(tmp_path / "ailleurs"))
    assert config.import_dir() == (tmp_path / "ailleurs").resolve()
