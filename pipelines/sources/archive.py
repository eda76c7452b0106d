"""Zip and gzip archives: the checks made before anything inside one is opened.

Place in the data flow: called by the readers of zipped vector files (``geofile``), of zipped and
gzipped tables (``tabular``) and by the upload limits (``limits``, for zipped uploads and Excel
workbooks, which are zip archives too). Only a zip archive's directory is read: a member's declared
size is trusted here because Python's ``zipfile`` and GDAL's ``/vsizip/`` never unpack more than it.
A gzip stream declares no size, so :func:`gunzip` unpacks it only up to the limit.

What an archive is, the bytes decide (:func:`is_zip`, :func:`is_gzip`); a file's name is a label.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import PurePosixPath

from pipelines.errors import UnusableFileError

#: Unpacked size over packed size above which an archive is taken for a zip bomb (real data packs 3-20x).
MAX_RATIO = 200
#: The command line's bound on what an archive may unpack to; uploads have their own (Settings).
MAX_UNZIPPED_BYTES = 2 * 1024**3
#: Members that are tables (a zip holding them and no vector dataset is read as a table).
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls")
#: Members that are vector datasets (a zip holding one is a vector file).
DATASET_SUFFIXES = (".shp", ".geojson", ".json", ".gpkg", ".fgb", ".kml", ".topojson")

MiB = 1024 * 1024


def megabytes(size: float) -> str:
    """``size`` bytes as the dashboard and the docs say it: MB counted in MiB (25 * 1024 * 1024 is "25 MB")."""
    value = size / MiB
    return f"{value:,.0f} MB" if value >= 10 or value == int(value) else f"{value:,.1f} MB"


def check_archive(archive: zipfile.ZipFile, label: str, *, max_unzipped_bytes: int) -> list[zipfile.ZipInfo]:
    """The members of ``archive`` once it is known to be safe to open; raises :class:`UnusableFileError`.

    Refused: an archive that unpacks to more than ``max_unzipped_bytes`` or packs more than
    :data:`MAX_RATIO` times (a zip bomb), and member names that are absolute or climb out of the
    archive (``..``, ``C:``), and members that are symbolic links, so no path that came with the file can
    reach the disk.
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
        if info.create_system == 3 and (info.external_attr >> 16) & 0o170000 == 0o120000:  # a Unix symlink
            raise UnusableFileError(
                f"{label} holds a link ({name!r}), not a file; it was not opened. Zip the files themselves."
            )
    return infos


def is_zip(data: bytes) -> bool:
    """Whether ``data`` is a zip archive (an .xlsx workbook is one too)."""
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def is_gzip(data: bytes) -> bool:
    """Whether ``data`` is gzip-compressed (``.csv.gz``)."""
    return data[:2] == b"\x1f\x8b"


def is_workbook_zip(names: list[str]) -> bool:
    """Whether the members of a zip archive make an Excel workbook (.xlsx, .xlsm)."""
    return "xl/workbook.xml" in names or "xl/workbook.bin" in names


def skipped_member(name: str) -> bool:
    """Members nobody means to load: folders, macOS resource forks, hidden files."""
    base = PurePosixPath(name).name
    return name.endswith("/") or name.startswith("__MACOSX") or base.startswith(".") or not base


def holds_tables(data: bytes) -> bool:
    """Whether ``data`` is a zip archive of tables (CSV, Excel) rather than of a vector dataset or a workbook.

    Only the archive's directory is read; a broken archive is not one of tables (the vector reader says
    what is wrong with it).
    """
    if not is_zip(data):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [i.filename for i in archive.infolist() if not skipped_member(i.filename)]
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    if is_workbook_zip(names) or any(".gdb/" in n or n.lower().endswith(DATASET_SUFFIXES) for n in names):
        return False
    return any(n.lower().endswith(TABLE_SUFFIXES) for n in names)


def gunzip(data: bytes, label: str, *, max_unzipped_bytes: int) -> bytes:
    """The content of gzip-compressed ``data``, unpacked no further than ``max_unzipped_bytes``.

    Refused like a zip bomb: content over the limit or over :data:`MAX_RATIO` times the packed size,
    found without unpacking more than that (a 150 KB bomb of 150 MB no longer unpacked it all first),
    and a stream that is not gzip after all. Concatenated gzip members are read one after the other.
    """
    out, rest = [], data
    size = 0
    # Never unpack past either limit: the ratio is known before the first byte is unpacked.
    bound = min(max_unzipped_bytes, MAX_RATIO * max(len(data), 1))
    while rest[:2] == b"\x1f\x8b":
        unpacker = zlib.decompressobj(wbits=31)
        try:
            chunk = unpacker.decompress(rest, bound + 1 - size)
        except zlib.error:
            raise UnusableFileError(
                f"{label} looks gzip-compressed but could not be unpacked (it may be cut short); compress it again "
                "or send the file itself."
            ) from None
        size += len(chunk)
        out.append(chunk)
        if size > bound:
            raise UnusableFileError(
                f"{label} unpacks to more than {megabytes(bound)} (more than {bound / max(len(data), 1):,.0f}x "
                f"its size; the limits are {megabytes(max_unzipped_bytes)} and {MAX_RATIO}x); that looks like a "
                "zip bomb. Send the file itself or a normal .gz."
            )
        if not unpacker.eof:
            raise UnusableFileError(f"{label} is a gzip file cut short; compress it again or send the file itself.")
        rest = unpacker.unused_data
    return b"".join(out)
