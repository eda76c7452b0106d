"""Personal-information redaction, applied at ingest before anything is stored (POPIA).

Place in the data flow: ``validate`` calls :func:`redact_frame` on every column it keeps (free text,
record ids, dates, categories and coordinates alike), so the stored ``external_id``, ``raw_category``,
``description``, ``dedupe_key``, the ``raw`` JSON copy and rejection messages never hold an ID number,
phone number or e-mail address. Every importer builds its stored rejected rows with
:func:`pipelines.ingest.rejections.rejection_rows`, which redacts them with these functions; :func:`redact_file_name` cleans an uploaded file's name before
the batch record or the audit log keeps it. Columns that are personal as a whole (names, phone numbers)
are dropped by the column mapping (:func:`pipelines.sources.mapping.is_personal`) before this runs.

What counts (``docs/privacy.md``):

- an **SA ID number**: 13 digits (``YYMMDD SSSS CAZ``, optionally grouped with spaces or hyphens) whose
  first six are a real date, whose 11th (citizenship) is 0, 1 or 2 and which pass the Luhn check. A
  13-digit millisecond timestamp in the years 2010-2034 directly followed by a media extension
  (``1568786958640.jpg``, how ODK and Kobo name photos) is a file name, not an ID number;
- a **phone number**: a South African number written with the trunk ``0``, ``+27``, ``0027`` or ``27``
  before the nine national digits, grouped 2-3-4, 2-3-2-2 or 3-3-3 with spaces, hyphens, dots or
  brackets (``082 555 0199``, ``(021) 555-1234``, ``+27 (0)82 555 0199``, ``082.555.0199``);
- an **e-mail address**.

A number glued to letters is still found (``ID8001015009087``, ``tel0825550199``), but not one inside a
longer number or after a decimal point, and never inside a UUID or a long hexadecimal token (Kobo's
``_uuid``, ODK's ``instanceID``).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import PurePosixPath, PureWindowsPath

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

ID_TOKEN = "[ID NUMBER]"
PHONE_TOKEN = "[PHONE]"
EMAIL_TOKEN = "[EMAIL]"

# The patterns are written once and compiled twice: for Python's ``re`` (with the look-arounds that
# decide) and for Arrow's RE2 pre-filter (without them, and \p{Nd} for \d: a superset).
_SPACE = " \t\u00a0\u2007\u2009\u202f"  # literal characters, so both engines read the class alike
_SEP = rf"\)?[{_SPACE}.\-]{{0,2}}"  # between digit groups: an optional ")" then up to two separators
_NSN = (  # the nine national digits (no leading 0), in the groupings people write
    rf"(?:[1-8]\d{_SEP}\d{{3}}{_SEP}\d{{4}}"
    rf"|[1-8]\d{_SEP}\d{{3}}{_SEP}\d{{2}}{_SEP}\d{{2}}"
    rf"|[1-8]\d{{2}}{_SEP}\d{{3}}{_SEP}\d{{3}})"
)
_PHONE_CORE = (
    rf"(?:(?:\+|00)[{_SPACE}]?27[{_SPACE}.\-]{{0,2}}(?:\(0\)|0)?[{_SPACE}.\-]{{0,2}}\(?"  # +27 / 0027
    rf"|27[{_SPACE}\-]?"  # 27 without a plus: no dot after it (27.8255 is a longitude)
    r"|\(?0)" + _NSN  # national trunk 0, glued to the first group
)
_ID_CORE = r"(\d{6})[ \-]?(\d{4})[ \-]?(\d{3})"
_EMAIL_CORE = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"
# Not inside a longer number, and not the decimals of one ("-33.8001015009087").
_START = r"(?<!\d)(?<!\d\.)"

_EMAIL = re.compile(_EMAIL_CORE)
_SA_ID = re.compile(_START + _ID_CORE + r"(?!\d)(?!\.\d)")
_PHONE = re.compile(_START + _PHONE_CORE + r"(?!\d)")
# Identifiers made by machines hold digit runs by chance; they are never personal.
_MACHINE_TOKEN = re.compile(
    r"\b[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\b"
    r"|\b(?=[0-9A-Fa-f]*[A-Fa-f])[0-9A-Fa-f]{20,}\b"
)
_MEDIA_SUFFIX = re.compile(
    r"\.(?:jpe?g|png|gif|heic|heif|webp|bmp|tiff?|mp4|3gp|mov|avi|mkv|webm|m4a|amr|aac|wav|ogg|oga|opus|mp3)\b",
    re.IGNORECASE,
)
_MS_2010, _MS_2035 = 1_262_304_000_000, 2_051_222_400_000
# Cheap pre-filter, run in Arrow's regex engine (RE2) over whole columns: only values it matches go
# through the Python patterns. It is the same patterns with the start condition consumed instead of
# looked behind (RE2 has no look-behind) and ASCII digits; any non-ASCII text is a candidate too, so
# it matches everything the Python patterns match (whose \d is any script's digit). Coordinates,
# dates and most machine ids are not candidates, which keeps redacting every column cheap.
_CANDIDATE = r"@|[^\x00-\x7f]|(?:^\.?|[^0-9.]|[^0-9]\.)(?:" + f"{_ID_CORE}|{_PHONE_CORE})".replace(r"\d", "[0-9]")


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


def _real_date(yy: int, mm: int, dd: int) -> bool:
    for century in (1900, 2000):
        try:
            dt.date(century + yy, mm, dd)
        except ValueError:
            continue
        return True
    return False


def sa_id_valid(digits: str) -> bool:
    """True when 13 digits can be a South African ID number: a real birth date (YYMMDD), citizenship
    digit 0 (citizen), 1 (permanent resident) or 2 (refugee), and a valid Luhn check digit."""
    if len(digits) != 13 or not digits.isdigit():
        return False
    n = [int(ch) for ch in digits]
    return (
        _real_date(n[0] * 10 + n[1], n[2] * 10 + n[3], n[4] * 10 + n[5]) and n[10] in (0, 1, 2) and luhn_valid(digits)
    )


def _redact_id(match: re.Match) -> str:
    digits = "".join(match.groups())
    if not sa_id_valid(digits):
        return match.group(0)
    is_photo_name = _MEDIA_SUFFIX.match(match.string, match.end()) and _MS_2010 <= int(digits) < _MS_2035
    return match.group(0) if is_photo_name else ID_TOKEN


def _redact_numbers(text: str) -> str:
    text = _SA_ID.sub(_redact_id, text)
    return _PHONE.sub(PHONE_TOKEN, text)


def redact_text(text: str) -> str:
    """Redact SA ID numbers, phone numbers and e-mail addresses in one string (see the module docstring)."""
    text = _EMAIL.sub(EMAIL_TOKEN, text)
    if _MACHINE_TOKEN.search(text) is None:
        return _redact_numbers(text)
    parts = _MACHINE_TOKEN.split(text)
    machine = _MACHINE_TOKEN.findall(text)
    out = [_redact_numbers(parts[0])]
    for token, part in zip(machine, parts[1:], strict=True):
        out += [token, _redact_numbers(part)]
    return "".join(out)


def redact_file_name(name: str | None) -> str | None:
    """An uploaded file's name without its folders and with personal data redacted; the extension stays."""
    if name is None:
        return None
    base = PureWindowsPath(PurePosixPath(str(name)).name).name
    suffix = PurePosixPath(base).suffix
    if not re.fullmatch(r"\.[A-Za-z0-9]{1,5}", suffix):
        suffix = ""
    return redact_text(base[: len(base) - len(suffix)]) + suffix


