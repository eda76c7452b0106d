"""Accounts, passwords, login throttling and sessions.

Place in the data flow: beside the store. Accounts live in the store's ``users`` table (argon2 hashes
only, never a password); the CLI (``areasafe users ...``) and the dashboard's admin page manage them
through the functions here, and the login page calls :func:`authenticate`. Every change and every
login attempt is audited (:mod:`pipelines.audit`).

Throttling: the count of failed logins in a row and the time of the last one are stored on the
account, so every dashboard replica sharing the store sees the same count. After
``SETTINGS.max_failed_logins`` failures each attempt must wait ``SETTINGS.lockout_seconds``, doubling
with every further failure up to ``SETTINGS.max_lockout_seconds``. Each attempt is counted as a
failure *before* its password is checked, by one atomic statement in the store that also decides
whether it may go ahead (:meth:`Store.claim_login_attempt`); a correct password then clears the
count. So however many attempts arrive at once, from threads, processes or replicas, no more
passwords are checked than the rule allows, and a throttled attempt never reaches the hash. A name
without an account is counted the same way (under a salted hash of the name) and costs the same
argon2 check, so neither the answers nor their timing say which usernames exist.

Sessions live in the store's ``sessions`` table, so a reload (F5) or another dashboard replica finds
them again. A login starts one and hands back a one-time ticket (:attr:`Session.ticket`, good for
:data:`TICKET_SECONDS`); the browser trades it, in a same-origin POST, for a random token in an HttpOnly
cookie (:func:`exchange_ticket`, ``dashboard/session_routes.py``), and a reload finds the session by
that token (:func:`resume_session`). The store keeps SHA-256 hashes of the ticket and the token, never
either. Sessions expire after ``SETTINGS.session_idle_minutes`` without a page view and
``SETTINGS.session_absolute_hours`` after login; :func:`refresh_session` checks the stored row and the
account on every page view, so logging out deletes the session everywhere, and disabling an account,
changing its role or setting its password deletes all of its sessions (and a session whose role no
longer matches the account's is refused).

Single sign-on (Streamlit's ``st.login``): :func:`viewer_for_identity` maps an OIDC identity to the
account whose username is the identity's e-mail address (case-insensitive); an unknown or disabled
identity gets the public view (``docs/privacy.md``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import math
import re
import secrets
from dataclasses import dataclass, field, replace

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

import pipelines.settings
from pipelines import audit
from pipelines.errors import AreaSafeError
from pipelines.privacy import PUBLIC, Viewer
from pipelines.schemas import COLUMNS, USER_ROLES
from pipelines.settings import Settings
from pipelines.store.base import Store

_HASHER = PasswordHasher()
# Verified against when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("areasafe-no-such-user")
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+\-]{0,63}$")
WRONG = "wrong username or password"
#: How long a login ticket may wait to be exchanged for the session cookie.
TICKET_SECONDS = 60
#: The cookie that carries a session's token (HttpOnly; dashboard/session_routes.py sets it).
COOKIE = "areasafe_session"


class AuthError(AreaSafeError):
    """A login or account change was refused; the message says why and what to do."""


class ThrottledError(AuthError):
    """Too many failed logins for this username; ``retry_after`` seconds must pass first."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SessionExpired(AuthError):
    """The session is over (idle, too old, or the account changed); log in again."""


@dataclass(frozen=True)
class Session:
    """A logged-in viewer and when the session started and was last used (UTC).

    ``session_id`` names its row in the store's ``sessions`` table; ``ticket`` is set only on the
    session a login returns: the one-time ticket the browser trades for the session cookie.
    """

    viewer: Viewer
    started_at: dt.datetime
    last_seen: dt.datetime
    via: str = "password"  # or "sso"
    session_id: str = ""
    ticket: str | None = field(default=None, repr=False, compare=False)


