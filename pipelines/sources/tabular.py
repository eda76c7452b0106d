"""Read delimited text and spreadsheets into a raw frame: every column as text, as delivered.

Place in the data flow: the first step of an incident, asset or intervention ingest. Nothing is
interpreted here except the file's container, encoding, delimiter and header; each data row keeps its
spreadsheet row number (the header is row 1) so rejections can point at it. Rows the parser cannot
split into the header's columns are returned separately as ``malformed`` so they are reported, not
lost. What was read and what was left aside is said in ``notes``.

The bytes decide what a file is; its name is only a label:

- **Containers.** A gzip stream (``.csv.gz``) is unpacked; a zip archive holding one table (CSV, TSV,
  TXT or an Excel workbook) is read as that table. ODK Central's ``submissions.csv.zip`` (the form's
  table ``<form>.csv`` plus one ``<form>-<group>.csv`` per repeat group, and attachments under
  ``media/``) is read as its main table; the repeat tables are named in the notes with their row counts.
  Both are unpacked within a size bound and refused as bombs (:mod:`pipelines.sources.archive`).
- **Excel.** An .xlsx/.xlsm (a zip with ``xl/workbook.xml``) or .xls (OLE2) workbook. By default the
  sheet that holds the submissions is read, never a repeat group's sheet (Kobo puts each repeat group in
  a later sheet with ``_parent_index``/``_submission__uuid``; see :func:`default_sheet`); ``sheet``
  names another. The notes say which sheet was read and which were left aside.
- **Line endings.** LF, CRLF and the CR-only endings of old Excel for Mac exports are all read.
- **Encoding** (:func:`detect_encoding`). What a CSO expects is that "café" stays "café", and that
  nothing is garbled without a word. So: a byte-order mark decides (UTF-8, UTF-16 LE/BE); UTF-16
  without a mark is recognised by its zero bytes; a file that is valid UTF-8 is UTF-8. A file with
  non-ASCII bytes that are not valid UTF-8 is read as Windows-1252 (Excel's "CSV" on Windows; latin-1
  when it holds the five bytes Windows-1252 leaves undefined) only when it is consistently that: when
  fewer of its non-ASCII characters are written the UTF-8 way than not (a tie goes to UTF-8). Otherwise it is a UTF-8 file
  with a few bytes that fit nothing (a line pasted from another program): the file is read as UTF-8,
  and each row holding such a byte is rejected (``malformed_row``) with a sentence naming its line, its
  column and the byte, so the rest of the file goes in and the row can be fixed and uploaded again.
  When a Windows-1252 file holds a few UTF-8 characters, the notes name their lines.
- **Errors.** No parser's message reaches a user: a file that cannot be read raises
  :class:`~pipelines.errors.UnusableFileError` with a sentence that names the line and what to do.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from pipelines.errors import UnusableFileError
from pipelines.pii import redact_frame
from pipelines.sources.archive import (
    MAX_UNZIPPED_BYTES,
    TABLE_SUFFIXES,
    check_archive,
    gunzip,
    is_gzip,
    is_workbook_zip,
    is_zip,
    skipped_member,
)
from pipelines.sources.columns import is_repeat_table

ROW_NUMBER = "__row__"
TEXT = "string[pyarrow]"
_DELIMITERS = (",", ";", "\t", "|")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
_GEO_SUFFIXES = (".geojson", ".json", ".gpkg", ".fgb", ".shp", ".zip", ".kml")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (BIFF) workbooks
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_LONE_CR = re.compile(rb"\r(?!\n)")
_BAD_BYTE = re.compile("[\udc80-\udcff]")  # a byte that fits nothing, as the surrogateescape handler keeps it
_SAVE_AS = "save it as CSV UTF-8 (Excel: File > Save As > CSV UTF-8) and upload that"


@dataclass
class RawTable:
    """What a reader returns."""

    frame: pd.DataFrame  # all columns text, plus ROW_NUMBER
    encoding: str | None = None
    delimiter: str | None = None
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (row number, raw text)
    notes: list[str] = field(default_factory=list)
    #: Why a malformed row could not be read, when it is not a wrong number of fields (by row number).
    malformed_messages: dict[int, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------
# Containers
# --------------------------------------------------------------------------------------------------
@dataclass
class Unpacked:
    """A file's table bytes once any gzip or zip container around them is opened."""

    data: bytes
    notes: list[str] = field(default_factory=list)


