"""Map explorer: areas, incidents (heat, hexagons, clustered points), assets and interventions.

What is drawn depends on the viewer (``pipelines.access``): the public gets published counts per area and
hexagon only; a cso also its own organisation's points; planners and ACT members every point, sensitive
ones generalised; analysts everything.
"""

from __future__ import annotations

import streamlit as st

from dashboard import common
from pipelines import downloads, mapview, privacy, views

viewer = common.require("map")
filters = common.sidebar()
with st.container(key="map_heading"):
    st.title("Map explorer")

allowed = mapview.allowed_layers(viewer)
# One row of map controls above the map (two to a row on a phone): the map starts high on a projector.
with st.container(key="map_controls"):
    colour_by, kind_of_area, layer_choice, switches = st.columns([10, 11, 8, 6], vertical_alignment="bottom")
    metric = colour_by.segmented_control(
        "Colour areas by",
        ["count", "rate"],
        default="count",
        required=True,
        key="m_metric",
        format_func=lambda m: "Incidents" if m == "count" else "Per 1,000 residents",
        help="Per 1,000 residents is smoothed: an area with few residents is pulled towards the overall rate, "
        "so a handful of incidents cannot put it on top.",
    )
    area_kind = kind_of_area.segmented_control(
        "Areas",
        ["neighbourhood", "precinct"],
        default="neighbourhood",
        required=True,
        key="m_kind",
        format_func=lambda k: "Safe Neighbourhoods" if k == "neighbourhood" else "Precincts",
    )
    default = [layer for layer in mapview.DEFAULT_LAYERS if layer in allowed]
    layers = layer_choice.multiselect(
        "Layers", allowed, default=default, key="m_layers", format_func=lambda k: mapview.LAYER_LABELS.get(k, k)
    )
    online = switches.toggle(
        "Street map",
        value=False,
        key="m_osm",
        help="OpenStreetMap tiles under the layers. Needs internet; offline the roads layer shows the main roads.",
    )
    if metric == "rate" and viewer.may("crude_rates"):
        crude = switches.toggle(
            "Crude rates",
            value=False,
            key="m_crude",
            help="Not smoothed: incidents per 1,000 residents as counted. Small areas can top the map by chance.",
        )
        metric = "crude_rate" if crude else metric

incidents = common.incidents(filters.query())
counts = common.counts(filters.query()) if viewer.suppressed else None
areas = common.areas()
hot = None
if "hotspots" in layers and filters.neighbourhood:
    span = (filters.months[1] - filters.months[0]).n + 1 if filters.months else 12
    hot = common.hotspots(
        filters.neighbourhood,
        months=span,
        until=filters.months[1] if filters.months else None,
        include_partial=filters.include_partial,
    )


choices = dict(layers=layers, metric=metric, area_kind=area_kind, online=online)


def build() -> mapview.MapResult:
    return common.explorer_map(
        filters, viewer, **choices, areas=areas, incidents=incidents, counts=counts, hot=hot,
        assets=common.table("assets", viewer), interventions=common.table("interventions", viewer),
        population_source=common.population_source(area_kind),
    )  # fmt: skip


# Built and rendered once per data version, audience and inputs: a click or a revisit reuses it.
inputs = common.explorer_inputs(filters, viewer, **choices)
drawn = common.drawn_map(inputs, build, key=common.EXPLORER_MAP, returned_objects=common.EXPLORER_RETURNS)
result = drawn.result

# The map and, beside it, what was clicked; on a phone the panel comes under the map.
left, right = st.columns([5, 2])
with left:
    # Only clicks come back: panning and zooming never rerun the page. The frame's height comes from the
    # screen (dashboard/static/areasafe.css); this one is for a browser without the styles.
    with st.container(key="map_frame"):
        clicked = common.show_map(drawn, key=common.EXPLORER_MAP, height=520)
    for note in [*result.notes, *(counts.notes if counts else [])]:
        st.caption(note)
    if hot is not None:
        st.caption(mapview.hotspot_caption(hot.months, hot.resolution, statistics=viewer.may("statistics")))
        if filters.hotspot_note:
            st.info(filters.hotspot_note)
        for message in hot.messages:
            st.warning(message)
    elif "hotspots" in layers:
        st.caption("Hot spots: choose a Safe Neighbourhood in the sidebar to see its hot spots.")

with right:
    st.metric("Incidents matching the filters", counts.total_shown if counts else f"{len(incidents):,}")
    if viewer.is_public:
        st.caption("Public view: counts per area and hexagon; fewer than 5 are shown as <5. Log in for more.")
    elif viewer.role == "cso":
        st.caption(f"Points: {viewer.org}'s own incidents ({len(incidents):,}); everything else as counts.")
    st.subheader("Selected feature")
    ref = result.clicked((clicked or {}).get("last_object_clicked_popup"))
    assets, interventions = common.table("assets", viewer), common.table("interventions", viewer)
    record = views.feature_record(
        *(ref or (None, None)),
        areas=areas,
        assets=assets,
        interventions=interventions,
        incidents=incidents,
        hotspots=None if hot is None else hot.cells,
        cell_counts=result.cell_counts,
        statistics=viewer.may("statistics"),
    )
    if record and st.session_state.get("m_seen") != ref:
        st.session_state["m_seen"] = ref  # audited once per click, not on every rerun
        privacy.note_detail_view(common.store(), viewer, ref[0], record)
    if record:
        # two columns of text: a column mixing numbers and words made pyarrow raise ArrowTypeError
        st.table(views.record_rows(record, areas=areas), hide_index=True, hide_header=True)
    else:
        st.caption("Click an area, hexagon, asset, intervention or point to see its record here.")
    with st.expander("Legend", expanded=True):
        st.markdown(mapview.legend_html(result.legend), unsafe_allow_html=True)

common.offer_downloads(
    downloads.map_view(
        common.store(), viewer, filters.query(), areas=areas, incidents=incidents, counts=counts,
        assets=assets, interventions=interventions, hotspots=None if hot is None else hot.cells,
        layers=layers, area_kind=area_kind, period=common.period_words(filters),
    ),
    key="m_download",
)  # fmt: skip
