"""Agenda item 3: one item per new or intensifying hot spot.

Place in the data flow: analyse. :func:`hotspot_groups` joins the hot cells the map calls "New hot spot" and
"Hot spot getting worse" into connected groups (H1, H2...); :func:`hotspot_items` gives each group its item:
what is happening, the nearest assets within walking distance, the interventions covering it (or the
nearest), stalled projects nearby and the actions already on it.
"""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import h3
import pandas as pd

from pipelines import hexes
from pipelines.act.actions import short_action_id
from pipelines.act.agenda.context import AgendaItem, MeetingContext
from pipelines.act.agenda.wording import Counts, category_names
from pipelines.hotspots.coverage import WALKING_DISTANCE_M, assets_near_hotspots, hotspots_without_intervention
from pipelines.hotspots.emerging import HOTSPOT_CLASS, hotspot_classes
from pipelines.hotspots.recipe import NeighbourhoodHotspots
from pipelines.periods import local_months
from pipelines.plural import counted
from pipelines.schemas import COLUMNS
from pipelines.views import HOT_TRENDS

#: Map classes that put a hot spot on the agenda, heat that is new or growing (emerging ``new_hot``,
#: ``consecutive_hot``, ``intensifying_hot``; :func:`pipelines.hotspots.emerging.hotspot_classes`): what the
#: agenda lists is what the map shows as "New hot spot" and "Hot spot getting worse", and nothing it does not.
AGENDA_CLASSES = ("new", "worse")
TREND_SENTENCES = {
    "new_hot": "Hot for the first time in {since}",
    "consecutive_hot": "Hot in every month since {since}, and not in the months before that in this 12-month view",
    "intensifying_hot": "Hot in most months and getting hotter",
}


# --------------------------------------------------------------------------------------------------
# 3. New and intensifying hot spots
# --------------------------------------------------------------------------------------------------
def hotspot_groups(
    result: NeighbourhoodHotspots,
    *,
    classes: tuple[str, ...] = AGENDA_CLASSES,
    categories: pd.Series | None = None,
    fmt=str,
) -> gpd.GeoDataFrame:
    """Connected groups of cells whose map class (``hotspot_class``) is one of ``classes``, largest first.

    Columns: ``label`` (H1, H2...), ``cells`` (list of cell ids, busiest first), ``core_cell`` (the busiest),
    ``trend`` (the most common emerging category of the group), ``hotspot_class`` (the most urgent class
    among its cells, as the map names it), ``incidents`` (in the window), ``recent`` (in the
    last three months), ``hot_since`` (first month of the run of hot months that ends in the final month,
    over the group's cells), ``top_categories`` and the merged geometry.

    ``categories`` (incident id -> category code) overrides the incidents' own categories (the public
    variant merges sensitive ones); ``fmt`` formats the counts in ``top_categories``.
    """
    found = result.cells
    if "hotspot_class" not in found:
        found = found.assign(
            hotspot_class=hotspot_classes(found["gi_bin"], found["emerging"], sufficient=result.hotspots.sufficient)
        )
    cells = found[found["hotspot_class"].isin(list(classes))]
    columns = ["label", "cells", "core_cell", "trend", "hotspot_class", "incidents", "recent", "hot_since"]
    columns.append("top_categories")
    if cells.empty:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=result.cells.crs)
    ids = set(cells["cell_id"])
    groups: list[list[str]] = []
    seen: set[str] = set()
    for start in cells.sort_values(COLUMNS.count, ascending=False)["cell_id"]:
        if start in seen:
            continue
        group, todo = [], [start]
        seen.add(start)
        while todo:
            cell = todo.pop()
            group.append(cell)
            for nxt in h3.grid_disk(cell, 1):
                if nxt in ids and nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        groups.append(group)
    by_id = cells.set_index("cell_id")
    grid_incidents = result.grid.incidents
    months = local_months(grid_incidents[COLUMNS.occurred_at])
    recent_months = set(result.months[-3:])
    labels = category_names()
    category = grid_incidents[COLUMNS.category]
    if categories is not None:
        category = grid_incidents[COLUMNS.incident_id].map(categories).fillna(category)
    hot_since = _hot_since(result)
    rows, geoms = [], []
    for group in sorted(groups, key=lambda g: -by_id.loc[g, COLUMNS.count].sum()):
        ordered = list(by_id.loc[group].sort_values(COLUMNS.count, ascending=False).index)
        inside = grid_incidents["cell_id"].isin(ordered).to_numpy()
        top = category[inside].value_counts().head(3)
        rows.append(
            {
                "cells": ordered,
                "core_cell": ordered[0],
                "trend": by_id.loc[ordered, "emerging"].value_counts().index[0],
                "hotspot_class": next(c for c in classes if (by_id.loc[ordered, "hotspot_class"] == c).any()),
                "incidents": int(by_id.loc[ordered, COLUMNS.count].sum()),
                "recent": int((inside & months.isin(recent_months).to_numpy()).sum()),
                "hot_since": min((hot_since[c] for c in ordered if c in hot_since), default=None),
                "top_categories": ", ".join(f"{labels.get(c, c)} ({fmt(n)})" for c, n in top.items()),
            }
        )
        geoms.append(by_id.loc[ordered].geometry.union_all())
    frame = gpd.GeoDataFrame(rows, geometry=geoms, crs=result.cells.crs)
    frame.insert(0, "label", [f"H{i}" for i in range(1, len(frame) + 1)])
    return frame


