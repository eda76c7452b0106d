"""Data quality: batches, rejections over time, incidents outside every area, unmapped category terms,
coverage by source."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboard import common, loaders
from pipelines import downloads, terms, views
from pipelines.errors import AreaSafeError
from pipelines.taxonomy import load_taxonomy

viewer = common.require("data_quality")
st.title("Data quality")
batches = loaders.table("batches", viewer)
incidents = loaders.incidents()

cols = st.columns(3)
cols[0].metric("Batches", f"{len(batches):,}")
cols[1].metric("Incidents stored", f"{len(incidents):,}")
outside = views.outside_areas(incidents)
cols[2].metric("Outside every area", f"{int(outside['incidents'].sum()):,}")

st.subheader("Batches")
st.dataframe(
    views.for_people(views.batch_table(batches.sort_values("created_at", ascending=False))),
    hide_index=True,
    width="stretch",
)

st.subheader("Rejected rows over time")
rejections = views.rejections_over_time(loaders.table("rejections", viewer), batches)
if len(rejections):
    chart = px.bar(rejections, x="month", y="rows", color="reason", labels={"rows": "Rejected rows"})
    chart.update_traces(xperiod="M1", xperiodalignment="middle")  # a bar is a whole month, not an instant
    chart.update_xaxes(dtick="M1", tickformat="%b %Y", title=None)
    st.plotly_chart(chart, width="stretch")
else:
    st.caption("No rejected rows.")
st.subheader("Warnings per batch")
st.dataframe(views.for_people(views.batch_warnings(batches)), hide_index=True, width="stretch")

st.subheader("Incidents outside every precinct and neighbourhood")
st.dataframe(outside, hide_index=True, width="stretch")

st.subheader("Category terms not yet mapped")
unmapped = terms.unmapped_terms(common.store())
st.caption(terms.unmapped_notice(unmapped))
if len(unmapped):
    st.dataframe(unmapped, hide_index=True, width="stretch")
mappable = unmapped[unmapped["term"].ne("")]
if len(mappable) and terms.may_map_terms(viewer):
    labels = {code: c.label for code, c in load_taxonomy().categories.items()}
    term = st.selectbox("Term to map", mappable["raw_category"].tolist(), key="map_term")
    category = st.selectbox(
        "Category", terms.mappable_categories(term=term), format_func=lambda c: f"{labels[c]} ({c})", key="map_category"
    )
    if st.button("Map term and re-classify its incidents", key="map_button"):
        try:
            mapped = terms.map_term(common.store(), viewer, term, category)
        except AreaSafeError as exc:
            common.show_error(exc)
        else:
            st.success(f"{term!r} is now {labels[mapped.category]}: {mapped.incidents:,} incidents re-classified.")

common.offer_downloads(
    downloads.table_view("data-quality", {"batches": views.for_people(views.batch_table(batches)),
                                          "outside_every_area": outside, "category_terms_not_mapped": unmapped}),
    key="dq_download",
)  # fmt: skip
st.subheader("Coverage by source (incidents per month)")
coverage = views.coverage_by_source(incidents)
st.plotly_chart(
    px.bar(coverage, x="month", y=[c for c in coverage.columns if c != "month"], barmode="group"),
    width="stretch",
)
