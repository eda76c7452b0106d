"""Date parsing for survey and police exports, South African conventions first.

Place in the data flow: ``validate`` calls :func:`parse_dates` on the mapped date column.

Accepted forms, tried in this order on each distinct value:

- Excel serial day numbers (``45717`` or ``45717.75``), read in the 1900 date system;
- ISO 8601 (``2025-03-04``, ``2025-03-04T18:30``, with ``Z`` or ``+02:00`` offsets);
- year and month only (``2025-03``, the data.police.uk ``Month`` column): the first of the month;
- year first with slashes (``2018/12/01 12:25:00 AM``);
- day first (``03/04/2025`` is 3 April 2025, never March 4th), with ``/``, ``-`` or ``.``;
- anything else pandas can read with ``dayfirst=True`` (``4 March 2025``).

Values without an offset are local time (``Settings.local_timezone``); everything is returned in UTC.
A value with a date but no time is placed at local midday, so its calendar day and month are the
same in UTC as locally.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.settings import SETTINGS

_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_ARROW_STR = "string[pyarrow]"
_MIDDAY = pd.Timedelta(hours=12)
_EARLIEST_HELD = pd.Timestamp.min.tz_localize("UTC") + pd.Timedelta(days=1)
_LATEST_HELD = pd.Timestamp.max.tz_localize("UTC") - pd.Timedelta(days=1)
_HAS_TIME = r"\d:\d\d|^\d{5}\.\d"

_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")
# Patterns avoid \s (values are stripped; spaces are written as [ \t]) so that pandas matches them
# with Arrow's regex engine instead of falling back to Python's.
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?[ \t]*(Z|[+-]\d{2}:?\d{2})?$")
_YEAR_MONTH = re.compile(r"^\d{4}-\d{2}$")
_YEAR_FIRST = re.compile(r"^\d{4}/\d{1,2}/\d{1,2}")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(.*)$")
_YEAR_FIRST_FORMATS = ("%Y/%m/%d %I:%M:%S %p", "%Y/%m/%d %I:%M %p", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")
_DAY_FIRST_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y %I:%M:%S %p", "%d/%m/%Y %I:%M %p", "%d/%m/%Y")


def _localise(ts: pd.Timestamp, zone: str | None = None) -> pd.Timestamp:
    if ts.tzinfo is None:
        return ts.tz_localize(zone or SETTINGS.local_timezone, nonexistent="shift_forward", ambiguous="NaT").tz_convert(
            "UTC"
        )
    return ts.tz_convert("UTC")


def _try_formats(text: str, formats: tuple[str, ...]) -> pd.Timestamp | None:
    for fmt in formats:
        try:
            return pd.to_datetime(text, format=fmt)
        except (ValueError, TypeError):
            continue
    return None


def parse_one(text: str, zone: str | None = None) -> pd.Timestamp | None:
    """Parse one date string to a UTC timestamp, or ``None`` when it is not a date."""
    text = text.strip()
    if not text:
        return None
    try:
        if _SERIAL.match(text):
            return _localise(_EXCEL_EPOCH + pd.to_timedelta(float(text), unit="D"), zone)
        if _ISO.match(text):
            return _localise(pd.Timestamp(text.replace(" ", "T", 1) if "T" not in text else text), zone)
        if _YEAR_MONTH.match(text):
            return _localise(pd.Timestamp(f"{text}-01"), zone)
        if _YEAR_FIRST.match(text):
            ts = _try_formats(text, _YEAR_FIRST_FORMATS)
            return None if ts is None else _localise(ts, zone)
        day_first = _DAY_FIRST.match(text)
        if day_first:
            day, month, year, rest = day_first.groups()
            ts = _try_formats(f"{day}/{month}/{year}{rest}", _DAY_FIRST_FORMATS)
            return None if ts is None else _localise(ts, zone)
        years = re.findall(r"(?<!\d)\d{4}(?!\d)", text)
        if not re.search(r"[A-Za-z]{3}", text) or not years:
            return None  # bare numbers, and dates without a year ("15-Aug"), are not dates
        parsed = pd.to_datetime(text, dayfirst=True)
        if f"{parsed.year:04d}" not in years:
            return None  # the parser read a year that is not written ("4 March 0001" as 2001)
        return _localise(parsed, zone)
    except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return None


def _localise_index(values: pd.Series, zone: str) -> pd.Series:
    return values.dt.tz_localize(zone, nonexistent="shift_forward", ambiguous="NaT").dt.tz_convert("UTC")


def _calendar_fields(text: pd.Series, ymd: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day as written at the start of ``text`` (``ymd``: their positions in a
    ``number/number/number`` prefix), -1 where absent."""
    values = pa.array(text.astype(_ARROW_STR))  # via __arrow_array__: no copy
    parts = pc.extract_regex(values, r"^(?P<a>\d{1,4})/(?P<b>\d{1,4})/(?P<c>\d{1,4})")
    matched = parts.is_valid()  # the fields of an unmatched row are "", not null
    return tuple(
        pc.fill_null(pc.cast(pc.if_else(matched, parts.field(i - 1), None), pa.int64()), -1).to_numpy(
            zero_copy_only=False
        )
        for i in ymd
    )


