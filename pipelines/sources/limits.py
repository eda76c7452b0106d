"""Upload limits: what the dashboard refuses before it parses a file.

Place in the data flow: the gate in front of ``read`` for every dashboard upload (incident files through
:func:`pipelines.access.prepare_upload`, register files through :func:`pipelines.access.import_register`).
:func:`check_upload` looks at the raw bytes only - it counts lines, delimiters, spreadsheet rows and cells,
zip sizes, features and vertices without building a frame - so a hostile file is refused in well under a
second instead of after minutes of parsing (a 0.9 MB workbook holding 1M rows took 113 s and 500 MB to
refuse when the rows were counted after parsing). Every limit is a :class:`~pipelines.settings.Settings`
field read at call time; the command line has none: bulk loads are an operator's job.

An upload's name is a label and nothing else: :func:`upload_name` drops any directory part, and the
suffix of what is left picks the reader. The bytes are what is read.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from xml.parsers import expat

import numpy as np
import pyogrio
import shapely

from pipelines import settings
from pipelines.errors import AreaSafeError
from pipelines.sources.archive import check_archive, holds_tables, megabytes
from pipelines.sources.geofile import pick_layer, suffix_of, uploaded_dataset
from pipelines.sources.tabular import as_text, is_geo_file, is_workbook, sniff_delimiter, unpack

_ADMIN = "or ask an administrator to load it with 'areasafe ingest'."
_BLOCK = 1 << 22  # bytes scanned at a time, so no scan holds more than a few block-sized arrays
_MAX_LABEL = 200


class UploadLimitError(AreaSafeError):
    """A dashboard upload is over one of the limits; the message names it, the file's figure and what to do."""


@dataclass(frozen=True)
class Upload:
    """An upload that passed the limits: a label for messages and the batch record, and the bytes to read."""

    name: str
    data: bytes


def upload_name(name: str | None) -> str:
    """The label of an uploaded file: its client-side name without any directory part or control character."""
    label = re.split(r"[/\\]", str(name or ""))[-1]
    label = "".join(ch for ch in label if ch.isprintable()).strip()[:_MAX_LABEL]
    return label if label not in ("", ".", "..") else "upload"


def check_upload(name: str | None, data: bytes) -> Upload:
    """Refuse a dashboard upload over any limit, looking at its bytes only; returns what to read.

    Checked, in this order: size; then for a vector file (by the suffix of ``name``) its unpacked size,
    features and vertices; for a table, once any gzip or zip container around it is opened (within
    ``Settings.max_upload_unzipped_bytes``), by its bytes: for an Excel workbook its unpacked size and
    each sheet's rows and columns; for delimited text its longest line, columns and rows.

    Raises
    ------
    UploadLimitError
        The file is over a limit; the message names the limit, the file's figure and what to do.
    UnusableFileError
        A zip archive is a bomb or holds unsafe paths, or a vector file is not what its suffix says.
    """
    label = upload_name(name)
    check_size(label, len(data))
    if is_geo_file(label) and not holds_tables(data):
        _check_vector(label, data)
        return Upload(label, data)
    # A table: the limits apply to what is read, once a gzip or zip container is opened.
    table = unpack(data, label, max_unzipped_bytes=settings.SETTINGS.max_upload_unzipped_bytes).data
    if is_workbook(table):
        _check_workbook(label, table)
    else:
        _check_delimited(label, table)
    return Upload(label, data)


def check_size(label: str, size: int, *, max_bytes: int | None = None) -> None:
    """Refuse a file larger than ``Settings.max_upload_bytes``."""
    limit = settings.SETTINGS.max_upload_bytes if max_bytes is None else max_bytes
    if size > limit:
        raise UploadLimitError(
            f"Size limit: {label} is {size / 2**20:,.1f} MB; the dashboard accepts files up to "
            f"{limit / 2**20:,.0f} MB. Split the file, {_ADMIN}"
        )


def check_rows(
    label: str, rows: int, *, max_rows: int | None = None, what: str = "data rows", at_least: bool = False
) -> None:
    """Refuse a file with more than ``Settings.max_upload_rows`` rows (``at_least``: counting stopped there)."""
    limit = settings.SETTINGS.max_upload_rows if max_rows is None else max_rows
    if rows > limit:
        figure = f"at least {rows:,}" if at_least else f"{rows:,}"
        raise UploadLimitError(
            f"Row limit: {label} has {figure} {what}; the dashboard accepts up to {limit:,} per file. "
            f"Split the file into parts of up to {limit:,} {what}, {_ADMIN}"
        )


