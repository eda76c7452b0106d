"""Did the count change? The one rule every page, the agenda and the pack use to read a month's count.

A month's count ``c`` is compared with the ``b`` incidents of the ``k`` months before it. If the monthly
rate had not changed, ``c`` given ``c + b`` is Binomial(``c + b``, 1/(k+1)); ``p`` is the exact two-sided
binomial test (the conditional test for two Poisson counts). Readings, in the words people see:

- ``too few reports to tell``: fewer than ``SMALL_NUMBER`` (10) both this month and in the average month
  before. Counts that small swing by chance: 4 after 2 is "double" and means nothing. They are not tested.
- ``up`` / ``down``: ``p`` is significant (after Benjamini-Hochberg over the counts read together, false
  discovery rate ``alpha``).
- ``too few reports to tell`` also when not significant and even a doubling would often have been
  missed: the test's power to see a doubling is below ``MIN_POWER`` (80%). With about 10 a month against
  the 3 months before, a doubling is caught only about 6 times in 10.
- ``no clear change``: not significant, with enough reports that a doubling would have been seen.

Only ``up`` and ``down`` are coloured; the other two are grey, because they are not findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from pipelines.hotspots._inference import bh_threshold

UP, DOWN, NO_CLEAR_CHANGE, TOO_FEW = "up", "down", "no clear change", "too few reports to tell"
READINGS = (UP, DOWN, NO_CLEAR_CHANGE, TOO_FEW)
MIN_POWER = 0.8
#: Fewer than this both this month and in the average month before: too few to test.
SMALL_NUMBER = 10
#: Months before the one shown that a count is compared with, on every page and in the agenda.
BASELINE_MONTHS = 3
ALPHA = 0.05
#: What each reading means, for the "what this means" line beside it.
MEANINGS = {
    UP: "More reports than in the months before, by more than chance would explain.",
    DOWN: "Fewer reports than in the months before, by more than chance would explain.",
    NO_CLEAR_CHANGE: "The count moved no more than it does by chance from month to month.",
    TOO_FEW: "There are too few reports to tell a real change from chance; even a doubling could be missed.",
}


@dataclass(frozen=True)
class Change:
    """One count read against the months before it."""

    this: int
    baseline_mean: float
    p: float
    power: float  # chance that a doubling would have been seen at this level of reports
    reading: str

    @property
    def coloured(self) -> bool:
        return self.reading in (UP, DOWN)

    def words(self, before: str = "the months before") -> str:
        """``"Up on the months before"``, ``"No clear change"``, ``"Too few reports to tell"``."""
        if self.reading == UP:
            return f"Up on {before}"
        if self.reading == DOWN:
            return f"Down on {before}"
        return self.reading.capitalize()


def _stats():
    """``scipy.stats``, imported when a count is first read: the import takes about 0.4 s, which every
    upload would pay otherwise (the privacy rules read this module's constants)."""
    from scipy import stats

    return stats


def _two_sided_p(c: np.ndarray, n: int, q: float) -> np.ndarray:
    """Exact two-sided binomial p-values of every count in ``c`` out of ``n`` (scipy's "minlike" rule)."""
    pmf = _stats().binom.pmf(np.arange(n + 1), n, q)
    order = np.sort(pmf)
    cumulative = np.cumsum(order)
    at = np.searchsorted(order, pmf[c] * (1 + 1e-7), side="right") - 1
    return np.minimum(1.0, cumulative[at])


@lru_cache(maxsize=4096)
def power_to_see_doubling(baseline_mean: float, baseline_months: int, alpha: float = ALPHA) -> float:
    """The chance that the exact test finds a doubling of a monthly rate of ``baseline_mean``, compared with
    ``baseline_months`` months before (one test at level ``alpha``)."""
    m, k = float(baseline_mean), int(baseline_months)
    if m <= 0:
        return 0.0
    q0, q1 = 1 / (k + 1), 2 / (k + 2)  # share of this month under no change / under a doubling
    total = (k + 2) * m  # expected c + b under a doubling
    n_max = int(total + 8 * np.sqrt(total) + 20)
    power = 0.0
    p_n = _stats().poisson.pmf(np.arange(n_max + 1), total)
    for n in range(1, n_max + 1):
        if p_n[n] < 1e-12:
            continue
        c = np.arange(n + 1)
        reject = _two_sided_p(c, n, q0) <= alpha
        power += p_n[n] * _stats().binom.pmf(c[reject], n, q1).sum()
    return float(min(1.0, power))


def read_changes(
    this: np.ndarray, baseline_total: np.ndarray, baseline_months: int, *, alpha: float = ALPHA
) -> list[Change]:
    """Read each count in ``this`` against its ``baseline_total`` over ``baseline_months`` months.

    Several counts read together (the categories of one month) share one Benjamini-Hochberg threshold.
    """
    this = np.asarray(this, dtype=np.int64)
    base = np.asarray(baseline_total, dtype=np.int64)
    q = 1 / (baseline_months + 1)
    p = np.array(
        [
            _stats().binomtest(int(c), int(c + b), q).pvalue if c + b > 0 else np.nan
            for c, b in zip(this, base, strict=True)
        ]
    )
    tested = np.maximum(this, base / baseline_months) >= SMALL_NUMBER
    critical = bh_threshold(np.where(tested, p, np.nan), alpha)
    out = []
    for c, b, pv, test in zip(this, base, p, tested, strict=True):
        mean = b / baseline_months
        power = power_to_see_doubling(round(mean, 1), baseline_months, alpha)
        if test and np.isfinite(pv) and pv <= critical:
            reading = UP if c > mean else DOWN
        elif power < MIN_POWER:
            reading = TOO_FEW
        else:
            reading = NO_CLEAR_CHANGE
        out.append(Change(int(c), float(mean), float(pv), power, reading))
    return out


def read_change(this: int, baseline_total: int, baseline_months: int, *, alpha: float = ALPHA) -> Change:
    """One count read against the ``baseline_months`` before it (no adjustment for other tests)."""
    return read_changes(np.array([this]), np.array([baseline_total]), baseline_months, alpha=alpha)[0]
