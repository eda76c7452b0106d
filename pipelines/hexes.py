"""H3 hexagons: which cell a point is in, and where a cell is (its centre and its polygon).

Place in the data flow: analyse and show. The hot spot grid, the agenda's "which hot spot is this report
in", the privacy rules' generalised points and published cells, the map's hexagon layer and every export
of hexagons call this module; nothing else turns a point into a cell or a cell into a shape.

Points are longitude and latitude in ``STORE_CRS`` (EPSG:4326); cells are H3 indexes as hex strings
(``"89bc..."``), or as ``int64`` for the hot spot grid, which sorts and searches them.

h3 4.x has no vectorised calls, so each function loops over plain Python numbers (the fastest loop there
is). Snapped points and cells are looked up once per distinct value (hashed, not sorted) and the answers
mapped back to every row; exact points are not deduplicated, as hashing pairs of floats costs more than
it saves.
"""

from __future__ import annotations

from itertools import chain

import h3
import numpy as np
import pandas as pd
import shapely
from h3.api import basic_int as h3i

#: Steps per degree of the grid :func:`point_cells` snaps points to with ``snap=True`` (1e-4 degrees,
#: about 11 m).
SNAP_PER_DEGREE = 10_000
_LAT_OFFSET, _LON_OFFSET = 90 * SNAP_PER_DEGREE, 180 * SNAP_PER_DEGREE
_LON_SPAN = 2 * _LON_OFFSET + 1


def across_words(resolution: int) -> str:
    """How big a hexagon at ``resolution`` is, in words a person can picture: ``"about 150 m across"``
    (twice H3's average edge length, rounded to 10 m, or to 100 m from 1 km). The map's hexagon record and
    the agenda's hot spots say it the same way."""
    metres = 2 * h3.average_hexagon_edge_length(resolution, unit="m")
    return f"about {round(metres, -1 if metres < 1_000 else -2):,.0f} m across"


def point_cells(lon: np.ndarray, lat: np.ndarray, resolution: int, *, snap: bool = False) -> np.ndarray:
    """The H3 cell (hex string) of each point at ``resolution``, an object array aligned to the input.

    With ``snap``, coordinates are first rounded to 1e-4 degrees (:data:`SNAP_PER_DEGREE`, about 11 m),
    so that points at the same spot share one lookup; at resolution 9 (edge about 174 m) this moves only
    points within a few metres of a cell edge. The map's hexagons and the published counts snap; the hot
    spot grid and the agenda do not.
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if not snap:
        return np.array(
            [h3.latlng_to_cell(y, x, resolution) for y, x in zip(lat.tolist(), lon.tolist(), strict=True)], dtype=object
        )
    codes, ulon, ulat = _snapped(lon, lat)
    cells = np.array([h3.latlng_to_cell(y, x, resolution) for y, x in zip(ulat, ulon, strict=True)], dtype=object)
    return cells[codes]


def point_cell_ints(lon: np.ndarray, lat: np.ndarray, resolution: int) -> np.ndarray:
    """The H3 cell of each point at ``resolution`` as ``int64`` (the hot spot grid's keys), unsnapped."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    to_cell = h3i.latlng_to_cell
    return np.array([to_cell(y, x, resolution) for y, x in zip(lat.tolist(), lon.tolist(), strict=True)], np.int64)


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
    flat = chain.from_iterable(chain.from_iterable(boundaries))
    latlng = np.fromiter(flat, dtype=float, count=2 * int(sizes.sum())).reshape(-1, 2)
    rings = shapely.linearrings(latlng[:, ::-1], indices=np.repeat(np.arange(len(unique)), sizes))
    return shapely.polygons(rings)[inverse]


# --------------------------------------------------------------------------------------------------
def _snapped(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, list[float], list[float]]:
    """Each point's position among the distinct snapped points, and their coordinates as Python floats.

    A snapped point is two whole numbers of 1e-4 degrees, packed into one int64 and hashed (linear time);
    the offsets keep western and southern coordinates positive."""
    lat_steps = np.round(lat * SNAP_PER_DEGREE).astype(np.int64) + _LAT_OFFSET
    lon_steps = np.round(lon * SNAP_PER_DEGREE).astype(np.int64) + _LON_OFFSET
    codes, unique = pd.factorize(lat_steps * _LON_SPAN + lon_steps)
    ulat = (unique // _LON_SPAN - _LAT_OFFSET) / SNAP_PER_DEGREE
    ulon = (unique % _LON_SPAN - _LON_OFFSET) / SNAP_PER_DEGREE
    return codes, ulon.tolist(), ulat.tolist()


def _unique_cells(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct cells (in order of first appearance) and each input's position among them."""
    values = np.asarray(cells)
    if values.dtype.kind not in "iu":
        values = values.astype(object)
    codes, unique = pd.factorize(values)
    return np.asarray(unique, dtype=np.int64 if values.dtype.kind in "iu" else object), codes
