"""Sessions kept in the store (pipelines.auth): what is stored, the one-time ticket, the cookie's token,
expiry, and revocation, on the GeoPackage and PostGIS stores (issue 18)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
import pytest

from pipelines import auth
from pipelines.privacy import Viewer, operator
from pipelines.settings import SETTINGS
from pipelines.store._gpkg_schema import SCHEMA_VERSION
from pipelines.store.gpkg import GeoPackageStore
from tests._helpers import file_bytes

T0 = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery staple"
ADMIN = operator("tests")


def later(**delta) -> dt.datetime:
    return T0 + dt.timedelta(**delta)


@pytest.fixture
def accounts(any_store):
    auth.add_user(any_store, "root", role="admin", password=PASSWORD, actor=ADMIN, now=T0)
    auth.add_user(any_store, "ana", role="analyst", password=PASSWORD, actor=ADMIN, now=T0)
    auth.add_user(any_store, "csf", role="cso", org="Harare CSF", password=PASSWORD, actor=ADMIN, now=T0)
    return any_store


def _logged_in(store, username: str, *, at: dt.datetime = T0) -> tuple[auth.Session, str]:
    """A session of ``username`` whose ticket was traded for a cookie token: (session, token)."""
    session = auth.authenticate(store, username, PASSWORD, now=at)
    token = auth.exchange_ticket(store, session.ticket, now=at + dt.timedelta(seconds=1))
    assert token
    return session, token


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_the_store_keeps_hashes_of_the_ticket_and_token_never_either(accounts):
    session = auth.authenticate(accounts, "ana", PASSWORD, now=T0)
    ticket = session.ticket
    stored = accounts.read_table("sessions")
    assert stored[["username", "role", "via"]].values.tolist() == [["ana", "analyst", "password"]]
    assert stored["ticket_hash"].tolist() == [_sha256(ticket)] and stored["token_hash"].isna().all()
    assert pd.Timestamp(stored["ticket_expires_at"].iloc[0]) == pd.Timestamp(later(seconds=auth.TICKET_SECONDS))
    token = auth.exchange_ticket(accounts, ticket, now=later(seconds=2))
    stored = accounts.read_table("sessions")
    assert stored["token_hash"].tolist() == [_sha256(token)] and stored["ticket_hash"].isna().all()
    assert ticket not in repr(session)  # not in a log line or a traceback either
    text = stored.astype(str).to_string()
    assert token not in text and ticket not in text
    if isinstance(accounts, GeoPackageStore):
        on_disk = file_bytes(accounts)
        assert token.encode() not in on_disk and ticket.encode() not in on_disk


def test_a_ticket_works_once_within_its_minute(accounts):
    session = auth.authenticate(accounts, "ana", PASSWORD, now=T0)
    assert auth.exchange_ticket(accounts, "forged" + session.ticket[6:], now=later(seconds=1)) is None
    assert auth.exchange_ticket(accounts, "", now=later(seconds=1)) is None
    assert auth.exchange_ticket(accounts, None, now=later(seconds=1)) is None
    assert auth.exchange_ticket(accounts, session.ticket * 10, now=later(seconds=1)) is None
    token = auth.exchange_ticket(accounts, session.ticket, now=later(seconds=1))
    assert token and auth.exchange_ticket(accounts, session.ticket, now=later(seconds=2)) is None  # replayed
    late = auth.authenticate(accounts, "ana", PASSWORD, now=T0)
    assert auth.exchange_ticket(accounts, late.ticket, now=later(seconds=auth.TICKET_SECONDS + 1)) is None
    # the token opens the traded session only
    assert auth.resume_session(accounts, token, now=later(minutes=1)).session_id == session.session_id


def test_a_reload_finds_the_session_by_its_token(accounts):
    session, token = _logged_in(accounts, "csf")
    resumed = auth.resume_session(accounts, token, now=later(minutes=5))
    assert resumed.viewer == Viewer("csf", "cso", "Harare CSF") and resumed.session_id == session.session_id
    assert resumed.started_at == T0 and resumed.last_seen == later(minutes=5)
    stored = accounts.read_table("sessions", where={"session_id": session.session_id})
    assert pd.Timestamp(stored["last_seen_at"].iloc[0]) == pd.Timestamp(later(minutes=5))  # the view is recorded
    assert auth.resume_session(accounts, token[:-2] + "xx", now=later(minutes=6)) is None
    assert auth.resume_session(accounts, None) is None


def test_logout_ends_the_session_for_every_tab(accounts):
    session, token = _logged_in(accounts, "ana")
    other_tab = auth.resume_session(accounts, token, now=later(minutes=1))
    auth.logout(accounts, session, now=later(minutes=2))
    assert auth.resume_session(accounts, token, now=later(minutes=3)) is None
    with pytest.raises(auth.SessionExpired, match="you were logged out; log in again"):
        auth.refresh_session(accounts, other_tab, now=later(minutes=3))
    assert accounts.count("sessions") == 0


@pytest.mark.parametrize(
    ("change", "match"),
    [
        pytest.param(lambda s: auth.set_disabled(s, "ana", True, actor=ADMIN), "account was disabled", id="disabled"),
        pytest.param(lambda s: auth.set_role(s, "ana", "planner", actor=ADMIN), "role was changed", id="role"),
        pytest.param(
            lambda s: auth.set_password(s, "ana", "a brand new passphrase", actor=ADMIN), "logged out", id="password"
        ),
    ],
)
def test_account_changes_end_all_of_its_sessions(accounts, change, match):
    phone, phone_token = _logged_in(accounts, "ana")
    laptop, laptop_token = _logged_in(accounts, "ana")
    _, others = _logged_in(accounts, "csf")
    change(accounts)
    for session, token in ((phone, phone_token), (laptop, laptop_token)):
        assert auth.resume_session(accounts, token, now=later(minutes=1)) is None
        with pytest.raises(auth.SessionExpired, match=match):
            auth.refresh_session(accounts, session, now=later(minutes=1))
    assert auth.resume_session(accounts, others, now=later(minutes=1)).viewer.username == "csf"


def test_a_session_whose_role_no_longer_matches_the_account_is_refused(accounts):
    """Even when the account was changed without ending its sessions (by hand, or an older AreaSafe)."""
    _, token = _logged_in(accounts, "ana")
    user = accounts.read_table("users", where={"username": "ana"})
    accounts.save(users=user.assign(role="planner"))
    with pytest.raises(auth.SessionExpired, match="your role was changed"):
        auth.resume_session(accounts, token, now=later(minutes=1))
    assert accounts.count("sessions") == 0  # and it is gone


def test_sessions_expire_when_idle_or_old_as_stored(accounts):
    idle, hours = SETTINGS.session_idle_minutes, SETTINGS.session_absolute_hours
    _, token = _logged_in(accounts, "ana")
    assert auth.resume_session(accounts, token, now=later(minutes=idle - 1))  # a view ...
    assert auth.resume_session(accounts, token, now=later(minutes=2 * idle - 2))  # ... keeps it alive
    with pytest.raises(auth.SessionExpired, match=f"after {idle} minutes without activity"):
        auth.resume_session(accounts, token, now=later(minutes=3 * idle))
    assert auth.resume_session(accounts, token, now=later(minutes=3 * idle)) is None  # deleted
    _, token = _logged_in(accounts, "ana")
    for minutes in range(idle - 1, hours * 60, idle - 1):  # however active
        auth.resume_session(accounts, token, now=later(minutes=minutes))
    with pytest.raises(auth.SessionExpired, match=f"sessions last at most {hours} hours"):
        auth.resume_session(accounts, token, now=later(hours=hours, minutes=1))


def test_expired_sessions_are_deleted_at_the_next_login(accounts):
    idle, hours = SETTINGS.session_idle_minutes, SETTINGS.session_absolute_hours
    _logged_in(accounts, "ana")
    _, token = _logged_in(accounts, "csf")
    for minutes in range(idle - 1, hours * 60, idle - 1):  # csf stays active, ana went away
        auth.resume_session(accounts, token, now=later(minutes=minutes))
    _logged_in(accounts, "root", at=later(hours=hours))
    assert sorted(accounts.read_table("sessions")["username"]) == ["csf", "root"]  # idle: gone
    _logged_in(accounts, "ana", at=later(hours=hours, minutes=1))
    assert sorted(accounts.read_table("sessions")["username"]) == ["ana", "root"]  # too old: gone


def test_a_session_view_does_not_undo_the_ticket_exchange(accounts):
    """A page view and the cookie exchange change different columns of the same row at the same moment."""
    session = auth.authenticate(accounts, "ana", PASSWORD, now=T0)
    token = auth.exchange_ticket(accounts, session.ticket, now=later(seconds=1))
    auth.refresh_session(accounts, session, now=later(seconds=2))  # the tab's rerun, holding the old row
    assert auth.resume_session(accounts, token, now=later(seconds=3)).session_id == session.session_id


def test_sessions_do_not_change_the_data_version(accounts):
    before = accounts.data_version()
    _, token = _logged_in(accounts, "ana")
    auth.resume_session(accounts, token, now=later(minutes=1))
    assert accounts.data_version() == before  # the dashboard's caches stay warm


def test_end_sessions_needs_a_condition(accounts):
    from pipelines.store import StoreError

    with pytest.raises(StoreError, match="end_sessions needs session_id, username"):
        accounts.end_sessions()


def test_a_page_view_does_not_wait_for_an_upload_holding_the_geopackage(store):
    """The GeoPackage locks the whole file while a batch commits; a page view then goes unrecorded
    instead of waiting (the next view records it), and the session still works."""
    import sqlite3

    auth.add_user(store, "ana", role="analyst", password=PASSWORD, actor=ADMIN, now=T0)
    session, token = _logged_in(store, "ana")
    upload = sqlite3.connect(store.path, isolation_level=None)
    upload.execute("BEGIN IMMEDIATE")  # another process's commit in progress
    try:
        viewed = auth.resume_session(store, token, now=later(minutes=5))
    finally:
        upload.execute("ROLLBACK")
        upload.close()
    assert viewed.viewer.username == "ana"
    stored = store.read_table("sessions", where={"session_id": session.session_id})
    assert pd.Timestamp(stored["last_seen_at"].iloc[0]) == pd.Timestamp(later(seconds=1))  # not recorded ...
    auth.resume_session(store, token, now=later(minutes=6))
    stored = store.read_table("sessions", where={"session_id": session.session_id})
    assert pd.Timestamp(stored["last_seen_at"].iloc[0]) == pd.Timestamp(later(minutes=6))  # ... until the next


def test_a_version_8_geopackage_gains_the_sessions_table(tmp_path):
    import sqlite3

    path = tmp_path / "v8.gpkg"
    GeoPackageStore(path).close()
    conn = sqlite3.connect(path)
    conn.executescript(
        "DROP TABLE sessions; DELETE FROM gpkg_contents WHERE table_name = 'sessions';"
        "UPDATE areasafe_meta SET value = '8' WHERE key = 'schema_version';"
    )
    conn.close()
    store = GeoPackageStore(path)
    auth.add_user(store, "ana", role="analyst", password=PASSWORD, actor=ADMIN, now=T0)
    _, token = _logged_in(store, "ana")
    assert auth.resume_session(store, token, now=later(minutes=1)).viewer.username == "ana"
    assert (
        store._conn.execute("SELECT value FROM areasafe_meta WHERE key = 'schema_version'").fetchone()[0]
        == SCHEMA_VERSION
    )
    store.close()
