"""What streamlit-folium's component is sent for a built map: a base that keeps its frame, and the layers,
which are replaced inside that frame when the filters change.

Place in the data flow: show, the last step. :mod:`dashboard.maps` keeps what :func:`frame_args` returns
with its cached map. streamlit-folium keys its frame on the map's script and runs that script only when
the frame is new (a new frame loads Leaflet and draws everything again); what it sends as
``feature_group`` and ``layer_control`` it evaluates in the frame it has, after removing the layers it
evaluated before. So the base (the map, its extent, the street tiles, the plugins every layer may need)
is the script, and every layer a filter or a layer choice changes travels as ``feature_group``: a Source,
category or period choice keeps the frame, the reader's pan and zoom, and the loaded JavaScript. A
Safe Neighbourhood choice moves the extent and so gets a new frame.

The strings are made with streamlit-folium's public ``generate_leaflet_string`` as ``st_folium`` makes
them, once per built map (``st_folium`` renders the map several times per call, and it adds the layers
it is given to the map, which a map shared between sessions must not have done to it).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import folium
import streamlit_folium
from folium.map import Layer, LayerControl
from folium.raster_layers import TileLayer
from streamlit_folium import generate_js_hash, generate_leaflet_string, get_full_id

from pipelines.mapview import walk

#: streamlit-folium's component (the one ``st_folium`` draws; its frame is titled "streamlit_folium.st_folium").
#: The package offers only ``st_folium`` publicly, which renders the map on every rerun (see the module's
#: docstring), so the dashboard sends the arguments it makes once to the same component.
COMPONENT = streamlit_folium._component_func

#: The frame's own name for the map (streamlit-folium's): the scripts refer to the map by it.
MAP_NAME = "map_div"


@dataclass(frozen=True)
class FrameArgs:
    """What the component is sent for one built map, and the widget key that keeps its frame."""

    args: dict  # the component's arguments (script, header, html, feature_group, layer_control, links ...)
    key: str  # the component's widget key: from the base script only, so the same base keeps its frame
    layers_id: str  # names the layers drawn: a click is read with the references of the layers it was made on


def frame_args(m: folium.Map, *, key: str, returned_objects: Sequence[str]) -> FrameArgs:
    """The component's arguments for ``m``: its base as ``script`` and its layers and layer control as
    ``feature_group`` and ``layer_control``, rendered once. ``m`` is renamed as streamlit-folium renames
    it (``map_div``, ``geo_json_layer_1`` ...); it is not drawn again by anything else."""
    root, map_id = m.get_root(), get_full_id(m)
    root.render()  # every element's render-time work: GeoJSON style maps, the tooltips' styles in the header
    header, html = _header(root.header.render(), map_id), _html(root.html.render())
    css, js = _links(m)
    detached = _detach_layers(m)
    script = generate_leaflet_string(m) + "\nvar drawnItems = [];"  # the map is map_div from here on
    m._children.update(detached)  # back on the map (after its other children), renamed below
    layers = {name: child for name, child in detached.items() if not isinstance(child, LayerControl)}
    control = next((child for child in detached.values() if isinstance(child, LayerControl)), None)
    # streamlit-folium's renaming leaves no other name of the map, but it makes sure, and so do we
    feature_group = _layers_script(list(layers.values())).replace(map_id, MAP_NAME)
    layer_control = (_control_script(control) if control is not None else "").replace(map_id, MAP_NAME)
    args = {
        "script": script,
        "header": header,
        "html": html,
        "id": MAP_NAME,
        "returned_objects": list(returned_objects),
        "default": _defaults(m, returned_objects),
        "zoom": None,
        "center": None,
        "feature_group": feature_group,
        "return_on_hover": False,
        "layer_control": layer_control,
        "pixelated": False,
        "css_links": css,
        "js_links": js,
        "wrap_longitude": False,
    }
    layers_id = hashlib.sha256((feature_group + layer_control).encode()).hexdigest()[:16]
    return FrameArgs(args, generate_js_hash(script, key, False), layers_id)


def _detach_layers(m: folium.Map) -> dict:
    """Take the overlays (every layer but the street tiles) and the layer control off ``m``, in their order."""
    return {
        name: m._children.pop(name)
        for name, child in list(m._children.items())
        if isinstance(child, LayerControl) or (isinstance(child, Layer) and not isinstance(child, TileLayer))
    }


def _layers_script(layers: list) -> str:
    """Each overlay's script as streamlit-folium writes an added feature group's, listed in
    ``window.feature_group`` (which the component removes from the map before the next layers)."""
    parts = ["window.feature_group = [];"]  # the component removed these from the map just now; let them go
    for number, layer in enumerate(layers):
        text = generate_leaflet_string(layer, base_id=f"layer_{number}")
        parts += [text, f"window.feature_group.push({layer.get_name()});"]  # each adds itself, if shown
    return "\n".join(parts) + "\n" if layers else ""  # the component appends the layer control


def _control_script(control: LayerControl) -> str:
    """The layer control over the renamed layers (it names them when rendered), kept as ``window.layer_control``
    for the component to remove before the next one."""
    control._id = "layer_control"
    control.render()
    text = generate_leaflet_string(control, base_id="layer_control")
    return f"{text}\nwindow.layer_control = {control.get_name()};"


def _header(header: str, map_id: str) -> str:
    """The header without the JS and CSS links (the component loads ``js_links`` and ``css_links`` itself)."""
    header = re.sub(r'<script\b[^>]*\bsrc=["\'][^"\']*["\'][^>]*>.*?</script\b[^>]*>', "", header, flags=re.I | re.S)
    header = re.sub(r'<link rel="stylesheet" href=".*?"/>', "", header)
    return header.replace(map_id, MAP_NAME)


def _html(html: str) -> str:
    """The figure's body without the map's own div (the component has one)."""
    return re.sub(r'<div class="folium-map" id=".*" ></div>', "", html).strip()


def _links(m: folium.Map) -> tuple[list[str], list[str]]:
    """Every CSS and JS link the map declares, once each, in order (the base declares every plugin's)."""
    css, js = [], []
    for element in walk(m):
        css.extend(href for _, href in getattr(element, "default_css", []))
        js.extend(src for _, src in getattr(element, "default_js", []))
    return list(dict.fromkeys(css)), list(dict.fromkeys(js))


def _defaults(m: folium.Map, returned_objects: Sequence[str]) -> dict:
    """What the component returns before the first click: ``None`` for each returned object but the view."""
    bounds = m.get_bounds()
    every = dict.fromkeys(
        ["last_clicked", "last_object_clicked", "last_object_clicked_count", "last_object_clicked_tooltip",
         "last_object_clicked_popup", "all_drawings", "last_active_drawing", "last_circle_radius",
         "last_circle_polygon", "selected_layers", "selected_tags", "last_geocoder_result"]
    )  # fmt: skip
    every["bounds"] = {
        "_southWest": {"lat": bounds[0][0], "lng": bounds[0][1]},
        "_northEast": {"lat": bounds[1][0], "lng": bounds[1][1]},
    }
    every["zoom"] = m.options.get("zoom")
    return {k: v for k, v in every.items() if k in returned_objects}
