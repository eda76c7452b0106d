"""Which months count: when an area's data began, and whether its latest month is complete.

Place in the data flow: analyse. Every monthly series in the hotspot analytics and the ACT agenda
(the emerging hot spot cube, the agenda's count changes, the "did it work?" windows) asks this module
two questions before it reads a trend:

1. **When did the data begin?** :func:`first_data_month` is the first local month with any incident in
   the frame it is given. The recipe and the agenda give it every stored incident of the neighbourhood
   (all sources, all categories, all periods), so "data began" means *the first month in which the store
   holds any record for that neighbourhood*. A month before it has no data: it is missing, not zero,
   and a series starts there. A category with no incident in a month after the data began is a real
   zero (other incidents were being recorded). Batches are not used for this: a batch can be uploaded
   long after the months it holds, and its upload date says nothing about when its records begin.

2. **Is the month complete?** :func:`month_completeness` is the one function that decides. A month is
   *partial* when either

   a. **uploads**: a source that delivered incidents in the baseline months (below) or in the month
      itself has no live incident batch committed after the month ended (``batches.created_at`` against
      the first instant of the next local month). Its data cannot cover days that had not happened when
      it was uploaded. Sources are ``municipal`` and ``community``; a source whose batches are not in
      ``batches`` (hand-made frames) is not judged on uploads;
   b. **counts**: the month's count is improbably low against the months before it. With ``c``
      incidents in the month and ``b`` over the ``k`` baseline months (up to :data:`BASELINE_MONTHS`
      months before it, none before the data began), if the monthly rate had not changed then ``c``
      given ``c + b`` is Binomial(``c + b``, 1/(k+1)); ``p`` is the exact one-sided (low) binomial test,
      the conditional exact test for two Poisson counts that the agenda's count changes also use. The
      month is partial when ``p <= alpha`` (:data:`PARTIAL_ALPHA`, 1 %) *and* the count is at most
      :data:`PARTIAL_SHARE` (75 %) of the usual level. The second condition is there because real
      counts vary more than Poisson counts: in a busy neighbourhood a December at 85 % of the usual
      level is "significant" and still complete. With fewer than :data:`MIN_BASELINE_MONTHS` baseline
      months the count test is not made.

   A partial month is left out of trends and emerging classes unless the user includes it
   (``include_partial``); :meth:`MonthCompleteness.sentence` says so in words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from scipy import stats

from pipelines.hotspots._columns import OCCURRED_AT, SOURCE
from pipelines.periods import local_months, month_start, to_local
from pipelines.schemas import COLUMNS

#: Months before the one judged that make its usual level.
BASELINE_MONTHS = 6
#: Fewer baseline months than this (the data began recently): the count test is not made.
MIN_BASELINE_MONTHS = 3
#: One-sided level of the count test.
PARTIAL_ALPHA = 0.01
#: A month must also be at most this share of the usual level to be called partial on its count.
PARTIAL_SHARE = 0.75
#: How many months back from the last one :func:`complete_until` looks for a complete month.
MAX_PARTIAL_MONTHS = 3


@dataclass(frozen=True)
class MonthCompleteness:
    """Whether one local month's data look complete.

    Attributes
    ----------
    month : pandas.Period
    count : int
        Incidents in the month so far.
    usual : float or None
        Mean incidents a month over the baseline months (None when there are none).
    baseline_months : int
        Baseline months used (0 to :data:`BASELINE_MONTHS`; none before the data began).
    p : float or None
        One-sided exact test that the month is below the usual level (None: not tested).
    alpha : float
        Level of that test.
    late_sources : tuple of str
        Sources whose last upload was before the month ended.
    last_upload : dict
        Source -> last live incident batch (UTC timestamp) for the sources judged on uploads.
    """

    month: pd.Period
    count: int
    usual: float | None
    baseline_months: int
    p: float | None
    alpha: float
    late_sources: tuple[str, ...]
    last_upload: dict

    @property
    def low_count(self) -> bool:
        """The count test calls the month partial (``p <= alpha`` and at most 75 % of the usual level)."""
        return self.p is not None and self.p <= self.alpha and self.count <= PARTIAL_SHARE * (self.usual or 0)

    @property
    def partial(self) -> bool:
        """Left out of trends: a source had not delivered the month, or its count is improbably low."""
        return bool(self.late_sources) or self.low_count

    def sentence(self, *, included: bool = False, fmt: Callable[[object], str] | None = None) -> str | None:
        """What a reader is told about the month, or None when it looks complete.

        "October 2026 looks incomplete (41 reports so far against about 96 usually); it is left out of
        trends." plus, when a source had not uploaded since the month ended, "Community reports were last
        uploaded on 14 October 2026." ``fmt`` formats the count (the public rules show 1-4 as "<5").
        """
        if not self.partial:
            return None
        usual = "" if self.usual is None else f" against about {_about(self.usual)} usually"
        outcome = (
            "it is included in trends because you chose to include it, so the last month may read low."
            if included
            else "it is left out of trends."
        )
        count = f"{self.count:,}" if fmt is None else fmt(self.count)
        text = f"{self.month:%B %Y} looks incomplete ({count} reports so far{usual}); {outcome}"
        for source in self.late_sources:
            when = self.last_upload.get(source)
            name = _SOURCE_NAMES.get(source, f"{source} records").capitalize()
            if when is None:
                text += f" {name} have not been uploaded since it ended."
            else:
                day = to_local(when)
                text += f" {name} were last uploaded on {day.day} {day:%B %Y}."
        return text


def first_data_month(incidents: pd.DataFrame) -> pd.Period | None:
    """The first local month with any dated incident in ``incidents`` (None when there is none).

    Pass every incident of the area (all sources, categories and periods): see the module docstring.
    """
    if not len(incidents):
        return None
    first = local_months(incidents[OCCURRED_AT]).min()
    return None if pd.isna(first) else first


def baseline_months(incidents: pd.DataFrame, month: pd.Period, months: int) -> pd.PeriodIndex:
    """The up to ``months`` months before ``month`` that a count is compared with: those on or after the
    first month with data (:func:`first_data_month`; none when there is no data). The one rule for the
    agenda's count changes and the pages' KPI change."""
    before = pd.period_range(end=month - 1, periods=months, freq="M")
    first = first_data_month(incidents)
    return before[before >= first] if first is not None else before[:0]


def month_completeness(
    incidents: pd.DataFrame,
    month: pd.Period | str,
    *,
    batches: pd.DataFrame | None = None,
    baseline_months: int = BASELINE_MONTHS,
    alpha: float = PARTIAL_ALPHA,
) -> MonthCompleteness:
    """Decide whether ``month`` is complete (the rules are in the module docstring).

    Parameters
    ----------
    incidents : pandas.DataFrame
        Every incident of the area (``occurred_at``, ``source``), not only the month's.
    month : pandas.Period or "YYYY-MM"
    batches : pandas.DataFrame, optional
        The ``batches`` table (``kind``, ``source``, ``created_at``, ``withdrawn_at``); without it the
        month is judged on counts alone.
    baseline_months : int
        Months before ``month`` that make the usual level.
    alpha : float
        One-sided level of the count test.
    """
    month = pd.Period(month, freq="M")
    months = local_months(incidents[OCCURRED_AT]) if len(incidents) else pd.Series([], dtype="period[M]")
    first = months.min() if len(months) else None
    baseline = pd.period_range(end=month - 1, periods=baseline_months, freq="M")
    if first is not None and not pd.isna(first):
        baseline = baseline[baseline >= first]
    count = int((months == month).sum())
    base = int(months.isin(baseline).sum())
    k = len(baseline)
    usual = base / k if k else None
    p = None
    if k >= MIN_BASELINE_MONTHS and count + base > 0:
        p = float(stats.binomtest(count, count + base, 1.0 / (k + 1), alternative="less").pvalue)
    active = incidents[(months.isin(baseline) | (months == month)).to_numpy()] if len(incidents) else incidents
    sources = sorted(map(str, pd.unique(active[SOURCE].dropna()))) if len(active) else []
    last = _last_uploads(batches, sources)
    month_end = month_start(month + 1)
    late = tuple(s for s in sources if s in last and last[s] < month_end)
    return MonthCompleteness(month, count, usual, k, p, alpha, late, {s: last[s] for s in sources if s in last})


def complete_until(
    incidents: pd.DataFrame,
    until: pd.Period,
    *,
    batches: pd.DataFrame | None = None,
    include_partial: bool = False,
    **options,
) -> tuple[pd.Period, tuple[MonthCompleteness, ...]]:
    """The last month a trend may use, from ``until`` back, and the partial months met on the way.

    Starting at ``until``, each month that :func:`month_completeness` calls partial is stepped over (up
    to :data:`MAX_PARTIAL_MONTHS`, and never past the first month with data), unless ``include_partial``,
    when ``until`` is kept and the partial months are still returned so the reader can be told.
    ``options`` go to :func:`month_completeness`.
    """
    until = pd.Period(until, freq="M")
    first = first_data_month(incidents)
    partial: list[MonthCompleteness] = []
    month = until
    while len(partial) < MAX_PARTIAL_MONTHS and (first is None or month > first):
        judged = month_completeness(incidents, month, batches=batches, **options)
        if not judged.partial:
            break
        partial.append(judged)
        month -= 1
    if include_partial:
        return until, tuple(partial)
    return until - len(partial), tuple(partial)


# --------------------------------------------------------------------------------------------------
_SOURCE_NAMES = {"community": "community reports", "municipal": "municipal records"}


def _about(value: float) -> str:
    if value < 1:
        return "fewer than 1"
    return f"{value:,.0f}"


def _last_uploads(batches: pd.DataFrame | None, sources: list[str]) -> dict[str, pd.Timestamp]:
    """Per source, the commit time (UTC) of its last live incident batch."""
    if batches is None or not len(batches) or not sources:
        return {}
    live = batches
    if COLUMNS.kind in live.columns:
        live = live[live[COLUMNS.kind] == "incidents"]
    if COLUMNS.withdrawn_at in live.columns:
        live = live[live[COLUMNS.withdrawn_at].isna() | (live[COLUMNS.withdrawn_at].astype(str) == "")]
    created = pd.to_datetime(live[COLUMNS.created_at], utc=True, errors="coerce")
    out = {}
    for source in sources:
        mine = created[(live[SOURCE] == source).to_numpy()].dropna()
        if len(mine):
            out[source] = mine.max()
    return out


__all__ = [
    "BASELINE_MONTHS",
    "MIN_BASELINE_MONTHS",
    "PARTIAL_ALPHA",
    "PARTIAL_SHARE",
    "MonthCompleteness",
    "complete_until",
    "first_data_month",
    "month_completeness",
]
