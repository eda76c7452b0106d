"""The hot-spot layer: Gi* and emerging hot spot cells, one class per cell in words and one colour each.

Place in the data flow: show. The cells come from :func:`pipelines.hotspots.hotspots_for_neighbourhood`
through the disclosure core (:func:`pipelines.privacy.published_hotspots`: no count, z-score or p-value
for a suppressed viewer); "no pattern" is not drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines.hotspots.emerging import HOTSPOT_CLASS, HOTSPOT_CLASSES, hotspot_classes
from pipelines.mapview.click import reference
from pipelines.mapview.legend import LegendSection
from pipelines.mapview.model import MapOptions, MapResult, hidden_reference
from pipelines.schemas import COLUMNS


def hotspot_caption(months: Sequence[str], resolution: int, *, statistics: bool = False) -> str:
    """The line under the map that says what the hot-spot layer covers: in words, and for analysts the method."""
    if not len(months):
        return "Hot spots: no months to analyse."
    if statistics:
        return (
            f"Hot spots: Gi* (FDR-corrected) and emerging hot spot analysis over {months[0]} to {months[-1]}, "
            f"H3 resolution {resolution}."
        )
    return (
        f"Hot spots: small hexagons compared with those around them, {months[0]} to {months[-1]}; each is "
        "coloured by what is happening there now. Cells with no pattern are not drawn."
    )


def add_hotspots(m, cells: gpd.GeoDataFrame, options: MapOptions, result: MapResult) -> None:
    """The cells with a pattern, most urgent first up to ``options.max_hotspot_cells``, with a legend section."""
    classes = (
        cells["hotspot_class"].to_numpy(dtype=object)
        if "hotspot_class" in cells
        else hotspot_classes(cells["gi_bin"], cells["emerging"])
    )
    # "No pattern" is not drawn: one class per cell, one colour per class, nothing else to read.
    rank = {c.key: i for i, c in enumerate(HOTSPOT_CLASSES)}
    drawn = cells.assign(map_class=classes, map_rank=[rank[c] for c in classes])
    drawn = drawn[drawn["map_class"] != "none"]
    order = np.lexsort((-drawn[COLUMNS.count].fillna(0).to_numpy(), drawn["map_rank"].to_numpy()))
    shown = drawn.iloc[order[: options.max_hotspot_cells]]
    result.stats["hotspot_cells"] = len(shown)
    if not len(shown):
        return
    has_shown = "shown" in cells  # published cells (pipelines.privacy.published_hotspots) carry their labels
    features = []
    for number, row in enumerate(shown.itertuples(index=False), start=1):
        ring = [[round(x, 5), round(y, 5)] for x, y in row.geometry.exterior.coords]
        kind = HOTSPOT_CLASS[row.map_class]
        properties = {
            "label": kind.label,
            "meaning": kind.meaning,
            "count": str(row.shown) if has_shown else f"{int(row.count):,}",
            "ref": hidden_reference(
                reference(result.refs, "hotspot", number, row.cell_id, statistics=options.statistics)
            ),
            "colour": kind.colour,
        }
        if options.statistics:
            z = float(row.gi_z) if pd.notna(row.gi_z) else np.nan
            properties |= {
                "gi": int(row.gi_bin),
                "z": round(z, 2) if np.isfinite(z) else None,
                "trend": str(row.emerging),
            }
        features.append(
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": properties}
        )
    fields, aliases = ["label", "count", "meaning"], ["Hot spot", "Incidents", "What it means"]
    extra = (["gi", "z", "trend"], ["Gi* bin", "z-score", "Emerging category"]) if options.statistics else ([], [])
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name="Hot spots (Gi*, emerging)" if options.statistics else "Hot spots",
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": "#333",
            "weight": 0.6,
            "fillOpacity": 0.8,
        },
        tooltip=folium.GeoJsonTooltip(fields, aliases=aliases),
        popup=folium.GeoJsonPopup([*fields, *extra[0], "ref"], aliases=[*aliases, *extra[1], ""]),
    ).add_to(m)
    note = ""
    if len(drawn) > len(shown):
        note = f"{len(shown):,} of {len(drawn):,} hot and cold spot cells shown (most urgent first)"
        result.notes.append(f"Hot spots: {note}.")
    present = [c for c in HOTSPOT_CLASSES if c.key in set(shown["map_class"])]
    entries = tuple((f"{c.label}: {c.meaning}", c.colour) for c in present)
    result.legend.append(LegendSection("Hot spots", entries, note or "Cells with no pattern are not drawn."))
