"""pipelines.hexes: points to H3 cells and cells to centres and polygons, against h3 itself one by one."""

from __future__ import annotations

import h3
import numpy as np
import pytest
import shapely
from h3.api import basic_int as h3i

from pipelines import hexes

RNG = np.random.default_rng(19)
LON = np.concatenate([RNG.uniform(18.4, 18.8, 300), [18.6, 18.6]])  # two at the same spot
LAT = np.concatenate([RNG.uniform(-34.1, -33.9, 300), [-34.05, -34.05]])


def test_points_to_cells_and_centres_round_trip():
    lon, lat = np.array([18.6, 18.6001, 18.7]), np.array([-34.05, -34.05, -34.0])
    cells = hexes.point_cells(lon, lat, 9, snap=True)
    assert cells[0] == h3.latlng_to_cell(-34.05, 18.6, 9) and cells[0] == cells[1] != cells[2]
    clon, clat = hexes.cell_centres(cells)
    assert (clat[2], clon[2]) == pytest.approx(h3.cell_to_latlng(cells[2]))


def test_point_cells_are_h3s_cells_point_by_point():
    """The hot spot grid and the agenda place points exactly (no snapping), as a loop over h3 would."""
    expected = [h3.latlng_to_cell(y, x, 10) for x, y in zip(LON, LAT, strict=True)]
    assert hexes.point_cells(LON, LAT, 10).tolist() == expected
    assert hexes.point_cell_ints(LON, LAT, 10).tolist() == [h3.str_to_int(c) for c in expected]
    assert hexes.cell_names(hexes.point_cell_ints(LON, LAT, 10)) == expected


def test_snapped_cells_are_the_cells_of_the_snapped_points():
    """Snapping rounds to 1e-4 degrees, west and south of Greenwich too (data.police.uk's points): the old
    packed key read a negative longitude back as a positive one near 1000 degrees."""
    lon, lat = np.array([-0.12784, 18.61236]), np.array([51.50741, -34.04561])
    expected = [h3.latlng_to_cell(51.5074, -0.1278, 9), h3.latlng_to_cell(-34.0456, 18.6124, 9)]
    assert hexes.point_cells(lon, lat, 9, snap=True).tolist() == expected


def test_no_points_no_cells():
    assert hexes.point_cells(np.empty(0), np.empty(0), 9).shape == (0,)
    assert hexes.point_cell_ints(np.empty(0), np.empty(0), 9).dtype == np.int64
    assert hexes.cell_polygons(np.empty(0, dtype=object)).shape == (0,)


@pytest.mark.parametrize("as_int", [pytest.param(False, id="hex-strings"), pytest.param(True, id="int64")])
def test_cell_polygons_are_the_polygons_built_one_by_one(as_int):
    """Same vertices, order (counter-clockwise) and closure as shapely.Polygon over h3.cell_to_boundary."""
    cells = hexes.point_cells(LON, LAT, 9)
    one_by_one = [shapely.Polygon([(x, y) for y, x in h3.cell_to_boundary(c)]) for c in cells]
    shown = hexes.cell_polygons(np.array([h3.str_to_int(c) for c in cells]) if as_int else cells)
    assert all(shapely.equals_exact(a, b, tolerance=0) for a, b in zip(shown, one_by_one, strict=True))
    assert shapely.is_ccw(shown[0].exterior) and shown[0].exterior.coords[0] == shown[0].exterior.coords[-1]


def test_cell_centres_take_strings_or_ints():
    cells = hexes.point_cell_ints(LON[:5], LAT[:5], 9)
    lon, lat = hexes.cell_centres(cells)
    assert list(zip(lat, lon, strict=True)) == [h3i.cell_to_latlng(int(c)) for c in cells]
    assert np.array_equal(hexes.cell_centres(hexes.cell_names(cells))[0], lon)
