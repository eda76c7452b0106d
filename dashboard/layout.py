"""The dashboard's page chrome: its own styles and the phone's sidebar behaviour, applied by ``app.py`` on
every run before the page draws.

Place in the data flow: show (presentation only; no data passes through here). The styles are
``static/areasafe.css`` (served with the app, never from a CDN): they give the projector's height to the
map and make the phone usable with one thumb. On a screen narrow enough that the sidebar lies over the
page, choosing a page in it closes it; Streamlit does that only for a browser that calls itself a phone.
Choosing a meeting view (:data:`MEETING_VIEWS`) closes it on every screen: Streamlit collapses the sidebar
for ``initial_sidebar_state="collapsed"`` only when that setting changes, so the second meeting view of a
visit (ACT review, then meeting mode) kept it open.
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

STYLES = Path(__file__).parent / "static" / "areasafe.css"
#: Streamlit's "md" breakpoint: at or below it the sidebar overlays the page instead of sitting beside it.
OVERLAY_MAX_WIDTH_PX = 768
#: The pages laid out by :func:`meeting_view`, by their address (their file's name in ``app_pages/``):
#: choosing one in the sidebar closes the sidebar on any screen.
MEETING_VIEWS = ("act_review", "meeting")

# Installed once per browser tab (the flag survives reruns and page changes); it waits for Streamlit's
# own handling of the click, then closes the sidebar only if it is still open (over the page on a phone;
# anywhere when the page chosen is a meeting view).
_CLOSE_SIDEBAR_ON_NAVIGATION = f"""
<script>
(() => {{
  const root = window.parent && window.parent.document ? window.parent : window;
  if (root.__areasafeSidebarClose) return;
  root.__areasafeSidebarClose = true;
  const meetingViews = {json.dumps(MEETING_VIEWS)};
  root.document.addEventListener("click", (event) => {{
    const link = event.target.closest && event.target.closest('[data-testid="stSidebarNav"] a');
    if (!link) return;
    const meeting = meetingViews.includes(new URL(link.href, root.location.href).pathname.split("/").pop());
    if (!meeting && root.innerWidth > {OVERLAY_MAX_WIDTH_PX}) return;
    root.setTimeout(() => {{
      const sidebar = root.document.querySelector('[data-testid="stSidebar"]');
      const close = root.document.querySelector('[data-testid="stSidebarCollapseButton"] button');
      if (sidebar && close && sidebar.getAttribute("data-collapsed") !== "true") close.click();
    }}, 50);
  }}, true);
}})();
</script>
"""


def apply() -> None:
    """Add the styles and the phone's sidebar behaviour to the page being drawn (takes no space)."""
    st.html(STYLES)
    with st.sidebar.container(key="areasafe_chrome"):
        st.html(_CLOSE_SIDEBAR_ON_NAVIGATION, unsafe_allow_javascript=True)


#: Height of meeting mode's map beside the summary of a wide table (``dashboard.meeting_screen``).
MAP_BESIDE_SUMMARY_PX = 200

#: Meeting views on a 1280x720 projector: the whole width, tables that wrap inside their column (a column
#: never runs off the right edge), and a map no taller than the room an agenda item has.
_MEETING_CSS = """<style>
[data-testid='stMainBlockContainer'] {max-width: 100%; padding: 3.6rem 1.5rem 1rem;}
[data-testid='stMain'] [data-testid='stHeading'] h1 {font-weight: 800; color: #000; line-height: 1.15;
  font-size: 3rem; padding: 0.1rem 0;}
[data-testid='stMain'] [data-testid='stHeading'] h2 {font-size: 1.6rem; color: #000; padding: 0.2rem 0;}
[data-testid='stHeading'] h1 span, [data-testid='stHeading'] h2 span {font-size: inherit;}
[data-testid='stMain'] [data-testid='stTable'] table {width: 100%; table-layout: auto;}
[data-testid='stMain'] [data-testid='stTable'] td, [data-testid='stMain'] [data-testid='stTable'] th
  {font-size: 1.05rem; color: #000; white-space: normal; overflow-wrap: break-word; padding: 0.3rem 0.45rem;}
[data-testid='stMain'] [class*='st-key-map'] img {max-height: 430px; width: auto; max-width: 100%; margin: 0 auto;}
[data-testid='stMain'] .st-key-map_mm_beside img {max-height: __BESIDE__px;}
[data-testid='stMain'] .st-key-map_act_interventions img {max-height: 280px; object-fit: contain; object-position: left;}
[data-testid='stMain'] [data-testid='stForm'] [data-testid='stVerticalBlock'] {gap: 0.45rem;}
</style>""".replace("__BESIDE__", str(MAP_BESIDE_SUMMARY_PX))


def meeting_view() -> None:
    """Lay a page out for the projector (ACT meeting review, meeting mode): the sidebar collapsed (its
    filters one click away), the whole width used, tables wrapped in their columns."""
    st.set_page_config(initial_sidebar_state="collapsed")
    st.markdown(_MEETING_CSS, unsafe_allow_html=True)