def _hot_since(result: NeighbourhoodHotspots) -> dict[str, pd.Period]:
    """Per cell, the first month of the run of hot months (space-time bin > 0) ending in the final month."""
    bins = result.emerging.bins
    out = {}
    for i, cell in enumerate(result.emerging.cube.cells["cell_id"]):
        hot = bins[i] > 0
        if not hot[-1]:
            continue
        start = len(hot) - 1
        while start > 0 and hot[start - 1]:
            start -= 1
        out[cell] = result.emerging.cube.months[start]
    return out


def hotspot_items(context: MeetingContext, fmt: Counts) -> tuple[gpd.GeoDataFrame, list[AgendaItem]]:
    """Item 3: the :func:`hotspot_groups` of the context (with the ``place`` each is near) and one item per
    group, or a single item saying there is none (or too few reports to look)."""
    result = context.hotspots
    categories = context.incidents.set_index(COLUMNS.incident_id)[COLUMNS.category]
    groups = hotspot_groups(result, categories=categories, fmt=fmt)
    window = f"{result.months[0]} to {result.months[-1]}" if len(result.months) else "no months"
    method = (
        f"Hot spots over {window}: small hexagons compared with those around them, listed when they are new "
        f"or getting worse. Assets and interventions within {WALKING_DISTANCE_M:.0f} m."
    )
    if groups.empty:
        return groups, [_no_hotspot_item(context, window, method)]
    group_cells = result.hotspots.cells[result.hotspots.cells["cell_id"].isin({c for g in groups["cells"] for c in g})]
    subset = replace(result.hotspots, cells=group_cells)
    near = assets_near_hotspots(subset, context.assets, min_bin=-3).table
    cover = hotspots_without_intervention(subset, context.interventions, min_bin=-3)
    names = [_place_name(g, near) for g in groups.itertuples()]
    groups = groups.assign(place=names)
    status_of = dict(zip(context.interventions[COLUMNS.name], context.interventions[COLUMNS.status], strict=True))
    items = [_hotspot_item(context, g, near, cover, status_of, fmt, method) for g in groups.itertuples()]
    return groups, items


def _no_hotspot_item(context: MeetingContext, window: str, method: str) -> AgendaItem:
    """The one hot-spot item when there is none to list: too few reports to look, or none found."""
    result = context.hotspots
    if not result.hotspots.sufficient:
        summary = f"Not enough reports in {context.name} over {window} to look for hot spots: see the note below."
    else:
        summary = f"No new or intensifying hot spot in {context.name} over {window}."
    caveats = (*result.messages, method)
    return AgendaItem("hotspot-none", "hotspot", "New and intensifying hot spots", summary, caveats=caveats)


