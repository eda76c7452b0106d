"""The copy a store keeps of each accepted incident's row as the file gave it (after PII redaction).

A batch's rows are kept in blocks, one row of the ``source_rows`` table per block of up to
``Settings.chunk_rows`` incidents, not one JSON text per incident: the copy is only read to audit
or re-read a batch, and a million per-row copies (keys repeated in every row) made up a third of a
store's bytes and of the time to write it. A block holds

- ``block_ids``: the incidents' ids, one per line, and
- ``block_csv``: the rows as CSV with the file's header (every value text),

each gzip-compressed and base64-encoded (``base64 -d | gunzip`` reads one in a shell). The ids and
the rows are in the same order, so the n-th id belongs to the n-th CSV row.

Packing (:func:`pack`: the CSV) runs in the uploader's thread while the writer thread stores the
chunk before; the compression waits for the writer thread, which reads :attr:`Packed.blocks` (zlib
releases the interpreter lock, and the uploader is the busier thread). The writer keeps a packed block
as it is unless some of its incidents turned out to be stored already (:func:`blocks`). Stores written before
schema version 10 hold the copy in each incident's ``raw`` (a JSON object); :func:`from_json` reads
those, so :meth:`Store.read_source_rows` answers for old and new batches alike.
"""

from __future__ import annotations

import base64
import io
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from pipelines import settings
from pipelines.schemas import COLUMNS

_GZIP = 31  # zlib's wbits for a gzip stream
_LEVEL = 1  # a third of level 6's time for ~10% more bytes; the copy is written far more often than read


_BLOCK_COLUMNS = [COLUMNS.batch_id, COLUMNS.block_rows, COLUMNS.block_ids, COLUMNS.block_csv]


@dataclass(frozen=True)
class Packed:
    """Rows already packed (:func:`pack`): each block's row count, ids and CSV, compressed only when
    :attr:`blocks` is first read (by the writer thread, which has the time); and the incident ids they
    hold (to tell whether a store must drop some before writing them)."""

    batch_id: str
    texts: list[tuple[int, bytes, bytes | memoryview]]
    ids: np.ndarray
    rows: pd.DataFrame  # the rows as given, to pack again without the ids a store drops
    # Not functools.cached_property: until Python 3.12 it holds one lock for every instance, so two
    # batches' writer threads would compress one after the other.
    _blocks: pd.DataFrame | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def blocks(self) -> pd.DataFrame:
        """The ``source_rows`` rows: each block's ids and CSV gzip-compressed, base64-encoded (on first read)."""
        if self._blocks is None:
            records = [(self.batch_id, n, _encode(ids), _encode(csv)) for n, ids, csv in self.texts]
            object.__setattr__(self, "_blocks", pd.DataFrame(records, columns=_BLOCK_COLUMNS))
        return self._blocks


def _encode(data: bytes | memoryview) -> str:
    return base64.b64encode(zlib.compress(data, _LEVEL, wbits=_GZIP)).decode("ascii")


def _decode(text: str) -> bytes:
    return zlib.decompress(base64.b64decode(text), wbits=_GZIP)


def _block(rows: pd.DataFrame) -> tuple[int, bytes, memoryview]:
    """A block's row count, its incident ids (a line each) and its rows as CSV with the file's header."""
    ids = pa.array(rows.index.to_numpy(dtype=object), pa.large_string()).to_pylist()
    columns = [
        pa.array(rows.iloc[:, i].astype("string[pyarrow]").fillna(""), pa.large_string()) for i in range(rows.shape[1])
    ]
    table = pa.Table.from_arrays(columns, names=[str(c) for c in rows.columns])
    sink = io.BytesIO()
    pacsv.write_csv(table, sink, write_options=pacsv.WriteOptions(include_header=True))
    return len(rows), "\n".join(ids).encode("ascii"), sink.getbuffer()


def pack(rows: pd.DataFrame, batch_id: str) -> Packed:
    """``rows`` (the file's columns, as text, indexed by incident id) as ``source_rows`` blocks of batch ``batch_id``.

    The ids are the index, not a column: a file may have a column of any name, ``incident_id`` too."""
    step = settings.SETTINGS.chunk_rows
    texts = [_block(rows.iloc[start : start + step]) for start in range(0, len(rows), step)]
    return Packed(batch_id, texts, rows.index.to_numpy(dtype=object), rows)


def blocks(rows: Packed | pd.DataFrame, written: pd.Series, batch_id: str) -> pd.DataFrame:
    """The ``source_rows`` rows to store for the incidents ``written`` (their ids) from ``rows``, packed or
    not: a packed block as it is, unless some of its incidents were not written (found already stored)."""
    if isinstance(rows, Packed) and len(written) == len(rows.ids):
        return rows.blocks
    frame = rows.rows if isinstance(rows, Packed) else rows
    if len(written) != len(frame):
        frame = frame.loc[frame.index.isin(written)]
    return pack(frame, batch_id).blocks


def unpack(blocks: pd.DataFrame) -> pd.DataFrame:
    """The rows held in ``source_rows`` blocks: the file's columns, every value text, indexed by incident id
    (a column one block's file lacks is missing in the others' rows)."""
    frames = [
        _unpack_one(ids, data) for ids, data in zip(blocks[COLUMNS.block_ids], blocks[COLUMNS.block_csv], strict=True)
    ]
    return pd.concat(frames) if frames else _no_rows()


def _no_rows() -> pd.DataFrame:
    return pd.DataFrame(index=pd.Index([], dtype=object, name=COLUMNS.incident_id))


def _unpack_one(ids_text: str, csv_text: str) -> pd.DataFrame:
    ids = pd.Index(_decode(ids_text).decode("ascii").split("\n"), dtype=object, name=COLUMNS.incident_id)
    data = _decode(csv_text)
    if not data.strip():  # a file with no column but the ones never kept
        return pd.DataFrame(index=ids)
    names = pacsv.open_csv(io.BytesIO(data), parse_options=_PARSE).schema.names
    table = pacsv.read_csv(
        io.BytesIO(data),
        parse_options=_PARSE,
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    )
    return table.to_pandas().astype(object).set_axis(ids)


_PARSE = pacsv.ParseOptions(newlines_in_values=True)


def from_json(incident_ids: Iterable[str], texts: Iterable[str]) -> pd.DataFrame:
    """Rows kept the old way (each incident's ``raw`` JSON object, before schema version 10), in the shape of :func:`unpack`."""
    ids = list(incident_ids)
    if not ids:
        return _no_rows()
    records = [json.loads(t) for t in texts]
    return pd.DataFrame(records, dtype=object).set_axis(pd.Index(ids, dtype=object, name=COLUMNS.incident_id))
