"""The ACT questions on hand-built neighbourhoods whose answers can be worked out on paper."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose

from pipelines.hotspots.act import (
    COVERING_STATUSES,
    HotspotInputError,
    assets_near_hotspots,
    did_estimate,
    hotspots_without_intervention,
    intervention_effect,
    intervention_effects,
    reporting_gap,
)
from pipelines.hotspots.gistar import hot_spots
from pipelines.hotspots.grid import GridSpec, build_grid
from pipelines.hotspots.synthetic import CAPE_TOWN_CRS, incidents_from_counts, origin_metric, to_lonlat

SIDE = 20
SPEC = GridSpec(kind="fishnet", cell_size_m=100, crs=CAPE_TOWN_CRS)
X0, Y0 = origin_metric()
CX = X0 + 50 + 100 * np.tile(np.arange(SIDE), SIDE)
CY = Y0 + 50 + 100 * np.repeat(np.arange(SIDE), SIDE)
LON, LAT = to_lonlat(CX, CY)
A = (X0 + 550, Y0 + 550)  # centre of cluster A (cells 4-6)
B = (X0 + 1450, Y0 + 1450)  # centre of cluster B (cells 13-15)


def _point(x, y) -> shapely.Point:
    lon, lat = to_lonlat([x], [y])
    return shapely.Point(lon[0], lat[0])


def _area() -> shapely.Polygon:
    lon, lat = to_lonlat([X0, X0 + 2000, X0 + 2000, X0], [Y0, Y0, Y0 + 2000, Y0 + 2000])
    return shapely.Polygon(zip(lon, lat, strict=True))


@pytest.fixture(scope="module")
def hotspots():
    counts = np.random.default_rng(1).poisson(1.0, (SIDE * SIDE, 1))
    for cx, cy in ((5, 5), (14, 14)):
        for r in range(cy - 1, cy + 2):
            for c in range(cx - 1, cx + 2):
                counts[r * SIDE + c] += 10
    months = pd.period_range("2026-01", periods=1, freq="M")
    grid = build_grid(incidents_from_counts(counts, LON, LAT, months), area=_area(), spec=SPEC)
    return hot_spots(grid)


def _interventions() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "intervention_id": ["I1", "I2", "I3"],
            "name": ["Lighting A", "Walkway B", "Youth programme"],
            "type": ["lighting", "walkway", "programme"],
            "status": ["complete", "stalled", "in_progress"],
            "start": ["2025-07-01", "2025-03-01", "2025-01-01"],
            "end": [None, None, None],
        },
        geometry=[_point(*A), _point(*B), None],
        crs=4326,
    )


def _is_near(hot_cells, centre, metres=400) -> np.ndarray:
    cells = hot_cells.geometry.to_crs(CAPE_TOWN_CRS)
    return cells.distance(shapely.Point(*centre)).to_numpy() <= metres


def test_covering_statuses_are_the_documented_ones():
    assert COVERING_STATUSES == ("planned", "in_progress", "complete", "maintenance")


def test_hot_cells_near_the_stalled_project_are_uncovered(hotspots):
    gaps = hotspots_without_intervention(hotspots, _interventions())
    hot = hotspots.hot
    assert _is_near(hot, A).sum() >= 9 and _is_near(hot, B).sum() >= 9
    uncovered = set(gaps.table["cell_id"])
    assert uncovered == set(hot.loc[~_is_near(hot, A), "cell_id"])
    assert (gaps.table["stalled_nearby"][_is_near(gaps.table, B)] == "Walkway B").all()
    assert (gaps.table["nearest_status"][_is_near(gaps.table, B, 100)] == "stalled").all()
    assert set(gaps.covered["cell_id"]) == set(hot.loc[_is_near(hot, A), "cell_id"])
    assert (gaps.covered["interventions"] == "Lighting A").all()
    assert (gaps.covered["statuses"] == "complete").all()
    assert "1 intervention(s) have no location" in gaps.message
    assert "Youth programme" in gaps.message
    assert list(gaps.table["gi_bin"]) == sorted(gaps.table["gi_bin"], reverse=True)


def test_distance_and_statuses_are_configurable(hotspots):
    interventions = _interventions()
    # counting stalled projects as cover closes the gap at B
    closed = hotspots_without_intervention(hotspots, interventions, statuses=(*COVERING_STATUSES, "stalled"))
    assert closed.table.empty
    # at 0 m only the cell that contains the lighting is covered
    tight = hotspots_without_intervention(hotspots, interventions, distance_m=0)
    assert len(tight.covered) == 1
    # nearest_m is the distance from the cell's edge to the nearest intervention, any status
    row = tight.table[tight.table["nearest_intervention"] == "I1"].sort_values("nearest_m").iloc[0]
    assert_allclose(row["nearest_m"], 50.0, atol=0.5)


def test_planned_work_counts_as_cover(hotspots):
    interventions = _interventions()
    interventions.loc[1, "status"] = "planned"
    gaps = hotspots_without_intervention(hotspots, interventions)
    assert gaps.table.empty
    assert set(gaps.covered["statuses"]) == {"complete", "planned"}
    assert set(gaps.covered["stalled_nearby"]) == {""}


def test_no_hot_cells_says_so(hotspots):
    gaps = hotspots_without_intervention(hotspots, _interventions(), min_bin=4)
    assert gaps.table.empty
    assert "No significant hot spots" in gaps.message


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"distance_m": -1}, "distance in metres", id="negative-distance"),
        pytest.param({"statuses": ("done",)}, "unknown status 'done'", id="status"),
    ],
)
def test_invalid_gap_arguments(hotspots, kwargs, match):
    with pytest.raises(HotspotInputError, match=match):
        hotspots_without_intervention(hotspots, _interventions(), **kwargs)


def test_assets_near_hotspots_grouped_by_category(hotspots):
    assets = gpd.GeoDataFrame(
        {
            "asset_id": ["S1", "C1", "F1"],
            "name": ["Thembani Primary", "St Mary's Church", "Far Field"],
            "abcd_category": ["institutions", "associations", "physical"],
            "type": ["school", "church", "sports field"],
            "custodian": ["WCED", "Parish", "City"],
        },
        geometry=[_point(A[0] + 100, A[1]), _point(A[0], A[1] - 150), _point(X0 + 1950, Y0 + 50)],
        crs=4326,
    )
    near = assets_near_hotspots(hotspots, assets)
    summary = near.summary.set_index("cell_id")
    hot = hotspots.hot.set_index("cell_id")
    a_cells = hot.index[_is_near(hotspots.hot, A, 100)]
    b_cells = hot.index[_is_near(hotspots.hot, B, 100)]
    assert (summary.loc[a_cells, "institutions"] == 1).all()
    assert (summary.loc[a_cells, "associations"] == 1).all()
    assert (summary.loc[a_cells, "physical"] == 0).all()
    assert (summary.loc[a_cells, "partners"] == "associations: St Mary's Church; institutions: Thembani Primary").all()
    assert (summary.loc[b_cells, "assets"] == 0).all()
    assert (summary.loc[b_cells, "partners"] == "").all()
    assert "F1" not in set(near.table["asset_id"])
    centre_cell = near.table[(near.table["asset_id"] == "S1")].sort_values("distance_m").iloc[0]
    assert centre_cell["distance_m"] == 0.0  # the school sits inside a hot cell
    assert list(near.table.columns) == [
        "cell_id",
        "gi_bin",
        "asset_id",
        "name",
        "abcd_category",
        "type",
        "custodian",
        "distance_m",
    ]


# --------------------------------------------------------------------------------------------------
# Did it work?
# --------------------------------------------------------------------------------------------------
def test_worked_difference_in_differences_example():
    """40 incidents near the lights in the year before, 20 in the year after; 100 and 100 in the
    comparison cells. Relative change (20/40)/(100/100) = 0.5; log-scale standard error
    sqrt(1/40 + 1/20 + 1/100 + 1/100) = sqrt(0.095) = 0.30822; 95 % interval 0.5·exp(∓1.95996·0.30822)
    = 0.2733 to 0.9148. Expected after = 40·100/100 = 40, so 20 fewer (interval 40·(0.2733 - 1) = -29.07
    to 40·(0.9148 - 1) = -3.41)."""
    estimate = did_estimate(40, 20, 100, 100)
    assert_allclose(estimate.ratio, 0.5)
    assert_allclose([estimate.ratio_low, estimate.ratio_high], [0.27327, 0.91483], atol=5e-5)
    assert_allclose(estimate.expected_after, 40.0)
    assert_allclose(estimate.difference, -20.0)
    assert_allclose([estimate.difference_low, estimate.difference_high], [-29.069, -3.407], atol=5e-3)
    assert estimate.verdict == "fewer"
    assert "20 fewer" in estimate.reason and "-50%" in estimate.reason


@pytest.mark.parametrize(
    ("counts", "verdict", "reason"),
    [
        pytest.param((5, 1, 100, 100), "inconclusive", "Only 5 incident", id="too-few-before"),
        pytest.param((40, 30, 8, 9), "inconclusive", "comparison cells had only 8", id="too-few-controls"),
        pytest.param((40, 36, 100, 100), "inconclusive", "includes no change", id="interval-spans-one"),
        pytest.param((40, 80, 100, 100), "more", "40 more", id="more"),
        pytest.param((40, 0, 100, 100), "fewer", "fewer", id="zero-after-uses-half-counts"),
    ],
)
def test_did_verdicts(counts, verdict, reason):
    estimate = did_estimate(*counts)
    assert estimate.verdict == verdict
    assert reason in estimate.reason


def test_zero_after_uses_the_half_count_correction():
    estimate = did_estimate(40, 0, 100, 100)
    assert_allclose(estimate.ratio, (0.5 / 40.5) / (100.5 / 100.5))


def _evaluation_incidents(before_near=40, after_near=20, before_far=100, after_far=100, background=None):
    """Monthly counts: near the intervention (at the grid centre) and in one far cell, 12 months either side."""
    months = pd.period_range("2024-07", periods=24, freq="M")
    centre = 10 * SIDE + 10
    far = 1 * SIDE + 1
    counts = np.zeros((SIDE * SIDE, 24), dtype=int) if background is None else background.copy()
    for cell, before, after in ((centre, before_near, after_near), (far, before_far, after_far)):
        counts[cell, :12] += np.bincount(np.arange(before) % 12, minlength=12)
        counts[cell, 12:] += np.bincount(np.arange(after) % 12, minlength=12)
    return incidents_from_counts(counts, LON, LAT, months), counts


def _intervention_at_centre(start="2025-07-01", status="complete") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"intervention_id": ["L1"], "name": ["Lights"], "status": [status], "start": [start]},
        geometry=[_point(CX[10 * SIDE + 10], CY[10 * SIDE + 10])],
        crs=4326,
    )


def test_intervention_effect_reproduces_the_worked_example():
    incidents, _ = _evaluation_incidents()
    grid = build_grid(incidents, area=_area(), spec=SPEC)
    effect = intervention_effect(incidents, _intervention_at_centre(), "L1", grid=grid, controls=None)
    estimate = effect.estimate
    assert (estimate.treated_before, estimate.treated_after) == (40, 20)
    assert (estimate.control_before, estimate.control_after) == (100, 100)
    assert_allclose(estimate.ratio, 0.5)
    assert effect.verdict == "fewer"
    assert str(effect.start) == "2025-07"
    assert [str(effect.before[0]), str(effect.before[-1])] == ["2024-07", "2025-06"]
    assert [str(effect.after[0]), str(effect.after[-1])] == ["2025-07", "2026-06"]
    # cells within 400 m of the lights cannot be comparison cells: a disc of about 29 cells of 100 m
    assert effect.control_cells == SIDE * SIDE - effect.treated_cells
    assert 45 <= effect.treated_cells <= 69


def test_matched_controls_are_the_cells_most_like_the_treated_area():
    background = np.random.default_rng(4).poisson(0.3, (SIDE * SIDE, 24))
    incidents, counts = _evaluation_incidents(background=background)
    grid = build_grid(incidents, area=_area(), spec=SPEC)
    effect = intervention_effect(incidents, _intervention_at_centre(), "L1", grid=grid, controls=20)
    assert effect.control_cells == 20
    assert len(effect.control_cell_ids) == 20
    far = grid.cells["cell_id"].iloc[grid.locate(LON[[SIDE + 1]], LAT[[SIDE + 1]])[0]]
    assert far not in effect.control_cell_ids  # 100 incidents a year is nothing like the lights' area


@pytest.mark.parametrize(
    ("start", "geometry", "reason"),
    [
        pytest.param(None, True, "no start date", id="no-start"),
        pytest.param("2025-07-01", False, "no location", id="no-geometry"),
        pytest.param("2026-05-01", True, "only 2 month(s) of data since", id="too-recent"),
        pytest.param("2024-08-01", True, "Only 1 month(s) of data before", id="too-early"),
    ],
)
def test_intervention_effect_inconclusive_without_enough_to_compare(start, geometry, reason):
    incidents, _ = _evaluation_incidents()
    grid = build_grid(incidents, area=_area(), spec=SPEC)
    interventions = _intervention_at_centre(start=start)
    if not geometry:
        interventions.loc[0, "geometry"] = None
    effect = intervention_effect(incidents, interventions, "L1", grid=grid)
    assert effect.verdict == "inconclusive"
    assert effect.estimate is None
    assert reason in effect.reason


def test_intervention_effects_table_and_unknown_id():
    incidents, _ = _evaluation_incidents()
    grid = build_grid(incidents, area=_area(), spec=SPEC)
    interventions = pd.concat([_intervention_at_centre(), _intervention_at_centre(status="planned")])
    interventions["intervention_id"] = ["L1", "L2"]
    table = intervention_effects(incidents, interventions, grid=grid, controls=None)
    assert list(table["intervention_id"]) == ["L1"]  # planned work has no "after" to judge
    assert table.loc[0, "verdict"] == "fewer"
    assert table.loc[0, "treated_before"] == 40
    with pytest.raises(HotspotInputError, match="Unknown intervention 'L9'; known ids: L1, L2"):
        intervention_effect(incidents, interventions, "L9", grid=grid)


# --------------------------------------------------------------------------------------------------
# Community against municipal data
# --------------------------------------------------------------------------------------------------
def test_reporting_gap_flags_the_cell_where_only_the_community_reports():
    months = pd.period_range("2026-01", periods=1, freq="M")
    gap_cell, balanced = 0, list(range(20, 30))
    community = np.zeros((SIDE * SIDE, 1), dtype=int)
    municipal = np.zeros((SIDE * SIDE, 1), dtype=int)
    community[gap_cell], municipal[gap_cell] = 20, 2
    community[balanced], municipal[balanced] = 5, 5
    incidents = pd.concat(
        [
            incidents_from_counts(community, LON, LAT, months, source="community", precinct_code="P1"),
            incidents_from_counts(municipal, LON, LAT, months, source="municipal", precinct_code="P1"),
        ],
        ignore_index=True,
    )
    incidents.loc[incidents.geometry.x > LON[24] + 1e-7, "precinct_code"] = "P2"  # columns 5-9
    grid = build_grid(incidents, area=_area(), spec=SPEC)
    result = reporting_gap(grid)
    assert_allclose(result.overall_share, 70 / 122)
    top = result.cells.iloc[0]
    assert top["community"] == 20 and top["municipal"] == 2
    assert bool(top["gap"])
    assert_allclose(top["expected_community"], 22 * 70 / 122)
    assert_allclose(top["excess"], 20 - 22 * 70 / 122)
    assert result.cells["gap"].sum() == 1
    precincts = result.precincts.set_index("precinct_code")
    assert precincts.loc["P1", ["community", "municipal"]].tolist() == [45, 27]  # gap cell + 5 balanced
    assert precincts.loc["P2", ["community", "municipal"]].tolist() == [25, 25]
    assert result.message is None


def test_reporting_gap_needs_both_sources():
    months = pd.period_range("2026-01", periods=1, freq="M")
    counts = np.ones((SIDE * SIDE, 1), dtype=int)
    grid = build_grid(incidents_from_counts(counts, LON, LAT, months, source="municipal"), area=_area(), spec=SPEC)
    result = reporting_gap(grid)
    assert "no community reports" in result.message
    assert not result.cells["gap"].any()
