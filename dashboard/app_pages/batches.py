"""Batches: what came in, from whom and what became of each row; admins can delete (withdraw) a batch.

A cso sees its own organisation's batches only (``pipelines.privacy.read_batches``). Deleting erases the
batch's incidents, rejections and raw copies and keeps the record as a tombstone (``access.delete_batch``).
"""

from __future__ import annotations

import streamlit as st

from dashboard import common
from pipelines import access, privacy, views
from pipelines.errors import AreaSafeError

viewer = common.require("batches")
st.title("Batches")
batches = privacy.read_batches(common.store(), viewer)
shown = views.batch_table(batches)
shown["withdrawn"] = batches["withdrawn_at"].dt.strftime("%Y-%m-%d").fillna("") if len(batches) else []
st.dataframe(views.for_people(shown), hide_index=True, width="stretch")
if flash := st.session_state.pop("b_flash", None):
    st.success(flash)

if viewer.may("delete_batch"):
    st.header("Delete a batch")
    st.caption(
        "For a CSO withdrawing consent, or data that must not be kept: every row the batch wrote is erased "
        "(incidents, rejected rows, raw copies). The batch stays in this list marked withdrawn, and the "
        "deletion is recorded in the audit log. This cannot be undone."
    )
    live = batches[batches["withdrawn_at"].isna()]
    names = dict(zip(live["batch_id"], live["file_name"] + " · " + live["org"].fillna("-"), strict=True))
    with st.form("delete_batch"):
        chosen = st.selectbox("Batch", list(names), index=None, format_func=lambda b: f"{names[b]} ({b[:8]})")
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
            st.session_state["b_flash"] = f"Deleted batch {chosen}: {removed:,} rows erased."
            st.rerun()
