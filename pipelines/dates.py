"""Date parsing for survey and police exports, South African conventions first.

Place in the data flow: ``validate`` calls :func:`parse_dates` on the mapped date column; the ingest
recipe first settles the column's :class:`DateFormat` for the whole file (:func:`resolve_date_format`).

Accepted forms, tried in this order on each distinct value:

- Excel serial day numbers (``45717`` or ``45717.75``), read in the 1900 date system;
- ISO 8601 (``2025-03-04``, ``2025-03-04T18:30``, with ``Z`` or ``+02:00`` offsets);
- year and month only (``2025-03``, the data.police.uk ``Month`` column): the first of the month;
- year first with slashes (``2018/12/01 12:25:00 AM``);
- numbers with ``/``, ``-`` or ``.`` (``03/04/2025``, ``10/25/15 15:00``), read in the column's order:
  day first (``dmy``) or month first (``mdy``), or year first (``ymd``, for two-digit years such as
  ``25/03/04``);
- anything else pandas can read (``4 March 2025``).

The order is the file's evidence (``date_format="auto"``): a first number over 12 can only be a day, a
second number over 12 can only be a day too, so the column is day first or month first. A column whose
values prove both is refused (:class:`DateOrderError`, naming rows of each); a column where every value
reads either way is read day first (the South African habit) and marked ``guessed``. A two-digit year is
this century unless that is after the current year, then the last (``10/25/15`` is 2015, ``1/2/99`` is 1999).
``date_format`` may also name the order (``dmy``, ``mdy``, ``ymd``, or as written: ``DD/MM/YYYY``) or give
a strptime pattern (``%m/%d/%y %H:%M``), which every value must then fit.

Values without an offset are local time (``Settings.local_timezone``); everything is returned in UTC.
A value with a date but no time is placed at local midday, so its calendar day and month are the
same in UTC as locally.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.errors import DateOrderError, MappingError
from pipelines.periods import local_zone

_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_ARROW_STR = "string[pyarrow]"
_MIDDAY = pd.Timedelta(hours=12)
_EARLIEST_HELD = pd.Timestamp.min.tz_localize("UTC") + pd.Timedelta(days=1)
_LATEST_HELD = pd.Timestamp.max.tz_localize("UTC") - pd.Timedelta(days=1)
HAS_TIME = r"\d:\d\d|^\d{5}\.\d"

_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")
# Patterns avoid \s (values are stripped; spaces are written as [ \t]) so that pandas matches them
# with Arrow's regex engine instead of falling back to Python's.
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?[ \t]*(Z|[+-]\d{2}:?\d{2})?$")
_YEAR_MONTH = re.compile(r"^\d{4}-\d{2}$")
_YEAR_FIRST = re.compile(r"^\d{4}/\d{1,2}/\d{1,2}")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(.*)$")
# Two-digit years, the time (if any) after a space or a T: ``10/25/15 15:00`` and, year first, ``25/03/04``.
_SHORT_YEAR_LAST = r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2})([ T].*)?$"
_SHORT_YEAR_FIRST = r"^(\d{2})[/.\-](\d{1,2})[/.\-](\d{1,2})([ T].*)?$"
# The first two numbers of a number/number/year date (year of 2 or 4 digits), for telling the order.
_ORDER_EVIDENCE = r"^(?P<a>\d{1,2})[/.\-](?P<b>\d{1,2})[/.\-](?:\d{4}|\d{2})(?:$|[^0-9])"
_YEAR_FIRST_FORMATS = ("%Y/%m/%d %I:%M:%S %p", "%Y/%m/%d %I:%M %p", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")
_DAY_FIRST_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y %I:%M:%S %p", "%d/%m/%Y %I:%M %p", "%d/%m/%Y")


#: The day/month orders ``date_format`` takes by name; anything else is a strptime pattern.
DATE_ORDERS = ("auto", "dmy", "mdy", "ymd")
_ORDER_WORDS = {"dmy": "day first (dd/mm/yyyy)", "mdy": "month first (mm/dd/yyyy)", "ymd": "year first (yyyy/mm/dd)"}


@dataclass(frozen=True)
class DateFormat:
    """How a column's dates are read.

    Attributes
    ----------
    order
        ``dmy``, ``mdy`` or ``ymd``: which of the numbers in ``03/04/2025`` is the day, the month and
        the year. ISO dates, Excel serials and dates in words are read whatever the order.
    pattern
        A strptime pattern every value must fit (``order`` is then not used).
    guessed
        The order was not given and no value showed it (each reads either way): read day first.
    """

    order: str = "dmy"
    pattern: str | None = None
    guessed: bool = False

    def describe(self) -> str:
        """The format in words, for messages (``month first (mm/dd/yyyy)``, ``the pattern '%d.%m.%y'``)."""
        return f"the pattern {self.pattern!r}" if self.pattern else _ORDER_WORDS[self.order]


def date_format(spec: str | DateFormat | None) -> DateFormat | None:
    """The :class:`DateFormat` a ``date_format`` option names, or ``None`` for ``auto`` (decided by the file).

    ``spec`` is ``auto``, ``dmy``, ``mdy``, ``ymd``, the order as people write it (``DD/MM/YYYY``,
    ``mm-dd-yy hh:mm``), or a strptime pattern (``%m/%d/%y %H:%M``). Raises :class:`MappingError`
    for anything else.
    """
    if spec is None or isinstance(spec, DateFormat):
        return spec
    text = str(spec).strip()
    if text.lower() in DATE_ORDERS:
        return None if text.lower() == "auto" else DateFormat(text.lower())
    if "%" in text:
        return DateFormat(pattern=_checked_pattern(text))
    letters = re.sub(r"[^dmy]", "", text.lower().split(" ")[0])
    if re.fullmatch(r"d+m+y+|m+d+y+|y+m+d+", letters or "-"):
        return DateFormat("".join(dict.fromkeys(letters)))
    raise MappingError(
        f"--date-format {text!r} is not a date format; use auto, dmy (day first), mdy (month first), ymd "
        "(year first), or a pattern such as '%m/%d/%y %H:%M' (%d day, %m month, %Y four-digit year, %y "
        "two-digit year, %H:%M time)."
    )


def _checked_pattern(pattern: str) -> str:
    """``pattern`` if it is a strptime pattern with a year, a month and a day; a :class:`MappingError` if not."""
    sample = dt.datetime(2025, 3, 4, 18, 30, 15, tzinfo=dt.UTC)
    try:
        dt.datetime.strptime(sample.strftime(pattern), pattern)
    except ValueError as exc:
        raise MappingError(
            f"--date-format {pattern!r} is not a pattern Python can read dates with ({exc}); write it with "
            "%d (day), %m (month), %Y or %y (year), %H:%M (time), e.g. '%m/%d/%y %H:%M'."
        ) from exc
    missing = [
        part
        for part, codes in (("year", "%Y %y"), ("month", "%m %b %B"), ("day", "%d %j"))
        if not any(code in pattern for code in codes.split())
    ]
    if missing:
        raise MappingError(
            f"--date-format {pattern!r} has no {_listed(missing, 'or')}; a date pattern needs %d (day), %m "
            "(month) and %Y or %y (year), e.g. '%d/%m/%Y %H:%M'."
        )
    return pattern


def resolve_date_format(
    values: pd.Series,
    spec: str | DateFormat | None = "auto",
    *,
    row_numbers: np.ndarray | pd.Series | None = None,
    column: str | None = None,
) -> DateFormat:
    """The format to read ``values`` with: ``spec`` when it names one, otherwise the file's evidence.

    With ``auto``, a value whose first number is over 12 (``25/10/2015``) shows the column is day first,
    one whose second number is over 12 (``10/25/2015``) that it is month first. Values that prove both
    raise :class:`DateOrderError` naming rows of each (``row_numbers``, default the position from 1);
    when none proves either, the column is read day first, ``guessed`` if any value reads both ways.
    Looks only at the first characters of each distinct value, so a million rows take ~0.03 s.
    """
    chosen = date_format(spec)
    if chosen is not None:
        return chosen
    heads = pc.utf8_slice_codeunits(pa.array(values.astype(_ARROW_STR)), 0, 12)
    distinct = pc.unique(heads)
    first, second = _first_two_numbers(pc.utf8_trim_whitespace(distinct))
    valid = (first >= 1) & (first <= 31) & (second >= 1) & (second <= 31)
    day_first = valid & (first > 12) & (second <= 12)
    month_first = valid & (second > 12) & (first <= 12)
    if day_first.any() and month_first.any():
        numbers = np.arange(1, len(values) + 1) if row_numbers is None else np.asarray(row_numbers)
        raise DateOrderError(_contradiction(heads, distinct, day_first, month_first, numbers, column))
    if month_first.any():
        return DateFormat("mdy")
    either_way = valid & (first <= 12) & (second <= 12) & (first != second)
    return DateFormat("dmy", guessed=bool(either_way.any()) and not day_first.any())


def _contradiction(
    heads: pa.Array,
    distinct: pa.Array,
    day_first: np.ndarray,
    month_first: np.ndarray,
    row_numbers: np.ndarray,
    column: str | None,
) -> str:
    """The refusal of a column whose dates prove both orders: a few rows of each, and what to do."""

    def rows(proof: np.ndarray) -> tuple[str, str]:
        hits = np.flatnonzero(pc.is_in(heads, value_set=distinct.filter(pa.array(proof))).to_numpy(False))
        shown = [str(n) for n in row_numbers[hits[:5]]] + ([f"{len(hits) - 5} more"] if len(hits) > 5 else [])
        shown = _listed(shown, "and")
        example = pc.utf8_trim_whitespace(heads[int(hits[0])]).as_py().split(" ")[0]
        return f"row{'s' if len(hits) > 1 else ''} {shown}", example

    (dmy_rows, dmy_example), (mdy_rows, mdy_example) = rows(day_first), rows(month_first)
    where = f"column {column!r}" if column else "the date column"
    return (
        f"The dates in {where} disagree about whether the day or the month comes first: {dmy_rows} can only "
        f"be day first (such as {dmy_example}), {mdy_rows} can only be month first (such as {mdy_example}). "
        "Say which the file uses with the date format option (--date-format dmy for day first, or "
        "--date-format mdy for month first); rows that do not fit it are then rejected, to fix and upload again."
    )


def _first_two_numbers(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The first and second number of each number/number/year date in ``text`` (0 where it is not one)."""
    parts = pc.extract_regex(text, _ORDER_EVIDENCE)
    first, second = (
        pc.fill_null(pc.cast(pc.if_else(parts.is_valid(), parts.field(i), None), pa.int64()), 0).to_numpy(
            zero_copy_only=False
        )
        for i in (0, 1)
    )
    return first, second


