"""Actions register: every ACT action of a neighbourhood, editable, with its full history.

Validation and the one-transaction save (current version plus history entry) are
``pipelines.act.actions.save_action``'s, called through :func:`pipelines.access.save_action` (permission,
save, audit entry); this page reads widgets and shows what the core returns.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import common, forms, loaders, sidebar
from pipelines import access, downloads, views
from pipelines.act import actions as register
from pipelines.errors import AreaSafeError
from pipelines.ingest.forms import record_for_form
from pipelines.schemas import ACTION_STATUSES

viewer = common.require("actions")
filters = sidebar.filters()
st.title("Actions register")
code = filters.neighbourhood
store = common.store()
current = register.read_actions(store, code)  # small, and edited here: read fresh, not cached
today = dt.date.today()
chosen_statuses = st.multiselect("Status", ACTION_STATUSES, default=["open", "blocked"], key="ar_status")
view = register.register_view(current, statuses=chosen_statuses, as_of=today)
cols = st.columns(3)
cols[0].metric("Actions shown", f"{len(view.shown):,}")
cols[1].metric(
    "Overdue today",
    f"{view.overdue:,}",
    help=f"Past their due date on {today.day} {today:%B %Y}. The meeting agenda counts what was overdue on the "
    "day of the meeting, so it can show fewer.",
)
cols[2].metric("Blocked", f"{view.blocked:,}")
st.dataframe(views.blank_missing(view.shown), hide_index=True, width="stretch")
common.offer_downloads(
    downloads.table_view("actions", {"actions": view.shown}, filters={"neighbourhood": code, "status": chosen_statuses}),
    key="ar_download",
    scope="for the Safe Neighbourhood in the sidebar and the statuses chosen above",
)  # fmt: skip
if flash := st.session_state.pop("ar_flash", None):
    st.success(flash)

st.header("Add or edit")
if code is None:
    st.info("Choose a Safe Neighbourhood in the sidebar to add or edit its actions.")
    st.stop()
labels = view.decisions
chosen = st.selectbox(
    "Action", [None, *labels], key="ar_edit", format_func=lambda a: "(add new)" if a is None else f"{a}: {labels[a]}"
)
month = st.text_input("Meeting month of a new action (YYYY-MM, blank: none)", key="ar_month") if not chosen else None
record = forms.action_form(
    f"ar_form_{chosen}",
    record_for_form(current, "action_id", chosen),
    interventions=views.rows_with(loaders.table("interventions", viewer), "neighbourhood_code", [code]),
    assets=views.rows_with(loaders.table("assets", viewer), "neighbourhood_code", [code]),
    submit="Save action",
)
if record is not None:
    note = record.pop("_note") or None
    record |= {"neighbourhood_code": code, "action_id": chosen} | ({"month": month} if month else {})
    try:
        saved = access.save_action(store, viewer, record, note=note)  # recorded and audited as the account
    except AreaSafeError as exc:
        common.show_error(exc)
    else:
        st.session_state["ar_flash"] = f"Saved {saved['action_id']} ({saved['status']})."
        st.rerun()

st.header("History" + (f" of {chosen}" if chosen else ""))
log = register.read_history(store, action_id=chosen, neighbourhood_code=None if chosen else code)
st.dataframe(views.blank_missing(register.history_table(log)), hide_index=True, width="stretch")