# --------------------------------------------------------------------------------------------------
# Passwords
# --------------------------------------------------------------------------------------------------
def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted; the parameters are stored in the hash)."""
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; False for a wrong password or no hash."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password(password: str, *, settings: Settings | None = None) -> None:
    """Refuse passwords that are too short or blank."""
    settings = settings or pipelines.settings.SETTINGS
    if not password or not password.strip():
        raise AuthError("the password is empty; pipe one in, e.g. `printf '%s' \"$PASSWORD\" | areasafe users ...`")
    if len(password) < settings.min_password_length:
        raise AuthError(
            f"the password has {len(password)} characters; use at least {settings.min_password_length} "
            "(a passphrase of four or more words is easy to remember)"
        )


# --------------------------------------------------------------------------------------------------
# Accounts
# --------------------------------------------------------------------------------------------------
def _user(store: Store, username: str) -> pd.DataFrame:
    return store.read_table("users", where={COLUMNS.username: username})


def _require_user(store: Store, username: str) -> pd.DataFrame:
    row = _user(store, username)
    if not len(row):
        raise AuthError(f"no user {username!r}; list users with 'areasafe users list'")
    return row


def _check_role(role: str, org: str | None) -> None:
    if role not in USER_ROLES:
        raise AuthError(f"--role must be one of {', '.join(USER_ROLES)}; got {role!r}")
    if role == "cso" and not (org and org.strip()):
        raise AuthError("a cso account belongs to one organisation: give it with --org ORG")


def _now(now: dt.datetime | None) -> pd.Timestamp:
    return pd.Timestamp(now or dt.datetime.now(dt.UTC))


def _save(store: Store, row: pd.DataFrame, event: str | None, **audit_fields) -> None:
    frames = {"users": row}
    if event:
        frames["audit_log"] = audit.entry(event, **audit_fields)
    store.save(**frames)


def add_user(
    store: Store,
    username: str,
    *,
    role: str,
    actor: Viewer,
    org: str | None = None,
    password: str | None = None,
    sso_only: bool = False,
    now: dt.datetime | None = None,
) -> None:
    """Create an account (admins only). ``sso_only`` accounts have no password and log in through SSO."""
    actor.require("users")
    if not USERNAME.match(username or ""):
        raise AuthError(
            f"username {username!r} is not allowed; use 1-64 letters, digits and . _ @ + - (an e-mail address works)"
        )
    _check_role(role, org)
    if len(_user(store, username)):
        raise AuthError(f"user {username!r} exists; change it with 'areasafe users set-role' or 'set-password'")
    if sso_only:
        if password:
            raise AuthError("an SSO-only account has no password; leave out --password-stdin or --sso-only")
        password_hash = None
    else:
        check_password(password or "")
        password_hash = hash_password(password)
    at = _now(now)
    row = pd.DataFrame(
        {
            COLUMNS.username: [username],
            COLUMNS.role: [role],
            COLUMNS.org: [org.strip() if org else None],
            COLUMNS.password_hash: [password_hash],
            COLUMNS.disabled: [False],
            COLUMNS.failed_logins: [0],
            COLUMNS.last_failed_at: [pd.NaT],
            COLUMNS.created_at: [at],
            COLUMNS.updated_at: [at],
        }
    )
    detail = {"action": "add", "role": role, "org": org, "sso_only": sso_only}
    _save(store, row, "user_admin", viewer=actor, target=username, detail=detail, now=at)


def list_users(store: Store, viewer: Viewer) -> pd.DataFrame:
    """Accounts without their hashes: ``username``, ``role``, ``org``, ``disabled``, ``sso_only``,
    ``failed_logins``, ``created_at``, ``updated_at`` (admins only)."""
    viewer.require("users")
    users = store.read_table("users").sort_values(COLUMNS.username, ignore_index=True)
    users["sso_only"] = users[COLUMNS.password_hash].isna()
    columns = ["username", "role", "org", "disabled", "sso_only", "failed_logins", "created_at", "updated_at"]
    return users[columns]


def _enabled_admins(store: Store) -> set[str]:
    users = store.read_table("users")
    return set(users.loc[(users[COLUMNS.role] == "admin") & ~users[COLUMNS.disabled].astype(bool), COLUMNS.username])


def set_role(
    store: Store, username: str, role: str, *, actor: Viewer, org: str | None = None, now: dt.datetime | None = None
) -> None:
    """Change an account's role (and organisation; a cso needs one) and end its sessions. The last enabled
    admin stays admin."""
    actor.require("users")
    row = _require_user(store, username)
    org = org if org is not None else (row[COLUMNS.org].iloc[0] if role == "cso" else None)
    _check_role(role, org)
    if role != "admin" and _enabled_admins(store) == {username}:
        raise AuthError(f"{username!r} is the last enabled admin; make another admin first")
    before = row[COLUMNS.role].iloc[0]
    at = _now(now)
    row = row.assign(role=role, org=org, updated_at=at)
    detail = {"action": "set_role", "from": before, "role": role, "org": org}
    _save(store, row, "user_admin", viewer=actor, target=username, detail=detail, now=at)
    store.end_sessions(username=username)


def set_disabled(store: Store, username: str, disabled: bool, *, actor: Viewer, now: dt.datetime | None = None) -> None:
    """Disable (or enable again) an account; a disabled account cannot log in and its sessions end.
    Enabling also clears its failed-login count."""
    actor.require("users")
    row = _require_user(store, username)
    if disabled and _enabled_admins(store) == {username}:
        raise AuthError(f"{username!r} is the last enabled admin; make another admin first")
    at = _now(now)
    row = row.assign(disabled=disabled, updated_at=at)
    if not disabled:
        row = row.assign(failed_logins=0, last_failed_at=pd.NaT)
    detail = {"action": "disable" if disabled else "enable"}
    _save(store, row, "user_admin", viewer=actor, target=username, detail=detail, now=at)
    if disabled:
        store.end_sessions(username=username)


def set_password(store: Store, username: str, password: str, *, actor: Viewer, now: dt.datetime | None = None) -> None:
    """Set a new password (admins only); clears the failed-login count and ends the account's sessions."""
    actor.require("users")
    row = _require_user(store, username)
    check_password(password)
    at = _now(now)
    row = row.assign(password_hash=hash_password(password), failed_logins=0, last_failed_at=pd.NaT, updated_at=at)
    _save(store, row, "user_admin", viewer=actor, target=username, detail={"action": "set_password"}, now=at)
    store.end_sessions(username=username)


