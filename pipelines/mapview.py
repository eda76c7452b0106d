"""Map building for the dashboard: frames + options in, a folium map, a legend and payload stats out.

Place in the data flow: show. The map explorer page reads filtered frames from the store and hands
them here; this module aggregates on the server (area choropleth, a capped kernel-density heat surface, capped H3
hexagons, capped clustered points) so the payload sent to the browser is bounded however many
incidents match, and points every JS/CSS asset at the files vendored under ``static/vendor`` (served
by Streamlit at ``/app/static/``): the ACT meets with no internet. The legend is returned as data and
drawn outside the map, because a branca colormap makes streamlit-folium pull d3 from a CDN.

Nothing here imports streamlit; tests and ``bench/bench_map.py`` call :func:`build_map` directly.

Every text that came from a file or a form (area, asset and intervention names, incident descriptions) is
shown as text, never run: values are HTML-escaped with :func:`safe_text` before folium pastes them into
popups and tooltips (folium inserts them as HTML, some inside JavaScript template literals), and incident
popups are filled with ``textContent`` in the browser. Which incidents and counts a viewer gets is decided
before this module, in :mod:`pipelines.access`: ``build_map`` draws the rows it is given and, with
``counts``, the published (suppressed) counts per area and hexagon instead of counting the rows.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.plugins import FastMarkerCluster, HeatMap
from jinja2 import Template

from pipelines import hexes
from pipelines.errors import AreaSafeError
from pipelines.hotspots.density import density_surface
from pipelines.hotspots.emerging import HOTSPOT_CLASS, HOTSPOT_CLASSES, hotspot_classes
from pipelines.hotspots.rates import CRUDE_RATE, EB_RATE, NOTE, rate_table
from pipelines.privacy.published import unmapped_note
from pipelines.schemas import ABCD_CATEGORIES, INTERVENTION_STATUSES, STATUS_WORDS
from pipelines.settings import DEMO_DIR

if TYPE_CHECKING:
    from pipelines.privacy import PublishedCounts

#: URL prefix under which Streamlit serves ``<repo>/static`` when static serving is on.
STATIC_URL = "/app/static/vendor"
CONTEXT_ROADS_PATH = DEMO_DIR / "context_roads.fgb"

LAYERS = ("areas", "hotspots", "heat", "hexagons", "points", "assets", "interventions", "roads")
DEFAULT_LAYERS = ("areas", "hotspots", "points", "assets", "interventions", "roads")
#: Each layer's name in the page's layer choice, in words.
LAYER_LABELS = {
    "areas": "Areas",
    "hotspots": "Hot spots",
    "heat": "Heat (density)",
    "hexagons": "Hexagon counts",
    "points": "Incidents (points)",
    "assets": "ABCD assets",
    "interventions": "Interventions",
    "roads": "Roads",
}
#: ``rate`` is the Empirical Bayes smoothed rate per 1,000 residents; ``crude_rate`` the unsmoothed one.
METRICS = ("count", "rate", "crude_rate")
METRIC_NAMES = {
    "count": "incidents",
    "rate": "incidents per 1,000 residents (smoothed)",
    "crude_rate": "incidents per 1,000 residents (crude, not smoothed)",
}
#: At most this many colour classes in a legend.
MAX_CLASSES = 5

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

# Sequential palette (ColorBrewer YlOrRd, 5 classes): readable on a projector and in greyscale.
_SEQUENTIAL = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
ABCD_STYLE = {  # category -> (awesome-markers colour, Font Awesome icon, hex for the legend)
    "individuals": ("blue", "user", "#38aadd"),
    "associations": ("purple", "people-group", "#d252b9"),
    "institutions": ("darkblue", "school", "#0067a3"),
    "physical": ("green", "tree", "#72b026"),
    "economic": ("orange", "store", "#f69730"),
    "cultural": ("cadetblue", "music", "#436978"),
}
STATUS_COLOURS = {
    "planned": "#6a51a3",
    "in_progress": "#2171b5",
    "complete": "#238b45",
    "stalled": "#d7301f",
    "maintenance": "#737373",
}
_REF = re.compile(r"\b(area|asset|intervention|incident|cell|hotspot|hexagon):([A-Za-z0-9_.\-]+(?::[A-Za-z0-9_.\-]+)?)")


class MapError(AreaSafeError):
    """The map cannot be built from these options; the message says which option to fix."""


@dataclass(frozen=True)
class MapOptions:
    """What the map shows. Caps bound the payload whatever the number of incidents."""

    layers: Sequence[str] = DEFAULT_LAYERS
    area_kind: str = "neighbourhood"
    metric: str = "count"  # count, smoothed rate or crude rate per 1,000 residents (METRICS)
    h3_resolution: int = 9
    max_hexagons: int = 1_500
    max_hotspot_cells: int = 1_500
    max_heat_cells: int = 2_500
    max_points: int = 2_000  # clustered points only below this; above it a seeded sample is drawn
    max_road_vertices: int = 30_000
    online_tiles: bool = False
    static_url: str = STATIC_URL
    #: ``(folder, URL of that folder)``: the context road lines are written there once as a GeoJSON file and
    #: the map loads them by URL (the browser keeps the file), instead of carrying them in every map.
    roads_files: tuple[str, str] | None = None
    height: int = 620
    seed: int = 0
    #: Show the statistics behind the map (H3 ids, Gi* bins, z-scores, emerging categories) in popups and
    #: layer names: for analysts. Everyone else reads the classes in words.
    statistics: bool = False

    def __post_init__(self) -> None:
        unknown = sorted(set(self.layers) - set(LAYERS))
        if unknown:
            raise MapError(f"layers {unknown} are unknown; choose from {', '.join(LAYERS)}")
        if self.metric not in METRICS:
            raise MapError(f"metric must be one of {', '.join(METRICS)}; got {self.metric!r}")


@dataclass(frozen=True)
class LegendSection:
    title: str
    entries: tuple[tuple[str, str], ...]  # (label, CSS colour)
    note: str = ""


@dataclass
class MapResult:
    """A built map, the legend to draw beside it, and what went into the payload.

    ``refs`` maps the short references shown in popups when the statistics are hidden (``hotspot:3``,
    ``hexagon:12``) to the feature they stand for (``("cell", <H3 id>)``): :meth:`clicked` reads a click back.
    """

    map: folium.Map
    legend: list[LegendSection]
    stats: dict[str, int | bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    refs: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: H3 cell -> its count as the hexagon layer shows it (``"<5"`` for a suppressed one), for the record
    #: of a clicked hexagon (:func:`pipelines.views.feature_record`).
    cell_counts: dict[str, str] = field(default_factory=dict)

    def clicked(self, text: str | None) -> tuple[str, str] | None:
        """``(kind, id)`` of the feature whose popup text st_folium returned (see :func:`parse_ref`)."""
        ref = parse_ref(text)
        if ref is not None and ref[0] in ("hotspot", "hexagon", "area"):
            return self.refs.get(f"{ref[0]}:{ref[1]}")
        return ref


# --------------------------------------------------------------------------------------------------
# Public recipe
# --------------------------------------------------------------------------------------------------
def build_map(
    areas: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    *,
    assets: gpd.GeoDataFrame | None = None,
    interventions: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
    focus: str | None = None,
    options: MapOptions | None = None,
    counts: PublishedCounts | None = None,
    population_source: str | None = None,
    counted_in: str | None = None,
) -> MapResult:
    """Build the explorer map.

    Parameters
    ----------
    areas
        Stored areas (all kinds); the choropleth uses those of ``options.area_kind``.
    incidents
        Filtered incidents the viewer may see (:func:`pipelines.privacy.read_incidents`), EPSG:4326 points
        with ``precinct_code``/``neighbourhood_code``; drawn as points and heat, and counted for the area
        and hexagon layers unless ``counts`` is given. A ``description`` column, when present, is shown in
        the point's popup as text.
    hotspots
        ``cells`` of :func:`pipelines.hotspots.hotspots_for_neighbourhood` (``cell_id``, ``count``,
        ``gi_z``, ``gi_bin``, ``emerging``, ``hotspot_class``, hexagon geometry), drawn by their class in
        words (:func:`pipelines.hotspots.emerging.hotspot_classes`) when the layer is on.
    focus
        Code of the area to zoom to (a Safe Neighbourhood); ``None`` fits every area.
    counts
        Published counts (:func:`pipelines.privacy.published_counts`) for the area and hexagon layers, for
        viewers who may not see every row: their ``shown`` labels (``"<5"``) are what the map displays, and
        rates are made from them (:func:`pipelines.hotspots.rates.rate_table`: none for a withheld count).
    population_source
        Where the residents behind the rates come from (:func:`pipelines.hotspots.rates.population_source`),
        shown under the legend when areas are coloured by a rate.
    counted_in
        Code of the Safe Neighbourhood the incidents (and ``counts``) were filtered to: the areas outside it
        are drawn grey with their name and "outside the chosen Safe Neighbourhood", not as 0 incidents.
    """
    options = options or MapOptions()
    layers = set(options.layers)
    everywhere = incidents
    incidents = _with_points(incidents)
    lon, lat = _xy(incidents)
    m = _base_map(areas, focus, options)
    legend: list[LegendSection] = []
    result = MapResult(m, legend, {"incidents": len(everywhere)})
    if counts is None and (note := unmapped_note(len(everywhere) - len(incidents))):
        result.notes.append(note)
    if "roads" in layers and roads is not None and len(roads):
        _add_roads(m, roads, m_bounds(areas, focus), options, result)
    if "areas" in layers:
        _add_areas(m, areas, everywhere, options, result, counts, population_source, counted_in)
    if "hotspots" in layers and hotspots is not None and len(hotspots):
        _add_hotspots(m, hotspots, options, result)
    _add_incident_layers(m, incidents, lon, lat, options, result, counts)
    _add_place_layers(m, assets, interventions, layers, result)
    folium.LayerControl(collapsed=True).add_to(m)  # open, it covered a quarter of a projector's map
    localise_assets(m, options.static_url)
    return result


def _with_points(incidents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The incidents that have a point: rows placed by the area their file named count in the areas only."""
    if not len(incidents):
        return incidents
    geoms = incidents.geometry.to_numpy()
    return incidents[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]


