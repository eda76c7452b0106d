"""``areasafe hotspots`` and the recipe behind it, against a real GeoPackage store built here."""

from __future__ import annotations

import argparse
import datetime as dt
import json

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from pipelines.hotspots import cli as hotspots_cli
from pipelines.hotspots.recipe import (
    UnknownCategoryError,
    UnknownNeighbourhoodError,
    hotspots_for_neighbourhood,
)
from pipelines.hotspots.synthetic import incidents_from_counts, origin_metric, to_lonlat
from pipelines.periods import BadMonthError
from pipelines.privacy import operator
from pipelines.store.base import Batch

X0, Y0 = origin_metric()
MONTHS = pd.period_range("2025-11", periods=12, freq="M")
SIDE = 30  # 3 km × 3 km of 100 m spots
HOT = (X0 + 1500, Y0 + 1500)


def _batch(batch_id: str, kind: str, rows: int) -> Batch:
    return Batch(
        batch_id=batch_id,
        kind=kind,
        file_name=f"{batch_id}.csv",
        sha256=batch_id.ljust(64, "0"),
        created_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        rows_read=rows,
        accepted=rows,
    )


@pytest.fixture
def hood_store(store):
    """One 3 km square neighbourhood, a year of background incidents and a cluster in the last 3 months."""
    lon, lat = to_lonlat([X0, X0 + 3000, X0 + 3000, X0], [Y0, Y0, Y0 + 3000, Y0 + 3000])
    area = shapely.MultiPolygon([shapely.Polygon(zip(lon, lat, strict=True))])
    areas = gpd.GeoDataFrame(
        {
            "code": ["N-1"],
            "name": ["Hood"],
            "kind": ["neighbourhood"],
            "municipality": ["City"],
            "population": [20_000.0],
            "batch_id": ["areas"],
        },
        geometry=[area],
        crs=4326,
    )
    store.commit(_batch("areas", "boundaries", 1), areas=areas)
    spots_x = X0 + 50 + 100 * np.tile(np.arange(SIDE), SIDE)
    spots_y = Y0 + 50 + 100 * np.repeat(np.arange(SIDE), SIDE)
    counts = np.random.default_rng(0).poisson(0.15, (SIDE * SIDE, len(MONTHS)))
    near = np.hypot(spots_x - HOT[0], spots_y - HOT[1]) < 150
    counts[near, -3:] += 6
    spot_lon, spot_lat = to_lonlat(spots_x, spots_y)
    incidents = incidents_from_counts(counts, spot_lon, spot_lat, MONTHS, neighbourhood_code="N-1", precinct_code="P")
    incidents["batch_id"] = "incidents"
    incidents.loc[incidents.index % 7 == 0, "category"] = "murder"
    store.commit(_batch("incidents", "incidents", len(incidents)), incidents=incidents)
    return store


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="areasafe")
    hotspots_cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["hotspots", *argv])


