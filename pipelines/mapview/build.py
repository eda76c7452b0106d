"""Building the map: frames and options in, a folium map with its legend, notes and payload stats out.

Place in the data flow: show. The map explorer page reads filtered frames through the disclosure core
(:mod:`pipelines.privacy`) and hands them to :func:`build_map`, which lays the layers on a base map
(:mod:`pipelines.mapview.areas`, :mod:`~pipelines.mapview.hotspots`, :mod:`~pipelines.mapview.incidents`,
:mod:`~pipelines.mapview.places`, :mod:`~pipelines.mapview.roads`) and points every asset at the vendored
copies (:mod:`pipelines.mapview.offline`). :func:`pick_map` is the small map a register form sets a point on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import numpy as np
import shapely

from pipelines.mapview.areas import add_areas
from pipelines.mapview.hotspots import add_hotspots
from pipelines.mapview.incidents import add_heat, add_hexagons, add_points
from pipelines.mapview.legend import LegendSection
from pipelines.mapview.model import STATIC_URL, MapOptions, MapResult, map_counts, safe_text
from pipelines.mapview.offline import LayerPlugins, localise_assets
from pipelines.mapview.places import add_assets, add_interventions
from pipelines.mapview.roads import add_roads
from pipelines.schemas import COLUMNS

if TYPE_CHECKING:
    from pipelines.privacy import PublishedCounts


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
        with ``precinct_code``/``neighbourhood_code``; drawn as points and heat. Without ``counts`` the
        disclosure core counts them for the area and hexagon layers (:func:`pipelines.mapview.map_counts`).
        A ``description`` column, when present, is shown in the point's popup as text.
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
    given = counts is not None
    counts = map_counts(incidents, areas, counts, resolution=options.h3_resolution)
    everywhere = incidents
    incidents = _with_points(incidents)
    lon, lat = _xy(incidents)
    m = _base_map(areas, focus, options)
    LayerPlugins().add_to(m)  # the dashboard replaces the layers in a loaded frame: every plugin loaded at first
    legend: list[LegendSection] = []
    result = MapResult(m, legend, {"incidents": len(everywhere)})
    if not given and counts.unmapped:  # given counts come with their notes, which the page shows
        result.notes.append(counts.unmapped)
    if "roads" in layers and roads is not None and len(roads):
        add_roads(m, roads, m_bounds(areas, focus), options, result)
    if "areas" in layers:
        add_areas(m, areas, counts, options, result, population_source=population_source, counted_in=counted_in)
    if "hotspots" in layers and hotspots is not None and len(hotspots):
        add_hotspots(m, hotspots, options, result)
    _add_incident_layers(m, incidents, lon, lat, options, result, counts, given=given)
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
    counts: PublishedCounts,
    *,
    given: bool,
) -> None:
    """The layers drawn from the incidents, those switched on: heat, hexagons (from ``counts``; the rows'
    own counts, unless ``given``, draw no hexagon layer without a point) and points."""
    layers = set(options.layers)
    if "heat" in layers and len(lon):
        add_heat(m, incidents, lon, lat, options, result)
    if "hexagons" in layers and (len(lon) or given):
        add_hexagons(m, counts, options, result)
    if "points" in layers and len(lon):
        add_points(m, incidents, lon, lat, options, result)


def _add_place_layers(
    m: folium.Map,
    assets: gpd.GeoDataFrame | None,
    interventions: gpd.GeoDataFrame | None,
    layers: set[str],
    result: MapResult,
) -> None:
    """The assets and interventions layers, when switched on and not empty."""
    if "assets" in layers and assets is not None and len(assets):
        add_assets(m, assets, result)
    if "interventions" in layers and interventions is not None and len(interventions):
        add_interventions(m, interventions, result)


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
    outlines = areas[areas[COLUMNS.kind] == "neighbourhood"][[COLUMNS.name, COLUMNS.geometry]]
    if len(outlines):
        folium.GeoJson(
            outlines.assign(name=outlines[COLUMNS.name].map(safe_text)),
            name="Safe Neighbourhoods",
            style_function=lambda f: {"color": "#222", "weight": 2, "fillOpacity": 0.03},
            tooltip=folium.GeoJsonTooltip(["name"], aliases=["Area"]),
        ).add_to(m)
    scratch = MapResult(m, [])
    if assets is not None and len(assets):
        add_assets(m, assets, scratch)
    if interventions is not None and len(interventions):
        add_interventions(m, interventions, scratch)
    if point is not None:
        folium.Marker(
            [point[1], point[0]],
            tooltip="Chosen point",
            icon=folium.Icon(color="red", icon="location-dot", prefix="fa"),
        ).add_to(m)
    localise_assets(m, static_url)
    return m


def m_bounds(areas: gpd.GeoDataFrame, focus: str | None) -> tuple[float, float, float, float] | None:
    """The extent to show: the focus area, else every area."""
    chosen = areas[areas[COLUMNS.code] == focus] if focus else areas
    if not len(chosen):
        return None
    return tuple(float(v) for v in chosen.total_bounds)


def _xy(incidents: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    if not len(incidents):
        return np.empty(0), np.empty(0)
    geoms = incidents.geometry.to_numpy()
    geoms = geoms[~shapely.is_missing(geoms)]
    return shapely.get_x(geoms), shapely.get_y(geoms)


#: Leaflet's tooltips never wrap (``white-space: nowrap``): a long value ran off the map's edge, and on a
#: phone was cut. They wrap within a width that fits any screen (scoped to the map, so it outranks
#: leaflet.css, which may load after this header).
TOOLTIP_CSS = ".leaflet-container .leaflet-tooltip{white-space:normal;max-width:min(280px,80vw)}"


def _base_map(areas: gpd.GeoDataFrame, focus: str | None, options: MapOptions) -> folium.Map:
    # tiles=None needs an explicit max_zoom, or marker clustering fails (NOTES.md).
    m = folium.Map(tiles=None, control_scale=True)
    # The map fills its frame, however tall the page makes it (the explorer sizes the frame from the
    # screen); streamlit-folium sets a fixed pixel height on the map's div, which this overrides.
    m.get_root().header.add_child(
        folium.Element(
            f"<style>html,body{{overflow:hidden}}#{m.get_name()}{{height:100vh!important}}{TOOLTIP_CSS}</style>"
        )
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
