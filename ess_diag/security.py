"""What keeps a workshop on a shared network closed to strangers (no Streamlit here).

- :func:`is_network_mode` — whether the server listens beyond this computer (then the import,
  facilitation and projection pages need the admin password, whoever asks);
- :func:`generate_password` — a password for one run of ``make run-lan``, easy to read aloud;
- :class:`AttemptThrottle` — failed password attempts per key (browser session, client address)
  with an increasing delay, bounded in memory;
- :func:`store_upload` / :func:`display_name` — an uploaded file is stored under the digest of its
  bytes and a whitelisted extension: nothing the client sends becomes a path;
- :func:`import_files` / :func:`resolve_import_path` — local files are read only from the import
  folder (``ESS_DIAG_IMPORT_DIR``), symlinks resolved before the check.

>>> is_network_mode("127.0.0.1"), is_network_mode("0.0.0.0"), is_network_mode(None)
(False, True, True)
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path, PurePosixPath

from .text import clean

__all__ = [
    "LOOPBACK_ADDRESSES",
    "is_network_mode",
    "generate_password",
    "AttemptThrottle",
    "UPLOAD_EXTENSIONS",
    "upload_extension",
    "display_name",
    "store_upload",
    "PathRefused",
    "import_files",
    "resolve_import_path",
]

#: ``server.address`` values that keep the app on this computer.
LOOPBACK_ADDRESSES = frozenset({"127.0.0.1", "localhost", "::1"})


def is_network_mode(address: str | None) -> bool:
    """True unless the server listens on loopback only.

    Unset or empty means Streamlit's default, every interface: network mode. ``.streamlit/
    config.toml`` sets ``127.0.0.1`` so that a bare ``streamlit run app.py`` stays local.
    """
    return (address or "").strip().lower().strip("[]") not in LOOPBACK_ADDRESSES


# Consonants and vowels that a French speaker reads aloud one way and a listener types one way
# (no q/c/k/g ambiguity, no y, no x/w).
_CONSONANTS = "bdfjlmnprstvz"
_VOWELS = "aeiou"


def generate_password(words: int = 2, syllables: int = 3, digits: int = 2) -> str:
    """A password made of pronounceable syllables and digits, from :mod:`secrets`.

    The default shape ``'mopali-rudevo-47'`` (16 characters) carries about 43 bits: 6 syllables
    of 13 × 5 choices and 2 digits. With the attempt throttle (one guess per 5 minutes per
    address after a dozen failures) that is out of reach during a workshop.

    >>> len(generate_password()) >= 10
    True
    """
    parts = [
        "".join(secrets.choice(_CONSONANTS) + secrets.choice(_VOWELS) for _ in range(syllables))
        for _ in range(words)
    ]
    parts.append("".join(secrets.choice("0123456789") for _ in range(digits)))
    return "-".join(parts)


class AttemptThrottle:
    """Failed attempts per key, with a delay that doubles at each failure (capped).

    The first ``free`` failures cost nothing (a typo); after ``n > free`` failures on a key the
    next attempt on that key is refused for ``min(base ** (n - free), cap)`` seconds — 2, 4, 8…
    300 s by default. :meth:`wait` says how long is left (the caller refuses the attempt, it
    does not sleep). A success clears the keys. At most ``max_keys`` keys are kept
    (least recently failed dropped first), and a key forgets its failures ``forget_after``
    seconds after its delay has elapsed. Thread-safe: Streamlit runs sessions on threads.
    """

    def __init__(
        self,
        *,
        base: float = 2.0,
        cap: float = 300.0,
        free: int = 1,
        max_keys: int = 4096,
        forget_after: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base, self.cap, self.free = base, cap, free
        self.max_keys, self.forget_after = max_keys, forget_after
        self.clock = clock
        self._entries: OrderedDict[Hashable, tuple[int, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _live(self, key: Hashable, now: float) -> tuple[int, float]:
        entry = self._entries.get(key)
        if entry is None:
            return 0, now
        if now > entry[1] + self.forget_after:
            del self._entries[key]
            return 0, now
        return entry

    def wait(self, keys: Iterable[Hashable]) -> float:
        """Seconds before any of ``keys`` may try again (0 when an attempt is allowed)."""
        with self._lock:
            now = self.clock()
            return max([0.0, *(self._live(k, now)[1] - now for k in keys)])

    def failures(self, key: Hashable) -> int:
        with self._lock:
            return self._live(key, self.clock())[0]

    def failure(self, keys: Iterable[Hashable]) -> float:
        """Count a failed attempt on every key; return the delay now imposed (seconds)."""
        with self._lock:
            now = self.clock()
            longest = 0.0
            for key in keys:
                count = self._live(key, now)[0] + 1
                delay = (
                    min(self.base ** (count - self.free), self.cap) if count > self.free else 0.0
                )
                self._entries[key] = (count, now + delay)
                self._entries.move_to_end(key)
                longest = max(longest, delay)
            while len(self._entries) > self.max_keys:
                self._entries.popitem(last=False)
            return longest

    def success(self, keys: Iterable[Hashable]) -> None:
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


#: Extensions an uploaded file may keep (the import page's accepted types). Anything else is
#: stored as ``.bin`` and left for the format sniffing of ``ess_diag.ingest`` to refuse.
UPLOAD_EXTENSIONS = (".csv.gz", ".txt.gz", ".csv", ".txt", ".gz", ".parquet", ".xlsx", ".zip")


def upload_extension(client_name: str) -> str:
    """The whitelisted extension of a client's file name, lower case (``.bin`` otherwise)."""
    name = (client_name or "").replace("\x00", "").lower()
    return next((ext for ext in UPLOAD_EXTENSIONS if name.endswith(ext)), ".bin")


