"""Data quality: batches, rejections over time, incidents outside every area, unmapped category terms,
coverage by source (:func:`pipelines.views.data_quality`)."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboard import common, loaders
from pipelines import downloads, terms, views
from pipelines.errors import AreaSafeError

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


def month_bars(frame, y: str, color: str, **options) -> None:
    """Bars per month, each under its month in words, also when there is one (a category axis, in order)."""
    chart = px.bar(frame, x=views.MONTH_WORD, y=y, color=color, category_orders=views.month_order(frame), **options)
    st.plotly_chart(chart.update_xaxes(type="category", title=None), width="stretch")


st.subheader("Rejected rows over time")
if len(quality.rejections):
    month_bars(quality.rejections, "Rejected rows", views.REASON_WORD)
else:
    st.caption("No rejected rows.")
st.subheader("Warnings per batch")
st.dataframe(quality.warnings, hide_index=True, width="stretch")

st.subheader("Incidents outside every precinct and neighbourhood")
st.dataframe(quality.outside, hide_index=True, width="stretch")

st.subheader("Category terms not yet mapped")
st.caption(terms.unmapped_notice(quality.unmapped, mapper=terms.may_map_terms(viewer)))
if len(quality.unmapped):
    st.dataframe(views.for_people(quality.unmapped), hide_index=True, width="stretch")
if quality.mappable and terms.may_map_terms(viewer):
    labels = views.category_labels()
    term = st.selectbox("Term to map", quality.mappable, key="map_term")
    category = st.selectbox(
        "Category", terms.mappable_categories(term=term), format_func=labels.get, key="map_category"
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
                                          "category_terms_not_mapped": views.for_people(quality.unmapped)}),
    key="dq_download",
)  # fmt: skip
st.subheader("Coverage by source (incidents per month)")
month_bars(quality.coverage, views.INCIDENTS_WORD, views.SOURCE_WORD, barmode="group")
