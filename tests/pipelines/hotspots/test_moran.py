"""Local Moran: agreement with esda, and telling a hot area (HH) from a lone hot cell (HL)."""

from __future__ import annotations

import importlib.util
import warnings

import esda
import numpy as np
import pandas as pd
import pytest
from libpysal.weights import WSP
from numpy.testing import assert_allclose, assert_array_equal

from pipelines.hotspots.grid import GridSpec, build_grid
from pipelines.hotspots.moran import HotspotInputError, clusters_and_outliers, local_moran
from pipelines.hotspots.synthetic import CAPE_TOWN_CRS, incidents_from_counts, origin_metric, queen_lattice, to_lonlat

NUMBA = importlib.util.find_spec("numba") is not None
SIDE = 20


def esda_moran(values, adjacency, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return esda.Moran_Local(values, WSP(adjacency).to_W(), n_jobs=1, **kwargs)


def test_lattice_degrees():
    degree = queen_lattice(3).sum(axis=1)
    assert_array_equal(degree, [3, 5, 3, 5, 8, 5, 3, 5, 3])


def test_statistic_and_quadrants_equal_esda():
    values = np.random.default_rng(1).poisson(3, SIDE * SIDE).astype(float)
    ours = local_moran(values, queen_lattice(SIDE), permutations=99, seed=1)
    theirs = esda_moran(values, queen_lattice(SIDE), transformation="r", permutations=99, seed=1)
    assert_allclose(ours.I, theirs.Is, rtol=1e-10, atol=1e-12)
    assert_array_equal(ours.quadrant, theirs.q)
    assert_allclose(ours.z_sim, theirs.z_sim, rtol=1e-9, atol=1e-12)


@pytest.mark.skipif(NUMBA, reason="with numba esda draws its permutations from numba's RNG")
def test_p_sim_equals_esda_with_the_same_seed_when_there_are_no_ties():
    values = np.random.default_rng(2).gamma(2.0, 2.0, SIDE * SIDE)
    ours = local_moran(values, queen_lattice(SIDE), permutations=999, seed=9)
    theirs = esda_moran(values, queen_lattice(SIDE), transformation="r", permutations=999, seed=9)
    assert_allclose(ours.p_sim, theirs.p_sim, atol=1e-6)
    # no ties: the two-sided p is twice the directed one
    assert_allclose(ours.p, np.minimum(1, 2 * ours.p_sim))


def _planted() -> tuple[np.ndarray, list[int], int]:
    """Background of 2s, 3s and 4s, a 4 × 4 hot area of 14s, and a lone 14 whose neighbours are all 0."""
    values = np.tile([2.0, 3.0, 4.0], SIDE * SIDE // 3 + 1)[: SIDE * SIDE]
    area = [r * SIDE + c for r in range(3, 7) for c in range(3, 7)]
    lone = 15 * SIDE + 15
    values[area] = 14.0
    values[[(15 + dr) * SIDE + 15 + dc for dr in (-1, 0, 1) for dc in (-1, 0, 1)]] = 0.0
    values[lone] = 14.0
    return values, area, lone


def test_hot_area_is_hh_and_lone_hot_cell_is_hl():
    values, area, lone = _planted()
    result = local_moran(values, queen_lattice(SIDE), permutations=999, seed=4)
    assert (result.labels[area] == "HH").all()
    assert result.labels[lone] == "HL"
    far = [18 * SIDE + 1, 1 * SIDE + 18]
    assert (result.labels[far] == "ns").all()
    assert result.sufficient


def test_fdr_needs_enough_permutations():
    values, area, lone = _planted()
    few = local_moran(values, queen_lattice(SIDE), permutations=999, seed=4, fdr=True)
    assert not few.significant.any()  # 0.002 is the smallest p: 16 cells would have to share it
    many = local_moran(values, queen_lattice(SIDE), permutations=9999, seed=4, fdr=True)
    assert many.labels[lone] == "HL"
    assert (many.labels[area] == "HH").sum() >= 12


def test_clusters_and_outliers_on_a_grid():
    values, area, lone = _planted()
    x0, y0 = origin_metric()
    lon, lat = to_lonlat(
        x0 + 50 + 100 * np.tile(np.arange(SIDE), SIDE), y0 + 50 + 100 * np.repeat(np.arange(SIDE), SIDE)
    )
    months = pd.period_range("2026-01", periods=1, freq="M")
    incidents = incidents_from_counts(values.astype(int)[:, None], lon, lat, months)
    grid = build_grid(incidents, spec=GridSpec(kind="fishnet", cell_size_m=100, crs=CAPE_TOWN_CRS))
    result = clusters_and_outliers(grid, seed=4)
    assert list(result.cells.columns) == [
        "cell_id",
        "count",
        "lat",
        "lon",
        "moran_i",
        "moran_p",
        "moran_label",
        "geometry",
    ]
    assert (result.cells["moran_label"].to_numpy()[grid.locate(lon[area], lat[area])] == "HH").all()
    lone_cell = result.cells.loc[grid.locate(lon[[lone]], lat[[lone]])[0]]
    assert lone_cell["moran_label"] == "HL"


def test_fdr_is_stricter_than_no_correction():
    values = np.random.default_rng(8).poisson(3, SIDE * SIDE).astype(float)
    corrected = local_moran(values, queen_lattice(SIDE), seed=1, fdr=True)
    raw = local_moran(values, queen_lattice(SIDE), seed=1)
    assert corrected.significant.sum() <= raw.significant.sum()
    assert corrected.significant.sum() == 0  # pure noise: nothing survives the correction


def test_small_numbers_label_nothing():
    values = np.zeros(SIDE * SIDE)
    values[:5] = 3
    result = local_moran(values, queen_lattice(SIDE), seed=1)
    assert (result.labels == "ns").all()
    assert "Only 15 incidents" in result.message


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"permutations": 0}, "at least 99", id="no-permutations"),
        pytest.param({"transform": "V"}, "'R' .* or 'B'", id="transform"),
        pytest.param({"alpha": 5}, "between 0 and 1", id="alpha"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(HotspotInputError, match=match):
        local_moran(np.ones(9), queen_lattice(3), **kwargs)


def test_shape_mismatch():
    with pytest.raises(HotspotInputError, match="there are 4 values"):
        local_moran(np.ones(4), queen_lattice(3))
