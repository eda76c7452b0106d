"""``GET /api/map-files/<name>``: the files a map loads by URL (its road lines), from the cache folder.

Place in the data flow: show. :func:`pipelines.mapview.build_map` writes a map's road lines once per extent
as a GeoJSON file named by its content (``MapOptions.roads_files``, :func:`roads_files`) into
:func:`folder`, below the cache folder of :func:`pipelines.settings.cache_dir`, never into the installed
package; this route, served beside Streamlit by ``dashboard/areasafe_server.py`` on the same origin, hands
them to the browser. Nothing leaves the machine: it works offline. A server started without the route
(``streamlit run dashboard/app.py`` alone) has no URL for them, so its maps carry their road lines inline.
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from pipelines import settings

#: Where the route answers, below the app's base path.
ROUTE = "/api/map-files"
#: The only names the route serves: what pipelines.mapview.roads writes (a content hash), nothing else.
_NAME = re.compile(r"roads-[0-9a-f]{16}\.geojson")
_SERVED = False  # whether this process serves the route (set by routes(), before any map is built)


def folder() -> Path:
    """The folder the map's files are written into and served from: ``map-files`` in the cache folder."""
    return settings.cache_dir() / "map-files"


def roads_files() -> tuple[str, str] | None:
    """``(folder, URL)`` for ``MapOptions.roads_files`` when this server serves the route; ``None`` (road
    lines inline in each map) when it does not."""
    from dashboard.session_routes import route_url

    return (str(folder()), route_url(ROUTE)) if _SERVED else None


async def serve(request: Request) -> Response:
    """The named file of :func:`folder`; 404 for any other name. Named by content, so browsers keep it."""
    name = request.path_params["file"]
    path = folder() / name
    # only a plain file in the folder itself: a link planted there could point at the store
    if (
        not _NAME.fullmatch(name)
        or path.is_symlink()
        or not path.is_file()
        or path.resolve().parent != folder().resolve()
    ):
        return Response("no such map file", status_code=404, media_type="text/plain")
    return FileResponse(
        path, media_type="application/geo+json", headers={"Cache-Control": "public, max-age=31536000, immutable"}
    )


def routes() -> list[Route]:
    """The route below the app's base path, for ``st.App(..., routes=...)``; from then on this process's
    maps load their road lines from it (:func:`roads_files`)."""
    from dashboard.session_routes import route_url

    global _SERVED
    _SERVED = True
    return [Route(route_url(ROUTE) + "/{file}", serve, methods=["GET"])]
