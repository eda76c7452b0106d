"""Spatial merge: give each accepted point its precinct and Safe Neighbourhood.

Place in the data flow: ``validate -> place -> store``. Points arrive as longitude and latitude
arrays (:func:`place_xy`; :func:`place_points` takes shapely points) and are matched to area polygons
through a grid of the areas' bounding boxes, then a prepared boundary-inclusive ``intersects``, so a
point on a shared border is never lost. When
a point touches several areas of one kind, the area with the smallest code wins, so the assignment
is deterministic and does not depend on the order areas were loaded. Points outside every area are
kept and counted as ``outside_areas``.

A point outside every area but within ``snap_m`` metres of one (``--snap-m``; default
``Settings.edge_tolerance_m``, 0: off) is given the nearest area and flagged ``near_boundary``:
generalised boundaries clipped to a shoreline leave bridge and riverside points just outside. It is
off unless asked, since a point just outside the areas loaded is as often a neighbouring council's
(the measurements are in ``pipelines/settings.py``).

Swapped coordinates are fixed here because only here is the study area known: when a point lies
outside every area and the same point with latitude and longitude exchanged lies inside one, the
swapped point is used and the row is flagged ``swapped_coordinates``.

Rows without a usable point can name their area instead (a ward, suburb or police station, by code
or by name): :class:`pipelines.areanames.AreaMatcher` matches those names to the stored areas of one
kind, the closest name when none is equal (:meth:`~pipelines.areanames.AreaMatcher.place`). Such a row gets that area's code and no point;
:func:`place_incidents` keeps the code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipelines import settings
from pipelines.schemas import CODE_COLUMN, COLUMNS, LAT, LON, PLACED_KINDS, has_coordinates, points_from_xy

#: The column that holds each placed kind's area code (the stores place incidents with it too).


class _BoxGrid:
    """Which area bounding boxes cover a point, from its coordinates alone.

    A regular grid over the areas' extent lists, per cell, the areas whose boxes overlap the cell;
    a point's candidates are its cell's list, kept where the box really holds the point. This is
    what ``STRtree.query`` answers for points, without a shapely point per row (making those holds
    the interpreter lock: ~0.08 s per 100k rows).
    """

    def __init__(self, bounds: np.ndarray) -> None:
        self.bounds = bounds
        minx, miny = bounds[:, 0].min(), bounds[:, 1].min()
        maxx, maxy = bounds[:, 2].max(), bounds[:, 3].max()
        self.extent = (minx, miny, maxx, maxy)
        # Cells about half the typical area box, at most 1024 a side: a point has a handful of candidates.
        sizes = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
        cell = max(float(np.median(sizes)) / 2, (maxx - minx) / 1024, (maxy - miny) / 1024, 1e-9)
        self.origin, self.cell = (minx, miny), cell
        self.shape = (int((maxx - minx) // cell) + 1, int((maxy - miny) // cell) + 1)
        first = self._cells(bounds[:, 0], bounds[:, 1])
        last = self._cells(bounds[:, 2], bounds[:, 3])
        spans = (last[0] - first[0] + 1) * (last[1] - first[1] + 1)
        area = np.repeat(np.arange(len(bounds)), spans)
        # Each area's cells, enumerated in row-major order of its span.
        step = _ragged_arange(spans)
        width = np.repeat(last[0] - first[0] + 1, spans)
        col = np.repeat(first[0], spans) + step % width
        row = np.repeat(first[1], spans) + step // width
        cell_id = col * self.shape[1] + row
        order = np.argsort(cell_id, kind="stable")
        self.areas = area[order]
        self.starts = np.searchsorted(cell_id[order], np.arange(self.shape[0] * self.shape[1] + 1))

    def _cells(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        col = np.clip(((x - self.origin[0]) // self.cell).astype(np.int64), 0, self.shape[0] - 1)
        row = np.clip(((y - self.origin[1]) // self.cell).astype(np.int64), 0, self.shape[1] - 1)
        return col, row

    def query(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point, area) pairs where the area's bounding box holds the point (edges included)."""
        minx, miny, maxx, maxy = self.extent
        ok = np.flatnonzero((x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))  # NaN fails every test
        col, row = self._cells(x[ok], y[ok])
        cell_id = col * self.shape[1] + row
        begin, count = self.starts[cell_id], self.starts[cell_id + 1] - self.starts[cell_id]
        point_idx = np.repeat(ok, count)
        area_idx = self.areas[np.repeat(begin, count) + _ragged_arange(count)]
        px, py, ab = x[point_idx], y[point_idx], self.bounds[area_idx]
        inside = (px >= ab[:, 0]) & (px <= ab[:, 2]) & (py >= ab[:, 1]) & (py <= ab[:, 3])
        return point_idx[inside], area_idx[inside]