# --------------------------------------------------------------------------------------------------
# Login
# --------------------------------------------------------------------------------------------------
def lockout_seconds(failed: int, *, settings: Settings | None = None) -> int:
    """How long the next attempt must wait after the last of ``failed`` failures in a row (0: no wait)."""
    settings = settings or pipelines.settings.SETTINGS
    if failed < settings.max_failed_logins:
        return 0
    doublings = min(failed - settings.max_failed_logins, 32)  # 2**32 lockouts exceed any cap
    return min(settings.lockout_seconds * 2**doublings, settings.max_lockout_seconds)


def wait_seconds(
    failed: int, last_failed_at: pd.Timestamp | None, now: pd.Timestamp, *, settings: Settings | None = None
) -> int:
    """Seconds before another attempt is allowed after ``failed`` failures in a row (0: go ahead)."""
    lockout = lockout_seconds(failed, settings=settings)
    if not lockout or last_failed_at is None or pd.isna(last_failed_at):
        return 0
    remaining = (pd.Timestamp(last_failed_at) + pd.Timedelta(seconds=lockout) - now).total_seconds()
    return max(0, math.ceil(remaining))


def _cutoffs(at: pd.Timestamp, *, settings: Settings | None = None) -> list[dt.datetime | None]:
    """:func:`lockout_seconds` as the store applies it (:meth:`Store.claim_login_attempt`): after ``n``
    failures an attempt at ``at`` may go ahead if the last failure was at or before ``cutoffs[n]``."""
    settings = settings or pipelines.settings.SETTINGS
    cutoffs: list[dt.datetime | None] = []
    for failed in itertools.count():
        lockout = lockout_seconds(failed, settings=settings)
        cutoffs.append((at - pd.Timedelta(seconds=lockout)).to_pydatetime() if lockout else None)
        if failed >= settings.max_failed_logins and lockout_seconds(failed + 1, settings=settings) == lockout:
            return cutoffs  # the last entry holds for every larger count


def _viewer(row: pd.Series) -> Viewer:
    org = row[COLUMNS.org] if isinstance(row[COLUMNS.org], str) and row[COLUMNS.org] else None
    return Viewer(username=str(row[COLUMNS.username]), role=str(row[COLUMNS.role]), org=org)


