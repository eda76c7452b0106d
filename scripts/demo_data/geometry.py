"""Geometry helpers of the demo generator: offsets in metres, distances, polygon cleaning, sampling.

Place in the data flow: used by every simulation step (``areas``, ``incidents``, ``survey``, ``registers``) and
by ``files``. The CRSs and the 6-decimal precision are how the files are written, not part of the specification.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike

WGS84 = "EPSG:4326"
METRIC_CRS = "EPSG:32734"  # UTM 34S, metres, for areas and the population estimate
COORD_DECIMALS = 6
METRES_PER_DEG_LAT = 111_320.0


def offset(lat: ArrayLike, lon: ArrayLike, east_m: ArrayLike, north_m: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Move a point by metres east/north (equirectangular approximation, fine at a few km).

    Parameters
    ----------
    lat, lon : float or numpy.ndarray
        Origin in degrees.
    east_m, north_m : float or numpy.ndarray
        Displacement in metres.

    Returns
    -------
    tuple of numpy.ndarray
        New latitude and longitude in degrees.
    """
    lat = np.asarray(lat, dtype=float)
    new_lat = lat + np.asarray(north_m) / METRES_PER_DEG_LAT
    new_lon = np.asarray(lon, dtype=float) + np.asarray(east_m) / (METRES_PER_DEG_LAT * np.cos(np.radians(lat)))
    return new_lat, new_lon


def distance_m(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> np.ndarray:
    """Approximate ground distance in metres between points a few km apart."""
    mean_lat = np.radians((np.asarray(lat1) + np.asarray(lat2)) / 2)
    north = (np.asarray(lat2) - np.asarray(lat1)) * METRES_PER_DEG_LAT
    east = (np.asarray(lon2) - np.asarray(lon1)) * METRES_PER_DEG_LAT * np.cos(mean_lat)
    return np.hypot(north, east)


def fmt_coord(values: np.ndarray) -> list[str]:
    """Coordinates as fixed 6-decimal strings (empty for NaN)."""
    return ["" if math.isnan(v) else f"{v:.{COORD_DECIMALS}f}" for v in values]


def round_geometry(geom: shapely.Geometry) -> shapely.Geometry:
    """Round every coordinate to 6 decimals (about 0.1 m)."""
    return shapely.transform(geom, lambda xy: np.round(xy, COORD_DECIMALS))


def clean_polygons(geoms: Sequence[shapely.Geometry]) -> tuple[list[shapely.Geometry], dict[str, int]]:
    """Make polygons valid, round them to 6 decimals and orient them as RFC 7946 asks.

    Parameters
    ----------
    geoms : sequence of shapely.Geometry
        Polygons or multipolygons in EPSG:4326.

    Returns
    -------
    list of shapely.Geometry
        Valid, rounded, counter-clockwise polygons.
    dict
        ``invalid_as_read`` and ``invalid_after_rounding``: how many geometries ``make_valid`` repaired.
    """
    repairs = {"invalid_as_read": 0, "invalid_after_rounding": 0}
    cleaned = []
    for geom in geoms:
        if not geom.is_valid:
            repairs["invalid_as_read"] += 1
            geom = shapely.make_valid(geom)
        geom = round_geometry(geom)
        if not geom.is_valid:
            repairs["invalid_after_rounding"] += 1
            geom = shapely.make_valid(geom)
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise ValueError(f"make_valid turned a polygon into {geom.geom_type}; inspect the source geometry")
        cleaned.append(shapely.orient_polygons(geom, exterior_cw=False))
    return cleaned, repairs


def sample_in_polygon(rng: np.random.Generator, polygon: shapely.Geometry, n: int, *, batch: int = 4096) -> np.ndarray:
    """Uniform random points inside a polygon by rejection from its bounding box.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, 2)``: latitude, longitude.
    """
    shapely.prepare(polygon)
    minx, miny, maxx, maxy = polygon.bounds
    found: list[np.ndarray] = []
    total = 0
    while total < n:
        xs = rng.uniform(minx, maxx, batch)
        ys = rng.uniform(miny, maxy, batch)
        inside = shapely.contains_xy(polygon, xs, ys)
        found.append(np.column_stack([ys[inside], xs[inside]]))
        total += int(inside.sum())
    return np.vstack(found)[:n] if found else np.empty((0, 2))


def point_in_areas(areas: gpd.GeoDataFrame, lat: np.ndarray, lon: np.ndarray, column: str) -> np.ndarray:
    """The ``column`` value of the area containing each point (None outside every area)."""
    result = np.full(len(lat), None, dtype=object)
    for value, geom in zip(areas[column], areas.geometry, strict=True):
        shapely.prepare(geom)
        inside = shapely.contains_xy(geom, lon, lat)
        result[inside & pd.isna(result)] = value
    return result
