"""Zip archives: the checks made before anything inside one is opened.

Place in the data flow: called by the readers of zipped vector files (``geofile``) and by the upload
limits (``limits``, for zipped uploads and Excel workbooks, which are zip archives too). Only the
archive's directory is read: a member's declared size is trusted here because Python's ``zipfile``
and GDAL's ``/vsizip/`` never unpack more than it.
"""

from __future__ import annotations

import zipfile
from pathlib import PurePosixPath

from pipelines.errors import UnusableFileError

#: Unpacked size over packed size above which an archive is taken for a zip bomb (real data packs 3-20x).
MAX_RATIO = 200

MiB = 1024 * 1024


def megabytes(size: float) -> str:
    """``size`` bytes as the dashboard and the docs say it: MB counted in MiB (25 * 1024 * 1024 is "25 MB")."""
    value = size / MiB
    return f"{value:,.0f} MB" if value >= 10 or value == int(value) else f"{value:,.1f} MB"


def check_archive(archive: zipfile.ZipFile, label: str, *, max_unzipped_bytes: int) -> list[zipfile.ZipInfo]:
    """The members of ``archive`` once it is known to be safe to open; raises :class:`UnusableFileError`.

    Refused: an archive that unpacks to more than ``max_unzipped_bytes`` or packs more than
    :data:`MAX_RATIO` times (a zip bomb), and member names that are absolute or climb out of the
    archive (``..``, ``C:``), so no path that came with the file can reach the disk.
    """
    infos = archive.infolist()
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if total > max_unzipped_bytes or total / packed > MAX_RATIO:
        raise UnusableFileError(
            f"{label} unpacks to {megabytes(total)} ({total / packed:,.0f}x its size; the limits are "
            f"{megabytes(max_unzipped_bytes)} and {MAX_RATIO}x); that looks like a zip bomb. "
            "Send the file itself or a normal zip."
        )
    for info in infos:
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            raise UnusableFileError(f"{label} contains an unsafe path {name!r}; it was not opened.")
    return infos
