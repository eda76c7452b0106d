"""H3 hexagons: which cell a point is in, and where a cell is (its centre and its polygon).

Place in the data flow: analyse and show. The hot spot grid, the agenda's "which hot spot is this report
in", the privacy rules' generalised points and published cells, the map's hexagon layer and every export
of hexagons call this module; nothing else turns a point into a cell or a cell into a shape.

Points are longitude and latitude in ``STORE_CRS`` (EPSG:4326); cells are H3 indexes as hex strings
(``"89bc..."``), or as ``int64`` for the hot spot grid, which sorts and searches them.

h3 4.x has no vectorised calls, so each function indexes each *distinct* input once, in a plain loop over
Python numbers (the fastest loop there is), and maps the answers back to every row.
"""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import shapely
from h3.api import basic_int as h3i

#: Steps per degree of the grid :func:`point_cells` snaps points to with ``snap=True`` (1e-4 degrees,
#: about 11 m).
SNAP_PER_DEGREE = 10_000


def point_cells(lon: np.ndarray, lat: np.ndarray, resolution: int, *, snap: bool = False) -> np.ndarray:
    """The H3 cell (hex string) of each point at ``resolution``, an object array aligned to the input.

    With ``snap``, coordinates are first rounded to 1e-4 degrees (:data:`SNAP_PER_DEGREE`), so that points at
    the same spot share one lookup; at resolution 9 (edge about 174 m) this moves only points within a
    few metres of a cell edge. The map's hexagons and the published counts snap; the hot spot grid and
    the agenda do not.
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if snap:
        lon, lat = np.round(lon * SNAP_PER_DEGREE) / SNAP_PER_DEGREE, np.round(lat * SNAP_PER_DEGREE) / SNAP_PER_DEGREE
    codes, ulon, ulat = _distinct(lon, lat)
    cells = np.array([h3.latlng_to_cell(y, x, resolution) for y, x in zip(ulat, ulon, strict=True)], dtype=object)
    return cells[codes]


def point_cell_ints(lon: np.ndarray, lat: np.ndarray, resolution: int) -> np.ndarray:
    """The H3 cell of each point at ``resolution`` as ``int64`` (the hot spot grid's keys), unsnapped."""
    codes, ulon, ulat = _distinct(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    cells = np.array([h3i.latlng_to_cell(y, x, resolution) for y, x in zip(ulat, ulon, strict=True)], np.int64)
    return cells[codes]


def cell_names(cells: np.ndarray) -> list[str]:
    """``int64`` H3 cells as hex strings."""
    return [h3.int_to_str(int(c)) for c in np.asarray(cells).tolist()]


def cell_centres(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(lon, lat)`` of the centres of H3 ``cells`` (hex strings or ``int64``)."""
    unique, inverse = _unique_cells(cells)
    to_latlng = h3i.cell_to_latlng if unique.dtype.kind in "iu" else h3.cell_to_latlng
    centres = np.array([to_latlng(c) for c in unique.tolist()], dtype=float).reshape(-1, 2)
    return centres[inverse, 1], centres[inverse, 0]


def cell_polygons(cells: np.ndarray) -> np.ndarray:
    """The hexagon of each H3 cell (hex strings or ``int64``) as a shapely polygon in lon/lat.

    Vertices in H3's order (counter-clockwise), the ring closed by repeating the first vertex; the same
    polygons as ``shapely.Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(cell)])``, built at once.
    """
    unique, inverse = _unique_cells(cells)
    if not len(unique):
        return np.empty(0, dtype=object)
    to_boundary = h3i.cell_to_boundary if unique.dtype.kind in "iu" else h3.cell_to_boundary
    boundaries = [to_boundary(c) for c in unique.tolist()]
    sizes = np.fromiter((len(b) for b in boundaries), dtype=np.int64, count=len(boundaries))
    latlng = np.array([vertex for boundary in boundaries for vertex in boundary], dtype=float).reshape(-1, 2)
    rings = shapely.linearrings(latlng[:, ::-1], indices=np.repeat(np.arange(len(unique)), sizes))
    return shapely.polygons(rings)[inverse]


# --------------------------------------------------------------------------------------------------
def _distinct(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, list[float], list[float]]:
    """Each point's position among the distinct points, and their coordinates as Python floats.

    Hashed as one complex number per point (linear time; missing coordinates are kept, for h3 to refuse)."""
    if not len(lon):
        return np.empty(0, dtype=np.int64), [], []
    codes, unique = pd.factorize(lon + 1j * lat, use_na_sentinel=False)
    return codes, unique.real.tolist(), unique.imag.tolist()


def _unique_cells(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(cells)
    if values.dtype.kind not in "iu":
        values = values.astype(object).astype(str)
    unique, inverse = np.unique(values, return_inverse=True)
    return unique, inverse.ravel()
