"""Grid aggregation: H3 and fishnet counts, clipping, filters and adjacency on inputs worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose, assert_array_equal

from pipelines.hotspots.grid import GridError, GridSpec, build_grid, select_incidents, suggest_resolution, utm_crs
from pipelines.hotspots.synthetic import CAPE_TOWN_CRS, incidents_frame, origin_metric, to_lonlat

LAT, LON = -34.05, 18.67
HOME = h3.latlng_to_cell(LAT, LON, 9)


def _cell_centre(cell: str) -> tuple[float, float]:
    lat, lon = h3.cell_to_latlng(cell)
    return lon, lat


def test_h3_counts_and_cell_ids():
    neighbour = h3.grid_ring(HOME, 1)[0]
    lon = [_cell_centre(HOME)[0]] * 3 + [_cell_centre(neighbour)[0]]
    lat = [_cell_centre(HOME)[1]] * 3 + [_cell_centre(neighbour)[1]]
    grid = build_grid(incidents_frame(lon, lat))
    counts = dict(zip(grid.cells["cell_id"], grid.cells["count"], strict=True))
    assert counts[HOME] == 3
    assert counts[neighbour] == 1
    assert grid.cells["count"].sum() == 4
    home = grid.cells.set_index("cell_id").loc[HOME]
    assert_allclose((home["lat"], home["lon"]), h3.cell_to_latlng(HOME))
    assert set(grid.incidents["cell_id"]) == {HOME, neighbour}
    assert_array_equal(grid.cells["cell_id"].to_numpy()[grid.positions], grid.incidents["cell_id"].to_numpy())


def test_clip_keeps_empty_cells_inside_and_drops_points_outside():
    area = shapely.Polygon([(x, y) for y, x in h3.cell_to_boundary(HOME)]).buffer(0.004)
    inside = _cell_centre(HOME)
    incidents = incidents_frame([inside[0], 18.9], [inside[1], -34.3])  # the second is far outside
    grid = build_grid(incidents, area=area)
    expected = set(h3.geo_to_cells(area, 9))
    assert set(grid.cells["cell_id"]) == expected
    assert grid.cells["count"].sum() == 1
    assert (grid.cells["count"] == 0).sum() == len(expected) - 1
    assert len(grid.incidents) == 1


def test_incident_next_to_the_boundary_adds_its_cell():
    area = shapely.box(LON - 0.01, LAT - 0.01, LON + 0.01, LAT + 0.01)
    edge_lon, edge_lat = LON + 0.0099, LAT  # inside the area, in a cell whose centre may be outside
    grid = build_grid(incidents_frame([edge_lon], [edge_lat]), area=area)
    assert h3.latlng_to_cell(edge_lat, edge_lon, 9) in set(grid.cells["cell_id"])
    assert grid.cells["count"].sum() == 1


def test_h3_adjacency_is_the_h3_ring():
    area = shapely.Point(LON, LAT).buffer(0.01)
    grid = build_grid(incidents_frame([LON], [LAT]), area=area)
    adjacency = grid.neighbours.toarray()
    assert_array_equal(adjacency, adjacency.T)
    assert not adjacency.diagonal().any()
    ids = grid.cells["cell_id"].tolist()
    home = ids.index(HOME)
    assert {ids[j] for j in np.nonzero(adjacency[home])[0]} == set(h3.grid_ring(HOME, 1))
    w = grid.to_w()
    assert w.n == grid.n
    assert w.cardinalities[HOME] == 6


def test_fishnet_counts_ids_and_queen_neighbours():
    x0, y0 = origin_metric()
    size = 100.0
    # a 3 × 3 block of 100 m squares; two points in the centre square, one in the north-east corner
    area_lon, area_lat = to_lonlat([x0, x0 + 300, x0 + 300, x0], [y0, y0, y0 + 300, y0 + 300])
    area = shapely.Polygon(zip(area_lon, area_lat, strict=True))
    lon, lat = to_lonlat([x0 + 150, x0 + 160, x0 + 250], [y0 + 150, y0 + 140, y0 + 250])
    spec = GridSpec(kind="fishnet", cell_size_m=size, crs=CAPE_TOWN_CRS)
    grid = build_grid(incidents_frame(lon, lat), area=area, spec=spec)
    col, row = int(x0 // size), int(y0 // size)
    cells = grid.cells.set_index("cell_id")
    assert len(cells) == 9
    assert cells.loc[f"100m_{col + 1}_{row + 1}", "count"] == 2
    assert cells.loc[f"100m_{col + 2}_{row + 2}", "count"] == 1
    assert cells["count"].sum() == 3
    degree = dict(zip(grid.cells["cell_id"], grid.neighbours.sum(axis=1), strict=True))
    assert degree[f"100m_{col + 1}_{row + 1}"] == 8  # centre: queen
    assert degree[f"100m_{col}_{row}"] == 3  # corner
    assert degree[f"100m_{col + 1}_{row}"] == 5  # edge
    centre_lon, centre_lat = to_lonlat([x0 + 150], [y0 + 150])
    assert_allclose(
        cells.loc[f"100m_{col + 1}_{row + 1}", ["lon", "lat"]].astype(float), [centre_lon[0], centre_lat[0]]
    )
    assert_allclose(grid.cells.to_crs(CAPE_TOWN_CRS).area, size * size, rtol=1e-6)


def test_fishnet_defaults_to_the_utm_zone():
    grid = build_grid(incidents_frame([LON], [LAT]), spec=GridSpec(kind="fishnet"))
    assert grid.metric_crs == "EPSG:32734" == utm_crs(LON, LAT)


def test_locate_points_and_incidents():
    area = shapely.Point(LON, LAT).buffer(0.005)
    grid = build_grid(incidents_frame([LON], [LAT]), area=area)
    positions = grid.locate(np.array([LON, 10.0]), np.array([LAT, 10.0]))
    assert grid.cells["cell_id"].iloc[positions[0]] == HOME
    assert positions[1] == -1
    frame = incidents_frame([LON, LON], [LAT, LAT])
    frame.loc[1, "geometry"] = None
    assert_array_equal(grid.locate_incidents(frame), [positions[0], -1])


def test_filters_period_category_and_source():
    times = pd.to_datetime(
        ["2026-07-31T21:59:00Z", "2026-07-31T22:00:00Z", "2026-08-15T12:00:00Z", "2026-09-01T00:00:00Z"], utc=True
    )
    incidents = incidents_frame([LON] * 4, [LAT] * 4, occurred_at=pd.Series(times))
    incidents["category"] = ["robbery_aggravated", "robbery_aggravated", "murder", "robbery_aggravated"]
    incidents["source"] = ["municipal", "community", "municipal", "municipal"]
    # "2026-08-01" is local midnight in Cape Town, 2026-07-31T22:00Z
    august = select_incidents(incidents, start="2026-08-01", end="2026-09-01")
    assert august.index.tolist() == [1, 2]
    assert select_incidents(incidents, categories=["murder"]).index.tolist() == [2]
    assert select_incidents(incidents, categories="murder").index.tolist() == [2]  # a single name is fine
    assert select_incidents(incidents, sources=["community"]).index.tolist() == [1]
    grid = build_grid(incidents, start="2026-08-01", end="2026-09-01", sources=["municipal"])
    assert grid.cells["count"].sum() == 1


def test_missing_dates_are_kept_without_a_period_filter_and_dropped_with_one():
    incidents = incidents_frame([LON, LON], [LAT, LAT])
    incidents["occurred_at"] = pd.Series([pd.Timestamp("2026-01-02", tz="UTC"), pd.NaT], dtype="datetime64[us, UTC]")
    assert len(select_incidents(incidents)) == 2
    assert len(select_incidents(incidents, start="2026-01-01")) == 1


def test_no_incidents_gives_an_empty_grid_without_an_area():
    grid = build_grid(incidents_frame([], []))
    assert grid.n == 0
    assert grid.neighbours.shape == (0, 0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"kind": "square"}, "grid kind must be one of h3, fishnet", id="bad-kind"),
        pytest.param({"resolution": 16}, "from 0 to 15", id="resolution-too-fine"),
        pytest.param({"resolution": 8.5}, "whole number", id="resolution-not-integer"),
        pytest.param({"cell_size_m": -5}, "positive number of metres", id="negative-cell-size"),
        pytest.param({"crs": "EPSG:4326"}, "projected", id="geographic-crs"),
    ],
)
def test_invalid_spec(kwargs, match):
    with pytest.raises(GridError, match=match):
        GridSpec(**kwargs)


@pytest.mark.parametrize(
    ("incidents", "kwargs", "match"),
    [
        pytest.param(
            incidents_frame([LON], [LAT]).to_crs(CAPE_TOWN_CRS), {}, "CRS is EPSG:32734, expected", id="wrong-crs"
        ),
        pytest.param(pd.DataFrame({"a": [1]}), {}, "must be a GeoDataFrame", id="not-geo"),
        pytest.param(incidents_frame([LON], [LAT]).drop(columns="category"), {}, "lacks column", id="no-category"),
        pytest.param(incidents_frame([LON], [LAT]), {"area": shapely.Point(LON, LAT)}, "no polygon", id="point-area"),
        pytest.param(incidents_frame([LON], [LAT]), {"area": "HARARE"}, "must be a GeoDataFrame", id="area-string"),
        pytest.param(incidents_frame([LON], [LAT]), {"sources": ["police"]}, "unknown source 'police'", id="source"),
    ],
)
def test_invalid_inputs(incidents, kwargs, match):
    with pytest.raises(GridError, match=match):
        build_grid(incidents, **kwargs)


def test_area_as_geodataframe_in_another_crs():
    area = gpd.GeoDataFrame(geometry=[shapely.Point(LON, LAT).buffer(0.005)], crs=4326).to_crs(CAPE_TOWN_CRS)
    grid = build_grid(incidents_frame([LON], [LAT]), area=area)
    assert HOME in set(grid.cells["cell_id"])
    assert grid.cells.crs.to_epsg() == 4326


def test_suggest_resolution_goes_finer_until_there_are_enough_cells():
    small = shapely.Point(LON, LAT).buffer(0.007)  # about 1.2 km² at this latitude
    assert len(h3.geo_to_cells(small, 9)) < 30 <= len(h3.geo_to_cells(small, 10))
    assert suggest_resolution(small) == 10
    large = shapely.Point(LON, LAT).buffer(0.03)
    assert suggest_resolution(large) == 9
    assert suggest_resolution(shapely.Point(LON, LAT).buffer(0.0001)) == 11  # never finer than 11
    with pytest.raises(GridError, match="`area` is required"):
        suggest_resolution(None)
