"""Gi*: agreement with esda, FDR, bins, permutation semantics and the small-number guard."""

from __future__ import annotations

import importlib.util
import warnings

import esda
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse

from pipelines.hotspots._inference import bh_threshold, conditional_permutation, confidence_bins, esda_permuted_ids
from pipelines.hotspots.gistar import HotspotInputError, gi_star, hot_spots
from pipelines.hotspots.grid import GridSpec, build_grid
from pipelines.hotspots.synthetic import (
    CAPE_TOWN_CRS,
    incidents_frame,
    incidents_from_counts,
    origin_metric,
    queen_lattice,
    to_lonlat,
)

NUMBA = importlib.util.find_spec("numba") is not None


def esda_gi(values, grid_or_adjacency, **kwargs):
    from libpysal.weights import WSP

    w = grid_or_adjacency.to_w() if hasattr(grid_or_adjacency, "to_w") else WSP(grid_or_adjacency).to_W()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return esda.G_Local(values, w, star=True, n_jobs=1, **kwargs)


@pytest.fixture(scope="module")
def h3_grid():
    """An H3 grid over about 2 km² with clustered, uneven counts."""
    rng = np.random.default_rng(3)
    x0, y0 = origin_metric()
    x = np.concatenate([rng.uniform(0, 1500, 400), rng.normal(700, 80, 150)])
    y = np.concatenate([rng.uniform(0, 1500, 400), rng.normal(900, 80, 150)])
    lon, lat = to_lonlat(x0 + x, y0 + y)
    return build_grid(incidents_frame(lon, lat))


def test_analytical_z_and_p_equal_esda_on_the_same_grid(h3_grid):
    ours = gi_star(h3_grid.counts, h3_grid.neighbours, transform="B")
    theirs = esda_gi(h3_grid.counts, h3_grid, transform="B", permutations=0)
    assert_allclose(ours.g, theirs.Gs, rtol=1e-12)
    assert_allclose(ours.z, theirs.Zs, rtol=1e-10, atol=1e-12)
    assert_allclose(ours.p_norm, 2 * theirs.p_norm, rtol=1e-10, atol=1e-15)  # esda's p_norm is one-sided
    assert_allclose(ours.p, ours.p_norm)
    assert ours.inference == "analytical"


def test_row_standardised_z_is_the_binary_z(h3_grid):
    """Scaling a cell's weights by a constant leaves its Gi* z-score unchanged, so row-standardised and
    binary z agree; esda 2.9 uses the binary variance for row-standardised weights (z about 1/sqrt(k) of
    the right value), and so did this code (issue 17, item 10)."""
    binary = gi_star(h3_grid.counts, h3_grid.neighbours, transform="B")
    rows = gi_star(h3_grid.counts, h3_grid.neighbours, transform="R")
    theirs = esda_gi(h3_grid.counts, h3_grid, transform="R", permutations=0)
    assert_allclose(rows.g, theirs.Gs, rtol=1e-12)  # the statistic itself is esda's
    assert_allclose(rows.z, binary.z, rtol=1e-10, atol=1e-12)
    ratio = np.abs(theirs.Zs / rows.z)[np.abs(rows.z) > 1]
    assert 0.3 < np.median(ratio) < 0.5  # esda's shrunken z, for the record


@pytest.mark.skipif(NUMBA, reason="with numba esda draws its permutations from numba's RNG")
def test_permutation_p_sim_equals_esda_with_the_same_seed(h3_grid):
    ours = gi_star(h3_grid.counts, h3_grid.neighbours, permutations=999, seed=42)
    theirs = esda_gi(h3_grid.counts, h3_grid, transform="B", permutations=999, seed=42)
    assert_allclose(ours.p_sim, theirs.p_sim, atol=1e-6)  # esda stores p_sim as float32
    assert_allclose(ours.z_sim, theirs.z_sim, rtol=1e-9)
    assert ours.seed == 42
    assert ours.inference == "permutation"


@pytest.mark.skipif(NUMBA, reason="with numba esda draws its permutations from numba's RNG")
def test_row_standardised_permutations_equal_esda_when_there_are_no_ties(h3_grid):
    values = np.random.default_rng(5).gamma(2.0, 1.5, h3_grid.n)  # continuous: no ties to break
    ours = gi_star(values, h3_grid.neighbours, permutations=199, seed=7, transform="R")
    theirs = esda_gi(values, h3_grid, transform="R", permutations=199, seed=7)
    assert_allclose(ours.p_sim, theirs.p_sim, atol=1e-6)


