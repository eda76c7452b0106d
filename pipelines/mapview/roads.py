"""The offline roads layer: simplified road lines from ``data/demo/context_roads.fgb``, clipped to the map's
extent and capped in vertices, so the map has streets to read by with no tile server.

Place in the data flow: show. :func:`pipelines.mapview.build_map` draws them under the other layers; the
pack's map (:mod:`pipelines.act.figures`) reads the same file with :func:`load_context_roads`.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from jinja2 import Template

from pipelines.mapview.legend import LegendSection
from pipelines.mapview.model import MapOptions, MapResult
from pipelines.schemas import COLUMNS
from pipelines.settings import DEMO_DIR

CONTEXT_ROADS_PATH = DEMO_DIR / "context_roads.fgb"


def load_context_roads(
    path: str | Path = CONTEXT_ROADS_PATH, *, bbox: tuple[float, float, float, float] | None = None
) -> gpd.GeoDataFrame | None:
    """The simplified offline road lines (``data/demo/context_roads.fgb``), or ``None`` when absent.

    ``bbox`` (min lon, min lat, max lon, max lat) reads only the lines that cross it (the file's spatial index).
    """
    path = Path(path)
    if not path.exists():
        return None
    source = (str(path), path.stat().st_mtime_ns, bbox)
    roads = _read_roads(*source).copy()
    roads.attrs[_ROADS_SOURCE] = source  # lets the map reuse the lines' GeoJSON (_roads_geojson_of)
    return roads


_ROADS_SOURCE = "areasafe_roads_source"


@lru_cache(maxsize=8)
def _read_roads(path: str, mtime_ns: int, bbox: tuple[float, float, float, float] | None) -> gpd.GeoDataFrame:
    """The road lines, read once per file version: every map page draws them."""
    return gpd.read_file(path, bbox=bbox)


def add_roads(m, roads: gpd.GeoDataFrame, bounds, options: MapOptions, result: MapResult) -> None:
    """The road lines near ``bounds``, by URL when the map has a folder for them (``options.roads_files``)."""
    source = roads.attrs.get(_ROADS_SOURCE)
    if source is not None:  # the context file: its GeoJSON for this extent is made once per process
        lines, trimmed = _roads_geojson_of(source, bounds, options.max_road_vertices)
    else:
        lines, trimmed = _roads_geojson(roads, bounds, options.max_road_vertices)
    if trimmed:
        result.notes.append("Roads: only the longest lines are drawn at this extent.")
    if not lines["features"]:
        return
    if source is not None and options.roads_files is not None:
        group = folium.FeatureGroup(name="Roads (offline context)", control=True).add_to(m)
        _RoadsByUrl(_roads_file(source, bounds, options.max_road_vertices, options.roads_files)).add_to(group)
    else:
        folium.GeoJson(
            lines,
            name="Roads (offline context)",
            style_function=lambda f: {"color": "#9e9e9e", "weight": 1.2, "opacity": 0.9},
            interactive=False,
            control=True,
        ).add_to(m)
    result.stats["road_lines"] = len(lines["features"])
    result.legend.append(LegendSection("Context", (("Roads (SJC / City of Cape Town)", "#9e9e9e"),)))


def _roads_geojson(roads: gpd.GeoDataFrame, bounds, max_vertices: int) -> tuple[dict, bool]:
    """The road lines near ``bounds`` as GeoJSON, the longest first up to ``max_vertices`` vertices, and
    whether lines were left out for that budget."""
    if bounds is not None:
        pad = 0.01
        roads = roads.cx[bounds[0] - pad : bounds[2] + pad, bounds[1] - pad : bounds[3] + pad]
    vertices = shapely.get_num_coordinates(roads.geometry.to_numpy())
    trimmed = bool(vertices.sum() > max_vertices)
    if trimmed:
        # keep the longest lines (main roads) until the vertex budget is spent
        order = np.argsort(-roads.geometry.length.to_numpy())
        keep = order[np.cumsum(vertices[order]) <= max_vertices]
        roads = roads.iloc[np.sort(keep)]
    # As folium converts a frame; each feature keeps geopandas' "id", so folium never adds one to a shared dict.
    lines = roads[[COLUMNS.geometry]].to_crs("EPSG:4326")
    return json.loads(json.dumps(lines.__geo_interface__)), trimmed


@lru_cache(maxsize=32)
def _roads_file(source: tuple, bounds, max_vertices: int, files: tuple[str, str]) -> str:
    """The URL of the road lines' GeoJSON for this extent, written once into ``files[0]`` (named by content)."""
    text = json.dumps(_roads_geojson_of(source, bounds, max_vertices)[0], separators=(",", ":"))
    name = f"roads-{hashlib.sha256(text.encode()).hexdigest()[:16]}.geojson"
    folder, path = Path(files[0]), Path(files[0]) / name
    # Written again unless it is a plain file holding exactly these lines: whatever else sits under the
    # name (a link, another's content) is replaced, not served.
    if path.is_symlink() or not path.is_file() or path.read_text() != text:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        part = folder / f".{name}.{os.getpid()}"
        part.write_text(text)
        part.replace(folder / name)  # whole or absent: a reader never sees half a file
    return f"{files[1].rstrip('/')}/{name}"


class _RoadsByUrl(MacroElement):
    """The road lines loaded from a static file into the enclosing layer (not clickable)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        fetch({{ this.url|tojson }}).then(r => r.json()).then(d => L.geoJSON(d, {
            style: {color: "#9e9e9e", weight: 1.2, opacity: 0.9}, interactive: false
        }).addTo({{ this._parent.get_name() }}));
        {% endmacro %}"""
    )

    def __init__(self, url: str) -> None:
        super().__init__()
        self._name = "RoadsByUrl"
        self.url = url


@lru_cache(maxsize=32)
def _roads_geojson_of(source: tuple, bounds, max_vertices: int) -> tuple[dict, bool]:
    return _roads_geojson(_read_roads(*source), bounds, max_vertices)
