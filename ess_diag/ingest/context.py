"""What a format group's handler works with during an import (:class:`ImportContext`): the
connection, the staged files, the report, and the rows it declares to write."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import duckdb

from .. import store
from .errors import Reason
from .report import MAX_ROWS_LISTED, FileReport, ImportReport, SetAside
from .staging import Staged

__all__ = ["ImportContext"]


class ImportContext:
    """What a group handler works with: the connection, the staged tables, the report."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        import_id: str,
        report: ImportReport,
        staged: list[Staged],
    ):
        self.con = con
        self.import_id = import_id
        self.report = report
        self._staged = staged
        self.targets: list[tuple[str, str, tuple[str, ...]]] = []
        self._temps: list[str] = []
        self._n = 0

    # -- staged data
    def kinds(self) -> set[str]:
        return {s.report.known_format for s in self._staged}

    def files(self, kind: str) -> list[FileReport]:
        return [s.report for s in self._staged if s.report.format == kind]

    def staged(self, kind: str) -> str | None:
        """Name of a TEMP view with every staged row of ``kind`` (canonical columns,
        ``_file``, ``_row``), or None when the import has no such file."""
        parts = [s for s in self._staged if s.report.format == kind]
        if not parts:
            return None
        name = self.temp_name(f"v_{kind}")
        union = " UNION ALL BY NAME ".join(
            f"SELECT {s.index}::INTEGER AS _file, {s.row_sql()}::BIGINT AS _row, "
            f"* {'EXCLUDE (_row)' if s.report.container == 'xlsx' else ''} "
            f"FROM {store.quote_identifier(s.table)}"
            for s in parts
        )
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {union}")  # noqa: S608
        return name

    def staged_for(self, kind: str, *, geography: str | None = None) -> str | None:
        """The readers' common opening: the staged view of ``kind`` (:meth:`staged`), or None
        when the import has no such file — or, when ``geography`` says what the rows need the
        reference geography for, when it is not loaded (the refusal is then recorded,
        :meth:`require_geography`). The SQL macros (:mod:`.macros`) are already installed.
        """
        if not any(s.report.format == kind for s in self._staged):
            return None
        if geography is not None and not self.require_geography(geography):
            return None
        return self.staged(kind)

    def staged_file(self, index: int) -> Staged:
        """The staged file of index ``index`` (the ``_file`` column of staged rows)."""
        return self._staged[index]

    def staged_files(self, kind: str | None = None) -> list[Staged]:
        """The staged files (of ``kind`` when given), in import order; ``Staged.index`` is the
        ``_file`` of their rows."""
        return [s for s in self._staged if kind is None or s.report.format == kind]

    def refuse(self, message: str, code: Reason) -> None:
        """Refuse the import (French message, reason code) without raising."""
        self.report.refuse(message, code)

    def file_name(self, index: int) -> str:
        return self._staged[index].report.name

    def decimal_comma(self, kind: str) -> bool:
        return any(s.report.decimal_comma for s in self._staged if s.report.format == kind)

    # -- helpers
    def temp_name(self, prefix: str) -> str:
        self._n += 1
        name = f"_ess_{re.sub(r'[^A-Za-z0-9_]', '_', prefix)}_{self._n}"
        self._temps.append(name)
        return name

    def sql(self, query: str, params: Sequence | None = None) -> list[tuple]:
        """Run a query and fetch everything."""
        return self.con.execute(query, params or []).fetchall()

    def scalar(self, query: str, params: Sequence | None = None):
        rows = self.sql(query, params)
        return rows[0][0] if rows else None

    def require_geography(self, purpose: str) -> bool:
        """True when the reference geography is loaded; else records the French error
        (« impossible de ``purpose`` ») and returns False."""
        if self.scalar("SELECT count(*) FROM commune_aliases"):
            return True
        self.report.refuse(
            f"La géographie de référence n'est pas chargée : impossible de {purpose}. "
            "Lancez d'abord « ess-diag init ».",
            Reason.NO_GEOGRAPHY,
        )
        return False

    def warn(self, message: str) -> None:
        self.report.warnings.append(message)

    def count(self, key: str, value) -> None:
        self.report.counts[key] = value

    def collect_set_aside(
        self,
        table: str,
        *,
        reason: str = "_reason",
        column: str = "_column",
        example: str = "_example",
    ) -> int:
        """Add the rows of ``table`` whose ``reason`` column is set to the report, grouped by
        (file, reason, column) with their line numbers and the first example. Returns the count."""
        rows = self.sql(
            f"SELECT _file, {reason}, {column}, count(*), "  # noqa: S608
            f"list(_row ORDER BY _row)[1:{MAX_ROWS_LISTED}], "
            f"arg_min({example}, _row), min(_row) "
            f"FROM {table} WHERE {reason} IS NOT NULL GROUP BY ALL ORDER BY 1, 7"
        )
        total = 0
        for file_idx, why, col, n, lines, ex, _first in rows:
            staged = self._staged[file_idx]
            # A streamed file staged only some rows: their line numbers are unknown.
            fixed = [] if staged.filtered else [staged.line_of(int(r)) for r in lines]
            self.report.set_aside.append(
                SetAside(why, int(n), [int(v) for v in fixed], ex, staged.report.name, col)
            )
            total += int(n)
        return total

    def add_target(self, table: str, source: str, keys: Iterable[str]) -> None:
        """Rows of TEMP table ``source`` replace the rows of ``table`` with the same ``keys``
        (``import_id`` is added by the core: ``source`` must not have it)."""
        self.targets.append((table, source, tuple(keys)))

    def cleanup(self) -> None:
        for name in reversed(self._temps):
            for kind in ("VIEW", "TABLE"):
                try:
                    self.con.execute(f"DROP {kind} IF EXISTS {name}")
                except duckdb.Error:
                    pass
