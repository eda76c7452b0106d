"""One rule reads a month's count against the months before it, everywhere (issue 17, item 2)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from pipelines import views
from pipelines.hotspots import change
from pipelines.privacy import PUBLIC
from pipelines.privacy.published import profile_stats

ROOT = Path(__file__).resolve().parents[3]


def test_the_issue_power_figure_holds():
    """'A doubling from 10 a month is caught 62% of the time' against three months before."""
    assert change.power_to_see_doubling(10, 3) == pytest.approx(0.62, abs=0.01)
    # Checked against a simulation of the same test.
    rng = np.random.default_rng(7)
    this, base = rng.poisson(20, 4000), rng.poisson(30, 4000)
    caught = np.mean(
        [stats.binomtest(int(c), int(c + b), 0.25).pvalue <= 0.05 for c, b in zip(this, base, strict=True)]
    )
    assert change.power_to_see_doubling(10, 3) == pytest.approx(caught, abs=0.03)


@pytest.mark.parametrize(
    ("this", "baseline_total", "reading"),
    [
        pytest.param(4, 6, change.TOO_FEW, id="4-after-2-a-month"),
        pytest.param(14, 30, change.TOO_FEW, id="14-after-10: a doubling would be missed 4 times in 10"),
        pytest.param(22, 60, change.NO_CLEAR_CHANGE, id="22-after-20: enough to see a doubling"),
        pytest.param(45, 60, change.UP, id="45-after-20"),
        pytest.param(5, 60, change.DOWN, id="5-after-20"),
        pytest.param(9, 0, change.TOO_FEW, id="9-after-none: below the small number, not tested"),
    ],
)
def test_readings(this, baseline_total, reading):
    assert change.read_change(this, baseline_total, 3).reading == reading


def test_only_findings_are_coloured():
    assert change.read_change(45, 60, 3).coloured
    assert not change.read_change(22, 60, 3).coloured
    assert not change.read_change(4, 6, 3).coloured
    assert change.read_change(22, 60, 3).words() == "No clear change"


def test_kpi_change_is_read_by_the_rule(demo_store):
    """The profile KPI used to show a raw '+N vs month' in red or green whatever N was."""
    from pipelines.store.base import IncidentQuery

    months = views.available_months(demo_store.read_incidents(IncidentQuery(columns=["occurred_at"])))
    stats_ = profile_stats(demo_store, PUBLIC, IncidentQuery(), month=months[1], population=None)
    assert isinstance(stats_.change, change.Change)
    assert stats_.change.reading in change.READINGS
    assert stats_.change.baseline_mean > 0


def test_no_page_computes_a_change_itself():
    """Pages read changes through the one rule: no page subtracts last month's count from this month's."""
    for page in sorted((ROOT / "dashboard" / "app_pages").glob("*.py")):
        source = page.read_text()
        assert "delta=f" not in source, f"{page.name} formats its own change"
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.keyword) and node.arg == "delta_color":
                raise AssertionError(f"{page.name} picks its own change colour; use common.change_delta")
