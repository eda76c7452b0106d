"""Did incidents near an intervention fall after it started, compared with similar places without one?

Place in the data flow: analyse. :func:`intervention_effect` takes the incidents, the interventions and
the neighbourhood's grid; it counts the incidents within walking distance of one intervention before and
after its start, builds comparison places from the grid cells with no intervention nearby, and hands the
counts to :func:`~pipelines.hotspots.did.did_estimate` (the method, worded with its uncertainty).
:func:`intervention_effects` does it for every intervention under way or done, one row each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from pipelines.hotspots._columns import CELL_ID, INTERVENTION_ID, INTERVENTION_NAME, OCCURRED_AT, START, STATUS
from pipelines.hotspots._nearby import WALKING_DISTANCE_M, check_distance, located, within
from pipelines.hotspots.did import (
    ESTIMATE_FIELDS,
    MIN_REPORTS_BEFORE,
    PLACES,
    DidEstimate,
    did_estimate,
    matched_places,
)
from pipelines.hotspots.gistar import HotspotInputError
from pipelines.hotspots.grid import Grid, point_xy
from pipelines.hotspots.months import complete_until, first_data_month
from pipelines.periods import local_months
from pipelines.plural import counted
from pipelines.schemas import STORE_CRS

#: The columns of :func:`intervention_effects`, one row per intervention.
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
    *ESTIMATE_FIELDS,
)
#: Fewest months of data before, and after, the start that give a comparison.
MIN_MONTHS = 3


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
        for key in ESTIMATE_FIELDS:
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
    check_distance(distance_m)
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
            f"{name} started in {start}; only {counted(len(after), 'month')} of data since, and at least {MIN_MONTHS} are "
            "needed to judge it.",
            start,
            before,
            after,
        )
    if len(before) < MIN_MONTHS:
        return nothing(
            f"Only {counted(len(before), 'month')} of data before {name} started in {start}; at least {MIN_MONTHS} are needed.",
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
    all_placed, _ = located(interventions, crs)
    blocked_cell, _ = within(cells_metric, all_placed.geometry.values, distance_m)
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
    member_cell, member_place = within(cells_metric[centres], shapely.centroid(cells_metric[centres]), distance_m)
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