def _hotspot_item(
    context: MeetingContext, g, near: pd.DataFrame, cover, status_of: dict, fmt: Counts, method: str
) -> AgendaItem:
    """The agenda item of one hot spot ``g``: what is happening, the nearest assets, the interventions
    covering it (or the nearest), stalled projects nearby and the actions already on it."""
    result = context.hotspots
    assets = near[near["cell_id"].isin(g.cells)].sort_values("distance_m").drop_duplicates(COLUMNS.asset_id)
    covered = cover.covered[cover.covered["cell_id"].isin(g.cells)]
    uncovered = cover.table[cover.table["cell_id"].isin(g.cells)]
    covering = "; ".join(
        f"{n} ({status_of.get(n, 'status unknown')})" for n in _joined(covered["interventions"]).split("; ") if n
    )
    stalled = _joined(pd.concat([covered["stalled_nearby"], uncovered["stalled_nearby"]]))
    since = g.hot_since.strftime("%b %Y") if g.hot_since is not None else str(result.months[-1])
    summary = (
        f"{TREND_SENTENCES.get(g.trend, HOT_TRENDS.get(g.trend, g.trend)).format(since=since)}: "
        f"{counted(fmt(g.incidents), 'incident')} in {counted(len(g.cells), 'hexagon')} of the map "
        f"({hexes.across_words(h3.get_resolution(g.core_cell))}) over the last {len(result.months)} months, "
        f"{fmt(g.recent)} in the last 3. Mostly {g.top_categories}."
    )
    rows = _hotspot_questions(context, g.cells, assets, covering, uncovered, stalled)
    links = {"hotspot_cell": g.core_cell}
    if len(assets):
        links[COLUMNS.asset_id] = str(assets[COLUMNS.asset_id].iloc[0])
    return AgendaItem(
        f"hotspot-{g.label}",
        "hotspot",
        f"{g.label}: {HOTSPOT_CLASS[g.hotspot_class].label} near {g.place}",
        summary,
        pd.DataFrame(rows, columns=["question", "answer"]),
        (*(p.sentence(included=result.include_partial, fmt=fmt) for p in result.partial), method)
        + tuple(m for m in (cover.message,) if m),
        links,
    )


def _hotspot_questions(
    context: MeetingContext,
    cells: list,
    assets: pd.DataFrame,
    covering: str,
    uncovered: pd.DataFrame,
    stalled: str,
) -> list[dict[str, str]]:
    """The question-and-answer rows of one hot spot's table."""
    linked = context.actions[context.actions[COLUMNS.hotspot_cell].isin(cells)]
    rows = [
        {"question": "Nearest assets (partners)", "answer": _asset_list(assets)},
        {
            "question": "Covered by an intervention?",
            "answer": f"Yes: {covering}"
            if covering
            else "No: no planned, running or finished intervention within 400 m",
        },
    ]
    if not covering and len(uncovered) and pd.notna(uncovered["nearest_m"]).any():
        nearest = uncovered.sort_values("nearest_m").iloc[0]
        rows.append(
            {
                "question": "Nearest intervention",
                "answer": f"{nearest['nearest_name']} ({nearest['nearest_status']}, {nearest['nearest_m']:.0f} m)",
            }
        )
    if stalled:
        rows.append({"question": "Stalled projects nearby", "answer": stalled})
    rows.append(
        {
            "question": "Actions already on it",
            "answer": "; ".join(
                f"{short_action_id(a, context.code)} ({s})"
                for a, s in zip(linked[COLUMNS.action_id], linked[COLUMNS.status], strict=True)
            )
            or "none",
        }
    )
    return rows


def _place_name(group, near: pd.DataFrame) -> str:
    mine = near[near["cell_id"].isin(group.cells)].sort_values("distance_m")
    if len(mine):
        return str(mine[COLUMNS.name].iloc[0])
    lat, lon = h3.cell_to_latlng(group.core_cell)
    return f"{lat:.4f}, {lon:.4f}"


def _asset_list(assets: pd.DataFrame, n: int = 5) -> str:
    if not len(assets):
        return f"none within {WALKING_DISTANCE_M:.0f} m"
    return "; ".join(
        f"{name} ({category}, {distance:.0f} m)"
        for name, category, distance in zip(
            assets[COLUMNS.name].head(n),
            assets[COLUMNS.abcd_category].head(n),
            assets["distance_m"].head(n),
            strict=True,
        )
    )


def _joined(values: pd.Series) -> str:
    names: list[str] = []
    for value in values.dropna():
        for name in str(value).split("; "):
            if name and name not in names:
                names.append(name)
    return "; ".join(names)