def test_permutation_tally_counts_ties_exactly():
    """Brute force on a 4 × 4 lattice with integer counts, where ties are everywhere."""
    adjacency = queen_lattice(4)
    values = np.array([0, 1, 2, 1, 3, 0, 0, 1, 2, 2, 5, 1, 0, 1, 1, 0], dtype=float)
    weights = (adjacency + sparse.eye_array(16)).tocsr()
    observed = weights @ values
    tally = conditional_permutation(
        values, weights, observed, lambda lag, rows: lag + values[rows, None], permutations=50, seed=3
    )
    ids = esda_permuted_ids(16, 8, 50, 3)
    for i in range(16):
        others = np.delete(values, i)
        k = int(adjacency[[i], :].sum())
        random = others[ids[:, :k]].sum(axis=1) + values[i]
        assert tally.n_ge[i] == (random >= observed[i]).sum()
        assert tally.n_le[i] == (random <= observed[i]).sum()


def test_permutations_are_reproducible_with_a_seed_and_record_a_drawn_one(h3_grid):
    a = gi_star(h3_grid.counts, h3_grid.neighbours, permutations=99, seed=11)
    b = gi_star(h3_grid.counts, h3_grid.neighbours, permutations=99, seed=11)
    assert_array_equal(a.p, b.p)
    drawn = gi_star(h3_grid.counts, h3_grid.neighbours, permutations=99)
    again = gi_star(h3_grid.counts, h3_grid.neighbours, permutations=99, seed=drawn.seed)
    assert_array_equal(drawn.p, again.p)