def _add_incident_layers(
    m: folium.Map,
    incidents: gpd.GeoDataFrame,
    lon: np.ndarray,
    lat: np.ndarray,
    options: MapOptions,
    result: MapResult,
    counts: PublishedCounts | None,
) -> None:
    """The layers drawn from the incidents' points, those switched on: heat, hexagons (or their published
    counts) and points."""
    layers = set(options.layers)
    if "heat" in layers and len(lon):
        _add_heat(m, incidents, lon, lat, options, result)
    if "hexagons" in layers and (len(lon) or counts is not None):
        _add_hexagons(m, lon, lat, options, result, counts)
    if "points" in layers and len(lon):
        _add_points(m, incidents, lon, lat, options, result)


def _add_place_layers(
    m: folium.Map,
    assets: gpd.GeoDataFrame | None,
    interventions: gpd.GeoDataFrame | None,
    layers: set[str],
    result: MapResult,
) -> None:
    """The assets and interventions layers, when switched on and not empty."""
    if "assets" in layers and assets is not None and len(assets):
        _add_assets(m, assets, result)
    if "interventions" in layers and interventions is not None and len(interventions):
        _add_interventions(m, interventions, result)


def hotspot_caption(months: Sequence[str], resolution: int, *, statistics: bool = False) -> str:
    """The line under the map that says what the hot-spot layer covers: in words, and for analysts the method."""
    if not len(months):
        return "Hot spots: no months to analyse."
    if statistics:
        return (
            f"Hot spots: Gi* (FDR-corrected) and emerging hot spot analysis over {months[0]} to {months[-1]}, "
            f"H3 resolution {resolution}."
        )
    return (
        f"Hot spots: small hexagons compared with those around them, {months[0]} to {months[-1]}; each is "
        "coloured by what is happening there now. Cells with no pattern are not drawn."
    )


def load_context_roads(
    path: str | Path = CONTEXT_ROADS_PATH, *, bbox: tuple[float, float, float, float] | None = None
) -> gpd.GeoDataFrame | None:
    """The simplified offline road lines (``data/demo/context_roads.fgb``), or ``None`` when absent.

    ``bbox`` (min lon, min lat, max lon, max lat) reads only the lines that cross it (the file's spatial index).
    """
    path = Path(path)
    if not path.exists():
        return None
    source = (str(path), path.stat().st_mtime_ns, bbox)
    roads = _read_roads(*source).copy()
    roads.attrs[_ROADS_SOURCE] = source  # lets the map reuse the lines' GeoJSON (_roads_geojson_of)
    return roads


