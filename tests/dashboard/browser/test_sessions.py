"""A login in real Chromium survives a reload, through an HttpOnly SameSite cookie set by the session
routes beside Streamlit; logging out, disabling the account or changing its role ends it; an expired
session, a forged or replayed ticket and another site's request are refused (issue 18)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from dashboard import session_routes
from pipelines import auth
from pipelines.privacy import operator
from pipelines.settings import PROJECT_ROOT, SETTINGS
from tests._dashboard import ARTIFACTS, CHROMIUM
from tests._helpers import PASSWORD, ensure_user
from tests.dashboard.browser.test_dashboard import _wait_idle, login_as, open_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]
PUBLIC = "Public view: aggregated counts only"


def _log_in(page, server: str, store, username: str, role: str = "planner") -> str:
    """Log in through the login page; returns the ticket the page traded for the cookie."""
    with page.expect_response(lambda r: r.url.endswith(session_routes.START)) as traded:
        login_as(page, server, store, role, username=username)
    response = traded.value
    assert response.status == 204, response.text()
    return json.loads(response.request.post_data)["ticket"]


def _cookie(page) -> dict | None:
    return next((c for c in page.context.cookies() if c["name"] == auth.COOKIE), None)


def _signed_in(page) -> str:
    return page.locator('[data-testid="stSidebar"] [data-testid="stCaptionContainer"]').first.inner_text()


def _post(server: str, path: str, body: object, **headers) -> int:
    request = urllib.request.Request(f"{server}{path}", data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_a_login_survives_a_reload_with_a_safe_cookie(server, page, demo_store):
    ARTIFACTS.mkdir(exist_ok=True)
    ticket = _log_in(page, server, demo_store, "reload-planner")
    cookie = _cookie(page)
    token = cookie["value"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert not cookie["secure"]  # plain http on 127.0.0.1; over https it is Secure (test below)
    assert cookie["expires"] <= dt.datetime.now(dt.UTC).timestamp() + SETTINGS.session_absolute_hours * 3600 + 5
    # nothing secret where the page, its scripts or its address can read it
    assert auth.COOKIE not in page.evaluate("document.cookie")
    assert token not in page.url and ticket not in page.url
    assert token not in page.content()
    page.reload()
    _wait_idle(page)
    assert _signed_in(page) == "Signed in as reload-planner (Planner)"
    assert page.get_by_role("heading", name="Map explorer").count() == 1
    assert token not in page.url and token not in page.content()
    page.screenshot(path=str(ARTIFACTS / "session_after_reload.png"))
    # the ticket worked once: replayed from the page itself (same origin), and forged, it is refused
    replay = "r => fetch(r.url, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: r.body})"
    replay += ".then(a => a.status)"
    start = session_routes.START
    assert page.evaluate(f"({replay})", {"url": start, "body": json.dumps({"ticket": ticket})}) == 403
    assert page.evaluate(f"({replay})", {"url": start, "body": json.dumps({"ticket": "x" * 43})}) == 403
    assert _cookie(page)["value"] == token  # a refused trade leaves the cookie alone
    assert not page.external, page.external  # (a reload aborts the map's loading frame: no failure check)


def test_logout_ends_the_session_and_clears_the_cookie(server, page, demo_store):
    _log_in(page, server, demo_store, "logout-analyst", role="analyst")
    token = _cookie(page)["value"]
    open_page(page, "Account")
    with page.expect_response(lambda r: r.url.endswith(session_routes.END)) as cleared:
        page.get_by_role("button", name="Log out").click()
    assert cleared.value.status == 204
    page.get_by_role("heading", name="Log in").wait_for(timeout=30_000)
    assert _cookie(page) is None
    page.reload()
    _wait_idle(page)
    assert _signed_in(page) == PUBLIC
    # the session is over in the store, not only forgotten by the browser: its old cookie opens nothing
    page.context.add_cookies([{"name": auth.COOKIE, "value": token, "url": server}])
    page.reload()
    _wait_idle(page)
    assert _signed_in(page) == PUBLIC


def _disable_with_the_cli(store, username: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "--store", store.url, "users", "disable", username],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == f"disabled {username}"


def _change_role(store, username: str) -> None:
    auth.set_role(store, username, "act_member", actor=operator("another admin"))


@pytest.mark.parametrize(
    ("username", "change", "message"),
    [
        pytest.param("disabled-planner", _disable_with_the_cli, "your account was disabled", id="disabled-by-the-cli"),
        pytest.param("moved-planner", _change_role, "your role was changed", id="role-changed"),
    ],
)
def test_an_account_change_elsewhere_ends_the_session(server, page, demo_store, username, change, message):
    _log_in(page, server, demo_store, username)
    page.reload()
    _wait_idle(page)
    assert _signed_in(page) == f"Signed in as {username} (Planner)"
    change(demo_store, username)
    open_page(page, "Account")  # the next click, without a reload: it opens the login page instead
    assert _signed_in(page) == PUBLIC
    assert message in page.locator('[data-testid="stAlert"]').first.inner_text()
    page.reload()
    _wait_idle(page)
    assert _signed_in(page) == PUBLIC


@pytest.mark.parametrize(
    ("column", "age", "message"),
    [
        pytest.param(
            "last_seen_at",
            dt.timedelta(minutes=SETTINGS.session_idle_minutes + 1),
            "without activity",
            id="idle",
        ),
        pytest.param(
            "created_at",
            dt.timedelta(hours=SETTINGS.session_absolute_hours, minutes=1),
            "sessions last at most",
            id="too-old",
        ),
    ],
)
def test_an_expired_session_is_refused_after_a_reload(server, page, demo_store, column, age, message):
    """The clock is moved through the stored row; the page, reloaded, is the public's and says why."""
    username = ensure_user(demo_store, "cso", username=f"expired-{column}")
    _log_in(page, server, demo_store, username, role="cso")
    stored = demo_store.read_table("sessions", where={"username": username})
    assert len(stored) == 1
    demo_store.save(sessions=stored.assign(**{column: dt.datetime.now(dt.UTC) - age}))  # the clock moves on
    page.reload()
    _wait_idle(page)
    assert _signed_in(page) == PUBLIC
    assert not len(demo_store.read_table("sessions", where={"username": username}))
    open_page(page, "Log in")
    assert message in page.locator('[data-testid="stAlert"]').first.inner_text()


