"""The registers page's parts: the map that sets a record's point, the record's form, and the file import.

Place in the data flow: show. Saves and imports go through :func:`pipelines.access.save_register_record`
and :func:`pipelines.access.import_register` (permission, validation and placing, the audit entry); the
widgets' keys are the page's (``r_<register>_<field>``), so a chosen record fills the form once.
"""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from dashboard import common
from pipelines import access, mapview, views
from pipelines.errors import AreaSafeError
from pipelines.privacy import Viewer
from pipelines.schemas import ABCD_CATEGORIES, COLUMNS, INTERVENTION_STATUSES

TEXT = {
    "assets": ("name", "type", "custodian", "external_id"),
    "interventions": ("name", "type", "lead", "partners", "budget_zar", "financial_year", "start", "end"),
}
CHOICE = {"assets": ("abcd_category", ABCD_CATEGORIES), "interventions": ("status", INTERVENTION_STATUSES)}
CONSENT = {"none": "No consent recorded: admins only", "act": "Officials (ACT, planners)", "partners": "All partners"}


def key(kind: str, field: str) -> str:
    """A widget's key: one per register and field."""
    return f"r_{kind}_{field}"


def fields(kind: str) -> tuple[str, ...]:
    """Every field the form of ``kind`` holds, the point and (for an asset) the consent included."""
    return (*TEXT[kind], CHOICE[kind][0], "lon", "lat", *(["sharing_consent"] if kind == "assets" else []))


def load_record(kind: str, chosen: str | None, record: dict) -> None:
    """Fill the form from the stored ``record`` when another one is chosen (not on every rerun)."""
    if st.session_state.get(key(kind, "loaded"), "-") == chosen:
        return
    for field in (*TEXT[kind], CHOICE[kind][0], "lon", "lat", "sharing_consent"):
        value = record.get(field)
        kept = field in ("lon", "lat", CHOICE[kind][0], "sharing_consent")
        st.session_state[key(kind, field)] = value if kept else str(value or "")
    st.session_state[key(kind, "loaded")] = chosen


def pick_point(kind: str, frame, areas, *, focus: str | None, record: dict) -> None:
    """The offline map beside the form: a click sets the point (and redraws the map with the marker)."""
    point = (st.session_state.get(key(kind, "lon")), st.session_state.get(key(kind, "lat")))
    picked = st_folium(
        mapview.pick_map(areas, focus=focus, point=point if None not in point else None, **{kind: frame}),
        height=430,
        use_container_width=True,
        key=key(kind, "map"),
        returned_objects=["last_clicked"],
    )
    clicked = mapview.clicked_point(picked)
    if clicked and clicked != st.session_state.get(key(kind, "click")):
        st.session_state[key(kind, "click")] = clicked
        st.session_state[key(kind, "lon")], st.session_state[key(kind, "lat")] = clicked
        st.rerun()  # redraw with the marker where the user clicked
    st.caption("Click the map to set the point.")
    if record.get("geometry_type") not in (None, "Point"):
        st.caption(f"Stored as a {record['geometry_type']}: it is kept unless you set a point.")


def record_form(kind: str) -> tuple[dict, str] | None:
    """The record's form; on Save, the entered fields and the note for the status history."""
    choice_field, choices = CHOICE[kind]
    with st.form(key(kind, "form")):
        for field in TEXT[kind]:
            st.text_input(views.field_label(field), key=key(kind, field))
        st.selectbox(views.field_label(choice_field), choices, index=None, key=key(kind, choice_field))
        if kind == "assets":
            st.selectbox("If the asset is a person: who they agreed may see it", list(CONSENT), index=None,
                         format_func=CONSENT.get, key=key(kind, "sharing_consent"))  # fmt: skip
        cols = st.columns(2)
        cols[0].number_input("Latitude", value=None, format="%.6f", key=key(kind, "lat"))
        cols[1].number_input("Longitude", value=None, format="%.6f", key=key(kind, "lon"))
        note = st.text_input("Note for the status history (what changed, what blocks it)", key=key(kind, "note"))
        if not st.form_submit_button("Save", type="primary"):
            return None
    return {field: st.session_state[key(kind, field)] for field in fields(kind)}, note


def save(who: Viewer, kind: str, entered: dict, chosen: str | None, note: str) -> None:
    """Save the record (a new one when ``chosen`` is None) and reload the form from the store."""
    try:
        batch = access.save_register_record(
            common.store(), who, kind, {**entered, access.REGISTER_IDS[kind]: chosen}, note=note
        )
    except AreaSafeError as exc:
        common.show_error(exc)
    else:
        where = "outside every area" if batch.outside_areas else "placed in its neighbourhood"
        st.session_state["r_flash"] = f"Saved {entered['name']!r} ({where}; batch {batch.batch_id})."
        st.session_state[key(kind, "loaded")] = "-"  # reload the form from the store
        st.rerun()


def import_file(who: Viewer, kind: str) -> None:
    """The expander that imports a register file (CSV, Excel, GeoJSON) and shows what became of its rows."""
    with st.expander(f"Import {kind} from a file (CSV, Excel, GeoJSON)"):
        upload = st.file_uploader(
            "Register file", type=["csv", "xlsx", "xls", "geojson", "gpkg"], key=key(kind, "file")
        )
        if kind == "assets":
            fill = st.selectbox("ABCD category for rows without one", [None, *ABCD_CATEGORIES], key=key(kind, "fill"))
        if upload is None or not st.button("Import", key=key(kind, "import")):
            return
        try:
            options = {"abcd_category": fill} if kind == "assets" else {}
            batch = access.import_register(common.store(), who, kind, upload.name, upload.getvalue(), **options)
        except AreaSafeError as exc:
            common.show_error(exc)
        else:
            st.success(f"Batch {batch.batch_id}: {batch.accepted:,} accepted, {batch.rejected:,} rejected.")
            st.json(batch.summary())
            rejected = common.store().read_rejections(batch.batch_id)
            st.dataframe(
                views.blank_missing(rejected[[COLUMNS.row_number, COLUMNS.reason, COLUMNS.message]]), hide_index=True
            )
