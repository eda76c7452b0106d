"""Batches: what came in, from whom and what became of each row; admins can delete (withdraw) a batch.

A cso sees its own organisation's batches only (``pipelines.privacy.read_batches``), and can download a
batch's rejected rows as the file they came from, to fix and upload again
(:func:`pipelines.ingest.rejections.as_original_file`, through ``privacy.read_table``: the rows' content
only for their own organisation, analysts and admins). Deleting erases the batch's incidents, rejections
and raw copies and keeps the record as a tombstone (``access.delete_batch``).
"""

from __future__ import annotations

import streamlit as st

from dashboard import common
from pipelines import access, downloads, privacy, views
from pipelines.errors import AreaSafeError
from pipelines.ingest import rejections
from pipelines.schemas import COLUMNS

viewer = common.require("batches")
st.title("Batches")
batches = privacy.read_batches(common.store(), viewer)
shown = views.batch_history(batches)
st.dataframe(views.for_people(shown), hide_index=True, width="stretch")
common.offer_downloads(downloads.table_view("batches", {"batches": views.for_people(shown)}), key="b_download_all")
if flash := st.session_state.pop("b_flash", None):
    st.success(flash)

labels = views.fixable_batches(batches)
if labels:
    st.header("Rejected rows")
    pick = st.selectbox("Batch", list(labels), format_func=labels.get, key="b_rejected")
    rows = views.rows_with(privacy.read_table(common.store(), viewer, "rejections"), "batch_id", [pick])
    if rows[COLUMNS.raw].isna().all():
        st.caption("Only the organisation that uploaded these rows, analysts and admins can download them.")
    else:
        st.download_button(
            rejections.download_label(len(rows)),
            rejections.as_original_file(rows),
            file_name=f"rejected-{views.batch_file_stem(batches, pick)}.csv",
            mime="text/csv",
            width="stretch",
            key="b_download",
        )
        st.caption(
            "Each row as the file gave it, with the reason in words. Fix them, keep the header, and upload the file again."
        )

if viewer.may("delete_batch"):
    st.header("Delete a batch")
    st.caption(
        "For a CSO withdrawing consent, or data that must not be kept: every row the batch wrote is erased "
        "(incidents, rejected rows, raw copies). The batch stays in this list marked withdrawn, and the "
        "deletion is recorded in the audit log. This cannot be undone."
    )
    names = views.live_batches(batches)
    with st.form("delete_batch"):
        chosen = st.selectbox("Batch", list(names), index=None, format_func=names.get)
        reason = st.text_input("Reason (kept with the record)", key="b_reason")
        sure = st.checkbox("I understand the rows are erased for good", key="b_sure")
        delete = st.form_submit_button("Delete batch", type="primary")
    if delete:
        try:
            if not (chosen and sure):
                raise AreaSafeError("choose a batch and tick the box to confirm")
            removed = access.delete_batch(common.store(), viewer, chosen, reason=reason or None)
        except AreaSafeError as exc:
            common.show_error(exc)
        else:
            st.session_state["b_flash"] = f"Deleted the batch {names[chosen]}: {removed:,} rows erased."
            st.rerun()
