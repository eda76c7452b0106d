"""Data quality: batches, rejections over time, incidents outside every area, coverage by source."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboard import common
from pipelines import views

common.require("data_quality")
st.title("Data quality")
batches = common.table("batches")
incidents = common.incidents()

cols = st.columns(3)
cols[0].metric("Batches", f"{len(batches):,}")
cols[1].metric("Incidents stored", f"{len(incidents):,}")
outside = views.outside_areas(incidents)
cols[2].metric("Outside every area", f"{int(outside['incidents'].sum()):,}")

st.subheader("Batches")
st.dataframe(
    views.batch_table(batches.sort_values("created_at", ascending=False)), hide_index=True, use_container_width=True
)

st.subheader("Rejected rows over time")
rejections = views.rejections_over_time(common.table("rejections"), batches)
if len(rejections):
    st.plotly_chart(px.bar(rejections, x="month", y="rows", color="reason"), use_container_width=True)
else:
    st.caption("No rejected rows.")
st.subheader("Warnings per batch")
st.dataframe(views.batch_warnings(batches), hide_index=True, use_container_width=True)

st.subheader("Incidents outside every precinct and neighbourhood")
st.dataframe(outside, hide_index=True, use_container_width=True)

st.subheader("Coverage by source (incidents per month)")
coverage = views.coverage_by_source(incidents)
st.plotly_chart(
    px.bar(coverage, x="month", y=[c for c in coverage.columns if c != "month"], barmode="group"),
    use_container_width=True,
)
