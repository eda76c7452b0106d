"""What a map is asked for and what it gives back: the layers, :class:`MapOptions`, :class:`MapResult`, and
the one rule for text that came from a file or a form (:func:`safe_text`), and how a popup carries the
reference a click reads back without showing it (:func:`hidden_reference`).

Place in the data flow: show. Every other module of :mod:`pipelines.mapview` takes these.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

import folium
import pandas as pd

from pipelines.errors import AreaSafeError
from pipelines.mapview.click import NUMBERED, parse_ref
from pipelines.mapview.legend import LegendSection
from pipelines.privacy.published import PublishedCounts, exact_counts

#: URL prefix under which Streamlit serves ``<repo>/static`` when static serving is on.
STATIC_URL = "/app/static/vendor"

LAYERS = ("areas", "hotspots", "heat", "hexagons", "points", "assets", "interventions", "roads")
DEFAULT_LAYERS = ("areas", "hotspots", "points", "assets", "interventions", "roads")
#: Each layer's name in the page's layer choice, in words.
LAYER_LABELS = {
    "areas": "Areas",
    "hotspots": "Hot spots",
    "heat": "Heat (density)",
    "hexagons": "Hexagon counts",
    "points": "Incidents (points)",
    "assets": "ABCD assets",
    "interventions": "Interventions",
    "roads": "Roads",
}
#: ``rate`` is the Empirical Bayes smoothed rate per 1,000 residents; ``crude_rate`` the unsmoothed one.
METRICS = ("count", "rate", "crude_rate")
METRIC_NAMES = {
    "count": "incidents",
    "rate": "incidents per 1,000 residents (smoothed)",
    "crude_rate": "incidents per 1,000 residents (crude, not smoothed)",
}
#: The hexagons' H3 resolution when the map counts the rows it was given (:func:`map_counts`).
H3_RESOLUTION = 9


class MapError(AreaSafeError):
    """The map cannot be built from these options; the message says which option to fix."""


@dataclass(frozen=True)
class MapOptions:
    """What the map shows. Caps bound the payload whatever the number of incidents."""

    layers: Sequence[str] = DEFAULT_LAYERS
    area_kind: str = "neighbourhood"
    metric: str = "count"  # count, smoothed rate or crude rate per 1,000 residents (METRICS)
    h3_resolution: int = H3_RESOLUTION
    max_hexagons: int = 1_500
    max_hotspot_cells: int = 1_500
    max_heat_cells: int = 2_500
    max_points: int = 2_000  # clustered points only below this; above it a seeded sample is drawn
    max_road_vertices: int = 30_000
    online_tiles: bool = False
    static_url: str = STATIC_URL
    #: ``(folder, URL of that folder)``: the context road lines are written there once as a GeoJSON file and
    #: the map loads them by URL (the browser keeps the file), instead of carrying them in every map.
    roads_files: tuple[str, str] | None = None
    height: int = 620
    seed: int = 0
    #: Show the statistics behind the map (H3 ids, Gi* bins, z-scores, emerging categories) in popups and
    #: layer names: for analysts. Everyone else reads the classes in words.
    statistics: bool = False

    def __post_init__(self) -> None:
        unknown = sorted(set(self.layers) - set(LAYERS))
        if unknown:
            raise MapError(f"layers {unknown} are unknown; choose from {', '.join(LAYERS)}")
        if self.metric not in METRICS:
            raise MapError(f"metric must be one of {', '.join(METRICS)}; got {self.metric!r}")


@dataclass
class MapResult:
    """A built map, the legend to draw beside it, and what went into the payload.

    ``refs`` maps the short references shown in popups when the statistics are hidden (``hotspot:3``,
    ``hexagon:12``) to the feature they stand for (``("cell", <H3 id>)``): :meth:`clicked` reads a click back.
    """

    map: folium.Map
    legend: list[LegendSection]
    stats: dict[str, int | bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    refs: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: H3 cell -> its count as the hexagon layer shows it (``"<5"`` for a suppressed one), for the record
    #: of a clicked hexagon (:func:`pipelines.views.feature_record`).
    cell_counts: dict[str, str] = field(default_factory=dict)

    def clicked(self, text: str | None) -> tuple[str, str] | None:
        """``(kind, id)`` of the feature whose popup text st_folium returned (see :func:`parse_ref`)."""
        ref = parse_ref(text)
        if ref is not None and ref[0] in NUMBERED:
            return self.refs.get(f"{ref[0]}:{ref[1]}")
        return ref


def allowed_layers(viewer) -> tuple[str, ...]:
    """The layers a :class:`pipelines.privacy.Viewer` may switch on: no heat surface for viewers who do not
    see every row (a kernel density of few points shows where they are), no points for the public."""
    if viewer.sees_rows:
        return LAYERS
    return tuple(layer for layer in LAYERS if layer != "heat" and (layer != "points" or not viewer.is_public))


def safe_text(value: object) -> str:
    """``value`` as text that folium can paste into HTML or a JavaScript template literal and that shows
    literally: HTML-escaped, with backticks, ``$`` and backslashes as entities too."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True).replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


#: The class of the element holding a popup's reference (the incident points' script makes the same).
REF_CLASS = "areasafe-ref"
# Clipped to nothing but rendered: streamlit-folium reads a clicked popup back with ``innerText``, which
# leaves out an element hidden with ``display: none`` but keeps this one. The screen-reader-only pattern.
REF_STYLE = "position:absolute;width:1px;height:1px;margin:-1px;padding:0;border:0;overflow:hidden;clip:rect(0 0 0 0)"


def hidden_reference(ref: str) -> str:
    """A popup's reference (``asset:A1``, ``hexagon:3``) as HTML that is in the popup's text, where a click
    reads it back (:meth:`MapResult.clicked`), but not on screen: an internal id is not for planners, ACT
    members or the public (an analyst sees a hexagon's H3 id in its record, one click away). Escaped with
    :func:`safe_text`; ``aria-hidden``, so a screen reader does not read it out either. It starts with a
    space, so that the popup's text before it never runs into it."""
    return f'<span class="{REF_CLASS}" aria-hidden="true" style="{REF_STYLE}"> {safe_text(ref)}</span>'


def map_counts(
    incidents: pd.DataFrame,
    areas: pd.DataFrame,
    counts: PublishedCounts | None = None,
    *,
    resolution: int = H3_RESOLUTION,
) -> PublishedCounts:
    """The counts per area and hexagon a map draws: ``counts``, the published counts for the viewer, when
    given; else the rows' own counts, made by the disclosure core (:func:`pipelines.privacy.exact_counts`)
    as it makes the published ones. The map counts nothing itself."""
    return counts if counts is not None else exact_counts(incidents, areas, resolution=resolution)
