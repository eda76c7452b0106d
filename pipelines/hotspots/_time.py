"""Time handling for the hotspot analytics: UTC instants in, local calendar months out.

Incidents are stored in UTC, but an ACT thinks in local months: an incident at 23:30 on 31 August in
Cape Town happened in August even though it is 21:30 UTC. Every month boundary here is midnight in
``Settings.local_timezone``.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from pipelines import settings
from pipelines.errors import AreaSafeError

_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")

TimeLike = str | dt.date | dt.datetime | pd.Timestamp | pd.Period | None


class BadMonthError(AreaSafeError):
    """A month argument is not ``YYYY-MM``."""


def parse_month(text: str, *, argument: str = "--until") -> pd.Period:
    """Parse ``YYYY-MM`` into a monthly period.

    Raises
    ------
    BadMonthError
        When ``text`` is not a valid year and month; the message names ``argument``.
    """
    match = _MONTH.match(str(text))
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise BadMonthError(f"{argument} must be a month written YYYY-MM, e.g. 2026-10; got {text!r}.")
    return pd.Period(year=int(match.group(1)), month=int(match.group(2)), freq="M")


def to_utc(value: TimeLike) -> pd.Timestamp | None:
    """A UTC timestamp for ``value``; naive values and months are read as local time."""
    if value is None:
        return None
    if isinstance(value, pd.Period):
        value = value.start_time
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize(settings.SETTINGS.local_timezone)
    return ts.tz_convert("UTC")


def month_start(period: pd.Period) -> pd.Timestamp:
    """The first instant of a local calendar month, in UTC."""
    return to_utc(period.asfreq("M").start_time)


def local_months(occurred_at: pd.Series) -> pd.Series:
    """The local calendar month of each UTC timestamp (``NaT`` stays missing)."""
    values = pd.to_datetime(occurred_at, utc=True)
    return values.dt.tz_convert(settings.SETTINGS.local_timezone).dt.tz_localize(None).dt.to_period("M")


def month_window(until: pd.Period, months: int) -> tuple[pd.Timestamp, pd.Timestamp, pd.PeriodIndex]:
    """``months`` whole local months ending with ``until``: (start UTC, end UTC exclusive, the months)."""
    if months < 1:
        raise AreaSafeError(f"--months must be at least 1; got {months}.")
    periods = pd.period_range(end=until, periods=months, freq="M")
    return month_start(periods[0]), month_start(periods[-1] + 1), periods