def _check_columns(label: str, columns: int, where: str) -> None:
    limit = settings.SETTINGS.max_upload_columns
    if columns > limit:
        raise UploadLimitError(
            f"Column limit: {label} has {columns:,} columns {where}; the dashboard accepts up to {limit:,}. "
            f"Remove the columns you do not need (the survey's notes and calculated fields), {_ADMIN}"
        )


# --------------------------------------------------------------------------------------------------
# Delimited text
# --------------------------------------------------------------------------------------------------
def _check_delimited(label: str, data: bytes) -> None:
    """Longest line, then header columns, then rows and the widest row, from the raw bytes."""
    if not data.strip():
        return  # the reader says the file is empty
    text = as_text(data)  # UTF-16 as UTF-8, CR-only line ends as LF: the bytes the reader parses
    data = text.data
    longest, line_number = _longest_line(data)
    limit = settings.SETTINGS.max_line_bytes
    if longest > limit:
        raise UploadLimitError(
            f"Line length limit: {label} has a line of {megabytes(longest)} (line {line_number:,}); the dashboard "
            f"accepts lines up to {megabytes(limit)}. A line that long usually means the file is not a CSV export "
            f"or lost its line breaks: export it again, {_ADMIN}"
        )
    end = data.find(b"\n")
    header_line = (data if end < 0 else data[:end]).decode(text.codec, errors="replace")
    delimiter = sniff_delimiter(header_line)
    try:
        header = next(csv.reader([header_line.rstrip("\r")], delimiter=delimiter), [])
    except csv.Error:
        return  # the reader explains what is wrong with the header
    _check_columns(label, len(header), "in its header row")
    # Physical lines and delimiters per line bound rows and columns from above; only a file over a
    # bound is parsed (quoted fields may hold line breaks and delimiters), and only up to the limit.
    lines = data.count(b"\n") + (not data.endswith(b"\n"))
    if (
        lines - 1 <= settings.SETTINGS.max_upload_rows
        and _most_per_line(data, delimiter) < settings.SETTINGS.max_upload_columns
    ):
        return
    _count_records(label, data.decode(text.codec, errors="replace"), delimiter, lines)


def _blocks(data: bytes) -> Iterator[tuple[int, np.ndarray]]:
    for offset in range(0, len(data), _BLOCK):
        yield offset, np.frombuffer(data, dtype=np.uint8, count=min(_BLOCK, len(data) - offset), offset=offset)


def _longest_line(data: bytes) -> tuple[int, int]:
    """The longest line's length in bytes and its 1-based number."""
    longest = longest_at = lines = line_start = 0
    for offset, block in _blocks(data):
        ends = np.flatnonzero(block == ord("\n")) + offset
        if len(ends):
            lengths = ends - np.concatenate(([line_start], ends[:-1] + 1))
            i = int(lengths.argmax())
            if lengths[i] > longest:
                longest, longest_at = int(lengths[i]), lines + i + 1
            lines += len(ends)
            line_start = int(ends[-1]) + 1
    if len(data) - line_start > longest:
        longest, longest_at = len(data) - line_start, lines + 1
    return longest, longest_at


def _most_per_line(data: bytes, delimiter: str) -> int:
    """The most ``delimiter`` bytes on one line (quoted or not: an upper bound on a row's columns - 1)."""
    most = carried = 0  # carried: delimiters on the line that runs on from the previous block
    for _, block in _blocks(data):
        marks = np.cumsum(block == ord(delimiter), dtype=np.int64)
        ends = np.flatnonzero(block == ord("\n"))
        if len(ends):
            per_line = np.diff(marks[ends], prepend=0)
            per_line[0] += carried
            most = max(most, int(per_line.max()))
            carried = int(marks[-1] - marks[ends[-1]])
        else:
            carried += int(marks[-1])
    return max(most, carried)


