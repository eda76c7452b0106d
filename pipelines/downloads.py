"""Downloads in the browser: the view a page shows, as GeoPackage, GeoJSON, CSV and (the map) a PNG image.

Place in the data flow: show, on the read side. A page hands over the frames it drew, which it read
through :mod:`pipelines.privacy` (rows, published counts, register tables); the builders here rename
columns into words, put area names in place of codes and shape the layers, but never choose rows, so a
download holds what the screen shows and nothing else (no second filter to drift from the first).
:func:`deliver` writes one format and records it in the audit log as an ``export``, with the filters,
the rows per layer and, for an analyst's exact rows, how many are sensitive.

- The public and a cso get the counts exactly as the public export writes them
  (:func:`pipelines.export.public_view`: counts per area and hexagon, small counts suppressed, no
  point), made from the same published counts as the screen; a cso also its own organisation's points.
  Two downloads with different filters differ as two screens with those filters do: every count is
  published by the disclosure core for its own query, never derived here.
- Planners and ACT members get every row of the filters with sensitive rows at their generalised place
  and without free text (as :func:`pipelines.privacy.read_incidents` gave them to the page), and the
  counts per area and hexagon made from those rows (as the map colours them).
- The map image is drawn by the meeting pack's renderer (:func:`pipelines.act.figures.map_png`).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from pipelines import audit, auth, export, hexes, mapview, privacy
from pipelines.privacy import Viewer, suppress
from pipelines.schemas import CODE_COLUMN, COLUMNS, STORE_CRS
from pipelines.store.base import IncidentQuery, Store
from pipelines.views import category_labels, field_label, local_times, status_words


@dataclass(frozen=True)
class Format:
    label: str
    extension: str
    mime: str


FORMATS: dict[str, Format] = {
    "gpkg": Format("GeoPackage", "gpkg", "application/geopackage+sqlite3"),
    "geojson": Format("GeoJSON", "geojson", "application/geo+json"),
    "csv": Format("CSV", "csv", "text/csv"),
    "png": Format("Map image (PNG)", "png", "image/png"),
}
#: Layer names (GeoPackage tables, file names) of the map download.
MAP_LAYERS = {
    "counts": "incident_counts",
    "incidents": "incidents",
    "neighbourhood": "safe_neighbourhoods",
    "precinct": "police_precincts",
    "hexagons": "incidents_per_hexagon",
    "hotspots": "hot_spots",
    "assets": "assets",
    "interventions": "interventions",
}
#: Stored columns that mean nothing to the reader of a file (ids of batches, deduplication keys, raw rows).
_INTERNAL = ("fid", "batch_id", "dedupe_key", "raw", "generalised", "sensitive", "sha256")
#: Greys of the map image's hexagon classes, lightest (fewest) first: read in black and white.
_GREYS = ("0.93", "0.8", "0.64", "0.46", "0.28")


@dataclass(frozen=True)
class DownloadView:
    """What one page shows, ready to download; the frames are built when first asked for (a click), so a
    page that offers a download pays nothing for it until someone takes it.

    Attributes
    ----------
    page : str
        The page it comes from, in words ("map", "registers"); the start of every file name.
    plan : dict of str to (bool, callable)
        Layer name -> (whether it has a place, a function building the frame with columns in words). The
        first is the page's main layer (offered first).
    place, period : str or None
        The Safe Neighbourhood's name and the months, for the file names ("harare-2025-11-to-2026-10").
    filters : dict
        The filters in force, as recorded in the audit log.
    figure : callable or None
        Builds the map as a :class:`pipelines.act.figures.MapFigure` (map pages only).
    sensitive_rows : int
        Exact sensitive rows in the view (an analyst's), recorded in the audit log.
    """

    page: str
    plan: dict[str, tuple[bool, Callable[[], pd.DataFrame]]]
    place: str | None = None
    period: str | None = None
    filters: dict = field(default_factory=dict)
    figure: Callable[[], object] | None = None
    sensitive_rows: int = 0

    @cached_property
    def layers(self) -> dict[str, pd.DataFrame]:
        """Layer name -> frame (a GeoDataFrame for a layer with a place)."""
        return {name: make() for name, (_, make) in self.plan.items()}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.plan)

    def geographic(self, layer: str | None = None) -> bool:
        """Whether ``layer`` (default: any layer) has a place."""
        if layer is not None:
            return self.plan[layer][0]
        return any(geo for geo, _ in self.plan.values())

    @property
    def formats(self) -> tuple[str, ...]:
        """GeoPackage and GeoJSON when a layer has a place, CSV always, PNG with a map."""
        geo = ("gpkg", "geojson") if self.geographic() else ()
        return (*geo, "csv", *(("png",) if self.figure is not None else ()))

    def rows(self) -> dict[str, int]:
        return {name: len(frame) for name, frame in self.layers.items()}

    def file_name(self, fmt: str, layer: str | None = None) -> str:
        """The file's name in words: page, layer (one-layer formats), neighbourhood and months."""
        parts = ["areasafe", self.page]
        if fmt in ("geojson", "csv") and len(self.plan) > 1:
            parts.append(layer or self.names[0])
        parts += [self.place or "all-areas", *([self.period] if self.period else [])]
        return f"{_slug('-'.join(parts))}.{FORMATS[fmt].extension}"


def to_bytes(view: DownloadView, fmt: str, layer: str | None = None) -> bytes:
    """One format of ``view``: every layer in a GeoPackage; ``layer`` (default the first) as GeoJSON or CSV;
    the map as a PNG."""
    if fmt not in view.formats:
        raise ValueError(f"this view is offered as {', '.join(view.formats)}; got {fmt!r}")
    if fmt == "png":
        from pipelines.act.figures import map_png

        return map_png(view.figure(), width_in=8.0, height_in=9.0)
    if fmt == "gpkg":
        return _geopackage(view.layers)
    frame = view.layers[layer or view.names[0]]
    if fmt == "csv":
        return export.csv_text(_text_times(frame)).encode("utf-8")
    if not isinstance(frame, gpd.GeoDataFrame):
        raise ValueError(f"layer {layer!r} has no place; download it as CSV")
    return _text_times(frame).to_crs(STORE_CRS).to_json(drop_id=True, ensure_ascii=False).encode("utf-8")


def deliver(
    store: Store,
    viewer: Viewer,
    view: DownloadView,
    fmt: str,
    layer: str | None = None,
    *,
    session: auth.Session | None = None,
) -> bytes:
    """:func:`to_bytes`, recorded in the audit log as an ``export`` by ``viewer`` (file, format, filters,
    rows per layer, sensitive rows).

    A button is drawn before it is clicked: with the ``session`` that drew it, the file is built only if
    that session is still live when it is clicked (:func:`pipelines.auth.refresh_session`), so a logout, a
    disabled account or a changed role after the page drew delivers nothing (:class:`~pipelines.auth.SessionExpired`)."""
    if session is not None:
        if session.viewer != viewer:
            raise auth.SessionExpired("this download was drawn for another account; reload the page")
        auth.refresh_session(store, session)
    data = to_bytes(view, fmt, layer)
    chosen = layer or view.names[0]
    rows = view.rows() if fmt in ("gpkg", "png") else {chosen: len(view.layers[chosen])}
    detail = {"page": view.page, "format": fmt, "filters": view.filters, "rows": rows}
    if view.sensitive_rows:
        detail["sensitive_rows"] = view.sensitive_rows
    audit.record(store, "export", viewer=viewer, target=view.file_name(fmt, layer), detail=detail)
    return data


# --------------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------------
def map_view(
    store: Store,
    viewer: Viewer,
    query: IncidentQuery,
    *,
    areas: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    counts: privacy.PublishedCounts | None = None,
    assets: gpd.GeoDataFrame | None = None,
    interventions: gpd.GeoDataFrame | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
    layers: Sequence[str] = mapview.DEFAULT_LAYERS,
    area_kind: str = "neighbourhood",
    period: str | None = None,
) -> DownloadView:
    """The map explorer's view for ``viewer``, from the frames the page drew.

    ``incidents`` are the page's :func:`pipelines.privacy.read_incidents` rows and ``counts`` its
    :func:`pipelines.privacy.published_counts` (given for suppressed viewers, as on the page).
    """
    layers = set(layers)
    names = _area_names(areas)
    plan = _area_plan(store, viewer, query, areas, incidents, counts, layers, area_kind, period)
    _add_row_layers(plan, viewer, incidents, areas, names, hotspots, layers)
    for name, frame in (("assets", assets), ("interventions", interventions)):
        if frame is not None and name in layers:
            plan[MAP_LAYERS[name]] = (True, partial(in_words, frame, names))
    place = names["neighbourhood"].get(query.neighbourhood) if query.neighbourhood else None
    sensitive = _sensitive_rows(viewer, incidents, plan)
    figure = partial(
        map_figure,
        areas,
        query.neighbourhood,
        hexagons=partial(_image_hexagons, incidents, areas, counts),
        suppressed=viewer.suppressed,
        hotspots=hotspots if "hotspots" in layers else None,
        assets=assets if "assets" in layers else None,
        interventions=interventions if "interventions" in layers else None,
        title=f"Incidents, {place or 'all areas'}" + (f", {period}" if period else ""),
    )
    return DownloadView(
        "map", plan, place=place, period=period, filters=describe(query, names), figure=figure, sensitive_rows=sensitive
    )


def _area_plan(
    store: Store,
    viewer: Viewer,
    query: IncidentQuery,
    areas: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    counts: privacy.PublishedCounts | None,
    layers: set[str],
    area_kind: str,
    period: str | None,
) -> dict[str, tuple[bool, Callable[[], pd.DataFrame]]]:
    """The map download's plan, begun with its area layer: the published counts for a suppressed viewer
    (who must come with them), else the areas' counts when the areas are shown."""
    plan: dict[str, tuple[bool, Callable[[], pd.DataFrame]]] = {}
    if viewer.suppressed:
        if counts is None or not counts.suppressed:
            raise ValueError("a suppressed viewer's map download needs the page's published counts")
        made = partial(export.public_view, store, query, period=period or "all", counts=counts)
        plan[MAP_LAYERS["counts"]] = (True, made)
    elif "areas" in layers:
        made = partial(_area_layer, areas, incidents, area_kind, crude=viewer.may("crude_rates"))
        plan[MAP_LAYERS[area_kind]] = (True, made)
    return plan


def _add_row_layers(
    plan: dict,
    viewer: Viewer,
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    names: Mapping[str, Mapping[str, str]],
    hotspots: gpd.GeoDataFrame | None,
    layers: set[str],
) -> None:
    """Add to ``plan`` the layers drawn from rows the viewer may see: the incidents, the hexagon counts and
    the hot spots."""
    statistics = viewer.may("statistics")
    if not viewer.is_public and len(incidents) and ({"points", "heat"} & layers or not viewer.sees_rows):
        plan[MAP_LAYERS["incidents"]] = (
            True,
            partial(incident_rows, incidents, names, sensitive=viewer.sees_sensitive),
        )
    if viewer.sees_rows and "hexagons" in layers:
        plan[MAP_LAYERS["hexagons"]] = (True, partial(_hexagon_layer, incidents, areas, statistics=statistics))
    if hotspots is not None and len(hotspots) and "hotspots" in layers:
        plan[MAP_LAYERS["hotspots"]] = (True, partial(hotspot_layer, hotspots, statistics=statistics))


def _sensitive_rows(viewer: Viewer, incidents: gpd.GeoDataFrame, plan: dict) -> int:
    """How many sensitive incident rows the download holds (for the audit log)."""
    if viewer.sees_sensitive and len(incidents) and (MAP_LAYERS["incidents"] in plan):
        return int(privacy.rows.sensitive_mask(incidents).sum())
    return 0


def table_view(
    page: str,
    tables: Mapping[str, pd.DataFrame],
    *,
    areas: gpd.GeoDataFrame | None = None,
    place: str | None = None,
    period: str | None = None,
    filters: dict | None = None,
) -> DownloadView:
    """A page's tables as shown (already read through :mod:`pipelines.privacy`), columns in words; a table
    with a geometry keeps it (GeoPackage and GeoJSON are offered then)."""
    names = _area_names(areas) if areas is not None else {"neighbourhood": {}, "precinct": {}}
    plan = {
        _slug(name).replace("-", "_"): (isinstance(frame, gpd.GeoDataFrame), partial(in_words, frame, names))
        for name, frame in tables.items()
    }
    return DownloadView(page, plan, place=place, period=period, filters=filters or {})


def profile_view(
    stats: privacy.ProfileStats,
    hotspots: gpd.GeoDataFrame,
    *,
    areas: gpd.GeoDataFrame,
    assets: gpd.GeoDataFrame,
    interventions: gpd.GeoDataFrame,
    code: str,
    period: str | None,
    statistics: bool = False,
) -> DownloadView:
    """The neighbourhood profile as shown: the monthly trend by category (suppressed as on the chart), the hot
    spots by class, and the neighbourhood's assets and interventions."""
    names = _area_names(areas)
    trend = stats.trend.assign(month=stats.trend[COLUMNS.month].astype(str))[[COLUMNS.month, COLUMNS.category, "shown"]]
    trend = trend.rename(columns={COLUMNS.month: "Month", COLUMNS.category: "Category", "shown": "Incidents"})
    plan = {
        "incidents_per_month": (False, lambda: trend),
        "hot_spots": (True, partial(hotspot_layer, hotspots, statistics=statistics)),
        "assets": (True, partial(in_words, assets[assets[COLUMNS.neighbourhood_code] == code], names)),
        "interventions": (
            True,
            partial(in_words, interventions[interventions[COLUMNS.neighbourhood_code] == code], names),
        ),
    }
    place = names["neighbourhood"].get(code, code)
    return DownloadView("profile", plan, place=place, period=period, filters={"neighbourhood": place, "period": period})


def describe(query: IncidentQuery, names: Mapping[str, Mapping[str, str]] | None = None) -> dict:
    """The filters of ``query`` in words, for the audit log and the file's reader."""
    hoods = (names or {}).get("neighbourhood", {})
    described = {
        "neighbourhood": hoods.get(query.neighbourhood, query.neighbourhood) if query.neighbourhood else None,
        "from": None if query.start is None else str(pd.Timestamp(query.start).date()),
        "until": None if query.end is None else str(pd.Timestamp(query.end).date()),
        "categories": list(query.categories) if query.categories else None,
        "sources": list(query.sources) if query.sources else None,
    }
    return {k: v for k, v in described.items() if v is not None}


def incident_rows(
    incidents: gpd.GeoDataFrame, names: Mapping[str, Mapping[str, str]], *, sensitive: bool = False
) -> gpd.GeoDataFrame:
    """Incident rows in words: reference, local time, category, source, organisation, description, areas
    by name, and whether the place is exact or generalised (as the map's popup says)."""
    labels = category_labels()
    rows = pd.DataFrame(index=incidents.index)
    rows["Reference"] = incidents[COLUMNS.incident_id].astype(str)
    rows["When"] = local_times(incidents[COLUMNS.occurred_at])
    rows["Category"] = incidents[COLUMNS.category].map(lambda c: labels.get(c, c))
    for column, label in (("raw_category", "Category as reported"), ("source", "Source"), ("org", "Organisation")):
        if column in incidents:
            rows[label] = incidents[column]
    if COLUMNS.description in incidents:
        rows["Description"] = incidents[COLUMNS.description]
    rows["Police precinct"] = incidents[COLUMNS.precinct_code].map(names["precinct"])
    rows["Safe Neighbourhood"] = incidents[COLUMNS.neighbourhood_code].map(names["neighbourhood"])
    if COLUMNS.external_id in incidents:
        rows["Id in the source data"] = incidents[COLUMNS.external_id]
    generalised = incidents["generalised"].astype(bool) if "generalised" in incidents else False
    rows["Location"] = np.where(generalised, "generalised to its hexagon centre", "as reported")
    if sensitive:
        rows["Sensitive category"] = np.where(privacy.rows.sensitive_mask(incidents), "yes", "no")
    return gpd.GeoDataFrame(rows.reset_index(drop=True), geometry=incidents.geometry.to_numpy(), crs=STORE_CRS)


def in_words(frame: pd.DataFrame, names: Mapping[str, Mapping[str, str]] | None = None) -> pd.DataFrame:
    """A table as a file's reader needs it: internal columns left out, areas by name, statuses and times in
    words, column names in words (:func:`pipelines.views.field_label`). Rows are not touched."""
    names = names or {}
    geometry = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else None
    table = pd.DataFrame(frame).drop(columns=[COLUMNS.geometry, *_INTERNAL], errors="ignore").copy()
    for kind, column in CODE_COLUMN.items():
        if column in table and names.get(kind):
            table[column] = table[column].map(lambda c, k=kind: names[k].get(c, c))
    for column in table.columns:
        values = table[column]
        if column == "status":
            table[column] = values.map(status_words)
        elif column.endswith("_at") or pd.api.types.is_datetime64_any_dtype(values):
            table[column] = local_times(values)
    # Stored names ("abcd_category") in words; a page's table already in words keeps its headings.
    table = table.rename(
        columns=lambda c: field_label(c) if isinstance(c, str) and c == c.lower() and " " not in c else c
    )
    table = table.reset_index(drop=True)
    if geometry is None:
        return table
    return gpd.GeoDataFrame(table, geometry=geometry.to_numpy(), crs=geometry.crs or STORE_CRS)


def hotspot_layer(cells: gpd.GeoDataFrame, *, statistics: bool = False) -> gpd.GeoDataFrame:
    """Hot-spot cells as the map names them (class and meaning in words, the count as the viewer may
    see it); the H3 id and the statistics for analysts only."""
    from pipelines.hotspots.emerging import HOTSPOT_CLASS, hotspot_classes

    classes = (
        cells["hotspot_class"]
        if "hotspot_class" in cells
        else pd.Series(hotspot_classes(cells["gi_bin"], cells["emerging"]), index=cells.index)
    )
    layer = pd.DataFrame(
        {
            "Hot spot": [HOTSPOT_CLASS[c].label for c in classes],
            "What it means": [HOTSPOT_CLASS[c].meaning for c in classes],
            "Incidents in the period": cells["shown"].astype(str)
            if "shown" in cells
            else cells[COLUMNS.count].map(lambda v: "" if pd.isna(v) else f"{int(v)}"),
        }
    )
    if statistics:
        layer["Hexagon"] = cells["cell_id"].to_numpy()
        layer["z-score"] = cells["gi_z"].round(2).to_numpy()
        layer["p-value"] = cells["gi_p"].round(4).to_numpy()
    return gpd.GeoDataFrame(layer, geometry=cells.geometry.to_numpy(), crs=cells.crs or STORE_CRS)


def map_figure(
    areas: gpd.GeoDataFrame,
    focus: str | None,
    *,
    hexagons: Callable[[], pd.Series],
    suppressed: bool,
    hotspots: gpd.GeoDataFrame | None = None,
    assets: gpd.GeoDataFrame | None = None,
    interventions: gpd.GeoDataFrame | None = None,
    title: str = "",
):
    """The map image's content (:class:`pipelines.act.figures.MapFigure`): the chosen neighbourhood (or every
    one), incidents per hexagon in the map's classes, hot spots, assets and interventions."""
    from pipelines.act.figures import MapFigure

    hoods = areas[areas[COLUMNS.kind] == "neighbourhood"]
    area = hoods[hoods[COLUMNS.code] == focus] if focus else hoods
    if not len(area):
        area = areas
    label = f"{area['name'].iloc[0]} boundary" if focus and len(area) == 1 else "Safe Neighbourhood boundaries"
    hexagons = hexagons()
    shown = hexagons.fillna(0).astype(float)
    lows = mapview.nice_breaks(shown.to_numpy(), first=suppress.threshold() if suppressed else None)
    labels = mapview.class_labels(lows)
    classes = mapview.class_of(shown.to_numpy(), lows)
    greys = [_GREYS[i] for i in np.round(np.linspace(0, len(_GREYS) - 1, len(lows))).astype(int)]
    order = np.argsort(classes, kind="stable")
    polygons = hexes.cell_polygons(hexagons.index[order].to_numpy())
    cells = gpd.GeoDataFrame(
        {"label": [labels[c] for c in classes[order]], "grey": [greys[c] for c in classes[order]]},
        geometry=polygons,
        crs=STORE_CRS,
    )
    notes = ["Counts below 5 are shown as the lowest class (0–4)." if suppressed else ""]
    if assets is not None and len(assets):
        assets = assets[~(assets.geometry.is_empty | assets.geometry.isna()) & (assets.geom_type == "Point")]
    return MapFigure(
        area=area,
        area_label=label,
        metric_crs=area.estimate_utm_crs(),
        hotspots=hotspots,
        hexagons=cells,
        assets=assets,
        interventions=interventions,
        title=title,
        note=" ".join(n for n in notes if n),
    )


# --------------------------------------------------------------------------------------------------
# Private steps
# --------------------------------------------------------------------------------------------------
def _area_names(areas: gpd.GeoDataFrame) -> dict[str, dict[str, str]]:
    return {
        kind: dict(zip(chosen[COLUMNS.code], chosen[COLUMNS.name].fillna(chosen[COLUMNS.code]), strict=True))
        for kind, chosen in ((k, areas[areas[COLUMNS.kind] == k]) for k in ("precinct", "neighbourhood"))
    }


def _area_layer(areas: gpd.GeoDataFrame, incidents: pd.DataFrame, kind: str, *, crude: bool) -> gpd.GeoDataFrame:
    """Counts and rates per area as the map colours them (:func:`pipelines.mapview.area_summary`)."""
    summary = mapview.area_summary(areas, incidents, kind=kind)
    layer = pd.DataFrame(
        {
            "Name": summary[COLUMNS.name].to_numpy(),
            "Incidents": summary[COLUMNS.count].astype(int).to_numpy(),
            "Residents": pd.to_numeric(summary[COLUMNS.population], errors="coerce")
            .round(0)
            .astype("Int64")
            .to_numpy(),
            "Per 1,000 residents (smoothed)": summary["rate"].to_numpy(),
        }
    )
    if crude:
        layer["Per 1,000 residents (crude)"] = summary["crude_rate"].to_numpy()
    layer["Note"] = summary["rate_note"].to_numpy()
    return gpd.GeoDataFrame(layer, geometry=summary.geometry.to_numpy(), crs=STORE_CRS)


def _hexagon_layer(incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, statistics: bool) -> gpd.GeoDataFrame:
    """Incidents per hexagon from the viewer's rows, as the map's hexagon layer counts them."""
    counts = _row_hexagons(incidents, areas)
    layer = pd.DataFrame({"Incidents": counts.to_numpy(dtype=int)})
    if statistics:
        layer["Hexagon"] = counts.index.to_numpy()
    polygons = hexes.cell_polygons(counts.index.to_numpy())
    return gpd.GeoDataFrame(layer, geometry=polygons, crs=STORE_CRS)


def _image_hexagons(
    incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, counts: privacy.PublishedCounts | None
) -> pd.Series:
    """The counts per hexagon the image shades: the published ones for suppressed viewers, else the rows'."""
    if counts is not None and counts.suppressed:
        return counts.cells.set_index("cell")[COLUMNS.count]
    return _row_hexagons(incidents, areas)


def _row_hexagons(incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.Series:
    """Incidents per H3 cell of the viewer's rows (index: cell), busiest first: the map's own counts
    (:func:`pipelines.mapview.map_counts`)."""
    return mapview.map_counts(incidents, areas).cells.set_index("cell")[COLUMNS.count].astype(int).rename_axis(None)


def _text_times(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates and times as text (GeoJSON and CSV have no time type; local times are already text)."""
    out = frame.copy()
    for column in out.columns:
        if column != getattr(out, "_geometry_column_name", None) and pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = local_times(out[column])
    return out


def _geopackage(layers: Mapping[str, pd.DataFrame]) -> bytes:
    with tempfile.TemporaryDirectory(prefix="areasafe-download-") as folder:
        path = Path(folder) / "download.gpkg"
        for number, (name, frame) in enumerate(layers.items()):
            frame = _text_times(frame)
            if isinstance(frame, gpd.GeoDataFrame):
                frame = frame.to_crs(STORE_CRS)
                pyogrio.write_dataframe(
                    frame, path, layer=name, driver="GPKG", append=number > 0, geometry_type=_geometry_type(frame)
                )
            else:
                pyogrio.write_dataframe(pd.DataFrame(frame), path, layer=name, driver="GPKG", append=number > 0)
        return path.read_bytes()


def _geometry_type(frame: gpd.GeoDataFrame) -> str:
    """One geometry type per layer as QGIS expects it; mixed layers (interventions) are ``Unknown``."""
    types = set(frame.geom_type.dropna())
    if len(types) == 1:
        return types.pop()
    if types and types <= {"Polygon", "MultiPolygon"}:
        return "MultiPolygon"
    return "Unknown"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "-", str(text).lower()).strip("-") or "download"
