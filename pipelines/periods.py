"""Local time, local months and financial years: the one place that says when something happened.

Place in the data flow: used from "store" to "show". Instants are stored in UTC, but people think in
local days and calendar months, and budgets in financial years. Every other module asks this one:

- the **local time zone** (``Settings.local_timezone``, read when called: :func:`local_zone`) and an
  instant's local wall-clock time (:func:`to_local`) and day (:func:`local_days`);
- an instant's **local month** (:func:`local_months`): an incident at 23:30 on 31 August in Cape Town
  happened in August although it is 21:30 UTC, and one at 00:30 on 1 April is April's although it is
  22:30 on 31 March in UTC;
- a month's **bounds as instants** (:func:`month_start`, :func:`month_bounds`, :func:`month_window`): each
  is midnight local time, in UTC, and a month is ``[start, end)``;
- a month written by a person (:func:`parse_month`, ``YYYY-MM``) and other times (:func:`to_utc`);
- **financial years** (:class:`FinancialYear`, :func:`financial_year_of`, :func:`parse_financial_year`):
  a municipality budgets from 1 July to 30 June (Municipal Finance Management Act), the provinces and the
  national government, and so SAPS's crime statistics, from 1 April to 31 March (Public Finance
  Management Act). 15 May 2026 is municipal 2025/26 but national 2026/27.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd

from pipelines import settings
from pipelines.errors import AreaSafeError
from pipelines.schemas import FUNDING_SPHERES

TimeLike = str | dt.date | dt.datetime | pd.Timestamp | pd.Period | None

_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
_FY_LABEL = re.compile(r"^\s*(?:FY\s*)?(\d{4})\s*[/\-]\s*(\d{2}|\d{4})\s*$", re.IGNORECASE)

#: First calendar month of each sphere's financial year.
FY_START_MONTH = {"municipal": 7, "provincial": 4, "national": 4}
if set(FY_START_MONTH) != set(FUNDING_SPHERES):  # the schema's vocabulary changed: decide again
    raise ImportError(f"FY_START_MONTH covers {sorted(FY_START_MONTH)}, FUNDING_SPHERES is {FUNDING_SPHERES}")


class BadMonthError(AreaSafeError):
    """A month argument is not ``YYYY-MM``."""


class FinancialYearError(AreaSafeError):
    """A financial year or funding sphere is not valid; the message shows the expected form."""


# --------------------------------------------------------------------------------------------------
# Local time
# --------------------------------------------------------------------------------------------------
def local_zone() -> str:
    """The local time zone (``Settings.local_timezone``, ``Africa/Johannesburg`` unless configured)."""
    return settings.SETTINGS.local_timezone


def to_local(when: pd.Series | TimeLike, *, timezone: str | None = None) -> pd.Series | pd.Timestamp:
    """UTC instants (a Series, or one timestamp) as local wall-clock time, time-zone aware.

    Naive values in a Series are read as UTC, as the store writes them; ``timezone`` overrides the local
    zone (a store counts months in the zone it recorded).
    """
    zone = timezone or local_zone()
    if isinstance(when, pd.Series):
        return pd.to_datetime(when, utc=True).dt.tz_convert(zone)
    return pd.Timestamp(when).tz_convert(zone)


def local_days(when: pd.Series) -> pd.Series:
    """The local calendar day (``datetime.date``) of each UTC instant."""
    return to_local(when).dt.date


def local_months(occurred_at: pd.Series, *, timezone: str | None = None) -> pd.Series:
    """The local calendar month (``pd.Period``) of each UTC instant (``NaT`` stays missing)."""
    return to_local(occurred_at, timezone=timezone).dt.tz_localize(None).dt.to_period("M")


def to_utc(value: TimeLike) -> pd.Timestamp | None:
    """A UTC timestamp for ``value``; naive values and months are read as local time."""
    if value is None:
        return None
    if isinstance(value, pd.Period):
        value = value.start_time
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize(local_zone())
    return ts.tz_convert("UTC")


# --------------------------------------------------------------------------------------------------
# Months
# --------------------------------------------------------------------------------------------------
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


def month_words(month: pd.Period | str) -> str:
    """A month as a person reads it in a heading or a choice: ``2026-10`` -> ``"October 2026"`` (the store,
    the URLs and the file names keep ``YYYY-MM``)."""
    return f"{pd.Period(month, freq='M'):%B %Y}"


def month_start(period: pd.Period) -> pd.Timestamp:
    """The first instant of a local calendar month, in UTC."""
    return to_utc(period.asfreq("M").start_time)


def month_bounds(month: pd.Period) -> tuple[dt.datetime, dt.datetime]:
    """UTC ``[start, end)`` of a local calendar month, for :class:`~pipelines.store.IncidentQuery`."""
    return month_start(month).to_pydatetime(), month_start(month + 1).to_pydatetime()


def month_span(first: pd.Period, last: pd.Period) -> int:
    """How many local months run from ``first`` to ``last``, both counted (2026-01 to 2026-03: 3)."""
    return (last - first).n + 1


def month_window(until: pd.Period, months: int) -> tuple[pd.Timestamp, pd.Timestamp, pd.PeriodIndex]:
    """``months`` whole local months ending with ``until``: (start UTC, end UTC exclusive, the months)."""
    if months < 1:
        raise AreaSafeError(f"--months must be at least 1; got {months}.")
    periods = pd.period_range(end=until, periods=months, freq="M")
    return month_start(periods[0]), month_start(periods[-1] + 1), periods


# --------------------------------------------------------------------------------------------------
# Financial years
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, order=True)
class FinancialYear:
    """One financial year of one sphere.

    Attributes
    ----------
    sphere : str
        ``municipal``, ``provincial`` or ``national``.
    first_year : int
        The calendar year it starts in: 2025 for "2025/26".
    """

    sphere: str
    first_year: int

    @property
    def label(self) -> str:
        """``2025/26``."""
        return f"{self.first_year}/{(self.first_year + 1) % 100:02d}"

    @property
    def start(self) -> dt.date:
        """First day (1 July for municipal, 1 April otherwise)."""
        return dt.date(self.first_year, FY_START_MONTH[self.sphere], 1)

    @property
    def end(self) -> dt.date:
        """Last day (30 June or 31 March of the next calendar year)."""
        return dt.date(self.first_year + 1, FY_START_MONTH[self.sphere], 1) - dt.timedelta(days=1)

    def contains(self, day: dt.date) -> bool:
        return self.start <= as_date(day) <= self.end

    def next(self) -> FinancialYear:
        return FinancialYear(self.sphere, self.first_year + 1)

    def __str__(self) -> str:
        return f"{self.sphere} {self.label} ({self.start:%d %b %Y} to {self.end:%d %b %Y})"


def check_sphere(sphere: str, *, argument: str = "funding_sphere") -> str:
    """``sphere`` lower-cased, or :class:`FinancialYearError` naming ``argument``."""
    value = str(sphere).strip().lower()
    if value not in FUNDING_SPHERES:
        raise FinancialYearError(
            f"{argument} must be one of {', '.join(FUNDING_SPHERES)} (whose budget pays); got {sphere!r}."
        )
    return value


def financial_year_of(day: dt.date | str | pd.Timestamp, sphere: str) -> FinancialYear:
    """The financial year of ``sphere`` that contains ``day``.

    >>> financial_year_of("2025-06-30", "municipal").label, financial_year_of("2025-07-01", "municipal").label
    ('2024/25', '2025/26')
    >>> financial_year_of("2025-03-31", "national").label, financial_year_of("2025-04-01", "national").label
    ('2024/25', '2025/26')
    """
    sphere = check_sphere(sphere)
    day = as_date(day)
    first = day.year if day.month >= FY_START_MONTH[sphere] else day.year - 1
    return FinancialYear(sphere, first)


def parse_financial_year(label: str, sphere: str, *, argument: str = "financial_year") -> FinancialYear:
    """Read ``2025/26`` (also ``2025/2026``, ``2025-26``, ``FY2025/26``) as a financial year of ``sphere``.

    Raises
    ------
    FinancialYearError
        The label is not two consecutive years, or the sphere is unknown.
    """
    sphere = check_sphere(sphere)
    match = _FY_LABEL.match(str(label))
    if match is not None:
        first, second = int(match.group(1)), int(match.group(2))
        expected = (first + 1) % 100 if second < 100 else first + 1
        if second == expected:
            return FinancialYear(sphere, first)
    raise FinancialYearError(
        f"{argument} must be two consecutive years written like 2025/26; got {label!r}. A {sphere} year "
        f"starts on 1 {dt.date(2000, FY_START_MONTH[sphere], 1):%B}."
    )


def as_date(value: object) -> dt.date:
    """A calendar day from a date, a datetime or ``YYYY-MM-DD`` text (:class:`FinancialYearError` if not)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError):
        raise FinancialYearError(f"expected a date written YYYY-MM-DD; got {value!r}.") from None
