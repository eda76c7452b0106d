"""Emerging hot spots: the cube, space-time Gi*, Mann-Kendall, the category rules and planted patterns."""

from __future__ import annotations

import warnings

import esda
import numpy as np
import pandas as pd
import pytest
from libpysal.weights import WSP
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse

from pipelines.hotspots.emerging import (
    EMERGING_CATEGORIES,
    HotspotInputError,
    classify,
    emerging_hotspots,
    mann_kendall,
    space_time_cube,
    space_time_weights,
)
from pipelines.hotspots.gistar import analytical_gi_star
from pipelines.hotspots.grid import GridSpec, build_grid
from pipelines.hotspots.synthetic import (
    CAPE_TOWN_CRS,
    incidents_frame,
    incidents_from_counts,
    origin_metric,
    queen_lattice,
    to_lonlat,
)

SIDE = 15
MONTHS = pd.period_range("2024-11", periods=24, freq="M")
SPEC = GridSpec(kind="fishnet", cell_size_m=100, crs=CAPE_TOWN_CRS)
X0, Y0 = origin_metric()
LON, LAT = to_lonlat(X0 + 50 + 100 * np.tile(np.arange(SIDE), SIDE), Y0 + 50 + 100 * np.repeat(np.arange(SIDE), SIDE))
BLOCK = [r * SIDE + c for r in range(6, 9) for c in range(6, 9)]
CENTRE = 7 * SIDE + 7


def run(cluster_per_month, seed: int = 0):
    """Poisson(1) background on a 15 × 15 fishnet for 24 months, plus ``cluster_per_month[t]`` incidents
    in each cell of a 3 × 3 block; returns the result and the grid position of the block's centre."""
    counts = np.random.default_rng(seed).poisson(1.0, (SIDE * SIDE, len(MONTHS)))
    counts[BLOCK] += np.asarray(cluster_per_month, dtype=int)[None, :]
    grid = build_grid(incidents_from_counts(counts, LON, LAT, MONTHS), spec=SPEC)
    result = emerging_hotspots(space_time_cube(grid, months=MONTHS))
    centre = grid.locate(LON[[CENTRE]], LAT[[CENTRE]])[0]
    assert_array_equal(result.cube.counts[centre], counts[CENTRE])
    return result, centre


def planted(months_with_cluster, size: int = 8) -> np.ndarray:
    per_month = np.zeros(len(MONTHS), dtype=int)
    per_month[list(months_with_cluster)] = size
    return per_month


def test_cluster_only_in_the_final_month_is_new():
    result, centre = run(planted([23]))
    assert result.category[centre] == "new_hot"


def test_cluster_added_in_the_last_three_months_is_consecutive():
    # ArcGIS: a run of two or more hot months ending in the final one, never hot before
    result, centre = run(planted([21, 22, 23]))
    assert result.category[centre] == "consecutive_hot"
    assert_array_equal(result.bins[centre, 21:] > 0, True)
    assert (result.bins[centre, :21] <= 0).all()


def test_steadily_growing_cluster_is_intensifying():
    result, centre = run(4 + np.arange(len(MONTHS)))
    assert result.category[centre] == "intensifying_hot"
    assert result.trend_z[centre] > 0 and result.trend_p[centre] <= 0.05


def test_cluster_present_throughout_is_persistent():
    result, centre = run(np.full(len(MONTHS), 8))
    assert result.category[centre] == "persistent_hot"
    assert result.trend_p[centre] > 0.05
    # the first month has no earlier month in its neighbourhood: its z is far smaller, which is why
    # the trend leaves it out (otherwise this steady cluster would read as intensifying)
    assert result.z[centre, 0] < 0.8 * np.median(result.z[centre, 1:])


def test_cluster_that_stopped_is_historical():
    result, centre = run(planted(range(22)))
    assert result.category[centre] == "historical_hot"


def test_noise_alone_shows_almost_no_pattern():
    result, _ = run(np.zeros(len(MONTHS), dtype=int), seed=5)
    assert (result.category == "no_pattern").mean() >= 0.95
    assert set(result.category) <= set(EMERGING_CATEGORIES)


def test_cells_table():
    result, centre = run(planted([21, 22, 23]))
    assert list(result.cells.columns) == [
        "cell_id",
        "count",
        "lat",
        "lon",
        "emerging",
        "trend_z",
        "trend_p",
        "hot_months",
        "cold_months",
        "final_bin",
        "geometry",
    ]
    row = result.cells.iloc[centre]
    assert row["emerging"] == "consecutive_hot"
    assert row["hot_months"] == 3
    assert row["count"] == result.cube.counts[centre].sum()


