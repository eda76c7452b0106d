"""Offline assets: every JavaScript and CSS file a map loads comes from the copies vendored under
``static/vendor`` (served by Streamlit at ``/app/static/``), never from a CDN: the ACT meets with no internet.
Also what streamlit-folium sends for a map, rendered once.

Place in the data flow: show, last step. :func:`pipelines.mapview.build_map` and
:func:`pipelines.mapview.pick_map` call :func:`localise_assets` on the finished map; the dashboard keeps
:func:`component_args` with its cached map (``dashboard.maps.drawn_map``).
"""

from __future__ import annotations

from collections.abc import Sequence

import folium

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


def component_args(m: folium.Map, *, key: str, returned_objects: Sequence[str]) -> tuple[dict, str]:
    """What ``streamlit_folium.st_folium(m, key=key, returned_objects=...)`` sends to its component, rendered
    once (st_folium renders the map several times per call), and the component's widget key: the dashboard
    keeps both with its cached map (``dashboard.maps.drawn_map``)."""
    import streamlit_folium as sf

    m.get_root().render()
    html, header = sf._get_html(m), sf._get_header(m)
    script = sf._get_map_string(m)
    bounds = m.get_bounds()
    every = {
        "last_clicked": None,
        "last_object_clicked": None,
        "last_object_clicked_count": None,
        "last_object_clicked_tooltip": None,
        "last_object_clicked_popup": None,
        "all_drawings": None,
        "last_active_drawing": None,
        "bounds": {
            "_southWest": {"lat": bounds[0][0], "lng": bounds[0][1]},
            "_northEast": {"lat": bounds[1][0], "lng": bounds[1][1]},
        },
        "zoom": m.options.get("zoom"),
        "last_circle_radius": None,
        "last_circle_polygon": None,
        "selected_layers": None,
        "selected_tags": None,
        "last_geocoder_result": None,
    }
    css, js = [], []
    for element in walk(m):
        css.extend(href for _, href in getattr(element, "default_css", []))
        js.extend(src for _, src in getattr(element, "default_js", []))
    args = {
        "script": script,
        "header": header,
        "html": html,
        "id": sf.get_full_id(m),
        "returned_objects": list(returned_objects),
        "default": {k: v for k, v in every.items() if k in returned_objects},
        "zoom": None,
        "center": None,
        "feature_group": None,
        "return_on_hover": False,
        "layer_control": None,
        "pixelated": False,
        "css_links": list(dict.fromkeys(css)),
        "js_links": list(dict.fromkeys(js)),
        "wrap_longitude": False,
    }
    return args, sf.generate_js_hash(script, key, False)


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
