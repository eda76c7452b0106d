"""ACT meeting review: one neighbourhood, one month, laid out for a 1280x720 projector.

The sidebar is collapsed and the page uses the whole width (``common.meeting_view``); each part (the month's
numbers, hot spots, interventions, community reports) fits on one screen, tables scroll inside their box and
the hot spots and interventions each have their small offline map (the pack's renderer, from the viewer's
agenda).
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from dashboard import common
from pipelines import downloads, mapview, views
from pipelines.act import pack

common.meeting_view()
st.markdown(
    "<style>[data-testid='stMain'] [data-testid='stMetricValue'] {font-size: 2.6rem;}</style>", unsafe_allow_html=True
)
viewer = common.require("act_review")
filters = common.sidebar()
incidents, months = common.neighbourhood_incidents(filters)
name = common.areas().set_index("code")["name"].get(filters.neighbourhood)
with st.container(horizontal=True, vertical_alignment="bottom", key="act_head"):
    month = st.selectbox("Meeting month", months, key="act_month", format_func=str, width=160)
    agendas = {
        public: common.agenda(filters.neighbourhood, month, public=public, include_partial=filters.include_partial)
        for public in (False, True)
    }
    stem = f"meeting-pack-{filters.neighbourhood}-{month}"
    PACKS = (
        ("Pack PDF", False, "pdf"),
        ("Pack HTML", False, "html"),
        ("Public PDF", True, "pdf"),
    )
    for label, public, kind in PACKS:  # each button as wide as its label: "Pack …" in columns at 1280 px
        st.download_button(
            label, data=partial(pack.render, agendas[public], kind), file_name=f"{stem}{'-public' if public else ''}.{kind}",
            mime="application/pdf" if kind == "pdf" else "text/html", on_click="ignore", icon=":material/download:",
            width="content", help="Meeting pack of this month, written when you click (a second or two).",
        )  # fmt: skip

with st.container(key="act_item_month"):
    st.title(f"ACT review: {name}, {month}")
    kpis = views.profile_kpis(incidents, month=month, population=filters.population)
    stats = common.profile_stats(filters, month)  # the smoothed rate, as on the profile page
    reports = views.new_community_reports(incidents, month=month)
    numbers, by_category = st.columns([2, 3])
    with numbers:
        with st.container(horizontal=True):  # as wide as their words: in three columns the change was cut off
            st.metric("Incidents", f"{kpis.incidents:,}", width="content", **common.change_delta(kpis.change))
            st.metric(
                "Per 1,000 residents",
                stats.rate_per_1000,
                width="content",
                help="Smoothed: a neighbourhood with few residents is pulled towards the rate of all neighbourhoods. "
                + common.population_source("neighbourhood"),
            )
            st.metric("New community reports", f"{len(reports):,}", width="content")
        if term := common.change_term(kpis.change):
            common.explain(term)
    with by_category:
        st.header("By category")
        counts = next(item for item in agendas[False].items if item.kind == "counts")  # the agenda's one reading
        section = pack.agenda_section("", counts, agendas[False])
        st.caption(section.summary)
        st.table(section.table.head(11).set_index(section.table.columns[0]), height=320)
        if section.caveats:
            with st.expander("Notes on these numbers"):
                for caveat in section.caveats:
                    st.caption(caveat)


def _item_map(kind: str) -> None:
    """The small map of the agenda's item of ``kind`` (the first one), when it has a place."""
    item = next((i for i in agendas[False].items if i.kind == kind), None)
    png = (
        None
        if item is None
        else common.item_map(filters.neighbourhood, month, item.key, include_partial=filters.include_partial)
    )
    if png is not None:
        with st.container(key=f"map_act_{kind}"):
            st.image(png, width="stretch")


with st.container(key="act_item_hotspots"):
    st.header("Hot spots")
    listed, where = st.columns([3, 2])
    hot = common.hotspots(filters.neighbourhood, months=12, until=month, include_partial=filters.include_partial)
    with listed:
        for message in hot.messages:
            st.warning(message)
        common.explain("Hot spot")
        summary = views.hotspot_summary(hot.cells)
        st.caption(
            f"{hot.months[0]} to {hot.months[-1]}, every source and category: small hexagons compared with those "
            "around them, in the same classes as the map."
        )
        if len(summary):
            st.table(summary.set_index("Hot spot"))
            for item in agendas[False].items:
                if item.kind == "hotspot" and item.links.get("hotspot_cell"):
                    st.markdown(f"- **{item.title}**")
        elif hot.sufficient:
            st.success("No hot spot in this neighbourhood over the last 12 months.")
        else:  # the warning above says why; "no hot spot" would claim a finding the data cannot support
            st.info("Hot spots could not be looked for: there is too little data. This is not the same as no hot spot.")
        if viewer.may("statistics"):
            with st.expander("How we know: each hexagon's statistics"):
                st.caption(mapview.hotspot_caption(hot.months, hot.resolution, statistics=True))
                st.dataframe(views.top_hotspots(hot.cells, n=8, statistics=True), hide_index=True, width="stretch")
    with where:
        _item_map("hotspot")

with st.container(key="act_item_interventions"):
    st.header("Interventions needing attention")
    listed, where = st.columns([3, 2])
    review = views.intervention_review(
        common.table("interventions", viewer).query("neighbourhood_code == @filters.neighbourhood"),
        common.table("intervention_log", viewer),
        month=month,
    )
    with listed:
        if len(review):
            review["status"] = review["status"].map(views.status_words)
            st.table(views.for_people(review).set_index("Name"), height=min(480, 60 + 90 * len(review)))
        else:
            st.success("No intervention changed status, is overdue or stalled.")
    with where:
        _item_map("interventions")

with st.container(key="act_item_reports"):
    st.header("Community reports this month")
    if len(reports):  # an if statement: Streamlit's magic would write a conditional expression's value out
        st.table(views.for_people(reports.head(15)), height=min(520, 50 + 44 * min(len(reports), 15)))
    else:
        st.caption("None this month.")

common.offer_downloads(
    downloads.table_view(
        "act-review", {"by_category": section.table, "hot_spots": summary, "interventions_needing_attention": review,
                       "community_reports": views.for_people(reports)},
        place=name, period=str(month), filters={"neighbourhood": name, "month": str(month)},
    ),
    key="a_download",
)  # fmt: skip
