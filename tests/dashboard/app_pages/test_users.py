"""The Users page in words: its headers and roles (issue 18: "Sso only", "act_member")."""

from __future__ import annotations

from pipelines.schemas import ROLE_WORDS


def test_users_table_has_headers_and_roles_in_words(admin_page):
    users = admin_page("users").dataframe[0].value
    assert "Single sign-on only" in users.columns and "Sso only" not in users.columns, list(users.columns)
    assert set(users["Role"]) <= set(ROLE_WORDS.values()) and "ACT member" in set(users["Role"])
