"""Map explorer: areas, incidents (heat, hexagons, clustered points), assets and interventions."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from dashboard import common
from pipelines import mapview, views

filters = common.sidebar()
st.title("Map explorer")

left, right = st.columns([3, 1])
with right:
    metric = st.radio(
        "Colour areas by",
        ["count", "rate"],
        horizontal=True,
        key="m_metric",
        format_func=lambda m: "Incidents" if m == "count" else "Per 1,000 residents",
    )
    area_kind = st.radio(
        "Areas",
        ["neighbourhood", "precinct"],
        horizontal=True,
        key="m_kind",
        format_func=lambda k: "Safe Neighbourhoods" if k == "neighbourhood" else "Precincts",
    )
    layers = st.multiselect("Layers", mapview.LAYERS, default=list(mapview.DEFAULT_LAYERS), key="m_layers")
    online = st.toggle("OpenStreetMap tiles (needs internet)", value=False, key="m_osm")

incidents = common.incidents(filters.query())
areas = common.areas()
hot = None
if "hotspots" in layers and filters.neighbourhood:
    span = (filters.months[1] - filters.months[0]).n + 1 if filters.months else 12
    hot = common.hotspots(filters.neighbourhood, months=span, until=filters.months[1] if filters.months else None)
result = mapview.build_map(
    areas,
    incidents,
    assets=common.table("assets"),
    interventions=common.table("interventions"),
    roads=mapview.load_context_roads(),
    hotspots=None if hot is None else hot.cells,
    focus=filters.neighbourhood,
    options=mapview.MapOptions(layers=tuple(layers), metric=metric, area_kind=area_kind, online_tiles=online),
)

with left:
    st.metric("Incidents matching the filters", f"{len(incidents):,}")
    for note in result.notes:
        st.caption(note)
    if hot is not None:
        st.caption(f"Hot spots: Gi* over {hot.months[0]} to {hot.months[-1]}, H3 resolution {hot.resolution}.")
        for message in hot.messages:
            st.warning(message)
    elif "hotspots" in layers:
        st.caption("Hot spots: choose a Safe Neighbourhood in the sidebar to see its Gi* hot spots.")
    # Only clicks come back: panning and zooming never rerun the page.
    clicked = st_folium(
        result.map,
        height=620,
        use_container_width=True,
        key="explorer_map",
        returned_objects=["last_object_clicked_popup"],
    )

with right:
    st.markdown(mapview.legend_html(result.legend), unsafe_allow_html=True)
    st.subheader("Selected feature")
    ref = mapview.parse_ref((clicked or {}).get("last_object_clicked_popup"))
    record = (
        views.feature_record(
            *ref,
            areas=areas,
            assets=common.table("assets"),
            interventions=common.table("interventions"),
            incidents=incidents,
        )
        if ref
        else None
    )
    if record:
        st.table({"field": list(record), "value": list(record.values())})
    else:
        st.caption("Click an area, hexagon, asset, intervention or point to see its record here.")