def _ragged_arange(counts: np.ndarray) -> np.ndarray:
    """``0..count-1`` for each count, concatenated: ``[2, 0, 3] -> [0, 1, 0, 1, 2]``."""
    return np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)


@dataclass(frozen=True)
class AreaIndex:
    """Area polygons of each kind with a spatial index, built once per ingest."""

    trees: dict[str, shapely.STRtree]
    grids: dict[str, _BoxGrid]
    codes: dict[str, np.ndarray]
    geoms: dict[str, np.ndarray]

    @classmethod
    def build(cls, areas: gpd.GeoDataFrame) -> AreaIndex:
        trees, grids, codes, prepared = {}, {}, {}, {}
        for kind in PLACED_KINDS:  # wards are placed when read, in the version asked for
            subset = areas[areas[COLUMNS.kind] == kind]
            subset = subset[~(subset.geometry.isna() | subset.geometry.is_empty)]
            if not len(subset):
                continue
            # Sort by code so "first match" means "smallest code": the tie-break for borders.
            subset = subset.sort_values(COLUMNS.code, kind="stable")
            geoms = subset.geometry.to_numpy()
            shapely.prepare(geoms)
            trees[kind] = shapely.STRtree(geoms)
            grids[kind] = _BoxGrid(shapely.bounds(geoms))
            codes[kind] = subset[COLUMNS.code].to_numpy(dtype=object)
            prepared[kind] = geoms
        return cls(trees, grids, codes, prepared)

    @property
    def empty(self) -> bool:
        return not self.trees

    def assign(self, x: np.ndarray, y: np.ndarray, *, within_deg: float | None = None) -> dict[str, np.ndarray]:
        """Area code of each kind for each point ``(x, y)`` (``None`` outside).

        With ``within_deg``, the nearest area within that distance (in degrees) is used instead of
        containment: the fallback for points just outside generalised boundaries.
        """
        out = {}
        for kind in self.trees:
            if within_deg is None:
                point_idx, area_idx = self._contains(kind, x, y)
            else:
                point_idx, area_idx = self._nearest_within(kind, shapely.points(x, y), within_deg)
            codes = np.full(len(x), None, dtype=object)
            if len(point_idx):
                # Results are not ordered by area; the smallest area index (= smallest code) wins.
                order = np.lexsort((area_idx, point_idx))
                point_idx, area_idx = point_idx[order], area_idx[order]
                first = np.r_[True, point_idx[1:] != point_idx[:-1]]
                codes[point_idx[first]] = self.codes[kind][area_idx[first]]
            out[kind] = codes
        return out

    def _contains(self, kind: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point, area) pairs where the area covers the point, boundary included: the areas whose
        boxes hold the point (:class:`_BoxGrid`), then prepared ``intersects_xy`` on those."""
        point_idx, area_idx = self.grids[kind].query(x, y)
        if not len(point_idx):
            return point_idx, area_idx
        # Prepared GEOS geometries are not safe to share between threads (a parallel version of
        # this crashed with heap corruption), so this stays single-threaded.
        hit = shapely.intersects_xy(self.geoms[kind][area_idx], x[point_idx], y[point_idx])
        return point_idx[hit], area_idx[hit]

    def _nearest_within(self, kind: str, points: np.ndarray, distance: float) -> tuple[np.ndarray, np.ndarray]:
        """(point, area) pairs for the nearest areas within ``distance`` (all of them on a tie).

        A ``dwithin`` query on the prepared areas, then distances only for the few points near more
        than one area: about 6x faster than ``query_nearest`` against detailed coastlines.
        """
        point_idx, area_idx = self.trees[kind].query(points, predicate="dwithin", distance=distance)
        if not len(point_idx):
            return point_idx, area_idx
        counts = np.bincount(point_idx, minlength=len(points))
        shared = counts[point_idx] > 1
        if not shared.any():
            return point_idx, area_idx
        gaps = np.zeros(len(point_idx))
        gaps[shared] = shapely.distance(self.geoms[kind][area_idx[shared]], points[point_idx[shared]])
        closest = np.full(len(points), np.inf)
        np.minimum.at(closest, point_idx, gaps)
        keep = gaps == closest[point_idx]
        return point_idx[keep], area_idx[keep]


@dataclass(frozen=True)
class Placement:
    """Result of :func:`place_xy`: codes per kind, the (possibly swapped) coordinates and flags."""

    codes: dict[str, np.ndarray]
    x: np.ndarray
    y: np.ndarray
    swapped: np.ndarray
    outside: np.ndarray
    near_edge: np.ndarray

    @property
    def points(self) -> np.ndarray:
        """The placed points as shapely geometries (missing coordinates give missing points)."""
        return points_from_xy(self.x, self.y)


def snap_degrees(snap_m: float | None = None) -> float:
    """The near-boundary distance in degrees: ``snap_m`` metres (``Settings.edge_tolerance_m`` when
    ``None``; 0 turns snapping off). A degree of latitude is the longest, so this never reaches
    further than the distance asked for."""
    metres = settings.SETTINGS.edge_tolerance_m if snap_m is None else float(snap_m)
    if not metres >= 0:  # NaN too
        raise ValueError(f"snap_m must be 0 (no snapping) or a positive number of metres; got {snap_m!r}")
    return metres / 111_320.0


def place_xy(x: np.ndarray, y: np.ndarray, index: AreaIndex, *, snap_m: float | None = None) -> Placement:
    """Assign area codes to the points ``(x, y)`` (longitude, latitude), fixing swapped coordinates
    against the study area. Missing coordinates (NaN) are outside every area. A point outside every
    area but within ``snap_m`` metres of one (default ``Settings.edge_tolerance_m``; 0: never) is given
    the nearest area and flagged ``near_edge``."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    within_deg = snap_degrees(snap_m)
    n = len(x)
    if index.empty:
        nothing = {kind: np.full(n, None, dtype=object) for kind in PLACED_KINDS}
        return Placement(nothing, x, y, np.zeros(n, bool), np.ones(n, bool), np.zeros(n, bool))
    codes = index.assign(x, y)
    inside = np.zeros(n, bool)
    for values in codes.values():
        inside |= pd.notna(values)
    swapped = np.zeros(n, bool)
    candidates = np.flatnonzero(~inside)
    if len(candidates):
        plausible = (np.abs(x[candidates]) <= 90) & (np.abs(y[candidates]) <= 180)
        candidates = candidates[plausible]
        if len(candidates):
            flipped_codes = index.assign(y[candidates], x[candidates])
            hit = np.zeros(len(candidates), bool)
            for values in flipped_codes.values():
                hit |= pd.notna(values)
            if hit.any():
                rows = candidates[hit]
                x, y = x.copy(), y.copy()
                x[rows], y[rows] = y[rows], x[rows]
                for kind in codes:
                    codes[kind][rows] = flipped_codes[kind][hit]
                swapped[rows] = True
                inside[rows] = True
    near_edge = np.zeros(n, bool)
    remaining = np.flatnonzero(~inside & ~(np.isnan(x) | np.isnan(y)))
    if len(remaining) and within_deg > 0:
        # Generalised boundaries (clipped to the shoreline, simplified) leave real points a few metres outside.
        nearest = index.assign(x[remaining], y[remaining], within_deg=within_deg)
        hit = np.zeros(len(remaining), bool)
        for values in nearest.values():
            hit |= pd.notna(values)
        for kind in codes:
            fill = hit & pd.isna(codes[kind][remaining])
            codes[kind][remaining[fill]] = nearest[kind][fill]
        near_edge[remaining[hit]] = True
        inside[remaining[hit]] = True
    return Placement(codes, x, y, swapped, ~inside, near_edge)


