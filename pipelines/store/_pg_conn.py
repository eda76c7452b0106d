"""Connections to PostgreSQL for the PostGIS store: opening, pooling, and URLs safe to print.

Place in the data flow: below :mod:`pipelines.store.postgis`. The URL is handed to libpq as it is,
so every libpq form works (``postgresql://user@host:5432/db?sslmode=require``, a socket directory in
``host=``, passwords from ``~/.pgpass`` or ``PGPASSWORD``). Messages show it with the password
replaced by ``***``.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Iterator

import psycopg
from psycopg.pq import TransactionStatus

from pipelines.store.base import StoreError

#: Session settings of every connection: UTC for anything printed by the server, room for the
#: per-batch staging tables in memory, and a check that the client is still there during long
#: statements (a killed uploader's transaction is rolled back within seconds, not at the next write).
_SESSION = (
    "SET TIME ZONE 'UTC'",
    "SET temp_buffers = '128MB'",
    "SET client_connection_check_interval = '2s'",
)
_IDLE_CONNECTIONS = 4


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    url = re.sub(r"(://[^:/@?#]*:)[^@/?#]*@", r"\1***@", url)
    return re.sub(r"(password=)[^&\s]*", r"\1***", url)


def connect(url: str) -> psycopg.Connection:
    """An autocommit connection with the store's session settings, or a :class:`StoreError` saying what to check."""
    try:
        conn = psycopg.connect(url, autocommit=True, application_name="areasafe", connect_timeout=10)
    except psycopg.OperationalError as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        reason += "" if reason.endswith((".", "?", "!")) else "."
        raise StoreError(
            f"cannot connect to PostgreSQL at {redact(url)}: {redact(reason)} Check that the server runs and "
            "accepts connections from this machine, the URL (postgresql://USER@HOST:PORT/DATABASE) and "
            "the password (~/.pgpass or PGPASSWORD)."
        ) from exc
    except psycopg.ProgrammingError as exc:
        raise StoreError(f"{redact(url)} is not a valid PostgreSQL URL ({exc}); expected postgresql://...") from exc
    for statement in _SESSION:
        conn.execute(statement)
    return conn


class Pool:
    """A few idle connections kept for reuse; each caller gets a connection of its own.

    Streamlit runs every session's script on its own thread, so connections are not shared between
    threads: one is taken from the pool for a read or a whole write transaction and put back after.
    A connection that broke or was left inside a transaction is closed instead. After a fork the
    child drops the parent's idle connections without closing them (their sockets are the parent's).
    """

    def __init__(self, url: str, *, idle: int = _IDLE_CONNECTIONS) -> None:
        self.url = url
        self._max_idle = idle
        self._idle: list[psycopg.Connection] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        conn = self._take() or connect(self.url)
        try:
            yield conn
        finally:
            self._give_back(conn)

    def _take(self) -> psycopg.Connection | None:
        with self._lock:
            if self._pid != os.getpid():
                self._idle, self._pid = [], os.getpid()
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed and not conn.broken:
                    return conn
        return None

    def _give_back(self, conn: psycopg.Connection) -> None:
        reusable = not conn.closed and not conn.broken and conn.info.transaction_status == TransactionStatus.IDLE
        with self._lock:
            if reusable and self._pid == os.getpid() and len(self._idle) < self._max_idle:
                self._idle.append(conn)
                return
        if self._pid == os.getpid():
            conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        if self._pid == os.getpid():
            for conn in idle:
                conn.close()
