"""Aggregate incidents to a regular grid: H3 hexagons or a square fishnet in a metric CRS.

Place in the data flow: analyse. Takes an incidents frame (:data:`pipelines.schemas.INCIDENTS`,
EPSG:4326) and optionally the Safe Neighbourhood or precinct polygon, and returns a :class:`Grid`:
one row per cell with its incident count, plus the cell adjacency that every local statistic in this
package (Gi*, Local Moran, emerging hot spots) uses as its spatial weights.

Which cells make up the grid matters as much as the counts. Gi* compares each neighbourhood with the
mean over *all* cells, so cells with no incidents must be present. When an area is given, the grid is
every cell whose centre lies in the area, plus every cell that holds a counted incident (so an
incident next to the boundary is never lost). Without an area, the grid covers the incidents'
bounding box.

Spatial weights are binary contiguity: H3 cells that share an edge (``grid_ring(cell, 1)``, six
neighbours) or fishnet squares that share an edge or a corner (queen, eight neighbours). Binary is what
ArcGIS uses for Gi* on an aggregation grid; the statistics modules add the self-weight for Gi* and row-
standardise for Local Moran themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from h3.api import basic_int as h3i
from pyproj import CRS, Transformer
from scipy import sparse

from pipelines import hexes
from pipelines.errors import AreaSafeError
from pipelines.hotspots._columns import CATEGORY, CELL_ID, COUNT, LAT, LON, OCCURRED_AT, SOURCE
from pipelines.periods import TimeLike, to_utc
from pipelines.schemas import SOURCES, STORE_CRS

GRID_KINDS = ("h3", "fishnet")
DEFAULT_RESOLUTION = 9
DEFAULT_CELL_SIZE_M = 250.0
MIN_CELLS = 30  # ArcGIS's floor for hot spot analysis: fewer features and the local statistics are unreliable

_QUEEN = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))
_OFFSET = 1 << 30  # shifts fishnet column/row numbers to non-negative before packing them in one int64


class GridError(AreaSafeError):
    """The grid cannot be built from these inputs; the message says which argument to fix."""


@dataclass(frozen=True)
class GridSpec:
    """How to cut space into cells.

    Attributes
    ----------
    kind : {"h3", "fishnet"}
        Hexagons from Uber's H3 index, or squares in a metric CRS.
    resolution : int
        H3 resolution, 0 (continent) to 15 (about 1 m²). Resolution 9 cells are about 0.1 km² (edge
        about 175 m), close to a street block; 8 is about 0.74 km².
    cell_size_m : float
        Side of a fishnet square in metres.
    crs : str or None
        Metric CRS for the fishnet and for distances; ``None`` picks the UTM zone of the data.
    """

    kind: str = "h3"
    resolution: int = DEFAULT_RESOLUTION
    cell_size_m: float = DEFAULT_CELL_SIZE_M
    crs: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in GRID_KINDS:
            raise GridError(f"grid kind must be one of {', '.join(GRID_KINDS)}; got {self.kind!r}.")
        if isinstance(self.resolution, bool) or not isinstance(self.resolution, (int, np.integer)):
            raise GridError(f"H3 resolution must be a whole number from 0 to 15; got {self.resolution!r}.")
        if not 0 <= int(self.resolution) <= 15:
            raise GridError(f"H3 resolution must be from 0 to 15 (9 is a street block); got {self.resolution}.")
        if not np.isfinite(self.cell_size_m) or self.cell_size_m <= 0:
            raise GridError(f"fishnet cell_size_m must be a positive number of metres; got {self.cell_size_m!r}.")
        if self.crs is not None and not CRS.from_user_input(self.crs).is_projected:
            raise GridError(f"grid crs must be a projected (metric) CRS such as EPSG:32734; got {self.crs!r}.")


@dataclass(frozen=True, eq=False)
class Grid:
    """Incident counts on a regular grid, with the cell adjacency.

    Attributes
    ----------
    spec : GridSpec
        How the cells were cut.
    cells : geopandas.GeoDataFrame
        One row per cell, index ``0..n-1``: ``cell_id`` (H3 hex string, or ``"<size>m_<col>_<row>"`` for
        the fishnet), ``count`` (incidents), ``lat``/``lon`` (cell centre) and the cell polygon, EPSG:4326.
    neighbours : scipy.sparse.csr_array
        ``n × n`` binary adjacency aligned with ``cells``; symmetric, zero diagonal.
    incidents : geopandas.GeoDataFrame
        The incidents that were counted (after the filters and the clip), with a ``cell_id`` column.
    positions : numpy.ndarray
        For each row of ``incidents``, the row of its cell in ``cells``.
    metric_crs : str
        The metric CRS used for the fishnet and for distances (a UTM zone unless ``spec.crs`` is set).
    keys : numpy.ndarray
        Sorted int64 cell keys aligned with ``cells`` (the H3 index, or the packed fishnet column/row).
    start, end : pandas.Timestamp or None
        The period filter applied (UTC, ``end`` exclusive).
    """

    spec: GridSpec
    cells: gpd.GeoDataFrame
    neighbours: sparse.csr_array
    incidents: gpd.GeoDataFrame
    positions: np.ndarray
    metric_crs: str
    keys: np.ndarray = field(repr=False)
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None

    @property
    def n(self) -> int:
        """Number of cells."""
        return len(self.cells)

    @property
    def counts(self) -> np.ndarray:
        """Incident count per cell, as float (the statistics' input)."""
        return self.cells[COUNT].to_numpy(dtype=float)

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Row in :attr:`cells` of the cell holding each point, ``-1`` when it is not a grid cell."""
        keys = _point_keys(np.asarray(lon, float), np.asarray(lat, float), self.spec, self.metric_crs)
        return _lookup(self.keys, keys)

    def locate_incidents(self, incidents: gpd.GeoDataFrame) -> np.ndarray:
        """:meth:`locate` for an incidents frame; rows without a usable point get ``-1``."""
        lon, lat, ok = point_xy(incidents)
        out = np.full(len(incidents), -1, dtype=np.int64)
        out[ok] = self.locate(lon[ok], lat[ok])
        return out

    def to_w(self):
        """The adjacency as a binary :class:`libpysal.weights.W` keyed by ``cell_id`` (for esda)."""
        from libpysal.weights import WSP

        ids = self.cells[CELL_ID].tolist()
        return WSP(sparse.csr_matrix(self.neighbours), id_order=ids).to_W(silence_warnings=True)


# --------------------------------------------------------------------------------------------------
# Public recipe
# --------------------------------------------------------------------------------------------------
def build_grid(
    incidents: gpd.GeoDataFrame,
    *,
    area=None,
    spec: GridSpec | None = None,
    start: TimeLike = None,
    end: TimeLike = None,
    categories: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
) -> Grid:
    """Count incidents per cell of an H3 or fishnet grid.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Incidents frame, EPSG:4326, point geometry.
    area : GeoDataFrame, GeoSeries, shapely geometry or None
        Safe Neighbourhood or precinct polygon(s) to clip to (EPSG:4326; shapely geometries are taken
        to be lon/lat). ``None`` covers the incidents' bounding box.
    spec : GridSpec, optional
        H3 resolution 9 by default.
    start, end : str, datetime, Timestamp or Period, optional
        Keep incidents with ``start <= occurred_at < end``; naive values are local time.
    categories, sources : sequence of str, optional
        Keep only these canonical categories / sources (``municipal``, ``community``).

    Returns
    -------
    Grid
    """
    spec = spec or GridSpec()
    _check_incidents(incidents)
    selected = select_incidents(incidents, start=start, end=end, categories=categories, sources=sources)
    area_geom = area_geometry(area)
    lon, lat, ok = point_xy(selected)
    if area_geom is not None:
        ok[ok] = shapely.contains_xy(area_geom, lon[ok], lat[ok])
    selected = selected.loc[ok]
    lon, lat = lon[ok], lat[ok]
    metric_crs = spec.crs or _utm_for(area_geom, lon, lat)
    point_keys = _point_keys(lon, lat, spec, metric_crs)
    keys = np.union1d(_cover_keys(area_geom, lon, lat, spec, metric_crs), point_keys)
    positions = _lookup(keys, point_keys)
    cells = _cells_frame(keys, spec, metric_crs, np.bincount(positions, minlength=len(keys)))
    counted = selected.assign(**{CELL_ID: cells[CELL_ID].to_numpy()[positions]})
    return Grid(
        spec=spec,
        cells=cells,
        neighbours=_adjacency(keys, spec),
        incidents=counted,
        positions=positions,
        metric_crs=metric_crs,
        keys=keys,
        start=to_utc(start),
        end=to_utc(end),
    )


def select_incidents(
    incidents: gpd.GeoDataFrame,
    *,
    start: TimeLike = None,
    end: TimeLike = None,
    categories: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Incidents in ``[start, end)`` with the given categories and sources (``None``: no filter)."""
    categories = [categories] if isinstance(categories, str) else categories
    sources = [sources] if isinstance(sources, str) else sources
    keep = np.ones(len(incidents), dtype=bool)
    start, end = to_utc(start), to_utc(end)
    if start is not None or end is not None:
        occurred = pd.to_datetime(incidents[OCCURRED_AT], utc=True)
        if start is not None:
            keep &= (occurred >= start).to_numpy(dtype=bool, na_value=False)
        if end is not None:
            keep &= (occurred < end).to_numpy(dtype=bool, na_value=False)
    if categories is not None:
        keep &= incidents[CATEGORY].isin(list(categories)).to_numpy()
    if sources is not None:
        unknown = sorted(set(sources) - set(SOURCES))
        if unknown:
            raise GridError(f"unknown source {unknown[0]!r}; sources are {', '.join(SOURCES)}.")
        keep &= incidents[SOURCE].isin(list(sources)).to_numpy()
    return incidents.loc[keep]


def suggest_resolution(
    area, *, min_cells: int = MIN_CELLS, coarsest: int = DEFAULT_RESOLUTION, finest: int = 11
) -> int:
    """The coarsest H3 resolution, from ``coarsest`` to ``finest``, at which ``area`` holds ``min_cells`` cells.

    A Safe Neighbourhood of 1.7 km² holds about 16 resolution-9 cells, too few for Gi*, but about 110 at
    resolution 10; a 20 km² precinct holds about 190 at resolution 9.
    """
    geom = area_geometry(area)
    if geom is None:
        raise GridError("`area` is required to suggest a resolution; pass the neighbourhood or precinct boundary.")
    for resolution in range(coarsest, finest + 1):
        if len(h3i.geo_to_cells(geom, resolution)) >= min_cells:
            return resolution
    return finest


def utm_crs(lon: float, lat: float) -> str:
    """The WGS 84 / UTM zone CRS (``EPSG:327zz`` south, ``326zz`` north) containing a point."""
    zone = int(np.clip(np.floor((lon + 180.0) / 6.0) + 1, 1, 60))
    return f"EPSG:{(32700 if lat < 0 else 32600) + zone}"


# --------------------------------------------------------------------------------------------------
# Private steps
# --------------------------------------------------------------------------------------------------
def _check_incidents(incidents) -> None:
    if not isinstance(incidents, gpd.GeoDataFrame):
        raise GridError(f"`incidents` must be a GeoDataFrame; got {type(incidents).__name__}.")
    missing = [c for c in (OCCURRED_AT, CATEGORY, SOURCE) if c not in incidents.columns]
    if missing:
        raise GridError(
            f"`incidents` lacks {'column' if len(missing) == 1 else 'columns'} {', '.join(missing)}; pass a frame read from the store."
        )
    if incidents.crs is not None and not CRS.from_user_input(incidents.crs).equals(CRS.from_user_input(STORE_CRS)):
        raise GridError(f"`incidents` CRS is {incidents.crs.to_string()}, expected {STORE_CRS}; call to_crs() first.")


def point_xy(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """lon, lat of each row and a mask of rows with a non-empty point."""
    geoms = frame.geometry.values
    ok = (shapely.get_type_id(geoms) == 0) & ~shapely.is_empty(geoms)
    lon = np.full(len(frame), np.nan)
    lat = np.full(len(frame), np.nan)
    lon[ok] = shapely.get_x(geoms[ok])
    lat[ok] = shapely.get_y(geoms[ok])
    ok &= np.isfinite(lon) & np.isfinite(lat)
    return lon, lat, ok


def area_geometry(area):
    if area is None:
        return None
    if isinstance(area, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if area.crs is not None:
            area = area.to_crs(STORE_CRS)
        geom = shapely.union_all(area.geometry.values if isinstance(area, gpd.GeoDataFrame) else area.values)
    elif isinstance(area, shapely.Geometry):
        geom = area
    else:
        raise GridError(f"`area` must be a GeoDataFrame, GeoSeries or shapely polygon; got {type(area).__name__}.")
    if geom is None or geom.is_empty or shapely.get_type_id(geom) not in (3, 6, 7):
        raise GridError("`area` has no polygon to clip to; pass the neighbourhood or precinct boundary.")
    shapely.prepare(geom)
    return geom


def _utm_for(area_geom, lon: np.ndarray, lat: np.ndarray) -> str:
    if area_geom is not None:
        c = area_geom.centroid
        return utm_crs(c.x, c.y)
    if len(lon):
        return utm_crs(float(np.median(lon)), float(np.median(lat)))
    return utm_crs(18.5, -33.9)  # no data at all: any metric CRS will do; Cape Town's zone


def _to_metric(lon: np.ndarray, lat: np.ndarray, metric_crs: str) -> tuple[np.ndarray, np.ndarray]:
    return Transformer.from_crs(STORE_CRS, metric_crs, always_xy=True).transform(lon, lat)


def _point_keys(lon: np.ndarray, lat: np.ndarray, spec: GridSpec, metric_crs: str) -> np.ndarray:
    """One int64 key per point: the H3 index, or the packed fishnet column and row."""
    if len(lon) == 0:
        return np.empty(0, dtype=np.int64)
    if spec.kind == "h3":
        return hexes.point_cell_ints(lon, lat, int(spec.resolution))
    x, y = _to_metric(lon, lat, metric_crs)
    return _pack(np.floor(x / spec.cell_size_m).astype(np.int64), np.floor(y / spec.cell_size_m).astype(np.int64))


def _cover_keys(area_geom, lon, lat, spec: GridSpec, metric_crs: str) -> np.ndarray:
    """Keys of the cells whose centre lies in the area (or in the points' bounding box)."""
    if area_geom is None:
        if len(lon) == 0:
            return np.empty(0, dtype=np.int64)
        area_geom = shapely.box(lon.min(), lat.min(), lon.max(), lat.max())
        if area_geom.area == 0:  # all points on one line or spot: their own cells are the grid
            return np.empty(0, dtype=np.int64)
    if spec.kind == "h3":
        return np.asarray(h3i.geo_to_cells(area_geom, int(spec.resolution)), dtype=np.int64)
    size = spec.cell_size_m
    metric = shapely.transform(area_geom, lambda xy: np.column_stack(_to_metric(xy[:, 0], xy[:, 1], metric_crs)))
    minx, miny, maxx, maxy = metric.bounds
    cols = np.arange(np.floor(minx / size), np.floor(maxx / size) + 1, dtype=np.int64)
    rows = np.arange(np.floor(miny / size), np.floor(maxy / size) + 1, dtype=np.int64)
    cc, rr = (a.ravel() for a in np.meshgrid(cols, rows))
    shapely.prepare(metric)
    inside = shapely.contains_xy(metric, (cc + 0.5) * size, (rr + 0.5) * size)
    return _pack(cc[inside], rr[inside])


def _pack(cols: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return ((cols + _OFFSET) << 32) | (rows + _OFFSET)


def _unpack(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (keys >> 32) - _OFFSET, (keys & 0xFFFFFFFF) - _OFFSET


def _lookup(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Position of each key in ``sorted_keys``, ``-1`` where absent."""
    if len(sorted_keys) == 0:
        return np.full(len(keys), -1, dtype=np.int64)
    pos = np.searchsorted(sorted_keys, keys)
    pos = np.minimum(pos, len(sorted_keys) - 1)
    return np.where(sorted_keys[pos] == keys, pos, -1).astype(np.int64)


def _cells_frame(keys: np.ndarray, spec: GridSpec, metric_crs: str, counts: np.ndarray) -> gpd.GeoDataFrame:
    if spec.kind == "h3":
        ids = hexes.cell_names(keys)
        lon, lat = hexes.cell_centres(keys)
        geoms = hexes.cell_polygons(keys)
    else:
        size = spec.cell_size_m
        cols, rows = _unpack(keys)
        ids = [f"{size:g}m_{c}_{r}" for c, r in zip(cols.tolist(), rows.tolist(), strict=True)]
        boxes = shapely.box(cols * size, rows * size, (cols + 1) * size, (rows + 1) * size)
        geoms = gpd.GeoSeries(boxes, crs=metric_crs).to_crs(STORE_CRS).values
        back = Transformer.from_crs(metric_crs, STORE_CRS, always_xy=True)
        lon, lat = back.transform((cols + 0.5) * size, (rows + 0.5) * size)
    return gpd.GeoDataFrame(
        {
            CELL_ID: ids,
            COUNT: np.asarray(counts, dtype=np.int64),
            LAT: np.asarray(lat, dtype=float),
            LON: np.asarray(lon, dtype=float),
        },
        geometry=gpd.GeoSeries(geoms, crs=STORE_CRS).values,
        crs=STORE_CRS,
    )


def _adjacency(keys: np.ndarray, spec: GridSpec) -> sparse.csr_array:
    n = len(keys)
    if spec.kind == "h3":
        rows, cols = [], []
        for i, key in enumerate(keys.tolist()):
            ring = h3i.grid_ring(key, 1)
            rows.extend([i] * len(ring))
            cols.extend(ring)
        rows = np.asarray(rows, dtype=np.int64)
        cols = _lookup(keys, np.asarray(cols, dtype=np.int64))
    else:
        c, r = _unpack(keys)
        rows = np.tile(np.arange(n), len(_QUEEN))
        cols = np.concatenate([_lookup(keys, _pack(c + dc, r + dr)) for dc, dr in _QUEEN])
    found = cols >= 0
    adjacency = sparse.csr_array((np.ones(found.sum()), (rows[found], cols[found])), shape=(n, n))
    adjacency.sum_duplicates()
    adjacency.sort_indices()
    return adjacency
