"""When simulated things happen: the days of the window and timestamps drawn from day and hour profiles.

Place in the data flow: used by ``incidents`` and ``survey``; the profiles themselves are in ``spec.yaml``
(``profiles``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .spec import Profiles


def window_days(start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """Every day from ``start`` to ``end`` inclusive."""
    return pd.date_range(start, end, freq="D")


def day_weights(days: pd.DatetimeIndex, week: np.ndarray, profiles: Profiles) -> np.ndarray:
    """Probability of each day: weekday factor x festive-season cycle x month-end payday spike."""
    cycle = 2 * np.pi * (days.day_of_year.to_numpy() - profiles.season_peak_doy) / 365.25
    season = 1 + profiles.season_amplitude * np.cos(cycle)
    payday = np.where((days.day >= 25) | (days.day == 1), profiles.payday_factor, 1.0)
    weights = week[days.day_of_week.to_numpy()] * season * payday
    return weights / weights.sum()


def sample_times(
    rng: np.random.Generator,
    days: pd.DatetimeIndex,
    week: np.ndarray,
    hours: np.ndarray,
    n: int,
    *,
    profiles: Profiles,
) -> pd.DatetimeIndex:
    """``n`` timestamps (minute resolution) drawn from the day and hour profiles."""
    day = rng.choice(len(days), size=n, p=day_weights(days, week, profiles))
    hour = rng.choice(24, size=n, p=hours / hours.sum())
    minute = rng.integers(0, 60, size=n)
    offsets = pd.to_timedelta(hour * 60 + minute, unit="min")
    return days[day] + offsets
