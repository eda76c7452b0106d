"""Fixtures of the page tests: an admin's session on the demo store, with other accounts in its log."""

from __future__ import annotations

import pytest

from pipelines.settings import STORE_ENV
from tests._helpers import ensure_user, page_as


@pytest.fixture
def admin_page(demo_store, monkeypatch):
    monkeypatch.setenv(STORE_ENV, demo_store.url)
    for role in ("act_member", "planner"):
        ensure_user(demo_store, role)  # entries in the log, and rows in the Users table
    return lambda page: page_as(demo_store, page, "admin")