def _count_records(label: str, text: str, delimiter: str, lines: int) -> None:
    """Rows and the widest row as the CSV reader sees them, stopping at the first limit passed."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = -1  # the header is not a data row
    try:
        for row in reader:
            _check_columns(label, len(row), f"on line {reader.line_num:,}")
            if row:
                rows += 1
                if rows > settings.SETTINGS.max_upload_rows:
                    check_rows(label, rows, at_least=True)
    except csv.Error:
        # A field the csv module refuses (longer than csv.field_size_limit()): judge by the line count,
        # failing closed, since the fast reader would still parse every line.
        check_rows(label, lines - 1, what="lines")


# --------------------------------------------------------------------------------------------------
# Excel workbooks
# --------------------------------------------------------------------------------------------------
def _check_workbook(label: str, data: bytes) -> None:
    """An .xlsx workbook's unpacked size, its number of sheets, then each sheet's rows and columns, and
    its shared-text table against the text cells that use it, streamed from the zip.

    The reader (openpyxl) fills the gaps a row or cell reference (``r="1048576"``, ``r="XFD1"``) leaves,
    so the figures are the references as well as the elements counted. It also loads the whole
    shared-text table (``sharedStrings.xml``) before any cell: a 17 MB workbook holding 3 million
    strings that no cell used took 43 s and 760 MB, so the table may hold no more strings than the
    sheets have text cells (every string a spreadsheet program writes is used by one). An .xls
    workbook (BIFF) cannot hold more than 65,536 rows and 256 columns, within the limits.
    """
    if not data.startswith(b"PK"):
        return
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return  # the reader says it is not a workbook
    with archive:
        check_archive(archive, label, max_unzipped_bytes=settings.SETTINGS.max_upload_unzipped_bytes)
        sheets, strings = _workbook_parts(archive, data)
        if strings is not False and len(sheets) > settings.SETTINGS.max_upload_sheets:
            raise UploadLimitError(
                f"Sheet limit: {label} has {len(sheets):,} sheets; the dashboard accepts up to "
                f"{settings.SETTINGS.max_upload_sheets:,}. Save the sheet that holds the incidents as a workbook of its own "
                f"(or as CSV UTF-8), {_ADMIN}"
            )
        text_cells = sum(_check_sheet(label, archive, sheet) for sheet in sheets)
        if isinstance(strings, str):
            _check_strings(label, archive, strings, text_cells)


def _workbook_parts(archive: zipfile.ZipFile, data: bytes) -> tuple[list[str], str | None | bool]:
    """The members openpyxl reads as worksheets (any may be the one read: see ``tabular.default_sheet``)
    and as the shared-text table (``None``: it has none); every member as a sheet, and ``False``, when
    that cannot be worked out."""
    from openpyxl.reader.excel import SHARED_STRINGS, ExcelReader

    try:
        reader = ExcelReader(io.BytesIO(data), read_only=True, keep_links=False)
        reader.read_manifest()
        reader.read_workbook()
        found = reader.package.find(SHARED_STRINGS)
        strings = found.PartName[1:] if found is not None else None
        sheets = [
            rel.target
            for _, rel in reader.parser.find_sheets()
            if rel.target in reader.valid_files and "chartsheet" not in rel.Type
        ]
        return sheets, strings if strings in archive.namelist() else None
    except Exception:  # a broken workbook: the reader explains; until then every member counts
        return [info.filename for info in archive.infolist()], False


class _SheetCounter:
    """Rows and cells of a sheet as openpyxl numbers them: from their ``r`` references where given
    (gaps are filled with empty rows and cells), else one after the other; and its cells of shared text."""

    def __init__(self, label: str) -> None:
        self.label, self.row, self.column, self.text = label, 0, 0, 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        tag = name.rpartition(" ")[2]
        if tag == "row":
            self.row = _int(attrs.get("r"), self.row + 1)
            self.column = 0
            if self.row - 1 > settings.SETTINGS.max_upload_rows:  # the first row is the header
                check_rows(self.label, self.row - 1, at_least=True)
        elif tag == "c":
            ref = attrs.get("r")
            self.column = _column_number(ref) if ref else self.column + 1
            self.text += attrs.get("t") == "s"
            if self.column > settings.SETTINGS.max_upload_columns:
                _check_columns(self.label, self.column, f"in row {self.row:,} of one of its sheets")


def _check_sheet(label: str, archive: zipfile.ZipFile, member: str) -> int:
    """Refuse a sheet over the row or column limit; returns its cells of shared text."""
    counter = _SheetCounter(label)
    _stream(archive, member, counter.start)
    return counter.text


class _StringCounter:
    def __init__(self, label: str, text_cells: int) -> None:
        self.label, self.text_cells, self.strings = label, text_cells, 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name.rpartition(" ")[2] != "si":
            return
        self.strings += 1
        if self.strings > self.text_cells + _SPARE_STRINGS:
            raise UploadLimitError(
                f"Shared text limit: {self.label} holds more than {self.strings - 1:,} pieces of text while its "
                f"sheets have {self.text_cells:,} cells of text; a spreadsheet program does not write that. Open it "
                f"in Excel and save it again, or save the sheet as CSV UTF-8, {_ADMIN}"
            )


#: Strings a shared-text table may hold beyond the text cells that use them (a program may keep a few).
_SPARE_STRINGS = 10_000


def _check_strings(label: str, archive: zipfile.ZipFile, member: str, text_cells: int) -> None:
    _stream(archive, member, _StringCounter(label, text_cells).start)


def _stream(archive: zipfile.ZipFile, member: str, start) -> None:
    """Feed one XML member of ``archive`` to ``start`` element by element, a block at a time."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(_BLOCK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except (expat.ExpatError, zipfile.BadZipFile, OSError, KeyError):
        return  # the reader says the workbook is broken


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


