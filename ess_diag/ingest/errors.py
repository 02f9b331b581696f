"""Errors of the importers, with French messages meant for the person importing and a reason
code (:class:`Reason`) meant for code: callers branch on ``exc.code``, never on the text."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Reason", "IngestError", "FileRejected", "UndoError"]


class Reason(StrEnum):
    """Why an import (or an undo) was refused. The value is what the JSON report shows in
    ``error_codes``."""

    # -- the file itself (inspection, staging)
    NOT_FOUND = "not_found"
    TOO_LARGE = "too_large"
    TOO_EXPANDED = "too_expanded"  # an upload that decompresses beyond its limits (bomb)
    TOO_MANY_ROWS = "too_many_rows"  # an upload with more rows than the browser limit
    EMPTY = "empty"
    BINARY = "binary"
    NO_HEADER = "no_header"
    RENAMED_XLSX = "renamed_xlsx"
    OLD_XLS = "old_xls"
    DAMAGED = "damaged"  # truncated gzip, unreadable Parquet/xlsx, CSV the reader cannot parse
    UNKNOWN_FORMAT = "unknown_format"  # a --kind nobody registered
    UNKNOWN_COLUMNS = "unknown_columns"  # the header matches no format at all
    MISSING_COLUMNS = "missing_columns"  # the header is closest to a format, minus columns
    NO_FILE = "no_file"
    NO_DATA = "no_data"  # only a header
    ZIP_MEMBERS = "zip_members"  # a zip archive whose member cannot be chosen or read
    # -- the content (readers)
    NO_GEOGRAPHY = "no_geography"
    INVALID_VALUE = "invalid_value"  # a value that cannot be right (negative count, bad year…)
    CONFLICT = "conflict"  # the same figure twice with two values
    NOTHING_TO_IMPORT = "nothing_to_import"  # no year column, no measure…
    NO_ROW_LOADED = "no_row_loaded"  # rows read, none loadable (every SIREN malformed…)
    DATABASE = "database"  # DuckDB refused a statement: rolled back
    BUSY = "busy"  # another import or undo is running on the same database
    # -- undo
    UNKNOWN_IMPORT = "unknown_import"
    ALREADY_UNDONE = "already_undone"
    LATER_IMPORT = "later_import"

    @property
    def columns(self) -> bool:
        """The file's columns were not recognised (a column mapping may fix it)."""
        return self in (Reason.UNKNOWN_COLUMNS, Reason.MISSING_COLUMNS)


class IngestError(ValueError):
    """An import cannot go on. ``str(exc)`` is a French sentence naming the file (and, when
    known, the row and column); ``exc.code`` says why (:class:`Reason`)."""

    default_code = Reason.INVALID_VALUE

    def __init__(
        self,
        message: str,
        *,
        code: Reason | None = None,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ):
        super().__init__(message)
        self.code = code or self.default_code
        self.file = file
        self.row = row
        self.column = column


class FileRejected(IngestError):
    """A file cannot be read as any known format (empty, binary, wrong columns, too large…)."""

    default_code = Reason.DAMAGED


class UndoError(IngestError):
    """An import cannot be undone (unknown, already undone, or a later import depends on it)."""

    default_code = Reason.UNKNOWN_IMPORT
