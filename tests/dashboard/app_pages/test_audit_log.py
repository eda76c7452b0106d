"""The audit log in words: its events, roles and details (issue 18: "view_sensitive", "org: None; sso only:
False")."""

from __future__ import annotations

import re

import pytest

from pipelines.schemas import AUDIT_EVENT_WORDS, ROLE_WORDS
from pipelines.settings import STORE_ENV
from tests._helpers import ensure_user, page_as

CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")  # view_sensitive, act_member, sso_only ...


@pytest.fixture
def admin_page(demo_store, monkeypatch):
    monkeypatch.setenv(STORE_ENV, demo_store.url)
    for role in ("act_member", "planner"):
        ensure_user(demo_store, role)  # entries in the log, and rows in the Users table
    return lambda page: page_as(demo_store, page, "admin")


def test_audit_log_reads_events_roles_and_details_in_words(admin_page):
    log = admin_page("audit_log").dataframe[0].value
    assert len(log) and set(log["Event"]) <= set(AUDIT_EVENT_WORDS.values()), set(log["Event"])
    assert set(log["Role"]) - {""} <= set(ROLE_WORDS.values()), set(log["Role"])
    details = " | ".join(log["Detail"].astype(str))
    assert not re.search(r"\b(None|True|False|null)\b", details), details
    assert not CODE.search(details), CODE.findall(details)
