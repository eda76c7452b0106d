"""The real pipeline on the real demo store finds the emerging hot spot planted in the demo data."""

from __future__ import annotations

import json

import h3
import numpy as np
import pytest

from pipelines.hotspots.recipe import hotspots_for_neighbourhood
from pipelines.privacy import operator
from pipelines.settings import DEMO_DIR


@pytest.fixture(scope="module")
def planted(request):
    pytest.importorskip("pipelines.demo", reason="demo store not built yet")
    path = DEMO_DIR / "planted.json"
    if not path.exists():
        pytest.skip("demo store not built yet: data/demo/planted.json is missing")
    try:
        store = request.getfixturevalue("demo_store")
    except pytest.FixtureLookupError:
        pytest.skip("demo store not built yet: no demo_store fixture")
    hotspot = json.loads(path.read_text())["emerging_hotspot"]
    codes = set(store.read_areas("neighbourhood")["code"])
    if hotspot["neighbourhood_code"] not in codes:
        pytest.skip("the demo store is the synthetic fallback, without the planted hot spot")
    return store, hotspot


def _distance_m(lat, lon, lat0, lon0):
    return np.hypot((lat - lat0) * 111_320, (lon - lon0) * 111_320 * np.cos(np.radians(lat0)))


def test_planted_hotspot_is_new_or_consecutive(planted):
    store, hotspot = planted
    result = hotspots_for_neighbourhood(store, hotspot["neighbourhood_code"], viewer=operator())
    # the default window ends at the last month with data, which is the hot spot's last month
    assert str(result.months[-1]) == hotspot["months"][-1]
    assert len(result.months) == 12
    cells = result.cells.set_index("cell_id")
    centre = h3.latlng_to_cell(hotspot["lat"], hotspot["lon"], 9)
    assert cells.loc[centre, "emerging"] in {"new_hot", "consecutive_hot"}
    # nothing far from the planted spot is called an emerging hot spot
    emerging = result.cells[result.cells["emerging"].isin(["new_hot", "consecutive_hot"])]
    distance = _distance_m(emerging["lat"], emerging["lon"], hotspot["lat"], hotspot["lon"])
    assert distance.max() < hotspot["radius_m"] + 600


def test_planted_hotspot_is_a_gi_star_hot_spot_at_a_resolution_fine_enough(planted):
    store, hotspot = planted
    result = hotspots_for_neighbourhood(store, hotspot["neighbourhood_code"], viewer=operator(), resolution=None)
    resolution = result.grid.spec.resolution
    assert len(result.cells) >= 30
    cells = result.cells.set_index("cell_id")
    centre = h3.latlng_to_cell(hotspot["lat"], hotspot["lon"], resolution)
    assert cells.loc[centre, "gi_bin"] == 3
    hot = result.cells[result.cells["gi_bin"] > 0]
    assert _distance_m(hot["lat"], hot["lon"], hotspot["lat"], hotspot["lon"]).max() < hotspot["radius_m"] + 400


def test_json_for_the_demo_neighbourhood_is_well_formed(planted):
    store, hotspot = planted
    out = hotspots_for_neighbourhood(store, hotspot["neighbourhood_code"], viewer=operator()).to_json()
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text)["window"]["until"] == hotspot["months"][-1]
    assert all(c["emerging"] for c in out["cells"])
