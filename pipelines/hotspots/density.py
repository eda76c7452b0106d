"""Kernel density surface for the heat layer.

Place in the data flow: analyse. :func:`density_surface` turns incident points into a smoothed raster of
incidents per km², for a map's heat layer.

Method: bin the points into a fine square grid in a metric CRS (``numpy.histogram2d``), divide by the
cell area, then convolve with a Gaussian of standard deviation ``bandwidth_m``
(``scipy.ndimage.gaussian_filter``, truncated at 4 σ). The result equals a Gaussian kernel density
estimate with every point moved to its cell centre, so the error is at most half a cell; it costs one
pass over the points, which is why it stays near a tenth of a second at a million points where a
per-point KDE takes seconds. The raster is padded by 4 σ so no mass is lost at the edges, and the total
over the raster equals the number of points (up to that truncation).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy import ndimage

from pipelines.hotspots._columns import LAT, LON
from pipelines.hotspots.gistar import HotspotInputError
from pipelines.hotspots.grid import area_geometry, point_xy, utm_crs
from pipelines.schemas import STORE_CRS

DENSITY = "density"
_TRUNCATE = 4.0
_MAX_CELLS = 25_000_000  # a 5000 × 5000 raster; beyond that the caller should coarsen the cells


@dataclass(frozen=True, eq=False)
class DensitySurface:
    """A smoothed density raster.

    Attributes
    ----------
    values : numpy.ndarray
        ``rows × cols`` incidents per km²; row 0 is the *northern* edge (image order).
    x_edges, y_edges : numpy.ndarray
        Cell edges in ``crs`` metres (``y_edges`` ascending, so ``values[::-1]`` lines up with them).
    crs : str
        The metric CRS of the raster.
    cell_size_m, bandwidth_m : float
        Raster cell side and Gaussian standard deviation.
    n_points : int
        Points that went into the surface.
    bounds : tuple
        ``((south, west), (north, east))`` in degrees, the form folium's ``ImageOverlay`` takes. The
        raster is square in ``crs``; over a city the distortion against lon/lat is negligible.
    """

    values: np.ndarray
    x_edges: np.ndarray
    y_edges: np.ndarray
    crs: str
    cell_size_m: float
    bandwidth_m: float
    n_points: int
    bounds: tuple[tuple[float, float], tuple[float, float]]

    def to_frame(self, *, min_fraction: float = 0.01) -> pd.DataFrame:
        """Cell centres with ``lat``, ``lon`` and ``density`` (per km²) where density is at least
        ``min_fraction`` of the maximum: the weighted points a folium ``HeatMap`` takes."""
        if self.values.size == 0 or not np.isfinite(self.values).any() or self.values.max() <= 0:
            return pd.DataFrame({LAT: [], LON: [], DENSITY: []})
        rows, cols = np.nonzero(self.values >= min_fraction * self.values.max())
        x = (self.x_edges[cols] + self.x_edges[cols + 1]) / 2
        north_first = self.y_edges[::-1]
        y = (north_first[rows] + north_first[rows + 1]) / 2
        lon, lat = Transformer.from_crs(self.crs, STORE_CRS, always_xy=True).transform(x, y)
        return pd.DataFrame({LAT: lat, LON: lon, DENSITY: self.values[rows, cols]})


def density_surface(
    incidents: gpd.GeoDataFrame,
    *,
    cell_size_m: float = 50.0,
    bandwidth_m: float = 150.0,
    area=None,
    crs: str | None = None,
) -> DensitySurface:
    """Gaussian kernel density of incident points, in incidents per km².

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Points in EPSG:4326 (already filtered to the period and categories wanted).
    cell_size_m : float
        Raster cell side in metres (50 by default).
    bandwidth_m : float
        Gaussian standard deviation in metres (150 by default, about two street blocks).
    area : GeoDataFrame, GeoSeries or shapely geometry, optional
        Raster extent (plus the padding); the points' extent when omitted. Points are not clipped.
    crs : str, optional
        Metric CRS; the UTM zone of the data when omitted.
    """
    if not cell_size_m > 0 or not bandwidth_m > 0:
        raise HotspotInputError(
            f"`cell_size_m` and `bandwidth_m` must be positive metres; got {cell_size_m!r} and {bandwidth_m!r}."
        )
    lon, lat, ok = point_xy(incidents)
    lon, lat = lon[ok], lat[ok]
    area_geom = area_geometry(area)
    if crs is None:
        if area_geom is not None:
            crs = utm_crs(area_geom.centroid.x, area_geom.centroid.y)
        elif len(lon):
            crs = utm_crs(float(np.median(lon)), float(np.median(lat)))
        else:
            crs = utm_crs(18.5, -33.9)
    forward = Transformer.from_crs(STORE_CRS, crs, always_xy=True)
    x, y = forward.transform(lon, lat)
    if area_geom is not None:
        west, south, east, north = area_geom.bounds
        ax, ay = forward.transform([west, east, west, east], [south, south, north, north])
        extent = (min(ax), min(ay), max(ax), max(ay))
    elif len(x):
        extent = (x.min(), y.min(), x.max(), y.max())
    else:
        extent = None
    if extent is None:
        empty = np.zeros((0, 0))
        return DensitySurface(empty, np.zeros(1), np.zeros(1), crs, cell_size_m, bandwidth_m, 0, ((0, 0), (0, 0)))
    pad = _TRUNCATE * bandwidth_m + cell_size_m
    x0 = np.floor((extent[0] - pad) / cell_size_m) * cell_size_m
    y0 = np.floor((extent[1] - pad) / cell_size_m) * cell_size_m
    cols = int(np.ceil((extent[2] + pad - x0) / cell_size_m))
    rows = int(np.ceil((extent[3] + pad - y0) / cell_size_m))
    if rows * cols > _MAX_CELLS:
        raise HotspotInputError(
            f"a {cell_size_m:g} m density raster over this extent would have {rows * cols:,} cells; "
            "use a larger `cell_size_m` or a smaller `area`."
        )
    x_edges = x0 + cell_size_m * np.arange(cols + 1)
    y_edges = y0 + cell_size_m * np.arange(rows + 1)
    counts = _histogram(x, y, x0, y0, cell_size_m, rows, cols)
    per_km2 = counts / (cell_size_m**2 / 1e6)
    smooth = ndimage.gaussian_filter(per_km2, sigma=bandwidth_m / cell_size_m, mode="constant", truncate=_TRUNCATE)
    back = Transformer.from_crs(crs, STORE_CRS, always_xy=True)
    lons, lats = back.transform([x_edges[0], x_edges[-1], x_edges[0], x_edges[-1]], [y0, y0, y_edges[-1], y_edges[-1]])
    bounds = ((min(lats), min(lons)), (max(lats), max(lons)))
    return DensitySurface(smooth[::-1], x_edges, y_edges, crs, cell_size_m, bandwidth_m, int(len(x)), bounds)


def _histogram(x, y, x0, y0, size, rows, cols) -> np.ndarray:
    # integer binning + bincount is several times faster than numpy.histogram2d on a million points
    col = np.floor((x - x0) / size).astype(np.int64)
    row = np.floor((y - y0) / size).astype(np.int64)
    inside = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
    flat = row[inside] * cols + col[inside]
    return np.bincount(flat, minlength=rows * cols).reshape(rows, cols).astype(float)