_ROADS_SOURCE = "areasafe_roads_source"


@lru_cache(maxsize=8)
def _read_roads(path: str, mtime_ns: int, bbox: tuple[float, float, float, float] | None) -> gpd.GeoDataFrame:
    """The road lines, read once per file version: every map page draws them."""
    return gpd.read_file(path, bbox=bbox)


def parse_ref(text: str | None) -> tuple[str, str] | None:
    """``(kind, id)`` from a clicked popup's text (``asset:A1``, ``area:neighbourhood:HARARE``...)."""
    if not text:
        return None
    match = _REF.search(text)
    return (match.group(1), match.group(2)) if match else None


def allowed_layers(viewer) -> tuple[str, ...]:
    """The layers a :class:`pipelines.privacy.Viewer` may switch on: no heat surface for viewers who do not
    see every row (a kernel density of few points shows where they are), no points for the public."""
    if viewer.sees_rows:
        return LAYERS
    return tuple(layer for layer in LAYERS if layer != "heat" and (layer != "points" or not viewer.is_public))


def safe_text(value: object) -> str:
    """``value`` as text that folium can paste into HTML or a JavaScript template literal and that shows
    literally: HTML-escaped, with backticks, ``$`` and backslashes as entities too."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True).replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def legend_html(legend: Sequence[LegendSection]) -> str:
    """The legend as small, self-contained HTML (drawn beside the map, never inside it)."""
    parts = []
    for section in legend:
        rows = "".join(
            f'<div><span style="display:inline-block;width:14px;height:14px;background:{colour};'
            f'border:1px solid #333;margin-right:6px;vertical-align:middle"></span>{html.escape(label)}</div>'
            for label, colour in section.entries
        )
        note = f'<div style="font-size:0.8em;color:#444">{html.escape(section.note)}</div>' if section.note else ""
        parts.append(f'<div style="margin-bottom:8px"><b>{html.escape(section.title)}</b>{rows}{note}</div>')
    return "".join(parts)


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
    for element in _walk(m):
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
    for element in _walk(m):
        links += [url for _, url in getattr(element, "default_js", [])]
        links += [url for _, url in getattr(element, "default_css", [])]
    return list(dict.fromkeys(links))


def localise_assets(m: folium.Map, static_url: str = STATIC_URL) -> None:
    """Point every element's ``default_js``/``default_css`` at the vendored copies; refuse unknown CDNs."""
    for element in _walk(m):
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
                        "scripts/vendor_assets.py and pipelines.mapview._LOCAL_ASSETS"
                    )
                local.append((name, f"{static_url}/{_LOCAL_ASSETS[url]}"))
            setattr(element, attr, local)


def pick_map(
    areas: gpd.GeoDataFrame,
    *,
    focus: str | None = None,
    point: tuple[float, float] | None = None,
    assets: gpd.GeoDataFrame | None = None,
    interventions: gpd.GeoDataFrame | None = None,
    static_url: str = STATIC_URL,
) -> folium.Map:
    """A small offline map for setting a register record's point: neighbourhood outlines, the
    existing register entries for orientation, and the chosen ``point`` (``(lon, lat)``) as a marker.
    A click is read back with :func:`clicked_point`."""
    m = _base_map(areas, focus, MapOptions(layers=()))
    outlines = areas[areas["kind"] == "neighbourhood"][["name", "geometry"]]
    if len(outlines):
        folium.GeoJson(
            outlines.assign(name=outlines["name"].map(safe_text)),
            name="Safe Neighbourhoods",
            style_function=lambda f: {"color": "#222", "weight": 2, "fillOpacity": 0.03},
            tooltip=folium.GeoJsonTooltip(["name"], aliases=["Area"]),
        ).add_to(m)
    scratch = MapResult(m, [])
    if assets is not None and len(assets):
        _add_assets(m, assets, scratch)
    if interventions is not None and len(interventions):
        _add_interventions(m, interventions, scratch)
    if point is not None:
        folium.Marker(
            [point[1], point[0]],
            tooltip="Chosen point",
            icon=folium.Icon(color="red", icon="location-dot", prefix="fa"),
        ).add_to(m)
    localise_assets(m, static_url)
    return m


def clicked_point(returned: dict | None) -> tuple[float, float] | None:
    """``(lon, lat)`` rounded to 6 decimals (about 0.1 m) from st_folium's ``last_clicked``, or ``None``."""
    clicked = (returned or {}).get("last_clicked")
    if not clicked or clicked.get("lat") is None or clicked.get("lng") is None:
        return None
    return round(float(clicked["lng"]), 6), round(float(clicked["lat"]), 6)


def m_bounds(areas: gpd.GeoDataFrame, focus: str | None) -> tuple[float, float, float, float] | None:
    """The extent to show: the focus area, else every area."""
    chosen = areas[areas["code"] == focus] if focus else areas
    if not len(chosen):
        return None
    return tuple(float(v) for v in chosen.total_bounds)


# --------------------------------------------------------------------------------------------------
# Private steps
# --------------------------------------------------------------------------------------------------
def _walk(element):
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def _xy(incidents: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    if not len(incidents):
        return np.empty(0), np.empty(0)
    geoms = incidents.geometry.to_numpy()
    geoms = geoms[~shapely.is_missing(geoms)]
    return shapely.get_x(geoms), shapely.get_y(geoms)


def _base_map(areas: gpd.GeoDataFrame, focus: str | None, options: MapOptions) -> folium.Map:
    # tiles=None needs an explicit max_zoom, or marker clustering fails (NOTES.md).
    m = folium.Map(tiles=None, control_scale=True)
    # The map fills its frame, however tall the page makes it (the explorer sizes the frame from the
    # screen); streamlit-folium sets a fixed pixel height on the map's div, which this overrides.
    m.get_root().header.add_child(
        folium.Element(f"<style>html,body{{overflow:hidden}}#{m.get_name()}{{height:100vh!important}}</style>")
    )
    # Without a tile layer folium 0.20 drops max_zoom, and marker clustering then fails with
    # "Map has no maxZoom specified": set the Leaflet options directly.
    m.options["max_zoom"], m.options["min_zoom"] = 19, 9
    if options.online_tiles:
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap (online)", max_zoom=19).add_to(m)
    bounds = m_bounds(areas, focus)
    if bounds:
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    else:
        m.location, m.options["zoom"] = [-34.04, 18.67], 13
    return m


_NICE_MANTISSAS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0)


