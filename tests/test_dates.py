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
