"""Audit log (admins): who logged in, uploaded, edited, exported, deleted or viewed sensitive detail."""

from __future__ import annotations

import streamlit as st

from dashboard import common, loaders
from pipelines import audit, views
from pipelines.schemas import AUDIT_EVENT_WORDS, AUDIT_EVENTS

viewer = common.require("audit")
st.title("Audit log")
st.caption("Append-only: the store refuses to change or delete entries. Times are South African time.")
cols = st.columns(3)
event = cols[0].selectbox(
    "Event", AUDIT_EVENTS, index=None, key="a_event", placeholder="All events", format_func=AUDIT_EVENT_WORDS.get
)
user = cols[1].text_input("User", key="a_user") or None
limit = cols[2].number_input("Show at most", min_value=10, max_value=100_000, value=500, step=100, key="a_limit")
log = audit.read_log(common.store(), viewer, event=event, user=user, limit=int(limit))
st.metric("Entries shown", f"{len(log):,}")
st.dataframe(views.audit_rows(log, areas=loaders.areas()), hide_index=True, width="stretch")
