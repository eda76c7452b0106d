"""Coverage: hot cells without an intervention, and the assets near them (pipelines/hotspots/coverage.py), on hand-built neighbourhoods whose answers can be worked out on paper."""

from __future__ import annotations

import geopandas as gpd
import pytest
from numpy.testing import assert_allclose

from pipelines.hotspots.coverage import COVERING_STATUSES, assets_near_hotspots, hotspots_without_intervention
from pipelines.hotspots.gistar import HotspotInputError
from tests.pipelines.hotspots._act_grid import X0, Y0, A, B, grid_hotspots, is_near, point, sample_interventions


@pytest.fixture(scope="module")
def hotspots():
    return grid_hotspots()


def test_covering_statuses_are_the_documented_ones():
    assert COVERING_STATUSES == ("planned", "in_progress", "complete", "maintenance")


def test_hot_cells_near_the_stalled_project_are_uncovered(hotspots):
    gaps = hotspots_without_intervention(hotspots, sample_interventions())
    hot = hotspots.hot
    assert is_near(hot, A).sum() >= 9 and is_near(hot, B).sum() >= 9
    uncovered = set(gaps.table["cell_id"])
    assert uncovered == set(hot.loc[~is_near(hot, A), "cell_id"])
    assert (gaps.table["stalled_nearby"][is_near(gaps.table, B)] == "Walkway B").all()
    assert (gaps.table["nearest_status"][is_near(gaps.table, B, 100)] == "stalled").all()
    assert set(gaps.covered["cell_id"]) == set(hot.loc[is_near(hot, A), "cell_id"])
    assert (gaps.covered["interventions"] == "Lighting A").all()
    assert (gaps.covered["statuses"] == "complete").all()
    assert "1 intervention has no location" in gaps.message
    assert "Youth programme" in gaps.message
    assert list(gaps.table["gi_bin"]) == sorted(gaps.table["gi_bin"], reverse=True)


def test_distance_and_statuses_are_configurable(hotspots):
    interventions = sample_interventions()
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
    interventions = sample_interventions()
    interventions.loc[1, "status"] = "planned"
    gaps = hotspots_without_intervention(hotspots, interventions)
    assert gaps.table.empty
    assert set(gaps.covered["statuses"]) == {"complete", "planned"}
    assert set(gaps.covered["stalled_nearby"]) == {""}


def test_no_hot_cells_says_so(hotspots):
    gaps = hotspots_without_intervention(hotspots, sample_interventions(), min_bin=4)
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
        hotspots_without_intervention(hotspots, sample_interventions(), **kwargs)


def test_assets_near_hotspots_grouped_by_category(hotspots):
    assets = gpd.GeoDataFrame(
        {
            "asset_id": ["S1", "C1", "F1"],
            "name": ["Thembani Primary", "St Mary's Church", "Far Field"],
            "abcd_category": ["institutions", "associations", "physical"],
            "type": ["school", "church", "sports field"],
            "custodian": ["WCED", "Parish", "City"],
        },
        geometry=[point(A[0] + 100, A[1]), point(A[0], A[1] - 150), point(X0 + 1950, Y0 + 50)],
        crs=4326,
    )
    near = assets_near_hotspots(hotspots, assets)
    summary = near.summary.set_index("cell_id")
    hot = hotspots.hot.set_index("cell_id")
    a_cells = hot.index[is_near(hotspots.hot, A, 100)]
    b_cells = hot.index[is_near(hotspots.hot, B, 100)]
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
