"""Ward view: what is happening in one ward and what is being done about it, and its councillor's report.

Everything comes from ``pipelines.ward.ward_view`` through the disclosure core: the public and CSOs see the
ward by the public rules (<5, withheld counts, no people, no points); the report downloads are made the same way.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboard import common
from pipelines import crosswalk, privacy
from pipelines.act import figures
from pipelines.errors import AreaSafeError
from pipelines.ward import busiest_ward, ward_view
from pipelines.wardreport import build_report, render


@st.cache_resource(show_spinner="Reading the ward ...", max_entries=16)
def _view(url: str, version: tuple, ward: str, month: str, boundaries: str, viewer: privacy.Viewer):
    return ward_view(common.store(), ward, month, viewer=viewer, version=boundaries)


viewer = common.require("ward")
st.title("Ward view")
try:
    versions = crosswalk.boundary_versions(common.store(), "ward")
    boundaries = st.sidebar.selectbox("Ward boundaries", list(versions["version"]), key="ward_version")
    wards, _ = crosswalk.ward_areas(common.store(), boundaries)
except AreaSafeError as exc:
    common.show_error(exc)
    st.stop()
months, _ = privacy.filter_choices(common.store())
if not months:
    st.warning("No incidents are stored yet.")
    st.stop()
names = wards.sort_values("code").set_index("code")["name"]
first = busiest_ward(common.store(), wards, boundaries)
index = list(names.index).index(first) if first in names.index else 0
code = st.sidebar.selectbox("Ward", list(names.index), index=index, format_func=names.get, key="ward_code")
month = st.sidebar.selectbox("Month", months, format_func=lambda m: f"{m:%B %Y}", key="ward_month")
view = _view(common.store().url, common.store().data_version(), code, str(month), boundaries, viewer)

st.header(view.title)
st.caption(view.method)
if view.public:
    st.caption(
        "Shown by the public rules: counts of 1 to 4 read <5, and counts that would give a few incidents away are withheld."
    )
head = view.headline
cols = st.columns(4)
cols[0].metric(f"Incidents in {month:%B %Y}", head["incidents"])
cols[1].metric("Per 1,000 residents (smoothed)", head["rate"])
cols[2].metric("Whole area per 1,000 residents", head["city_rate"])
cols[3].metric("Residents (estimate)", head["residents_count"], help=head["residents"])
meaning = st.columns(2)
common.explain("Smoothed rate (per 1,000 residents)", where=meaning[0])
common.explain("Shared out to the ward", where=meaning[1])

series = view.trend_series.assign(month=lambda f: pd.PeriodIndex(f["month"], freq="M").to_timestamp())
long = series.melt(id_vars="month", value_vars=["ward", "city"], var_name="where", value_name="rate")
long["where"] = long["where"].map({"ward": view.name, "city": "Whole area"})
chart = px.line(
    long, x="month", y="rate", color="where", markers=True, title="Incidents per 1,000 residents, per month"
)
st.plotly_chart(
    chart.update_layout(xaxis_title="Month", yaxis_title="per 1,000 residents", legend_title=""), width="stretch"
)
with st.expander("The numbers behind the chart"):
    st.dataframe(view.trend, hide_index=True, width="stretch")

left, right = st.columns(2)
left.subheader("Hot spots touching the ward")
common.explain("Hot spot", where=left)
left.table(view.hotspots.set_index(view.hotspots.columns[0]))
right.image(figures.neighbourhood_map(view.map_input), caption=f"{view.name}: hot spots, assets and interventions")
for title, table in (
    ("Interventions in the ward", view.interventions),
    ("Budget by financial year", view.budget),
    ("Assets", view.assets),
    ("Open ACT actions (neighbourhoods this ward overlaps)", view.actions),
    ("Community reports this month", view.reports),
    ("SAPS crime statistics, shared out to the ward", view.saps),
    ("Police precincts the ward takes figures from", view.precincts),
):
    st.subheader(title)
    if len(table):
        st.dataframe(table, hide_index=True, width="stretch")
    else:
        st.caption("Nothing recorded.")
for note in view.notes:
    st.caption(note)

st.subheader("Councillor's report")
st.caption("Two A4 pages for the ward committee, and a picture to share on WhatsApp, made as you see the data.")
if st.button("Make the report", key="ward_report"):
    report = build_report(common.store(), code, month, viewer=viewer, version=boundaries)
    stem = report.file_stem
    buttons = st.columns(3)
    for place, (kind, mime) in zip(
        buttons, (("pdf", "application/pdf"), ("html", "text/html"), ("png", "image/png")), strict=True
    ):
        place.download_button(f"Download {kind.upper()}", render(report, kind), file_name=f"{stem}.{kind}", mime=mime)
