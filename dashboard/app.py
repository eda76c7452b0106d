"""AreaSafe dashboard entry point: ``streamlit run dashboard/app.py`` from the repository root.

Place in the data flow: show. Registers the pages; each page reads widgets, calls ``pipelines``
functions and renders what they return.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` puts dashboard/ on the path, not the repository root
    sys.path.insert(0, str(ROOT))

PAGES = Path(__file__).parent / "pages"

st.set_page_config(
    page_title="AreaSafe", page_icon=str(Path(__file__).parent / "static" / "areasafe.png"), layout="wide"
)
navigation = st.navigation(
    {
        "Explore": [
            st.Page(PAGES / "map_explorer.py", title="Map explorer", icon=":material/map:", default=True),
            st.Page(PAGES / "profile.py", title="Neighbourhood profile", icon=":material/insights:"),
            st.Page(PAGES / "act_review.py", title="ACT meeting review", icon=":material/groups:"),
        ],
        "ACT": [
            st.Page(PAGES / "meeting.py", title="Meeting mode", icon=":material/co_present:"),
            st.Page(PAGES / "actions.py", title="Actions register", icon=":material/task_alt:"),
        ],
        "Data": [
            st.Page(PAGES / "upload.py", title="Upload (CSOs)", icon=":material/upload_file:"),
            st.Page(PAGES / "registers.py", title="Registers", icon=":material/list_alt:"),
            st.Page(PAGES / "data_quality.py", title="Data quality", icon=":material/fact_check:"),
        ],
    }
)
navigation.run()
