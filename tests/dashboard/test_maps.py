"""dashboard.maps: a click is read with the references of the layers it was made on."""

from __future__ import annotations

from dashboard import maps
from dashboard.map_frame import frame_args
from pipelines import mapview
from tests.dashboard.test_map_frame import COMMUNITY, MUNICIPAL, _areas, _incidents


def _drawn(incidents) -> maps.DrawnMap:
    result = mapview.build_map(_areas(), incidents, options=mapview.MapOptions(layers=("hexagons",)))
    return maps.DrawnMap(result, frame_args(result.map, key=maps.EXPLORER_MAP, returned_objects=maps.EXPLORER_RETURNS))


def _click(ref: str, lat: float) -> dict:
    return {"last_object_clicked_popup": f"Incidents 7 Ref {ref}", "last_object_clicked": {"lat": lat, "lng": 18.6}}


def test_a_click_made_before_a_filter_change_selects_nothing_after_it():
    """ "hexagon:1" is the busiest hexagon of each map: west with the municipal reports, east with the
    community's. A Source change keeps the frame, so the component still returns the click on the municipal
    map; read with the community map's references it would name the east hexagon, which nobody clicked."""
    municipal, community = _drawn(_incidents(MUNICIPAL)), _drawn(_incidents(COMMUNITY, "community"))
    west, east = municipal.result.refs["hexagon:1"], community.result.refs["hexagon:1"]
    assert west != east
    state: dict = {}
    assert maps.clicked(municipal, None, state, key="m_click") is None  # the first drawing: nothing clicked yet
    assert maps.clicked(municipal, _click("hexagon:1", -34.04), state, key="m_click") == west
    assert maps.clicked(municipal, _click("hexagon:1", -34.04), state, key="m_click") == west  # a rerun keeps it
    assert maps.clicked(community, _click("hexagon:1", -34.04), state, key="m_click") is None  # the filter change
    assert maps.clicked(community, _click("hexagon:1", -34.0401), state, key="m_click") == east  # a new click
    assert maps.clicked(municipal, _click("hexagon:1", -34.0401), state, key="m_click") is None  # and back
