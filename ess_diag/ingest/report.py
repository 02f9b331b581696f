"""The validation report of an import: what was detected about each file, the rows set aside
and why, the refusals (French text and reason code), as French sentences (:meth:`summary`) and
as JSON (:meth:`ImportReport.to_json`, the contract of ``ess-diag import --json``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from ..formatting import fmt_int
from .errors import IngestError, Reason

__all__ = ["FileReport", "SetAside", "ImportReport", "MAX_ROWS_LISTED", "fmt_size"]

#: Line numbers listed per reason a row is set aside (the count is always complete).
MAX_ROWS_LISTED = 20

_SEPARATOR_NAMES = {
    ";": "point-virgule",
    ",": "virgule",
    "\t": "tabulation",
    "|": "barre verticale",
}


@dataclass
class FileReport:
    """What was detected about one file."""

    name: str
    path: str
    size: int
    sha256: str | None = None
    format: str | None = None
    format_label: str | None = None
    container: str = "csv"  # csv | parquet | xlsx
    compression: str | None = None  # gzip | None
    #: ``'zip'`` when the file is an archive (INSEE's national files), ``member`` what it read.
    archive: str | None = None
    member: str | None = None
    encoding: str | None = None  # utf-8 | utf-8-sig | cp1252 (CSV only)
    separator: str | None = None
    decimal_comma: bool = False
    header_row: int = 1
    columns: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)  # canonical → header
    rows_read: int = 0
    #: Rows read but not kept: outside the ESS perimeter (streamed SIRENE import, :mod:`.sirene`).
    rows_skipped: int = 0

    @property
    def known_format(self) -> str:
        """The format of a recognised file (only those are staged and imported)."""
        assert self.format is not None, f"{self.name}: format not recognised"
        return self.format

    def describe(self) -> str:
        """One French line: « ul.csv : SIRENE unités légales, CSV UTF-8, séparateur virgule »."""
        parts = [self.format_label or "format non reconnu"]
        if self.archive:
            parts.append(f"archive {self.archive} (fichier « {self.member} »)")
        if self.container == "csv":
            enc = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 avec BOM", "cp1252": "Windows-1252"}
            parts.append(
                ("CSV compressé (gzip)" if self.compression else "CSV")
                + f" {enc.get(self.encoding or '', self.encoding or '')}".rstrip()
            )
            if self.separator:
                parts.append(f"séparateur {_SEPARATOR_NAMES.get(self.separator, self.separator)}")
            if self.decimal_comma:
                parts.append("virgule décimale")
        elif self.container == "parquet":
            parts.append("Parquet")
        else:
            parts.append(f"classeur Excel (en-tête ligne {self.header_row})")
        return f"{self.name} : " + ", ".join(parts)


@dataclass
class SetAside:
    """Rows not loaded, grouped by reason: the first row numbers and one example."""

    reason: str
    count: int
    rows: list[int]
    example: str | None = None
    file: str | None = None
    column: str | None = None

    def describe(self) -> str:
        more = "…" if self.count > len(self.rows) else ""
        label = "ligne" if self.count == 1 else "lignes"
        # A streamed file (national SIRENE) does not know its rows' line numbers: the
        # example names the row by its identifier instead.
        where = [self.file] if self.file else []
        if self.rows:
            where.append(f"{label} {', '.join(str(r) for r in self.rows)}{more}")
        if self.column:
            where.append(f"colonne {self.column}")
        place = f" ({', '.join(where)})" if where else ""
        example = f" — exemple : {self.example}" if self.example else ""
        return f"{self.reason} : {fmt_int(self.count)} {label}{place}{example}"


@dataclass
class ImportReport:
    """The validation report (JSON contract in ARCHITECTURE.md)."""

    status: str = "rejected"  # committed | rejected | dry-run
    kind: str | None = None
    files: list[FileReport] = field(default_factory=list)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_set_aside: int = 0
    #: Rows read and not kept because they are outside the ESS perimeter (national SIRENE
    #: files are filtered while they are read): neither loaded nor set aside.
    rows_skipped: int = 0
    set_aside: list[SetAside] = field(default_factory=list)
    unresolved_communes: list[str] = field(default_factory=list)
    duplicates: int = 0
    import_id: str | None = None
    #: Why the import was refused, in French (one sentence each)…
    errors: list[str] = field(default_factory=list)
    #: …and the same refusals as :class:`~.errors.Reason` codes, in the same order.
    error_codes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Detected figures (e.g. active/closed, coordinates by source, ESS by family).
    counts: dict[str, object] = field(default_factory=dict)
    #: Rows written per table.
    tables: dict[str, int] = field(default_factory=dict)
    previous_imports: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        data = asdict(self)
        for f in data["files"]:
            f.pop("path", None)
        return data

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, default=str, **kwargs)

    def refuse(self, message: str, code: Reason) -> None:
        """Record a refusal (the import will not be written)."""
        self.errors.append(message)
        self.error_codes.append(str(code))

    def refuse_error(self, exc: IngestError) -> None:
        """Record the refusal an :class:`~.errors.IngestError` carries."""
        self.refuse(str(exc), exc.code)

    @property
    def ok(self) -> bool:
        return self.status in ("committed", "dry-run")

    def summary(self) -> list[str]:
        """The report as French sentences (CLI text output and the app)."""
        status = {
            "committed": "Import enregistré",
            "dry-run": "Vérification seule (rien n'a été écrit)",
            "rejected": "Import refusé : la base n'a pas été modifiée",
        }[self.status]
        lines = [status + (f" (import {self.import_id})" if self.import_id else "") + "."]
        lines += [f"Fichier {f.describe()}" for f in self.files]
        lines += [f"Erreur : {e}" for e in self.errors]
        if self.status != "rejected" or self.rows_read:
            skipped = (
                f" hors périmètre de l'ESS, non conservées : {fmt_int(self.rows_skipped)} ;"
                if self.rows_skipped
                else ""
            )
            lines.append(
                f"Lignes lues : {fmt_int(self.rows_read)} ;{skipped} chargées : "
                f"{fmt_int(self.rows_loaded)} ; mises de côté : {fmt_int(self.rows_set_aside)}."
            )
        lines += [f"Mise de côté — {s.describe()}" for s in self.set_aside]
        if self.unresolved_communes:
            codes = ", ".join(self.unresolved_communes[:30])
            more = "…" if len(self.unresolved_communes) > 30 else ""
            lines.append(f"Codes commune non reconnus : {codes}{more}")
        lines += [f"Attention : {w}" for w in self.warnings]
        return lines


def fmt_size(size: int) -> str:
    """``2147483648`` → ``'2 048 Mo'`` (French, Mo = 1 048 576 octets)."""
    if size < 1024 * 1024:
        return f"{fmt_int(max(1, round(size / 1024)))} ko"
    return f"{fmt_int(round(size / (1024 * 1024)))} Mo"