def _listed(items: list[str], word: str) -> str:
    """``a``, ``a and b``, ``a, b and c`` (or ``or``)."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def ambiguous_dates(values: pd.Series) -> np.ndarray:
    """True where a value is a number/number/year date that reads differently day first and month first."""
    first, second = _first_two_numbers(pc.utf8_trim_whitespace(pa.array(values.astype(_ARROW_STR))))
    return (first >= 1) & (first <= 12) & (second >= 1) & (second <= 12) & (first != second)


def _localise(ts: pd.Timestamp, zone: str | None = None) -> pd.Timestamp:
    if ts.tzinfo is None:
        return ts.tz_localize(zone or local_zone(), nonexistent="shift_forward", ambiguous="NaT").tz_convert("UTC")
    return ts.tz_convert("UTC")


def _try_formats(text: str, formats: tuple[str, ...]) -> pd.Timestamp | None:
    for fmt in formats:
        try:
            return pd.to_datetime(text, format=fmt)
        except (ValueError, TypeError):
            continue
    return None


def parse_one(text: str, zone: str | None = None, order: str = "dmy") -> pd.Timestamp | None:
    """Parse one date string to a UTC timestamp, or ``None`` when it is not a date.

    ``order`` (``dmy``, ``mdy`` or ``ymd``) says which number of ``03/04/2025`` is the day."""
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
            if order == "ymd":
                return None
            if order == "mdy":
                day, month = month, day
            ts = _try_formats(f"{day}/{month}/{year}{rest}", _DAY_FIRST_FORMATS)
            return None if ts is None else _localise(ts, zone)
        years = re.findall(r"(?<!\d)\d{4}(?!\d)", text)
        if not re.search(r"[A-Za-z]{3}", text) or not years:
            return None  # bare numbers, and dates without a year ("15-Aug"), are not dates
        parsed = pd.to_datetime(text, dayfirst=order != "mdy")
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


def _parse_uniques(uniques: pd.Series, zone: str, fmt: DateFormat, this_year: int) -> pd.Series:
    """Vectorised parsing of distinct values; the per-value :func:`parse_one` handles the rest."""
    out = pd.Series(pd.NaT, index=uniques.index, dtype="datetime64[ns, UTC]")
    todo = uniques.ne("")

    def fill(mask: pd.Series, parsed: pd.Series) -> None:
        # Years such as 0001 or 9999 parse, but cannot be held with nanoseconds: they stay invalid.
        ok = mask & parsed.notna() & (parsed >= _EARLIEST_HELD) & (parsed <= _LATEST_HELD)
        out.loc[ok] = parsed[ok].astype(out.dtype)
        todo.loc[ok] = False

    if fmt.pattern:
        _parse_pattern(uniques, todo, fmt.pattern, zone, this_year, fill)
        return out if re.search("%[HIcX]", fmt.pattern) else out + _MIDDAY
    iso = todo & uniques.str.match(_ISO.pattern)
    if iso.any():
        offset = iso & uniques.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})[ \t]*$", regex=True)
        if offset.any():
            fill(offset, pd.to_datetime(uniques.where(offset), format="ISO8601", utc=True, errors="coerce"))
        naive = iso & ~offset
        if naive.any():
            fill(naive, _localise_index(pd.to_datetime(uniques.where(naive), format="ISO8601", errors="coerce"), zone))
    groups = [(_YEAR_FIRST.pattern, _YEAR_FIRST_FORMATS, None, (1, 2, 3))]
    if fmt.order != "ymd":
        # Month-first values are rewritten day first, so both orders use the day-first formats.
        template = r"\2/\1/\3" if fmt.order == "mdy" else r"\1/\2/\3"
        groups.append((_DAY_FIRST.pattern, _DAY_FIRST_FORMATS, template, (3, 2, 1)))
    for pattern, formats, template, ymd in groups:
        group = todo & uniques.str.match(pattern)
        if not group.any():
            continue
        text = uniques.where(group)
        if template:
            text = text.str.replace(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})", template, regex=True)
        _fill_formats(text, group, todo, formats, ymd, zone, fill)
    short = _short_years(uniques, todo, fmt.order, this_year)
    if short is not None:
        _fill_formats(short, short.notna(), todo, _DAY_FIRST_FORMATS, (3, 2, 1), zone, fill)
    serial = todo & uniques.str.match(_SERIAL.pattern)
    if serial.any():
        days = pd.to_timedelta(pd.to_numeric(uniques.where(serial), errors="coerce"), unit="D")
        fill(serial, _localise_index(pd.Series(_EXCEL_EPOCH + days, index=uniques.index), zone))
    for i in np.flatnonzero(todo.to_numpy(dtype=bool)):
        parsed = parse_one(str(uniques.iat[i]), zone, fmt.order)
        if parsed is not None and _EARLIEST_HELD <= parsed <= _LATEST_HELD:
            out.iat[i] = parsed
    return _at_midday(uniques, out)


def _fill_formats(text: pd.Series, group: pd.Series, todo: pd.Series, formats, ymd, zone: str, fill) -> None:
    """Parse the ``group`` values of ``text`` with the first of ``formats`` each fits."""
    calendar = _calendar_fields(text, ymd)
    for fmt in formats:
        remaining = group & todo
        if not remaining.any():
            break
        fill(remaining, _localise_index(_strptime(text.where(remaining), fmt, calendar), zone))


def _short_years(uniques: pd.Series, todo: pd.Series, order: str, this_year: int) -> pd.Series | None:
    """Values still unread with a two-digit year, rewritten ``day/month/yyyy [time]`` (else missing).

    ``yy`` is 20yy unless that is after this year, then 19yy: a two-digit year never lands in the future.
    """
    rest = np.flatnonzero(todo.to_numpy(dtype=bool))
    if not len(rest):
        return None
    fields = uniques.iloc[rest].str.extract(_SHORT_YEAR_FIRST if order == "ymd" else _SHORT_YEAR_LAST)
    fields = fields[fields[0].notna()]
    if fields.empty:
        return None
    year, month, day = {"ymd": (0, 1, 2), "mdy": (2, 0, 1)}.get(order, (2, 1, 0))
    two_digits = fields[year].astype("int64")
    century = np.where(2000 + two_digits > this_year, 1900, 2000)
    time = fields[3].fillna("").str.replace(r"^T", " ", regex=True)
    text = pd.Series(pd.NA, index=uniques.index, dtype=_ARROW_STR)
    text.loc[fields.index] = (
        fields[day] + "/" + fields[month] + "/" + (century + two_digits).astype(str) + time
    ).astype(_ARROW_STR)
    return text


def _parse_pattern(uniques: pd.Series, todo: pd.Series, pattern: str, zone: str, this_year: int, fill) -> None:
    """Every value read with one strptime ``pattern`` (a value that does not fit it is not a date)."""
    offset = "%z" in pattern or "%Z" in pattern
    parsed = pd.to_datetime(uniques.where(todo).astype(object), format=pattern, errors="coerce", utc=offset)
    if not offset:
        parsed = _localise_index(parsed, zone)
    if "%y" in pattern:  # Python reads 00-68 as 20xx: a two-digit year never lands after this year
        future = (parsed.dt.year > this_year).fillna(False)
        parsed = parsed.where(~future, parsed - pd.DateOffset(years=100))
    fill(todo, parsed)


def _at_midday(uniques: pd.Series, out: pd.Series) -> pd.Series:
    """A date without a time means "some time that day": placed at local midday, so the calendar day
    (and month) survives the conversion to UTC in every time zone."""
    date_only = ~uniques.str.contains(HAS_TIME, regex=True).fillna(False).astype(bool)
    out.loc[date_only] = out.loc[date_only] + _MIDDAY
    return out


def parse_dates(
    values: pd.Series,
    *,
    timezone: str | None = None,
    date_format: str | DateFormat = "auto",
    now: dt.datetime | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Parse a column of date strings.

    Values without an offset are read in ``timezone`` (default ``Settings.local_timezone``); pass
    ``"UTC"`` for server timestamps such as Kobo's ``_submission_time``. ``date_format`` is ``auto``
    (the column's own evidence, :func:`resolve_date_format`, which raises :class:`DateOrderError` when
    its values prove both orders), ``dmy``, ``mdy``, ``ymd``, a strptime pattern, or a
    :class:`DateFormat` already resolved for the whole file. ``now`` (default: the clock) decides the
    century of two-digit years.

    Each distinct value is parsed once, and the common forms are parsed vectorised, so a million
    rows take well under a second.

    Returns
    -------
    (parsed, missing)
        ``parsed`` is ``datetime64[ns, UTC]`` with ``NaT`` where the value was empty or not a date;
        ``missing`` is True where the value was empty, so callers can tell "no date" from "bad date".
    """
    fmt = date_format if isinstance(date_format, DateFormat) else resolve_date_format(values, date_format)
    this_year = (now or dt.datetime.now(dt.UTC)).year
    text = values.astype(_ARROW_STR).fillna("").str.strip()
    missing = text.eq("").to_numpy(dtype=bool)
    codes, uniques = pd.factorize(text, sort=False)
    zone = timezone or local_zone()
    parsed_uniques = _parse_uniques(pd.Series(uniques, dtype=_ARROW_STR), zone, fmt, this_year)
    parsed = pd.Series(parsed_uniques.array.take(codes), index=values.index)
    return parsed, pd.Series(missing, index=values.index)
