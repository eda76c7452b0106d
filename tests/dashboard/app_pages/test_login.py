"""The login page in AppTest: log in, see the role's pages, fail and get throttled, expire, log out."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.common import SESSION_KEY
from pipelines import audit, auth
from pipelines.privacy import operator
from pipelines.settings import SETTINGS, STORE_ENV
from tests._helpers import PASSWORD, ensure_user

APP = str(Path(__file__).resolve().parents[3] / "dashboard" / "app.py")


@pytest.fixture
def login_app(demo_store, monkeypatch):
    monkeypatch.setenv(STORE_ENV, demo_store.url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/login.py").run()
    assert at.title[0].value == "Log in"
    return at


def _submit(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="login_user").set_value(username)
    at.text_input(key="login_password").set_value(password)
    return next(b for b in at.button if b.label == "Log in").click().run()


def _usable(at: AppTest) -> set[str]:
    """Pages that render for this session (the others stop with "may not use")."""
    found = set()
    for name in (
        "act_review",
        "meeting",
        "actions",
        "upload",
        "registers",
        "data_quality",
        "batches",
        "users",
        "audit_log",
    ):
        try:
            at.switch_page(f"app_pages/{name}.py")
        except ValueError:  # not registered for this role
            continue
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        if at.title and not any("may not use" in w.value for w in at.warning):
            found.add(name)
    return found


def test_login_shows_the_roles_pages(login_app, demo_store):
    username = ensure_user(demo_store, "planner")
    at = _submit(login_app, username, PASSWORD)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Map explorer"  # a login lands on the map, not the account page
    assert at.sidebar.caption[0].value == f"Signed in as {username} (Planner)"
    at.switch_page("app_pages/login.py").run()
    assert at.title[0].value == "Account"
    assert at.markdown[0].value == f"Signed in as **{username}**, role **Planner**"
    assert _usable(at) == {"act_review", "meeting", "actions", "upload", "registers", "data_quality", "batches"}


def test_admin_gets_the_admin_pages(login_app, demo_store):
    at = _submit(login_app, ensure_user(demo_store, "admin"), PASSWORD)
    assert {"users", "audit_log"} <= _usable(at)


def test_wrong_password_then_throttled(login_app, demo_store):
    username = ensure_user(demo_store, "act_member", username="throttled-apptest")
    for _ in range(SETTINGS.max_failed_logins - 1):
        at = _submit(login_app, username, "not the password")
        assert at.error[0].value == "wrong username or password"
    at = _submit(login_app, username, "not the password")
    assert "try again in 30 s" in at.error[0].value
    at = _submit(login_app, username, PASSWORD)  # even the right password waits
    assert "too many failed logins" in at.error[0].value and at.title[0].value == "Log in"
    auth.set_disabled(demo_store, username, False, actor=operator("tests"))  # an admin clears it


def test_an_expired_session_falls_back_to_the_public_view(demo_store, monkeypatch):
    monkeypatch.setenv(STORE_ENV, demo_store.url)
    session = auth.authenticate(demo_store, ensure_user(demo_store, "analyst"), PASSWORD)
    stale = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=SETTINGS.session_idle_minutes + 1)
    stored = demo_store.read_table("sessions", where={"session_id": session.session_id})
    demo_store.save(sessions=stored.assign(last_seen_at=stale))  # the store's row is what counts
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[SESSION_KEY] = session
    at.run()
    assert at.sidebar.caption[0].value.startswith("Public view")
    at.switch_page("app_pages/login.py").run()
    assert "without activity" in at.warning[0].value and at.title[0].value == "Log in"


def test_logout(login_app, demo_store):
    username = ensure_user(demo_store, "cso")
    at = _submit(login_app, username, PASSWORD)
    at.switch_page("app_pages/login.py").run()  # the account page (a login lands on the map)
    session_id = at.session_state[SESSION_KEY].session_id
    at.button(key="logout").click().run()
    assert at.title[0].value == "Log in" and SESSION_KEY not in at.session_state
    assert not len(demo_store.read_table("sessions", where={"session_id": session_id}))  # over for every tab
    log = audit.read_log(demo_store, operator("tests"), event="logout", user=username)
    assert len(log) >= 1
