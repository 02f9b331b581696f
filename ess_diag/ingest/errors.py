"""Errors of the importers, with French messages meant for the person importing."""

from __future__ import annotations

__all__ = ["IngestError", "FileRejected", "UndoError"]


class IngestError(ValueError):
    """An import cannot go on. ``str(exc)`` is a French sentence naming the file (and, when
    known, the row and column)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ):
        super().__init__(message)
        self.file = file
        self.row = row
        self.column = column


class FileRejected(IngestError):
    """A file cannot be read as any known format (empty, binary, wrong columns, too large…)."""


class UndoError(IngestError):
    """An import cannot be undone (unknown, already undone, or a later import depends on it)."""
