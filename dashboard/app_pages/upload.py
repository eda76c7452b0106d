"""Upload (CSOs): choose the file, check its columns, read the dry run in words, fix, confirm.

Uses the same ``pipelines.ingest`` functions as ``areasafe ingest`` (through ``pipelines.access``, which
adds the size and row limits, stores a cso's upload under its own organisation and audits the commit),
so a file gives the same batch here as on the command line. A file is prepared once per content and
options (``uploads.prepared_upload``), not on every rerun, and Confirm commits the one the dry run showed. The page never dead-ends: when the
columns cannot be found, or an option does not fit the file, it says so in words and keeps the column
choices and a preview of the file on screen. The dry run is :func:`pipelines.ingest.report.dry_run_report`,
the same report ``areasafe ingest incidents --dry-run`` prints.
"""

from __future__ import annotations

import hashlib
import re

import streamlit as st

from dashboard import common, loaders, uploads
from pipelines import access, privacy, views
from pipelines.errors import AreaSafeError, MissingLocationError
from pipelines.ingest import rejections, report
from pipelines.schemas import PLACED_KINDS, SOURCES
from pipelines.sources import tabular
from pipelines.sources.mapping import COLUMN_ROLES, FORMATS

NONE = "(none)"
MAIN_ROLES = ("lat", "lon", "date", "category", "description", "geopoint")
MORE_ROLES = tuple(r for r in COLUMN_ROLES if r not in MAIN_ROLES)
DATE_ORDERS = {
    "auto": "Work it out from the file",
    "dmy": "Day first (31/12/2025)",
    "mdy": "Month first (12/31/2025)",
    "ymd": "Year first (2025/12/31)",
}
IDENTICAL = {
    None: "As the layout suggests (kept for police.uk files, dropped otherwise)",
    True: "Keep them: separate people or events",
    False: "Drop them as copies",
}
FORMAT_WORDS = {"auto": "Detect it", "kobo": "KoboToolbox", "odk": "ODK Central", "police-uk": "data.police.uk"}


