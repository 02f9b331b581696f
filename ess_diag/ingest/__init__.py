"""Importers of real files: SIRENE (and ESS France's list) today; the statistics, density grid
and actor template readers register their formats here the same way.

Public entry points (see :mod:`ess_diag.ingest.core` for how an import runs)::

    report = run_import(con, ["ul.csv", "etab.csv.gz"], dry_run=False)
    report.to_json()                      # the validation report (ARCHITECTURE.md contract)
    list_imports(con); undo_import(con, report.import_id)
"""

from __future__ import annotations

from . import (
    actors_template,  # noqa: F401  (hand-made actor lists)
    densite,  # noqa: F401  (INSEE density grid)
    observatoire,  # noqa: F401  (ESS statistics tables)
    sirene,  # noqa: F401  (registers the SIRENE formats)
    urssaf,  # noqa: F401  (URSSAF private employment and ESS datasets)
)
from .core import (
    FileReport,
    FormatSpec,
    ImportContext,
    ImportReport,
    SetAside,
    formats,
    inspect_file,
    lambert93_to_wgs84,
    list_imports,
    preview,
    register_format,
    register_group,
    run_import,
    undo_import,
)
from .errors import FileRejected, IngestError, UndoError

__all__ = [
    "FileRejected",
    "FileReport",
    "FormatSpec",
    "ImportContext",
    "ImportReport",
    "IngestError",
    "SetAside",
    "UndoError",
    "formats",
    "inspect_file",
    "lambert93_to_wgs84",
    "list_imports",
    "preview",
    "register_format",
    "register_group",
    "run_import",
    "undo_import",
]
