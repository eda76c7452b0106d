"""Upload (CSOs): choose the file, check its columns, read the dry run in words, fix, confirm.

The same ingest as ``areasafe ingest`` (through ``pipelines.access``: limits, a cso's own organisation, the
audit), prepared once per content and options (``uploads.prepared_upload``); Confirm commits the dry run on
screen (:func:`pipelines.ingest.report.dry_run_report`, as ``--dry-run`` prints it). The page never dead-ends:
what cannot be read is said in words, with the column choices and a preview of the file kept on screen.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from dashboard import common, loaders, uploads
from pipelines import privacy, views
from pipelines.errors import AreaSafeError, MissingLocationError
from pipelines.ingest import report
from pipelines.schemas import SOURCES

viewer = common.require("upload")
st.title("Upload incident reports")
st.caption("KoboToolbox, ODK Central, data.police.uk or plain CSV/Excel. Nothing is stored until you confirm.")
upload = st.file_uploader("Survey export", type=["csv", "tsv", "txt", "xlsx", "xlsm", "xls", "gz", "zip"], key="u_file")
cso = viewer.role == "cso"  # a CSO uploads community reports for its own organisation only
if cso:
    source, org = "community", viewer.org
    st.caption(f"Reports are stored as community reports of {uploads.plain(viewer.org)}.")
else:
    cols = st.columns(2)
    source = cols[0].selectbox("Source", SOURCES, index=SOURCES.index("community"), key="u_source")
    org = cols[1].text_input("Organisation", value="", key="u_org", placeholder="e.g. Harare CSF") or None

if upload is not None:
    data, state = upload.getvalue(), st.session_state
    tag = hashlib.sha256(data).hexdigest()[:8]  # widget keys per file, so a new file starts from its own guess
    fmt, options = uploads.file_options(data, tag)
    overrides = uploads.column_overrides(tag, options)
    prepared = problem = None
    try:  # once per file and options; Confirm commits the dry run on screen
        ready = uploads.prepared_upload(viewer, upload.name, data, confirming=bool(state.get("u_confirm")),
                                        source=source, org=org, format=fmt, overrides=overrides, **options)  # fmt: skip
        prepared, found = ready.prepared, ready.dry_run
        columns, mapping, preview = prepared.columns, prepared.mapping, report.preview_rows(prepared.raw.frame)
        state[f"u_{tag}_file"] = (columns, mapping, preview)
    except MissingLocationError as exc:
        problem = report.location_problem()
        columns, mapping, preview = exc.columns, exc.mapping, exc.preview
    except AreaSafeError as exc:
        problem = str(exc)
        columns, mapping, preview = state.get(f"u_{tag}_file", (None, None, None))
    if problem:
        state[f"u_{tag}_open"] = True
        st.warning(uploads.plain(problem))
    if columns is None:
        st.info("Change the date order or the sheet under 'Options for this file' above, or fix the file in a "
                "spreadsheet and upload it again.")  # fmt: skip
        st.stop()
    uploads.column_choices(tag, columns, mapping, preview, read=prepared is not None)
    if prepared is None:
        st.stop()
    uploads.show_dry_run(found)
    which = st.radio("Show", ["Rows to check", "All rows"], horizontal=True, key=f"u_{tag}_which")
    rows = report.report_rows(prepared, areas=loaders.areas(), only_problems=which == "Rows to check")
    st.dataframe(views.blank_missing(rows), hide_index=True, width="stretch")
    uploads.rejected_download(prepared, upload.name)
    uploads.confirm_and_store(viewer, prepared, tag)

st.subheader("Batch history" + (f": {uploads.plain(viewer.org)}" if cso else ""))
batches = views.for_people(views.batch_table(privacy.read_batches(common.store(), viewer)))
st.dataframe(batches, hide_index=True, width="stretch")