def plain(text: object) -> str:
    """Text from the file (column names, values) shown as it is, not as Markdown."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", str(text))


viewer = common.require("upload")
st.title("Upload incident reports")
st.caption("KoboToolbox, ODK Central, data.police.uk or plain CSV/Excel. Nothing is stored until you confirm.")
upload = st.file_uploader("Survey export", type=["csv", "tsv", "txt", "xlsx", "xlsm", "xls", "gz", "zip"], key="u_file")
cso = viewer.role == "cso"  # a CSO uploads community reports for its own organisation only
if cso:
    source, org = "community", viewer.org
    st.caption(f"Reports are stored as community reports of {plain(viewer.org)}.")
else:
    cols = st.columns(2)
    source = cols[0].selectbox("Source", SOURCES, index=SOURCES.index("community"), key="u_source")
    org = cols[1].text_input("Organisation", value="", key="u_org", placeholder="e.g. Harare CSF") or None

if upload is not None:
    data = upload.getvalue()
    tag = hashlib.sha256(data).hexdigest()[:8]  # widget keys per file, so a new file starts from its own guess
    state = st.session_state
    with st.expander("Options for this file", expanded=bool(state.get(f"u_{tag}_open"))):
        fmt = st.selectbox("Layout", FORMATS, format_func=lambda f: FORMAT_WORDS.get(f, f.capitalize()), key="u_format")
        date_format = st.selectbox(
            "Order of day, month and year in the dates",
            list(DATE_ORDERS),
            format_func=DATE_ORDERS.get,
            key=f"u_{tag}_dates",
        )
        sheets = tabular.sheet_names(data) if tabular.is_workbook(data) else []  # the bytes decide, not the name
        sheet = (
            st.selectbox(
                "Sheet", ["", *sheets], format_func=lambda s: s or "The sheet with the reports", key=f"u_{tag}_sheet"
            )
            if len(sheets) > 1
            else ""
        )
        keep_identical = st.selectbox(
            "Rows that are exactly alike (no record id)",
            list(IDENTICAL),
            format_func=IDENTICAL.get,
            key=f"u_{tag}_keep",
        )
    # The same options as the command line (--date-format, --sheet, --keep-identical-rows, --area-col).
    options = {}
    if date_format != "auto":
        options["date_format"] = date_format
    if sheet:
        options["sheet"] = sheet
    if keep_identical is not None:
        options["keep_identical_rows"] = keep_identical
    chosen = {role: state.get(f"u_{tag}_{role}") for role in COLUMN_ROLES}
    overrides = {role: ("" if value == NONE else value) for role, value in chosen.items() if value is not None}
    if not overrides.get("area"):
        overrides.pop("area", None)
    else:
        options["area_kind"] = state.get(f"u_{tag}_area_kind") or PLACED_KINDS[0]

    prepared = problem = None
    try:
        ready = uploads.prepared_upload(  # once per file and options; Confirm commits the dry run on screen
            viewer,
            upload.name,
            data,
            confirming=bool(state.get("u_confirm")),
            source=source,
            org=org,
            format=fmt,
            overrides=overrides,
            **options,
        )
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
        st.warning(plain(problem))
    if columns is None:
        st.info(
            "Change the date order or the sheet under 'Options for this file' above, or fix the file in a "
            "spreadsheet and upload it again."
        )
        st.stop()

    st.subheader("Which column is which")
    for note in report.mapping_notes(mapping):
        st.caption(plain(note))
    options_list = [NONE, *columns]

    def choose(role: str, where) -> None:
        current = getattr(mapping, role, None) or NONE
        where.selectbox(
            report.ROLE_LABELS[role], options_list, index=options_list.index(current), key=f"u_{tag}_{role}"
        )

    for pair in (MAIN_ROLES[i : i + 2] for i in range(0, len(MAIN_ROLES), 2)):  # pairs stay in order on a phone
        for role, where in zip(pair, st.columns(2), strict=True):
            choose(role, where)
    with st.expander("More columns: record number, projected x/y, area name", expanded=False):
        for role in MORE_ROLES:
            choose(role, st)
        if state.get(f"u_{tag}_area") not in (None, NONE):
            st.selectbox("Kind of area the names are", PLACED_KINDS, key=f"u_{tag}_area_kind")
    with st.expander("The first rows of the file", expanded=prepared is None):
        st.dataframe(views.blank_missing(preview), hide_index=True, width="stretch")
    if prepared is None:
        st.stop()

    st.subheader("Dry run")
    for sentence in found.warnings:
        st.warning(plain(sentence))
    st.markdown(f"**{plain(found.headline)}**")
    with st.container(horizontal=True):  # side by side on a phone too, wrapping when they must
        for key in ("rows_read", "accepted", "rejected", "duplicates"):
            st.metric(key.replace("_", " ").capitalize(), f"{getattr(found, key):,}", width="content")
    for title, sentences in (("Rejected", found.rejections), ("Left out as duplicates", found.duplicate_reasons)):
        if sentences:
            st.markdown(f"**{title}**\n\n" + "\n".join(f"- {plain(s)}" for s in sentences))
    for note in found.notes:
        st.info(plain(note))
    which = st.radio("Show", ["Rows to check", "All rows"], horizontal=True, key=f"u_{tag}_which")
    rows = report.report_rows(prepared, areas=loaders.areas(), only_problems=which == "Rows to check")
    st.dataframe(views.blank_missing(rows), hide_index=True, width="stretch")
    if len(prepared.rejections):
        st.download_button(
            f"Download the {len(prepared.rejections):,} rejected rows to fix (CSV)",
            rejections.as_original_file(prepared.rejections, prepared.columns, empty=prepared.mapping.personal),
            file_name=f"rejected-{upload.name.rsplit('.', 1)[0]}.csv",
            mime="text/csv",
            width="stretch",
            key="u_rejected",
        )
        st.caption("Fix the rows in a spreadsheet, keep the header, and upload the file here again.")
    if st.button("Confirm and store", type="primary", key="u_confirm", width="stretch"):
        try:
            batch = access.commit_upload(common.store(), viewer, prepared)
        except AreaSafeError as exc:
            common.show_error(exc)
            st.stop()
        st.success(f"Stored batch {batch.batch_id[:8]}: {batch.accepted:,} reports accepted.")
        if batch.rejected:
            st.info("The rejected rows can be downloaded above, or later from the Batches page.")

st.subheader("Batch history" + (f": {plain(viewer.org)}" if cso else ""))
st.dataframe(
    views.for_people(views.batch_table(privacy.read_batches(common.store(), viewer))), hide_index=True, width="stretch"
)