def test_parser_defaults():
    args = _args("--neighbourhood", "N-1")
    assert (args.months, args.until, args.category, args.resolution, args.json) == (12, None, None, 9, False)
    assert _args("--neighbourhood", "N-1", "--resolution", "auto").resolution is None


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--neighbourhood", "N-1", "--months", "0"], id="zero-months"),
        pytest.param(["--neighbourhood", "N-1", "--months", "twelve"], id="months-not-a-number"),
        pytest.param(["--neighbourhood", "N-1", "--resolution", "fine"], id="resolution-word"),
        pytest.param([], id="no-neighbourhood"),
    ],
)
def test_parser_rejects_bad_arguments(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _args(*argv)
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_json_output(hood_store, capsys):
    assert hotspots_cli.run(_args("--neighbourhood", "N-1", "--json", "--resolution", "10"), hood_store) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["window"] == {
        "start": "2025-11",
        "until": "2026-10",
        "months": 12,
        "first_data_month": "2025-11",
        "partial_months": [],
        "partial_included": False,
    }
    assert out["neighbourhood"] == {"code": "N-1", "name": "Hood"}
    cell = out["cells"][0]
    assert set(cell) == {
        "cell_id",
        "lat",
        "lon",
        "count",
        "gi_z",
        "gi_p",
        "gi_bin",
        "emerging",
        "hotspot_class",
        "geometry",
    }
    assert cell["geometry"]["type"] == "Polygon"
    assert sum(c["count"] for c in out["cells"]) == out["incidents"]
    hot_lon, hot_lat = to_lonlat([HOT[0]], [HOT[1]])
    centre = h3.latlng_to_cell(hot_lat[0], hot_lon[0], 10)
    by_id = {c["cell_id"]: c for c in out["cells"]}
    assert by_id[centre]["gi_bin"] == 3
    assert by_id[centre]["emerging"] == "consecutive_hot"
    assert all(-3 <= c["gi_bin"] <= 3 for c in out["cells"])


def test_table_output(hood_store, capsys):
    assert hotspots_cli.run(_args("--neighbourhood", "N-1", "--resolution", "10"), hood_store) == 0
    out = capsys.readouterr().out
    assert out.startswith("Hot spots in Hood (N-1), 2025-11 to 2026-10 (12 months), all categories")
    assert "hot 99%" in out and "consecutive_hot" in out
    assert "cell_id" in out.splitlines()[3]


def test_until_months_and_category_select_the_window(hood_store):
    result = hotspots_for_neighbourhood(
        hood_store, "N-1", viewer=operator(), months=6, until="2026-07", category="murder"
    )
    assert [str(result.months[0]), str(result.months[-1])] == ["2026-02", "2026-07"]
    assert result.category == "murder"
    expected = incidents_in(hood_store, "2026-02", "2026-07", "murder")
    assert result.n_incidents == expected


def incidents_in(store, first: str, last: str, category: str) -> int:
    incidents = store.read_incidents()
    months = incidents["occurred_at"].dt.tz_convert("Africa/Johannesburg").dt.tz_localize(None).dt.to_period("M")
    chosen = (months >= pd.Period(first, "M")) & (months <= pd.Period(last, "M"))
    return int((chosen & (incidents["category"] == category)).sum())


def test_small_window_says_why_nothing_is_painted(hood_store, capsys):
    hotspots_cli.run(
        _args("--neighbourhood", "N-1", "--months", "1", "--until", "2025-11", "--category", "murder"), hood_store
    )
    out = capsys.readouterr().out
    assert "Note: Only" in out
    assert "0 hot, 0 cold" in out


@pytest.mark.parametrize(
    ("argv", "error", "match"),
    [
        pytest.param(
            ["--neighbourhood", "XYZ"],
            UnknownNeighbourhoodError,
            r"Unknown neighbourhood 'XYZ'; known codes: N-1\.",
            id="code",
        ),
        pytest.param(["--neighbourhood", "N-1", "--until", "2026-13"], BadMonthError, "YYYY-MM", id="until"),
        pytest.param(["--neighbourhood", "N-1", "--until", "October"], BadMonthError, "got 'October'", id="until-word"),
        pytest.param(
            ["--neighbourhood", "N-1", "--category", "arson"],
            UnknownCategoryError,
            "categories present: murder, robbery_aggravated",
            id="category",
        ),
        pytest.param(["--neighbourhood", "N-1", "--resolution", "16"], ValueError, "from 0 to 15", id="resolution"),
    ],
)
def test_usage_errors_are_value_errors_with_one_line_messages(hood_store, argv, error, match):
    with pytest.raises(error, match=match) as info:
        hotspots_cli.run(_args(*argv), hood_store)
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def test_main_cli_exits_2_on_a_usage_error(hood_store, capsys):
    from pipelines.cli import main

    code = main(["--store", hood_store.url, "hotspots", "--neighbourhood", "XYZ"])
    assert code == 2
    assert "Unknown neighbourhood 'XYZ'" in capsys.readouterr().err
