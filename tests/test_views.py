"""pipelines.views: local months, KPIs, ACT review and data-quality tables on hand-built frames."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipelines import views


def _incidents(rows):
    frame = pd.DataFrame(rows, columns=["occurred_at", "category", "source"])
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    frame["org"] = None
    return frame


def test_local_month_uses_johannesburg_time():
    # 22:30 UTC on 31 March is 00:30 on 1 April in Khayelitsha: the ACT counts it in April.
    at = pd.Series(pd.to_datetime(["2025-03-31T22:30:00Z", "2025-03-31T21:30:00Z"], utc=True))
    assert [str(p) for p in views.local_month(at)] == ["2025-04", "2025-03"]


def test_month_bounds_are_local_midnights_in_utc():
    start, end = views.month_bounds(pd.Period("2025-04", "M"))
    assert start == dt.datetime(2025, 3, 31, 22, tzinfo=dt.UTC)
    assert end == dt.datetime(2025, 4, 30, 22, tzinfo=dt.UTC)


def test_profile_kpis():
    incidents = _incidents(
        [
            ("2025-04-02", "murder", "municipal"),
            ("2025-04-03", "murder", "community"),
            ("2025-04-04", "assault_common", "community"),
            ("2025-04-05", "assault_common", "municipal"),
            ("2025-03-05", "assault_common", "municipal"),
        ]
    )
    kpis = views.profile_kpis(incidents, month=pd.Period("2025-04", "M"), population=2000)
    assert (kpis.incidents, kpis.previous, kpis.change) == (4, 1, 3)
    assert kpis.rate_per_1000 == 2.0
    assert kpis.community_share == 0.5


def test_category_change():
    incidents = _incidents(
        [
            ("2025-04-02", "murder", "municipal"),
            ("2025-04-03", "murder", "municipal"),
            ("2025-03-04", "murder", "municipal"),
            ("2025-03-05", "assault_common", "municipal"),
        ]
    )
    table = views.category_change(incidents, month=pd.Period("2025-04", "M")).set_index("category")
    assert table.loc["Murder"].to_dict() == {"this_month": 2, "previous_month": 1, "change": 1}
    assert table.loc["Common assault"].to_dict() == {"this_month": 0, "previous_month": 1, "change": -1}


@pytest.mark.parametrize(
    ("status", "end", "changed", "expected"),
    [
        pytest.param("in_progress", "2025-01-31", None, "overdue", id="overdue"),
        pytest.param("complete", "2025-01-31", None, None, id="complete-not-overdue"),
        pytest.param("stalled", "2026-01-31", None, "stalled", id="stalled"),
        pytest.param("in_progress", "2026-01-31", "2025-04-10", "status changed", id="changed"),
        pytest.param("in_progress", "2026-01-31", "2025-02-10", None, id="changed-earlier"),
    ],
)
def test_intervention_review(status, end, changed, expected):
    interventions = pd.DataFrame(
        {"intervention_id": ["I1"], "name": ["Lights"], "lead": ["Electricity"], "status": [status], "end": [end]}
    )
    log = pd.DataFrame(
        {
            "intervention_id": ["I1"] if changed else [],
            "changed_at": [changed] if changed else [],
            "note": ["n"] if changed else [],
            "status": [status] if changed else [],
        }
    )
    table = views.intervention_review(interventions, log, month=pd.Period("2025-04", "M"), today=dt.date(2025, 4, 20))
    assert (table["flags"].iloc[0] if len(table) else None) == expected


def test_coverage_by_source_fills_missing_sources():
    incidents = _incidents([("2025-04-02", "murder", "municipal")])
    table = views.coverage_by_source(incidents)
    assert table[["municipal", "community"]].iloc[0].tolist() == [1, 0]


def test_rejections_over_time_joins_batch_dates():
    batches = pd.DataFrame({"batch_id": ["b1"], "created_at": ["2025-04-30T23:00:00+00:00"]})
    rejections = pd.DataFrame({"batch_id": ["b1", "b1"], "reason": ["invalid_date", "invalid_date"]})
    table = views.rejections_over_time(rejections, batches)
    assert table.to_dict("records") == [{"month": pd.Timestamp("2025-05-01"), "reason": "invalid_date", "rows": 2}]