def nice_breaks(values, *, classes: int = MAX_CLASSES, decimals: int = 0, first: float | None = None) -> list[float]:
    """Lower bounds of at most ``classes`` colour classes for ``values``, the first 0: round numbers
    (1, 1.5, 2, 2.5, 3, 4 or 5 times a power of ten) just below the quantiles of the positive values, so a legend
    reads "0–4, 5–9, 10–19, 20–39, 40+" and each class holds some of the data.

    ``decimals`` is the precision the values are shown with (0 for counts: whole-number bounds). ``first``
    forces the second bound (e.g. 5, so a suppressed "<5" falls wholly in the first class).
    """
    shown = np.round(np.asarray(values, dtype=float), decimals)
    positive = shown[np.isfinite(shown) & (shown > 0)]
    if not len(positive):
        return [0.0]
    step = 10.0**-decimals
    candidates = {float(first)} if first else set()
    for q in np.quantile(positive, np.linspace(0, 1, classes + 1)[1:-1]):
        candidates.add(round(_nice(q, step), decimals))
    lows = [0.0]
    for bound in sorted(c for c in candidates if c >= max(step, first or 0)):
        below = (shown >= lows[-1]) & (shown < bound)
        if bound > lows[-1] and (shown >= bound).any() and (below.any() or len(lows) == 1):
            lows.append(bound)
    return lows[:classes]


def _nice(value: float, step: float) -> float:
    """The largest round number (from :data:`_NICE_MANTISSAS`) not above ``value``, never finer than ``step``:
    rounding down keeps data at or above every bound."""
    value = max(float(value), step)
    power = 10.0 ** np.floor(np.log10(value))
    options = [m * p for p in (power / 10, power) for m in _NICE_MANTISSAS]
    options = [o for o in options if o >= step and abs(o / step - round(o / step)) < 1e-9 and o <= value * (1 + 1e-9)]
    return float(max(options, default=step))


def class_of(values, lows: Sequence[float], *, decimals: int = 0) -> np.ndarray:
    """Class index (0 = lowest) of each value as it is shown, against the lower bounds of :func:`nice_breaks`."""
    shown = np.round(np.asarray(values, dtype=float), decimals)
    return (np.searchsorted(np.asarray(lows), np.nan_to_num(shown, nan=0.0), side="right") - 1).clip(0)


def class_labels(lows: Sequence[float], *, decimals: int = 0) -> list[str]:
    """``"0–4"``, ``"5–9"``, ..., ``"40+"``: each class's real range as shown (the top one open)."""
    step = 10.0**-decimals
    fmt = f"{{:,.{decimals}f}}"
    labels = []
    for low, high in zip(lows, [*lows[1:], None], strict=True):
        if high is None:
            labels.append(f"{fmt.format(low)}+" if len(lows) > 1 else fmt.format(low))
        elif round(high - step, decimals) <= round(low, decimals):
            labels.append(fmt.format(low))
        else:
            labels.append(f"{fmt.format(low)}–{fmt.format(high - step)}")
    return labels


def _palette(n: int) -> tuple[str, ...]:
    """``n`` colours of the sequential palette, spread from lightest to darkest."""
    return tuple(_SEQUENTIAL[i] for i in np.round(np.linspace(0, len(_SEQUENTIAL) - 1, n)).astype(int))


def area_summary(
    areas: gpd.GeoDataFrame,
    incidents: pd.DataFrame,
    *,
    kind: str,
    counts: PublishedCounts | None = None,
    counted_in: str | None = None,
) -> gpd.GeoDataFrame:
    """Areas of ``kind`` with ``count``, ``shown`` (the count as displayed), ``rate`` (incidents per 1,000
    residents, Empirical Bayes smoothed), ``crude_rate`` and ``rate_note`` (why a rate is missing or
    uncertain); rates are NaN without a population.

    With ``counts`` the published counts are used: a suppressed count is NaN and shown as ``"<5"``; its rates
    are NaN too, and it is left out of the smoothing (:func:`pipelines.hotspots.rates.rate_table`), so no rate
    on the map gives a hidden count back.

    With ``counted_in`` (the Safe Neighbourhood the incidents were filtered to) an area that lies outside it
    was not counted at all: its count is NaN (left out of the smoothing too), ``outside`` is True and
    ``shown`` says so in words instead of "0".
    """
    column = f"{kind}_code"
    chosen = areas[areas["kind"] == kind].copy()
    if counts is not None:
        published = counts.area_counts(kind).set_index("code")
        chosen["count"] = chosen["code"].map(published["count"]).astype(float)
        chosen["shown"] = chosen["code"].map(published["shown"]).fillna("0")
    else:
        found = incidents[column].value_counts() if column in incidents and len(incidents) else pd.Series(dtype=int)
        chosen["count"] = chosen["code"].map(found).fillna(0).astype(int)
        chosen["shown"] = chosen["count"].map("{:,}".format)
    chosen["outside"] = _outside(chosen, areas, counted_in)
    chosen.loc[chosen["outside"], "count"] = np.nan
    chosen.loc[chosen["outside"], "shown"] = OUTSIDE_WORDS
    rates = rate_table(chosen, chosen.set_index("code")["count"], kind=kind).table.set_index("code")
    chosen["rate"] = chosen["code"].map(rates[EB_RATE]).round(2)
    chosen["crude_rate"] = chosen["code"].map(rates[CRUDE_RATE]).round(2)
    chosen["rate_note"] = chosen["code"].map(rates[NOTE]).fillna("").where(~chosen["outside"], "")
    return chosen


#: What an area outside the chosen Safe Neighbourhood shows instead of a count.
OUTSIDE_WORDS = "not counted: outside the chosen Safe Neighbourhood"