def _strptime(text: pd.Series, fmt: str, calendar: tuple[np.ndarray, np.ndarray, np.ndarray]) -> pd.Series:
    """``pd.to_datetime(text, format=fmt, errors="coerce")`` in Arrow's C++ parser (about 10x faster).

    Arrow rolls impossible dates over (31/02 becomes 3 March) where pandas refuses them, so a result
    whose year, month or day differs from the ``calendar`` fields written in the text is dropped.
    """
    values = pa.array(text.astype(_ARROW_STR)).cast(pa.large_string())
    parsed = pc.strptime(values, format=fmt, unit="s", error_is_null=True)
    year, month, day = calendar
    same = (
        (pc.year(parsed).to_numpy(zero_copy_only=False) == year)
        & (pc.month(parsed).to_numpy(zero_copy_only=False) == month)
        & (pc.day(parsed).to_numpy(zero_copy_only=False) == day)
        & (year > 1677)  # the nanosecond range pandas can hold; later checks reject such dates anyway
        & (year < 2262)
    )
    seconds = parsed.to_numpy(zero_copy_only=False).astype("datetime64[s]")
    seconds[~same] = np.datetime64("NaT")
    return pd.Series(seconds.astype("datetime64[ns]"), index=text.index)


def _parse_uniques(uniques: pd.Series, zone: str) -> pd.Series:
    """Vectorised parsing of distinct values; the per-value :func:`parse_one` handles the rest."""
    out = pd.Series(pd.NaT, index=uniques.index, dtype="datetime64[ns, UTC]")
    todo = uniques.ne("")

    def fill(mask: pd.Series, parsed: pd.Series) -> None:
        # Years such as 0001 or 9999 parse, but cannot be held with nanoseconds: they stay invalid.
        ok = mask & parsed.notna() & (parsed >= _EARLIEST_HELD) & (parsed <= _LATEST_HELD)
        out.loc[ok] = parsed[ok].astype(out.dtype)
        todo.loc[ok] = False

    iso = todo & uniques.str.match(_ISO.pattern)
    if iso.any():
        offset = iso & uniques.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})[ \t]*$", regex=True)
        if offset.any():
            fill(offset, pd.to_datetime(uniques.where(offset), format="ISO8601", utc=True, errors="coerce"))
        naive = iso & ~offset
        if naive.any():
            fill(naive, _localise_index(pd.to_datetime(uniques.where(naive), format="ISO8601", errors="coerce"), zone))
    for pattern, formats, normalise, ymd in (
        (_YEAR_FIRST.pattern, _YEAR_FIRST_FORMATS, None, (1, 2, 3)),
        (_DAY_FIRST.pattern, _DAY_FIRST_FORMATS, r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})", (3, 2, 1)),
    ):
        group = todo & uniques.str.match(pattern)
        if not group.any():
            continue
        text = uniques.where(group)
        if normalise:
            text = text.str.replace(normalise, r"\1/\2/\3", regex=True)
        calendar = _calendar_fields(text, ymd)
        for fmt in formats:
            remaining = group & todo
            if not remaining.any():
                break
            fill(remaining, _localise_index(_strptime(text.where(remaining), fmt, calendar), zone))
    serial = todo & uniques.str.match(_SERIAL.pattern)
    if serial.any():
        days = pd.to_timedelta(pd.to_numeric(uniques.where(serial), errors="coerce"), unit="D")
        fill(serial, _localise_index(pd.Series(_EXCEL_EPOCH + days, index=uniques.index), zone))
    for i in np.flatnonzero(todo.to_numpy(dtype=bool)):
        parsed = parse_one(str(uniques.iat[i]), zone)
        if parsed is not None and _EARLIEST_HELD <= parsed <= _LATEST_HELD:
            out.iat[i] = parsed
    # A date without a time means "some time that day": place it at local midday, so the calendar
    # day (and month) survives the conversion to UTC in every time zone.
    date_only = ~uniques.str.contains(_HAS_TIME, regex=True).fillna(False).astype(bool)
    out.loc[date_only] = out.loc[date_only] + _MIDDAY
    return out


def parse_dates(values: pd.Series, *, timezone: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Parse a column of date strings.

    Values without an offset are read in ``timezone`` (default ``Settings.local_timezone``); pass
    ``"UTC"`` for server timestamps such as Kobo's ``_submission_time``.

    Each distinct value is parsed once, and the common forms are parsed vectorised, so a million
    rows take well under a second.

    Returns
    -------
    (parsed, missing)
        ``parsed`` is ``datetime64[ns, UTC]`` with ``NaT`` where the value was empty or not a date;
        ``missing`` is True where the value was empty, so callers can tell "no date" from "bad date".
    """
    text = values.astype(_ARROW_STR).fillna("").str.strip()
    missing = text.eq("").to_numpy(dtype=bool)
    codes, uniques = pd.factorize(text, sort=False)
    parsed_uniques = _parse_uniques(pd.Series(uniques, dtype=_ARROW_STR), timezone or SETTINGS.local_timezone)
    parsed = pd.Series(parsed_uniques.array.take(codes), index=values.index)
    return parsed, pd.Series(missing, index=values.index)
