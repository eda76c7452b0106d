"""Emerging hot spots: space-time Gi* per month, a Mann-Kendall trend per cell, and ArcGIS's categories.

Place in the data flow: analyse. :func:`space_time_cube` counts a grid's incidents per cell and local
calendar month; :func:`emerging_hotspots` classifies each cell; :func:`classify` holds the rules and can
be called on its own.

Method (ArcGIS Pro "Emerging Hot Spot Analysis", neighbourhood time step 1, global window = whole cube):

1. Space-time cube: one bin per cell and month, months with no incidents count 0.
2. Space-time Gi*: the neighbours of bin (cell ``i``, month ``t``) are the bins of ``i`` and of its spatial
   neighbours in month ``t`` and in the previous ``time_step`` months (binary weights, the bin itself
   included). Mean and variance are those of the whole cube. z-scores are analytical; p-values two-sided;
   a bin is a significant hot (cold) spot when its FDR-corrected confidence bin is above (below) 0, i.e.
   significant at 90 % confidence or better after Benjamini–Hochberg over all bins (``alpha=0.10``).
3. Mann-Kendall trend test on each cell's series of Gi* z-scores (ties corrected, continuity corrected,
   two-sided); a trend is significant when ``p <= trend_alpha`` (0.05). The first ``time_step`` months are
   left out of the trend (not out of the hot/cold counts): they have no earlier month in their
   neighbourhood, so their z-scores are systematically about ``1/sqrt(2)`` as large, and including them
   would make every steady hot spot look intensifying. This is the one deliberate departure from a
   literal reading of ArcGIS.
4. Categories. With ``T`` months, ``H`` = number of hot months, ``C`` = number of cold months, "90 %" means
   ``H >= 0.9·T``, and "final" is the last month of the window. The state of the final month picks the
   family first, then the first rule that matches wins:

   Final month hot:
     - ``intensifying_hot``: ``H >= 90 %`` and a significant upward trend;
     - ``diminishing_hot``: ``H >= 90 %`` and a significant downward trend;
     - ``persistent_hot``: ``H >= 90 %`` and no significant trend;
     - ``oscillating_hot``: ``H < 90 %`` and at least one earlier month was a cold spot;
     - ``new_hot``: the final month is the only hot month;
     - ``consecutive_hot``: the hot months are a single uninterrupted run of two or more ending in the
       final month (never hot before the run);
     - ``sporadic_hot``: otherwise (hot on and off, never cold).
   Final month cold: the mirror image, with "intensifying" meaning z-scores trending *down* (colder):
     ``intensifying_cold``, ``diminishing_cold``, ``persistent_cold``, ``oscillating_cold`` (an earlier
     hot month), ``new_cold``, ``consecutive_cold``, ``sporadic_cold``.
   Final month neither:
     - ``historical_hot``: ``H >= 90 %``;
     - ``historical_cold``: ``C >= 90 %``;
     - ``no_pattern``: otherwise.

These are ArcGIS's published definitions; ArcGIS does not say which rule wins where two overlap (a cell
hot only in the final month but cold earlier is both "new" and "oscillating"). The order above settles
it: a swing from cold to hot is reported as oscillating, because "new" would hide the earlier cold spot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse, stats

from pipelines.hotspots._columns import CELL_ID, COUNT, EMERGING, LAT, LON, OCCURRED_AT
from pipelines.hotspots._inference import confidence_bins
from pipelines.hotspots.gistar import MIN_INCIDENTS, HotspotInputError, analytical_gi_star
from pipelines.hotspots.grid import Grid
from pipelines.periods import local_months
from pipelines.plural import counted

PATTERNS = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic", "oscillating", "historical")
NO_PATTERN = "no_pattern"
EMERGING_CATEGORIES = tuple(f"{p}_hot" for p in PATTERNS) + tuple(f"{p}_cold" for p in PATTERNS) + (NO_PATTERN,)
MIN_TIME_STEPS = 10  # ArcGIS requires ten time steps for the trend test to mean much
TREND_Z = "trend_z"
TREND_P = "trend_p"
HOT_MONTHS = "hot_months"
COLD_MONTHS = "cold_months"
FINAL_BIN = "final_bin"


@dataclass(frozen=True)
class HotspotClass:
    """One class of the map's hot-spot layer, as people read it.

    Attributes
    ----------
    key : str
        Stable name (``new``, ``worse``, ``persistent``, ``fading``, ``cold``, ``none``).
    label : str
        The class in words, as the legend, the tooltip and the meeting pack name it.
    meaning : str
        One line on what it means, for the legend and the glossary.
    colour : str
        The one colour the web map fills it with (``none`` is not drawn).
    """

    key: str
    label: str
    meaning: str
    colour: str


#: The hot-spot classes the map, the agenda and the pack all use, most urgent first; ``none`` is not drawn.
HOTSPOT_CLASSES = (
    HotspotClass("new", "New hot spot", "hot in the latest months and not before in this period", "#e31a1c"),
    HotspotClass("worse", "Hot spot getting worse", "hot in most months, and more so lately", "#7a0177"),
    HotspotClass(
        "persistent", "Persistent hot spot", "more reports than the cells around it, month after month", "#fd8d3c"
    ),
    HotspotClass("fading", "Fading", "was a hot spot, now cooling or no longer hot", "#fed976"),
    HotspotClass(
        "cold",
        "Cold spot",
        "fewer reports than the cells around it; this may mean under-reporting, not safety",
        "#4393c3",
    ),
    HotspotClass("none", "No pattern", "nothing that stands out from chance", ""),
)
HOTSPOT_CLASS = {c.key: c for c in HOTSPOT_CLASSES}
#: Emerging categories -> class; categories not listed fall to the 12-month Gi* bin (see :func:`hotspot_classes`).
_EMERGING_CLASS = {
    "new_hot": "new",
    "consecutive_hot": "new",
    "intensifying_hot": "worse",
    "persistent_hot": "persistent",
    "sporadic_hot": "persistent",
    "oscillating_hot": "persistent",
    "diminishing_hot": "fading",
    "historical_hot": "fading",
}


def hotspot_classes(gi_bin: Sequence[int], emerging: Sequence[str], *, sufficient: bool = True) -> np.ndarray:
    """The map class of each cell, from its 12-month Gi* bin and its emerging category: the one place
    that decides what a cell is called and how it is coloured (map, agenda and pack).

    The emerging category speaks first, because it says what is happening *now*: a cell that turned hot in
    the last months is a "new hot spot" even though its 12-month total is not yet significant. Then:

    - ``new_hot``, ``consecutive_hot`` -> ``new``; ``intensifying_hot`` -> ``worse``;
    - ``persistent_hot``, ``sporadic_hot``, ``oscillating_hot`` (hot now and in earlier months) -> ``persistent``;
    - ``diminishing_hot``, ``historical_hot`` -> ``fading``;
    - otherwise a 12-month hot bin (``gi_bin > 0``) -> ``persistent``, unless the cell is cold now (an emerging
      cold category other than historical), which makes it ``fading``;
    - a 12-month cold bin, or cold now -> ``cold``;
    - everything else -> ``none``.

    ``sufficient`` False (the Gi* small-number guard fired: too few reports or cells) gives ``none``
    everywhere, so the map never shows what its caption says cannot be told.
    """
    bins = np.asarray(gi_bin, dtype=float)
    categories = np.asarray(emerging, dtype=object)
    if bins.shape != categories.shape:
        raise HotspotInputError("`gi_bin` and `emerging` must have one value per cell.")
    out = np.full(len(bins), "none", dtype=object)
    if not sufficient:
        return out
    cold_now = np.array([str(c).endswith("_cold") and c != "historical_cold" for c in categories], dtype=bool)
    by_trend = np.array([_EMERGING_CLASS.get(c, "") for c in categories], dtype=object)
    out = np.where(bins < 0, "cold", out)
    out = np.where(cold_now, "cold", out)
    out = np.where(bins > 0, np.where(cold_now, "fading", "persistent"), out)
    return np.where(by_trend != "", by_trend, out)


@dataclass(frozen=True, eq=False)
class SpaceTimeCube:
    """Incident counts per cell and local calendar month.

    Attributes
    ----------
    counts : numpy.ndarray
        ``cells × months`` int64 counts.
    months : pandas.PeriodIndex
        The months, oldest first; the last is "the final time step".
    cells : geopandas.GeoDataFrame
        The grid cells (``cell_id``, ``count``, ``lat``, ``lon``, geometry), aligned with ``counts`` rows.
    neighbours : scipy.sparse.csr_array
        Spatial adjacency of the cells (binary, no diagonal).
    """

    counts: np.ndarray
    months: pd.PeriodIndex
    cells: gpd.GeoDataFrame
    neighbours: sparse.csr_array


@dataclass(frozen=True, eq=False)
class EmergingHotspots:
    """Emerging hot spot categories and the space-time statistics behind them.

    Attributes
    ----------
    cube : SpaceTimeCube
    category : numpy.ndarray
        One of :data:`EMERGING_CATEGORIES` per cell.
    z, p : numpy.ndarray
        ``cells × months`` space-time Gi* z-scores and two-sided p-values.
    bins : numpy.ndarray
        ``cells × months`` confidence bins -3..3 (FDR-corrected when ``fdr``).
    trend_s, trend_z, trend_p, trend_tau : numpy.ndarray
        Mann-Kendall S, Z, two-sided p and Kendall's tau (tau-a) of each cell's z-score series (from
        month ``time_step`` on; see the module docstring).
    cells : geopandas.GeoDataFrame
        ``cube.cells`` plus ``emerging``, ``trend_z``, ``trend_p``, ``hot_months``, ``cold_months``,
        ``final_bin``.
    alpha, fdr, trend_alpha, time_step
        Settings used.
    message : str or None
        Plain-language caveat (too few incidents, too few months), or None.
    """

    cube: SpaceTimeCube
    category: np.ndarray
    z: np.ndarray
    p: np.ndarray
    bins: np.ndarray
    trend_s: np.ndarray
    trend_z: np.ndarray
    trend_p: np.ndarray
    trend_tau: np.ndarray
    cells: gpd.GeoDataFrame
    alpha: float
    fdr: bool
    trend_alpha: float
    time_step: int
    message: str | None


def space_time_cube(grid: Grid, *, months: pd.PeriodIndex | None = None) -> SpaceTimeCube:
    """Count a grid's incidents per cell and local month.

    ``months`` defaults to every month from the grid's ``start`` (or its first incident) to the month
    before its ``end`` (or its last incident). Incidents outside ``months`` are left out.
    """
    incident_months = local_months(grid.incidents[OCCURRED_AT])
    if months is None:
        months = _default_months(grid, incident_months)
    months = pd.PeriodIndex(months, freq="M")
    counts = np.zeros((grid.n, len(months)), dtype=np.int64)
    if len(months):
        step = (incident_months - months[0]).map(lambda offset: offset.n, na_action="ignore")
        step = step.to_numpy(dtype=float, na_value=np.nan)
        keep = np.isfinite(step) & (step >= 0) & (step < len(months))
        np.add.at(counts, (grid.positions[keep], step[keep].astype(np.int64)), 1)
    return SpaceTimeCube(counts=counts, months=months, cells=grid.cells, neighbours=grid.neighbours)


def emerging_hotspots(
    cube: SpaceTimeCube,
    *,
    alpha: float = 0.10,
    fdr: bool = True,
    trend_alpha: float = 0.05,
    time_step: int = 1,
    min_incidents: int = MIN_INCIDENTS,
) -> EmergingHotspots:
    """Classify each cell of a space-time cube (see the module docstring for the exact rules).

    Parameters
    ----------
    cube : SpaceTimeCube
    alpha : float
        A bin is significant when its confidence bin passes this level: 0.10 (90 %, ArcGIS), 0.05 or 0.01.
    fdr : bool
        Benjamini–Hochberg correction over all bins of the cube.
    trend_alpha : float
        Significance level of the Mann-Kendall trend.
    time_step : int
        How many previous months are space-time neighbours (ArcGIS "neighborhood time step").
    min_incidents : int
        Small-number guard: with fewer incidents in the cube, every cell is ``no_pattern``.
    """
    levels = {0.10: 1, 0.05: 2, 0.01: 3}
    if alpha not in levels:
        raise HotspotInputError(f"`alpha` must be 0.10, 0.05 or 0.01 (the confidence bins); got {alpha!r}.")
    if isinstance(time_step, bool) or int(time_step) != time_step or time_step < 0:
        raise HotspotInputError(f"`time_step` must be a whole number of months, 0 or more; got {time_step!r}.")
    n, steps = cube.counts.shape
    weights = space_time_weights(cube.neighbours, steps, time_step=time_step)
    values = cube.counts.T.ravel().astype(float)  # month-major: bin (t, i) is row t·n + i
    _, z = analytical_gi_star(values, weights)
    p = 2.0 * stats.norm.sf(np.abs(z))
    bins = confidence_bins(z, p, fdr=fdr)
    z, p, bins = (a.reshape(steps, n).T for a in (z, p, bins))
    significant = np.abs(bins) >= levels[alpha]
    # the first `time_step` months have no earlier months in their neighbourhood, so their |z| is
    # systematically smaller (about 1/sqrt(2) for time step 1); leaving them out of the trend keeps a
    # steady hot spot from looking like an intensifying one
    trend_s, trend_z, trend_p, trend_tau = mann_kendall(z[:, min(time_step, max(steps - 2, 0)) :])
    category = classify(np.where(significant, np.sign(bins), 0), trend_z, trend_p, trend_alpha=trend_alpha)
    message = _message(cube, min_incidents)
    if message is not None and int(cube.counts.sum()) < min_incidents:
        category[:] = NO_PATTERN
    cells = cube.cells.assign(
        **{
            COUNT: cube.counts.sum(axis=1),
            EMERGING: category,
            TREND_Z: trend_z,
            TREND_P: trend_p,
            HOT_MONTHS: (significant & (bins > 0)).sum(axis=1),
            COLD_MONTHS: (significant & (bins < 0)).sum(axis=1),
            FINAL_BIN: bins[:, -1] if steps else np.zeros(n, dtype=np.int8),
        }
    )
    order = [CELL_ID, COUNT, LAT, LON, EMERGING, TREND_Z, TREND_P, HOT_MONTHS, COLD_MONTHS, FINAL_BIN]
    return EmergingHotspots(
        cube=cube,
        category=category,
        z=z,
        p=p,
        bins=bins,
        trend_s=trend_s,
        trend_z=trend_z,
        trend_p=trend_p,
        trend_tau=trend_tau,
        cells=cells[[*order, cells.geometry.name]],
        alpha=alpha,
        fdr=fdr,
        trend_alpha=trend_alpha,
        time_step=int(time_step),
        message=message,
    )


def space_time_weights(neighbours, steps: int, *, time_step: int = 1) -> sparse.csr_array:
    """Binary space-time Gi* weights for ``steps`` months, bins ordered month-major (row ``t·n + i``).

    Bin (i, t) is linked to (j, s) when j is i or a spatial neighbour of i and ``t - time_step <= s <= t``.
    """
    spatial = sparse.csr_array(neighbours, dtype=float)
    spatial = (spatial + sparse.eye_array(spatial.shape[0], format="csr")).tocsr()
    temporal = sparse.eye_array(steps, format="csr")
    for lag in range(1, min(time_step, steps - 1) + 1):
        temporal = temporal + sparse.eye_array(steps, k=-lag, format="csr")
    weights = sparse.csr_array(sparse.kron(temporal, spatial, format="csr"))
    weights.sort_indices()
    return weights


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mann-Kendall trend test on each row of ``series`` (rows: locations, columns: time).

    Returns S, Z, two-sided p and tau-a. The variance is corrected for ties,
    ``Var(S) = [T(T-1)(2T+5) - Σ_g t_g(t_g-1)(2t_g+5)] / 18``, and Z uses the continuity correction
    ``(S - sign(S)) / sqrt(Var(S))``. Rows containing NaN get NaN.
    """
    x = np.asarray(series, dtype=float)
    rows, steps = x.shape
    nan = np.full(rows, np.nan)
    if steps < 2:
        return nan, nan, nan, nan
    first, second = np.triu_indices(steps, k=1)
    s = np.sign(x[:, second] - x[:, first]).sum(axis=1)
    ordered = np.sort(x, axis=1)
    # size of the tie group each value belongs to: Σ_g t(t-1)(2t+5) = Σ_values (t-1)(2t+5)
    new_group = np.ones((rows, steps), dtype=bool)
    new_group[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    group = np.cumsum(new_group, axis=1) + (np.arange(rows) * steps)[:, None]
    sizes = np.bincount(group.ravel(), minlength=rows * steps + steps + 1)[group]
    ties = ((sizes - 1) * (2 * sizes + 5)).sum(axis=1)
    variance = (steps * (steps - 1) * (2 * steps + 5) - ties) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(variance > 0, (s - np.sign(s)) / np.sqrt(variance), 0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    tau = s / (steps * (steps - 1) / 2.0)
    bad = ~np.isfinite(x).all(axis=1)
    return (np.where(bad, np.nan, s), np.where(bad, np.nan, z), np.where(bad, np.nan, p), np.where(bad, np.nan, tau))


def classify(states: np.ndarray, trend_z: np.ndarray, trend_p: np.ndarray, *, trend_alpha: float = 0.05) -> np.ndarray:
    """Emerging hot spot category per row.

    Parameters
    ----------
    states : numpy.ndarray
        ``locations × months``: +1 significant hot spot, -1 significant cold spot, 0 neither.
    trend_z, trend_p : numpy.ndarray
        Mann-Kendall Z and p of each location's z-score series.
    trend_alpha : float
        Significance level of the trend.

    Returns
    -------
    numpy.ndarray of str
        One of :data:`EMERGING_CATEGORIES` per location; the rules are in the module docstring.
    """
    states = np.sign(np.asarray(states))
    rows, steps = states.shape
    out = np.full(rows, NO_PATTERN, dtype=object)
    if steps == 0:
        return out
    trend_ok = np.isfinite(trend_p) & (trend_p <= trend_alpha)
    rising = trend_ok & (trend_z > 0)
    falling = trend_ok & (trend_z < 0)
    for sign, suffix, stronger, weaker in ((1, "hot", rising, falling), (-1, "cold", falling, rising)):
        this = states == sign
        other = states == -sign
        count = this.sum(axis=1)
        mostly = count * 10 >= 9 * steps  # at least 90 % of the months, in integers
        final = this[:, -1]
        final_run = np.cumprod(this[:, ::-1], axis=1).sum(axis=1)
        before = other[:, :-1].any(axis=1)
        rules = (
            (final & mostly & stronger, "intensifying"),
            (final & mostly & weaker, "diminishing"),
            (final & mostly, "persistent"),
            (final & before, "oscillating"),
            (final & (count == 1), "new"),
            (final & (final_run == count) & (count >= 2), "consecutive"),
            (final, "sporadic"),
            (~final & ~(states[:, -1] == -sign) & mostly, "historical"),
        )
        undecided = out == NO_PATTERN
        for mask, pattern in rules:
            take = undecided & mask
            out[take] = f"{pattern}_{suffix}"
            undecided &= ~take
    return out


# --------------------------------------------------------------------------------------------------
def _default_months(grid: Grid, incident_months: pd.Series) -> pd.PeriodIndex:
    first = local_months(pd.Series([grid.start]))[0] if grid.start is not None else incident_months.min()
    if grid.end is not None:
        last = local_months(pd.Series([grid.end - pd.Timedelta(microseconds=1)]))[0]
    else:
        last = incident_months.max()
    if pd.isna(first) or pd.isna(last) or last < first:
        return pd.PeriodIndex([], freq="M")
    return pd.period_range(first, last, freq="M")


def _message(cube: SpaceTimeCube, min_incidents: int) -> str | None:
    total, steps = int(cube.counts.sum()), cube.counts.shape[1]
    if total < min_incidents:
        return (
            f"Only {counted(total, 'incident')} in the space-time cube; at least {min_incidents} are needed, so no "
            "emerging pattern is reported. Widen the period or the area."
        )
    if steps < MIN_TIME_STEPS:
        return (
            f"Only {counted(steps, 'month')} in the window; trends need at least {MIN_TIME_STEPS}, so read the "
            "intensifying, persistent and diminishing categories with caution."
        )
    return None
