"""Data quality: batches, rejections over time, incidents outside every area, unmapped category terms,
coverage by source (:func:`pipelines.views.data_quality`)."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboard import common, loaders
from pipelines import downloads, terms, views
from pipelines.errors import AreaSafeError
from pipelines.schemas import COLUMNS

viewer = common.require("data_quality")
st.title("Data quality")
batches = loaders.table("batches", viewer)
quality = views.data_quality(
    batches, loaders.incidents(), loaders.table("rejections", viewer), terms.unmapped_terms(common.store())
)

cols = st.columns(3)
cols[0].metric("Batches", f"{len(batches):,}")
cols[1].metric("Incidents stored", f"{quality.incidents:,}")
cols[2].metric("Outside every area", f"{quality.outside_total:,}")

st.subheader("Batches")
st.dataframe(quality.batches, hide_index=True, width="stretch")

st.subheader("Rejected rows over time")
if len(quality.rejections):
    chart = px.bar(
        quality.rejections, x=COLUMNS.month, y="rows", color=COLUMNS.reason, labels={"rows": "Rejected rows"}
    )
    chart.update_traces(xperiod="M1", xperiodalignment="middle")  # a bar is a whole month, not an instant
    chart.update_xaxes(dtick="M1", tickformat="%b %Y", title=None)
    st.plotly_chart(chart, width="stretch")
else:
    st.caption("No rejected rows.")
st.subheader("Warnings per batch")
st.dataframe(quality.warnings, hide_index=True, width="stretch")

st.subheader("Incidents outside every precinct and neighbourhood")
st.dataframe(quality.outside, hide_index=True, width="stretch")

st.subheader("Category terms not yet mapped")
st.caption(terms.unmapped_notice(quality.unmapped))
if len(quality.unmapped):
    st.dataframe(quality.unmapped, hide_index=True, width="stretch")
if quality.mappable and terms.may_map_terms(viewer):
    labels = views.category_labels()
    term = st.selectbox("Term to map", quality.mappable, key="map_term")
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
                                          "outside_every_area": quality.outside,
                                          "category_terms_not_mapped": quality.unmapped}),
    key="dq_download",
)  # fmt: skip
st.subheader("Coverage by source (incidents per month)")
st.plotly_chart(px.bar(quality.coverage, x=COLUMNS.month, y=quality.coverage_sources, barmode="group"), width="stretch")