# --------------------------------------------------------------------------------------------------
def test_space_time_weights_by_hand():
    # two adjacent cells, three months: (i, t) sees i and its neighbour in t and t - 1
    weights = space_time_weights(sparse.csr_array([[0, 1], [1, 0]]), 3).toarray()
    block = np.ones((2, 2))
    zero = np.zeros((2, 2))
    expected = np.block([[block, zero, zero], [block, block, zero], [zero, block, block]])
    assert_array_equal(weights, expected)
    assert_array_equal(space_time_weights(sparse.csr_array((2, 2)), 2, time_step=0).toarray(), np.eye(4))


def test_space_time_gi_star_equals_esda_on_the_same_weights():
    counts = np.random.default_rng(2).poisson(2.0, (16, 6)).astype(float)
    weights = space_time_weights(queen_lattice(4), 6)
    values = counts.T.ravel()
    _, z = analytical_gi_star(values, weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = esda.G_Local(values, WSP(sparse.csr_matrix(weights)).to_W(), transform="B", star=None, permutations=0)
    assert_allclose(z, theirs.Zs, rtol=1e-10)


def test_mann_kendall_by_hand():
    s, z, p, tau = mann_kendall(np.array([[1, 2, 3, 4, 5.0], [1, 1, 2, 2, 3.0], [5, 4, 3, 2, 1.0], [2, 2, 2, 2, 2.0]]))
    # [1..5]: S = 10, Var = 5·4·15/18 = 16.667, Z = (10 - 1) / 4.0825 = 2.2045
    # [1,1,2,2,3]: S = 8; two tie groups of 2 remove 2·(2·1·9)/18 = 2: Var = 14.667, Z = 7 / 3.8297
    assert_array_equal(s, [10, 8, -10, 0])
    assert_allclose(z, [9 / np.sqrt(300 / 18), 7 / np.sqrt(264 / 18), -9 / np.sqrt(300 / 18), 0.0])
    assert_allclose(p[0], 0.027486, atol=1e-6)
    assert_allclose(tau, [1.0, 0.8, -1.0, 0.0])
    assert np.isnan(mann_kendall(np.array([[1.0, np.nan, 2.0]]))[1][0])


STATES = {
    # 10 months each; + hot, - cold, . neither
    "new_hot": ".........+",
    "consecutive_hot": ".......+++",
    "intensifying_hot": "+++++++++++"[:10],
    "persistent_hot": "++++++++++",
    "diminishing_hot": "++++++++++",
    "sporadic_hot": "..+..+...+",
    "oscillating_hot": "-....+...+",
    "historical_hot": "+++++++++.",
    "new_cold": ".........-",
    "consecutive_cold": "........--",
    "intensifying_cold": "----------",
    "persistent_cold": "----------",
    "diminishing_cold": "----------",
    "sporadic_cold": "-...-....-",
    "oscillating_cold": "+++......-",
    "historical_cold": "---------.",
    "no_pattern": "+++.......",
}
TREND_Z = {"intensifying_hot": 3.0, "diminishing_hot": -3.0, "intensifying_cold": -3.0, "diminishing_cold": 3.0}


def test_classify_every_category_by_hand():
    names = list(STATES)
    states = np.array([[{"+": 1, "-": -1, ".": 0}[c] for c in STATES[n]] for n in names])
    trend_z = np.array([TREND_Z.get(n, 0.5) for n in names])
    trend_p = np.where(np.abs(trend_z) > 2, 0.01, 0.6)
    assert classify(states, trend_z, trend_p).tolist() == names
    assert set(names) == set(EMERGING_CATEGORIES)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        pytest.param("-........+", "oscillating_hot", id="cold-then-only-final-hot-is-oscillating-not-new"),
        pytest.param("..++.....+", "sporadic_hot", id="two-runs-is-sporadic-not-consecutive"),
        pytest.param("+++++++++-", "oscillating_cold", id="final-cold-decides-the-family"),
        pytest.param("+++++++.++", "persistent_hot", id="ninety-percent-is-enough"),
        pytest.param("++++++.+.+", "sporadic_hot", id="eighty-percent-is-not"),
    ],
)
def test_overlapping_rules_resolve_as_documented(row, expected):
    states = np.array([[{"+": 1, "-": -1, ".": 0}[c] for c in row]])
    assert classify(states, np.array([0.0]), np.array([0.9]))[0] == expected


