"""Rates per 1,000 residents with global Empirical Bayes smoothing."""

from __future__ import annotations

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose

from pipelines.hotspots.rates import HotspotInputError, area_rates, empirical_bayes
from pipelines.hotspots.synthetic import incidents_frame

COUNTS = np.array([3, 50, 60, 40, 10.0])
POPULATION = np.array([150, 10_000, 12_000, 9_000, 4_000.0])


def test_empirical_bayes_equals_esda():
    rates, weights, b, a = empirical_bayes(COUNTS, POPULATION)
    assert_allclose(rates, esda.smoothing.Empirical_Bayes(COUNTS, POPULATION).r.ravel(), rtol=1e-12)
    assert_allclose(b, COUNTS.sum() / POPULATION.sum())


def test_empirical_bayes_by_hand():
    # two areas: 10 of 1,000 and 30 of 1,000
    rates, weights, b, a = empirical_bayes([10, 30], [1000, 1000])
    # b = 40/2000 = 0.02; s² = (1000·0.01² + 1000·0.01²)/2000 = 1e-4; a = 1e-4 - 0.02/1000 = 8e-5
    assert_allclose(b, 0.02)
    assert_allclose(a, 8e-5)
    # w = a / (a + b/1000) = 8e-5 / 1e-4 = 0.8 -> 0.8·0.01 + 0.2·0.02 = 0.012 and 0.8·0.03 + 0.2·0.02 = 0.028
    assert_allclose(weights, [0.8, 0.8])
    assert_allclose(rates, [0.012, 0.028])


def test_three_incidents_among_150_residents_do_not_top_the_table():
    rates, weights, _, _ = empirical_bayes(COUNTS, POPULATION)
    crude = COUNTS / POPULATION
    assert crude.argmax() == 0  # 20 per 1,000: the alarming crude rate
    assert rates[0] * 1000 < 6  # smoothed close to the overall 4.6 per 1,000
    assert weights[0] < 0.05 and weights[2] > 0.7  # the small area borrows, the large one keeps its own


def test_no_between_area_variation_shrinks_everything_to_the_overall_rate():
    rates, weights, b, a = empirical_bayes([10, 11, 9], [1000, 1000, 1000])
    assert a == 0
    assert_allclose(rates, b)
    assert_allclose(weights, 0)


@pytest.mark.parametrize(
    ("counts", "population"),
    [
        pytest.param([1, 2], [100, 0], id="zero-population"),
        pytest.param([1, 2], [100], id="length"),
        pytest.param([-1, 2], [100, 100], id="negative-count"),
    ],
)
def test_invalid_empirical_bayes_inputs(counts, population):
    with pytest.raises(HotspotInputError, match="same length"):
        empirical_bayes(counts, population)


def _areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "code": ["P1", "P2", "P3", "N1"],
            "name": ["Big", "Small", "Unknown", "Hood"],
            "kind": ["precinct", "precinct", "precinct", "neighbourhood"],
            "municipality": "City",
            "population": [20_000.0, 150.0, None, 5_000.0],
        },
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(4)],
        crs=4326,
    )


def _incidents() -> gpd.GeoDataFrame:
    codes = ["P1"] * 90 + ["P2"] * 3 + ["P3"] * 5
    incidents = incidents_frame(np.zeros(len(codes)), np.zeros(len(codes)), precinct_code=None)
    incidents["precinct_code"] = codes
    incidents["neighbourhood_code"] = ["N1"] * 10 + [None] * (len(codes) - 10)
    return incidents


def test_area_rates_table():
    rates = area_rates(_incidents(), _areas(), kind="precinct")
    table = rates.table.set_index("code")
    # highest smoothed rate first, no rate last: P2 is still a little above P1, but 5 per 1,000, not 20
    assert list(rates.table["code"]) == ["P2", "P1", "P3"]
    assert 4.6 < table.loc["P2", "eb_rate"] < 6
    assert table.loc["P1", "count"] == 90 and table.loc["P2", "count"] == 3
    assert_allclose(table.loc["P1", "crude_rate"], 4.5)
    assert_allclose(table.loc["P2", "crude_rate"], 20.0)
    expected, _, b, _ = empirical_bayes([90, 3], [20_000, 150])
    assert_allclose(table.loc[["P1", "P2"], "eb_rate"], expected * 1000)
    assert_allclose(rates.overall_rate, b * 1000)
    assert np.isnan(table.loc["P3", "eb_rate"])
    assert "No population figure" in table.loc["P3", "note"]
    assert "Only 150 residents" in table.loc["P2", "note"]


def test_neighbourhood_rates_and_filters():
    incidents = _incidents()
    incidents.loc[:4, "category"] = "murder"
    rates = area_rates(incidents, _areas(), kind="neighbourhood", categories=["murder"], per=100_000)
    row = rates.table.iloc[0]
    assert row["code"] == "N1" and row["count"] == 5
    assert_allclose(row["crude_rate"], 5 / 5000 * 100_000)
    assert rates.per == 100_000


def test_period_filter():
    incidents = _incidents()
    incidents["occurred_at"] = pd.Timestamp("2025-01-15", tz="UTC")
    assert area_rates(incidents, _areas(), start="2026-01-01").table["count"].sum() == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"kind": "ward"}, "`kind` must be one of precinct, neighbourhood", id="kind"),
        pytest.param({"per": 0}, "`per` must be a positive number", id="per"),
    ],
)
def test_invalid_area_rates_arguments(kwargs, match):
    with pytest.raises(HotspotInputError, match=match):
        area_rates(_incidents(), _areas(), **kwargs)


def test_population_source_names_census_2022_for_the_demo_and_the_file_otherwise(demo_store):
    from pipelines.hotspots.rates import population_source

    areas, batches = demo_store.read_areas(), demo_store.read_table("batches")
    assert population_source(areas, batches, kind="precinct").startswith("Residents: Census 2022 (Stats SA)")
    assert "estimated from Census 2022 (Stats SA)" in population_source(areas, batches, kind="neighbourhood")
    other = batches.assign(sha256="0" * 64)
    assert population_source(areas, other, kind="precinct") == (
        "Residents: the population figures in precincts.geojson, as loaded; the file does not say where they come "
        "from or which year they describe."
    )
    assert "no population figures" in population_source(areas.assign(population=None), batches, kind="precinct")


def test_known_population_sources_are_the_files_of_the_demo_provenance():
    import re

    from pipelines.hotspots.rates import KNOWN_POPULATION_SOURCES
    from pipelines.settings import DEMO_DIR

    listed = dict(re.findall(r"^\s+([0-9a-f]{64})\s+(\S+)$", (DEMO_DIR / "PROVENANCE.md").read_text(), re.M))
    assert {listed[h] for h in KNOWN_POPULATION_SOURCES} == {"precincts.geojson", "neighbourhoods.geojson"}
