"""The Users page in words: its headers and roles (issue 18: "Sso only", "act_member")."""

from __future__ import annotations

import pytest

from pipelines.schemas import ROLE_WORDS
from pipelines.settings import STORE_ENV
from tests._helpers import ensure_user, page_as


@pytest.fixture
def admin_page(demo_store, monkeypatch):
    monkeypatch.setenv(STORE_ENV, demo_store.url)
    for role in ("act_member", "planner"):
        ensure_user(demo_store, role)  # entries in the log, and rows in the Users table
    return lambda page: page_as(demo_store, page, "admin")


def test_users_table_has_headers_and_roles_in_words(admin_page):
    users = admin_page("users").dataframe[0].value
    assert "Single sign-on only" in users.columns and "Sso only" not in users.columns, list(users.columns)
    assert set(users["Role"]) <= set(ROLE_WORDS.values()) and "ACT member" in set(users["Role"])
