"""Accounts, argon2 hashes, throttling across replicas, session expiry, SSO mapping, and the audit trail."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipelines import audit, auth
from pipelines.errors import AreaSafeError
from pipelines.privacy import PUBLIC, AccessDenied, Viewer, operator
from pipelines.settings import SETTINGS
from pipelines.store import open_store
from tests._helpers import file_bytes

T0 = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery staple"
ADMIN = operator("tests")


def later(**delta) -> dt.datetime:
    return T0 + dt.timedelta(**delta)


@pytest.fixture
def accounts(store):
    auth.add_user(store, "ana", role="analyst", password=PASSWORD, actor=ADMIN, now=T0)
    auth.add_user(store, "csf", role="cso", org="Harare CSF", password=PASSWORD, actor=ADMIN, now=T0)
    return store


def test_passwords_are_stored_as_argon2_hashes_only(accounts):
    users = accounts.read_table("users")
    assert users["password_hash"].str.startswith("$argon2id$").all()
    assert not users["password_hash"].str.contains(PASSWORD, regex=False).any()
    assert PASSWORD.encode() not in file_bytes(accounts)
    assert "password_hash" not in auth.list_users(accounts, ADMIN).columns


@pytest.mark.parametrize(
    ("name", "kwargs", "match"),
    [
        pytest.param("bob", {"role": "boss"}, "--role must be one of admin, analyst", id="unknown-role"),
        pytest.param("bob", {"role": "cso"}, "give it with --org ORG", id="cso-without-org"),
        pytest.param("bob smith", {"role": "planner"}, "username 'bob smith' is not allowed", id="space"),
        pytest.param("'; DROP TABLE users;--", {"role": "planner"}, "is not allowed", id="sql"),
        pytest.param("bob", {"role": "planner", "password": "short"}, "use at least 10", id="short-password"),
        pytest.param("bob", {"role": "planner", "password": "   "}, "the password is empty", id="blank-password"),
        pytest.param("ana", {"role": "planner"}, "user 'ana' exists", id="duplicate"),
    ],
)
def test_add_user_refuses_bad_input(accounts, name, kwargs, match):
    kwargs.setdefault("password", PASSWORD)
    with pytest.raises(auth.AuthError, match=match):
        auth.add_user(accounts, name, actor=ADMIN, **kwargs)


def test_only_admins_manage_accounts(accounts):
    with pytest.raises(AccessDenied, match="log in as one of: admin"):
        auth.add_user(accounts, "eve", role="admin", password=PASSWORD, actor=Viewer("ana", "analyst"))
    with pytest.raises(AccessDenied):
        auth.list_users(accounts, PUBLIC)


def test_login_gives_the_accounts_viewer_and_is_audited(accounts):
    session = auth.authenticate(accounts, "csf", PASSWORD, now=T0)
    assert session.viewer == Viewer("csf", "cso", "Harare CSF")
    log = audit.read_log(accounts, ADMIN, event="login")
    assert list(log["user"]) == ["csf"] and list(log["role"]) == ["cso"]


@pytest.mark.parametrize(
    ("user", "reason", "logged"), [("ana", "password", "ana"), ("nobody", "unknown", "(unknown user: 6 characters)")]
)
def test_wrong_password_and_unknown_user_get_the_same_message(accounts, user, reason, logged):
    with pytest.raises(auth.AuthError, match="^wrong username or password$"):
        auth.authenticate(accounts, user, "not it at all", now=T0)
    entry = audit.read_log(accounts, ADMIN, event="login_failed").iloc[0]
    assert entry["target"] == logged and entry["user"] == logged and reason in entry["detail"]
    assert "not it at all" not in accounts.read_table("audit_log").to_string()


def test_throttling_holds_across_replicas_and_says_when_to_retry(accounts):
    replica = open_store(accounts.url)  # a second dashboard process on the same store
    try:
        for i in range(SETTINGS.max_failed_logins - 1):
            target = accounts if i % 2 else replica
            with pytest.raises(auth.AuthError) as caught:
                auth.authenticate(target, "ana", "guess", now=later(seconds=i))
            assert not isinstance(caught.value, auth.ThrottledError)
        with pytest.raises(auth.ThrottledError, match=r"try again in 30 s") as caught:
            auth.authenticate(accounts, "ana", "guess", now=later(seconds=5))
        assert caught.value.retry_after == 30
        # the other replica refuses even the right password, without checking it
        with pytest.raises(auth.ThrottledError, match=r"try again in 2\d s"):
            auth.authenticate(replica, "ana", PASSWORD, now=later(seconds=10))
        # after the wait the right password works and the count resets
        session = auth.authenticate(replica, "ana", PASSWORD, now=later(seconds=36))
        assert session.viewer.role == "analyst"
        assert int(accounts.read_table("users", where={"username": "ana"})["failed_logins"].iloc[0]) == 0
    finally:
        replica.close()


def test_lockout_doubles_and_is_capped():
    now = pd.Timestamp(T0)
    n = SETTINGS.max_failed_logins
    assert auth.wait_seconds(n - 1, now, now) == 0
    assert [auth.wait_seconds(n + k, now, now) for k in range(3)] == [30, 60, 120]
    assert auth.wait_seconds(n + 40, now, now) == SETTINGS.max_lockout_seconds
    assert auth.wait_seconds(n, now - pd.Timedelta(seconds=31), now) == 0


def test_disabled_accounts_cannot_log_in_and_their_sessions_end(accounts):
    session = auth.authenticate(accounts, "ana", PASSWORD, now=T0)
    auth.set_disabled(accounts, "ana", True, actor=ADMIN, now=later(minutes=1))
    with pytest.raises(auth.SessionExpired, match="disabled"):
        auth.refresh_session(accounts, session, now=later(minutes=2))
    with pytest.raises(auth.AuthError, match="'ana' is disabled; ask an administrator"):
        auth.authenticate(accounts, "ana", PASSWORD, now=later(minutes=3))
    auth.set_disabled(accounts, "ana", False, actor=ADMIN)
    assert auth.authenticate(accounts, "ana", PASSWORD).viewer.username == "ana"


def test_sessions_expire_when_idle_or_old_and_end_on_role_changes(accounts):
    session = auth.authenticate(accounts, "ana", PASSWORD, now=T0)
    idle = SETTINGS.session_idle_minutes
    kept = auth.refresh_session(accounts, session, now=later(minutes=idle - 1))
    assert kept.last_seen == later(minutes=idle - 1)
    with pytest.raises(auth.SessionExpired, match=f"after {idle} minutes without activity"):
        auth.refresh_session(accounts, session, now=later(minutes=2 * idle))  # idle since the last view
    active = auth.authenticate(accounts, "ana", PASSWORD, now=T0)
    for step in range(1, 2 * SETTINGS.session_absolute_hours + 2):  # a view every 30 minutes
        now = later(minutes=30 * step - 1)
        if now - T0 > dt.timedelta(hours=SETTINGS.session_absolute_hours):
            with pytest.raises(auth.SessionExpired, match="at most"):
                auth.refresh_session(accounts, active, now=now)
            break
        active = auth.refresh_session(accounts, active, now=now)
    else:
        pytest.fail("the session never reached its absolute limit")
    session = auth.authenticate(accounts, "ana", PASSWORD, now=T0)
    auth.set_role(accounts, "ana", "cso", org="Harare CSF", actor=ADMIN, now=T0)
    with pytest.raises(auth.SessionExpired, match="your role was changed; log in again"):
        auth.refresh_session(accounts, session, now=later(minutes=1))
    moved = auth.authenticate(accounts, "ana", PASSWORD, now=later(minutes=2))
    assert moved.viewer == Viewer("ana", "cso", "Harare CSF")


def test_the_last_admin_stays(store):
    auth.add_user(store, "root", role="admin", password=PASSWORD, actor=ADMIN)
    for change in (
        lambda: auth.set_disabled(store, "root", True, actor=ADMIN),
        lambda: auth.set_role(store, "root", "planner", actor=ADMIN),
    ):
        with pytest.raises(auth.AuthError, match="last enabled admin"):
            change()
    auth.add_user(store, "second", role="admin", password=PASSWORD, actor=ADMIN)
    auth.set_role(store, "root", "planner", actor=ADMIN)


def test_set_password_replaces_the_hash_and_clears_failures(accounts):
    with pytest.raises(auth.AuthError):
        auth.authenticate(accounts, "ana", "wrong one", now=T0)
    auth.set_password(accounts, "ana", "a brand new passphrase", actor=ADMIN)
    with pytest.raises(auth.AuthError):
        auth.authenticate(accounts, "ana", PASSWORD)
    assert auth.authenticate(accounts, "ana", "a brand new passphrase").viewer.username == "ana"
    with pytest.raises(auth.AuthError, match="no user 'zed'"):
        auth.set_password(accounts, "zed", "a brand new passphrase", actor=ADMIN)


def test_sso_identities_map_to_accounts_by_email(store):
    auth.add_user(store, "Thandi@CapeTown.gov.za", role="planner", sso_only=True, actor=ADMIN)
    assert auth.viewer_for_identity(store, "thandi@capetown.gov.za") == Viewer("Thandi@CapeTown.gov.za", "planner")
    assert auth.viewer_for_identity(store, "stranger@example.org") is PUBLIC
    assert auth.viewer_for_identity(store, None) is PUBLIC
    assert auth.sso_session(store, "stranger@example.org") is None
    session = auth.sso_session(store, "thandi@capetown.gov.za")
    assert session.via == "sso" and session.viewer.role == "planner"
    with pytest.raises(auth.AuthError):  # an SSO-only account has no password to guess
        auth.authenticate(store, "Thandi@CapeTown.gov.za", "")
    auth.set_disabled(store, "Thandi@CapeTown.gov.za", True, actor=ADMIN)
    assert auth.viewer_for_identity(store, "thandi@capetown.gov.za") is PUBLIC


def test_audit_log_is_admin_only_and_validated(accounts):
    with pytest.raises(AccessDenied):
        audit.read_log(accounts, Viewer("ana", "analyst"))
    with pytest.raises(AreaSafeError, match="audit event must be one of"):
        audit.entry("coffee")
    log = audit.read_log(accounts, ADMIN)
    assert list(log["event"]) == ["user_admin", "user_admin"]
    assert log["at"].is_monotonic_decreasing and set(log["user"]) == {"cli:tests"}
