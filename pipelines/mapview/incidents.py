"""The layers drawn from incidents: the heat surface, incidents per hexagon, and clustered points.

Place in the data flow: show. Heat and points are drawn from the rows the viewer may see
(:func:`pipelines.privacy.read_incidents`), capped so the payload is bounded however many match; the
hexagons are drawn from counts the disclosure core made (:func:`pipelines.mapview.map_counts`), never
counted here. A description is shown in a point's popup with ``textContent``: as text, never run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from folium.plugins import FastMarkerCluster, HeatMap

from pipelines import hexes
from pipelines.hotspots.density import density_surface
from pipelines.mapview.click import reference
from pipelines.mapview.legend import LegendSection, class_labels, class_of, nice_breaks, palette
from pipelines.mapview.model import REF_CLASS, REF_STYLE, MapOptions, MapResult, hidden_reference
from pipelines.privacy import suppress
from pipelines.schemas import COLUMNS
from pipelines.views import category_labels

if TYPE_CHECKING:
    from pipelines.privacy import PublishedCounts


def add_heat(m, incidents: gpd.GeoDataFrame, lon, lat, options: MapOptions, result: MapResult) -> None:
    """The kernel-density heat surface of the points, capped at ``options.max_heat_cells`` weighted points."""
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
    data = np.column_stack([frame[COLUMNS.lat].round(5), frame[COLUMNS.lon].round(5), weights.round(3)]).tolist()
    HeatMap(data, name="Incident density (heat)", radius=18, blur=15, min_opacity=0.3, max_zoom=16).add_to(m)
    result.stats["heat_cells"] = len(data)


def add_hexagons(m, published: PublishedCounts, options: MapOptions, result: MapResult) -> None:
    """The busiest ``options.max_hexagons`` cells of ``published`` (:func:`pipelines.mapview.map_counts`),
    coloured by their count as shown (``"<5"`` in the lowest class), with a legend section."""
    resolution = published.resolution
    cells = published.cells.set_index("cell")
    counts, labels = cells[COLUMNS.count].fillna(0), cells["shown"]
    shown = counts.head(options.max_hexagons)
    if not len(shown):  # folium refuses a tooltip on an empty layer; say why nothing is drawn instead
        if not published.withheld:
            result.notes.append("Hexagons: no incidents with a location in this view.")
        result.stats["hexagons"] = 0
        return
    result.cell_counts |= {cell: str(labels[cell]) for cell in shown.index}
    first = suppress.threshold() if published.suppressed else None
    lows = nice_breaks(shown.to_numpy(dtype=float), first=first)
    colours = palette(len(lows))
    classes = class_of(shown.to_numpy(dtype=float), lows)
    features = []
    polygons = hexes.cell_polygons(shown.index.to_numpy())
    for number, ((cell, _), cls, polygon) in enumerate(zip(shown.items(), classes, polygons, strict=True), start=1):
        ring = [[round(x, 5), round(y, 5)] for x, y in polygon.exterior.coords]  # closed: ends where it starts
        ref = reference(result.refs, "hexagon", number, cell, statistics=options.statistics)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"count": labels[cell], "ref": hidden_reference(ref), "colour": colours[cls]},
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
        popup=folium.GeoJsonPopup(["count", "ref"], aliases=["Incidents", ""]),
    ).add_to(m)
    note = ""
    if len(counts) > len(shown):
        note = f"busiest {len(shown):,} of {len(counts):,} hexagons shown"
        result.notes.append(f"Hexagons: {note}.")
    result.legend.append(
        LegendSection("Incidents per hexagon", tuple(zip(class_labels(lows), colours, strict=True)), note)
    )
    result.stats["hexagons"] = len(shown)


# The popup is filled with textContent: whatever a description holds is shown as text, never parsed as
# HTML. (A DOM element as content also lets streamlit-folium read the clicked popup's text back.) The
# incident's reference is in that text but not on screen, as pipelines.mapview.model.hidden_reference
# writes it for the other layers.
_POINT_CALLBACK = """
function (row) {
    var marker = L.circleMarker(new L.LatLng(row[0], row[1]),
        {radius: 5, color: '#08306b', weight: 1, fillColor: '#4292c6', fillOpacity: 0.9});
    var box = document.createElement('div');
    box.className = 'areasafe-popup';
    box.style.whiteSpace = 'pre-line';
    box.style.maxWidth = '280px';
    box.textContent = row[2];
    var ref = document.createElement('span');
    ref.className = '__REF_CLASS__';
    ref.setAttribute('aria-hidden', 'true');
    ref.style.cssText = '__REF_STYLE__';
    ref.textContent = ' ' + row[3];
    box.appendChild(ref);
    marker.bindPopup(box);
    return marker;
}""".replace("__REF_CLASS__", REF_CLASS).replace("__REF_STYLE__", REF_STYLE)


def add_points(m, incidents, lon, lat, options: MapOptions, result: MapResult) -> None:
    """The points as one clustered layer; above ``options.max_points`` a seeded random sample of them."""
    positions = np.arange(len(lon))
    sampled = len(positions) > options.max_points
    if sampled:
        positions = np.sort(np.random.default_rng(options.seed).choice(positions, options.max_points, replace=False))
        result.notes.append(
            f"Points: {len(lon):,} incidents match, so a random sample of {options.max_points:,} is clustered; "
            "narrow the filters to see every point."
        )
    frame = incidents.iloc[positions]
    labels, refs = point_labels(frame), "incident:" + frame[COLUMNS.incident_id].astype(str)
    data = [
        [round(y, 5), round(x, 5), label, ref]
        for y, x, label, ref in zip(lat[positions], lon[positions], labels, refs, strict=True)
    ]
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
    """The text of each incident's popup as a person reads it: the category in words, the local date and,
    when the viewer may see it, the description on its own line (plain text; the browser shows it with
    ``textContent``). No incident id: the popup carries it out of sight (see ``_POINT_CALLBACK``)."""
    when = incidents[COLUMNS.occurred_at].dt.strftime("%Y-%m-%d") if COLUMNS.occurred_at in incidents else ""
    category = incidents[COLUMNS.category].astype(str)
    labels = category.map(category_labels()).fillna(category) + " · " + when
    if "generalised" in incidents:
        labels = labels.where(
            ~incidents["generalised"].astype(bool), labels + "\nLocation generalised to its hexagon centre"
        )
    if COLUMNS.description in incidents:
        text = incidents[COLUMNS.description].astype(object)
        labels = labels.where(text.isna(), labels + "\n" + text.astype(str).str.slice(0, 500))
    return labels.fillna("")
