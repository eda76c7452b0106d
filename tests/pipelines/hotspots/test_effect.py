"""One intervention's effect from its incidents and matched places (pipelines/hotspots/effect.py), on hand-built neighbourhoods whose answers can be worked out on paper."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from pipelines.hotspots.did import matched_places
from pipelines.hotspots.effect import intervention_effect, intervention_effects
from pipelines.hotspots.gistar import HotspotInputError
from pipelines.hotspots.grid import build_grid
from pipelines.hotspots.synthetic import (
    incidents_from_counts,
)
from pipelines.periods import local_months
from tests.pipelines.hotspots._act_grid import CX, CY, LAT, LON, SIDE, SPEC, area, point


def _evaluation_incidents(before_near=40, after_near=20, seed=4):
    """Monthly counts on the 20 × 20 lattice: Poisson(0.3) background everywhere, plus ``before_near`` and
    ``after_near`` reports a year at the grid centre, 12 months either side of July 2025."""
    months = pd.period_range("2024-07", periods=24, freq="M")
    centre = 10 * SIDE + 10
    counts = np.random.default_rng(seed).poisson(0.3, (SIDE * SIDE, 24))
    counts[centre, :12] += np.bincount(np.arange(before_near) % 12, minlength=12)
    counts[centre, 12:] += np.bincount(np.arange(after_near) % 12, minlength=12)
    return incidents_from_counts(counts, LON, LAT, months), counts


def _intervention_at_centre(start="2025-07-01", status="complete") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"intervention_id": ["L1"], "name": ["Lights"], "status": [status], "start": [start]},
        geometry=[point(CX[10 * SIDE + 10], CY[10 * SIDE + 10])],
        crs=4326,
    )


def test_intervention_effect_counts_near_and_in_matched_places():
    incidents, counts = _evaluation_incidents()
    grid = build_grid(incidents, area=area(), spec=SPEC)
    effect = intervention_effect(incidents, _intervention_at_centre(), "L1", grid=grid)
    estimate = effect.estimate
    near = np.hypot(CX - CX[10 * SIDE + 10], CY - CY[10 * SIDE + 10]) <= 400
    assert (estimate.treated_before, estimate.treated_after) == (counts[near, :12].sum(), counts[near, 12:].sum())
    assert str(effect.start) == "2025-07"
    assert [str(effect.before[0]), str(effect.before[-1])] == ["2024-07", "2025-06"]
    assert [str(effect.after[0]), str(effect.after[-1])] == ["2025-07", "2026-06"]
    # places are centred on cells with no intervention within 400 m, and no place holds another's centre
    centres = grid.locate(LON, LAT)
    ids = grid.cells["cell_id"].to_numpy()
    chosen = [int(np.nonzero(ids[centres] == c)[0][0]) for c in effect.control_cell_ids]
    assert all(np.hypot(CX[i] - CX[10 * SIDE + 10], CY[i] - CY[10 * SIDE + 10]) > 400 for i in chosen)
    for i in chosen:
        for j in chosen:
            assert i == j or np.hypot(CX[i] - CX[j], CY[i] - CY[j]) > 400
    assert effect.control_cells == len(effect.control_cell_ids) == estimate.places >= 8
    assert effect.verdict == "fewer"
    assert effect.reason.startswith("Reports fell by about ")


def test_matched_places_are_the_closest_in_before_count_and_do_not_share_centres():
    # five places on a line; place i holds cells i-1..i+1 and is centred on cell i
    members = sparse.csr_array(
        np.array([[1, 1, 0, 0, 0], [1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 0, 1, 1]])
    )
    cell_before = np.array([10, 0, 30, 0, 2])
    # place before-counts: 10, 40, 30, 32, 2; closest to 33 are 3 (32), 2 (30), 1 (40), 0 (10), 4 (2)
    chosen = matched_places(cell_before, members, np.arange(5), 33, places=5)
    # 3 first; 2 holds 3's centre; 1 is free; 0 holds 1's centre; 4 holds 3's centre
    assert chosen.tolist() == [3, 1]


@pytest.mark.parametrize(
    ("start", "geometry", "reason"),
    [
        pytest.param(None, True, "no start date", id="no-start"),
        pytest.param("2025-07-01", False, "no location", id="no-geometry"),
        pytest.param("2026-05-01", True, "only 2 months of data since", id="too-recent"),
        pytest.param("2024-08-01", True, "Only 1 month of data before", id="too-early"),
    ],
)
def test_intervention_effect_too_few_to_tell_without_enough_to_compare(start, geometry, reason):
    incidents, _ = _evaluation_incidents()
    grid = build_grid(incidents, area=area(), spec=SPEC)
    interventions = _intervention_at_centre(start=start)
    if not geometry:
        interventions.loc[0, "geometry"] = None
    effect = intervention_effect(incidents, interventions, "L1", grid=grid)
    assert effect.verdict == "too few reports to tell"
    assert effect.estimate is None
    assert reason in effect.reason


def test_before_window_starts_with_the_data_and_after_window_skips_a_partial_month():
    incidents, _ = _evaluation_incidents()
    # data begin in July 2024; a before window of 18 months would reach back to January 2024
    months = local_months(incidents["occurred_at"])
    last = months.max()
    thinned = incidents[((months != last) | (np.arange(len(incidents)) % 4 == 0)).to_numpy()]
    grid = build_grid(thinned, area=area(), spec=SPEC)
    effect = intervention_effect(thinned, _intervention_at_centre(), "L1", grid=grid, months_before=18)
    assert str(effect.before[0]) == "2024-07"
    assert str(effect.after[-1]) == "2026-05"  # June 2026 holds a quarter of its reports: left out


def test_intervention_effects_table_and_unknown_id():
    incidents, _ = _evaluation_incidents()
    grid = build_grid(incidents, area=area(), spec=SPEC)
    interventions = pd.concat([_intervention_at_centre(), _intervention_at_centre(status="planned")])
    interventions["intervention_id"] = ["L1", "L2"]
    table = intervention_effects(incidents, interventions, grid=grid)
    assert list(table["intervention_id"]) == ["L1"]  # planned work has no "after" to judge
    assert table.loc[0, "verdict"] == "fewer"
    assert {"ratio", "ratio_low", "ratio_high", "dispersion", "places"} <= set(table.columns)
    with pytest.raises(HotspotInputError, match="Unknown intervention 'L9'; known ids: L1, L2"):
        intervention_effect(incidents, interventions, "L9", grid=grid)
