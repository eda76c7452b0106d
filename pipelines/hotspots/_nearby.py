"""What the ACT questions share: walking distance, and which geometries are within it of which cells.

Place in the data flow: analyse. Used by :mod:`.coverage` and :mod:`.effect`; distances are measured in
the grid's metric CRS from any part of a cell (or an incident point) to any part of the intervention or
asset geometry.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from pipelines.hotspots.gistar import HotspotInputError
from pipelines.schemas import STORE_CRS

WALKING_DISTANCE_M = 400.0


def check_distance(distance_m: float) -> None:
    """Refuse a distance that is not a finite number of metres, 0 or more."""
    if not (isinstance(distance_m, (int, float)) and np.isfinite(distance_m) and distance_m >= 0):
        raise HotspotInputError(
            f"`distance_m` must be a distance in metres, 0 or more (400 is walking); got {distance_m!r}."
        )


def located(frame: gpd.GeoDataFrame, crs: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Rows with a usable geometry, reprojected to ``crs``, and the rows without one."""
    geoms = frame.geometry.values
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    source = frame.crs or STORE_CRS
    placed = gpd.GeoDataFrame(frame.loc[usable], geometry=frame.geometry.name, crs=source).to_crs(crs)
    return placed.reset_index(drop=True), frame.loc[~usable]


def within(cells: np.ndarray, items: np.ndarray, distance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (cell index, item index) within ``distance_m``."""
    if len(cells) == 0 or len(items) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    tree = shapely.STRtree(items)
    cell_index, item_index = tree.query(cells, predicate="dwithin", distance=distance_m)
    return cell_index.astype(np.int64), item_index.astype(np.int64)
