"""Personal-information redaction, applied at ingest before anything is stored (POPIA).

Place in the data flow: ``validate`` calls :func:`redact_frame` on the raw frame, so the stored
``description``, the ``raw`` JSON copy and rejected rows never hold an ID number, phone number or
e-mail address. Columns that are personal as a whole (names, phone numbers) are dropped by the
column mapping before this runs.
"""

from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

ID_TOKEN = "[ID NUMBER]"
PHONE_TOKEN = "[PHONE]"
EMAIL_TOKEN = "[EMAIL]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# 13 digits, optionally grouped YYMMDD SSSS CAZ with spaces; checked with Luhn before redacting.
_SA_ID = re.compile(r"(?<![\w+.,])(\d{6})[ ]?(\d{4})[ ]?(\d{3})(?![\d.,]?\d)")
# +27 or 0, then 9 digits with any spacing/hyphens/brackets between them.
_PHONE = re.compile(r"(?<![\w+.,])(?:\+\s*27|\(0\)|0)(?:[\s\-()]*\d){9}(?!\d)")
# Cheap pre-filter, run in Arrow's regex engine: only values with an @ or at least 9 digits (any
# script, anywhere: a superset of what the patterns above can match) can hold anything to redact.
_CANDIDATE = r"@|\p{Nd}(?:\P{Nd}*\p{Nd}){8}"


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` passes the Luhn check (the last digit of a South African ID number)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _redact_id(match: re.Match) -> str:
    digits = "".join(match.groups())
    return ID_TOKEN if luhn_valid(digits) else match.group(0)


def redact_text(text: str) -> str:
    """Redact SA ID numbers (valid Luhn), phone numbers and e-mail addresses in one string."""
    text = _EMAIL.sub(EMAIL_TOKEN, text)
    text = _SA_ID.sub(_redact_id, text)
    return _PHONE.sub(PHONE_TOKEN, text)


def redact_series(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Redact a text column; returns ``(redacted, changed)`` where ``changed`` flags altered rows."""
    arrow = pa.array(values.astype("string[pyarrow]"))
    found = pc.fill_null(pc.match_substring_regex(arrow, _CANDIDATE), False).to_numpy(zero_copy_only=False)
    candidates = pd.Series(found, index=values.index)
    changed = pd.Series(False, index=values.index)
    if not candidates.any():
        return values, changed
    text = values.astype("object")
    original = text[candidates].astype(str)
    redacted = original.map(redact_text)
    diff = redacted != original
    changed.loc[diff[diff].index] = True
    out = text.copy()
    out.loc[redacted.index] = redacted
    return out, changed


def redact_frame(frame: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, pd.Series]:
    """Redact ``columns`` of ``frame``; returns the new frame and a per-row "something redacted" flag."""
    out = frame.copy()
    changed = pd.Series(False, index=frame.index)
    for column in columns:
        out[column], column_changed = redact_series(frame[column])
        changed |= column_changed
    return out, changed
