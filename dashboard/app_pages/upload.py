"""Upload (CSOs): detect the format, correct the mapping, dry-run, confirm, and see batch history.

Uses the same ``pipelines.ingest`` functions as ``areasafe ingest`` (through ``pipelines.access``, which
adds the size and row limits, stores a cso's upload under its own organisation and audits the commit),
so a file gives the same batch here as on the command line.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from dashboard import common
from pipelines import access, export, privacy, views
from pipelines.errors import AreaSafeError
from pipelines.schemas import SOURCES
from pipelines.sources.mapping import FORMATS, ROLES

NONE = "(none)"
viewer = common.require("upload")
st.title("Upload incident reports")
st.caption("KoboToolbox, ODK Central, data.police.uk or plain CSV/Excel. Nothing is stored until you confirm.")

upload = st.file_uploader("Survey export", type=["csv", "xlsx", "xls"], key="u_file")
cols = st.columns(3)
cso = viewer.role == "cso"  # a CSO uploads community reports for its own organisation only
sources = ("community",) if cso else SOURCES
source = cols[0].selectbox("Source", sources, index=sources.index("community"), key="u_source")
if cso:
    org = cols[1].text_input("Organisation", value=viewer.org, disabled=True)
else:
    org = cols[1].text_input("Organisation", value="", key="u_org", placeholder="e.g. Harare CSF") or None
fmt = cols[2].selectbox("Format", FORMATS, key="u_format")

if upload is not None:
    data = upload.getvalue()
    tag = hashlib.sha256(data).hexdigest()[:8]  # widget keys per file, so a new file starts from its own guess
    chosen = {role: st.session_state.get(f"u_{tag}_{role}") for role in ROLES}
    overrides = {role: ("" if value == NONE else value) for role, value in chosen.items() if value is not None}
    try:
        prepared = access.prepare_upload(
            common.store(), viewer, upload.name, data, source=source, org=org, format=fmt, overrides=overrides
        )
    except AreaSafeError as exc:
        common.show_error(exc)
        st.stop()

    st.subheader(f"Column mapping (detected format: {prepared.mapping.format})")
    options = [NONE, *prepared.columns]
    grid = st.columns(5)
    for i, role in enumerate(ROLES):
        current = getattr(prepared.mapping, role) or NONE
        grid[i % 5].selectbox(role, options, index=options.index(current), key=f"u_{tag}_{role}")
    if prepared.mapping.personal:
        st.caption("Dropped as personal information (POPIA): " + ", ".join(prepared.mapping.personal))

    st.subheader("Dry run")
    summary = prepared.batch.summary()
    m = st.columns(4)
    for col, key in zip(m, ["rows_read", "accepted", "rejected", "duplicates"], strict=True):
        col.metric(key.replace("_", " ").capitalize(), f"{summary[key]:,}")
    if summary["rejections"]:
        st.write("Rejected by reason:", summary["rejections"])
    if summary["warnings"]:
        st.write("Warnings:", summary["warnings"])
    st.dataframe(views.blank_missing(prepared.rows.head(200)), hide_index=True, width="stretch")
    if len(prepared.rejections):
        st.download_button(
            "Download rejected rows (CSV)",
            export.csv_text(prepared.rejections),
            file_name=f"rejected-{upload.name}.csv",
            mime="text/csv",
        )
    if prepared.already_ingested:
        st.warning(f"This file was already uploaded (batch {prepared.already_ingested}); confirming stores nothing.")
    if st.button("Confirm and store", type="primary", key="u_confirm"):
        try:
            batch = access.commit_upload(common.store(), viewer, prepared)
        except AreaSafeError as exc:
            common.show_error(exc)
            st.stop()
        st.success(f"Stored batch {batch.batch_id}: {batch.accepted:,} incidents accepted.")

st.subheader("Batch history" + (f": {viewer.org}" if cso else ""))
st.dataframe(
    views.blank_missing(views.batch_table(privacy.read_batches(common.store(), viewer))),
    hide_index=True,
    width="stretch",
)