def is_workbook(data: bytes) -> bool:
    """Whether ``data`` is an Excel workbook (.xlsx/.xlsm zip or .xls OLE2), by its bytes."""
    if data.startswith(_OLE2):
        return True
    if not is_zip(data):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return is_workbook_zip(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return False


def unpack(data: bytes, label: str, *, max_unzipped_bytes: int = MAX_UNZIPPED_BYTES) -> Unpacked:
    """The table inside ``data``: gzip unpacked, a zip archive of tables opened at its one table (or at
    ODK Central's main table); anything else (text, a workbook) as it is.

    Raises
    ------
    UnusableFileError
        A bomb, a broken archive, or a zip holding no table or several that are not one export.
    """
    if is_gzip(data):
        inner = gunzip(data, label, max_unzipped_bytes=max_unzipped_bytes)
        if is_gzip(inner) or (is_zip(inner) and not is_workbook(inner)):
            raise UnusableFileError(f"{label} is an archive inside an archive; unpack it and send the table itself.")
        return Unpacked(inner, [f"unpacked from gzip ({label})"])
    if not is_zip(data) or is_workbook(data):
        return Unpacked(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = check_archive(archive, label, max_unzipped_bytes=max_unzipped_bytes)
            return _table_member(archive, infos, label)
    except zipfile.BadZipFile:
        raise UnusableFileError(
            f"{label} looks like a zip archive but could not be opened (it may be damaged or cut short); "
            "zip it again or send the table itself as CSV."
        ) from None


def _table_member(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], label: str) -> Unpacked:
    """The one table an archive holds, with notes on what was left aside; refused when there is no
    table, more than one main table, or the table is itself an archive."""
    members = [i for i in infos if not skipped_member(i.filename)]
    tables = [i for i in members if i.filename.lower().endswith(TABLE_SUFFIXES)]
    others = [i.filename for i in members if i not in tables]
    if not tables:
        raise UnusableFileError(
            f"{label} holds no table (CSV or Excel) and no Shapefile, GeoJSON, GeoPackage or File Geodatabase; "
            "zip the file itself, or send it unzipped."
        )
    chosen, notes = _main_table(archive, tables, label)
    if others:
        notes.append(_others_note(others, label))
    table = archive.read(chosen)
    if is_gzip(table) or (is_zip(table) and not is_workbook(table)):
        raise UnusableFileError(
            f"{label}: {chosen.filename} is itself an archive inside the archive; unpack it and send the table itself."
        )
    return Unpacked(table, [f"read {chosen.filename} from {label}", *notes])


def _main_table(
    archive: zipfile.ZipFile, tables: list[zipfile.ZipInfo], label: str
) -> tuple[zipfile.ZipInfo, list[str]]:
    """The one table that is not a repeat group (Kobo's one row per repeated answer), and a note on
    the repeat-group tables left aside; refused when that is not exactly one table."""
    if len(tables) == 1:
        return tables[0], []
    heads = {i.filename: _header_of(archive.read(i)) for i in tables}
    repeats = [i for i in tables if is_repeat_table(heads[i.filename])]
    mains = [i for i in tables if i not in repeats]
    if len(mains) != 1:
        names = ", ".join(i.filename for i in tables[:10])
        raise UnusableFileError(
            f"{label} holds {len(tables)} tables ({names}); AreaSafe reads one table per upload. "
            "Upload the one that holds the incidents, on its own or zipped alone."
        )
    left = [f"{i.filename} ({_count_rows(archive.read(i)):,} rows)" for i in repeats]
    tables_word = "tables" if len(left) > 1 else "table"
    note = (
        f"left aside the repeat-group {tables_word} {', '.join(left)}: one row per repeated answer of a "
        "submission, not submissions"
    )
    return mains[0], [note]


def _others_note(others: list[str], label: str) -> str:
    """The note naming the first five files of an archive that are not tables."""
    shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
    return f"left aside {len(others)} other file{'s' if len(others) != 1 else ''} in {label}: {shown}"


def _header_of(data: bytes) -> list[str]:
    """The header row of a table member (a workbook's first sheet's header is not looked at)."""
    if is_workbook(data):
        return []
    text = as_text(data[: 1 << 16])
    line = text.data.split(b"\n", 1)[0].decode(text.codec, errors="replace").rstrip("\r")
    return next(csv.reader([line], delimiter=sniff_delimiter(line)), [])


def _count_rows(data: bytes) -> int:
    """Data rows of a delimited table member (records, not lines: a cell may hold a line break)."""
    if is_workbook(data):
        return 0
    text = as_text(data)
    end = text.data.find(b"\n")
    delimiter = sniff_delimiter(text.data[: end if end >= 0 else None].decode(text.codec, errors="replace"))
    reader = csv.reader(io.StringIO(text.decode(), newline=""), delimiter=delimiter)
    return max(sum(1 for row in reader if any(cell.strip() for cell in row)) - 1, 0)


# --------------------------------------------------------------------------------------------------
# Encoding and line endings
# --------------------------------------------------------------------------------------------------
def detect_encoding(data: bytes) -> str:
    """The encoding ``data`` was written in, by the rules in the module docstring.

    One of ``utf-8-sig`` (valid UTF-8, with or without BOM), ``utf-16-le``/``utf-16-be`` (with or
    without BOM), ``utf-8`` (UTF-8 with bytes that fit nothing: see :func:`as_text`), ``cp1252`` or
    ``latin-1``.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig" if _valid_utf8(data) else "utf-8"
    if data.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le"
    if data.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be"
    head = data[:4096]
    if b"\x00" in head and len(head) >= 2:
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > 0.8 * (len(head) // 2) and not even:
            return "utf-16-le"
        if even > 0.8 * (len(head) // 2) and not odd:
            return "utf-16-be"
    if _valid_utf8(data):
        return "utf-8-sig"
    utf8_bytes = sum(len(m) for m in _UTF8_SEQUENCE.findall(data))
    utf8_chars = len(_UTF8_SEQUENCE.findall(data)) if utf8_bytes else 0
    other = int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) >= 0x80)) - utf8_bytes
    if utf8_chars and utf8_chars >= other:
        return "utf-8"
    return "latin-1" if _CP1252_UNDEFINED.search(data) else "cp1252"


def _valid_utf8(data: bytes) -> bool:
    try:
        codecs.decode(data, "utf-8")
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True)
class Text:
    """Delimited text ready to parse: ``data`` in ``codec`` (UTF-8 or a single-byte code page) with
    ``\\n`` or ``\\r\\n`` line ends and no BOM; ``encoding`` is what the file was written in."""

    data: bytes
    encoding: str
    codec: str
    bad_bytes: int = 0  # bytes that fit no encoding (a UTF-8 file's stray bytes)
    notes: tuple[str, ...] = ()

    def decode(self) -> str:
        """The text; a byte that fits nothing stays as a lone surrogate (``surrogateescape``)."""
        return self.data.decode(self.codec, errors="surrogateescape")


def as_text(data: bytes) -> Text:
    """``data`` transcoded as the parsers read it: see :func:`detect_encoding`. UTF-16 becomes UTF-8;
    the CR-only line ends of old Excel for Mac exports become ``\\n``, and such a file that is not
    UTF-8 is read as Mac Roman, the encoding the same old Mac programs wrote."""
    encoding = detect_encoding(data)
    notes: list[str] = []
    if encoding.startswith("utf-16"):
        data = data.decode(encoding, errors="replace").lstrip("\ufeff").encode("utf-8")
        notes.append("read as UTF-16 (Excel's Unicode text)")
    elif encoding in ("utf-8-sig", "utf-8"):
        data = data.removeprefix(codecs.BOM_UTF8)
    lone_cr = data.count(b"\r") - data.count(b"\r\n") if data.find(b"\r") >= 0 else 0
    old_mac = bool(lone_cr) and lone_cr >= data.count(b"\n")  # records end in CR; any LF is inside a quoted cell
    if old_mac:
        data = _LONE_CR.sub(b"\n", data)
        notes.append("read with old Mac line endings (CR only)")
    codec = "utf-8"
    if encoding in ("cp1252", "latin-1"):
        codec = "mac_roman" if old_mac else encoding
        name = {"cp1252": "Windows-1252", "latin-1": "Latin-1", "mac_roman": "Mac Roman, old Mac Excel's encoding"}[
            codec
        ]
        notes.insert(0, f"read as {name} (the file is not UTF-8)")
        if not old_mac:
            notes += _utf8_lines_note(data, name)
    bad = 0
    if encoding == "utf-8":
        bad = len(data) - len(data.decode("utf-8", errors="ignore").encode("utf-8"))
    return Text(data, encoding if codec == encoding or codec == "utf-8" else codec, codec, bad, tuple(notes))


def _utf8_lines_note(data: bytes, name: str) -> list[str]:
    """A note naming the lines of a single-byte file that hold UTF-8 characters (shown as 'Ã©')."""
    starts = [m.start() for m in _UTF8_SEQUENCE.finditer(data)]
    if not starts:
        return []
    lines = sorted({data.count(b"\n", 0, s) + 1 for s in starts[:1000]})
    shown = ", ".join(map(str, lines[:10])) + (" ..." if len(lines) > 10 else "")
    return [
        f"{'lines' if len(lines) > 1 else 'line'} {shown} {'hold' if len(lines) > 1 else 'holds'} characters written as UTF-8 while the rest of the file "
        f"is {name}; check their accents (é would show as Ã©)"
    ]


def sniff_delimiter(header_line: str) -> str:
    """The delimiter used in the header line: the most frequent of ``, ; TAB |`` outside quotes."""
    counts = dict.fromkeys(_DELIMITERS, 0)
    in_quotes = False
    for ch in header_line:
        if ch == '"':
            in_quotes = not in_quotes
        elif not in_quotes and ch in counts:
            counts[ch] += 1
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------
def read_tabular(path: str | Path, *, data: bytes | None = None, sheet: str | int | None = None) -> RawTable:
    """Read a CSV/TSV or Excel file (possibly gzipped or zipped) into a :class:`RawTable`.

    Parameters
    ----------
    path
        The file; with ``data`` given, only a label for messages (the bytes decide the format).
    data
        File content, when it came from an upload rather than the disk.
    sheet
        Excel sheet name or index (default: :func:`default_sheet`).
    """
    path = Path(path)
    label = path.name
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UnusableFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    unpacked = unpack(data, label)
    if is_workbook(unpacked.data):
        table = _read_excel(label, unpacked.data, sheet)
    else:
        _check_text(label, unpacked.data)
        table = _read_delimited(label, unpacked.data)
    table.notes[:0] = unpacked.notes
    return table


def _check_text(label: str, data: bytes) -> None:
    if not data.strip():
        raise UnusableFileError(f"{label} is empty; export the survey again and upload the CSV file.")
    kind = _binary_kind(data)
    if kind:
        raise UnusableFileError(f"{label} is not a table: {kind}")


def _binary_kind(data: bytes) -> str | None:
    """What a file that is not text looks like and what to do (``None`` for text, UTF-16 included)."""
    head = data[:4096]
    if head.startswith(b"%PDF"):
        return f"it is a PDF document. Export the data from the program that made it; {_SAVE_AS}."
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return f"it is a picture. Send the survey or register export; {_SAVE_AS}."
    if is_zip(head):
        return f"it is a zip archive that holds no table. {_SAVE_AS.capitalize()}."
    if head.lstrip().lower().startswith((b"<!doctype html", b"<html", b"<table")):
        return f"it is a web page (HTML) with a spreadsheet's name. Open it in Excel, then {_SAVE_AS}."
    if b"\x00" in head and not detect_encoding(head).startswith("utf-16"):
        return f"it looks binary (a program's own format). Open it in the program that made it, then {_SAVE_AS}."
    return None


def _read_delimited(label: str, data: bytes) -> RawTable:
    text = as_text(data)
    end = text.data.find(b"\n")  # not split(): that would copy the whole file
    first_line = (text.data if end < 0 else text.data[:end]).decode(text.codec, errors="replace").rstrip("\r")
    delimiter = sniff_delimiter(first_line)
    try:
        header = next(csv.reader([first_line], delimiter=delimiter), [])
    except csv.Error:
        raise UnusableFileError(f"{label}: the header row (line 1) could not be read as CSV; {_SAVE_AS}.") from None
    _check_header(label, header)
    notes = list(text.notes)
    if text.bad_bytes or text.data.count(b'"') % 2:
        # Stray bytes are found row by row, and an odd number of quote marks may be a quote never
        # closed: both need the row-by-row reader, which names the line.
        return _read_delimited_slow(label, text, delimiter, notes)
    try:
        table = pacsv.read_csv(
            pa.BufferReader(text.data),
            read_options=pacsv.ReadOptions(
                encoding="utf8" if text.codec == "utf-8" else text.codec, block_size=1 << 24
            ),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                auto_dict_encode=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # Ragged or otherwise irregular rows: the csv module reads them one by one so each bad row
        # is reported with its row number instead of failing the whole file.
        return _read_delimited_slow(label, text, delimiter, notes)
    if table.num_columns != len(header):
        return _read_delimited_slow(label, text, delimiter, notes)
    frame = _all_text(table, _unique_names(table.column_names))
    _check_header(label, list(frame.columns))
    frame[ROW_NUMBER] = pd.RangeIndex(2, len(frame) + 2)
    return RawTable(frame, encoding=text.encoding, delimiter=delimiter, notes=notes)


def _all_text(table: pa.Table, names: list[str]) -> pd.DataFrame:
    columns = {}
    for name, column in zip(names, table.columns, strict=True):
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            column = column.cast(pa.string())
        columns[name] = pd.Series(
            pd.arrays.ArrowStringArray(column.combine_chunks()) if len(column) else pd.array([], dtype=TEXT), dtype=TEXT
        )
    return pd.DataFrame(columns)


@dataclass
class _SlowRows:
    """What the slow reader kept so far: rows and their numbers, malformed rows (number, JSON copy)
    and the message of each malformed row that has its own."""

    rows: list[list[str]] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    malformed: list[tuple[int, str]] = field(default_factory=list)
    messages: dict[int, str] = field(default_factory=dict)

    def add(self, number: int, row: list[str], *, start: int, names: list[str], bad_bytes: bool) -> None:
        """Keep row ``number`` (which starts on line ``start``), fitted to the header, or set it
        aside as malformed; blank rows are skipped."""
        if not any(cell.strip() for cell in row):
            return
        bad = _bad_byte_message(row, names, start) if bad_bytes else None
        if bad:
            row = [_BAD_BYTE.sub("\ufffd", cell) for cell in row]
            self.malformed.append((number, json.dumps(row, ensure_ascii=False)))
            self.messages[number] = bad
            return
        fitted = _fit_row(row, len(names))
        if fitted is None:
            self.malformed.append((number, json.dumps(row, ensure_ascii=False)))
            return
        self.rows.append(fitted)
        self.numbers.append(number)


def _fit_row(row: list[str], width: int) -> list[str] | None:
    """``row`` with ``width`` cells: trailing empty cells dropped or added (None: it holds more
    values than the header names)."""
    if len(row) > width:
        if any(cell.strip() for cell in row[width:]):
            return None
        return row[:width]  # trailing delimiters, as some Kobo exports write them
    if len(row) < width:
        return row + [""] * (width - len(row))  # spreadsheets drop trailing empty cells
    return row


def _slow_header(reader, label: str) -> list[str]:
    """The header row (bytes that fit nothing shown as U+FFFD), checked; refused when there is none."""
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise UnusableFileError(f"{label} has no header row; the first line must name the columns.") from None
    header = [_BAD_BYTE.sub("\ufffd", h) for h in header]
    _check_header(label, header)
    return header


def _read_delimited_slow(label: str, text: Text, delimiter: str, notes: list[str]) -> RawTable:
    reader = csv.reader(io.StringIO(text.decode(), newline=""), delimiter=delimiter)
    names = _unique_names(_slow_header(reader, label))
    read = _SlowRows()
    number, line, start = 1, reader.line_num, 2
    try:
        for number, row in enumerate(reader, start=2):
            start, line = line + 1, reader.line_num
            read.add(number, row, start=start, names=names, bad_bytes=text.bad_bytes)
    except csv.Error:
        # The only errors left with newline="" are a cell over csv.field_size_limit() and a NUL byte.
        raise UnusableFileError(
            f"{label}: the row that starts on line {line + 1:,} could not be read: it holds a cell longer than "
            f'{csv.field_size_limit():,} characters or a NUL byte, usually a quote mark (") opened on that line '
            "and never closed. Fix the quotes on that line and upload the file again."
        ) from None
    rows, numbers, messages = read.rows, read.numbers, read.messages
    if text.data.count(b'"') % 2 and rows and numbers[-1] == number and any("\n" in cell for cell in rows[-1]):
        raise UnusableFileError(
            f'{label}: the quote mark (") opened on line {start:,} is never closed, so every line after it '
            f"would be read as one cell. Close the quote or remove it on line {start:,} and upload the file again."
        )
    frame = (
        pd.DataFrame(rows, columns=names, dtype=TEXT)
        if rows
        else pd.DataFrame({h: pd.Series([], dtype=TEXT) for h in names})
    )
    frame[ROW_NUMBER] = numbers
    if messages:
        notes.append(
            f"{len(messages):,} row{'s' if len(messages) != 1 else ''} held bytes that are not UTF-8 while the rest of "
            "the file is; they were rejected so that nothing is read garbled (see each row's message)"
        )
    return RawTable(
        frame,
        encoding=text.encoding,
        delimiter=delimiter,
        malformed=read.malformed,
        notes=notes,
        malformed_messages=messages,
    )


def _bad_byte_message(row: list[str], names: list[str], line: int) -> str | None:
    """The sentence for a row of a UTF-8 file holding a byte that fits nothing, or ``None``."""
    for i, cell in enumerate(row):
        found = _BAD_BYTE.search(cell)
        if found:
            byte = ord(found.group()) - 0xDC00
            column = f"column '{names[i]}'" if i < len(names) else f"column {i + 1}"
            guess = bytes([byte]).decode("cp1252", errors="replace")
            return (
                f"Line {line:,}, {column}: the byte 0x{byte:02X} is not UTF-8 text, though the rest of the file is "
                f"(in Windows-1252 it would be '{guess}'). Retype that character, save the file as CSV UTF-8 and "
                "upload the row again."
            )
    return None


def _unique_names(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in header:
        name = name.strip()
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def _check_header(label: str, header: list[str]) -> None:
    if not header or all(not h.strip() for h in header):
        raise UnusableFileError(f"{label} has no header row; the first line must name the columns.")
    if len(header) == 1 and len(header[0]) > 200:
        raise UnusableFileError(f"{label} does not look like a CSV file (no delimiter found in the first line).")


# --------------------------------------------------------------------------------------------------
# Excel
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Sheet:
    name: str
    header: list[str]
    rows: int | None  # data rows, when the workbook says


def _sheets(data: bytes) -> list[_Sheet]:
    """Each worksheet's name, header row and data-row count, without reading the rows."""
    try:
        if data.startswith(_OLE2):
            import xlrd

            book = xlrd.open_workbook(file_contents=data, on_demand=True)
            out = []
            for name in book.sheet_names():
                sheet = book.sheet_by_name(name)
                header = [str(v) for v in sheet.row_values(0)] if sheet.nrows else []
                out.append(_Sheet(name, header, max(sheet.nrows - 1, 0)))
            return out
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            out = []
            for sheet in book.worksheets:
                first = next(sheet.iter_rows(max_row=1, values_only=True), ())
                header = [str(v) for v in first if v is not None]
                rows = sheet.max_row - 1 if isinstance(sheet.max_row, int) and sheet.max_row > 0 else None
                out.append(_Sheet(sheet.title, header, rows))
            return out
        finally:
            book.close()
    except Exception:  # openpyxl/xlrd raise many types for broken files
        raise UnusableFileError(_broken_workbook()) from None


def _broken_workbook(label: str = "The file") -> str:
    return (
        f"{label} could not be read as an Excel workbook (it may be damaged, protected by a password, or "
        "another kind of file with an Excel name); open it in Excel and save it again as .xlsx, or save it as "
        "CSV UTF-8, and upload that."
    )


def sheet_names(data: bytes) -> list[str]:
    """The worksheet names of an uploaded Excel workbook's bytes, in the workbook's order."""
    return [s.name for s in _sheets(data)]


def default_sheet(data: bytes) -> str | None:
    """The sheet read when none is named: the one holding the submissions.

    The first sheet with a submission's own columns (Kobo ``_uuid``/``_id``/``_submission_time``, ODK
    ``KEY``/``SubmissionDate``), else the first that is not a repeat group's sheet and has a header,
    else the first. ``None`` for a workbook with no sheets.
    """
    return _default(_sheets(data))


def _default(sheets: list[_Sheet]) -> str | None:
    markers = {"_uuid", "_id", "_submission_time", "meta/instanceid", "key", "submissiondate", "meta-instanceid"}
    candidates = [s for s in sheets if s.header and not is_repeat_table(s.header)]
    for sheet in candidates:
        if markers & {h.strip().lower() for h in sheet.header}:
            return sheet.name
    if candidates:
        return candidates[0].name
    return sheets[0].name if sheets else None


def _read_excel(label: str, data: bytes, sheet: str | int | None) -> RawTable:
    sheets = _sheets(data)
    names = [s.name for s in sheets]
    if not sheets:
        raise UnusableFileError(f"{label} holds no worksheet; {_SAVE_AS}.")
    if isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise UnusableFileError(f"{label} has {len(names)} sheets; sheet number {sheet + 1} does not exist.")
        chosen = names[sheet]
    elif sheet:
        if sheet not in names:
            raise UnusableFileError(
                f"{label} has no sheet named {sheet!r}; its sheets are: {', '.join(repr(n) for n in names)}."
            )
        chosen = sheet
    else:
        chosen = _default(sheets)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas' notice that xlrd is deprecated is not the user's business
            frame = pd.read_excel(
                io.BytesIO(data),
                sheet_name=chosen,
                dtype=str,
                keep_default_na=False,
                engine="xlrd" if data.startswith(_OLE2) else "openpyxl",
            )
    except Exception:  # openpyxl/xlrd raise many types for broken files
        raise UnusableFileError(_broken_workbook(label)) from None
    frame.columns = _unique_names([str(c) for c in frame.columns])
    frame = frame.astype(TEXT)
    frame[ROW_NUMBER] = pd.RangeIndex(2, len(frame) + 2)
    return RawTable(frame, notes=[_sheet_note(sheets, chosen)])


def _sheet_note(sheets: list[_Sheet], chosen: str) -> str:
    if len(sheets) == 1:
        return f"read from Excel, sheet '{chosen}'"
    aside = []
    for s in sheets:
        if s.name == chosen:
            continue
        what = [f"{s.rows:,} rows"] if s.rows is not None else []
        if is_repeat_table(s.header):
            what.insert(0, "a repeat group's table")
        aside.append(f"'{s.name}'" + (f" ({', '.join(what)})" if what else ""))
    more = f" and {len(aside) - _SHEETS_NAMED:,} more" if len(aside) > _SHEETS_NAMED else ""
    return (
        f"read from Excel, sheet '{chosen}'; left aside: {', '.join(aside[:_SHEETS_NAMED])}{more} "
        "(choose another with the sheet option)"
    )


_SHEETS_NAMED = 10  # sheets left aside that the note names; a workbook may hold hundreds


def is_geo_file(path: str | Path) -> bool:
    """True for files that carry their own geometry (GeoJSON, GeoPackage, Shapefile, ...)."""
    return PurePosixPath(str(path).replace("\\", "/")).suffix.lower() in _GEO_SUFFIXES


def read_grid(path: str | Path, *, data: bytes | None = None) -> list[tuple[str | None, list[list[str]]]]:
    """Every cell of a CSV file or of each sheet of an Excel workbook as text, with no header row.

    For layouts whose first row is not a header (SAPS's published station tables: a title row above
    each block). Returns ``(sheet name, rows)`` pairs; a CSV file is one pair with no sheet name. Row
    ``i`` of a grid is spreadsheet row ``i + 1``. The bytes decide (gzip and zip are opened, the encoding
    and line ends are found as for :func:`read_tabular`); the name is only a label.
    """
    path = Path(path)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UnusableFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    data = unpack(data, path.name).data
    if is_workbook(data):
        try:
            sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, header=None, dtype=str, keep_default_na=False)
        except Exception:  # openpyxl/xlrd raise many types for broken files
            raise UnusableFileError(_broken_workbook(path.name)) from None
        return [(str(name), sheet.astype(str).to_numpy().tolist()) for name, sheet in sheets.items()]
    _check_text(path.name, data)
    text = as_text(data).decode()
    first = text.splitlines()[0] if text else ""
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first)))
    except csv.Error as exc:
        raise UnusableFileError(f"{path.name} could not be read as CSV ({exc}); save it again as CSV UTF-8.") from exc
    return [(None, rows)]


def preview_rows(frame: pd.DataFrame, *, personal: Sequence[str] = (), n: int = 5) -> pd.DataFrame:
    """The first ``n`` rows of a file as read, for a person choosing its columns: the row number in the
    spreadsheet first, personal columns left out, phone numbers, ID numbers and e-mails redacted."""
    columns = [c for c in frame.columns if c != ROW_NUMBER and c not in set(personal)]
    head = frame.head(n)
    shown, _ = redact_frame(head[columns], columns)
    if ROW_NUMBER in head:
        shown.insert(0, "Row", head[ROW_NUMBER].to_numpy())
    return shown.reset_index(drop=True)
