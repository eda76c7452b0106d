"""ACT meeting review: one neighbourhood, one month, large type for the projector."""

from __future__ import annotations

from functools import partial

import streamlit as st

from dashboard import common
from pipelines import downloads, mapview, views
from pipelines.act import pack

# Projector mode: larger type and high-contrast tables; nothing else on the page. Streamlit puts the
# heading text in a <span class="st-emotion-cache-...">, which the `[class*='st-']` rule would shrink
# to body size whatever size the <h1> has: the spans inherit the heading's size instead.
st.markdown(
    "<style>html, body, [class*='st-'] {font-size: 1.25rem;} [data-testid='stMetricValue'] {font-size: 3rem;}"
    " [data-testid='stMain'] [data-testid='stHeading'] h1 {font-size: 3.2rem; font-weight: 800; color: #000;"
    " line-height: 1.15;} [data-testid='stMain'] [data-testid='stHeading'] h2 {font-size: 2rem; color: #000;}"
    " [data-testid='stHeading'] h1 span, [data-testid='stHeading'] h2 span {font-size: inherit;}"
    " [data-testid='stTable'] td, [data-testid='stTable'] th {font-size: 1.2rem; color: #000;}</style>",
    unsafe_allow_html=True,
)
viewer = common.require("act_review")
filters = common.sidebar()
incidents, months = common.neighbourhood_incidents(filters)
month = st.selectbox("Meeting month", months, key="act_month", format_func=str)
name = common.areas().set_index("code")["name"].get(filters.neighbourhood)
st.title(f"ACT review: {name}, {month}")
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
with st.container(horizontal=True):  # each button as wide as its label: "Pack …" in columns at 1280 px
    for label, public, kind in PACKS:
        st.download_button(
            label, data=partial(pack.render, agendas[public], kind), file_name=f"{stem}{'-public' if public else ''}.{kind}",
            mime="application/pdf" if kind == "pdf" else "text/html", on_click="ignore", icon=":material/download:",
            width="content",
        )  # fmt: skip
st.caption("Meeting pack of this month, written when you click (a second or two).")

kpis = views.profile_kpis(incidents, month=month, population=filters.population)
stats = common.profile_stats(filters, month)  # the smoothed rate, as on the profile page
reports = views.new_community_reports(incidents, month=month)
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

st.header("By category")
counts = next(item for item in agendas[False].items if item.kind == "counts")  # the agenda's one reading
section = pack.agenda_section("", counts, agendas[False])
st.caption(section.summary)
st.table(section.table.head(11).set_index(section.table.columns[0]))
for caveat in section.caveats:
    st.caption(caveat)
st.header("Hot spots")
hot = common.hotspots(filters.neighbourhood, months=12, until=month, include_partial=filters.include_partial)
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
st.header("Interventions needing attention")
review = views.intervention_review(
    common.table("interventions").query("neighbourhood_code == @filters.neighbourhood"),
    common.table("intervention_log"),
    month=month,
)
if len(review):
    review["status"] = review["status"].map(views.status_words)
    st.table(views.for_people(review).set_index("Name"))
else:
    st.success("No intervention changed status, is overdue or stalled.")
st.header("Community reports this month")
if len(reports):  # an if statement: Streamlit's magic would write a conditional expression's value out
    st.table(views.for_people(reports.head(15)))
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
