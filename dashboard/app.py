"""AreaSafe dashboard entry point: ``streamlit run dashboard/app.py`` from the repository root.

Place in the data flow: show. Registers the pages the viewer's role may use (the public gets the map,
the profile and the login page; ``pipelines.privacy.PERMISSIONS`` says who gets what); each page reads
widgets, calls ``pipelines`` functions and renders what they return, and checks its permission again.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` puts dashboard/ on the path, not the repository root
    sys.path.insert(0, str(ROOT))

from dashboard import common, layout  # noqa: E402 - needs the repository root on the path

# Not named "pages": Streamlit lists every file of a "pages" folder next to the main script in the sidebar
# whenever the registered page set changes (here: at login), whatever st.navigation says.
PAGES = Path(__file__).parent / "app_pages"
#: (section, file, title, icon, action it needs)
NAVIGATION = (
    ("Explore", "map_explorer.py", "Map explorer", ":material/map:", "map"),
    ("Explore", "profile.py", "Neighbourhood profile", ":material/insights:", "profile"),
    ("Explore", "ward.py", "Ward view", ":material/account_balance:", "ward"),
    ("Explore", "act_review.py", "ACT meeting review", ":material/groups:", "act_review"),
    ("Explore", "glossary.py", "What the words mean", ":material/menu_book:", "glossary"),
    ("ACT", "meeting.py", "Meeting mode", ":material/co_present:", "meeting"),
    ("ACT", "actions.py", "Actions register", ":material/task_alt:", "actions"),
    ("Data", "upload.py", "Upload", ":material/upload_file:", "upload"),
    ("Data", "batches.py", "Batches", ":material/inventory_2:", "batches"),
    ("Data", "registers.py", "Registers", ":material/list_alt:", "registers"),
    ("Data", "data_quality.py", "Data quality", ":material/fact_check:", "data_quality"),
    ("Admin", "users.py", "Users", ":material/manage_accounts:", "users"),
    ("Admin", "audit_log.py", "Audit log", ":material/policy:", "audit"),
)

st.set_page_config(
    page_title="AreaSafe", page_icon=str(Path(__file__).parent / "static" / "areasafe.png"), layout="wide"
)
layout.apply()  # the app's own styles (projector and phone) and the phone's sidebar behaviour
viewer = common.check_session()  # once per run: pages then ask common.viewer()
common.sync_cookie()
sections: dict[str, list] = {}
for section, file, title, icon, action in NAVIGATION:
    if viewer.may(action):
        page = st.Page(PAGES / file, title=title, icon=icon, default=file == "map_explorer.py")
        sections.setdefault(section, []).append(page)
account = "Log in" if viewer.is_public else "Account"
sections["Account"] = [st.Page(PAGES / "login.py", title=account, icon=":material/login:")]
st.sidebar.caption(f"Signed in as {viewer.label}" if not viewer.is_public else "Public view: aggregated counts only")
st.navigation(sections, expanded=True).run()  # every page listed: no "View more" to find