def _outside(chosen: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, counted_in: str | None) -> pd.Series:
    """Which of ``chosen`` lie outside the neighbourhood ``counted_in``: every other neighbourhood, and the
    precincts that share no more than a boundary sliver (under 1% of the neighbourhood) with it."""
    if counted_in is None:
        return pd.Series(False, index=chosen.index)
    focus = areas[(areas["kind"] == "neighbourhood") & (areas["code"] == counted_in)]
    if not len(focus):
        return pd.Series(False, index=chosen.index)
    if (chosen["kind"] == "neighbourhood").all():
        return chosen["code"] != counted_in
    shape = focus.geometry.union_all()
    shared = chosen.geometry.intersection(shape).area.to_numpy()
    return pd.Series(shared < 0.01 * shape.area, index=chosen.index)


def _add_areas(
    m, areas, incidents, options: MapOptions, result: MapResult, counts=None, population_source=None, counted_in=None
) -> None:
    """The areas coloured by ``options.metric``, with their names and a legend section."""
    summary = area_summary(areas, incidents, kind=options.area_kind, counts=counts, counted_in=counted_in)
    if not len(summary):
        return
    decimals = 0 if options.metric == "count" else 1
    lows, palette = _colour_areas(summary, options, counts, decimals)
    _refer_areas(summary, options, result)
    _area_texts(summary)
    rate = "crude_rate" if options.metric == "crude_rate" else "rate"
    label = "Safe Neighbourhoods" if options.area_kind == "neighbourhood" else "Police precincts"
    _area_geojson(m, summary, rate, label, options, counted_in)
    _add_area_names(m, summary, label)
    entries = tuple(zip(class_labels(lows, decimals=decimals), palette, strict=True))
    note = _area_note(summary, rate, options, population_source)
    result.legend.append(LegendSection(f"{label}: {METRIC_NAMES[options.metric]}", entries, note))
    result.stats["areas"] = len(summary)


def _colour_areas(summary: gpd.GeoDataFrame, options: MapOptions, counts, decimals: int) -> tuple[list, list]:
    """Give each area its class colour (``summary["colour"]``, grey for no value); returns the classes'
    lower bounds and the palette."""
    values = summary[options.metric].astype(float)
    threshold = 5 if counts is not None and counts.suppressed and options.metric == "count" else None
    lows = nice_breaks(values, decimals=decimals, first=threshold)
    palette = _palette(len(lows))
    classes = class_of(values, lows, decimals=decimals)
    summary["colour"] = [
        "#d9d9d9" if np.isnan(v) else palette[c] for c, v in zip(classes, values.to_numpy(), strict=True)
    ]
    return lows, palette


def _refer_areas(summary: gpd.GeoDataFrame, options: MapOptions, result: MapResult) -> None:
    """Give each area a short reference for its popup (no area code on screen), read back by
    :meth:`MapResult.clicked`."""
    summary["ref"] = [f"area:{number}" for number in range(1, len(summary) + 1)]
    result.refs |= {
        ref: ("area", f"{options.area_kind}:{code}") for ref, code in zip(summary["ref"], summary["code"], strict=True)
    }


def _area_texts(summary: gpd.GeoDataFrame) -> None:
    """The rates in words (none outside the chosen area) and the texts escaped for the popup."""
    for column in ("rate", "crude_rate"):
        summary[column] = summary[column].map(lambda v: "no rate" if pd.isna(v) else f"{v:,.1f}")
        summary.loc[summary["outside"], column] = ""
    for column in ("name", "ref", "rate_note"):
        summary[column] = summary[column].map(safe_text)


def _area_geojson(
    m, summary: gpd.GeoDataFrame, rate: str, label: str, options: MapOptions, counted_in: str | None
) -> None:
    """The areas' layer: filled by colour, with a tooltip and a popup of count, rate and note."""
    rate_alias = "Per 1,000 residents (crude)" if rate == "crude_rate" else "Per 1,000 residents (smoothed)"
    data = summary[["name", "shown", rate, "rate_note", "ref", "colour", "geometry"]].rename(
        columns={"shown": "count", rate: "per_1000", "rate_note": "note"}
    )
    # precincts around a chosen neighbourhood hold only its incidents: the label says so
    counted = (
        "Incidents in the chosen Safe Neighbourhood" if counted_in and options.area_kind == "precinct" else "Incidents"
    )
    fields, aliases = ["name", "count", "per_1000", "note"], ["Area", counted, rate_alias, ""]
    folium.GeoJson(
        data,
        name=f"{label} ({METRIC_NAMES[options.metric].split(' (')[0]})",
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": "#222",
            "weight": 2,
            "fillOpacity": 0.45,
        },
        highlight_function=lambda f: {"weight": 4},
        tooltip=folium.GeoJsonTooltip(fields, aliases=aliases),
        popup=folium.GeoJsonPopup([*fields, "ref"], aliases=[*aliases, "Ref"]),
    ).add_to(m)


def _area_note(summary: gpd.GeoDataFrame, rate: str, options: MapOptions, population_source: str | None) -> str:
    """The line under the areas' legend: where the residents come from, what smoothing does, and what grey
    means."""
    note = ""
    if options.metric != "count":
        note = population_source or "Residents: population figures as loaded with the boundaries."
        if options.metric == "rate":
            note = (
                "Smoothed: an area with few residents is pulled towards the overall rate, so a handful of "
                f"incidents cannot put it on top. {note}"
            )
        if summary[rate].eq("no rate").any():
            note += " Grey: no rate (no population figure, or too few incidents to publish)."
    if summary["outside"].any():
        note = (note + " Grey: outside the chosen Safe Neighbourhood, not counted; choose All areas in the "
                "sidebar to compare areas.").strip()  # fmt: skip
    return note


# Names drawn on the map at each area's inner point: dark on a white halo, readable on a projector over any
# fill; the label takes no clicks, so a click on it selects the area beneath.
_AREA_NAME_STYLE = (
    "transform:translate(-50%,-50%);white-space:nowrap;font:600 14px/1.2 sans-serif;color:#111;"
    "text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 2px #fff;pointer-events:none"
)


