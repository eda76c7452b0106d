"""Generalised locations and suppressed counts: the rules of docs/privacy.md, on numbers worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from pipelines.privacy import generalise, suppress
from pipelines.settings import Settings


@pytest.mark.parametrize(
    ("counts", "groups", "shown"),
    [
        # The 7 is hidden to protect the 3: "<5" on it would be untrue, so both read "withheld".
        pytest.param([0, 3, 7, 12], None, ["0", "withheld", "withheld", "12"], id="secondary-takes-smallest-other"),
        pytest.param([600, 398, 2], None, ["600", "withheld", "withheld"], id="a-large-secondary-is-never-<5"),
        pytest.param([2, 3, 40], None, ["<5", "<5", "40"], id="two-primaries-need-no-secondary"),
        pytest.param([5, 9], None, ["5", "9"], id="five-is-shown"),
        pytest.param([4, 0, 0], None, ["<5", "0", "0"], id="nothing-else-to-hide"),
        pytest.param([1, 8, 6, 20], ["a", "a", "b", "b"], ["withheld", "withheld", "6", "20"], id="per-group"),
        pytest.param([1_234], None, ["1,234"], id="thousands"),
    ],
)
def test_suppress(counts, groups, shown):
    published = suppress.suppress(pd.Series(counts), groups=groups)
    assert list(published["shown"]) == shown
    assert list(published["count"].isna()) == [s in ("<5", "withheld") for s in shown]


def test_no_table_total_gives_back_a_suppressed_count():
    rng = np.random.default_rng(7)
    for _ in range(200):
        counts = rng.integers(0, 12, size=rng.integers(1, 8))
        published = suppress.suppress(counts)
        hidden = published["count"].isna().to_numpy()
        # the total minus what is shown leaves either nothing hidden or at least two unknowns
        assert hidden.sum() != 1 or not (counts[~hidden] > 0).any(), counts


def test_shown_total_and_custom_threshold():
    assert suppress.shown_total(3) == "<5" and suppress.shown_total(0) == "0" and suppress.shown_total(5) == "5"
    assert list(suppress.suppress([2, 9], threshold=10)["shown"]) == ["<10", "<10"]
    assert list(suppress.suppress([2, 9], threshold=0)["shown"]) == ["2", "9"]


def test_generalised_points_are_cell_centres_and_keep_missing():
    geoms = gpd.GeoSeries([shapely.Point(18.6123, -34.0456), None], crs=4326)
    moved = generalise.generalised_points(geoms, 8)
    lat, lon = h3.cell_to_latlng(h3.latlng_to_cell(-34.0456, 18.6123, 8))
    assert (moved.iloc[0].x, moved.iloc[0].y) == pytest.approx((lon, lat)) and moved.iloc[1] is None


def _areas(population: float) -> gpd.GeoDataFrame:
    # a 0.01 x 0.01 degree box at 34 S is about 0.92 x 1.11 km = 1.03 km2
    return gpd.GeoDataFrame(
        {"code": ["A"], "kind": ["neighbourhood"], "population": [population]},
        geometry=[shapely.box(18.60, -34.05, 18.61, -34.04)],
        crs=4326,
    )


@pytest.mark.parametrize(
    ("population", "resolution"),
    [
        # households/km2 = pop / 1.03 / 3.3; res 9 cell 0.105 km2, res 8 0.737 km2, res 7 5.16 km2
        pytest.param(20_000, 9, id="dense-township"),  # ~620 households per res-9 cell
        pytest.param(2_000, 8, id="suburb"),  # ~62 per res-9 cell, ~430 per res-8 cell
        pytest.param(300, 7, id="sparse"),  # ~65 per res-8 cell
        pytest.param(float("nan"), 7, id="no-population"),
    ],
)
def test_generalise_resolution_follows_households(population, resolution):
    assert generalise.generalise_resolution(_areas(population)) == resolution


def test_generalise_resolution_uses_the_least_dense_area():
    areas = pd.concat([_areas(20_000), _areas(2_000).assign(code="B")], ignore_index=True)
    assert generalise.generalise_resolution(gpd.GeoDataFrame(areas, crs=4326)) == 8
    strict = Settings(min_households_per_cell=10_000)
    assert generalise.generalise_resolution(_areas(20_000), settings=strict) == 7


def test_unprotected_flags_groups_whose_total_pins_the_hidden_counts():
    counts = np.array([1, 1, 1, 1, 1, 1, 3, 8, 9, 2, 1])
    groups = np.array(["six ones"] * 6 + ["protected"] * 3 + ["small total"] * 2)
    published = suppress.suppress(counts, groups=groups)
    flagged = suppress.unprotected(counts, published["count"].isna(), groups=groups)
    # six cells of "<5" beside a total of 6: each is 1; 3 hides with 8 (sum 11); a total of 3 reads "<5"
    assert list(flagged) == [True] * 6 + [False] * 3 + [False] * 2