def test_lone_hot_cell_is_hot_analytically_but_not_under_conditional_permutation():
    side = 21
    values = np.tile([1.0, 2.0, 3.0], side * side // 3 + 1)[: side * side]
    lone = (side // 2) * side + side // 2
    values[lone] = 60.0
    adjacency = queen_lattice(side)
    analytical = gi_star(values, adjacency, fdr=False)
    permuted = gi_star(values, adjacency, permutations=999, seed=1, fdr=False)
    assert analytical.bins[lone] == 3
    # the focal count is held fixed, so only its ordinary neighbours are tested: not a hot spot
    assert permuted.bins[lone] == 0
    assert permuted.p[lone] > 0.2
    # its neighbours, whose neighbourhood contains the 60, are the hot ones under permutation
    ring = np.nonzero(adjacency[[lone], :].toarray().ravel())[0]
    assert (permuted.bins[ring] > 0).all()


def test_planted_cluster_is_hot_and_its_surroundings_are_not():
    side = 20
    values = np.ones(side * side)
    block = [r * side + c for r in range(8, 11) for c in range(8, 11)]
    values[block] = 12
    result = gi_star(values, queen_lattice(side))
    assert (result.bins[block] == 3).all()
    far = [r * side + c for r in range(0, 3) for c in range(0, 3)]
    assert (result.bins[far] <= 0).all()
    assert result.sufficient and result.message is None


def test_uniform_noise_gives_no_significant_cells_after_fdr_at_the_expected_rate():
    adjacency = queen_lattice(30)
    any_significant, share_without_fdr = 0, []
    for seed in range(20):
        values = np.random.default_rng(seed).poisson(4.0, 900).astype(float)
        with_fdr = gi_star(values, adjacency)
        without = gi_star(values, adjacency, fdr=False)
        any_significant += bool((with_fdr.bins != 0).any())
        share_without_fdr.append((without.bins != 0).mean())
    # Benjamini-Hochberg under the global null: P(any discovery at 90 %) <= 10 %, so about 2 of 20 runs
    assert any_significant <= 5
    # without correction about 10 % of cells are "significant" at 90 % confidence by chance alone
    assert 0.06 < np.mean(share_without_fdr) < 0.14


def test_confidence_bins_by_hand():
    z = np.array([3.0, -2.5, 1.7, 0.5, -4.0])
    p = np.array([0.001, 0.02, 0.08, 0.6, 0.0001])
    assert_array_equal(confidence_bins(z, p, fdr=False), [3, -2, 1, 0, -3])
    # BH: sorted p 0.0001, 0.001, 0.02, 0.08, 0.6 against k·α/5
    # α=.01: 0.002, 0.004 ...  -> 0.0001 and 0.001 pass (0.001 <= 0.004); 0.02 > 0.006
    # α=.05: 0.01, 0.02, 0.03, 0.04 -> 0.02 <= 0.03 passes, 0.08 > 0.04
    # α=.10: 0.02, 0.04, 0.06, 0.08 -> 0.08 <= 0.08 passes
    assert_array_equal(confidence_bins(z, p, fdr=True), [3, -2, 1, 0, -3])
    assert bh_threshold(p, 0.05) == 0.02
    assert bh_threshold(np.array([0.5, 0.9]), 0.05) == 0.0


def test_bh_threshold_agrees_with_esda_fdr():
    p = np.random.default_rng(0).uniform(0, 1, 500) ** 3
    for alpha in (0.01, 0.05, 0.1):
        ours = bh_threshold(p, alpha)
        assert (p <= ours).sum() == (p < esda.fdr(p, alpha)).sum()


def test_hot_spots_on_a_grid_returns_the_table():
    x0, y0 = origin_metric()
    side = 12
    centres_x = x0 + 50 + 100 * np.tile(np.arange(side), side)
    centres_y = y0 + 50 + 100 * np.repeat(np.arange(side), side)
    lon, lat = to_lonlat(centres_x, centres_y)
    counts = np.ones((side * side, 1), dtype=int)
    counts[[5 * side + 5, 5 * side + 6, 6 * side + 5, 6 * side + 6], 0] = 15
    incidents = incidents_from_counts(counts, lon, lat, pd.period_range("2026-01", periods=1, freq="M"))
    grid = build_grid(incidents, spec=GridSpec(kind="fishnet", cell_size_m=100, crs=CAPE_TOWN_CRS))
    result = hot_spots(grid)
    assert list(result.cells.columns) == [
        "cell_id",
        "count",
        "lat",
        "lon",
        "gi_z",
        "gi_p",
        "gi_bin",
        "local_count",
        "geometry",
    ]
    assert set(result.hot["count"]) >= {15}
    assert result.hot["gi_bin"].iloc[0] == 3
    assert result.cold.empty or (result.cold["gi_bin"] < 0).all()


def test_small_number_guard_marks_nothing_and_says_why():
    values = np.zeros(100)
    values[[0, 1, 2]] = [5, 4, 3]  # 12 incidents
    result = gi_star(values, queen_lattice(10))
    assert not result.sufficient
    assert (result.bins == 0).all()
    assert "Only 12 incidents" in result.message
    assert np.isfinite(result.z).any()  # the statistic is still reported


def test_guard_on_too_few_cells_and_on_equal_counts():
    few = gi_star(np.full(16, 5.0), queen_lattice(4))
    assert "Only 16 map cells" in few.message and "H3" not in few.message
    flat = gi_star(np.full(100, 2.0), queen_lattice(10))
    assert "same count" in flat.message
    assert (flat.bins == 0).all()


def test_per_cell_guard_drops_hot_cells_resting_on_two_incidents():
    side = 30
    values = np.zeros(side * side)
    values[np.arange(0, side * side, 29)] = 1  # 32 lone incidents spread thin
    values[15 * side + 20] = 2
    result = gi_star(values, queen_lattice(side), fdr=False, min_local_count=3)
    assert result.few[15 * side + 20]
    assert result.bins[15 * side + 20] == 0
    assert "fewer than 3 incidents" in result.message
    n = int(result.few.sum())
    assert result.message.startswith(f"{n} hexagon{'' if n == 1 else 's'} looked hot")
    assert f"and {'is' if n == 1 else 'are'} not marked" in result.message  # no template text left in
    assert result.sufficient


@pytest.mark.parametrize(
    ("values", "neighbours", "kwargs", "match"),
    [
        pytest.param(np.ones(4), queen_lattice(3), {}, "is 9×9 but there are 4 values", id="shape"),
        pytest.param(-np.ones(9), queen_lattice(3), {}, "non-negative", id="negative"),
        pytest.param(np.full(9, np.nan), queen_lattice(3), {}, "finite", id="nan"),
        pytest.param(
            np.ones(9), queen_lattice(3) + sparse.eye_array(9), {}, "must not include the cell itself", id="self"
        ),
        pytest.param(np.ones(9), queen_lattice(3), {"transform": "D"}, "'B' .* or 'R'", id="transform"),
        pytest.param(np.ones(9), queen_lattice(3), {"permutations": -1}, "positive whole number", id="permutations"),
        pytest.param(np.ones(9), queen_lattice(3), {"permutations": 9.5}, "positive whole number", id="fractional"),
    ],
)
def test_invalid_arguments(values, neighbours, kwargs, match):
    with pytest.raises(HotspotInputError, match=match):
        gi_star(values, neighbours, **kwargs)
