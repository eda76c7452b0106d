"""pipelines.periods: local time, local months, month bounds and financial years (their boundaries)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipelines import periods
from pipelines.periods import BadMonthError, FinancialYear, financial_year_of
from pipelines.store.base import count_months


def test_local_month_uses_johannesburg_time():
    # 22:30 UTC on 31 March is 00:30 on 1 April in Khayelitsha: the ACT counts it in April.
    at = pd.Series(pd.to_datetime(["2025-03-31T22:30:00Z", "2025-03-31T21:30:00Z"], utc=True))
    assert [str(p) for p in periods.local_months(at)] == ["2025-04", "2025-03"]
    assert periods.local_days(at).tolist() == [dt.date(2025, 4, 1), dt.date(2025, 3, 31)]


def test_missing_instants_have_no_month():
    at = pd.Series(pd.to_datetime(["2025-03-31T22:30:00Z", None], utc=True))
    assert periods.local_months(at).isna().tolist() == [False, True]


def test_month_bounds_are_local_midnights_in_utc():
    start, end = periods.month_bounds(pd.Period("2025-04", "M"))
    assert start == dt.datetime(2025, 3, 31, 22, tzinfo=dt.UTC)
    assert end == dt.datetime(2025, 4, 30, 22, tzinfo=dt.UTC)
    assert periods.month_start(pd.Period("2025-05", "M")) == pd.Timestamp(end)


def test_month_window_is_whole_local_months():
    start, end, months = periods.month_window(pd.Period("2026-10", "M"), 3)
    assert [str(m) for m in months] == ["2026-08", "2026-09", "2026-10"]
    assert (start, end) == (pd.Timestamp("2026-07-31T22:00Z"), pd.Timestamp("2026-10-31T22:00Z"))


@pytest.mark.parametrize(
    ("first", "last", "months"),
    [
        pytest.param("2026-10", "2026-10", 1, id="one-month"),
        pytest.param("2026-01", "2026-03", 3, id="both-ends-counted"),
        pytest.param("2025-11", "2026-10", 12, id="across-a-year"),
    ],
)
def test_a_period_of_months_counts_both_ends(first, last, months):
    """The months the map and the profile look for hot spots over: the sidebar's first to last, both counted."""
    assert periods.month_span(pd.Period(first, "M"), pd.Period(last, "M")) == months


def test_the_store_counts_months_by_the_same_rule():
    """The store's month summary (``count_months``) and the pages' months agree at the local midnight."""
    incidents = pd.DataFrame(
        {
            "occurred_at": pd.to_datetime(["2025-03-31T22:30:00Z", "2025-03-31T21:30:00Z"], utc=True),
            "neighbourhood_code": "N1",
            "category": "murder",
            "source": "municipal",
            "org": None,
        }
    )
    counted = count_months(incidents, timezone=periods.local_zone())
    assert sorted(str(m) for m in counted["month"]) == ["2025-03", "2025-04"]


@pytest.mark.parametrize(
    "text",
    [pytest.param("2026-13", id="month-13"), pytest.param("October", id="word"), pytest.param("2026/10", id="slash")],
)
def test_parse_month_refuses_what_is_not_a_month(text):
    with pytest.raises(BadMonthError, match=r"--month must be a month written YYYY-MM"):
        periods.parse_month(text, argument="--month")


@pytest.mark.parametrize(
    ("day", "sphere", "label"),
    [
        pytest.param("2025-06-30", "municipal", "2024/25", id="municipal-30-june"),
        pytest.param("2025-07-01", "municipal", "2025/26", id="municipal-1-july"),
        pytest.param("2025-03-31", "national", "2024/25", id="national-31-march"),
        pytest.param("2025-04-01", "national", "2025/26", id="national-1-april"),
        pytest.param("2026-05-15", "municipal", "2025/26", id="may-municipal"),
        pytest.param("2026-05-15", "national", "2026/27", id="may-national"),
    ],
)
def test_financial_year_boundaries(day, sphere, label):
    assert financial_year_of(day, sphere).label == label


def test_saps_years_are_national_years():
    """SAPS's counts files (April to March) are read with the national year of this module."""
    from pipelines.ingest.counts import period_bounds

    year = FinancialYear("national", 2015)
    assert period_bounds("2015/16") == (year.label, "2015-04-01", "2016-03-31")
    assert (year.start, year.end) == (dt.date(2015, 4, 1), dt.date(2016, 3, 31))
