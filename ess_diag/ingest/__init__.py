"""Importers of real files: SIRENE (and ESS France's list), URSSAF, the observatoires'
statistics, INSEE's density grid, hand-made actor lists and the published lists of
inclusive and ESUS structures.

Public entry points (see :mod:`ess_diag.ingest.run` for how an import runs)::

    report = run_import(con, ["ul.csv", "etab.csv.gz"], dry_run=False)
    report.to_json()                      # the validation report (ARCHITECTURE.md contract)
    list_imports(con); undo_import(con, report.import_id)

Modules, one concept each: :mod:`.sniff` (what a file is), :mod:`.registry` (the registry and
recognition by header), :mod:`.inspection` (a file before import, preview), :mod:`.staging`
(files into TEMP tables), :mod:`.context` (what a reader works with), :mod:`.macros` (SQL
cleaning macros), :mod:`.run` (the import run), :mod:`.history` (apply, history, undo),
:mod:`.report` (the validation report), :mod:`.mapping` (remembered column choices),
:mod:`.checks` (refusals shared by the statistics readers) and one module per reader.
"""

from __future__ import annotations

from . import (
    actors_template,  # noqa: F401  (hand-made actor lists)
    densite,  # noqa: F401  (INSEE density grid)
    inclusion,  # noqa: F401  (SIAE, EA, ESAT and ESUS lists)
    observatoire,  # noqa: F401  (ESS statistics tables)
    sirene,  # noqa: F401  (registers the SIRENE formats)
    sirene_history,  # noqa: F401  (SIRENE history files → yearly series)
    urssaf,  # noqa: F401  (URSSAF private employment and ESS datasets)
)
from .context import ImportContext
from .errors import FileRejected, IngestError, Reason, UndoError
from .history import list_imports, undo_import
from .inspection import inspect_file, preview
from .limits import UploadLimits
from .registry import FormatSpec, formats, register_format, register_group
from .report import FileReport, ImportReport, SetAside
from .run import Progress, run_import

__all__ = [
    "FileRejected",
    "FileReport",
    "FormatSpec",
    "ImportContext",
    "ImportReport",
    "IngestError",
    "Progress",
    "Reason",
    "SetAside",
    "UndoError",
    "UploadLimits",
    "formats",
    "inspect_file",
    "list_imports",
    "preview",
    "register_format",
    "register_group",
    "run_import",
    "undo_import",
]
