"""Rejected rows: the one builder every importer uses, and what each reason means in words.

Every importer (incidents, registers, counts) stores its rejected rows through :func:`rejection_rows`,
which redacts the message and the row as delivered (:mod:`pipelines.pii`), so no rejection keeps personal
data. :data:`SENTENCES` says each reason code in words for the people who fix the file; the upload page,
the Batches page and the CLI show those, never the code alone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.pii import redact_series, redact_text

# Reason code -> what it means for the person fixing the file (rejections, duplicates, warnings).
SENTENCES = {
    "missing_location": "The row has no location: its coordinates (or area) are empty.",
    "invalid_coordinates": "The coordinates are not a place on Earth, or not where the areas are.",
    "invalid_date": "The date could not be read.",
    "future_date": "The date is in the future.",
    "malformed_row": "The row could not be read: it has more or fewer fields than the header, or a character that is not text.",
    "unknown_area": "The area named in the row matches no stored area (the message lists the closest names).",
    "ambiguous_area": "Two stations of the file match the same stored area, so neither could be stored.",
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
            "batch_id": None,
            "row_number": np.asarray(row_number, dtype=np.int64),
            "reason": reason,
            "message": messages,
            "org": org,
            "raw": redact_series(raw_text.astype("string[pyarrow]").fillna(""))[0].astype(object),
        }
    )
