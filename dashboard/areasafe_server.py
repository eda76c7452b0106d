"""The dashboard's web server: Streamlit's app (``app.py``) plus the session-cookie, readiness and map-file
routes.

Place in the data flow: show. ``streamlit run dashboard/areasafe_server.py`` (what ``areasafe serve``
and ``dashboard/launch.py`` run) finds the ``st.App`` below and serves ``app.py`` with the routes of
:mod:`dashboard.session_routes`, :mod:`dashboard.readiness` and :mod:`dashboard.map_files` beside it, on
the same port and origin; ``streamlit run dashboard/app.py`` still serves the app alone (logins then last
until the page is reloaded, and each map carries its road lines inline).
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` puts dashboard/ on the path, not the repository root
    sys.path.insert(0, str(ROOT))

from dashboard import map_files, readiness, session_routes  # noqa: E402 - needs the repository root on the path

app = st.App(
    Path(__file__).resolve().parent / "app.py", routes=session_routes.routes() + readiness.routes() + map_files.routes()
)
