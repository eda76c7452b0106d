"""Which months count: an incomplete last month is named and left out, and months before the data began
are missing, not zero (issue 17, items 5 and 6)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import stats

from pipelines.act.agenda import count_changes
from pipelines.hotspots.emerging import emerging_hotspots, space_time_cube
from pipelines.hotspots.grid import GridSpec, build_grid
from pipelines.hotspots.months import complete_until, first_data_month, month_completeness
from pipelines.hotspots.recipe import neighbourhood_hotspots
from pipelines.hotspots.synthetic import (
    CAPE_TOWN_CRS,
    incidents_from_counts,
    lattice_lonlat,
    origin_metric,
    planted_city,
    to_lonlat,
)
from pipelines.periods import local_months

SIDE = 30
LON, LAT = lattice_lonlat(SIDE)


def _area(side_m: float = 3000.0) -> gpd.GeoDataFrame:
    x0, y0 = origin_metric()
    lon, lat = to_lonlat([x0, x0 + side_m, x0 + side_m, x0], [y0, y0, y0 + side_m, y0 + side_m])
    return gpd.GeoDataFrame(
        {"code": ["N-1"], "name": ["Planted"]}, geometry=[shapely.Polygon(zip(lon, lat, strict=True))], crs=4326
    )


def _monthly(per_month: dict[str, list[int]], start: str = "2026-04") -> pd.DataFrame:
    """Incidents at one point: ``per_month[source][t]`` in month ``start + t``."""
    frames = []
    for source, counts in per_month.items():
        months = pd.period_range(start, periods=len(counts), freq="M")
        frames.append(incidents_from_counts(np.array([counts]), LON[:1], LAT[:1], months, source=source))
    return pd.concat(frames, ignore_index=True)


def _batches(**last_upload: str) -> pd.DataFrame:
    """One live incident batch per source, committed at ``last_upload[source]`` (UTC)."""
    return pd.DataFrame(
        {
            "batch_id": list(last_upload),
            "kind": "incidents",
            "source": list(last_upload),
            "created_at": pd.to_datetime(list(last_upload.values()), utc=True),
            "withdrawn_at": pd.NaT,
        }
    )


# --------------------------------------------------------------------------------------------------
# 5. Is the month complete?
# --------------------------------------------------------------------------------------------------
def test_a_month_half_loaded_is_partial_by_its_count():
    incidents = _monthly({"municipal": [100] * 6 + [50]})
    judged = month_completeness(incidents, "2026-10")
    assert judged.count == 50 and judged.usual == 100 and judged.baseline_months == 6
    # exact one-sided test: 50 of 650 when 1/7 is expected
    assert judged.p == pytest.approx(stats.binomtest(50, 650, 1 / 7, alternative="less").pvalue)
    assert judged.partial and judged.late_sources == ()
    assert judged.sentence() == (
        "October 2026 looks incomplete (50 reports so far against about 100 usually); it is left out of trends."
    )
    assert judged.sentence(included=True) == (
        "October 2026 looks incomplete (50 reports so far against about 100 usually); it is included in trends "
        "because you chose to include it, so the last month may read low."
    )


@pytest.mark.parametrize(
    ("counts", "partial"),
    [
        pytest.param([100] * 6 + [85], False, id="ordinary-low-month"),
        pytest.param([100] * 6 + [130], False, id="high-month"),
        pytest.param([0, 0, 0, 0, 100, 100, 40], False, id="two-months-of-data-are-no-baseline"),
        pytest.param([6] * 6 + [3], False, id="small-numbers-cannot-tell"),
        # p is about 1e-6 here, but 85 % of the usual level is an ordinary low month in a busy area
        pytest.param([1000] * 6 + [850], False, id="significant-but-not-far-below"),
    ],
)
def test_months_that_are_not_called_partial(counts, partial):
    judged = month_completeness(_monthly({"municipal": counts}), "2026-10")
    assert judged.partial is partial
    assert judged.sentence() is None


def test_a_source_that_has_not_uploaded_since_the_month_ended_makes_it_partial():
    incidents = _monthly({"municipal": [100] * 7, "community": [20] * 7})
    # community last uploaded on 14 October: its October cannot be complete, whatever the count says
    judged = month_completeness(
        incidents, "2026-10", batches=_batches(municipal="2026-11-03T08:00Z", community="2026-10-14T09:00Z")
    )
    assert judged.late_sources == ("community",)
    assert not judged.low_count and judged.partial
    assert judged.sentence() == (
        "October 2026 looks incomplete (120 reports so far against about 120 usually); it is left out of trends. "
        "Community reports were last uploaded on 14 October 2026."
    )
    # an upload at 23:30 UTC on 31 October is 01:30 on 1 November in Cape Town: after the month ended
    later = month_completeness(
        incidents, "2026-10", batches=_batches(municipal="2026-11-03T08:00Z", community="2026-10-31T23:30Z")
    )
    assert not later.partial


def test_withdrawn_batches_and_silent_sources_do_not_count():
    incidents = _monthly({"municipal": [100] * 7})
    batches = pd.concat([_batches(municipal="2026-10-20T08:00Z"), _batches(municipal="2026-11-20T08:00Z")])
    batches["withdrawn_at"] = [pd.NaT, pd.Timestamp("2026-11-21", tz="UTC")]
    assert month_completeness(incidents, "2026-10", batches=batches).late_sources == ("municipal",)
    # a community source that delivered nothing in the last seven months is not waited for
    quiet = pd.concat([batches.iloc[:1], _batches(community="2025-01-01T00:00Z")])
    quiet["withdrawn_at"] = pd.NaT
    quiet.loc[quiet["source"] == "municipal", "created_at"] = pd.Timestamp("2026-11-02", tz="UTC")
    assert not month_completeness(incidents, "2026-10", batches=quiet).partial


def test_complete_until_steps_back_over_partial_months_unless_included():
    incidents = _monthly({"municipal": [100] * 6 + [100, 30]})  # April 2026 to November 2026
    until, partial = complete_until(incidents, pd.Period("2026-11", freq="M"))
    assert str(until) == "2026-10" and [str(p.month) for p in partial] == ["2026-11"]
    kept, named = complete_until(incidents, pd.Period("2026-11", freq="M"), include_partial=True)
    assert str(kept) == "2026-11" and [str(p.month) for p in named] == ["2026-11"]


def _thin_last_month(incidents: gpd.GeoDataFrame, last: pd.Period, seed: int) -> gpd.GeoDataFrame:
    keep = np.random.default_rng(seed).random(len(incidents)) < 0.5
    in_last = (local_months(incidents["occurred_at"]) == last).to_numpy()
    return incidents[~in_last | keep].reset_index(drop=True)


def test_reproduce_thinning_the_last_month_changes_emerging_classes():
    """The issue's measurement: the last month thinned to half its reports changes dozens of the 900
    emerging categories when it is read as a whole month (measured: 64 with this seed)."""
    months = pd.period_range("2025-01", periods=12, freq="M")
    counts = planted_city(SIDE, 12, seed=0)
    thinned = counts.copy()
    thinned[:, -1] = np.random.default_rng(100).binomial(counts[:, -1], 0.5)
    spec = GridSpec(kind="fishnet", cell_size_m=100, crs=CAPE_TOWN_CRS)

    def classes(table):
        grid = build_grid(incidents_from_counts(table, LON, LAT, months), spec=spec)
        return emerging_hotspots(space_time_cube(grid, months=months)).category

    changed = int((classes(counts) != classes(thinned)).sum())
    assert changed >= 40


def test_a_thinned_last_month_changes_no_class_by_default():
    months = pd.period_range("2025-02", periods=13, freq="M")
    incidents = incidents_from_counts(planted_city(SIDE, 13, seed=1), LON, LAT, months, jitter_m=49, seed=1)
    thinned = _thin_last_month(incidents, months[-1], seed=2)
    area = _area()
    result = neighbourhood_hotspots(thinned, area, resolution=10)
    absent = thinned[(local_months(thinned["occurred_at"]) < months[-1]).to_numpy()]
    without = neighbourhood_hotspots(absent, area, resolution=10)
    assert [str(m) for m in result.months] == [str(m) for m in without.months] == [str(m) for m in months[:-1]]
    joined = result.cells.set_index("cell_id")["emerging"].align(without.cells.set_index("cell_id")["emerging"])
    assert (joined[0] == joined[1]).all()
    assert result.messages[0].startswith("February 2026 looks incomplete (")
    assert result.messages[0].endswith("usually); it is left out of trends.")
    assert [str(p.month) for p in result.partial] == ["2026-02"]
    # included on request: the window ends with the thinned month, and the classes move
    included = neighbourhood_hotspots(thinned, area, resolution=10, include_partial=True)
    assert str(included.months[-1]) == "2026-02"
    assert "it is included in trends because you chose to include it" in included.messages[0]
    both = included.cells.set_index("cell_id")["emerging"].align(result.cells.set_index("cell_id")["emerging"])
    assert (both[0] != both[1]).sum() > 0


# --------------------------------------------------------------------------------------------------
# 6. Months before the data began are missing, not zero
# --------------------------------------------------------------------------------------------------
def test_a_steady_series_that_starts_late_reads_no_change():
    """12 a month from September; the meeting in October compares with July-September. Counting July and
    August as zero read "up" (12 against 4 a month, p = 0.008)."""
    incidents = _monthly({"municipal": [12, 12]}, start="2026-09")
    assert str(first_data_month(incidents)) == "2026-09"
    table = count_changes(incidents, month=pd.Period("2026-10", freq="M"))
    total = table.iloc[0]
    assert total["baseline_mean"] == 12
    assert total["p"] == pytest.approx(1.0)  # no change at all, and not "up"
    assert total["reading"] == "too few reports to tell"  # one month of 12 to compare with: a doubling could hide


def test_a_series_that_starts_this_month_has_nothing_to_compare_with():
    incidents = _monthly({"municipal": [30]}, start="2026-10")
    table = count_changes(incidents, month=pd.Period("2026-10", freq="M"))
    assert table.iloc[0]["reading"] == "too few reports to tell"
    assert np.isnan(table.iloc[0]["baseline_mean"])


def test_a_steady_hot_spot_whose_data_start_late_is_persistent_not_new():
    """A 12-month window whose first four months precede the data: read as zeros, the steady cluster
    was "oscillating" (cold in the empty months, then hot); read as missing it is what it is, persistent."""
    months = pd.period_range("2025-09", periods=8, freq="M")
    counts = np.random.default_rng(3).poisson(1.0, (SIDE * SIDE, len(months)))
    block = [r * SIDE + c for r in range(13, 16) for c in range(13, 16)]
    counts[block] += 8
    incidents = incidents_from_counts(counts, LON, LAT, months)
    result = neighbourhood_hotspots(incidents, _area(), resolution=9, months=12)
    assert str(result.months[0]) == "2025-09" and len(result.months) == 8
    assert str(result.first_month) == "2025-09"
    assert any(
        m.startswith("Reports for Planted begin in September 2025, so the window starts there") for m in result.messages
    )
    cluster = np.unique(result.grid.locate(LON[block], LAT[block]))
    assert (result.cells["emerging"].iloc[cluster] == "persistent_hot").sum() >= 3
    assert not result.cells["emerging"].iloc[cluster].isin(["new_hot", "consecutive_hot", "intensifying_hot"]).any()


def test_the_dashboard_names_a_partial_month_and_lets_the_user_include_it(demo_store, monkeypatch, tmp_path):
    """A month with three reports so far is left out of the profile's hot spots and named; the sidebar's
    toggle includes it, and the page then says so (issue 17, item 5: "unless the user includes it")."""
    from pipelines.ingest.incidents import ingest_incidents
    from pipelines.settings import STORE_ENV
    from tests._helpers import copy_store, page_as, write_csv

    store = copy_store(demo_store, tmp_path / "partial.gpkg")
    rows = "".join(f"2026-11-0{d} 10:00,Common robbery,-34.0592,18.674\n" for d in (2, 3, 4))
    ingest_incidents(store, write_csv(tmp_path, "nov.csv", "date,category,lat,lon\n" + rows), source="municipal")
    monkeypatch.setenv(STORE_ENV, store.url)
    at = page_as(store, "profile", "planner")
    said = " ".join(c.value for c in at.caption)
    assert "November 2026 looks incomplete" in said and "left out of trends" in said
    at.toggle(key="f_partial").set_value(True).run()
    assert not at.exception, [e.message for e in at.exception]
    said = " ".join(c.value for c in at.caption)
    assert "included in trends because you chose to include it" in said
