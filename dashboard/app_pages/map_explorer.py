"""Map explorer: areas, incidents (heat, hexagons, clustered points), assets and interventions.

What is drawn depends on the viewer (``pipelines.access``): the public gets published counts per area and
hexagon only; a cso also its own organisation's points; planners and ACT members every point, sensitive
ones generalised; analysts everything.
"""

from __future__ import annotations

import streamlit as st

from dashboard import common, loaders, map_panels, maps, panels, sidebar
from pipelines import downloads, mapview, views
from pipelines.schemas import COLUMNS

viewer = common.require("map")
filters = sidebar.filters()
with st.container(key="map_heading"):
    st.title("Map explorer")
choices = map_panels.map_controls(viewer)
layers, area_kind = choices["layers"], choices[COLUMNS.area_kind]

incidents = loaders.incidents(filters.query())
counts = loaders.counts(filters.query()) if viewer.suppressed else None
areas = loaders.areas()
assets, interventions = loaders.table("assets", viewer), loaders.table("interventions", viewer)
hot = panels.period_hotspots(filters) if "hotspots" in layers and filters.neighbourhood else None
hot_cells = None if hot is None else hot.cells


def build() -> mapview.MapResult:
    return maps.explorer_map(
        filters, viewer, **choices, areas=areas, incidents=incidents, counts=counts, hot=hot,
        assets=assets, interventions=interventions, population_source=loaders.population_source(area_kind),
    )  # fmt: skip


# Built and rendered once per data version, audience and inputs: a click or a revisit reuses it.
inputs = maps.explorer_inputs(filters, viewer, **choices)
drawn = maps.drawn_map(inputs, build, key=maps.EXPLORER_MAP, returned_objects=maps.EXPLORER_RETURNS)

# The map and, beside it, what was clicked; on a phone the panel comes under the map.
left, right = st.columns([5, 2])
with left:
    # Only clicks come back: panning and zooming never rerun the page. The frame's height comes from the
    # screen (dashboard/static/areasafe.css); this one is for a browser without the styles.
    with st.container(key="map_frame"):
        clicked = maps.show_map(drawn, key=maps.EXPLORER_MAP, height=520)
    map_panels.map_notes(drawn.result, counts=counts, hot=hot, filters=filters, layers=layers, viewer=viewer)

with right:
    map_panels.map_total(viewer, incidents, counts)
    ref = maps.clicked(drawn, clicked, st.session_state, key="m_click")  # none from layers drawn before
    record = views.feature_record(
        *(ref or (None, None)), areas=areas, assets=assets, interventions=interventions, incidents=incidents,
        hotspots=hot_cells, cell_counts=drawn.result.cell_counts, statistics=viewer.may("statistics"),
    )  # fmt: skip
    map_panels.selected_feature(ref, record, areas=areas, viewer=viewer)
    map_panels.legend(drawn.result)

common.offer_downloads(
    downloads.map_view(
        common.store(), viewer, filters.query(), areas=areas, incidents=incidents, counts=counts,
        assets=assets, interventions=interventions, hotspots=hot_cells,
        layers=layers, area_kind=area_kind, period=sidebar.period_words(filters),
    ),
    key="m_download",
    scope="with the filters in the sidebar and the layers chosen above",
)  # fmt: skip
