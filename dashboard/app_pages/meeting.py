"""Meeting mode: the ACT agenda one screen per item, projector-sized, keyboard-driven; decisions become actions.

Next/previous: PageDown/PageUp (presentation clickers send these) or the right/left arrow keys
(``common.pager``, Streamlit's own button shortcuts: no custom script). The agenda comes from ``pipelines.act.agenda``; the
form saves through :func:`pipelines.access.save_action` (permission, ``pipelines.act.actions.save_action``:
one transaction with its history entry, then the audit entry).
"""

from __future__ import annotations

import html

import streamlit as st

from dashboard import common, forms, layout, loaders, sidebar
from pipelines import access
from pipelines.act.pack import agenda_section
from pipelines.errors import AreaSafeError

layout.meeting_view()  # sidebar collapsed, whole width: one agenda item per 1280x720 screen
st.markdown(
    "<style>.mm-summary {font-size: 1.3rem !important; line-height: 1.35; color: #000; margin-bottom: 0.4rem;}</style>",
    unsafe_allow_html=True,
)
viewer = common.require("meeting")
filters = sidebar.filters()
_, months = loaders.neighbourhood_incidents(filters)
month = st.sidebar.selectbox("Meeting month", months, key="mm_month", format_func=str)
code = filters.neighbourhood
with st.sidebar.expander("Meeting details (date held, chair)"), st.form("mm_meeting", border=False):
    held_on, chair = st.date_input("Held on", value=None, format="YYYY-MM-DD"), st.text_input("Chair")
    if st.form_submit_button("Save meeting details"):
        try:
            access.save_meeting(
                common.store(),
                viewer,
                {"neighbourhood_code": code, "month": str(month), "held_on": held_on, "chair": chair},
            )
        except AreaSafeError as exc:
            common.show_error(exc)
agenda = loaders.agenda(code, month, include_partial=filters.include_partial)
count = len(agenda.items)
index = common.pager(count, key="mm", reset_on=f"{code}|{month}")
item = agenda.items[index]
section = agenda_section(str(index + 1), item, agenda)
if flash := st.session_state.pop("mm_flash", None):
    st.success(flash)
with st.container(key="mm_item"):  # one screen: heading, numbers, map and decision controls
    st.title(f"{section.number}. {section.title}")
    png = loaders.item_map(code, month, item.key, include_partial=filters.include_partial)
    if item.kind == "decisions":
        spans, shown, where, form_col = [12], st.container(), None, None
    elif png is not None:  # a table of many columns takes room from the map, not from the form
        spans = [6, 3, 3] if len(section.table.columns) > 3 else [5, 4, 3]
        shown, where, form_col = st.columns(spans)
    else:
        spans = [8, 4]
        shown, form_col = st.columns(spans)
        where = None
    with shown:
        st.markdown(f"<p class='mm-summary'>{html.escape(section.summary)}</p>", unsafe_allow_html=True)
        if len(section.table):  # long tables scroll inside their box: the item stays on one 1280x720 screen
            rows = section.table.head(15).set_index(section.table.columns[0])
            # about 100 summary characters a line per 12 columns at 1280 px, 28 px a line
            lines = -(-len(section.summary) * 12 // (100 * spans[0])) if item.kind != "decisions" else 2
            room = 440 - 28 * lines - (50 if section.caveats else 0)
            st.table(rows, height=max(140, min(46 + 110 * len(rows), room)))
        if section.caveats:
            with st.expander("Notes on these numbers"):
                for caveat in section.caveats:
                    st.caption(caveat)
    if where is not None:
        with where, st.container(key="map_mm"):
            st.image(png, width="stretch")
    if form_col is not None:
        with form_col:
            st.markdown("**Record a decision**")
            context = agenda.context
            record = forms.action_form(
                f"mm_form_{item.key}",
                item.links,
                interventions=context.neighbourhood_interventions,
                assets=context.assets[context.assets["neighbourhood_code"] == code],
                submit="Record decision",
                compact=True,
            )
        if record is not None:
            note = record.pop("_note") or f"Recorded in meeting mode ({item.title})"
            record |= {"neighbourhood_code": code, "month": str(month)}
            try:
                saved = access.save_action(common.store(), viewer, record, note=note)  # as the logged-in account
            except AreaSafeError as exc:
                common.show_error(exc)
            else:
                st.session_state["mm_flash"] = f"Recorded {saved['action_id']}: {saved['decision']}"
                st.rerun()
st.caption(
    f"{agenda.context.name}, meeting of {agenda.context.as_of:%d %b %Y}. Keys: PageDown/→ next, PageUp/← previous."
)
