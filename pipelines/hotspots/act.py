"""The questions an Area Coordinating Team asks, each a function that returns a table.

Place in the data flow: analyse. Each function takes the result of the hotspot statistics plus the
assets or interventions frames and returns a result object whose ``table`` the ACT meeting page shows.

1. :func:`hotspots_without_intervention`: significant hot cells with no intervention within walking
   distance (400 m). An intervention *covers* a cell when its status is ``planned``, ``in_progress``,
   ``complete`` or ``maintenance`` (:data:`COVERING_STATUSES`): planned work is already on the ACT's
   agenda, and completed infrastructure (lighting, a walkway) is still there. ``stalled`` does not cover:
   a stalled project protects nobody, and the table lists stalled projects nearby so the ACT can unblock
   them rather than start something new.
2. :func:`assets_near_hotspots`: the ABCD assets within that distance of each hot cell, by category:
   the partners to involve.
3. :func:`intervention_effect` / :func:`intervention_effects`: did it work? Incidents within the
   distance of an intervention before and after its start, against comparison places like it (matched
   on their before-count, no intervention nearby), as a difference-in-differences on the log scale
   whose interval allows for places' ordinary year-to-year swings (:func:`did_estimate`), worded with
   its uncertainty: "fewer", "more", "no clear change" or "too few reports to tell".
4. :func:`reporting_gap`: cells (and precincts) where community reports are high but municipal
   records are low.

Distances are measured in the grid's metric CRS from any part of a cell (or an incident point) to any
part of the intervention or asset geometry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse, stats

from pipelines.hotspots._columns import (
    ABCD_CATEGORY,
    ASSET_ID,
    ASSET_NAME,
    ASSET_TYPE,
    CELL_ID,
    COUNT,
    CUSTODIAN,
    GI_BIN,
    GI_Z,
    INTERVENTION_ID,
    INTERVENTION_NAME,
    LAT,
    LON,
    OCCURRED_AT,
    PRECINCT_CODE,
    SOURCE,
    START,
    STATUS,
)
from pipelines.hotspots._inference import bh_threshold
from pipelines.hotspots.gistar import HotspotInputError, HotSpots
from pipelines.hotspots.grid import Grid, point_xy
from pipelines.hotspots.months import complete_until, first_data_month
from pipelines.periods import local_months
from pipelines.schemas import ABCD_CATEGORIES, INTERVENTION_STATUSES, STORE_CRS

WALKING_DISTANCE_M = 400.0
COVERING_STATUSES = ("planned", "in_progress", "complete", "maintenance")
NOT_COVERING_STATUSES = tuple(s for s in INTERVENTION_STATUSES if s not in COVERING_STATUSES)  # ("stalled",)
if not set(COVERING_STATUSES) <= set(INTERVENTION_STATUSES):  # the schema's vocabulary changed: decide again
    raise ImportError(
        f"COVERING_STATUSES {COVERING_STATUSES} are not all in INTERVENTION_STATUSES {INTERVENTION_STATUSES}"
    )

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
_ESTIMATE_FIELDS = (
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
EFFECT_COLUMNS = (
    INTERVENTION_ID,
    INTERVENTION_NAME,
    "start_month",
    "months_before",
    "months_after",
    "treated_cells",
    "control_cells",
    "verdict",
    "reason",
    *_ESTIMATE_FIELDS,
)
#: Fewest reports near an intervention before it started that give an effect verdict (not the
#: privacy threshold, ``Settings.min_published_count``).
MIN_REPORTS_BEFORE = 10
MIN_MONTHS = 3
#: Comparison places matched to an intervention's area, and the fewest that give a verdict.
PLACES = 20
MIN_PLACES = 8


# --------------------------------------------------------------------------------------------------
# 1. Hot spots with no intervention nearby
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class InterventionGaps:
    """Hot cells and the interventions around them.

    Attributes
    ----------
    table : geopandas.GeoDataFrame
        Hot cells with no covering intervention within ``distance_m``, hottest first: ``cell_id``,
        ``gi_bin``, ``gi_z``, ``count``, ``lat``, ``lon``, ``nearest_intervention`` (id),
        ``nearest_name``, ``nearest_status``, ``nearest_m`` (any status; NaN when there is none),
        ``stalled_nearby`` (names of stalled interventions within the distance, ``; ``-separated), geometry.
    covered : pandas.DataFrame
        Hot cells that are covered: ``cell_id``, ``gi_bin``, ``interventions`` (names), ``statuses`` and
        ``stalled_nearby`` (a cell covered only by ``planned`` work next to a stalled project is worth a
        question at the ACT).
    distance_m : float
    statuses : tuple of str
        Statuses that counted as covering.
    message : str or None
        Caveats (no hot cells; interventions without a location).
    """

    table: gpd.GeoDataFrame
    covered: pd.DataFrame
    distance_m: float
    statuses: tuple[str, ...]
    message: str | None


def hotspots_without_intervention(
    hotspots: HotSpots,
    interventions: gpd.GeoDataFrame,
    *,
    distance_m: float = WALKING_DISTANCE_M,
    statuses: Sequence[str] = COVERING_STATUSES,
    min_bin: int = 1,
) -> InterventionGaps:
    """Significant hot cells with no covering intervention within ``distance_m``.

    Parameters
    ----------
    hotspots : HotSpots
        Result of :func:`~pipelines.hotspots.gistar.hot_spots`.
    interventions : geopandas.GeoDataFrame
        The interventions frame (any geometry type).
    distance_m : float
        Walking distance in metres (400).
    statuses : sequence of str
        Statuses that count as covering (see the module docstring).
    min_bin : int
        Least Gi* bin that counts as hot: 1 (90 %), 2 (95 %) or 3 (99 %).
    """
    _check_distance(distance_m)
    unknown = sorted(set(statuses) - set(INTERVENTION_STATUSES))
    if unknown:
        raise HotspotInputError(f"unknown status {unknown[0]!r}; statuses are {', '.join(INTERVENTION_STATUSES)}.")
    crs = hotspots.grid.metric_crs
    hot = hotspots.cells[hotspots.cells[GI_BIN] >= min_bin].sort_values([GI_BIN, GI_Z], ascending=False)
    placed, unplaced = _located(interventions, crs)
    cells = hot.geometry.to_crs(crs).values
    covering = placed[STATUS].isin(list(statuses)).to_numpy()
    stalled = placed[STATUS].isin(list(NOT_COVERING_STATUSES)).to_numpy()
    near_cell, near_item = _within(cells, placed.geometry.values, distance_m)
    covered_mask = np.zeros(len(hot), dtype=bool)
    covered_mask[near_cell[covering[near_item]]] = True

    nearest_id, nearest_name, nearest_status, nearest_m = _nearest(cells, placed)
    stalled_names = _names_per_cell(len(hot), near_cell, near_item, stalled, placed[INTERVENTION_NAME])
    table = gpd.GeoDataFrame(
        {
            CELL_ID: hot[CELL_ID].to_numpy(),
            GI_BIN: hot[GI_BIN].to_numpy(),
            GI_Z: hot[GI_Z].to_numpy(),
            COUNT: hot[COUNT].to_numpy(),
            LAT: hot[LAT].to_numpy(),
            LON: hot[LON].to_numpy(),
            "nearest_intervention": nearest_id,
            "nearest_name": nearest_name,
            "nearest_status": nearest_status,
            "nearest_m": nearest_m,
            "stalled_nearby": stalled_names,
        },
        geometry=hot.geometry.to_numpy(),
        crs=STORE_CRS,
    )
    covering_names = _names_per_cell(len(hot), near_cell, near_item, covering, placed[INTERVENTION_NAME])
    covering_status = _names_per_cell(len(hot), near_cell, near_item, covering, placed[STATUS])
    covered = pd.DataFrame(
        {
            CELL_ID: hot[CELL_ID].to_numpy()[covered_mask],
            GI_BIN: hot[GI_BIN].to_numpy()[covered_mask],
            "interventions": np.asarray(covering_names, dtype=object)[covered_mask],
            "statuses": np.asarray(covering_status, dtype=object)[covered_mask],
            "stalled_nearby": np.asarray(stalled_names, dtype=object)[covered_mask],
        }
    )
    messages = []
    if hot.empty:
        messages.append("No significant hot spots in this window, so there is nothing to cover.")
    if len(unplaced):
        messages.append(_unplaced_message(unplaced))
    return InterventionGaps(
        table=table.loc[~covered_mask].reset_index(drop=True),
        covered=covered,
        distance_m=float(distance_m),
        statuses=tuple(statuses),
        message=" ".join(messages) or None,
    )


# --------------------------------------------------------------------------------------------------
# 2. Assets near each hot spot
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class AssetsNearHotspots:
    """ABCD assets within walking distance of each hot cell.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (hot cell, asset): ``cell_id``, ``gi_bin``, ``asset_id``, ``name``,
        ``abcd_category``, ``type``, ``custodian``, ``distance_m``; hottest cell first, then by ABCD
        category and distance.
    summary : pandas.DataFrame
        One row per hot cell (including those with no asset nearby): ``cell_id``, ``gi_bin``, ``gi_z``,
        ``count``, ``assets`` (total), one column per ABCD category with the number of assets, and
        ``partners`` ("institutions: Thembani Primary; associations: ..." in ABCD order).
    distance_m : float
    """

    table: pd.DataFrame
    summary: pd.DataFrame
    distance_m: float


def assets_near_hotspots(
    hotspots: HotSpots,
    assets: gpd.GeoDataFrame,
    *,
    distance_m: float = WALKING_DISTANCE_M,
    min_bin: int = 1,
) -> AssetsNearHotspots:
    """The ABCD assets within ``distance_m`` of each significant hot cell, grouped by category."""
    _check_distance(distance_m)
    crs = hotspots.grid.metric_crs
    hot = hotspots.cells[hotspots.cells[GI_BIN] >= min_bin].sort_values([GI_BIN, GI_Z], ascending=False)
    hot = hot.reset_index(drop=True)
    placed, _ = _located(assets, crs)
    cells = hot.geometry.to_crs(crs).values
    near_cell, near_item = _within(cells, placed.geometry.values, distance_m)
    distance = shapely.distance(cells[near_cell], placed.geometry.values[near_item])
    rank = {c: i for i, c in enumerate(ABCD_CATEGORIES)}
    table = pd.DataFrame(
        {
            CELL_ID: hot[CELL_ID].to_numpy()[near_cell],
            GI_BIN: hot[GI_BIN].to_numpy()[near_cell],
            ASSET_ID: placed[ASSET_ID].to_numpy()[near_item],
            ASSET_NAME: placed[ASSET_NAME].to_numpy()[near_item],
            ABCD_CATEGORY: placed[ABCD_CATEGORY].to_numpy()[near_item],
            ASSET_TYPE: _column(placed, ASSET_TYPE)[near_item],
            CUSTODIAN: _column(placed, CUSTODIAN)[near_item],
            "distance_m": np.round(distance, 1),
            "_cell": near_cell,
            "_rank": [rank.get(c, len(rank)) for c in placed[ABCD_CATEGORY].to_numpy()[near_item]],
        }
    ).sort_values(["_cell", "_rank", "distance_m"], ignore_index=True)
    summary = hot[[CELL_ID, GI_BIN, GI_Z, COUNT]].copy()
    summary["assets"] = np.bincount(table["_cell"], minlength=len(hot)) if len(table) else 0
    for category in ABCD_CATEGORIES:
        in_category = table[table[ABCD_CATEGORY] == category]
        summary[category] = np.bincount(in_category["_cell"], minlength=len(hot)) if len(in_category) else 0
    summary["partners"] = [_partners(group) for group in _groups(table, len(hot))]
    return AssetsNearHotspots(
        table=table.drop(columns=["_cell", "_rank"]),
        summary=summary,
        distance_m=float(distance_m),
    )


# --------------------------------------------------------------------------------------------------
# 3. Did it work?
# --------------------------------------------------------------------------------------------------
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
            f"only {tb} report(s) near it before it started; at least {min_count} are needed"
            if tb < min_count
            else f"only {n} similar place(s) without an intervention to compare with; at least {min_places} are needed"
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


@dataclass(frozen=True, eq=False)
class InterventionEffect:
    """Before/after comparison for one intervention.

    Attributes
    ----------
    intervention_id, name : str
    start : pandas.Period or None
        The local month the intervention started (the first "after" month).
    before, after : pandas.PeriodIndex
        The months compared (the after window is cut at the last complete month with data).
    treated_cells, control_cells : int
        Grid cells within the distance of the intervention, and comparison places used.
    control_cell_ids : tuple of str
        The centre cell of each comparison place.
    estimate : DidEstimate or None
        None when the comparison could not be made at all (no location, no start date, too few months).
    verdict, reason : str
        The estimate's verdict and reason, or "too few reports to tell" and why no estimate was made.
    """

    intervention_id: str
    name: str
    start: pd.Period | None
    before: pd.PeriodIndex
    after: pd.PeriodIndex
    treated_cells: int
    control_cells: int
    control_cell_ids: tuple[str, ...]
    estimate: DidEstimate | None
    verdict: str
    reason: str

    def to_record(self) -> dict:
        """A flat row for a table of interventions."""
        estimate = self.estimate
        record = {
            INTERVENTION_ID: self.intervention_id,
            INTERVENTION_NAME: self.name,
            "start_month": None if self.start is None else str(self.start),
            "months_before": len(self.before),
            "months_after": len(self.after),
            "treated_cells": self.treated_cells,
            "control_cells": self.control_cells,
            "verdict": self.verdict,
            "reason": self.reason,
        }
        for key in _ESTIMATE_FIELDS:
            record[key] = getattr(estimate, key) if estimate else None
        return record


def intervention_effect(
    incidents: gpd.GeoDataFrame,
    interventions: gpd.GeoDataFrame,
    intervention_id: str,
    *,
    grid: Grid,
    distance_m: float = WALKING_DISTANCE_M,
    months_before: int = 12,
    months_after: int = 12,
    controls: int | None = PLACES,
    until: pd.Period | str | None = None,
    batches: pd.DataFrame | None = None,
    level: float = 0.95,
    min_count: int = MIN_REPORTS_BEFORE,
) -> InterventionEffect:
    """Did incidents near an intervention fall after it started, compared with similar places?

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Incidents covering the before and after windows (filter categories beforehand).
    interventions : geopandas.GeoDataFrame
        All interventions: every one with a location rules its surroundings out of the comparison.
    intervention_id : str
        The intervention to evaluate.
    grid : Grid
        Defines the comparison places (normally the neighbourhood's grid); only its cells are used.
    distance_m : float
        Incidents within this distance of the intervention count as "near"; a comparison place is the
        cells within this distance of a cell's centre, among cells with no intervention within it.
    months_before, months_after : int
        Window lengths in months; the after window starts with the start month.
    controls : int or None
        Number of comparison places, matched on their before-count (:func:`matched_places`); None
        uses up to every cell.
    until : Period or "YYYY-MM", optional
        Last month of the after window. By default the last month with an incident, stepped back over
        an incomplete last month (:func:`pipelines.hotspots.months.complete_until`, with ``batches``).
        The before window never starts before the first month with data.
    level : float
        Interval coverage.
    min_count : int
        Fewer incidents than this near the intervention before it started and the verdict is
        "too few reports to tell".
    """
    _check_distance(distance_m)
    match = interventions[interventions[INTERVENTION_ID] == intervention_id]
    if match.empty:
        known = ", ".join(sorted(map(str, interventions[INTERVENTION_ID])))
        raise HotspotInputError(f"Unknown intervention {intervention_id!r}; known ids: {known}.")
    row = match.iloc[0]
    name = str(row[INTERVENTION_NAME])
    crs = grid.metric_crs
    empty = pd.PeriodIndex([], freq="M")

    def nothing(reason: str, start=None, before=empty, after=empty) -> InterventionEffect:
        return InterventionEffect(
            intervention_id, name, start, before, after, 0, 0, (), None, "too few reports to tell", reason
        )

    geometry = row.geometry
    if geometry is None or geometry.is_empty:
        return nothing(f"{name} has no location, so incidents near it cannot be counted; add its geometry.")
    start_ts = pd.to_datetime(row.get(START), errors="coerce")
    if pd.isna(start_ts):
        return nothing(f"{name} has no start date, so there is no before and after; record when it started.")
    start = pd.Period(start_ts, freq="M")
    months = local_months(incidents[OCCURRED_AT])
    first = first_data_month(incidents)
    if first is None:
        return nothing("There are no dated incidents to compare.", start)
    if until is not None:
        last = pd.Period(until, freq="M")
    else:
        last, _ = complete_until(incidents, months.max(), batches=batches)
    before = pd.period_range(max(start - months_before, first), start - 1, freq="M")
    after = pd.period_range(start, min(start + months_after - 1, last), freq="M")
    if len(after) < MIN_MONTHS:
        return nothing(
            f"{name} started in {start}; only {len(after)} month(s) of data since, and at least {MIN_MONTHS} are "
            "needed to judge it.",
            start,
            before,
            after,
        )
    if len(before) < MIN_MONTHS:
        return nothing(
            f"Only {len(before)} month(s) of data before {name} started in {start}; at least {MIN_MONTHS} are needed.",
            start,
            before,
            after,
        )

    # where each incident is, and in which window
    placed = gpd.GeoSeries([geometry], crs=interventions.crs or STORE_CRS).to_crs(crs).values[0]
    lon, lat, ok = point_xy(incidents)
    points = np.full(len(incidents), None, dtype=object)
    points[ok] = gpd.GeoSeries(gpd.points_from_xy(lon[ok], lat[ok]), crs=STORE_CRS).to_crs(crs).values
    near = np.zeros(len(incidents), dtype=bool)
    near[ok] = shapely.dwithin(points[ok].astype(object), placed, distance_m)
    in_before = months.isin(before).to_numpy()
    in_after = months.isin(after).to_numpy()
    tb, ta = int((near & in_before).sum()), int((near & in_after).sum())

    # comparison places: the eligible cells (no intervention of any status within the distance) within
    # the distance of an eligible cell's centre
    cells_metric = grid.cells.geometry.to_crs(crs).values
    all_placed, _ = _located(interventions, crs)
    blocked_cell, _ = _within(cells_metric, all_placed.geometry.values, distance_m)
    eligible = np.ones(grid.n, dtype=bool)
    eligible[blocked_cell] = False
    treated_cells = int(shapely.dwithin(cells_metric, placed, distance_m).sum())
    position = grid.locate_incidents(incidents)
    inside = position >= 0
    cell_before = np.bincount(position[inside & in_before], minlength=grid.n)
    cell_after = np.bincount(position[inside & in_after], minlength=grid.n)
    centres = np.nonzero(eligible)[0]
    if len(centres) == 0:
        return nothing(
            f"Every grid cell is within {distance_m:g} m of an intervention, so there is nothing to compare with.",
            start,
            before,
            after,
        )
    member_cell, member_place = _within(cells_metric[centres], shapely.centroid(cells_metric[centres]), distance_m)
    member_cell = centres[member_cell]
    keep = eligible[member_cell]
    members = sparse.csr_array(
        (np.ones(int(keep.sum())), (member_place[keep], member_cell[keep])), shape=(len(centres), grid.n)
    )
    chosen = matched_places(cell_before, members, centres, tb, places=len(centres) if controls is None else controls)
    estimate = did_estimate(
        tb, ta, (members @ cell_before)[chosen], (members @ cell_after)[chosen], level=level, min_count=min_count
    )
    return InterventionEffect(
        intervention_id=intervention_id,
        name=name,
        start=start,
        before=before,
        after=after,
        treated_cells=treated_cells,
        control_cells=len(chosen),
        control_cell_ids=tuple(grid.cells[CELL_ID].to_numpy()[centres[chosen]]),
        estimate=estimate,
        verdict=estimate.verdict,
        reason=estimate.reason,
    )


def intervention_effects(
    incidents: gpd.GeoDataFrame,
    interventions: gpd.GeoDataFrame,
    *,
    grid: Grid,
    statuses: Sequence[str] = ("in_progress", "complete", "maintenance"),
    **options,
) -> pd.DataFrame:
    """:func:`intervention_effect` for every intervention with one of ``statuses``, one row each.

    ``options`` are passed on (``distance_m``, ``months_before``, ``months_after``, ``controls``,
    ``until``, ``batches``, ``level``, ``min_count``).
    """
    chosen = interventions[interventions[STATUS].isin(list(statuses))]
    records = [
        intervention_effect(incidents, interventions, iid, grid=grid, **options).to_record()
        for iid in chosen[INTERVENTION_ID]
    ]
    return pd.DataFrame.from_records(records, columns=list(EFFECT_COLUMNS))


# --------------------------------------------------------------------------------------------------
# 4. Community against municipal data
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ReportingGap:
    """Where community reports run ahead of municipal records.

    For each cell (and precinct) with ``c`` community and ``m`` municipal incidents, and ``S`` the
    community share over the whole grid, the indicator is the one-sided binomial p-value
    ``P(X >= c)`` for ``X ~ Binomial(c + m, S)``: how surprising that many community reports are if
    both sources recorded the same events in the same proportion everywhere. A cell is flagged when that
    p-value is significant (Benjamini–Hochberg over cells when ``fdr``) and it has at least
    ``min_reports`` community reports. ``excess`` is ``c - (c + m)·S``: community reports beyond
    the expected share, the number to quote at the ACT.

    Attributes
    ----------
    cells : geopandas.GeoDataFrame
        ``cell_id``, ``community``, ``municipal``, ``community_share``, ``expected_community``,
        ``excess``, ``p``, ``gap`` (bool), ``lat``, ``lon``, geometry; largest excess first.
    precincts : pandas.DataFrame
        The same per ``precinct_code`` of the incidents.
    overall_share : float
        ``S``.
    message : str or None
    """

    cells: gpd.GeoDataFrame
    precincts: pd.DataFrame
    overall_share: float
    message: str | None


def reporting_gap(grid: Grid, *, alpha: float = 0.05, min_reports: int = 5, fdr: bool = True) -> ReportingGap:
    """Cells and precincts where community reports are high but municipal records are low.

    Build ``grid`` without a source filter so both sources are counted.
    """
    if not 0 < alpha < 1:
        raise HotspotInputError(f"`alpha` must be between 0 and 1, e.g. 0.05; got {alpha!r}.")
    community_rows = (grid.incidents[SOURCE] == "community").to_numpy()
    municipal_rows = (grid.incidents[SOURCE] == "municipal").to_numpy()
    community = np.bincount(grid.positions[community_rows], minlength=grid.n)
    municipal = np.bincount(grid.positions[municipal_rows], minlength=grid.n)
    total = community.sum() + municipal.sum()
    share = community.sum() / total if total else float("nan")
    message = None
    if not 0 < share < 1:
        which = "community reports" if share == 0 or not np.isfinite(share) else "municipal records"
        message = f"There are no {which} in this selection, so the two sources cannot be compared."
    cells = grid.cells[[CELL_ID, LAT, LON, grid.cells.geometry.name]].copy()
    for key, value in _gap_columns(community, municipal, share, alpha, min_reports, fdr).items():
        cells[key] = value
    cells = cells.sort_values("excess", ascending=False, ignore_index=True)
    codes = grid.incidents[PRECINCT_CODE].fillna("(none)").to_numpy()
    precinct_ids = np.unique(codes)
    index = np.searchsorted(precinct_ids, codes)
    by_c = np.bincount(index[community_rows], minlength=len(precinct_ids))
    by_m = np.bincount(index[municipal_rows], minlength=len(precinct_ids))
    precincts = pd.DataFrame({PRECINCT_CODE: precinct_ids, **_gap_columns(by_c, by_m, share, alpha, min_reports, fdr)})
    precincts = precincts.sort_values("excess", ascending=False, ignore_index=True)
    return ReportingGap(cells=cells, precincts=precincts, overall_share=float(share), message=message)


# --------------------------------------------------------------------------------------------------
# Private helpers
# --------------------------------------------------------------------------------------------------
def _check_distance(distance_m: float) -> None:
    if not (isinstance(distance_m, (int, float)) and np.isfinite(distance_m) and distance_m >= 0):
        raise HotspotInputError(
            f"`distance_m` must be a distance in metres, 0 or more (400 is walking); got {distance_m!r}."
        )


def _located(frame: gpd.GeoDataFrame, crs: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Rows with a usable geometry, reprojected to ``crs``, and the rows without one."""
    geoms = frame.geometry.values
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    source = frame.crs or STORE_CRS
    placed = gpd.GeoDataFrame(frame.loc[usable], geometry=frame.geometry.name, crs=source).to_crs(crs)
    return placed.reset_index(drop=True), frame.loc[~usable]


def _within(cells: np.ndarray, items: np.ndarray, distance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (cell index, item index) within ``distance_m``."""
    if len(cells) == 0 or len(items) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    tree = shapely.STRtree(items)
    cell_index, item_index = tree.query(cells, predicate="dwithin", distance=distance_m)
    return cell_index.astype(np.int64), item_index.astype(np.int64)


def _nearest(cells: np.ndarray, placed: gpd.GeoDataFrame):
    n = len(cells)
    ids = np.full(n, None, dtype=object)
    names = np.full(n, None, dtype=object)
    statuses = np.full(n, None, dtype=object)
    distance = np.full(n, np.nan)
    if n and len(placed):
        tree = shapely.STRtree(placed.geometry.values)
        (cell_index, item_index), dist = tree.query_nearest(cells, return_distance=True, all_matches=False)
        ids[cell_index] = placed[INTERVENTION_ID].to_numpy()[item_index]
        names[cell_index] = placed[INTERVENTION_NAME].to_numpy()[item_index]
        statuses[cell_index] = placed[STATUS].to_numpy()[item_index]
        distance[cell_index] = np.round(dist, 1)
    return ids, names, statuses, distance


def _names_per_cell(n: int, near_cell, near_item, mask: np.ndarray, names: pd.Series) -> list[str]:
    out: list[list[str]] = [[] for _ in range(n)]
    values = names.to_numpy()
    for cell, item in zip(near_cell.tolist(), near_item.tolist(), strict=True):
        if mask[item] and str(values[item]) not in out[cell]:
            out[cell].append(str(values[item]))
    return ["; ".join(names_) for names_ in out]


def _unplaced_message(unplaced: gpd.GeoDataFrame) -> str:
    names = ", ".join(map(str, unplaced[INTERVENTION_NAME].head(5)))
    more = f" and {len(unplaced) - 5} more" if len(unplaced) > 5 else ""
    return f"{len(unplaced)} intervention(s) have no location and were not considered ({names}{more}); map them."


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    return frame[name].to_numpy() if name in frame.columns else np.full(len(frame), None, dtype=object)


def _groups(table: pd.DataFrame, n: int) -> list[pd.DataFrame]:
    by_cell = dict(tuple(table.groupby("_cell", sort=False))) if len(table) else {}
    return [by_cell.get(i, table.iloc[0:0]) for i in range(n)]


def _partners(group: pd.DataFrame) -> str:
    parts = []
    for category in ABCD_CATEGORIES:
        names = group.loc[group[ABCD_CATEGORY] == category, ASSET_NAME].astype(str).unique()
        if len(names):
            parts.append(f"{category}: {', '.join(names)}")
    return "; ".join(parts)


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


def _gap_columns(community, municipal, share, alpha, min_reports, fdr) -> dict[str, np.ndarray]:
    community = np.asarray(community, dtype=np.int64)
    municipal = np.asarray(municipal, dtype=np.int64)
    total = community + municipal
    with np.errstate(divide="ignore", invalid="ignore"):
        cell_share = np.where(total > 0, community / total, np.nan)
    expected = total * share if np.isfinite(share) else np.full(len(total), np.nan)
    p = np.full(len(total), np.nan)
    if 0 < share < 1:
        tested = total > 0
        p[tested] = stats.binom.sf(community[tested] - 1, total[tested], share)
    critical = bh_threshold(p, alpha) if fdr else alpha
    gap = np.isfinite(p) & (p <= critical) & (community >= min_reports)
    return {
        "community": community,
        "municipal": municipal,
        "community_share": cell_share,
        "expected_community": expected,
        "excess": community - expected,
        "p": p,
        "gap": gap,
    }
