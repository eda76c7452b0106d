"""``/api/map-files/<name>`` (dashboard.map_files): a running dashboard writes the map's road lines into the
cache folder, never into its own package, and serves them from there on its own origin (offline)."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from starlette.requests import Request

from dashboard import map_files, maps
from dashboard.loaders import Filters
from pipelines import mapview, settings
from pipelines.privacy import PUBLIC

PACKAGE = Path(maps.__file__).resolve().parent


def _get(name: str):
    request = Request(
        {"type": "http", "method": "GET", "path": f"{map_files.ROUTE}/{name}", "headers": [], "query_string": b""}
    )
    request.scope["path_params"] = {"file": name}
    answers = []  # in a thread of its own: a browser test's Playwright may hold this thread's event loop
    asker = threading.Thread(target=lambda: answers.append(asyncio.run(map_files.serve(request))))
    asker.start()
    asker.join()
    return answers[0]


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


@pytest.fixture
def served(monkeypatch, tmp_path):
    """This process serving the route, with its cache folder in ``tmp_path``."""
    monkeypatch.setattr(map_files, "_SERVED", False)
    assert map_files.roads_files() is None  # no route: road lines inline, no file written anywhere
    map_files.routes()
    with settings.override(cache_dir=str(tmp_path / "cache")):
        yield tmp_path / "cache" / "map-files"


def test_the_explorer_map_writes_its_roads_to_the_cache_folder_and_the_route_serves_them(served):
    if mapview.load_context_roads() is None:
        pytest.skip("data/demo/context_roads.fgb is absent")
    areas = gpd.GeoDataFrame(
        {"code": ["A"], "name": ["Alpha"], "kind": "neighbourhood", "population": [2000.0]},
        geometry=[shapely.box(18.60, -34.05, 18.64, -34.03)],
        crs=4326,
    )
    nothing = gpd.GeoDataFrame({"neighbourhood_code": []}, geometry=[], crs=4326)
    package_before = _files(PACKAGE)
    result = maps.explorer_map(
        Filters(None, None, None, None, None), PUBLIC, layers=("roads",), metric="count", area_kind="neighbourhood",
        online=False, areas=areas, incidents=nothing, counts=None, hot=None, assets=None, interventions=None,
        population_source="",
    )  # fmt: skip
    assert _files(PACKAGE) == package_before  # nothing written into the installed package
    written = _files(served)
    assert len(written) == 1 and result.stats["road_lines"] > 0
    name = written.pop().name
    assert f'"{map_files.ROUTE}/{name}"' in result.map.get_root().render()  # the map loads it by URL
    answer = _get(name)
    assert answer.status_code == 200 and answer.media_type == "application/geo+json"
    assert "immutable" in answer.headers["cache-control"]  # named by its content: the browser keeps it
    assert len(json.loads(Path(answer.path).read_text())["features"]) == result.stats["road_lines"]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("roads-0123456789abcdef.geojson", id="absent"),
        pytest.param("..%2F..%2Fpipelines%2Fsettings.py", id="traversal"),
        pytest.param("../map-files/roads-0123456789abcdef.geojson", id="dot-dot"),
        pytest.param("roads-0123456789ABCDEF.geojson", id="not-a-hash"),
        pytest.param("notes.txt", id="another-file"),
    ],
)
def test_the_route_serves_nothing_but_the_map_files(served, name):
    served.mkdir(parents=True)
    (served / "notes.txt").write_text("not a map file")
    assert _get(name).status_code == 404


def test_a_link_planted_in_the_cache_folder_is_not_followed(served, tmp_path):
    """Whoever can write into the cache folder must not be able to publish the store through the route."""
    served.mkdir(parents=True)
    secret = tmp_path / "areasafe.gpkg"
    secret.write_text("the whole store")
    (served / "roads-0123456789abcdef.geojson").symlink_to(secret)
    assert _get("roads-0123456789abcdef.geojson").status_code == 404


def _roads_map():
    areas = gpd.GeoDataFrame(
        {"code": ["A"], "name": ["Alpha"], "kind": "neighbourhood", "population": [2000.0]},
        geometry=[shapely.box(18.60, -34.05, 18.64, -34.03)],
        crs=4326,
    )
    nothing = gpd.GeoDataFrame({"neighbourhood_code": []}, geometry=[], crs=4326)
    return maps.explorer_map(
        Filters(None, None, None, None, None), PUBLIC, layers=("roads",), metric="count", area_kind="neighbourhood",
        online=False, areas=areas, incidents=nothing, counts=None, hot=None, assets=None, interventions=None,
        population_source="",
    )  # fmt: skip


def test_a_planted_roads_file_is_written_over_with_the_real_lines(served):
    if mapview.load_context_roads() is None:
        pytest.skip("data/demo/context_roads.fgb is absent")
    from pipelines.mapview import roads

    roads._roads_file.cache_clear()
    _roads_map()
    (written,) = _files(served)
    real = written.read_text()
    written.unlink()
    fake = served.parent / "elsewhere.geojson"
    fake.write_text('{"type": "FeatureCollection", "features": []}')
    written.symlink_to(fake)  # a link planted under the real name
    roads._roads_file.cache_clear()  # as a new server process would
    _roads_map()
    assert not written.is_symlink() and written.read_text() == real
    assert _get(written.name).status_code == 200


def test_the_cache_folder_is_configured_outside_the_package(monkeypatch, tmp_path):
    monkeypatch.delenv(settings.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert settings.cache_dir() == tmp_path / "xdg" / "areasafe"
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path / "env"))
    assert settings.cache_dir() == tmp_path / "env"
    with settings.override(cache_dir=str(tmp_path / "set")):
        assert settings.cache_dir() == tmp_path / "set"
