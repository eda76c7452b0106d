"""A chunk of feature rows as a few byte strings that one ``INSERT ... SELECT`` turns back into rows.

The GeoPackage batch writer inserts on its own thread while the caller's thread prepares the next
chunk. Bound row by row through ``sqlite3``, every row costs the thread that binds it about 5 µs with
the interpreter lock held, whichever thread that is. Here each column becomes its values' bytes laid
end to end, where each row's value starts and how long it is (fixed-width decimal digits; none when
every value has the same length), and which rows are empty: built with Arrow and NumPy, no Python
object per row. The writer's one statement slices them back with ``substr``, which on a BLOB counts
bytes, so each slice costs the same wherever it lies, and SQLite runs without the interpreter lock.

Each value reaches the store as the row-by-row path binds it (:func:`._gpkg_write.column_values`):
text as text (a value that is not text as ``str(value)``), datetimes as GeoPackage text, booleans and
integers as integers, geometries as GeoPackage blobs. Floating-point columns are not staged (SQLite's
text-to-real conversion may round differently from Python's), so such a table is bound row by row.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.schemas import Table
from pipelines.store.frames import datetime_texts, text_values

#: How the statement counts its rows: ``i`` from 0 to ``:n - 1`` (none when ``:n`` is 0).
ROWS_CTE = "WITH RECURSIVE _rows(i) AS (SELECT 0 WHERE :n > 0 UNION ALL SELECT i + 1 FROM _rows WHERE i < :n - 1)"


@dataclass(frozen=True)
class Staged:
    """Rows as SQL: one expression per column over the row number ``i`` of :data:`ROWS_CTE`, and the
    named parameters (``n`` among them) they read."""

    rows: int
    exprs: tuple[str, ...]
    params: dict[str, object]

    def insert(self, conn: sqlite3.Connection, table: str, columns: list[str], *, first: str | None = None) -> None:
        """Insert the rows into ``columns`` of ``table`` with one statement; ``first``, an expression over
        ``i``, fills a column before the staged ones (the feature id)."""
        quoted = ", ".join(f'"{c}"' for c in columns)
        exprs = ", ".join(self.exprs if first is None else (first, *self.exprs))
        conn.execute(f'{ROWS_CTE} INSERT INTO "{table}" ({quoted}) SELECT {exprs} FROM _rows', self.params)


#: The most bytes one staged column may hold: SQLite refuses a value over 1 GB (``SQLITE_MAX_LENGTH``), so
#: rows are inserted in parts below this, and a chunk of text over it is bound row by row instead.
MAX_PARAM_BYTES = 128 * 2**20


def insert_numbers(
    conn: sqlite3.Connection,
    table: str,
    columns: list[str],
    numbers: list[np.ndarray],
    blobs: tuple[bytes, int] | None = None,
) -> None:
    """Insert rows of non-negative integer columns (``numbers``, equal lengths) and, last, a column of blobs
    of one size (``(data, width)``: the blobs end to end), in parts of at most :data:`MAX_PARAM_BYTES` a column."""
    rows = len(numbers[0])
    widest = max(20, blobs[1] if blobs is not None else 0)
    step = max(1, MAX_PARAM_BYTES // widest)
    for start in range(0, rows, step):
        stop = min(rows, start + step)
        part = [values[start:stop] for values in numbers]
        sliced = None if blobs is None else (blobs[0][start * blobs[1] : stop * blobs[1]], blobs[1])
        _numbers_and_blobs(part, sliced).insert(conn, table, columns)


def _numbers_and_blobs(numbers: list[np.ndarray], blobs: tuple[bytes, int] | None) -> Staged:
    rows = len(numbers[0])
    params: dict[str, object] = {"n": rows}
    exprs = []
    for k, values in enumerate(numbers):
        if rows and values.min() < 0:
            raise ValueError("only non-negative integers are staged")
        width = max(1, len(str(int(values.max())))) if rows else 1
        params[f"i{k}_d"] = _digits(values.astype(np.int64, copy=False), width)
        exprs.append(f"CAST(substr(:i{k}_d, i * {width} + 1, {width}) AS INTEGER)")
    if blobs is not None:
        data, width = blobs
        params["b_d"] = data
        exprs.append(f"substr(:b_d, i * {width} + 1, {width})")
    return Staged(rows, tuple(exprs), params)


def stage(table: Table, frame: pd.DataFrame, blobs: tuple[bytes, np.ndarray, np.ndarray | None]) -> Staged | None:
    """``frame``'s columns of ``table`` and the geometry ``blobs`` (see :func:`blob_column`) as a
    :class:`Staged` chunk; ``None`` when a column cannot be staged (floating point, or over
    :data:`MAX_PARAM_BYTES`)."""
    params: dict[str, object] = {"n": len(frame)}
    exprs = []
    for k, name in enumerate(table.columns):
        kind = table.field(name).dtype
        if kind == "float":
            return None
        exprs.append(_column(f"c{k}", kind, frame[name], params))
    data, offsets, present = blobs
    exprs.append(_sliced("g", data, offsets, present, params, cast=None))
    if any(isinstance(v, bytes) and len(v) > MAX_PARAM_BYTES for v in params.values()):
        return None
    return Staged(len(frame), tuple(exprs), params)


def blob_column(blobs: list[bytes | None]) -> tuple[bytes, np.ndarray, np.ndarray]:
    """Geometry blobs (``None``: no geometry) as their bytes end to end, each row's start offset (one
    more than rows) and which rows have one."""
    present = np.fromiter((b is not None for b in blobs), bool, len(blobs))
    lengths = np.fromiter((0 if b is None else len(b) for b in blobs), np.int64, len(blobs))
    return b"".join(b for b in blobs if b is not None), np.concatenate([[0], np.cumsum(lengths)]), present


def fixed_blob_column(records: np.ndarray, present: np.ndarray) -> tuple[bytes, np.ndarray, np.ndarray]:
    """Fixed-size geometry blobs (a NumPy structured array, one record a row) as :func:`blob_column` gives them."""
    width = records.dtype.itemsize
    return records.tobytes(), np.arange(len(records) + 1, dtype=np.int64) * width, present


def _column(key: str, kind: str, values: pd.Series, params: dict[str, object]) -> str:
    if kind == "datetime":
        text, missing = datetime_texts(values)
        array = pa.array(text, pa.large_string(), mask=missing)
        return _text(key, array, params, cast="TEXT")
    if kind in ("bool", "int"):
        missing = values.isna().to_numpy(dtype=bool)
        if kind == "bool":
            numbers = values.fillna(False).astype(bool).to_numpy().astype(np.int64)
        else:
            numbers = pd.to_numeric(values, errors="coerce").astype("Int64").to_numpy(dtype=np.int64, na_value=0)
        array = pc.cast(pa.array(numbers, mask=missing), pa.large_string())
        return _text(key, array, params, cast="INTEGER")
    return _text(key, _text_array(values), params, cast="TEXT")


def _text_array(values: pd.Series) -> pa.LargeStringArray:
    """A text column as Arrow text (missing values null); in a column of Python objects, a value that is
    not text becomes ``str(value)`` (:func:`~pipelines.store.frames.text_values`)."""
    if not isinstance(values.dtype, pd.StringDtype):
        values = pd.Series(text_values(values), dtype=object)
    array = pa.array(values, pa.large_string(), from_pandas=True)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _text(key: str, array: pa.Array, params: dict[str, object], *, cast: str) -> str:
    """The SQL for a text column (as ``cast``), its bytes added to ``params``; a column with one value (or
    none) is bound once."""
    if array.null_count == len(array):
        return "NULL"
    if array.null_count == 0 and _one_value(array):
        params[key] = array[0].as_py()
        return f"CAST(:{key} AS {cast})"
    buffers = array.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64, count=len(array) + 1, offset=array.offset * 8)
    data = b"" if buffers[2] is None else buffers[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0])).to_pybytes()
    present = None if array.null_count == 0 else ~array.is_null().to_numpy(zero_copy_only=False)
    return _sliced(key, data, offsets - offsets[0], present, params, cast=cast)


def _one_value(array: pa.Array) -> bool:
    """Whether every value equals the first (ends and middle compared first: most columns differ there)."""
    first = array[0]
    if array[len(array) - 1] != first or array[len(array) // 2] != first:
        return False
    return bool(pc.all(pc.equal(array, first)).as_py())


def _sliced(
    key: str,
    data: bytes,
    offsets: np.ndarray,
    present: np.ndarray | None,
    params: dict[str, object],
    *,
    cast: str | None,
) -> str:
    """The SQL for row ``i``'s value: bytes ``offsets[i]:offsets[i + 1]`` of ``data`` (as ``cast``; ``None``:
    a BLOB), NULL where not ``present``."""
    widths = np.diff(offsets)
    if not data:  # every value empty: substr() of a zero-length BLOB is NULL, not an empty value
        return _present(key, "x''" if cast is None else f"CAST(x'' AS {cast})", present, params)
    params[f"{key}_d"] = data
    if len(widths) and (widths == widths[0]).all():
        w = int(widths[0])
        value = f"substr(:{key}_d, i * {w} + 1, {w})"
    else:
        starts, lengths = offsets[:-1], widths
        start_digits, length_digits = (max(1, len(str(int(v.max())))) for v in (starts, lengths))
        params[f"{key}_s"] = _digits(starts, start_digits)
        params[f"{key}_l"] = _digits(lengths, length_digits)
        start = f"CAST(substr(:{key}_s, i * {start_digits} + 1, {start_digits}) AS INTEGER)"
        length = f"CAST(substr(:{key}_l, i * {length_digits} + 1, {length_digits}) AS INTEGER)"
        value = f"substr(:{key}_d, {start} + 1, {length})"
    if cast is not None:
        value = f"CAST({value} AS {cast})"
    return _present(key, value, present, params)


def _present(key: str, value: str, present: np.ndarray | None, params: dict[str, object]) -> str:
    """``value``, NULL where not ``present``."""
    if present is None or present.all():
        return value
    params[f"{key}_v"] = np.where(present, ord("1"), ord("0")).astype(np.uint8).tobytes()
    return f"CASE WHEN substr(:{key}_v, i + 1, 1) = x'31' THEN {value} END"


def _digits(numbers: np.ndarray, width: int) -> bytes:
    """Non-negative integers as ``width`` ASCII decimal digits each, end to end."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((numbers[:, None] // powers) % 10 + ord("0")).astype(np.uint8).tobytes()
