"""Offline assets: every JavaScript and CSS file a map loads comes from the copies vendored under
``static/vendor`` (served by Streamlit at ``/app/static/``), never from a CDN: the ACT meets with no internet.
The explorer's base map declares every plugin its layers may use (:class:`LayerPlugins`).

Place in the data flow: show, last step. :func:`pipelines.mapview.build_map` and
:func:`pipelines.mapview.pick_map` call :func:`localise_assets` on the finished map.
"""

from __future__ import annotations

import folium
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import HeatMap, MarkerCluster
from jinja2 import Template

from pipelines.mapview.model import STATIC_URL, MapError

#: CDN URL (as folium 0.20 and its plugins declare them) -> file under static/vendor.
_LOCAL_ASSETS = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet/leaflet.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": "bootstrap/bootstrap.bundle.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": (
        "awesome-markers/leaflet.awesome-markers.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet/leaflet.css",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": "bootstrap/bootstrap.min.css",
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": "fontawesome/css/all.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": (
        "awesome-markers/leaflet.awesome-markers.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js": (
        "markercluster/leaflet.markercluster.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": (
        "markercluster/MarkerCluster.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": (
        "markercluster/MarkerCluster.Default.css"
    ),
    "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js": (
        "leaflet-heat/leaflet_heat.min.js"
    ),
}
#: Assets folium declares that the dashboard does not use (Bootstrap 3 glyphicons, rotated icons): dropped.
_UNUSED_ASSETS = {"glyphicons_css", "awesome_rotate_css"}


def payload_bytes(m: folium.Map) -> int:
    """Size of the map's generated HTML/JS: what streamlit-folium sends to the browser per render."""
    return len(m.get_root().render().encode())


class LayerPlugins(JSCSSMixin, MacroElement):
    """Declares the JavaScript and CSS of every plugin a layer may use (marker clusters, the heat surface) on
    the base map, which draws nothing itself: the dashboard loads a frame's scripts once and then replaces
    its layers in place (``dashboard.map_frame``), so a layer switched on later finds its plugin loaded."""

    _template = Template("{% macro script(this, kwargs) %}{% endmacro %}")
    default_js = [*MarkerCluster.default_js, *HeatMap.default_js]
    default_css = list(MarkerCluster.default_css)

    def __init__(self) -> None:
        super().__init__()
        self._name = "LayerPlugins"


def asset_links(m: folium.Map) -> list[str]:
    """Every JS and CSS URL the map declares (what streamlit-folium loads before drawing it)."""
    links = []
    for element in walk(m):
        links += [url for _, url in getattr(element, "default_js", [])]
        links += [url for _, url in getattr(element, "default_css", [])]
    return list(dict.fromkeys(links))


def localise_assets(m: folium.Map, static_url: str = STATIC_URL) -> None:
    """Point every element's ``default_js``/``default_css`` at the vendored copies; refuse unknown CDNs."""
    for element in walk(m):
        for attr in ("default_js", "default_css"):
            declared = getattr(element, attr, None)
            if not declared:
                continue
            local = []
            for name, url in declared:
                if name in _UNUSED_ASSETS or url.startswith(static_url):
                    continue
                if url not in _LOCAL_ASSETS:
                    raise MapError(
                        f"{type(element).__name__} loads {url}, which is not vendored; add it to "
                        "scripts/vendor_assets.py and the table of vendored files in pipelines/mapview/offline.py"
                    )
                local.append((name, f"{static_url}/{_LOCAL_ASSETS[url]}"))
            setattr(element, attr, local)


def walk(element):
    """``element`` and every element below it, depth first (a folium map's whole tree)."""
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from walk(child)
