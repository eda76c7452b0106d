"""The two HTTP routes that set and clear the session cookie (served beside Streamlit by ``dashboard/areasafe_server.py``).

Place in the data flow: show. A Streamlit script can read the request's cookies (``st.context.cookies``,
sent with the websocket handshake) but cannot set one. So after a login the page POSTs the login's
one-time ticket to :func:`start` (a same-origin ``fetch`` that :func:`dashboard.common.sync_cookie`
writes into the page), which trades it for the session's token in a cookie; logging out POSTs to
:func:`end`, which deletes the session and clears the cookie. Everything else about sessions (what the
store keeps, expiry, revocation) is :mod:`pipelines.auth`.

The cookie is ``HttpOnly`` (no script reads it), ``SameSite=Strict`` (no other site's page or link
sends it: the dashboard needs it only on its own requests, the websocket among them; Streamlit's own
SSO cookie is Lax because the identity provider redirects back across sites, which this flow never
does), ``Secure`` when the request came over https (directly or through the TLS proxy's
``X-Forwarded-Proto``), scoped to the app's path, and lives no longer than a session may.
Both routes take only a JSON POST from a page of the same origin (``Origin`` equals ``Host`` and
``Sec-Fetch-Site``, when sent, is ``same-origin``): another site can neither log a visitor in as
someone else with its own ticket nor log them out.
"""

from __future__ import annotations

import functools
import json
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipelines import auth, settings
from pipelines.settings import default_store_url
from pipelines.store import Store, open_store

#: Where the routes answer, below the app's base path.
START = "/api/session/start"
END = "/api/session/end"


@functools.cache
def _store(url: str) -> Store:
    return open_store(url)


def base_path() -> str:
    """The app's path (``server.baseUrlPath``, "/" by default): the cookie's ``Path`` and the routes' prefix."""
    from streamlit import config

    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else "/"


def route_url(path: str) -> str:
    """``path`` below the app's base path, as the page fetches it."""
    return base_path().rstrip("/") + path


def _same_origin(request: Request) -> bool:
    site = request.headers.get("sec-fetch-site")
    if site is not None and site != "same-origin":
        return False
    origin, host = request.headers.get("origin"), request.headers.get("host")
    return bool(origin and host) and urlsplit(origin).netloc == host


def _https(request: Request) -> bool:
    # Only ever adds Secure: a client that fakes the header over plain http just loses its own cookie.
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def _refused(status: int, reason: str) -> Response:
    return Response(reason, status_code=status, media_type="text/plain", headers={"Cache-Control": "no-store"})


async def _ticket(request: Request) -> str | None:
    try:
        body = json.loads(await request.body())
    except ValueError:
        return None
    ticket = body.get("ticket") if isinstance(body, dict) else None
    return ticket if isinstance(ticket, str) else None


async def start(request: Request) -> Response:
    """Trade a login's one-time ticket (``{"ticket": ...}``) for the session cookie; 403 for anything else."""
    if not _same_origin(request) or request.headers.get("content-type", "").split(";")[0] != "application/json":
        return _refused(403, "only the dashboard's own pages may start a session")
    token = await run_in_threadpool(auth.exchange_ticket, _store(default_store_url()), await _ticket(request))
    if token is None:
        return _refused(403, "that login ticket is unknown, used or expired; log in again")
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        auth.COOKIE,
        token,
        max_age=settings.SETTINGS.session_absolute_hours * 3600,
        path=base_path(),
        secure=_https(request),
        httponly=True,
        samesite="strict",
    )
    return response


async def end(request: Request) -> Response:
    """Delete the session the cookie names (if any) and clear the cookie."""
    if not _same_origin(request) or request.headers.get("content-type", "").split(";")[0] != "application/json":
        return _refused(403, "only the dashboard's own pages may end a session")
    token = request.cookies.get(auth.COOKIE)
    await run_in_threadpool(auth.end_session_by_token, _store(default_store_url()), token)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.delete_cookie(auth.COOKIE, path=base_path(), secure=_https(request), httponly=True, samesite="strict")
    return response


def routes() -> list[Route]:
    """The routes, for ``st.App(..., routes=routes())``."""
    return [Route(route_url(START), start, methods=["POST"]), Route(route_url(END), end, methods=["POST"])]
