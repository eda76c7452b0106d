"""The explorer's map: frames + options in, a folium map, a legend and payload stats out.

Place in the data flow: show. The map explorer page reads filtered frames through the disclosure core and
hands them to :func:`build_map`, which aggregates on the server (area choropleth, a capped kernel-density
heat surface, capped H3 hexagons, capped clustered points) so the payload sent to the browser is bounded
however many incidents match, and points every JS/CSS asset at the files vendored under ``static/vendor``
(served by Streamlit at ``/app/static/``): the ACT meets with no internet. The legend is returned as data
and drawn outside the map, because a branca colormap makes streamlit-folium pull d3 from a CDN.

Nothing here imports streamlit; tests and ``bench/bench_map.py`` call :func:`build_map` directly. The
counts per area and hexagon are made by the disclosure core only (:func:`map_counts`): the viewer's
published counts, or, for rows given without them, :func:`pipelines.privacy.exact_counts`.

Every text that came from a file or a form (area, asset and intervention names, incident descriptions) is
shown as text, never run: values are HTML-escaped with :func:`safe_text` before folium pastes them into
popups and tooltips (folium inserts them as HTML, some inside JavaScript template literals), and incident
popups are filled with ``textContent`` in the browser.

One module per concern:

- :mod:`.build`: :func:`build_map` and :func:`pick_map`, the base map;
- :mod:`.model`: the layers, :class:`MapOptions`, :class:`MapResult`, :func:`map_counts`, :func:`safe_text`;
- :mod:`.areas`, :mod:`.hotspots`, :mod:`.incidents`, :mod:`.places`, :mod:`.roads`: the layers;
- :mod:`.legend`: colour classes and the legend;
- :mod:`.offline`: the vendored JS/CSS, and the plugins every explorer map declares;
- :mod:`.click`: which feature a click chose.
"""

from __future__ import annotations

from pipelines.mapview.areas import OUTSIDE_WORDS, area_summary
from pipelines.mapview.build import build_map, m_bounds, pick_map
from pipelines.mapview.click import clicked_point, parse_ref
from pipelines.mapview.hotspots import hotspot_caption
from pipelines.mapview.incidents import point_labels
from pipelines.mapview.legend import MAX_CLASSES, LegendSection, class_labels, class_of, legend_html, nice_breaks
from pipelines.mapview.model import (
    DEFAULT_LAYERS,
    H3_RESOLUTION,
    LAYER_LABELS,
    LAYERS,
    METRIC_NAMES,
    METRICS,
    STATIC_URL,
    MapError,
    MapOptions,
    MapResult,
    allowed_layers,
    map_counts,
    safe_text,
)
from pipelines.mapview.offline import LayerPlugins, asset_links, localise_assets, payload_bytes, walk
from pipelines.mapview.places import ABCD_STYLE, STATUS_COLOURS
from pipelines.mapview.roads import CONTEXT_ROADS_PATH, load_context_roads

__all__ = [
    "ABCD_STYLE",
    "CONTEXT_ROADS_PATH",
    "DEFAULT_LAYERS",
    "H3_RESOLUTION",
    "LAYERS",
    "LAYER_LABELS",
    "MAX_CLASSES",
    "METRICS",
    "METRIC_NAMES",
    "OUTSIDE_WORDS",
    "STATIC_URL",
    "STATUS_COLOURS",
    "LayerPlugins",
    "LegendSection",
    "MapError",
    "MapOptions",
    "MapResult",
    "allowed_layers",
    "area_summary",
    "asset_links",
    "build_map",
    "class_labels",
    "class_of",
    "clicked_point",
    "hotspot_caption",
    "legend_html",
    "load_context_roads",
    "localise_assets",
    "m_bounds",
    "map_counts",
    "nice_breaks",
    "parse_ref",
    "payload_bytes",
    "pick_map",
    "point_labels",
    "safe_text",
    "walk",
]