# --------------------------------------------------------------------------------------------------
def test_cube_counts_by_local_month():
    times = pd.Series(pd.to_datetime(["2026-08-31T21:59Z", "2026-08-31T22:00Z", "2026-10-01T08:00Z"], utc=True))
    grid = build_grid(incidents_frame([18.67] * 3, [-34.05] * 3, occurred_at=times))
    cube = space_time_cube(grid)
    # 22:00 UTC on 31 August is midnight on 1 September in Cape Town
    assert [str(m) for m in cube.months] == ["2026-08", "2026-09", "2026-10"]
    position = grid.locate(np.array([18.67]), np.array([-34.05]))[0]
    assert_array_equal(cube.counts[position], [1, 1, 1])
    assert cube.counts.sum() == 3


def test_cube_uses_the_grid_period_and_drops_incidents_outside_given_months():
    times = pd.Series(pd.to_datetime(["2026-01-10T12:00Z", "2026-03-10T12:00Z"], utc=True))
    grid = build_grid(
        incidents_frame([18.67] * 2, [-34.05] * 2, occurred_at=times), start="2026-01-01", end="2026-05-01"
    )
    assert [str(m) for m in space_time_cube(grid).months] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    only_march = space_time_cube(grid, months=pd.period_range("2026-03", periods=1, freq="M"))
    assert only_march.counts.sum() == 1


def test_small_numbers_give_no_pattern_and_a_message():
    counts = np.zeros((SIDE * SIDE, len(MONTHS)), dtype=int)
    counts[BLOCK, -1] = 2  # 18 incidents
    grid = build_grid(incidents_from_counts(counts, LON, LAT, MONTHS), spec=SPEC)
    result = emerging_hotspots(space_time_cube(grid, months=MONTHS))
    assert (result.category == "no_pattern").all()
    assert "Only 18 incidents" in result.message


def test_short_window_warns():
    counts = np.random.default_rng(0).poisson(2, (SIDE * SIDE, 6))
    months = MONTHS[:6]
    grid = build_grid(incidents_from_counts(counts, LON, LAT, months), spec=SPEC)
    result = emerging_hotspots(space_time_cube(grid, months=months))
    assert "Only 6 months" in result.message


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"alpha": 0.2}, "0.10, 0.05 or 0.01", id="alpha"),
        pytest.param({"time_step": -1}, "0 or more", id="time-step"),
    ],
)
def test_invalid_arguments(kwargs, match):
    grid = build_grid(incidents_frame([18.67], [-34.05]))
    with pytest.raises(HotspotInputError, match=match):
        emerging_hotspots(space_time_cube(grid), **kwargs)


# --------------------------------------------------------------------------------------------------
# The map's classes: one class per cell from the 12-month Gi* bin and the emerging category
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("gi_bin", "emerging", "expected"),
    [
        pytest.param(0, "new_hot", "new", id="new-not-yet-significant-over-12-months"),
        pytest.param(-1, "consecutive_hot", "new", id="new-run-over-a-cold-year"),
        pytest.param(3, "intensifying_hot", "worse", id="worse"),
        pytest.param(3, "persistent_hot", "persistent", id="persistent"),
        pytest.param(0, "sporadic_hot", "persistent", id="on-and-off"),
        pytest.param(2, "no_pattern", "persistent", id="hot-over-the-year"),
        pytest.param(1, "diminishing_hot", "fading", id="diminishing"),
        pytest.param(0, "historical_hot", "fading", id="was-hot"),
        pytest.param(2, "new_cold", "fading", id="hot-year-cold-now"),
        pytest.param(-2, "no_pattern", "cold", id="cold-over-the-year"),
        pytest.param(0, "persistent_cold", "cold", id="cold-now"),
        pytest.param(0, "historical_cold", "none", id="was-cold"),
        pytest.param(0, "no_pattern", "none", id="nothing"),
    ],
)
def test_hotspot_classes(gi_bin, emerging, expected):
    from pipelines.hotspots.emerging import hotspot_classes

    assert list(hotspot_classes([gi_bin], [emerging])) == [expected]


def test_every_cell_gets_exactly_one_of_five_drawn_classes_and_none_when_the_guard_fired():
    from pipelines.hotspots.emerging import EMERGING_CATEGORIES, HOTSPOT_CLASSES, hotspot_classes

    bins = np.repeat(np.arange(-3, 4), len(EMERGING_CATEGORIES))
    categories = np.tile(EMERGING_CATEGORIES, 7)
    classes = hotspot_classes(bins, categories)
    drawn = [c for c in HOTSPOT_CLASSES if c.key != "none"]
    assert len(drawn) == 5 and len({c.colour for c in drawn}) == 5
    assert set(classes) == {c.key for c in HOTSPOT_CLASSES}
    assert set(hotspot_classes(bins, categories, sufficient=False)) == {"none"}
    with pytest.raises(HotspotInputError, match="one value per cell"):
        hotspot_classes([1, 2], ["new_hot"])