def test_the_routes_take_only_a_same_origin_json_post(server, demo_store):
    """What another site, or a script that is not the dashboard's page, gets from the session routes."""
    ensure_user(demo_store, "planner", username="routes-planner")
    session = auth.authenticate(demo_store, "routes-planner", PASSWORD)
    good = {"Origin": server, "Content-Type": "application/json"}
    body = {"ticket": session.ticket}
    for path in (session_routes.START, session_routes.END):
        assert _post(server, path, body, **{**good, "Origin": "http://evil.example"}) == 403
        assert _post(server, path, body, **{"Content-Type": "application/json"}) == 403  # no Origin
        assert _post(server, path, body, **{**good, "Sec-Fetch-Site": "cross-site"}) == 403
        assert _post(server, path, body, **{**good, "Content-Type": "text/plain"}) == 403  # a plain form post
    # none of those spent the ticket; over https (the TLS proxy says so) the cookie is Secure
    request = urllib.request.Request(
        f"{server}{session_routes.START}",
        data=json.dumps(body).encode(),
        headers={**good, "X-Forwarded-Proto": "https"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 204
        cookie = answer.headers["Set-Cookie"]
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "secure", "path", "max-age", "samesite"} <= attributes
    assert "samesite=strict" in cookie.lower() and "path=/" in cookie.lower()
    assert _post(server, session_routes.START, body, **good) == 403  # and now it is spent