def _column_number(ref: str) -> int:
    number = 0
    for ch in ref.upper():
        if not "A" <= ch <= "Z":
            break
        number = number * 26 + ord(ch) - 64
    return number


# --------------------------------------------------------------------------------------------------
# Vector files
# --------------------------------------------------------------------------------------------------
_JSON = (".geojson", ".json")
_NUMBER_START = np.zeros(256, dtype=bool)
_NUMBER_START[list(b"-+.0123456789")] = True


def _check_vector(label: str, data: bytes) -> None:
    """A vector upload's unpacked size, features and vertices, counted without building a frame.

    GeoJSON is counted on its text (a position is ``[`` followed by a number); other formats through
    GDAL, whose binary formats open without reading every feature.
    """
    if suffix_of(label) == ".zip":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                check_archive(archive, label, max_unzipped_bytes=settings.SETTINGS.max_upload_unzipped_bytes)
        except zipfile.BadZipFile:
            return  # the reader says so
    with uploaded_dataset(label, data) as dataset:
        if dataset.source.startswith("GeoJSON:"):
            text = data
            if dataset.member is not None:
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    text = archive.read(dataset.member)
            features, vertices = _count_geojson(text)
        else:
            features, vertices = _count_gdal(dataset.source, label)
    check_rows(label, features, what="features")
    limit = settings.SETTINGS.max_upload_vertices
    if vertices > limit:
        raise UploadLimitError(
            f"Vertex limit: {label} has {vertices:,} vertices; the dashboard accepts up to {limit:,} per file. "
            f"Simplify the geometries (QGIS: Vector > Geometry Tools > Simplify) or split the file, {_ADMIN}"
        )


def _count_geojson(text: bytes) -> tuple[int, int]:
    """Features and positions in GeoJSON text (a slight over-count when property strings look alike)."""
    compact = text.translate(None, b" \t\r\n")
    features = compact.count(b'"Feature"')
    vertices = 0
    for offset in range(0, max(len(compact) - 1, 0), _BLOCK):
        count = min(_BLOCK, len(compact) - 1 - offset)
        here = np.frombuffer(compact, dtype=np.uint8, count=count, offset=offset)
        after = np.frombuffer(compact, dtype=np.uint8, count=count, offset=offset + 1)
        vertices += int(np.count_nonzero((here == ord("[")) & _NUMBER_START[after]))
    return features, vertices


def _count_gdal(source: str, label: str) -> tuple[int, int]:
    layer = pick_layer(source, None, polygons=False, label=label)
    try:
        info = pyogrio.read_info(source, layer=layer, force_feature_count=True)
    except Exception:
        return 0, 0  # the reader says what is wrong
    features = int(info.get("features") or 0)
    if features > settings.SETTINGS.max_upload_rows:
        return features, 0
    try:
        _, table = pyogrio.raw.read_arrow(source, layer=layer, columns=[])
    except Exception:
        return features, 0
    column = table.column(table.schema.names[-1]).combine_chunks() if table.num_columns else None
    if column is None or not len(column):
        return features, 0
    # 16 bytes per 2D vertex bounds the count from above; only a file over the bound is counted exactly.
    if column.nbytes // 16 <= settings.SETTINGS.max_upload_vertices:
        return features, 0
    geoms = shapely.from_wkb(column.to_numpy(zero_copy_only=False), on_invalid="ignore")
    return features, int(shapely.get_num_coordinates(geoms).sum())
