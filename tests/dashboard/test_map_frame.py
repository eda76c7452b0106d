"""dashboard.map_frame: a map's base keeps its frame, its layers travel apart and carry the published counts."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from dashboard.map_frame import frame_args
from pipelines import mapview

RETURNS = ("last_object_clicked_popup", "last_object_clicked")


def _areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["A", "B"], "name": ["Alpha", "Beta"], "kind": "neighbourhood", "population": [2000.0, 3000.0]},
        geometry=[shapely.box(18.60, -34.05, 18.62, -34.03), shapely.box(18.62, -34.05, 18.64, -34.03)],
        crs=4326,
    )


def _incidents(points: list[tuple[float, float]], source: str = "municipal") -> gpd.GeoDataFrame:
    lon, lat = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    return gpd.GeoDataFrame(
        {
            "incident_id": [f"{source}{i}" for i in range(len(points))],
            "category": "assault_common",
            "occurred_at": pd.Timestamp("2025-05-01", tz="UTC"),
            "source": source,
            "neighbourhood_code": np.where(lon < 18.62, "A", "B"),
            "precinct_code": None,
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
    )


def _built(incidents, *, focus=None, layers=("areas", "hexagons", "points")) -> mapview.MapResult:
    return mapview.build_map(_areas(), incidents, focus=focus, options=mapview.MapOptions(layers=layers))


def _layer_counts(args: dict) -> list[dict]:
    """The properties of every GeoJSON feature the frame is sent with its layers."""
    decoder, found = json.JSONDecoder(), []
    for match in re.finditer(r"_add\(", args["feature_group"]):
        data, _ = decoder.raw_decode(args["feature_group"], match.end())
        found += [feature["properties"] for feature in data.get("features", [])]
    return found


MUNICIPAL = [(18.605, -34.04)] * 7 + [(18.625, -34.04)] * 2
COMMUNITY = [(18.605, -34.04)] * 1 + [(18.625, -34.04)] * 9


def test_a_filter_change_keeps_the_frame_and_sends_only_new_layers():
    """Two Source choices: the same base script and widget key (the component keeps its frame and evaluates
    the new layers in it); different layers, each with its own counts; no count in the base."""
    municipal = frame_args(_built(_incidents(MUNICIPAL)).map, key="explorer_map", returned_objects=RETURNS)
    community = frame_args(_built(_incidents(COMMUNITY, "community")).map, key="explorer_map", returned_objects=RETURNS)
    assert municipal.key == community.key and municipal.args["script"] == community.args["script"]
    assert municipal.layers_id != community.layers_id
    for sent in (municipal, community):
        assert "features" not in sent.args["script"] and "_add(" not in sent.args["script"]
        assert "window.feature_group.push(" in sent.args["feature_group"]
        assert "window.layer_control = " in sent.args["layer_control"]
    areas = {p["name"]: p["count"] for p in _layer_counts(municipal.args) if "name" in p}
    assert areas == {"Alpha": "7", "Beta": "2"}
    areas = {p["name"]: p["count"] for p in _layer_counts(community.args) if "name" in p}
    assert areas == {"Alpha": "1", "Beta": "9"}


def test_a_new_neighbourhood_moves_the_extent_and_gets_a_new_frame():
    everywhere = frame_args(_built(_incidents(MUNICIPAL)).map, key="explorer_map", returned_objects=RETURNS)
    alpha = frame_args(_built(_incidents(MUNICIPAL), focus="A").map, key="explorer_map", returned_objects=RETURNS)
    assert everywhere.key != alpha.key


def test_the_layer_control_names_the_layers_sent_and_the_street_tiles_of_the_base():
    result = mapview.build_map(
        _areas(), _incidents(MUNICIPAL), options=mapview.MapOptions(layers=("areas", "points"), online_tiles=True)
    )
    sent = frame_args(result.map, key="explorer_map", returned_objects=RETURNS)
    layers = re.findall(r"window\.feature_group\.push\((\w+)\);", sent.args["feature_group"])
    named = re.findall(r'"[^"]+" : (\w+),', sent.args["layer_control"])
    tiles = re.findall(r"var (tile_layer_\w+) = ", sent.args["script"])
    assert tiles and set(named) == set(layers) | set(tiles)  # every name is defined where the control runs
    assert "tile_layer" not in sent.args["feature_group"]


def test_every_plugin_is_loaded_with_the_first_frame():
    """A map drawn with areas only still loads the clusters' and the heat surface's scripts (from the vendored
    copies): the frame runs its scripts once, and points or heat switched on later are drawn in it."""
    sent = frame_args(
        _built(_incidents(MUNICIPAL), layers=("areas",)).map, key="explorer_map", returned_objects=RETURNS
    )
    assert "markercluster" not in sent.args["feature_group"].lower()
    assert any("leaflet.markercluster.js" in link for link in sent.args["js_links"])
    assert any("leaflet_heat" in link for link in sent.args["js_links"])
    assert any("MarkerCluster.Default.css" in link for link in sent.args["css_links"])
    assert all(link.startswith(mapview.STATIC_URL) for link in sent.args["js_links"] + sent.args["css_links"])


@pytest.mark.parametrize("role", [None, "cso", "planner", "analyst"])
def test_the_layers_sent_carry_the_published_counts(demo_store, role):
    """The numbers the frame is sent for the areas and hexagons (read back through the map's references, as a
    click would) are the viewer's published counts, "<5" staying "<5"."""
    from tests._helpers import published_map

    viewer, published, _, result = published_map(demo_store, role)
    sent = frame_args(result.map, key="explorer_map", returned_objects=RETURNS)
    drawn: dict[str, dict[str, str]] = {"area": {}, "cell": {}}
    for properties in _layer_counts(sent.args):
        if "count" in properties and "ref" in properties:
            kind, ident = result.clicked(str(properties["ref"]))
            drawn[kind][ident] = str(properties["count"])
    expected = published.area_counts("neighbourhood")
    assert drawn["area"] == {
        f"neighbourhood:{code}": shown for code, shown in zip(expected["code"], expected["shown"], strict=True)
    }
    assert drawn["cell"] == dict(zip(published.cells["cell"], published.cells["shown"], strict=True))
    if viewer.suppressed:
        assert "<5" in drawn["area"].values()
