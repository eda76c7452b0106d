"""The assets and interventions layers: ABCD assets by category (one clustered layer drawn in the browser)
and interventions by status.

Place in the data flow: show. :func:`pipelines.mapview.build_map` and :func:`pipelines.mapview.pick_map`
draw the register rows the viewer may see (:func:`pipelines.privacy.read_table`); names come from files and
forms, so every text is passed through :func:`pipelines.mapview.safe_text` first.
"""

from __future__ import annotations

import folium
import geopandas as gpd
from folium.plugins import FastMarkerCluster

from pipelines.mapview.legend import LegendSection
from pipelines.mapview.model import MapResult, hidden_reference, safe_text
from pipelines.schemas import ABCD_CATEGORIES, COLUMNS, INTERVENTION_STATUSES, STATUS_WORDS

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


def add_assets(m, assets: gpd.GeoDataFrame, result: MapResult) -> None:
    """The assets as one clustered layer, with their legend section."""
    data = []
    for row in assets.itertuples():
        colour, icon, _ = ABCD_STYLE.get(row.abcd_category, ("gray", "circle", "#777"))
        point = row.geometry.representative_point()
        popup = (
            f"<b>{safe_text(row.name)}</b><br>{safe_text(row.abcd_category)} · {safe_text(row.type)}"
            + hidden_reference(f"asset:{row.asset_id}")
        )
        data.append([point.y, point.x, colour, icon, safe_text(row.name), popup])
    FastMarkerCluster(
        data,
        callback=_ASSET_CALLBACK,
        name="ABCD assets",
        options={"disableClusteringAtZoom": 15},
        icon_create_function=_ASSET_GROUP_ICON,
    ).add_to(m)
    present = [c for c in ABCD_CATEGORIES if c in set(assets[COLUMNS.abcd_category])]
    result.legend.append(
        LegendSection(
            "ABCD assets",
            tuple((c, ABCD_STYLE[c][2]) for c in present),
            "Zoomed out, nearby assets are grouped in a white label that says how many (assets, not incidents).",
        )
    )
    result.stats["assets"] = len(assets)


def add_interventions(m, interventions: gpd.GeoDataFrame, result: MapResult) -> None:
    """The interventions coloured by status, with their legend section."""
    data = interventions[[COLUMNS.intervention_id, COLUMNS.name, COLUMNS.status, COLUMNS.lead, COLUMNS.geometry]].copy()
    data["ref"] = ("intervention:" + data[COLUMNS.intervention_id].astype(str)).map(hidden_reference)
    data["colour"] = data[COLUMNS.status].map(STATUS_COLOURS).fillna("#000")
    data[COLUMNS.status] = data[COLUMNS.status].map(lambda s: STATUS_WORDS.get(s, s))
    for column in ("name", "status", "lead"):
        data[column] = data[column].map(safe_text)
    data = data.drop(columns=COLUMNS.intervention_id)
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
        popup=folium.GeoJsonPopup(["name", "status", "lead", "ref"], aliases=["Intervention", "Status", "Lead", ""]),
    ).add_to(m)
    present = [s for s in INTERVENTION_STATUSES if s in set(interventions[COLUMNS.status])]
    result.legend.append(
        LegendSection("Interventions", tuple((STATUS_WORDS.get(s, s), STATUS_COLOURS[s]) for s in present))
    )
    result.stats["interventions"] = len(interventions)