def _add_area_names(m, summary: gpd.GeoDataFrame, label: str) -> None:
    """A switchable layer of area names (``summary["name"]`` is already escaped by :func:`safe_text`)."""
    names = folium.FeatureGroup(name=f"{label}: names", show=True)
    for name, point in zip(summary["name"], summary.geometry.representative_point(), strict=True):
        if not name or point is None or point.is_empty:
            continue
        folium.Marker(
            [round(point.y, 5), round(point.x, 5)],
            icon=folium.DivIcon(
                html=f'<div style="{_AREA_NAME_STYLE}">{name}</div>', icon_size=(0, 0), class_name="areasafe-name"
            ),
            interactive=False,
            keyboard=False,
        ).add_to(names)
    names.add_to(m)


def _add_heat(m, incidents: gpd.GeoDataFrame, lon, lat, options: MapOptions, result: MapResult) -> None:
    # The heat layer is the hotspot module's kernel density surface (binned + Gaussian), on a raster
    # coarse enough that the browser gets at most max_heat_cells weighted points.
    metres_per_degree = 111_320.0
    width = (lon.max() - lon.min()) * metres_per_degree * np.cos(np.radians(np.mean(lat)))
    height = (lat.max() - lat.min()) * metres_per_degree
    bandwidth = 100.0
    padded = (width + 8 * bandwidth) * (height + 8 * bandwidth)
    cell = max(25.0, float(np.sqrt(padded / options.max_heat_cells)))
    surface = density_surface(incidents, cell_size_m=cell, bandwidth_m=max(bandwidth, cell))
    frame = surface.to_frame().nlargest(options.max_heat_cells, "density")
    if frame.empty:
        return
    weights = frame["density"] / frame["density"].max()
    data = np.column_stack([frame["lat"].round(5), frame["lon"].round(5), weights.round(3)]).tolist()
    HeatMap(data, name="Incident density (heat)", radius=18, blur=15, min_opacity=0.3, max_zoom=16).add_to(m)
    result.stats["heat_cells"] = len(data)


def hexagon_counts(lon: np.ndarray, lat: np.ndarray, resolution: int = 9) -> pd.Series:
    """Incident count per H3 cell (index: cell as a hex string), largest first
    (cells from :func:`pipelines.hexes.point_cells`, snapped as the published counts are)."""
    if not len(lon):
        return pd.Series(dtype=int, name="count")
    cells = pd.Series(hexes.point_cells(lon, lat, resolution, snap=True))
    return cells.value_counts().sort_values(ascending=False, kind="stable").rename("count").rename_axis(None)


def _add_hexagons(m, lon, lat, options: MapOptions, result: MapResult, published=None) -> None:
    if published is not None:
        resolution = published.resolution
        cells = published.cells.set_index("cell")
        counts, labels = cells["count"].fillna(0), cells["shown"]
    else:
        resolution = options.h3_resolution
        counts = hexagon_counts(lon, lat, resolution)
        labels = counts.map("{:,}".format)
    shown = counts.head(options.max_hexagons)
    if not len(shown):  # folium refuses a tooltip on an empty layer; say why nothing is drawn instead
        if published is None or not published.withheld:
            result.notes.append("Hexagons: no incidents with a location in this view.")
        result.stats["hexagons"] = 0
        return
    result.cell_counts |= {cell: str(labels[cell]) for cell in shown.index}
    first = 5 if published is not None and published.suppressed else None
    lows = nice_breaks(shown.to_numpy(dtype=float), first=first)
    palette = _palette(len(lows))
    classes = class_of(shown.to_numpy(dtype=float), lows)
    features = []
    polygons = hexes.cell_polygons(shown.index.to_numpy())
    for number, ((cell, _), cls, polygon) in enumerate(zip(shown.items(), classes, polygons, strict=True), start=1):
        ring = [[round(x, 5), round(y, 5)] for x, y in polygon.exterior.coords]  # closed: ends where it starts
        ref = _ref(result, options, "hexagon", number, cell)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"count": labels[cell], "ref": ref, "colour": palette[cls]},
            }
        )
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=f"Incidents per H3 hexagon (res {resolution})" if options.statistics else "Incidents per hexagon",
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": "#555",
            "weight": 0.5,
            "fillOpacity": 0.6,
        },
        tooltip=folium.GeoJsonTooltip(["count"], aliases=["Incidents"]),
        popup=folium.GeoJsonPopup(["count", "ref"], aliases=["Incidents", "Ref"]),
    ).add_to(m)
    note = ""
    if len(counts) > len(shown):
        note = f"busiest {len(shown):,} of {len(counts):,} hexagons shown"
        result.notes.append(f"Hexagons: {note}.")
    result.legend.append(
        LegendSection("Incidents per hexagon", tuple(zip(class_labels(lows), palette, strict=True)), note)
    )
    result.stats["hexagons"] = len(shown)


def _ref(result: MapResult, options: MapOptions, kind: str, number: int, cell: str) -> str:
    """A popup's reference: the H3 cell for analysts, a short number for everyone else (read back by
    :meth:`MapResult.clicked`)."""
    if options.statistics:
        return f"cell:{cell}"
    result.refs[f"{kind}:{number}"] = ("cell", cell)
    return f"{kind}:{number}"


