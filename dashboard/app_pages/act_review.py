"""ACT meeting review: one neighbourhood, one month, laid out for a 1280x720 projector.

The sidebar is collapsed and the page uses the whole width (``layout.meeting_view``); each part (the month's
numbers, hot spots, interventions, community reports) fits on one screen, tables scroll inside their box and
the hot spots and interventions each have their small offline map (the pack's renderer, from the viewer's
agenda): the interventions' seven columns take the whole width, their map under them.
"""

from __future__ import annotations

import streamlit as st

from dashboard import common, layout, loaders, review_panels, sidebar
from pipelines import downloads, views
from pipelines.act import review
from pipelines.periods import month_words

layout.meeting_view()
st.markdown(
    "<style>[data-testid='stMain'] [data-testid='stMetricValue'] {font-size: 2.6rem;}</style>", unsafe_allow_html=True
)
viewer = common.require("act_review")
filters = sidebar.filters()
incidents, months = loaders.neighbourhood_incidents(filters)
name = views.area_name(loaders.areas(), filters.neighbourhood)
with st.container(horizontal=True, vertical_alignment="bottom", key="act_head"):
    month = st.selectbox("Meeting month", months, key="act_month", format_func=month_words, width=190)
    agendas = {
        public: loaders.agenda(filters.neighbourhood, month, public=public, include_partial=filters.include_partial)
        for public in (False, True)
    }
    review_panels.pack_buttons(agendas, stem=f"meeting-pack-{filters.neighbourhood}-{month}")

agenda = agendas[False]
hot = loaders.hotspots(filters.neighbourhood, months=12, until=month, include_partial=filters.include_partial)
shown = review.month_review(agenda, incidents, month=month, population=filters.population, cells=hot.cells)

with st.container(key="act_item_month"):
    st.title(f"ACT review: {name}, {month_words(month)}")
    review_panels.review_month(shown, loaders.profile_stats(filters, month))

with st.container(key="act_item_hotspots"):
    st.header("Hot spots")
    listed, where = st.columns([3, 2])
    with listed:
        review_panels.review_hotspots(shown, hot, viewer)
    with where:
        review_panels.item_map(agenda, "hotspot", filters=filters, month=month)

with st.container(key="act_item_interventions"):  # the table across the page, its map under it
    st.header("Interventions needing attention")
    review_panels.review_interventions(shown)
    review_panels.item_map(agenda, "interventions", filters=filters, month=month)

with st.container(key="act_item_reports"):
    st.header("Community reports this month")
    review_panels.review_reports(shown)

common.offer_downloads(
    downloads.table_view(
        "act-review", shown.tables(), place=name, period=str(month),
        filters={"neighbourhood": name, "month": str(month)},
    ),
    key="a_download",
    scope="for this Safe Neighbourhood and meeting month",
)  # fmt: skip
