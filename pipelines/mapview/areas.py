"""The areas layer: Safe Neighbourhoods or precincts coloured by their count or rate per 1,000 residents,
with their names on the map.

Place in the data flow: show. The counts come from the disclosure core (:func:`pipelines.mapview.map_counts`:
the viewer's published counts, or the rows' own counts made there); this module turns them into rates
(:func:`pipelines.hotspots.rates.rate_table`), colour classes and words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines.hotspots.rates import CRUDE_RATE, EB_RATE, NOTE, rate_table
from pipelines.mapview.click import refer_areas
from pipelines.mapview.legend import LegendSection, class_labels, class_of, nice_breaks, palette
from pipelines.mapview.model import METRIC_NAMES, MapOptions, MapResult, hidden_reference, map_counts, safe_text
from pipelines.privacy import suppress
from pipelines.schemas import COLUMNS

if TYPE_CHECKING:
    from pipelines.privacy import PublishedCounts


def area_summary(
    areas: gpd.GeoDataFrame,
    incidents: pd.DataFrame | None,
    *,
    kind: str,
    counts: PublishedCounts | None = None,
    counted_in: str | None = None,
) -> gpd.GeoDataFrame:
    """Areas of ``kind`` with ``count``, ``shown`` (the count as displayed), ``rate`` (incidents per 1,000
    residents, Empirical Bayes smoothed), ``crude_rate`` and ``rate_note`` (why a rate is missing or
    uncertain); rates are NaN without a population.

    The counts are ``counts``, the viewer's published counts, when given, else the rows' own counts made by
    the disclosure core (:func:`pipelines.mapview.map_counts`): one counting path either way. A suppressed
    count is NaN and shown as ``"<5"``; its rates are NaN too, and it is left out of the smoothing
    (:func:`pipelines.hotspots.rates.rate_table`), so no rate on the map gives a hidden count back.

    With ``counted_in`` (the Safe Neighbourhood the incidents were filtered to) an area that lies outside it
    was not counted at all: its count is NaN (left out of the smoothing too), ``outside`` is True and
    ``shown`` says so in words instead of "0".
    """
    chosen = areas[areas[COLUMNS.kind] == kind].copy()
    published = map_counts(incidents, areas, counts).area_counts(kind).set_index(COLUMNS.code)
    chosen[COLUMNS.count] = chosen[COLUMNS.code].map(published[COLUMNS.count]).astype(float)
    chosen["shown"] = chosen[COLUMNS.code].map(published["shown"]).fillna("0")
    chosen["outside"] = _outside(chosen, areas, counted_in)
    chosen.loc[chosen["outside"], COLUMNS.count] = np.nan
    chosen.loc[chosen["outside"], "shown"] = OUTSIDE_WORDS
    rates = rate_table(chosen, chosen.set_index(COLUMNS.code)[COLUMNS.count], kind=kind).table.set_index(COLUMNS.code)
    chosen["rate"] = chosen[COLUMNS.code].map(rates[EB_RATE]).round(2)
    chosen["crude_rate"] = chosen[COLUMNS.code].map(rates[CRUDE_RATE]).round(2)
    chosen["rate_note"] = chosen[COLUMNS.code].map(rates[NOTE]).fillna("").where(~chosen["outside"], "")
    return chosen


#: What an area outside the chosen Safe Neighbourhood shows instead of a count.
OUTSIDE_WORDS = "not counted: outside the chosen Safe Neighbourhood"

#: What such an area shows instead of a rate: its incidents were not counted, so there is nothing to divide.
OUTSIDE_RATE_WORDS = "none: its incidents were not counted"


def _outside(chosen: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, counted_in: str | None) -> pd.Series:
    """Which of ``chosen`` lie outside the neighbourhood ``counted_in``: every other neighbourhood, and the
    precincts that share no more than a boundary sliver (under 1% of the neighbourhood) with it."""
    if counted_in is None:
        return pd.Series(False, index=chosen.index)
    focus = areas[(areas[COLUMNS.kind] == "neighbourhood") & (areas[COLUMNS.code] == counted_in)]
    if not len(focus):
        return pd.Series(False, index=chosen.index)
    if (chosen[COLUMNS.kind] == "neighbourhood").all():
        return chosen[COLUMNS.code] != counted_in
    shape = focus.geometry.union_all()
    shared = chosen.geometry.intersection(shape).area.to_numpy()
    return pd.Series(shared < 0.01 * shape.area, index=chosen.index)


def add_areas(
    m,
    areas: gpd.GeoDataFrame,
    counts: PublishedCounts,
    options: MapOptions,
    result: MapResult,
    *,
    population_source: str | None = None,
    counted_in: str | None = None,
) -> None:
    """The areas coloured by ``options.metric`` from ``counts`` (:func:`pipelines.mapview.map_counts`), with
    their names and a legend section."""
    summary = area_summary(areas, None, kind=options.area_kind, counts=counts, counted_in=counted_in)
    if not len(summary):
        return
    decimals = 0 if options.metric == "count" else 1
    lows, colours = _colour_areas(summary, options, counts, decimals)
    refer_areas(summary, options.area_kind, result.refs)
    _area_texts(summary)
    rate = "crude_rate" if options.metric == "crude_rate" else "rate"
    label = "Safe Neighbourhoods" if options.area_kind == "neighbourhood" else "Police precincts"
    _area_geojson(m, summary, rate, label, options, counted_in)
    _add_area_names(m, summary, label)
    entries = tuple(zip(class_labels(lows, decimals=decimals), colours, strict=True))
    note = _area_note(summary, rate, options, population_source)
    result.legend.append(LegendSection(f"{label}: {METRIC_NAMES[options.metric]}", entries, note))
    result.stats["areas"] = len(summary)


def _colour_areas(
    summary: gpd.GeoDataFrame, options: MapOptions, counts: PublishedCounts, decimals: int
) -> tuple[list, tuple]:
    """Give each area its class colour (``summary["colour"]``, grey for no value); returns the classes'
    lower bounds and the palette."""
    values = summary[options.metric].astype(float)
    threshold = suppress.threshold() if counts.suppressed and options.metric == "count" else None
    lows = nice_breaks(values, decimals=decimals, first=threshold)
    colours = palette(len(lows))
    classes = class_of(values, lows, decimals=decimals)
    summary["colour"] = [
        "#d9d9d9" if np.isnan(v) else colours[c] for c, v in zip(classes, values.to_numpy(), strict=True)
    ]
    return lows, colours


def _area_texts(summary: gpd.GeoDataFrame) -> None:
    """The rates in words (outside the chosen area, why there is none) and the texts escaped for the popup."""
    for column in ("rate", "crude_rate"):
        summary[column] = summary[column].map(lambda v: "no rate" if pd.isna(v) else f"{v:,.1f}")
        summary.loc[summary["outside"], column] = OUTSIDE_RATE_WORDS
    for column in ("name", "rate_note"):
        summary[column] = summary[column].map(safe_text)
    summary["ref"] = summary["ref"].map(hidden_reference)


def _area_geojson(
    m, summary: gpd.GeoDataFrame, rate: str, label: str, options: MapOptions, counted_in: str | None
) -> None:
    """The areas' layer: filled by colour, with a tooltip and a popup of count, rate and note."""
    rate_alias = "Per 1,000 residents (crude)" if rate == "crude_rate" else "Per 1,000 residents (smoothed)"
    data = summary[[COLUMNS.name, "shown", rate, "rate_note", "ref", "colour", COLUMNS.geometry]].rename(
        columns={"shown": COLUMNS.count, rate: "per_1000", "rate_note": COLUMNS.note}
    )
    # precincts around a chosen neighbourhood hold only its incidents: the label says so
    counted = (
        "Incidents in the chosen Safe Neighbourhood" if counted_in and options.area_kind == "precinct" else "Incidents"
    )
    fields, aliases = ["name", "count", "per_1000", "note"], ["Area", counted, rate_alias, ""]
    folium.GeoJson(
        data,
        name=f"{label} ({METRIC_NAMES[options.metric].split(' (')[0]})",
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": "#222",
            "weight": 2,
            "fillOpacity": 0.45,
        },
        highlight_function=lambda f: {"weight": 4},
        tooltip=folium.GeoJsonTooltip(fields, aliases=aliases),
        popup=folium.GeoJsonPopup([*fields, "ref"], aliases=[*aliases, ""]),
    ).add_to(m)