def display_name(client_name: str) -> str:
    """The client's file name as shown in reports: last path part, cleaned, 200 characters max.

    Only ever displayed and recorded in the import history, never used as a path.
    """
    base = PurePosixPath((client_name or "").replace("\\", "/")).name
    return clean(base, 200, multiline=False) or "fichier"


def store_upload(folder: str | Path, data: bytes, client_name: str) -> Path:
    """Write ``data`` to ``folder/<sha256>.<ext>`` (once) and return that path.

    The name comes from the bytes' digest and a whitelisted extension only, so a name such as
    ``../../x.csv``, an absolute path or a NUL byte cannot place the file elsewhere.
    """
    root = Path(folder).resolve()
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"{hashlib.sha256(data).hexdigest()}{upload_extension(client_name)}"
    if target.parent != root:  # cannot happen with a hex digest; kept as the invariant
        raise ValueError("nom de fichier inattendu")
    if not target.is_file():
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        tmp.write_bytes(data)
        tmp.replace(target)
    return target


class PathRefused(ValueError):
    """A local path outside the import folder, or no such file (French message)."""


def import_files(folder: str | Path, limit: int = 500) -> list[str]:
    """Files available in the import folder, as paths relative to it (sorted, hidden skipped).

    Symbolic links that lead outside the folder are not listed.
    """
    root = Path(folder).resolve()
    if not root.is_dir():
        return []
    found: list[str] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if not path.resolve().is_relative_to(root):
            continue
        found.append(rel.as_posix())
        if len(found) >= limit:
            break
    return found


def resolve_import_path(folder: str | Path, name: str) -> Path:
    """The real path of ``name`` inside the import folder, or :class:`PathRefused`.

    The path is resolved (symbolic links followed, ``..`` removed) before it is checked, so a
    link inside the folder that points elsewhere is refused like ``/etc/passwd``.
    """
    root = Path(folder).resolve()
    shown = clean(name, 200, multiline=False)
    if "\x00" in (name or ""):
        raise PathRefused(f"Le nom « {shown} » contient un caractère interdit : refusé.")
    candidate = (root / name).resolve()
    if not candidate.is_relative_to(root):
        raise PathRefused(
            f"« {shown} » n'est pas dans le dossier d'import ({root}) : seuls les fichiers "
            "de ce dossier peuvent être lus."
        )
    if not candidate.is_file():
        raise PathRefused(f"« {shown} » est introuvable dans le dossier d'import ({root}).")
    return candidate