def authenticate(store: Store, username: str, password: str, *, now: dt.datetime | None = None) -> Session:
    """Check a username and password and start a session; raise :class:`AuthError` otherwise.

    Raises :class:`ThrottledError` (with ``retry_after``) when the name has failed too often; the
    password is then not even checked. An unknown name gets the same answers, after the same number
    of attempts and the same argon2 work, as a known one with a wrong password. Every attempt is audited.
    """
    at = _now(now)
    username = (username or "").strip()
    found = _user(store, username) if USERNAME.match(username) else pd.DataFrame()
    # Counted as failed before the (slow) check, atomically: concurrent guesses cannot all pass.
    count = store.claim_login_attempt(username, at=at.to_pydatetime(), cutoffs=_cutoffs(at))
    if not count.claimed:
        wait = max(1, wait_seconds(count.failed, count.last_failed_at, at))
        audit.record(store, "login_failed", user=username, target=username, detail={"reason": "throttled"}, now=at)
        raise ThrottledError(f"too many failed logins for {username!r}; try again in {wait} s", retry_after=wait)
    row = found.iloc[0] if len(found) else None
    if not verify_password(
        None if row is None else row[COLUMNS.password_hash], password or ""
    ):  # dummy hash if unknown
        if row is None:
            audit.record(store, "login_failed", user=username, target=username, detail={"reason": "unknown"}, now=at)
        else:
            audit.record(store, "login_failed", user=username, target=username, detail={"reason": "password"}, now=at)
        wait = wait_seconds(count.failed, count.last_failed_at, at)
        if wait:
            raise ThrottledError(
                f"{WRONG}; too many failed logins for {username!r}: try again in {wait} s", retry_after=wait
            )
        raise AuthError(WRONG)
    store.clear_login_failures(username)  # the right password: this attempt was no failure
    if bool(row[COLUMNS.disabled]):
        audit.record(store, "login_failed", user=username, target=username, detail={"reason": "disabled"}, now=at)
        raise AuthError(f"the account {username!r} is disabled; ask an administrator to enable it")
    viewer = _viewer(row)
    if _HASHER.check_needs_rehash(row[COLUMNS.password_hash]):
        store.save(users=found.assign(password_hash=hash_password(password), failed_logins=0, last_failed_at=pd.NaT))
    audit.record(store, "login", viewer=viewer, target=username, detail={"via": "password"}, now=at)
    return _start_session(store, viewer, "password", at)


def _digest(secret: str) -> str:
    """What the store keeps of a token or ticket: its SHA-256. Both are 256 random bits, so a plain
    hash is as good as a slow one, and a leaked store opens no session."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _start_session(
    store: Store, viewer: Viewer, via: str, at: pd.Timestamp, *, settings: Settings | None = None
) -> Session:
    """Store a new session of ``viewer`` with a one-time ticket (returned on the session, hashed in the
    store), and delete the sessions that have expired meanwhile."""
    settings = settings or pipelines.settings.SETTINGS
    ticket = secrets.token_urlsafe(32)
    session_id = secrets.token_hex(16)
    store.end_sessions(
        seen_before=(at - pd.Timedelta(minutes=settings.session_idle_minutes)).to_pydatetime(),
        started_before=(at - pd.Timedelta(hours=settings.session_absolute_hours)).to_pydatetime(),
    )
    row = {
        "session_id": session_id,
        "token_hash": None,
        "ticket_hash": _digest(ticket),
        "ticket_expires_at": at + pd.Timedelta(seconds=TICKET_SECONDS),
        "username": viewer.username,
        "role": viewer.role,
        "org": viewer.org,
        "via": via,
        "created_at": at,
        "last_seen_at": at,
    }
    store.save(sessions=pd.DataFrame([row]))
    return Session(viewer, at.to_pydatetime(), at.to_pydatetime(), via=via, session_id=session_id, ticket=ticket)


def _stored_session(row: pd.Series) -> Session:
    viewer = _viewer(row)  # the account as it was when the session began
    started, seen = (pd.Timestamp(row[c]).to_pydatetime() for c in ("created_at", "last_seen_at"))
    return Session(viewer, started, seen, via=str(row[COLUMNS.via]), session_id=str(row[COLUMNS.session_id]))


def _why_gone(store: Store, session: Session) -> str:
    """Why a session's row is no longer stored, as far as the account tells."""
    found = _user(store, session.viewer.username)
    if not len(found) or bool(found[COLUMNS.disabled].iloc[0]):
        return "your account was disabled or removed; ask an administrator"
    if _viewer(found.iloc[0]) != session.viewer:
        return "your role was changed; log in again to use it"
    return "you were logged out; log in again"


