"""The formats the importers know, and how a header is recognised as one of them.

Readers declare their formats with :func:`register_format` and the function that prepares
the staged rows of a format group with :func:`register_group` (see ``ingest/sirene.py``).
:func:`recognise` picks the format whose columns a header matches (the one matching most),
or refuses naming the missing columns of the closest format.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import FileRejected, Reason

if TYPE_CHECKING:  # the handlers receive a context; this module never builds one
    from .context import ImportContext
    from .report import FileReport

__all__ = [
    "FormatSpec",
    "GroupHandler",
    "register_format",
    "register_group",
    "formats",
    "group_handler",
    "StreamFilter",
    "register_stream_filter",
    "stream_filter",
    "normalize_header",
    "recognise",
]


def normalize_header(name: str) -> str:
    """``' Code Commune (INSEE) '`` → ``'codecommuneinsee'``: case, accents, spaces, punctuation
    and a UTF-8 BOM ignored."""
    text = unicodedata.normalize("NFKD", str(name).replace("\ufeff", ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]", "", text.lower())


@dataclass(frozen=True)
class FormatSpec:
    """A file format recognised by its header.

    ``required``/``optional`` are canonical column names; headers are matched ignoring case,
    accents, spaces and punctuation (:func:`normalize_header`); ``aliases`` maps other header
    spellings to a canonical name. ``group`` names the handler that prepares the staged rows
    (several formats may share one, e.g. the three SIRENE files).
    """

    kind: str
    label: str
    group: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)
    #: Order in which formats of one import are staged and shown.
    order: int = 50
    #: A reader of its own for a CSV layout DuckDB's header-based reading does not fit (e.g.
    #: FINESS's header-less extract): ``stage(con, staged, workdir, limit, source)`` (``source``: the
    #: file to read — a zip's member already extracted) fills the TEMP
    #: table with the canonical text columns (see :func:`~.staging.stage`).
    stage: Callable | None = None
    #: When a format must be staged earlier than it is shown (a stream filter uses it).
    stage_order: int | None = None

    @property
    def staging_order(self) -> int:
        return self.order if self.stage_order is None else self.stage_order

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional

    def match(self, header: Sequence[str]) -> tuple[dict[str, str], list[str]]:
        """Map canonical column → header column, and list the required columns missing."""
        wanted: dict[str, str] = {normalize_header(c): c for c in self.columns}
        for alias, target in self.aliases.items():
            wanted[normalize_header(alias)] = target
        found: dict[str, str] = {}
        for col in header:
            canonical = wanted.get(normalize_header(col))
            if canonical is not None and canonical not in found:
                found[canonical] = col
        missing = [c for c in self.required if c not in found]
        return found, missing

    def match_with(
        self, header: Sequence[str], column_map: dict[str, str]
    ) -> tuple[dict[str, str], list[str]]:
        """:meth:`match` completed by the user's choice ``{canonical: header}`` (which wins)."""
        found, _missing = self.match(header)
        chosen = {c: h for c, h in column_map.items() if c in self.columns and h in header}
        found = {c: h for c, h in found.items() if h not in chosen.values()}
        found.update(chosen)
        return found, [c for c in self.required if c not in found]


#: Prepare handler of a group: ``handler(ctx)``; staged tables via ``ctx.staged(kind)``.
GroupHandler = Callable[["ImportContext"], None]

#: Condition on the staged rows of a format, decided when a file is staged (``condition(ctx,
#: file_report)``): a SQL expression over its canonical columns (rows it rejects are never
#: staged), or None to stage every row. Formats are staged in ``order``: a filter may use the
#: files staged before it.
StreamFilter = Callable[["ImportContext", "FileReport"], "str | None"]

_FORMATS: dict[str, FormatSpec] = {}
_GROUPS: dict[str, GroupHandler] = {}
_FILTERS: dict[str, StreamFilter] = {}


def register_format(spec: FormatSpec) -> FormatSpec:
    """Make a format known to :func:`~.inspect.inspect_file` and :func:`~.run.run_import`."""
    _FORMATS[spec.kind] = spec
    return spec


def register_group(name: str, handler: GroupHandler) -> None:
    """Register the function that prepares the staged files of a format group."""
    _GROUPS[name] = handler


def register_stream_filter(kind: str, condition: StreamFilter) -> None:
    """Register the condition that streams a format's files (see :data:`StreamFilter`)."""
    _FILTERS[kind] = condition


def stream_filter(kind: str) -> StreamFilter | None:
    """The condition registered for a format, if any."""
    return _FILTERS.get(kind)


def formats() -> dict[str, FormatSpec]:
    """The registered formats, by kind."""
    return dict(_FORMATS)


def group_handler(name: str) -> GroupHandler:
    """The prepare handler of a format group."""
    return _GROUPS[name]


def recognise(
    header: Sequence[str],
    kind: str | None = None,
    *,
    name: str = "le fichier",
    column_map: dict[str, str] | None = None,
) -> tuple[FormatSpec, dict[str, str]]:
    """The format a header belongs to (the one matching most columns), or :class:`FileRejected`
    naming the missing columns of the closest format.

    ``column_map`` (with ``kind``): the user's choice of columns, ``{canonical: header}``
    (see :mod:`.mapping`), completing what the format recognises by itself.
    """
    if kind and kind not in _FORMATS:
        known = ", ".join(sorted(_FORMATS))
        raise FileRejected(
            f"Format « {kind} » inconnu. Formats possibles : {known}.",
            code=Reason.UNKNOWN_FORMAT,
            file=name,
        )
    if column_map and kind:
        found, missing = _FORMATS[kind].match_with(header, column_map)
        if not missing:
            return _FORMATS[kind], found
    candidates = [_FORMATS[kind]] if kind else list(_FORMATS.values())
    best: tuple[int, FormatSpec, dict[str, str]] | None = None
    for spec in candidates:
        found, missing = spec.match(header)
        if not missing and (best is None or len(found) > best[0]):
            best = (len(found), spec, found)
    if best is not None:
        return best[1], best[2]
    raise _closest_refusal(header, candidates, name)


def _closest_refusal(
    header: Sequence[str], candidates: Sequence[FormatSpec], name: str
) -> FileRejected:
    """The refusal of a header no format matches: the closest format and what it lacks."""
    shown = ", ".join(str(h) for h in list(header)[:8]) + ("…" if len(header) > 8 else "")
    closest: tuple[float, int, FormatSpec, list[str]] | None = None
    for spec in candidates:
        found, missing = spec.match(header)
        score = (len(spec.required) - len(missing)) / len(spec.required)
        if closest is None or (score, len(found)) > closest[:2]:
            closest = (score, len(found), spec, missing)
    # A format none of whose required columns is there may still be the closest one when
    # its optional columns are (e.g. URSSAF year columns with unusual commune/APE headers).
    if closest is None or (closest[0] == 0 and closest[1] == 0):
        return FileRejected(
            f"Le fichier « {name} » n'a pas les colonnes d'un format connu "
            f"(colonnes lues : {shown}).",
            code=Reason.UNKNOWN_COLUMNS,
            file=name,
        )
    spec, missing = closest[2], closest[3]
    return FileRejected(
        f"Le fichier « {name} » ressemble le plus au format « {spec.label} » mais il y manque "
        f"{'la colonne' if len(missing) == 1 else 'les colonnes'} {', '.join(missing)} "
        f"(colonnes lues : {shown}).",
        code=Reason.MISSING_COLUMNS,
        file=name,
        column=missing[0],
    )
