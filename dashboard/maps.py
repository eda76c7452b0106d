"""The map explorer's map, built and rendered once per data version, audience and inputs, and drawn.

Place in the data flow: show. :func:`explorer_map` asks :func:`pipelines.mapview.build_map` for the map of
what a viewer may see; :func:`drawn_map` keeps the built map and what streamlit-folium sends for it (a
rerun, a click or another planner's visit reuses it); :func:`show_map` draws it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import MutableMapping
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import streamlit as st

from dashboard import map_files
from dashboard.common import store, viewer
from dashboard.loaders import Filters, HotspotCells, audience, data_version
from dashboard.map_frame import COMPONENT, FrameArgs, frame_args
from pipelines.privacy import Viewer


@dataclass(frozen=True)
class DrawnMap:
    """A built map (:class:`pipelines.mapview.MapResult`) and what streamlit-folium sends for it, rendered once."""

    result: object  # pipelines.mapview.MapResult
    frame: FrameArgs  # the component's arguments: the base (the script) and the layers, replaced in place

    @property
    def args(self) -> dict:
        return self.frame.args

    @property
    def hash_key(self) -> str:
        """streamlit-folium's widget key: the same base keeps its frame, and only the layers are replaced."""
        return self.frame.key


#: The map explorer's map: its widget key and what its clicks return (also what :func:`dashboard.warming.warm` renders):
#: the clicked popup's text, and where the click was, so a second click on the same feature is a new click.
EXPLORER_MAP = "explorer_map"
EXPLORER_RETURNS = ("last_object_clicked_popup", "last_object_clicked")


def _map_key(url: str, version, who: Viewer, key: str, returned_objects, inputs: tuple) -> tuple:
    return (url, version, who, key, tuple(returned_objects), *inputs)


def drawn_map(inputs: tuple, build, *, key: str, returned_objects, who: Viewer | None = None) -> DrawnMap:
    """The map ``build()`` makes, built and rendered once per data version, audience (:func:`audience`) and
    ``inputs`` (everything else the map depends on: filters, layers, options): a rerun with the same inputs,
    another planner's visit, or a click reuses the rendered map instead of building and rendering it again
    (streamlit-folium renders a map several times per call). For ``who`` (the session's viewer unless given)."""
    who = audience(viewer() if who is None else who)
    return _drawn(_map_key(store().url, data_version(), who, key, returned_objects, inputs), build)


def _drawn(full: tuple, build) -> DrawnMap:
    with _MAPS_LOCK:
        if full in _MAPS:
            _MAPS.move_to_end(full)
            return _MAPS[full]
    result = build()
    drawn = DrawnMap(result, frame_args(result.map, key=full[3], returned_objects=full[4]))
    with _MAPS_LOCK:
        _MAPS[full] = drawn
        while len(_MAPS) > _MAPS_MAX:
            _MAPS.popitem(last=False)
    return drawn


def explorer_map(
    filters: Filters,
    who: Viewer,
    *,
    layers,
    metric: str,
    area_kind: str,
    online: bool,
    areas: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    counts,
    hot: HotspotCells | None,
    assets: pd.DataFrame,
    interventions: pd.DataFrame,
    population_source: str,
):
    """The map explorer's map (:func:`pipelines.mapview.build_map`) of what ``who`` may see."""
    from pipelines import mapview

    return mapview.build_map(
        areas,
        incidents,
        assets=assets,
        interventions=interventions,
        roads=mapview.load_context_roads(),
        hotspots=None if hot is None else hot.cells,
        focus=filters.neighbourhood,
        counted_in=filters.neighbourhood,
        options=mapview.MapOptions(
            layers=tuple(layers),
            metric=metric,
            area_kind=area_kind,
            online_tiles=online,
            statistics=who.may("statistics"),
            roads_files=map_files.roads_files(),
        ),
        counts=counts,
        population_source=population_source,
    )


def explorer_inputs(filters: Filters, who: Viewer, *, layers, metric: str, area_kind: str, online: bool) -> tuple:
    """What the map explorer's map depends on besides the data version and the audience."""
    return (filters, tuple(layers), metric, area_kind, bool(online), who.may("statistics"))


def show_map(drawn: DrawnMap, *, key: str, height: int):
    """Draw ``drawn`` with streamlit-folium's component (as ``st_folium(..., use_container_width=True)``);
    returns what it returns (the last click's popup text and place). The frame stays while the base does:
    a filter change replaces the layers in it."""

    def on_change() -> None:
        st.session_state[key] = st.session_state.get(drawn.hash_key, {})

    return COMPONENT(**drawn.args, key=drawn.hash_key, height=height, width=None, on_change=on_change)


def clicked(drawn: DrawnMap, returned: dict | None, state: MutableMapping, *, key: str) -> tuple[str, str] | None:
    """``(kind, id)`` of the feature last clicked on ``drawn``'s layers (:meth:`pipelines.mapview.MapResult.clicked`),
    or ``None``. ``returned`` is what :func:`show_map` returned; ``state`` keeps, under ``key``, each click with
    the layers it was made on (the session state).

    A filter change replaces the layers in the same frame, so the component still returns the last click,
    made on the layers drawn before: their numbered references (``hexagon:12``) mean other features now. Such
    a click selects nothing; the next click on the new layers does."""
    returned = returned or {}
    click = (returned.get("last_object_clicked_popup"), repr(returned.get("last_object_clicked")))
    seen = state.get(key)
    if seen is None or seen[0] != click:
        seen = state[key] = (click, drawn.frame.layers_id)
    if seen[1] != drawn.frame.layers_id:
        return None
    return drawn.result.clicked(click[0])


_MAPS: OrderedDict = OrderedDict()
_MAPS_LOCK = threading.Lock()
_MAPS_MAX = 24  # rendered maps kept per process (about 1 MB each)
