"""Users (admins): list accounts, add one, disable or enable, change a role, set a password.

Every change goes through ``pipelines.auth`` (argon2 hashes, checks, audit entries).
"""

from __future__ import annotations

import streamlit as st

from dashboard import common
from pipelines import auth, views
from pipelines.errors import AreaSafeError
from pipelines.ingest import forms
from pipelines.schemas import COLUMNS, USER_ROLES

viewer = common.require("users")
st.title("Users")
users = auth.list_users(common.store(), viewer)
st.dataframe(views.for_people(users), hide_index=True, width="stretch")
if flash := st.session_state.pop("us_flash", None):
    st.success(flash)


def attempt(action, done: str) -> None:
    try:
        action()
    except AreaSafeError as exc:
        common.show_error(exc)
    else:
        st.session_state["us_flash"] = done
        st.rerun()


left, right = st.columns(2)
with left, st.form("add_user", clear_on_submit=True):
    st.subheader("Add an account")
    name = st.text_input("Username", key="us_name")
    role = st.selectbox("Role", USER_ROLES, index=None, key="us_role", format_func=views.role_words)
    org = st.text_input("Organisation (CSO accounts)", key="us_org") or None
    password = st.text_input("Password", type="password", key="us_password")
    if st.form_submit_button("Add", type="primary"):
        attempt(
            lambda: auth.add_user(common.store(), name, role=role or "", org=org, password=password, actor=viewer),
            f"Added {name}.",
        )
with right:
    st.subheader("Change an account")
    chosen = st.selectbox("Account", list(users[COLUMNS.username]), index=None, key="us_chosen")
    if chosen:
        row = forms.record_for_form(users, "username", chosen)
        new_role = st.selectbox(
            "Role",
            USER_ROLES,
            index=USER_ROLES.index(row[COLUMNS.role]),
            key="us_new_role",
            format_func=views.role_words,
        )
        new_org = st.text_input("Organisation", value=row[COLUMNS.org] or "", key="us_new_org") or None
        cols = st.columns(3)
        if cols[0].button("Save role", key="us_set_role"):
            attempt(lambda: auth.set_role(common.store(), chosen, new_role, org=new_org, actor=viewer), "Role saved.")
        verb = "Enable" if row[COLUMNS.disabled] else "Disable"
        if cols[1].button(verb, key="us_toggle"):
            attempt(
                lambda: auth.set_disabled(common.store(), chosen, not row[COLUMNS.disabled], actor=viewer),
                f"{verb}d {chosen}.",
            )
        new_password = st.text_input("New password", type="password", key="us_new_password")
        if cols[2].button("Set password", key="us_set_password"):
            attempt(lambda: auth.set_password(common.store(), chosen, new_password, actor=viewer), "Password set.")