def _add_hotspots(m, cells: gpd.GeoDataFrame, options: MapOptions, result: MapResult) -> None:
    classes = (
        cells["hotspot_class"].to_numpy(dtype=object)
        if "hotspot_class" in cells
        else hotspot_classes(cells["gi_bin"], cells["emerging"])
    )
    # "No pattern" is not drawn: one class per cell, one colour per class, nothing else to read.
    rank = {c.key: i for i, c in enumerate(HOTSPOT_CLASSES)}
    drawn = cells.assign(map_class=classes, map_rank=[rank[c] for c in classes])
    drawn = drawn[drawn["map_class"] != "none"]
    order = np.lexsort((-drawn["count"].fillna(0).to_numpy(), drawn["map_rank"].to_numpy()))
    shown = drawn.iloc[order[: options.max_hotspot_cells]]
    result.stats["hotspot_cells"] = len(shown)
    if not len(shown):
        return
    has_shown = "shown" in cells  # published cells (pipelines.privacy.published_hotspots) carry their labels
    features = []
    for number, row in enumerate(shown.itertuples(index=False), start=1):
        ring = [[round(x, 5), round(y, 5)] for x, y in row.geometry.exterior.coords]
        kind = HOTSPOT_CLASS[row.map_class]
        properties = {
            "label": kind.label,
            "meaning": kind.meaning,
            "count": str(row.shown) if has_shown else f"{int(row.count):,}",
            "ref": _ref(result, options, "hotspot", number, row.cell_id),
            "colour": kind.colour,
        }
        if options.statistics:
            z = float(row.gi_z) if pd.notna(row.gi_z) else np.nan
            properties |= {
                "gi": int(row.gi_bin),
                "z": round(z, 2) if np.isfinite(z) else None,
                "trend": str(row.emerging),
            }
        features.append(
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": properties}
        )
    fields, aliases = ["label", "count", "meaning"], ["Hot spot", "Incidents", "What it means"]
    extra = (["gi", "z", "trend"], ["Gi* bin", "z-score", "Emerging category"]) if options.statistics else ([], [])
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name="Hot spots (Gi*, emerging)" if options.statistics else "Hot spots",
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": "#333",
            "weight": 0.6,
            "fillOpacity": 0.8,
        },
        tooltip=folium.GeoJsonTooltip(fields, aliases=aliases),
        popup=folium.GeoJsonPopup([*fields, *extra[0], "ref"], aliases=[*aliases, *extra[1], "Ref"]),
    ).add_to(m)
    note = ""
    if len(drawn) > len(shown):
        note = f"{len(shown):,} of {len(drawn):,} hot and cold spot cells shown (most urgent first)"
        result.notes.append(f"Hot spots: {note}.")
    present = [c for c in HOTSPOT_CLASSES if c.key in set(shown["map_class"])]
    entries = tuple((f"{c.label}: {c.meaning}", c.colour) for c in present)
    result.legend.append(LegendSection("Hot spots", entries, note or "Cells with no pattern are not drawn."))


# The popup is filled with textContent: whatever a description holds is shown as text, never parsed as
# HTML. (A DOM element as content also lets streamlit-folium read the clicked popup's text back.)
_POINT_CALLBACK = """
function (row) {
    var marker = L.circleMarker(new L.LatLng(row[0], row[1]),
        {radius: 5, color: '#08306b', weight: 1, fillColor: '#4292c6', fillOpacity: 0.9});
    var box = document.createElement('div');
    box.className = 'areasafe-popup';
    box.style.whiteSpace = 'pre-line';
    box.style.maxWidth = '280px';
    box.textContent = row[2];
    marker.bindPopup(box);
    return marker;
}"""


def _add_points(m, incidents, lon, lat, options: MapOptions, result: MapResult) -> None:
    positions = np.arange(len(lon))
    sampled = len(positions) > options.max_points
    if sampled:
        positions = np.sort(np.random.default_rng(options.seed).choice(positions, options.max_points, replace=False))
        result.notes.append(
            f"Points: {len(lon):,} incidents match, so a random sample of {options.max_points:,} is clustered; "
            "narrow the filters to see every point."
        )
    frame = incidents.iloc[positions]
    labels = point_labels(frame)
    data = [[round(y, 5), round(x, 5), lab] for y, x, lab in zip(lat[positions], lon[positions], labels, strict=True)]
    FastMarkerCluster(
        data,
        callback=_POINT_CALLBACK,
        name="Incidents (clustered points)",
        options={"disableClusteringAtZoom": 18, "chunkedLoading": True},
    ).add_to(m)
    result.stats["points"] = len(data)
    result.stats["points_sampled"] = sampled
    result.legend.append(
        LegendSection(
            "Incidents", (("Single incident (clusters show counts)", "#4292c6"),), "sampled" if sampled else ""
        )
    )


def point_labels(incidents: pd.DataFrame) -> pd.Series:
    """The text of each incident's popup: category, local date, ``incident:ID`` and, when the viewer may
    see it, the description on its own line (plain text; the browser shows it with ``textContent``)."""
    when = incidents["occurred_at"].dt.strftime("%Y-%m-%d") if "occurred_at" in incidents else ""
    labels = incidents["category"].astype(str) + " · " + when + " · incident:" + incidents["incident_id"].astype(str)
    if "generalised" in incidents:
        labels = labels.where(
            ~incidents["generalised"].astype(bool), labels + "\nLocation generalised to its hexagon centre"
        )
    if "description" in incidents:
        text = incidents["description"].astype(object)
        labels = labels.where(text.isna(), labels + "\n" + text.astype(str).str.slice(0, 500))
    return labels.fillna("")


# One cluster layer drawn by a callback instead of a folium Marker (with its Icon, Popup and Tooltip) per
# asset: each folium element is a Jinja template compiled again on every render, and streamlit-folium
# renders the map several times per page run (143 demo assets took ~1 s a run). The markers, icons, popups
# and tooltips are the ones folium drew; the popup is a DOM element, whose text streamlit-folium reads back
# on a click. Its HTML is built from :func:`safe_text` values, as folium pasted it.
_ASSET_CALLBACK = """
function (row) {
    var icon = L.AwesomeMarkers.icon(
        {extraClasses: 'fa-rotate-0', icon: row[3], iconColor: 'white', markerColor: row[2], prefix: 'fa'});
    var marker = L.marker(new L.LatLng(row[0], row[1]), {icon: icon});
    var box = document.createElement('div');
    box.style.width = '100.0%';
    box.style.height = '100.0%';
    box.innerHTML = row[5];
    marker.bindPopup(L.popup({maxWidth: 260}).setContent(box));
    marker.bindTooltip('<div>' + row[4] + '</div>', {sticky: true});
    return marker;
}"""


# A group of assets reads "12 assets" in a white label, not a coloured bubble with a bare number: on a
# safety map a bubble with a number reads as a count of incidents.
_ASSET_GROUP_ICON = """
function (cluster) {
    var n = cluster.getChildCount();
    return L.divIcon({
        html: '<div style="background:#fff;border:2px solid #08519c;border-radius:11px;color:#08519c;'
            + 'font:600 12px sans-serif;padding:1px 6px;white-space:nowrap;display:inline-block">'
            + n + ' assets</div>',
        className: 'areasafe-asset-group', iconSize: null});
}"""


