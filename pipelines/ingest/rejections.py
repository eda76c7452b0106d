"""Rejected rows: the one builder every importer uses, and what each reason means in words.

Every importer (incidents, registers, counts) stores its rejected rows through :func:`rejection_rows`,
which redacts the message and the row as delivered (:mod:`pipelines.pii`), so no rejection keeps personal
data. :data:`SENTENCES` says each reason code in words for the people who fix the file; the upload page,
the Batches page and the CLI show those, never the code alone. Where a reason is listed rather than
explained (a chart's legend, a table of warnings) it reads in the few words of
:data:`pipelines.schemas.REASON_WORDS`, the one table of them (:func:`pipelines.views.reason_words`).

:func:`as_original_file` turns rejected rows back into the file they came from (its header, one row
each, plus a ``reason`` column), offered under :func:`download_label`, so a person fixes them in a
spreadsheet and uploads the file again;
:func:`reason_column` finds that column on the way back in, so it is left out of the mapping.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.pii import redact_series, redact_text
from pipelines.schemas import COLUMNS

# Reason code -> what it means for the person fixing the file (rejections, duplicates, warnings).
SENTENCES = {
    "missing_location": "The row has no location: its coordinates (or area) are empty.",
    "invalid_coordinates": "The coordinates are not a place on Earth, or not where the areas are.",
    "invalid_date": "The date could not be read.",
    "future_date": "The date is in the future.",
    "malformed_row": "The row could not be read: it has more or fewer fields than the header, or a character that is not text.",
    "unknown_area": "The area named in the row matches no stored area (the message lists the closest names).",
    "ambiguous_area": "Two stations of the file match the same stored area, so neither could be stored.",
    "not_an_area": "The feature is a point or a line, not an area; a boundary file holds polygons.",
    "invalid_value": "A value in the row is not one of the allowed values.",
    "repeated_in_file": "The row repeats an earlier row of the same file.",
    "already_stored": "The row was already stored from an earlier upload.",
    "swapped_coordinates": "Latitude and longitude were the wrong way round and were swapped.",
    "unknown_category": "The category is not one we know; it was stored as 'other'.",
    "redacted_pii": "A phone number, ID number or e-mail address was removed from the row.",
    "missing_date": "The row has no date; the submission time was used.",
    "outside_areas": "The point is outside every stored area.",
    "repaired_geometry": "The shape was invalid and was repaired.",
    "unmatched_area": "The point is in no Safe Neighbourhood.",
    "near_boundary": "The point was just outside an area and was placed in the nearest one.",
    "merged_features": "Several shapes shared one area code and were stored as one area.",
    "matched_by_alias": "The area was found under another name (a renamed or merged station, or other spacing).",
    "ambiguous_date_order": (
        "The date reads both ways (day/month or month/day) and no date in the file settles which: it was "
        "read day first. If the file writes the month first, upload it again with the date format mdy."
    ),
    "identical_row": (
        "The row is identical to an earlier row and has no record id; it was kept as a separate event "
        "(people searched together, say). If the copies are mistakes, upload again dropping identical rows."
    ),
    "identical_row_dropped": (
        "The row is identical to an earlier row and has no record id; it was dropped as a copy. If identical "
        "rows are separate events (people searched together, say), upload again keeping identical rows."
    ),
    "placed_by_area": (
        "The row had no usable point and was placed in the area it names; it counts in area totals but is "
        "not on the map or in hot spots."
    ),
}


def describe(code: str) -> str:
    """A reason or warning code in words (the code itself when it has no sentence yet)."""
    return SENTENCES.get(code, code.replace("_", " ").capitalize())


def rejection_rows(
    row_number: Sequence[int] | np.ndarray,
    reason: Sequence[str] | str,
    message: Sequence[str | None] | str,
    *,
    org: str | None,
    raw: Sequence[str] | pa.Array | pd.DataFrame,
) -> pd.DataFrame:
    """Rejected rows as the ``rejections`` table holds them, with ``message`` and ``raw`` redacted.

    Every importer stores its rejected rows through this, so none keeps personal data. ``raw`` is a
    JSON text per row or a frame of the rows as delivered (each row becomes a JSON object of its
    values); ``batch_id`` is filled at commit.
    """
    if isinstance(raw, pd.DataFrame):
        records = raw.astype("object").where(raw.notna(), None).to_dict(orient="records")
        raw = [json.dumps(r, ensure_ascii=False, default=str) for r in records]
    raw_text = pd.Series(raw.to_pylist() if isinstance(raw, pa.Array | pa.ChunkedArray) else list(raw), dtype=object)
    messages = pd.Series(
        [message] * len(raw_text) if isinstance(message, str) else list(message), dtype=object
    ).reset_index(drop=True)
    has_message = messages.notna()
    messages[has_message] = [redact_text(str(m)) for m in messages[has_message]]
    return pd.DataFrame(
        {
            COLUMNS.batch_id: None,
            COLUMNS.row_number: np.asarray(row_number, dtype=np.int64),
            COLUMNS.reason: reason,
            COLUMNS.message: messages,
            COLUMNS.org: org,
            COLUMNS.raw: redact_series(raw_text.astype("string[pyarrow]").fillna(""))[0].astype(object),
        }
    )


#: The column :func:`as_original_file` adds (``ALT_REASON_COLUMN`` when the file already has one).
REASON_COLUMN = "reason"
ALT_REASON_COLUMN = "reason (AreaSafe)"
_UNPARSED = "_unparsed"  # the raw copy of a row the CSV parser could not split (malformed_row)
_HEADER = "_header"  # and the file's header beside it


def download_label(count: int) -> str:
    """The label of the button that downloads ``count`` rejected rows to fix, on the upload page and on
    Batches alike: "Download the rejected row to fix (CSV)", "Download the 3 rejected rows to fix (CSV)"."""
    rows = "the rejected row" if count == 1 else f"the {count:,} rejected rows"
    return f"Download {rows} to fix (CSV)"


def as_original_file(
    rejections: pd.DataFrame, columns: Sequence[str] | None = None, *, empty: Iterable[str] = ()
) -> str:
    """Rejected rows as CSV text with the uploaded file's header plus a ``reason`` column in words.

    Each row is rebuilt from its stored ``raw`` copy (redacted; personal columns, which are never
    kept, stay empty), so the file can be fixed in a spreadsheet and uploaded again as it is: the
    ``reason`` column is recognised and left out on the way back in (:func:`reason_column`).

    Parameters
    ----------
    rejections
        Rows of the ``rejections`` table (``row_number``, ``reason``, ``raw``), e.g. one batch's.
    columns
        The file's header in its order; without it the header is recovered from the ``raw`` copies
        (their keys keep the file's order).
    empty
        Columns kept in the header but left empty: the personal ones, which are never stored (a row the
        parser could not split keeps no value of theirs either: :func:`unsplit_row`).

    Returns
    -------
    str
        CSV text, cells a spreadsheet would run as a formula neutralised (:func:`pipelines.export.csv_text`).
    """
    from pipelines.export import csv_text

    rows = rejections.sort_values(COLUMNS.row_number, kind="stable") if len(rejections) else rejections
    records = [_record(text) for text in rows.get(COLUMNS.raw, pd.Series(dtype=object))]
    header = list(columns) if columns is not None else _header(records)
    table = pd.DataFrame([_cells(record, header) for record in records], columns=header, dtype=object)
    table[[c for c in header if c in set(empty)]] = None
    reason = ALT_REASON_COLUMN if REASON_COLUMN in header else REASON_COLUMN
    table[reason] = [describe(code) for code in rows.get(COLUMNS.reason, pd.Series(dtype=object))]
    return csv_text(table)


def unsplit_row(
    fields: Sequence[str], header: Sequence[str], personal: Iterable[str] = (), *, delimiter: str | None = ","
) -> tuple[str, bool]:
    """The copy kept of a row the parser could not split into the header's columns (``malformed_row``).

    Personal columns are never stored, but such a row's fields are not where the header says: a stray
    delimiter moves every later field right, a quoted field holding delimiters moves them left. So this
    fails closed: with personal columns in the file, every field a personal value could have moved to is
    left empty. A personal column at position ``p`` can be field ``i`` only when ``i + m_i >= p`` and
    ``i <= p + e + m``, where ``m_i`` is how many delimiters the fields before ``i`` hold inside them (each
    may have joined two columns), ``m`` all of them, and ``e`` how many fields the row has beyond the
    header (stray delimiters). A field holding a line break may hold the next line: it is left empty too.
    The header goes with the row (its personal names as ``null``), so the fields that are kept can be
    put back under their columns (:func:`as_original_file`).

    Returns
    -------
    tuple[str, bool]
        The JSON text to store as the row's ``raw``, and whether cells other than the personal columns'
        own were left empty (to say so in the row's message).
    """
    personal = set(personal)
    names = [None if name in personal else name for name in header]
    fields = [str(f) for f in fields]
    emptied = False
    if personal and any(name is None for name in names):
        unsafe = _unsafe_fields(fields, names, extra=max(len(fields) - len(header), 0), delimiter=delimiter)
        emptied = _empties_others(fields, names, unsafe)
        fields = ["" if i in unsafe else f for i, f in enumerate(fields)]
    copy = {_UNPARSED: redact_text(json.dumps(fields, ensure_ascii=False)), _HEADER: names}
    return json.dumps(copy, ensure_ascii=False), emptied


def _unsafe_fields(fields: list[str], names: list[str | None], *, extra: int, delimiter: str | None) -> set[int]:
    """The fields a personal column's value (``None`` in ``names``) could have moved to, and those
    holding a line break (see :func:`unsplit_row`)."""
    inside = [f.count(delimiter or ",") for f in fields]
    before = np.cumsum([0, *inside])  # delimiters inside the fields before each one
    unsafe = {
        i
        for p, name in enumerate(names)
        if name is None
        for i in range(len(fields))
        if i + before[i] >= p and i <= p + extra + before[-1]
    }
    unsafe |= {i for i, f in enumerate(fields) if "\n" in f or "\r" in f}
    return unsafe


def _empties_others(fields: list[str], names: list[str | None], unsafe: set[int]) -> bool:
    """Whether emptying the ``unsafe`` fields empties a cell other than the personal columns' own."""
    return any(fields[i] and (i >= len(names) or names[i] is not None) for i in unsafe if i < len(fields))


def _record(text: object) -> dict:
    if not isinstance(text, str) or not text:
        return {}
    try:
        record = json.loads(text)
    except ValueError:
        return {_UNPARSED: text}
    return record if isinstance(record, dict) else {_UNPARSED: text}


def _header(records: Iterable[dict]) -> list[str]:
    header: dict[str, None] = {}
    for record in records:
        # A row the parser could not split brings the file's header (personal names as null).
        keys = (record.get(_HEADER) or []) if _UNPARSED in record else record
        header.update(dict.fromkeys(k for k in keys if isinstance(k, str)))
    return list(header)


def _cells(record: dict, header: list[str]) -> list[object]:
    """A row's values under ``header``. A row the parser could not split has its fields put under the
    columns of the file's own header, in order; fields past its end are kept in the last cell."""
    if _UNPARSED not in record:
        return [record.get(column) for column in header]
    try:
        fields = json.loads(record[_UNPARSED])
    except (TypeError, ValueError):
        fields = [record[_UNPARSED]]
    fields = [str(f) for f in fields] if isinstance(fields, list) else [str(fields)]
    names = record.get(_HEADER) or header
    if not names:
        return [None] * len(header)
    if len(fields) > len(names):
        fields = [*fields[: len(names) - 1], ",".join(fields[len(names) - 1 :])]
    values = dict(zip(names, fields, strict=False))
    return [values.get(column) for column in header]


def reason_column(frame: pd.DataFrame) -> str | None:
    """The ``reason`` column :func:`as_original_file` added, when a fixed file comes back, else ``None``.

    Recognised by its name and its content: most of its filled cells are reasons in words
    (:data:`SENTENCES`), so a file's own column called "reason" is kept.
    """
    known = set(SENTENCES.values())
    for column in (REASON_COLUMN, ALT_REASON_COLUMN):
        if column not in frame.columns:
            continue
        values = frame[column].astype("string").fillna("").str.strip()
        values = values[values.ne("")]
        if len(values) and values.isin(known).mean() >= 0.5:
            return column
    return None
