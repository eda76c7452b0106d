"""The map explorer's parts, drawn: its controls, the notes under the map, and the panel beside it.

Place in the data flow: show. The map itself is built and cached by ``dashboard.common`` (:mod:`pipelines.mapview`);
these functions draw what it and :mod:`pipelines.views` return.
"""

from __future__ import annotations

import streamlit as st

from dashboard import common, loaders
from pipelines import mapview, privacy, views


def map_controls(viewer: privacy.Viewer) -> dict:
    """One row of map controls above the map (two to a row on a phone), so the map starts high on a projector:
    what colours the areas, which areas, the layers and the street map. Returns them as
    :func:`dashboard.common.explorer_map` takes them."""
    allowed = mapview.allowed_layers(viewer)
    with st.container(key="map_controls"):
        colour_by, kind_of_area, layer_choice, switches = st.columns([10, 11, 8, 6], vertical_alignment="bottom")
        metric = colour_by.segmented_control(
            "Colour areas by", ["count", "rate"], default="count", required=True, key="m_metric",
            format_func=lambda m: "Incidents" if m == "count" else "Per 1,000 residents",
            help="Per 1,000 residents is smoothed: an area with few residents is pulled towards the overall rate, "
            "so a handful of incidents cannot put it on top.",
        )  # fmt: skip
        area_kind = kind_of_area.segmented_control(
            "Areas", ["neighbourhood", "precinct"], default="neighbourhood", required=True, key="m_kind",
            format_func=lambda k: "Safe Neighbourhoods" if k == "neighbourhood" else "Precincts",
        )  # fmt: skip
        default = [layer for layer in mapview.DEFAULT_LAYERS if layer in allowed]
        layers = layer_choice.multiselect(
            "Layers", allowed, default=default, key="m_layers", format_func=lambda k: mapview.LAYER_LABELS.get(k, k)
        )
        online = switches.toggle(
            "Street map", value=False, key="m_osm",
            help="OpenStreetMap tiles under the layers. Needs internet; offline the roads layer shows the main roads.",
        )  # fmt: skip
        if metric == "rate" and viewer.may("crude_rates"):
            crude = switches.toggle(
                "Crude rates", value=False, key="m_crude",
                help="Not smoothed: incidents per 1,000 residents as counted. Small areas can top the map by chance.",
            )  # fmt: skip
            metric = "crude_rate" if crude else metric
    return dict(layers=layers, metric=metric, area_kind=area_kind, online=online)


def map_notes(
    result: mapview.MapResult,
    *,
    counts: privacy.PublishedCounts | None,
    hot: loaders.HotspotCells | None,
    filters: loaders.Filters,
    layers: list[str],
    viewer: privacy.Viewer,
) -> None:
    """Under the map: what the layers left out and why, and how the hot spots were found."""
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


def map_total(viewer: privacy.Viewer, incidents, counts: privacy.PublishedCounts | None) -> None:
    """How many incidents match the filters, as the viewer may count them, and what the viewer sees of them."""
    st.metric("Incidents matching the filters", counts.total_shown if counts else f"{len(incidents):,}")
    if viewer.is_public:
        st.caption("Public view: counts per area and hexagon; fewer than 5 are shown as <5. Log in for more.")
    elif viewer.role == "cso":
        st.caption(f"Points: {viewer.org}'s own incidents ({len(incidents):,}); everything else as counts.")


def selected_feature(ref: tuple | None, record: dict | None, *, areas, viewer: privacy.Viewer) -> None:
    """The record of what was clicked on the map, audited once per click (not on every rerun)."""
    st.subheader("Selected feature")
    if record and st.session_state.get("m_seen") != ref:
        st.session_state["m_seen"] = ref
        privacy.note_detail_view(common.store(), viewer, ref[0], record)
    if record:
        # two columns of text: a column mixing numbers and words made pyarrow raise ArrowTypeError
        st.table(views.record_rows(record, areas=areas), hide_index=True, hide_header=True)
    else:
        st.caption("Click an area, hexagon, asset, intervention or point to see its record here.")


def legend(result: mapview.MapResult) -> None:
    """The map's legend beside it, open."""
    with st.expander("Legend", expanded=True):
        st.markdown(mapview.legend_html(result.legend), unsafe_allow_html=True)
