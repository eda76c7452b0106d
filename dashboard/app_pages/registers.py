"""Registers: view, add and edit ABCD assets and interventions; click the map to set a point.

Saves and imports are :func:`pipelines.access.save_register_record` and
:func:`~pipelines.access.import_register` (permission, then ``pipelines.ingest.forms`` or the register
import: validation, placing, the status log, the upload limits; then the audit entry, under the logged-in
account), drawn by :mod:`dashboard.register_forms`; this page only reads widgets.
"""

from __future__ import annotations

import streamlit as st

from dashboard import common, loaders, register_forms, sidebar
from pipelines import access, downloads, views
from pipelines.ingest import forms

viewer = common.require("registers")
filters = sidebar.filters()
st.title("Registers")
kind = st.radio("Register", list(register_forms.TEXT), horizontal=True, key="r_kind", format_func=str.capitalize)
id_col = access.REGISTER_IDS[kind]
choice_field, choices = register_forms.CHOICE[kind]
frame = loaders.table(kind, viewer)

shown_filter = st.multiselect(views.field_label(choice_field), choices, key=register_forms.key(kind, "filter"))
shown = views.rows_with(frame, choice_field, shown_filter)
st.metric(kind.capitalize(), f"{len(shown):,}")
st.dataframe(views.blank_missing(shown), hide_index=True, width="stretch")
common.offer_downloads(
    downloads.table_view(kind, {kind: shown}, areas=loaders.areas(), filters={views.field_label(choice_field): shown_filter}),
    key=register_forms.key(kind, "download"),
    scope="with the register and filter chosen above",
)  # fmt: skip
if flash := st.session_state.pop("r_flash", None):
    st.success(flash)

st.header("Add or edit")
names = views.names_by_id(frame, id_col)
chosen = st.selectbox(
    "Edit",
    [None, *sorted(names, key=names.get)],
    key=register_forms.key(kind, "edit"),
    format_func=lambda i: names.get(i, "(add new)"),
)
record = forms.record_for_form(frame, id_col, chosen)
register_forms.load_record(kind, chosen, record)

form_col, map_col = st.columns([3, 2])
with map_col:
    register_forms.pick_point(kind, frame, loaders.areas(), focus=filters.neighbourhood, record=record)
with form_col:
    entered = register_forms.record_form(kind)
if entered is not None:
    fields, note = entered
    register_forms.save(viewer, kind, fields, chosen, note)

if kind == "interventions":
    st.header("Status history")
    history = views.status_history(loaders.table("intervention_log", viewer), frame, intervention_id=chosen)
    st.dataframe(views.blank_missing(history), hide_index=True, width="stretch")

register_forms.import_file(viewer, kind)
