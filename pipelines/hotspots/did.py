"""Did it work? The difference-in-differences estimate behind every intervention verdict, from counts.

Place in the data flow: analyse. :func:`did_estimate` takes the counts near an intervention before and
after its start and those of comparison places, and returns a :class:`DidEstimate` with its verdict in
words ("fewer", "more", "no clear change" or "too few reports to tell"); :func:`matched_places` chooses
the comparison places. :mod:`.effect` counts incidents around one intervention and calls both (arrays
in, a result out, as :func:`~pipelines.hotspots.gistar.gi_star` is to
:func:`~pipelines.hotspots.gistar.hot_spots`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse, stats

from pipelines.hotspots.gistar import HotspotInputError
from pipelines.plural import counted

#: The verdicts, in words an ACT member reads.
VERDICTS = ("fewer", "more", "no clear change", "too few reports to tell")
_NUMBERS = (
    "ratio",
    "ratio_low",
    "ratio_high",
    "expected_after",
    "difference",
    "difference_low",
    "difference_high",
    "dispersion",
    "tau2",
)
#: The estimate's figures that a table of interventions carries (:func:`~pipelines.hotspots.effect.intervention_effects`).
ESTIMATE_FIELDS = (
    "treated_before",
    "treated_after",
    "control_before",
    "control_after",
    "places",
    "dispersion",
    "ratio",
    "ratio_low",
    "ratio_high",
    "expected_after",
    "difference",
    "difference_low",
    "difference_high",
)
#: Fewest reports near an intervention before it started that give an effect verdict (not the
#: privacy threshold, ``Settings.min_published_count``).
MIN_REPORTS_BEFORE = 10
#: Comparison places matched to an intervention's area, and the fewest that give a verdict.
PLACES = 20
MIN_PLACES = 8


@dataclass(frozen=True)
class DidEstimate:
    """Before/after change near an intervention against similar places without one.

    Method (a difference-in-differences of log counts with a placebo-based variance). With ``Tb``, ``Ta``
    the incidents near the intervention before and after its start, and ``b_p``, ``a_p`` those of each
    comparison *place* ``p`` (an area shaped like the intervention's, around a grid cell with no
    intervention nearby, chosen by matching its before-count to ``Tb``):

    - each place's log change ``d_p = log(a_p/b_p)`` (0.5 added to both when either is 0) has Poisson
      variance ``v_p = 1/a_p + 1/b_p``. Places' changes also vary for reasons that are not chance in the
      counts (year-to-year swings of one street's crime); that extra variance ``tau²`` is estimated from
      the places' spread by the DerSimonian-Laird method of moments,
      ``tau² = max(0, (Q - (P-1)) / (Σw - Σw²/Σw))``, ``w = 1/v_p``, ``Q = Σ w (d_p - d̄_w)²``;
    - the comparison trend ``g`` is the random-effects mean of the ``d_p`` (weights ``1/(v_p + tau²)``),
      with variance ``1/Σ 1/(v_p + tau²)``;
    - ``ratio = (Ta/Tb) / exp(g)`` (0.8 = 20 % fewer than similar places would predict); its log has
      variance ``1/Ta + 1/Tb + tau² + var(g)``; the interval is ``exp(log ratio ± t · se)`` with ``t`` the
      Student quantile on ``P - 1`` degrees of freedom (``tau²`` is estimated from ``P`` places);
    - ``dispersion = Q / (P - 1)``: how much more the places' changes vary than Poisson counts would
      (1: not at all); the analyst's figure;
    - ``expected_after = Tb · exp(g)``, ``difference = Ta - expected_after``, with interval
      ``expected_after · (ratio bounds - 1)``.

    Why this and not a Poisson interval: ordinary year-to-year variation of 10-20 % in a place's rate
    makes a Poisson-only interval far too narrow, so an intervention that did nothing is called "fewer"
    or "more" 15-36 % of the time. Why not a quasi-Poisson dispersion from month-to-month variation:
    that variation is within a period and says nothing about how much a place's level moves *between*
    the before and after periods, which is what the verdict depends on. The comparison places show
    exactly that movement, at the size of the intervention's area. Matching their before-counts to
    ``Tb`` gives them the same Poisson noise and the same regression to the mean as the intervention's
    area, which was usually chosen because it was busy.

    Attributes
    ----------
    treated_before, treated_after : int
    control_before, control_after : int
        Incidents in the comparison places (each place counted once per cell it holds).
    places : int
        Comparison places ``P``.
    ratio, ratio_low, ratio_high : float
    expected_after, difference, difference_low, difference_high : float
    dispersion : float
        ``Q / (P - 1)`` (NaN with fewer than 2 places).
    tau2 : float
        Extra (non-Poisson) variance of a place's log change.
    level : float
        Interval coverage (0.95).
    verdict : {"fewer", "more", "no clear change", "too few reports to tell"}
    reason : str
        The verdict in one or two plain sentences, with its uncertainty.
    """

    treated_before: int
    treated_after: int
    control_before: int
    control_after: int
    places: int
    ratio: float
    ratio_low: float
    ratio_high: float
    expected_after: float
    difference: float
    difference_low: float
    difference_high: float
    dispersion: float
    tau2: float
    level: float
    verdict: str
    reason: str


def did_estimate(
    treated_before: int,
    treated_after: int,
    places_before: Sequence[int] | np.ndarray,
    places_after: Sequence[int] | np.ndarray,
    *,
    level: float = 0.95,
    min_count: int = MIN_REPORTS_BEFORE,
    min_places: int = MIN_PLACES,
) -> DidEstimate:
    """The estimate and verdict of :class:`DidEstimate` from the counts near the intervention and in each
    comparison place (one entry per place, same order in ``places_before`` and ``places_after``)."""
    tb, ta = int(treated_before), int(treated_after)
    b = np.asarray(places_before, dtype=float).ravel()
    a = np.asarray(places_after, dtype=float).ravel()
    if b.shape != a.shape:
        raise HotspotInputError(
            f"`places_before` and `places_after` need one count per place each; got {b.size} and {a.size}."
        )
    if min(tb, ta) < 0 or (b < 0).any() or (a < 0).any():
        raise HotspotInputError("incident counts cannot be negative.")
    if not 0 < level < 1:
        raise HotspotInputError(f"`level` must be between 0 and 1, e.g. 0.95; got {level!r}.")
    n = b.size
    nan = float("nan")
    fields = dict(treated_before=tb, treated_after=ta, control_before=int(b.sum()), control_after=int(a.sum()))
    fields["places"] = n
    if tb < min_count or n < min_places:
        why = (
            f"only {counted(tb, 'report')} near it before it started; at least {min_count} are needed"
            if tb < min_count
            else f"only {counted(n, 'similar place')} without an intervention to compare with; at least {min_places} are needed"
        )
        return DidEstimate(
            **fields,
            **dict.fromkeys(_NUMBERS, nan),
            level=level,
            verdict="too few reports to tell",
            reason=f"Too few reports to tell: {why}.",
        )
    d, v = _log_change(b, a)
    tau2, dispersion = _between_places(d, v)
    w = 1.0 / (v + tau2)
    trend = float((w * d).sum() / w.sum())
    d_t, v_t = _log_change(np.array([tb], float), np.array([ta], float))
    log_ratio = float(d_t[0]) - trend
    se = float(np.sqrt(v_t[0] + tau2 + 1.0 / w.sum()))
    half = stats.t.ppf(0.5 + level / 2, n - 1) * se
    ratio, low, high = np.exp(log_ratio), np.exp(log_ratio - half), np.exp(log_ratio + half)
    expected = tb * np.exp(trend)
    verdict = "no clear change" if low <= 1 <= high else ("fewer" if high < 1 else "more")
    return DidEstimate(
        **fields,
        ratio=float(ratio),
        ratio_low=float(low),
        ratio_high=float(high),
        expected_after=float(expected),
        difference=float(ta - expected),
        difference_low=float(expected * (low - 1)),
        difference_high=float(expected * (high - 1)),
        dispersion=float(dispersion),
        tau2=float(tau2),
        level=level,
        verdict=verdict,
        reason=_verdict_sentence(verdict, tb, ta, ratio, low, high, n),
    )


def matched_places(
    cell_before: np.ndarray,
    members: sparse.csr_array,
    centres: np.ndarray,
    treated_before: int,
    *,
    places: int = PLACES,
) -> np.ndarray:
    """Indices of comparison places: up to ``places`` whose before-count is closest to ``treated_before``
    (on the log scale, ties by index), taken greedily so that no chosen place holds another's centre.

    ``members`` is ``places × cells`` (1 where the cell belongs to the place) and ``centres`` the cell
    each place is centred on. A place with no incident before is never chosen: its change cannot be
    read.
    """
    members = sparse.csr_array(members)
    before = members @ np.asarray(cell_before, dtype=float)
    closeness = np.abs(np.log((before + 0.5) / (treated_before + 0.5)))
    taken: list[int] = []
    covered = np.zeros(members.shape[1], dtype=bool)  # cells of the places taken so far
    taken_centres = np.zeros(members.shape[1], dtype=bool)
    for p in np.lexsort((np.arange(len(before)), closeness)):
        if len(taken) >= places:
            break
        cells = members.indices[members.indptr[p] : members.indptr[p + 1]]
        if before[p] <= 0 or covered[centres[p]] or taken_centres[cells].any():
            continue
        taken.append(int(p))
        covered[cells] = True
        taken_centres[centres[p]] = True
    return np.asarray(taken, dtype=np.int64)


def _log_change(before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log change after/before and its Poisson variance; 0.5 is added to both counts when either is 0."""
    zero = (before == 0) | (after == 0)
    b = np.where(zero, before + 0.5, before)
    a = np.where(zero, after + 0.5, after)
    return np.log(a / b), 1.0 / a + 1.0 / b


def _between_places(d: np.ndarray, v: np.ndarray) -> tuple[float, float]:
    """DerSimonian-Laird ``tau²`` and the dispersion ``Q/(P-1)`` of the places' log changes."""
    if len(d) < 2:
        return 0.0, float("nan")
    w = 1.0 / v
    mean = (w * d).sum() / w.sum()
    q = float((w * (d - mean) ** 2).sum())
    scale = w.sum() - (w**2).sum() / w.sum()
    return max(0.0, (q - (len(d) - 1)) / scale), q / (len(d) - 1)


def _percent(value: float) -> str:
    return f"{abs(value) * 100:.0f}%"


def _about(value: float) -> str:
    pct = abs(value) * 100
    return f"{5 * round(pct / 5):.0f}%" if pct >= 10 else f"{pct:.0f}%"


def _verdict_sentence(verdict: str, tb: int, ta: int, ratio: float, low: float, high: float, places: int) -> str:
    against = f"compared with {places} similar places without an intervention"
    if verdict == "fewer":
        return (
            f"Reports fell by about {_about(1 - ratio)} (could be between {_percent(1 - high)} and "
            f"{_percent(1 - low)}) {against}."
        )
    if verdict == "more":
        return (
            f"Reports rose by about {_about(ratio - 1)} (could be between {_percent(low - 1)} and "
            f"{_percent(high - 1)}) {against}."
        )
    low_words = f"a fall of {_percent(1 - low)}" if low < 1 else f"a rise of {_percent(low - 1)}"
    high_words = f"a rise of {_percent(high - 1)}" if high > 1 else f"a fall of {_percent(1 - high)}"
    return (
        f"No clear change: {tb} reports before and {ta} after, {against}; the change could be anything from "
        f"{low_words} to {high_words}."
    )
