"""SQLite through ADBC for the GeoPackage writer process: Arrow columns are bound in C.

Place in the data flow: private to the GeoPackage store, and used only inside the writer process of
a large batch (:mod:`pipelines.store._process_writer`). Python's ``sqlite3`` binds every value of an
``executemany`` through a Python object with the GIL held (about 0.5 s per 100k incident rows,
converting the columns included); ADBC's bulk ingest binds Arrow arrays in C (about 0.15 s).

:class:`Connection` offers the part of ``sqlite3.Connection`` the store's write path uses
(``execute`` with ``fetchone``/``fetchall``/iteration, ``executemany``, ``close``) plus
:meth:`Connection.ingest`. Errors are raised as the ``sqlite3`` exception of the same kind, so
callers handle both connections alike.

Never open one in a process that also has the store open through Python's ``sqlite3``: the ADBC
driver carries its own copy of SQLite, POSIX advisory locks belong to the whole process, and closing
the file in one copy silently drops the locks the other copy holds ("How To Corrupt An SQLite
Database File", sections 2.2 and 2.3). The writer process opens the store through this module only.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import adbc_driver_manager
import adbc_driver_sqlite.dbapi
import pyarrow as pa

_ERRORS = (
    (adbc_driver_manager.IntegrityError, sqlite3.IntegrityError),
    (adbc_driver_manager.OperationalError, sqlite3.OperationalError),
    (adbc_driver_manager.ProgrammingError, sqlite3.OperationalError),
)


class _Rows:
    """The fetched result of one statement, read like a ``sqlite3.Cursor``."""

    def __init__(self, rows: list[tuple]) -> None:
        self._rows = rows
        self._next = 0

    def fetchone(self) -> tuple | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[tuple]:
        rest, self._next = self._rows[self._next :], len(self._rows)
        return rest

    def __iter__(self) -> Iterator[tuple]:
        return iter(self.fetchall())


class Connection:
    """One ADBC SQLite connection in autocommit mode: transactions are the caller's ``BEGIN``/``COMMIT``."""

    def __init__(self, path: str | Path) -> None:
        self._conn = adbc_driver_sqlite.dbapi.connect(str(path), autocommit=True)
        self._cursor = self._conn.cursor()

    def execute(self, sql: str, parameters: Sequence = ()) -> _Rows:
        with _as_sqlite3_errors():
            self._cursor.execute(sql, tuple(parameters) or None)
            rows = self._cursor.fetchall() if self._cursor.description else []
        return _Rows(rows)

    def executemany(self, sql: str, rows: Iterable[Sequence]) -> None:
        rows = [tuple(r) for r in rows]
        if rows:
            with _as_sqlite3_errors():
                self._cursor.executemany(sql, rows)

    def ingest(self, table: str, data: pa.Table) -> None:
        """Append ``data`` to ``table``, binding its columns (by name) straight from Arrow."""
        if data.num_rows:
            with _as_sqlite3_errors():
                self._cursor.adbc_ingest(table, data, mode="append")

    def close(self) -> None:
        self._cursor.close()
        self._conn.close()


@contextlib.contextmanager
def _as_sqlite3_errors() -> Iterator[None]:
    try:
        yield
    except adbc_driver_manager.Error as exc:
        target = next((to for frm, to in _ERRORS if isinstance(exc, frm)), sqlite3.DatabaseError)
        # "INTEGRITY: UNIQUE constraint failed: ..." (then the query on later lines): SQLite's own words.
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise target(first.split(": ", 1)[-1]) from exc
