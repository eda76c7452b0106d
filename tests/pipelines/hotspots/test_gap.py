"""The reporting gap: where only one source reports (pipelines/hotspots/gap.py), on hand-built neighbourhoods whose answers can be worked out on paper."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose

from pipelines.hotspots.gap import reporting_gap
from pipelines.hotspots.grid import build_grid
from pipelines.hotspots.synthetic import (
    incidents_from_counts,
)
from tests.pipelines.hotspots._act_grid import LAT, LON, SIDE, SPEC, area


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
    grid = build_grid(incidents, area=area(), spec=SPEC)
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
    grid = build_grid(incidents_from_counts(counts, LON, LAT, months, source="municipal"), area=area(), spec=SPEC)
    result = reporting_gap(grid)
    assert "no community reports" in result.message
    assert not result.cells["gap"].any()
