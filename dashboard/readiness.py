"""``GET /api/ready``: whether this server has done its start-up work and a first visit will be fast.

Place in the data flow: show. ``/_stcore/health`` (Streamlit's) answers as soon as the port is open;
the caches of the first map page (:func:`dashboard.warming.warm`, started by ``areasafe serve``) fill a
few seconds later (about 3.5 s on a store of a million incidents, 2 cores). A load balancer or service
manager that sends visitors only once this route says 200 never makes a visitor wait for that work.

The answer is 503 ``{"ready": false}`` while the caches fill and 200 ``{"ready": true}`` after, also when
filling them failed (the page then reports the store's problem to the visitor) or when the app was
started without warming (``streamlit run dashboard/app.py``). It tells nothing about the data.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

#: Where the route answers, below the app's base path.
READY = "/api/ready"


async def ready(request: Request) -> JSONResponse:
    """200 once the start-up work is done, 503 until then; never cached by a proxy."""
    from dashboard import warming

    done = warming.warmed()
    return JSONResponse({"ready": done}, status_code=200 if done else 503, headers={"Cache-Control": "no-store"})


def routes() -> list[Route]:
    """The route below the app's base path, for ``st.App(..., routes=...)``."""
    from dashboard.session_routes import route_url

    return [Route(route_url(READY), ready, methods=["GET"])]
