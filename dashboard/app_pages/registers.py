"""Registers: view, add and edit ABCD assets and interventions; click the map to set a point.

Saves and imports are :func:`pipelines.access.save_register_record` and
:func:`~pipelines.access.import_register` (permission, then ``pipelines.ingest.forms`` or the register
import: validation, placing, the status log, the upload limits; then the audit entry, under the logged-in
account); this page only reads widgets.
"""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from dashboard import common, loaders, sidebar
from pipelines import access, downloads, mapview, views
from pipelines.errors import AreaSafeError
from pipelines.ingest import forms
from pipelines.schemas import ABCD_CATEGORIES, INTERVENTION_STATUSES

TEXT = {
    "assets": ("name", "type", "custodian", "external_id"),
    "interventions": ("name", "type", "lead", "partners", "budget_zar", "financial_year", "start", "end"),
}
CHOICE = {"assets": ("abcd_category", ABCD_CATEGORIES), "interventions": ("status", INTERVENTION_STATUSES)}
CONSENT = {"none": "No consent recorded: admins only", "act": "Officials (ACT, planners)", "partners": "All partners"}

viewer = common.require("registers")
filters = sidebar.filters()
st.title("Registers")
kind = st.radio("Register", list(TEXT), horizontal=True, key="r_kind", format_func=str.capitalize)
id_col = access.REGISTER_IDS[kind]
choice_field, choices = CHOICE[kind]
frame = loaders.table(kind, viewer)
key = lambda field: f"r_{kind}_{field}"  # noqa: E731 - widget keys per register

shown_filter = st.multiselect(views.field_label(choice_field), choices, key=key("filter"))
shown = frame[frame[choice_field].isin(shown_filter)] if shown_filter else frame
st.metric(kind.capitalize(), f"{len(shown):,}")
st.dataframe(views.blank_missing(shown), hide_index=True, width="stretch")
common.offer_downloads(
    downloads.table_view(kind, {kind: shown}, areas=loaders.areas(), filters={views.field_label(choice_field): shown_filter}),
    key=key("download"),
)  # fmt: skip
if flash := st.session_state.pop("r_flash", None):
    st.success(flash)

st.header("Add or edit")
names = dict(zip(frame[id_col], frame["name"], strict=True))
chosen = st.selectbox(
    "Edit", [None, *sorted(names, key=names.get)], key=key("edit"), format_func=lambda i: names.get(i, "(add new)")
)
record = forms.record_for_form(frame, id_col, chosen)
if st.session_state.get(key("loaded"), "-") != chosen:  # a new choice fills the form from the stored row
    for field in (*TEXT[kind], choice_field, "lon", "lat", "sharing_consent"):
        value = record.get(field)
        st.session_state[key(field)] = (
            value if field in ("lon", "lat", choice_field, "sharing_consent") else str(value or "")
        )
    st.session_state[key("loaded")] = chosen

form_col, map_col = st.columns([3, 2])
with map_col:
    point = (st.session_state.get(key("lon")), st.session_state.get(key("lat")))
    picked = st_folium(
        mapview.pick_map(
            loaders.areas(), focus=filters.neighbourhood, point=point if None not in point else None, **{kind: frame}
        ),
        height=430,
        use_container_width=True,
        key=key("map"),
        returned_objects=["last_clicked"],
    )
    clicked = mapview.clicked_point(picked)
    if clicked and clicked != st.session_state.get(key("click")):
        st.session_state[key("click")] = clicked
        st.session_state[key("lon")], st.session_state[key("lat")] = clicked
        st.rerun()  # redraw with the marker where the user clicked
    st.caption("Click the map to set the point.")
    if record.get("geometry_type") not in (None, "Point"):
        st.caption(f"Stored as a {record['geometry_type']}: it is kept unless you set a point.")

with form_col, st.form(key("form")):
    for field in TEXT[kind]:
        st.text_input(views.field_label(field), key=key(field))
    st.selectbox(views.field_label(choice_field), choices, index=None, key=key(choice_field))
    if kind == "assets":
        st.selectbox("If the asset is a person: who they agreed may see it", list(CONSENT), index=None,
                     format_func=CONSENT.get, key=key("sharing_consent"))  # fmt: skip
    cols = st.columns(2)
    cols[0].number_input("Latitude", value=None, format="%.6f", key=key("lat"))
    cols[1].number_input("Longitude", value=None, format="%.6f", key=key("lon"))
    note = st.text_input("Note for the status history (what changed, what blocks it)", key=key("note"))
    saved = st.form_submit_button("Save", type="primary")
if saved:
    fields = (*TEXT[kind], choice_field, "lon", "lat", *(["sharing_consent"] if kind == "assets" else []))
    entered = {field: st.session_state[key(field)] for field in fields}
    try:
        batch = access.save_register_record(common.store(), viewer, kind, {**entered, id_col: chosen}, note=note)
    except AreaSafeError as exc:
        common.show_error(exc)
    else:
        where = "outside every area" if batch.outside_areas else "placed in its neighbourhood"
        st.session_state["r_flash"] = f"Saved {entered['name']!r} ({where}; batch {batch.batch_id})."
        st.session_state[key("loaded")] = "-"  # reload the form from the store
        st.rerun()

if kind == "interventions":
    st.header("Status history")
    st.dataframe(
        views.blank_missing(
            views.status_history(loaders.table("intervention_log", viewer), frame, intervention_id=chosen)
        ),
        hide_index=True,
        width="stretch",
    )

with st.expander(f"Import {kind} from a file (CSV, Excel, GeoJSON)"):
    upload = st.file_uploader("Register file", type=["csv", "xlsx", "xls", "geojson", "gpkg"], key=key("file"))
    if kind == "assets":
        fill = st.selectbox("ABCD category for rows without one", [None, *ABCD_CATEGORIES], key=key("fill"))
    if upload is not None and st.button("Import", key=key("import")):
        try:
            options = {"abcd_category": fill} if kind == "assets" else {}
            batch = access.import_register(common.store(), viewer, kind, upload.name, upload.getvalue(), **options)
        except AreaSafeError as exc:
            common.show_error(exc)
        else:
            st.success(f"Batch {batch.batch_id}: {batch.accepted:,} accepted, {batch.rejected:,} rejected.")
            st.json(batch.summary())
            rejected = common.store().read_rejections(batch.batch_id)
            st.dataframe(views.blank_missing(rejected[["row_number", "reason", "message"]]), hide_index=True)
