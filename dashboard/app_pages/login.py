"""Log in (username and password, or single sign-on when configured) and log out.

Throttling, session expiry and the audit entries live in ``pipelines.auth``, keeping the session across
reloads in ``dashboard.common`` (start_session, end_session); this page only reads the form. A login
lands on the map.
"""

from __future__ import annotations

import streamlit as st

from dashboard import common
from pipelines import auth, views

viewer = common.viewer()
if flash := st.session_state.pop(common.FLASH_KEY, None):
    st.warning(flash)

if not viewer.is_public:
    st.title("Account")
    st.write(
        f"Signed in as **{viewer.username}**, role **{views.role_words(viewer.role)}**"
        + (f", {viewer.org}" if viewer.org else "")
    )
    if st.button("Log out", key="logout", type="primary"):
        via = st.session_state[common.SESSION_KEY].via
        common.end_session()
        if via == "sso":
            st.logout()
        st.rerun()
    st.stop()

st.title("Log in")
st.caption("Without logging in you see the public view: counts per area and hexagon, small counts shown as <5.")
with st.form("login"):
    username = st.text_input("Username", key="login_user")
    password = st.text_input("Password", type="password", key="login_password")
    submitted = st.form_submit_button("Log in", type="primary")
if submitted:
    try:
        session = auth.authenticate(common.store(), username, password)
    except auth.AuthError as exc:
        common.show_error(exc)
    else:
        common.start_session(session)
        st.switch_page(common.LANDING_PAGE)  # where the work is, not this near-empty page
if common.sso_configured():
    st.button("Log in with single sign-on", key="login_sso", on_click=st.login)
    user = getattr(st, "user", None)
    if user is not None and user.get("is_logged_in"):
        st.info(f"Signed in as {user.get('email')}, which has no AreaSafe account: you see the public view.")
