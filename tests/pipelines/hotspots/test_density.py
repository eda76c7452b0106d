"""Density surface: mass, peak height and position, and the heat-layer points."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose

from pipelines.hotspots.density import HotspotInputError, density_surface
from pipelines.hotspots.synthetic import CAPE_TOWN_CRS, incidents_frame, origin_metric, to_lonlat, to_metric

X0, Y0 = origin_metric()


def test_total_mass_is_the_number_of_points():
    rng = np.random.default_rng(0)
    lon, lat = to_lonlat(X0 + rng.uniform(0, 2000, 500), Y0 + rng.uniform(0, 2000, 500))
    surface = density_surface(incidents_frame(lon, lat), cell_size_m=25, bandwidth_m=100)
    cell_km2 = (25 / 1000) ** 2
    assert_allclose(surface.values.sum() * cell_km2, 500, rtol=1e-3)
    assert surface.n_points == 500
    assert surface.crs == CAPE_TOWN_CRS


def test_one_point_gives_a_gaussian_peak_where_the_point_is():
    # a point at a cell centre: the peak is the 2-D Gaussian density 1 / (2π σ²) per m², in km²
    x, y = X0 + 1012.5, Y0 + 987.5
    lon, lat = to_lonlat([x], [y])
    surface = density_surface(incidents_frame(lon, lat), cell_size_m=25, bandwidth_m=150)
    assert_allclose(surface.values.max(), 1e6 / (2 * np.pi * 150**2), rtol=0.01)
    peak = surface.to_frame(min_fraction=0.999)
    assert len(peak) == 1
    px, py = to_metric(peak["lon"], peak["lat"])
    assert_allclose([px[0], py[0]], [x, y], atol=1e-3)


def test_rows_run_north_to_south():
    lon, lat = to_lonlat([X0, X0], [Y0, Y0 + 3000])  # two points, the second 3 km north
    surface = density_surface(incidents_frame(lon, lat), cell_size_m=50, bandwidth_m=100)
    top, bottom = surface.values[: surface.values.shape[0] // 2], surface.values[surface.values.shape[0] // 2 :]
    assert_allclose(top.sum(), bottom.sum(), rtol=1e-6)
    frame = surface.to_frame(min_fraction=0.99)
    assert frame["lat"].max() - frame["lat"].min() > 0.02  # both peaks found, 3 km apart
    south, west = surface.bounds[0]
    north, east = surface.bounds[1]
    assert south < min(lat) and north > max(lat) and west < min(lon) and east > max(lon)


def test_area_sets_the_extent():
    lon, lat = to_lonlat([X0 + 500], [Y0 + 500])
    (west, east), (south, north) = to_lonlat([X0 - 5000, X0 + 5000], [Y0 - 5000, Y0 + 5000])
    area = shapely.box(west, south, east, north)
    wide = density_surface(incidents_frame(lon, lat), area=area, cell_size_m=100, bandwidth_m=100)
    assert wide.values.shape[0] > 100 and wide.values.shape[1] > 100


def test_no_points_gives_an_empty_surface():
    surface = density_surface(incidents_frame([], []))
    assert surface.values.size == 0
    assert surface.to_frame().empty


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"bandwidth_m": 0}, "must be positive metres", id="bandwidth"),
        pytest.param({"cell_size_m": -1}, "must be positive metres", id="cell-size"),
        pytest.param({"cell_size_m": 0.01}, "use a larger `cell_size_m`", id="too-many-cells"),
    ],
)
def test_invalid_arguments(kwargs, match):
    lon, lat = to_lonlat([X0, X0 + 2000], [Y0, Y0 + 2000])
    with pytest.raises(HotspotInputError, match=match):
        density_surface(incidents_frame(lon, lat), **kwargs)
