"""The upload page's file, prepared once (not again on every rerun, nor again at Confirm), and its parts.

Place in the data flow: show, in front of ingest. :func:`prepared_upload` calls
:func:`pipelines.access.prepare_upload` (decoded, validated, placed; nothing written) and
:func:`pipelines.ingest.report.dry_run_report` once per file content, viewer, options and store data
version, and keeps the result in the browser session. The widgets below are the page's: the file's
options (the same as the command line's), which column is which, the dry run in words, the rejected rows.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass

import streamlit as st

from dashboard.common import show_error, store
from dashboard.loaders import data_version
from pipelines import access, plural, views
from pipelines.errors import AreaSafeError
from pipelines.ingest import rejections, report
from pipelines.privacy import Viewer
from pipelines.schemas import COLUMNS, PLACED_KINDS
from pipelines.sources import tabular
from pipelines.sources.mapping import COLUMN_ROLES, FORMATS

_PREPARED_KEY = "areasafe_prepared_uploads"
_SHOWN_KEY = "areasafe_prepared_shown"  # the key of the preparation whose dry run the page showed last
#: Prepared uploads one browser session keeps (each holds a parsed file): the one on screen and the one before
#: it, so going back to the previous options does not read the file again.
PREPARED_KEPT = 2


@dataclass(frozen=True)
class PreparedUpload:
    """An uploaded file prepared for the store (:func:`pipelines.access.prepare_upload`: decoded, validated,
    placed; nothing written) and its dry run in words (:func:`pipelines.ingest.report.dry_run_report`)."""

    prepared: object  # pipelines.ingest.incidents.PreparedIncidents
    dry_run: object  # pipelines.ingest.report.DryRunReport


def _frozen(value: object) -> object:
    """Options as a hashable key (the column choices are a dict)."""
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    return value


def prepared_upload(
    who: Viewer,
    name: str,
    data: bytes,
    *,
    overrides: dict | None = None,
    confirming: bool = False,
    **options,
) -> PreparedUpload:
    """The upload page's file prepared once: per content (its bytes' hash), viewer, options, column choices
    and store data version, kept in this browser session (the newest :data:`PREPARED_KEPT`), so a rerun of the
    page (another row filter, an expander opened) reads nothing again. An error is kept too, and raised again.

    Column choices (``overrides``) that only repeat what the file was read with when none were given (the
    page's column boxes start from that reading) are the same file prepared the same way, so they reuse it.
    ``confirming`` (the Confirm button was clicked) returns the file as the dry run on screen showed it, even
    when the store changed since, so the batch committed is the one the user read; otherwise a changed store
    (this upload committed, another one elsewhere) prepares the file again, so the dry run says what is
    already stored. ``name`` only labels the batch: the bytes are what is read and what the key is made of.
    """
    from pipelines import access
    from pipelines.ingest import report

    state = st.session_state
    kept: OrderedDict = state.setdefault(_PREPARED_KEY, OrderedDict())
    file = (hashlib.sha256(data).hexdigest(), name, store().url, who)
    key = base = (*file, _frozen(options), ())
    if overrides and not _repeats_reading(kept.get(base), overrides):
        key = (*file, _frozen(options), _frozen(overrides))
    shown = state.get(_SHOWN_KEY)
    if confirming and shown in kept and shown[: len(file)] == file:
        key = shown  # what the user read when they clicked
    version = data_version()
    found = kept.get(key)
    if found is None or not (confirming or found[0] == version):
        try:
            prepared = access.prepare_upload(store(), who, name, data, overrides=overrides, **options)
            found = (version, PreparedUpload(prepared, report.dry_run_report(prepared)))
        except AreaSafeError as exc:
            found = (version, exc)
        kept[key] = found
    kept.move_to_end(key)
    while len(kept) > PREPARED_KEPT:
        kept.popitem(last=False)
    state[_SHOWN_KEY] = key
    if isinstance(found[1], AreaSafeError):
        raise found[1]
    return found[1]


def _repeats_reading(found: tuple | None, overrides: dict) -> bool:
    """Whether every column choice is the one the file was read with (``found``: a kept preparation without
    choices); empty choices clear a role."""
    outcome = None if found is None else found[1]
    mapping = getattr(getattr(outcome, "prepared", None), "mapping", None) or getattr(outcome, "mapping", None)
    if mapping is None:
        return False
    return all((value or None) == getattr(mapping, role, None) for role, value in overrides.items())


# --------------------------------------------------------------------------------------------------
# The upload page's widgets
# --------------------------------------------------------------------------------------------------
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


def file_options(data: bytes, tag: str) -> tuple[str, dict]:
    """The layout and the options for this file (the command line's ``--date-format``, ``--sheet``,
    ``--keep-identical-rows``, ``--area-col``), each passed only when changed; widget keys per file (``tag``)."""
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
        sheet = ""
        if len(sheets) > 1:
            sheet = st.selectbox(
                "Sheet", ["", *sheets], format_func=lambda s: s or "The sheet with the reports", key=f"u_{tag}_sheet"
            )
        keep_identical = st.selectbox(
            "Rows that are exactly alike (no record id)",
            list(IDENTICAL),
            format_func=IDENTICAL.get,
            key=f"u_{tag}_keep",
        )
    options = {}
    if date_format != "auto":
        options["date_format"] = date_format
    if sheet:
        options["sheet"] = sheet
    if keep_identical is not None:
        options["keep_identical_rows"] = keep_identical
    return fmt, options


def column_overrides(tag: str, options: dict) -> dict:
    """The column choices made so far (``""`` clears a role); an area-name column adds its kind to ``options``."""
    state = st.session_state
    chosen = {role: state.get(f"u_{tag}_{role}") for role in COLUMN_ROLES}
    overrides = {role: ("" if value == NONE else value) for role, value in chosen.items() if value is not None}
    if not overrides.get(COLUMNS.area):
        overrides.pop("area", None)
    else:
        options[COLUMNS.area_kind] = state.get(f"u_{tag}_area_kind") or PLACED_KINDS[0]
    return overrides


def column_choices(tag: str, columns: list, mapping, preview, *, read: bool) -> None:
    """Which column is which (pairs that stay in order on a phone), the rarer roles one click away, and the
    file's first rows (open when the file could not be ``read``)."""
    st.subheader("Which column is which")
    for note in report.mapping_notes(mapping):
        st.caption(plain(note))
    options_list = [NONE, *columns]

    def choose(role: str, where) -> None:
        current = getattr(mapping, role, None) or NONE
        where.selectbox(
            report.ROLE_LABELS[role], options_list, index=options_list.index(current), key=f"u_{tag}_{role}"
        )

    for pair in (MAIN_ROLES[i : i + 2] for i in range(0, len(MAIN_ROLES), 2)):
        for role, where in zip(pair, st.columns(2), strict=True):
            choose(role, where)
    with st.expander("More columns: record number, projected x/y, area name", expanded=False):
        for role in MORE_ROLES:
            choose(role, st)
        if st.session_state.get(f"u_{tag}_area") not in (None, NONE):
            st.selectbox("Kind of area the names are", PLACED_KINDS, key=f"u_{tag}_area_kind")
    with st.expander("The first rows of the file", expanded=not read):
        st.dataframe(views.blank_missing(preview), hide_index=True, width="stretch")


def show_dry_run(found) -> None:
    """The dry run in words (:class:`pipelines.ingest.report.DryRunReport`): warnings first, then the counts,
    the reasons and the notes."""
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


def rejected_download(prepared, name: str) -> None:
    """The rejected rows as the uploaded file plus a reason column, to fix and upload again."""
    if not len(prepared.rejections):
        return
    st.download_button(
        rejections.download_label(len(prepared.rejections)),
        rejections.as_original_file(prepared.rejections, prepared.columns, empty=prepared.mapping.personal),
        file_name=f"rejected-{name.rsplit('.', 1)[0]}.csv",
        mime="text/csv",
        width="stretch",
        key="u_rejected",
    )
    st.caption("Fix the rows in a spreadsheet, keep the header, and upload the file here again.")


def confirm_and_store(who: Viewer, prepared, tag: str) -> None:
    """Confirm, then what storing gave. Once the file ``tag`` is stored its result stays on screen in the
    button's place: Confirm is not offered again for that file, so a second tap (easy on a phone) cannot
    follow the first."""
    state, stored = st.session_state, f"u_{tag}_stored"
    if stored not in state:
        slot = st.empty()  # the button is taken off the page in the run that stores
        if not slot.button("Confirm and store", type="primary", key="u_confirm", width="stretch"):
            return
        try:
            batch = access.commit_upload(store(), who, prepared)
        except AreaSafeError as exc:
            show_error(exc)
            st.stop()
        slot.empty()
        state[stored] = (batch.accepted, batch.rejected)
    accepted, rejected = state[stored]
    st.success(f"Stored: {plural.counted(accepted, 'report')} accepted. The file is in the batch history below.")
    if rejected:
        st.info("The rejected rows can be downloaded above, or later from the Batches page.")