def lands_in_areas(x: np.ndarray, y: np.ndarray, index: AreaIndex, *, snap_m: float | None = None) -> np.ndarray:
    """Whether each point ``(x, y)`` lies in a stored area of any kind, or within ``snap_m`` metres of one
    (all True when no areas are loaded: nothing to judge against)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if index.empty:
        return np.ones(len(x), bool)
    inside = np.zeros(len(x), bool)
    for values in index.assign(x, y).values():
        inside |= pd.notna(values)
    within_deg = snap_degrees(snap_m)
    rest = np.flatnonzero(~inside & ~(np.isnan(x) | np.isnan(y)))
    if len(rest) and within_deg > 0:
        for values in index.assign(x[rest], y[rest], within_deg=within_deg).values():
            inside[rest[pd.notna(values)]] = True
    return inside


def place_points(points: np.ndarray, index: AreaIndex, *, snap_m: float | None = None) -> Placement:
    """:func:`place_xy` for shapely points (missing or empty points are outside every area)."""
    points = np.asarray(points, dtype=object)
    return place_xy(shapely.get_x(points), shapely.get_y(points), index, snap_m=snap_m)


def place_incidents(
    incidents: pd.DataFrame, areas: gpd.GeoDataFrame | AreaIndex, *, snap_m: float | None = None
) -> tuple[pd.DataFrame, Placement]:
    """Return ``incidents`` with ``precinct_code``/``neighbourhood_code`` set, and the placement.

    ``incidents`` is a GeoDataFrame of points or a frame with :data:`~pipelines.schemas.LON` and
    :data:`~pipelines.schemas.LAT` columns; the result has the same form (swapped points fixed).
    A row without a point keeps the area codes it came with (placed by the area it names, see
    :class:`~pipelines.areanames.AreaMatcher`) and is not counted as outside. ``snap_m``: see :func:`place_xy`.
    """
    index = areas if isinstance(areas, AreaIndex) else AreaIndex.build(areas)
    if has_coordinates(incidents):
        placement = place_xy(
            incidents[LON].to_numpy(dtype=float), incidents[LAT].to_numpy(dtype=float), index, snap_m=snap_m
        )
        placed = incidents.assign(**{LON: placement.x, LAT: placement.y})
    else:
        placement = place_points(incidents.geometry.to_numpy(), index, snap_m=snap_m)
        placed = incidents.set_geometry(gpd.GeoSeries(placement.points, index=incidents.index, crs=incidents.crs))
    no_point = np.isnan(placement.x) | np.isnan(placement.y)
    by_name = np.zeros(len(placed), bool)
    for kind, column in CODE_COLUMN.items():
        codes = placement.codes.get(kind, np.full(len(placed), None, dtype=object))
        if no_point.any() and column in incidents:
            given = incidents[column].to_numpy(dtype=object)
            keep = no_point & pd.notna(given)
            codes = np.where(keep, given, codes)
            by_name |= keep
        placed[column] = codes
    if by_name.any():
        placement = replace(placement, outside=placement.outside & ~by_name)
    return placed, placement
