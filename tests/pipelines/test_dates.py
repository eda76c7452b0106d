"""pipelines.dates: South African day-first dates, offsets, serials, and values that are not dates."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.dates import parse_dates

SAST = "Africa/Johannesburg"


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=SAST).tz_convert("UTC")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("03/04/2025 10:00", _utc("2025-04-03 10:00"), id="day-first-never-march-4"),
        pytest.param("3/4/2025 9:05", _utc("2025-04-03 09:05"), id="single-digits"),
        pytest.param("03.04.2025", _utc("2025-04-03 12:00"), id="dots-date-only-at-midday"),
        pytest.param("03-04-2025 1:05 PM", _utc("2025-04-03 13:05"), id="twelve-hour-clock"),
        pytest.param("03/04/2025 10:00:33", _utc("2025-04-03 10:00:33"), id="seconds"),
        pytest.param("29/02/2024", _utc("2024-02-29 12:00"), id="leap-day"),
        pytest.param("2018/12/01 12:25:00 AM", _utc("2018-12-01 00:25"), id="year-first-slashes"),
        pytest.param("2025-03-04T10:00+02:00", pd.Timestamp("2025-03-04 08:00", tz="UTC"), id="iso-offset"),
        pytest.param("45717", _utc("2025-03-01 12:00"), id="excel-serial"),
    ],
)
def test_dates_parse(value, expected):
    parsed, missing = parse_dates(pd.Series([value]))
    assert parsed.iloc[0] == expected
    assert not missing.iloc[0]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("31/02/2025 10:00", id="no-31-february"),
        pytest.param("29/02/2023", id="not-a-leap-year"),
        pytest.param("03/04/2025 25:00", id="hour-25"),
        pytest.param("2018/13/01", id="month-13"),
        pytest.param("03/04/2025 10:00 extra", id="trailing-text"),
        pytest.param("01/01/0001", id="year-1-day-first"),
        pytest.param("0001-01-01", id="year-1-iso"),
        pytest.param("4 March 0001", id="year-1-in-words"),
        pytest.param("31/12/9999 10:00", id="year-9999"),
        pytest.param("9999-12-31T10:00Z", id="year-9999-iso-offset"),
        pytest.param("15-Aug", id="no-year"),
    ],
)
def test_values_that_are_not_dates_are_invalid_not_errors(value):
    parsed, missing = parse_dates(pd.Series([value, "03/04/2025"]))
    assert pd.isna(parsed.iloc[0])
    assert not missing.iloc[0]  # "bad date", not "no date"
    assert parsed.iloc[1] == _utc("2025-04-03 12:00")  # the neighbour is unaffected


def test_empty_values_are_missing():
    parsed, missing = parse_dates(pd.Series(["", None, "  "]))
    assert parsed.isna().all()
    assert missing.tolist() == [True, True, True]


def test_timezone_reads_naive_values_as_given_zone():
    parsed, _ = parse_dates(
        pd.Series(["2025-03-04T10:00:00", "04/03/2025 10:00", "2025-03-04T10:00+02:00"]), timezone="UTC"
    )
    assert parsed.tolist() == [
        pd.Timestamp("2025-03-04 10:00", tz="UTC"),
        pd.Timestamp("2025-03-04 10:00", tz="UTC"),
        pd.Timestamp("2025-03-04 08:00", tz="UTC"),  # an explicit offset still wins
    ]


# --- the order of day and month, from the file's own evidence (issue 16) ---
import datetime as dt  # noqa: E402

import numpy as np  # noqa: E402

from pipelines.dates import DateFormat, date_format, resolve_date_format  # noqa: E402
from pipelines.errors import DateOrderError, MappingError  # noqa: E402

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def _parsed(values, **options) -> list[pd.Timestamp]:
    parsed, _ = parse_dates(pd.Series(values), now=NOW, **options)
    return parsed.tolist()


def test_a_second_number_over_12_makes_the_whole_column_month_first():
    assert _parsed(["10/25/2015 15:00", "03/04/2015"]) == [_utc("2015-10-25 15:00"), _utc("2015-03-04 12:00")]
    assert resolve_date_format(pd.Series(["10/25/2015", "03/04/2015"])) == DateFormat("mdy")


def test_a_first_number_over_12_makes_the_whole_column_day_first():
    assert _parsed(["25/10/2015", "03/04/2015"]) == [_utc("2015-10-25 12:00"), _utc("2015-04-03 12:00")]
    assert resolve_date_format(pd.Series(["25/10/2015", "03/04/2015"])) == DateFormat("dmy")


def test_when_every_date_reads_both_ways_it_is_day_first_and_marked_guessed():
    assert resolve_date_format(pd.Series(["03/04/2015", "05/06/2015"])) == DateFormat("dmy", guessed=True)
    assert _parsed(["03/04/2015"]) == [_utc("2015-04-03 12:00")]
    # the same day and month, ISO dates, or no dates at all leave nothing to guess
    for values in (["05/05/2015"], ["2015-03-04"], [""]):
        assert not resolve_date_format(pd.Series(values)).guessed


def test_a_column_that_proves_both_orders_is_refused_naming_rows_of_each():
    values = pd.Series(["25/10/2015", "10/25/2015", "2015-01-01", "13/01/2020", " 1/30/2020 10:00"])
    with pytest.raises(DateOrderError, match=r"rows 2 and 5 can only be day first.*rows 3 and 6 can only be month"):
        resolve_date_format(values, row_numbers=np.arange(2, 7), column="INCIDENT DATE")
    with pytest.raises(DateOrderError, match=r"'INCIDENT DATE'.*--date-format dmy.*--date-format mdy"):
        resolve_date_format(values, column="INCIDENT DATE")
    with pytest.raises(DateOrderError):
        parse_dates(values)  # "auto" by default: refused, not half read
    # a chosen order settles it: rows that do not fit are not dates
    assert [pd.isna(t) for t in _parsed(values, date_format="mdy")] == [True, False, False, True, False]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("10/25/15 15:00", _utc("2015-10-25 15:00"), id="ushahidi-month-first"),
        pytest.param("7/9/15 12:02", _utc("2015-07-09 12:02"), id="single-digits-read-month-first-with-the-rest"),
        pytest.param("1/30/99", _utc("1999-01-30 12:00"), id="99-is-last-century"),
        pytest.param("1/30/25", _utc("2025-01-30 12:00"), id="this-years-two-digits"),
        pytest.param("1/30/26", _utc("1926-01-30 12:00"), id="next-year-goes-back-a-century"),
        pytest.param("1/30/00T08:00", _utc("2000-01-30 08:00"), id="t-before-the-time"),
    ],
)
def test_two_digit_years_never_land_in_the_future(value, expected):
    values = [value, "12/31/2014"]  # the second value proves month first
    assert _parsed(values)[0] == expected


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        pytest.param("dmy", "03/04/2025", _utc("2025-04-03 12:00"), id="dmy"),
        pytest.param("mdy", "03/04/2025", _utc("2025-03-04 12:00"), id="mdy"),
        pytest.param("MM/DD/YYYY", "03/04/2025", _utc("2025-03-04 12:00"), id="as-people-write-it"),
        pytest.param("ymd", "25/03/04 10:00", _utc("2025-03-04 10:00"), id="ymd-two-digit-year"),
        pytest.param("ymd", "2025/03/04", _utc("2025-03-04 12:00"), id="ymd-four-digit-year"),
        pytest.param("mdy", "2025-03-04T10:00", _utc("2025-03-04 10:00"), id="iso-whatever-the-order"),
        pytest.param("mdy", "March 4 2025", _utc("2025-03-04 12:00"), id="words-month-first"),
        pytest.param("%m/%d/%y %H:%M", "10/25/15 15:00", _utc("2015-10-25 15:00"), id="pattern"),
        pytest.param("%d.%m.%y", "04.03.60", _utc("1960-03-04 12:00"), id="pattern-two-digit-year-not-2060"),
        pytest.param("%Y%m%d%H%M%z", "202503041000+0000", pd.Timestamp("2025-03-04 10:00", tz="UTC"), id="offset"),
    ],
)
def test_a_chosen_format_reads_every_value_that_way(spec, value, expected):
    assert _parsed([value], date_format=spec) == [expected]


@pytest.mark.parametrize(
    ("spec", "value"),
    [
        pytest.param("mdy", "25/10/2015", id="mdy-has-no-month-25"),
        pytest.param("ymd", "03/04/2025", id="ymd-year-last"),
        pytest.param("%m/%d/%y %H:%M", "2015-10-25 15:00", id="pattern-is-strict"),
    ],
)
def test_values_that_do_not_fit_a_chosen_format_are_not_dates(spec, value):
    assert pd.isna(_parsed([value], date_format=spec)[0])


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        pytest.param("%Q/%m", "not a pattern Python can read", id="bad-directive"),
        pytest.param("%H:%M", "has no year, month or day", id="no-date-in-it"),
        pytest.param("%d/%m", "has no year", id="no-year"),
        pytest.param("sometimes", "is not a date format; use auto, dmy", id="words"),
    ],
)
def test_a_format_that_is_not_one_says_how_to_write_it(spec, match):
    with pytest.raises(MappingError, match=match):
        date_format(spec)