def _add_assets(m, assets: gpd.GeoDataFrame, result: MapResult) -> None:
    data = []
    for row in assets.itertuples():
        colour, icon, _ = ABCD_STYLE.get(row.abcd_category, ("gray", "circle", "#777"))
        point = row.geometry.representative_point()
        popup = (
            f"<b>{safe_text(row.name)}</b><br>{safe_text(row.abcd_category)} · {safe_text(row.type)}"
            f"<br>asset:{safe_text(row.asset_id)}"
        )
        data.append([point.y, point.x, colour, icon, safe_text(row.name), popup])
    FastMarkerCluster(
        data,
        callback=_ASSET_CALLBACK,
        name="ABCD assets",
        options={"disableClusteringAtZoom": 15},
        icon_create_function=_ASSET_GROUP_ICON,
    ).add_to(m)
    present = [c for c in ABCD_CATEGORIES if c in set(assets["abcd_category"])]
    result.legend.append(
        LegendSection(
            "ABCD assets",
            tuple((c, ABCD_STYLE[c][2]) for c in present),
            "Zoomed out, nearby assets are grouped in a white label that says how many (assets, not incidents).",
        )
    )
    result.stats["assets"] = len(assets)


def _add_interventions(m, interventions: gpd.GeoDataFrame, result: MapResult) -> None:
    data = interventions[["intervention_id", "name", "status", "lead", "geometry"]].copy()
    data["ref"] = "intervention:" + data["intervention_id"].astype(str)
    data["colour"] = data["status"].map(STATUS_COLOURS).fillna("#000")
    data["status"] = data["status"].map(lambda s: STATUS_WORDS.get(s, s))
    for column in ("name", "status", "lead", "ref"):
        data[column] = data[column].map(safe_text)
    data = data.drop(columns="intervention_id")
    folium.GeoJson(
        data,
        name="Interventions (by status)",
        marker=folium.CircleMarker(radius=9, fill=True, fill_opacity=0.9, weight=2),
        style_function=lambda f: {
            "color": f["properties"]["colour"],
            "fillColor": f["properties"]["colour"],
            "weight": 4,
            "fillOpacity": 0.35,
        },
        tooltip=folium.GeoJsonTooltip(["name", "status"], aliases=["Intervention", "Status"]),
        popup=folium.GeoJsonPopup(["name", "status", "lead", "ref"], aliases=["Intervention", "Status", "Lead", "Ref"]),
    ).add_to(m)
    present = [s for s in INTERVENTION_STATUSES if s in set(interventions["status"])]
    result.legend.append(
        LegendSection("Interventions", tuple((STATUS_WORDS.get(s, s), STATUS_COLOURS[s]) for s in present))
    )
    result.stats["interventions"] = len(interventions)


def _add_roads(m, roads: gpd.GeoDataFrame, bounds, options: MapOptions, result: MapResult) -> None:
    source = roads.attrs.get(_ROADS_SOURCE)
    if source is not None:  # the context file: its GeoJSON for this extent is made once per process
        lines, trimmed = _roads_geojson_of(source, bounds, options.max_road_vertices)
    else:
        lines, trimmed = _roads_geojson(roads, bounds, options.max_road_vertices)
    if trimmed:
        result.notes.append("Roads: only the longest lines are drawn at this extent.")
    if not lines["features"]:
        return
    if source is not None and options.roads_files is not None:
        group = folium.FeatureGroup(name="Roads (offline context)", control=True).add_to(m)
        _RoadsByUrl(_roads_file(source, bounds, options.max_road_vertices, options.roads_files)).add_to(group)
    else:
        folium.GeoJson(
            lines,
            name="Roads (offline context)",
            style_function=lambda f: {"color": "#9e9e9e", "weight": 1.2, "opacity": 0.9},
            interactive=False,
            control=True,
        ).add_to(m)
    result.stats["road_lines"] = len(lines["features"])
    result.legend.append(LegendSection("Context", (("Roads (SJC / City of Cape Town)", "#9e9e9e"),)))


def _roads_geojson(roads: gpd.GeoDataFrame, bounds, max_vertices: int) -> tuple[dict, bool]:
    """The road lines near ``bounds`` as GeoJSON, the longest first up to ``max_vertices`` vertices, and
    whether lines were left out for that budget."""
    if bounds is not None:
        pad = 0.01
        roads = roads.cx[bounds[0] - pad : bounds[2] + pad, bounds[1] - pad : bounds[3] + pad]
    vertices = shapely.get_num_coordinates(roads.geometry.to_numpy())
    trimmed = bool(vertices.sum() > max_vertices)
    if trimmed:
        # keep the longest lines (main roads) until the vertex budget is spent
        order = np.argsort(-roads.geometry.length.to_numpy())
        keep = order[np.cumsum(vertices[order]) <= max_vertices]
        roads = roads.iloc[np.sort(keep)]
    # As folium converts a frame; each feature keeps geopandas' "id", so folium never adds one to a shared dict.
    lines = roads[["geometry"]].to_crs("EPSG:4326")
    return json.loads(json.dumps(lines.__geo_interface__)), trimmed


@lru_cache(maxsize=32)
def _roads_file(source: tuple, bounds, max_vertices: int, files: tuple[str, str]) -> str:
    """The URL of the road lines' GeoJSON for this extent, written once into ``files[0]`` (named by content)."""
    text = json.dumps(_roads_geojson_of(source, bounds, max_vertices)[0], separators=(",", ":"))
    name = f"roads-{hashlib.sha256(text.encode()).hexdigest()[:16]}.geojson"
    folder = Path(files[0])
    if not (folder / name).exists():
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / f".{name}.{os.getpid()}"
        part.write_text(text)
        part.replace(folder / name)  # whole or absent: a reader never sees half a file
    return f"{files[1].rstrip('/')}/{name}"


class _RoadsByUrl(MacroElement):
    """The road lines loaded from a static file into the enclosing layer (not clickable)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        fetch({{ this.url|tojson }}).then(r => r.json()).then(d => L.geoJSON(d, {
            style: {color: "#9e9e9e", weight: 1.2, opacity: 0.9}, interactive: false
        }).addTo({{ this._parent.get_name() }}));
        {% endmacro %}"""
    )

    def __init__(self, url: str) -> None:
        super().__init__()
        self._name = "RoadsByUrl"
        self.url = url


@lru_cache(maxsize=32)
def _roads_geojson_of(source: tuple, bounds, max_vertices: int) -> tuple[dict, bool]:
    return _roads_geojson(_read_roads(*source), bounds, max_vertices)
