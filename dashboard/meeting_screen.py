"""Meeting mode's screen for one agenda item: its columns, its summary and table, the decision form.

Place in the data flow: show. The page (``dashboard/app_pages/meeting.py``) picks the item; the parts
here draw it on one 1280x720 projector screen and save a decision through
:func:`pipelines.access.save_action` (permission, ``pipelines.act.actions.save_action``, audit entry).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import streamlit as st

from dashboard import common, forms, layout, panels
from pipelines import access, views
from pipelines.errors import AreaSafeError
from pipelines.privacy import Viewer

#: The summary's type on the projector.
SUMMARY_CSS = (
    "<style>.mm-summary {font-size: 1.3rem !important; line-height: 1.35; color: #000; margin-bottom: 0.4rem;}</style>"
)


def meeting_details(who: Viewer, code: str, month) -> None:
    """The sidebar's form for the meeting's date held and chair (:func:`pipelines.access.save_meeting`)."""
    with st.sidebar.expander("Meeting details (date held, chair)"), st.form("mm_meeting", border=False):
        held_on, chair = st.date_input("Held on", value=None, format="YYYY-MM-DD"), st.text_input("Chair")
        if st.form_submit_button("Save meeting details"):
            try:
                access.save_meeting(
                    common.store(),
                    who,
                    {"neighbourhood_code": code, "month": str(month), "held_on": held_on, "chair": chair},
                )
            except AreaSafeError as exc:
                common.show_error(exc)


#: A table of more columns than this is wide: it takes the whole width under the summary (and the map
#: beside it), and the decision form opens from a button beside them (at 1280 px, seven columns beside the
#: form were squeezed until a row of three interventions showed one).
WIDE_TABLE_COLUMNS = 5
#: An item's height under its heading at 1280x720, in pixels: beside the decision form, and with the form
#: in its button's pop-over (down to the page's last line).
ROOM_PX, WIDE_ROOM_PX = 440, 490


@dataclass(frozen=True)
class ItemColumns:
    """Where an item's parts go: the summary's place and span (of 12), the table's, the map's and the form's
    (``None`` when the item has no map or no form), the table's height budget in pixels, and the key of the
    map's container (its size comes from ``dashboard/layout.py``)."""

    summary: object
    span: int
    table: object
    map: object | None
    form: object | None
    room: int
    map_key: str = "map_mm"


def item_columns(item, section, png: bytes | None) -> ItemColumns:
    """The item's columns. A wide table (:data:`WIDE_TABLE_COLUMNS`): the summary, its map and the button
    that opens the decision form side by side, the table under them across the whole width. Otherwise the
    summary and table, the map and the form side by side."""
    if item.kind == "decisions":
        whole = st.container()
        return ItemColumns(whole, 12, whole, None, None, ROOM_PX)
    if len(section.table.columns) > WIDE_TABLE_COLUMNS:
        spans = [7, 3, 2] if png is not None else [10, 2]
        top = st.columns(spans, vertical_alignment="top")
        form = top[-1].popover("Record a decision", icon=":material/edit_note:", width="stretch")
        if png is None:
            return ItemColumns(top[0], spans[0], st.container(), None, form, WIDE_ROOM_PX)
        return ItemColumns(top[0], spans[0], st.container(), top[1], form, WIDE_ROOM_PX, "map_mm_beside")
    if png is None:
        shown, form_col = st.columns([8, 4])
        return ItemColumns(shown, 8, shown, None, form_col, ROOM_PX)
    shown, where, form_col = st.columns([5, 4, 3])
    return ItemColumns(shown, 5, shown, where, form_col, ROOM_PX)


def item_summary(item, section, columns: ItemColumns) -> None:
    """The item's summary sentence, its table (scrolling inside its box) and its notes (under the table, or
    under the summary when the table is under the summary's row)."""
    columns.summary.markdown(f"<p class='mm-summary'>{html.escape(section.summary)}</p>", unsafe_allow_html=True)
    below = columns.table is not columns.summary  # the table under the summary's row, across the width
    if len(section.table):  # long tables scroll inside their box: the item stays on one 1280x720 screen
        rows = views.first_rows(section.table, 15)
        # about 100 summary characters a line per 12 columns at 1280 px, 28 px a line
        lines = -(-len(section.summary) * 12 // (100 * columns.span)) if item.kind != "decisions" else 2
        words = 28 * lines + (50 if section.caveats else 0)
        beside = layout.MAP_BESIDE_SUMMARY_PX if below and columns.map is not None else 0
        room = columns.room - max(words, beside)
        with columns.table:
            panels.projector_table(rows, key="mm_table", height=max(140, min(46 + 110 * len(rows), room)))
    if section.caveats:
        with columns.summary if below else columns.table, st.expander("Notes on these numbers"):
            for caveat in section.caveats:
                st.caption(caveat)


def decision_form(agenda, item, code: str) -> dict | None:
    """The compact action form beside the item (or in the button's pop-over), pre-linked to it; the entered
    decision on submit."""
    st.markdown("**Record a decision**")
    context = agenda.context
    return forms.action_form(
        f"mm_form_{item.key}",
        item.links,
        interventions=context.neighbourhood_interventions,
        assets=views.rows_with(context.assets, "neighbourhood_code", [code]),
        submit="Record decision",
        compact=True,
    )


def save_decision(who: Viewer, record: dict, item, code: str, month) -> None:
    """Save a decision from :func:`decision_form` as an action of this meeting, as the logged-in account."""
    note = record.pop("_note") or f"Recorded in meeting mode ({item.title})"
    record |= {"neighbourhood_code": code, "month": str(month)}
    try:
        saved = access.save_action(common.store(), who, record, note=note)  # as the logged-in account
    except AreaSafeError as exc:
        common.show_error(exc)
    else:
        st.session_state["mm_flash"] = f"Recorded {saved['action_id']}: {saved['decision']}"
        st.rerun()