def _area_note(summary: gpd.GeoDataFrame, rate: str, options: MapOptions, population_source: str | None) -> str:
    """The line under the areas' legend: where the residents come from, what smoothing does, and what grey
    means."""
    note = ""
    if options.metric != "count":
        note = population_source or "Residents: population figures as loaded with the boundaries."
        if options.metric == "rate":
            note = (
                "Smoothed: an area with few residents is pulled towards the overall rate, so a handful of "
                f"incidents cannot put it on top. {note}"
            )
        if summary[rate].eq("no rate").any():
            note += " Grey: no rate (no population figure, or too few incidents to publish)."
    if summary["outside"].any():
        note = (note + " Grey: outside the chosen Safe Neighbourhood, not counted; choose All areas in the "
                "sidebar to compare areas.").strip()  # fmt: skip
    return note


# Names drawn on the map at each area's inner point: dark on a white halo, readable on a projector over any
# fill; the label takes no clicks, so a click on it selects the area beneath.
_AREA_NAME_STYLE = (
    "transform:translate(-50%,-50%);white-space:nowrap;font:600 14px/1.2 sans-serif;color:#111;"
    "text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 2px #fff;pointer-events:none"
)


def _add_area_names(m, summary: gpd.GeoDataFrame, label: str) -> None:
    """A switchable layer of area names (``summary["name"]`` is already escaped by :func:`safe_text`)."""
    names = folium.FeatureGroup(name=f"{label}: names", show=True)
    for name, point in zip(summary[COLUMNS.name], summary.geometry.representative_point(), strict=True):
        if not name or point is None or point.is_empty:
            continue
        folium.Marker(
            [round(point.y, 5), round(point.x, 5)],
            icon=folium.DivIcon(
                html=f'<div style="{_AREA_NAME_STYLE}">{name}</div>', icon_size=(0, 0), class_name="areasafe-name"
            ),
            interactive=False,
            keyboard=False,
        ).add_to(names)
    names.add_to(m)
