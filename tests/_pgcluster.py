"""A throwaway PostgreSQL + PostGIS cluster on 127.0.0.1, for the tests and ``bench/bench_postgis.py``.

The Debian packages (``postgresql``, ``postgresql-15-postgis-3``; ``scripts/run-tests.sh`` installs
them) put the server in ``/usr/lib/postgresql/<version>/bin``. PostgreSQL refuses to run as root, so
as root the cluster is run as the ``postgres`` user (``runuser``) in a directory that user owns.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

INSTALL_HINT = "run scripts/run-tests.sh (it apt-installs postgresql and postgresql-15-postgis-3)"
_TEST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "200"}


class ClusterUnavailable(RuntimeError):
    """No PostgreSQL server binaries or no PostGIS extension on this machine."""


def find_bin_dir(*, lib: Path = Path("/usr/lib/postgresql"), share: Path = Path("/usr/share/postgresql")) -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` that has a server and the PostGIS extension."""
    found = []
    for bin_dir in lib.glob("*/bin"):
        version = bin_dir.parent.name
        postgis = share / version / "extension" / "postgis.control"
        if (bin_dir / "initdb").exists() and (bin_dir / "pg_ctl").exists() and postgis.exists():
            found.append((int(version) if version.isdigit() else 0, bin_dir))
    if not found:
        raise ClusterUnavailable(f"no PostgreSQL server with PostGIS in {lib}; {INSTALL_HINT}")
    return max(found)[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TempCluster:
    """initdb + pg_ctl start in a temporary directory; :meth:`stop` removes everything.

    Parameters
    ----------
    settings
        Extra server settings (``-c name=value``), e.g. ``shared_buffers`` for a benchmark.
    """

    def __init__(self, *, settings: dict[str, str] | None = None) -> None:
        self.bin = find_bin_dir()
        self.settings = {**_TEST_SETTINGS, **(settings or {})}
        self.root = Path(tempfile.mkdtemp(prefix="areasafe-pg-"))
        self.data = self.root / "data"
        self.port = 0
        self._as_postgres = os.geteuid() == 0
        self._names = itertools.count(1)

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise ClusterUnavailable(f"{' '.join(args[:2])} failed: {result.stderr.strip()} {tail}")
        return result

    def start(self) -> TempCluster:
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
        options = " ".join(f"-c {k}={v}" for k, v in self.settings.items())
        for _ in range(5):  # another process may take the free port first
            self.port = free_port()
            try:
                self._run(
                    "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "60",
                    "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} {options}", "start",
                )  # fmt: skip
                return self
            except ClusterUnavailable:
                continue
        raise ClusterUnavailable(f"the test PostgreSQL server would not start; see {self.root / 'server.log'}")

    def stop(self) -> None:
        if self.data.exists():
            with contextlib.suppress(ClusterUnavailable, subprocess.TimeoutExpired):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.url(), autocommit=True)

    def create_database(self, *, template: str | None = None, name: str | None = None) -> str:
        """A new database (a copy of ``template`` when given); returns its URL."""
        name = name or f"t{os.getpid()}_{next(self._names)}"
        with self.admin() as conn:
            statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                statement += sql.SQL(" TEMPLATE {} STRATEGY FILE_COPY").format(sql.Identifier(template))
            conn.execute(statement)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def migrated_template(self, name: str = "areasafe_template") -> str:
        """A database with PostGIS and the migrated AreaSafe schema, to clone with ``create_database``."""
        from pipelines.store._pg_migrate import upgrade

        url = self.create_database(name=name)
        upgrade(url)
        return name
