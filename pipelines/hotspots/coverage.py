"""Which hot spots have no intervention nearby, and which partners are near each one.

Place in the data flow: analyse. Each function takes the result of :func:`~pipelines.hotspots.gistar.hot_spots`
plus the interventions or assets frame and returns a result object whose ``table`` the ACT meeting page shows.

1. :func:`hotspots_without_intervention`: significant hot cells with no intervention within walking
   distance (400 m). An intervention *covers* a cell when its status is ``planned``, ``in_progress``,
   ``complete`` or ``maintenance`` (:data:`COVERING_STATUSES`): planned work is already on the ACT's
   agenda, and completed infrastructure (lighting, a walkway) is still there. ``stalled`` does not cover:
   a stalled project protects nobody, and the table lists stalled projects nearby so the ACT can unblock
   them rather than start something new.
2. :func:`assets_near_hotspots`: the ABCD assets within that distance of each hot cell, by category:
   the partners to involve.

Distances are measured in the grid's metric CRS from any part of a cell to any part of the intervention
or asset geometry (:mod:`._nearby`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

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
    STATUS,
)
from pipelines.hotspots._nearby import WALKING_DISTANCE_M, check_distance, located, within
from pipelines.hotspots.gistar import HotspotInputError, HotSpots
from pipelines.plural import counted
from pipelines.schemas import ABCD_CATEGORIES, COLUMNS, INTERVENTION_STATUSES, STORE_CRS

COVERING_STATUSES = ("planned", "in_progress", "complete", "maintenance")
NOT_COVERING_STATUSES = tuple(s for s in INTERVENTION_STATUSES if s not in COVERING_STATUSES)  # ("stalled",)
if not set(COVERING_STATUSES) <= set(INTERVENTION_STATUSES):  # the schema's vocabulary changed: decide again
    raise ImportError(
        f"COVERING_STATUSES {COVERING_STATUSES} are not all in INTERVENTION_STATUSES {INTERVENTION_STATUSES}"
    )


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
    check_distance(distance_m)
    unknown = sorted(set(statuses) - set(INTERVENTION_STATUSES))
    if unknown:
        raise HotspotInputError(f"unknown status {unknown[0]!r}; statuses are {', '.join(INTERVENTION_STATUSES)}.")
    crs = hotspots.grid.metric_crs
    hot = hotspots.cells[hotspots.cells[GI_BIN] >= min_bin].sort_values([GI_BIN, GI_Z], ascending=False)
    placed, unplaced = located(interventions, crs)
    cells = hot.geometry.to_crs(crs).values
    covering = placed[STATUS].isin(list(statuses)).to_numpy()
    stalled = placed[STATUS].isin(list(NOT_COVERING_STATUSES)).to_numpy()
    near_cell, near_item = within(cells, placed.geometry.values, distance_m)
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
    check_distance(distance_m)
    crs = hotspots.grid.metric_crs
    hot = hotspots.cells[hotspots.cells[GI_BIN] >= min_bin].sort_values([GI_BIN, GI_Z], ascending=False)
    hot = hot.reset_index(drop=True)
    placed, _ = located(assets, crs)
    cells = hot.geometry.to_crs(crs).values
    near_cell, near_item = within(cells, placed.geometry.values, distance_m)
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
    summary[COLUMNS.partners] = [_partners(group) for group in _groups(table, len(hot))]
    return AssetsNearHotspots(
        table=table.drop(columns=["_cell", "_rank"]),
        summary=summary,
        distance_m=float(distance_m),
    )


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
    one = len(unplaced) == 1
    return (
        f"{counted(len(unplaced), 'intervention')} {'has' if one else 'have'} no location and {'was' if one else 'were'} "
        f"not considered ({names}{more}); map {'it' if one else 'them'}."
    )


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