def unknown_user_marker(typed: str) -> str:
    """What the audit log keeps for a login under a name with no account: how long the text was, never
    the text (it is often a password typed into the wrong field)."""
    return f"(unknown user: {len(typed)} characters)"


def redact_series(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Redact a text column; returns ``(redacted, changed)`` where ``changed`` flags altered rows."""
    arrow = pa.array(values.astype("string[pyarrow]"))
    found = pc.fill_null(pc.match_substring_regex(arrow, _CANDIDATE), False).to_numpy(zero_copy_only=False)
    candidates = pd.Series(found, index=values.index)
    changed = pd.Series(False, index=values.index)
    if not candidates.any():
        return values, changed
    original = values[candidates].astype(str)
    redacted = original.map(redact_text)
    diff = redacted != original
    if not diff.any():  # candidates are mostly ids and numbers with nothing to redact: keep the column as it is
        return values, changed
    changed.loc[diff[diff].index] = True
    out = values.copy()
    out.loc[diff[diff].index] = redacted[diff]
    return out, changed


def redact_frame(frame: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, pd.Series]:
    """Redact ``columns`` of ``frame``; returns the new frame and a per-row "something redacted" flag."""
    out = frame.copy()
    changed = pd.Series(False, index=frame.index)
    for column in columns:
        out[column], column_changed = redact_series(frame[column])
        changed |= column_changed
    return out, changed