def refresh_session(
    store: Store, session: Session, *, now: dt.datetime | None = None, settings: Settings | None = None
) -> Session:
    """The session after one more page view (recorded in the store), or :class:`SessionExpired` when it is over.

    It is over when its stored row is gone (logged out, or the account was disabled, its role changed or
    its password set), after ``session_idle_minutes`` without a view, ``session_absolute_hours`` after
    login, or when the account's role or organisation is no longer the one the session began with; an
    expired session's row is deleted.
    """
    settings = settings or pipelines.settings.SETTINGS
    at = _now(now)
    rows = store.read_table("sessions", where={COLUMNS.session_id: session.session_id}) if session.session_id else ()
    if not len(rows):
        raise SessionExpired(_why_gone(store, session))
    row = rows.iloc[0]
    stored = _stored_session(row)
    reason = None
    if at - pd.Timestamp(stored.last_seen) > pd.Timedelta(minutes=settings.session_idle_minutes):
        reason = f"you were logged out after {settings.session_idle_minutes} minutes without activity; log in again"
    elif at - pd.Timestamp(stored.started_at) > pd.Timedelta(hours=settings.session_absolute_hours):
        reason = f"sessions last at most {settings.session_absolute_hours} hours; log in again"
    else:
        found = _user(store, stored.viewer.username)
        if not len(found) or bool(found[COLUMNS.disabled].iloc[0]):
            reason = "your account was disabled or removed; ask an administrator"
        elif _viewer(found.iloc[0]) != stored.viewer:
            reason = "your role was changed; log in again to use it"
    if reason:
        store.end_sessions(session_id=stored.session_id)
        raise SessionExpired(reason)
    store.touch_session(stored.session_id, at=at.to_pydatetime())
    return replace(stored, last_seen=at.to_pydatetime())


def resume_session(store: Store, token: str | None, *, now: dt.datetime | None = None) -> Session | None:
    """The session whose cookie carries ``token`` after one more page view, ``None`` when no stored
    session has that token (logged out, ended, or never valid); :class:`SessionExpired` when it is over."""
    if not isinstance(token, str) or not token:
        return None
    rows = store.read_table("sessions", where={COLUMNS.token_hash: _digest(token)})
    if not len(rows):
        return None
    return refresh_session(store, _stored_session(rows.iloc[0]), now=now)


def exchange_ticket(store: Store, ticket: str | None, *, now: dt.datetime | None = None) -> str | None:
    """The session token for the cookie, in exchange for a login's one-time ticket; ``None`` when the
    ticket is unknown, used already, older than :data:`TICKET_SECONDS`, or its session is over."""
    if not isinstance(ticket, str) or not ticket or len(ticket) > 128:
        return None
    at = _now(now)
    token = secrets.token_urlsafe(32)
    session_id = store.exchange_session_ticket(_digest(ticket), _digest(token), at=at.to_pydatetime())
    if session_id is None:
        return None
    rows = store.read_table("sessions", where={COLUMNS.session_id: session_id})
    try:
        refresh_session(store, _stored_session(rows.iloc[0]), now=at)
    except SessionExpired:
        return None
    return token


def end_session_by_token(store: Store, token: str | None) -> None:
    """Delete the session whose cookie carries ``token``, if any (the cookie is cleared on logout)."""
    if isinstance(token, str) and token:
        rows = store.read_table("sessions", where={COLUMNS.token_hash: _digest(token)})
        for session_id in rows[COLUMNS.session_id]:
            store.end_sessions(session_id=session_id)


def logout(store: Store, session: Session, *, now: dt.datetime | None = None) -> None:
    """End a session: delete it from the store, so no reload or other tab finds it again, and audit it."""
    store.end_sessions(session_id=session.session_id or "-")
    audit.record(store, "logout", viewer=session.viewer, target=session.viewer.username, now=_now(now))


def viewer_for_identity(store: Store, email: str | None) -> Viewer:
    """The viewer for a single-sign-on identity: the enabled account named by its e-mail address
    (compared case-insensitively), else the public."""
    if not email:
        return PUBLIC
    users = store.read_table("users")
    match = users[users[COLUMNS.username].str.lower() == email.strip().lower()]
    if not len(match) or bool(match[COLUMNS.disabled].iloc[0]):
        return PUBLIC
    return _viewer(match.iloc[0])


def sso_session(store: Store, email: str | None, *, now: dt.datetime | None = None) -> Session | None:
    """Start a session for an OIDC identity mapped to an account (audited), or ``None`` for the public."""
    viewer = viewer_for_identity(store, email)
    if viewer.is_public:
        return None
    at = _now(now)
    audit.record(store, "login", viewer=viewer, target=viewer.username, detail={"via": "sso"}, now=at)
    return _start_session(store, viewer, "sso", at)
