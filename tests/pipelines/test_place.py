"""Placement from coordinates: the box grid finds what an STR-tree finds, and the placed codes are
the reference answer (the smallest code among the areas that cover the point, border included)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from pipelines import schemas
from pipelines.place import AreaIndex, _BoxGrid, place_incidents, place_points, place_xy


def _areas(rng: np.random.Generator) -> gpd.GeoDataFrame:
    """A 6x6 block of squares sharing borders (precincts), one huge area and scattered small ones
    of several sizes (neighbourhoods): cell sizes, spans over many cells and overlaps."""
    squares = [
        shapely.box(18 + i * 0.1, -34 + j * 0.1, 18.1 + i * 0.1, -33.9 + j * 0.1) for i in range(6) for j in range(6)
    ]
    codes = [f"P{k:02d}" for k in range(len(squares))]
    centres = rng.uniform([18, -34], [18.6, -33.4], (40, 2))
    sizes = rng.choice([0.001, 0.01, 0.05, 0.2], 40)
    hoods = [shapely.Point(x, y).buffer(s, 16) for (x, y), s in zip(centres, sizes, strict=True)]
    hoods.append(shapely.box(17.9, -34.1, 18.7, -33.3))  # covers everything: the biggest span
    hood_codes = [f"N{k:02d}" for k in range(len(hoods))]
    return gpd.GeoDataFrame(
        {"code": codes + hood_codes, "kind": ["precinct"] * len(codes) + ["neighbourhood"] * len(hood_codes)},
        geometry=squares + hoods,
        crs=4326,
    )


def _points(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(17.8, 18.8, n)
    y = rng.uniform(-34.2, -33.2, n)
    # Points on shared borders and corners (0.1 steps), on the outer edge, and missing ones.
    x[:50] = np.round(x[:50], 1)
    y[25:75] = np.round(y[25:75], 1)
    x[80], y[80] = 18.6, -33.4
    x[81], y[81] = np.nan, -34.0
    x[82], y[82] = 18.2, np.nan
    return x, y


def test_box_grid_finds_what_an_strtree_finds():
    rng = np.random.default_rng(7)
    geoms = _areas(rng).geometry.to_numpy()
    x, y = _points(rng, 5_000)
    grid = _BoxGrid(shapely.bounds(geoms))
    got = set(zip(*grid.query(x, y), strict=True))
    present = ~(np.isnan(x) | np.isnan(y))
    tree_points, tree_areas = shapely.STRtree(geoms).query(shapely.points(x[present], y[present]))
    expected = set(zip(np.flatnonzero(present)[tree_points], tree_areas, strict=True))
    assert got == expected


def test_placed_codes_are_the_smallest_covering_code():
    rng = np.random.default_rng(11)
    areas = _areas(rng)
    x, y = _points(rng, 3_000)
    placement = place_xy(x, y, AreaIndex.build(areas))
    for kind, column in (("precinct", "P"), ("neighbourhood", "N")):
        subset = areas[areas["kind"] == kind]
        for i in range(len(x)):
            if np.isnan(x[i]) or np.isnan(y[i]):
                continue
            covering = subset.loc[subset.intersects(shapely.Point(x[i], y[i])), "code"]
            code = placement.codes[kind][i]
            if len(covering):
                assert code == covering.min(), (kind, x[i], y[i])
            elif code is not None:  # only the near-boundary fallback places points outside
                assert placement.near_edge[i] and code.startswith(column)
    missing = np.isnan(x) | np.isnan(y)
    assert placement.outside[missing].all() and not placement.near_edge[missing].any()


def test_coordinates_and_points_place_alike_and_swaps_are_fixed():
    rng = np.random.default_rng(5)
    areas = _areas(rng)
    index = AreaIndex.build(areas)
    x, y = _points(rng, 1_000)
    x[100], y[100] = -33.95, 18.25  # latitude and longitude exchanged
    by_xy = place_xy(x, y, index)
    by_points = place_points(shapely.points(x, y), index)
    for kind in by_xy.codes:
        assert (pd.Series(by_xy.codes[kind]).fillna("") == pd.Series(by_points.codes[kind]).fillna("")).all()
    np.testing.assert_array_equal(by_xy.x, by_points.x)
    assert by_xy.swapped[100] and (by_xy.x[100], by_xy.y[100]) == (18.25, -33.95)
    assert by_xy.codes["precinct"][100] == "P12"  # column 2, row 0

    frame = pd.DataFrame({"row_number": np.arange(len(x)), schemas.LON: x, schemas.LAT: y})
    placed, placement = place_incidents(frame, index)
    assert not isinstance(placed, gpd.GeoDataFrame)
    assert (placed.loc[100, schemas.LON], placed.loc[100, schemas.LAT]) == (18.25, -33.95)
    assert placed["precinct_code"].fillna("").tolist() == pd.Series(by_xy.codes["precinct"]).fillna("").tolist()
    geo, _ = place_incidents(schemas.as_geoframe(frame), index)
    assert geo.geometry.iloc[100].equals(shapely.Point(18.25, -33.95))
    assert geo.geometry.iloc[81] is None


@pytest.mark.parametrize("empty", ["none", "empty"])
def test_areas_without_geometry_are_skipped(empty):
    areas = gpd.GeoDataFrame(
        {"code": ["A", "B"], "kind": ["precinct", "precinct"]},
        geometry=[None if empty == "none" else shapely.Polygon(), shapely.box(0, 0, 1, 1)],
        crs=4326,
    )
    placement = place_xy(np.array([0.5, 5.0]), np.array([0.5, 5.0]), AreaIndex.build(areas))
    assert placement.codes["precinct"].tolist() == ["B", None]
