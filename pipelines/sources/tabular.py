"""Read delimited text and spreadsheets into a raw frame: every column as text, as delivered.

Place in the data flow: the first step of an incident, asset or intervention ingest. Nothing is
interpreted here except the file's encoding, delimiter and header; each data row keeps its
spreadsheet row number (the header is row 1) so rejections can point at it. Rows the parser cannot
split into the header's columns are returned separately as ``malformed`` so they are reported, not
lost.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from pipelines.errors import UnusableFileError

ROW_NUMBER = "__row__"
TEXT = "string[pyarrow]"
_DELIMITERS = (",", ";", "\t", "|")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
_GEO_SUFFIXES = (".geojson", ".json", ".gpkg", ".fgb", ".shp", ".zip", ".kml")


@dataclass
class RawTable:
    """What a reader returns."""

    frame: pd.DataFrame  # all columns text, plus ROW_NUMBER
    encoding: str | None = None
    delimiter: str | None = None
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (row number, raw text)
    notes: list[str] = field(default_factory=list)


def detect_encoding(data: bytes) -> str:
    """``utf-8-sig`` when the bytes are valid UTF-8 (with or without BOM), else ``cp1252``.

    Excel on Windows writes CSV as Windows-1252; the few bytes cp1252 leaves undefined fall back
    to latin-1 so decoding never fails.
    """
    try:
        data.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


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


def read_tabular(path: str | Path, *, data: bytes | None = None, sheet: str | int | None = None) -> RawTable:
    """Read a CSV/TSV or Excel file into a :class:`RawTable`.

    Parameters
    ----------
    path
        The file (its suffix picks the parser; ``data`` may carry its bytes instead).
    data
        File content, when it came from an upload rather than the disk.
    sheet
        Excel sheet name or index (default: the first).
    """
    path = Path(path)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UnusableFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(path, data, sheet)
    if not data.strip():
        raise UnusableFileError(f"{path.name} is empty; export the survey again and upload the CSV file.")
    if data[:2] == b"PK" or b"\x00" in data[:4096]:
        raise UnusableFileError(
            f"{path.name} is not a text CSV file (it looks binary); save it as CSV (UTF-8) and upload that."
        )
    return _read_delimited(path, data)


def _read_delimited(path: Path, data: bytes) -> RawTable:
    encoding = detect_encoding(data)
    if encoding == "utf-8-sig" and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    end = data.find(b"\n")  # not split(): that would copy the whole file
    first_line = (data if end < 0 else data[:end]).decode(
        encoding if encoding != "utf-8-sig" else "utf-8", errors="replace"
    )
    delimiter = sniff_delimiter(first_line)
    try:
        header = next(csv.reader([first_line.rstrip("\r")], delimiter=delimiter), [])
    except csv.Error as exc:  # e.g. a bare carriage return inside the first line (old Mac line endings)
        raise UnusableFileError(
            f"{path.name}: the header row could not be read as CSV ({exc}); save the file as CSV (UTF-8) and upload that."
        ) from exc
    notes = []
    if encoding != "utf-8-sig":
        notes.append(f"read as {encoding} (the file is not UTF-8)")
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(
                encoding="utf8" if encoding == "utf-8-sig" else encoding, block_size=1 << 24
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
        return _read_delimited_slow(path, data, encoding, delimiter, notes)
    if table.num_columns != len(header):
        return _read_delimited_slow(path, data, encoding, delimiter, notes)
    frame = _all_text(table, _unique_names(table.column_names))
    _check_header(path, list(frame.columns))
    frame[ROW_NUMBER] = pd.RangeIndex(2, len(frame) + 2)
    return RawTable(frame, encoding=encoding, delimiter=delimiter, notes=notes)


def _all_text(table: pa.Table, names: list[str]) -> pd.DataFrame:
    columns = {}
    for name, column in zip(names, table.columns, strict=True):
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            column = column.cast(pa.string())
        columns[name] = pd.Series(
            pd.arrays.ArrowStringArray(column.combine_chunks()) if len(column) else pd.array([], dtype=TEXT), dtype=TEXT
        )
    return pd.DataFrame(columns)


def _read_delimited_slow(path: Path, data: bytes, encoding: str, delimiter: str, notes: list[str]) -> RawTable:
    text = data.decode(encoding if encoding != "utf-8-sig" else "utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise UnusableFileError(f"{path.name} has no header row.") from None
    _check_header(path, header)
    rows, numbers, malformed = [], [], []
    try:
        for number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                if any(cell.strip() for cell in row[len(header) :]):
                    malformed.append((number, json.dumps(row, ensure_ascii=False)))
                    continue
                row = row[: len(header)]  # trailing delimiters, as some Kobo exports write them
            elif len(row) < len(header):
                row = row + [""] * (len(header) - len(row))  # spreadsheets drop trailing empty cells
            rows.append(row)
            numbers.append(number)
    except csv.Error as exc:
        raise UnusableFileError(f"{path.name} could not be parsed as CSV near row {reader.line_num}: {exc}") from exc
    frame = (
        pd.DataFrame(rows, columns=_unique_names(header), dtype=TEXT)
        if rows
        else pd.DataFrame({h: pd.Series([], dtype=TEXT) for h in _unique_names(header)})
    )
    frame[ROW_NUMBER] = numbers
    return RawTable(frame, encoding=encoding, delimiter=delimiter, malformed=malformed, notes=notes)


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


def _check_header(path: Path, header: list[str]) -> None:
    if not header or all(not h.strip() for h in header):
        raise UnusableFileError(f"{path.name} has no header row; the first line must name the columns.")
    if len(header) == 1 and len(header[0]) > 200:
        raise UnusableFileError(f"{path.name} does not look like a CSV file (no delimiter found in the first line).")


def _read_excel(path: Path, data: bytes, sheet: str | int | None) -> RawTable:
    try:
        frame = pd.read_excel(io.BytesIO(data), sheet_name=sheet or 0, dtype=str, keep_default_na=False)
    except Exception as exc:  # openpyxl/xlrd raise many types for broken files
        raise UnusableFileError(f"{path.name} could not be read as an Excel workbook: {exc}") from exc
    frame.columns = _unique_names([str(c) for c in frame.columns])
    frame = frame.astype(TEXT)
    frame[ROW_NUMBER] = pd.RangeIndex(2, len(frame) + 2)
    return RawTable(frame, notes=["read from Excel"])


def is_geo_file(path: str | Path) -> bool:
    """True for files that carry their own geometry (GeoJSON, GeoPackage, Shapefile, ...)."""
    return Path(path).suffix.lower() in _GEO_SUFFIXES


def read_grid(path: str | Path, *, data: bytes | None = None) -> list[tuple[str | None, list[list[str]]]]:
    """Every cell of a CSV file or of each sheet of an Excel workbook as text, with no header row.

    For layouts whose first row is not a header (SAPS's published station tables: a title row above
    each block). Returns ``(sheet name, rows)`` pairs; a CSV file is one pair with no sheet name. Row
    ``i`` of a grid is spreadsheet row ``i + 1``.
    """
    path = Path(path)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UnusableFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if path.suffix.lower() in EXCEL_SUFFIXES:
        try:
            sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, header=None, dtype=str, keep_default_na=False)
        except Exception as exc:  # openpyxl/xlrd raise many types for broken files
            raise UnusableFileError(f"{path.name} could not be read as an Excel workbook: {exc}") from exc
        return [(str(name), sheet.astype(str).to_numpy().tolist()) for name, sheet in sheets.items()]
    if data[:2] == b"PK" or b"\x00" in data[:4096]:
        return []
    encoding = detect_encoding(data)
    text = data.decode("utf-8-sig" if encoding == "utf-8-sig" else encoding, errors="replace")
    first = text.splitlines()[0] if text else ""
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first)))
    except csv.Error as exc:
        raise UnusableFileError(f"{path.name} could not be parsed as CSV: {exc}") from exc
    return [(None, rows)]
