"""Meeting mode: the ACT agenda one screen per item, projector-sized, keyboard-driven; decisions become actions.

Next/previous: PageDown/PageUp (presentation clickers send these) or the right/left arrow keys
(``common.pager``, Streamlit's own button shortcuts: no custom script). The agenda comes from
``pipelines.act.agenda``; each item is drawn by :mod:`dashboard.meeting_screen`, whose form saves through
:func:`pipelines.access.save_action` (permission, ``pipelines.act.actions.save_action``: one transaction
with its history entry, then the audit entry).
"""

from __future__ import annotations

import streamlit as st

from dashboard import common, layout, loaders, meeting_screen, sidebar
from pipelines.act.pack import agenda_section
from pipelines.periods import month_words

layout.meeting_view()  # sidebar collapsed, whole width: one agenda item per 1280x720 screen
st.markdown(meeting_screen.SUMMARY_CSS, unsafe_allow_html=True)
viewer = common.require("meeting")
filters = sidebar.filters()
_, months = loaders.neighbourhood_incidents(filters)
month = st.sidebar.selectbox("Meeting month", months, key="mm_month", format_func=month_words)
code = filters.neighbourhood
meeting_screen.meeting_details(viewer, code, month)
agenda = loaders.agenda(code, month, include_partial=filters.include_partial)
index = common.pager(len(agenda.items), key="mm", reset_on=f"{code}|{month}")
item = agenda.items[index]
section = agenda_section(str(index + 1), item, agenda)
if flash := st.session_state.pop("mm_flash", None):
    st.success(flash)
with st.container(key="mm_item"):  # one screen: heading, numbers, map and decision controls
    st.title(f"{section.number}. {section.title}")
    png = loaders.item_map(code, month, item.key, include_partial=filters.include_partial)
    columns = meeting_screen.item_columns(item, section, png)
    meeting_screen.item_summary(item, section, columns)
    if columns.map is not None:
        with columns.map, st.container(key=columns.map_key):
            st.image(png, width="stretch")
    if columns.form is not None:
        with columns.form:
            record = meeting_screen.decision_form(agenda, item, code)
        if record is not None:
            meeting_screen.save_decision(viewer, record, item, code, month)
st.caption(
    f"{agenda.context.name}, meeting of {agenda.context.as_of:%d %b %Y}. Keys: PageDown/→ next, PageUp/← previous."
)
