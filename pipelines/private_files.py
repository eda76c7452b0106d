"""Files that hold data are readable by their owner only (mode 0600).

Place in the data flow: beside the store and the exports. The GeoPackage store (password hashes,
incidents, the audit log), its write-ahead log and shared-memory files, exports and the secrets file
of single sign-on are never readable by other users of the machine: new files are created owner-only
before any byte is written, and an existing file that other users can read is restricted when AreaSafe
opens it, with a warning in the log.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

OWNER_ONLY = 0o600
_OTHERS = stat.S_IRWXG | stat.S_IRWXO

log = logging.getLogger(__name__)


def create(path: Path) -> bool:
    """Create ``path`` empty and owner-only unless it exists; True when it was created.

    SQLite treats an empty file as a new database and gives its ``-wal`` and ``-shm`` files the
    database file's mode, so a store created here keeps all three owner-only.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def restrict(*paths: Path) -> None:
    """Take group and world access away from each of ``paths`` that exists, logging each change."""
    for path in paths:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
        if not mode & _OTHERS:
            continue
        try:
            path.chmod(mode & ~_OTHERS)
        except OSError as exc:  # not ours to change: say so, but do not refuse to work
            log.warning("%s is readable by other users (mode %04o) and could not be restricted: %s", path, mode, exc)
        else:
            log.warning("%s was readable by other users (mode %04o); made it owner-only", path, mode)


@contextlib.contextmanager
def target(out: Path) -> Iterator[Path]:
    """Where to write the file ``out`` so that only its owner can read it, at every moment.

    An existing file is restricted first and written in place (a GeoPackage keeps its other layers).
    A new one is written in a folder that only the owner may enter, made owner-only, and moved into
    place when the block ends without an error.
    """
    if out.exists():
        restrict(out)
        yield out
        return
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".areasafe-") as folder:
        part = Path(folder) / out.name
        yield part
        part.chmod(OWNER_ONLY)
        os.replace(part, out)


def write_whole(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all, owner-only: a reader never sees half a file, and a
    failure leaves the old file (or none) in place."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
