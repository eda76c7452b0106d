"""Ward view: what is happening in one ward and what is being done about it, and its councillor's report.

Everything comes from ``pipelines.ward.ward_view`` through the disclosure core: the public and CSOs see the
ward by the public rules (<5, withheld counts, no people, no points); the report downloads are made the same way.
"""

from __future__ import annotations

import streamlit as st

from dashboard import common, loaders, ward_panels
from pipelines import crosswalk, ward, wardreport
from pipelines.errors import AreaSafeError
from pipelines.periods import month_words

viewer = common.require("ward")
st.title("Ward view")
try:
    versions = crosswalk.version_names(common.store(), "ward")
    boundaries = st.sidebar.selectbox("Ward boundaries", versions, key="ward_version")
    wards = ward.ward_choices(common.store(), boundaries)
except AreaSafeError as exc:
    common.show_error(exc)
    st.stop()
months, _ = loaders.filter_choices()
if not months:
    st.warning("No incidents are stored yet.")
    st.stop()
code = st.sidebar.selectbox("Ward", wards.codes, index=wards.first, format_func=wards.names.get, key="ward_code")
month = st.sidebar.selectbox("Month", months, format_func=month_words, key="ward_month")
view = loaders.ward_view(code, month, boundaries, viewer)

ward_panels.ward_headline(view)
ward_panels.ward_trend(view)
ward_panels.ward_details(view)

st.subheader("Councillor's report")
st.caption("Two A4 pages for the ward committee, and a picture to share on WhatsApp, made as you see the data.")
if st.button("Make the report", key="ward_report"):
    ward_panels.report_downloads(
        wardreport.build_report(common.store(), code, month, viewer=viewer, version=boundaries)
    )
