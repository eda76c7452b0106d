"""Hot spots for one Safe Neighbourhood: the recipe behind ``areasafe hotspots`` and the map page.

Place in the data flow: analyse. :func:`hotspots_for_neighbourhood` is the only function in this
package that touches the store: it checks its inputs, reads the neighbourhood and its incidents, and
hands the frames to :func:`neighbourhood_hotspots`, which is pure.

The window is ``months`` whole local months ending with ``until``; by default ``until`` is the last
month in which the neighbourhood has any incident (of any category, so that windows line up when the
category changes). Two rules of :mod:`pipelines.hotspots.months` then trim it:

- a last month that :func:`~pipelines.hotspots.months.month_completeness` calls partial (a source had not
  uploaded since it ended, or its count is improbably low) is left out, and the window ends a month
  earlier, unless ``include_partial``; either way a message says so in words;
- the window never starts before the first month with any stored incident of the neighbourhood: a month
  before the data began is missing, not zero, and counting it as zero would make every cell with data
  look new or rising.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipelines import privacy
from pipelines.errors import AreaSafeError
from pipelines.hotspots._columns import (
    AREA_CODE,
    AREA_NAME,
    CATEGORY,
    CELL_ID,
    COUNT,
    EMERGING,
    GI_BIN,
    GI_P,
    GI_Z,
    HOTSPOT_CLASS,
    INCIDENT_ID,
    LAT,
    LON,
    NEIGHBOURHOOD_CODE,
    OCCURRED_AT,
    PRECINCT_CODE,
    SOURCE,
)
from pipelines.hotspots.emerging import (
    EMERGING_CATEGORIES,
    EmergingHotspots,
    emerging_hotspots,
    hotspot_classes,
    space_time_cube,
)
from pipelines.hotspots.gistar import HotSpots, hot_spots
from pipelines.hotspots.grid import Grid, GridSpec, build_grid, suggest_resolution
from pipelines.hotspots.months import MonthCompleteness, complete_until, first_data_month
from pipelines.periods import local_months, month_start, month_window, parse_month
from pipelines.privacy import Viewer
from pipelines.store.base import IncidentQuery, Store

DEFAULT_MONTHS = 12
CELL_FIELDS = (CELL_ID, LAT, LON, COUNT, GI_Z, GI_P, GI_BIN, EMERGING, HOTSPOT_CLASS)
_READ_COLUMNS = (INCIDENT_ID, SOURCE, OCCURRED_AT, CATEGORY, PRECINCT_CODE, NEIGHBOURHOOD_CODE)


class UnknownNeighbourhoodError(AreaSafeError):
    """No neighbourhood with that code; the message lists the known codes."""


class UnknownCategoryError(AreaSafeError):
    """No incident of that category in the neighbourhood; the message lists those present."""


@dataclass(frozen=True, eq=False)
class NeighbourhoodHotspots:
    """Gi* and emerging hot spots for one neighbourhood and window.

    Attributes
    ----------
    code, name : str
        The neighbourhood.
    months : pandas.PeriodIndex
        The local months analysed, oldest first.
    category : str or None
        The category filter (None: all).
    grid : Grid
    hotspots : HotSpots
    emerging : EmergingHotspots
    cells : geopandas.GeoDataFrame
        One row per cell: ``cell_id``, ``lat``, ``lon``, ``count``, ``gi_z``, ``gi_p``, ``gi_bin``,
        ``emerging``, ``hotspot_class`` (:func:`~pipelines.hotspots.emerging.hotspot_classes`, the class the
        map, agenda and pack show) and the hexagon, EPSG:4326.
    messages : tuple of str
        Plain-language caveats for the reader (small numbers, short windows, an incomplete last month,
        a window cut where the data begin).
    partial : tuple of MonthCompleteness
        The incomplete months at the end of the requested window, latest first: left out of ``months``
        unless ``include_partial``.
    include_partial : bool
        The incomplete months were kept at the user's request.
    first_month : pandas.Period or None
        The first month with any stored incident of the neighbourhood (the window starts no earlier).
    """

    code: str
    name: str
    months: pd.PeriodIndex
    category: str | None
    grid: Grid
    hotspots: HotSpots
    emerging: EmergingHotspots
    cells: gpd.GeoDataFrame
    messages: tuple[str, ...]
    partial: tuple[MonthCompleteness, ...] = ()
    include_partial: bool = False
    first_month: pd.Period | None = None

    @property
    def n_incidents(self) -> int:
        return int(self.cells[COUNT].sum())

    def summary(self) -> dict:
        """Counts of hot, cold and not-significant cells and of each emerging category present."""
        bins = self.cells[GI_BIN]
        emerging = self.cells[EMERGING].value_counts()
        return {
            "hot": int((bins > 0).sum()),
            "cold": int((bins < 0).sum()),
            "not_significant": int((bins == 0).sum()),
            "emerging": {c: int(emerging[c]) for c in EMERGING_CATEGORIES if c in emerging.index},
        }

    def to_json(self) -> dict:
        """The object printed by ``areasafe hotspots --json``: metadata plus a ``cells`` list."""
        gi = self.hotspots.gi
        return {
            "neighbourhood": {"code": self.code, "name": self.name},
            "window": {
                "start": str(self.months[0]) if len(self.months) else None,
                "until": str(self.months[-1]) if len(self.months) else None,
                "months": len(self.months),
                "first_data_month": None if self.first_month is None else str(self.first_month),
                "partial_months": [str(p.month) for p in self.partial],
                "partial_included": self.include_partial,
            },
            "category": self.category,
            "resolution": int(self.grid.spec.resolution),
            "incidents": self.n_incidents,
            "inference": gi.inference,
            "permutations": gi.permutations,
            "seed": gi.seed,
            "fdr": gi.fdr,
            "messages": list(self.messages),
            "summary": self.summary(),
            "cells": [_cell_json(row) for row in self.cells.itertuples(index=False)],
        }


def hotspots_for_neighbourhood(
    store: Store,
    code: str,
    *,
    viewer: Viewer,
    months: int = DEFAULT_MONTHS,
    until: str | pd.Period | None = None,
    category: str | None = None,
    resolution: int | None = 9,
    permutations: int = 0,
    seed: int | None = None,
    include_partial: bool = False,
) -> NeighbourhoodHotspots:
    """Read a neighbourhood and its incidents from ``store`` and run :func:`neighbourhood_hotspots`, as
    ``viewer`` may see the result.

    The incidents come from :func:`pipelines.privacy.counting_rows` (sensitive ones at their generalised
    location below analyst), the resolution is no finer than :func:`pipelines.privacy.hotspot_resolution`
    allows, and ``cells`` are :func:`pipelines.privacy.published_hotspots`: every count in the result is
    made from what ``viewer`` may see. ``resolution`` None lets the recipe choose. The stored batches
    tell :func:`~pipelines.hotspots.months.month_completeness` when each source last uploaded;
    ``include_partial`` keeps an incomplete last month in the window.

    Raises
    ------
    UnknownNeighbourhoodError
        ``code`` is not a stored neighbourhood.
    BadMonthError
        ``until`` is not ``YYYY-MM``.
    UnknownCategoryError
        The neighbourhood has no incident of ``category``.
    """
    until_period = parse_month(until) if isinstance(until, str) else until
    if resolution is not None:
        GridSpec(resolution=resolution)  # fail on a bad resolution before reading anything
    coarsest = privacy.hotspot_resolution(store, viewer)
    if coarsest is not None:
        resolution = coarsest if resolution is None else min(int(resolution), coarsest)
    areas = store.read_areas("neighbourhood")
    area = areas[areas[AREA_CODE] == code]
    if area.empty:
        known = ", ".join(sorted(map(str, areas[AREA_CODE]))) or "none (load neighbourhood boundaries first)"
        raise UnknownNeighbourhoodError(f"Unknown neighbourhood {code!r}; known codes: {known}.")
    incidents = privacy.counting_rows(store, viewer, IncidentQuery(neighbourhood=code, columns=list(_READ_COLUMNS)))
    result = neighbourhood_hotspots(
        incidents,
        area,
        months=months,
        until=until_period,
        category=category,
        resolution=resolution,
        permutations=permutations,
        seed=seed,
        batches=store.read_table("batches"),
        include_partial=include_partial,
    )
    return replace(result, cells=privacy.published_hotspots(result.cells, viewer))


def neighbourhood_hotspots(
    incidents: gpd.GeoDataFrame,
    area: gpd.GeoDataFrame,
    *,
    months: int = DEFAULT_MONTHS,
    until: pd.Period | None = None,
    category: str | None = None,
    resolution: int | None = 9,
    permutations: int = 0,
    seed: int | None = None,
    batches: pd.DataFrame | None = None,
    include_partial: bool = False,
) -> NeighbourhoodHotspots:
    """Gi* and emerging hot spots of a neighbourhood's incidents on an H3 grid.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        The neighbourhood's incidents, all periods and categories (the default window ends at their
        last month).
    area : geopandas.GeoDataFrame
        The neighbourhood row from the areas frame.
    months, until, category, permutations, seed
        As for :func:`hotspots_for_neighbourhood`.
    resolution : int or None
        H3 resolution; None picks the coarsest from 9 to 11 that gives the neighbourhood at least 30
        cells (:func:`~pipelines.hotspots.grid.suggest_resolution`).
    batches : pandas.DataFrame, optional
        The ``batches`` table, for the upload rule of :func:`~pipelines.hotspots.months.month_completeness`
        (without it an incomplete month is found from its count alone).
    include_partial : bool
        Keep an incomplete last month in the window (it is still named in ``messages``).
    """
    code, name = str(area[AREA_CODE].iloc[0]), str(area[AREA_NAME].iloc[0])
    if category is not None:
        present = sorted(map(str, incidents[CATEGORY].dropna().unique()))
        if category not in present:
            listed = ", ".join(present) or "none"
            raise UnknownCategoryError(
                f"No incidents of category {category!r} in {name} ({code}); categories present: {listed}."
            )
    messages = []
    first = first_data_month(incidents)
    if until is None and first is None:
        until = local_months(pd.Series([pd.Timestamp.now(tz="UTC")]))[0]
        messages.append(f"No dated incidents are stored for {name}; nothing to analyse.")
    elif until is None:
        until = local_months(incidents[OCCURRED_AT]).max()
    partial: tuple[MonthCompleteness, ...] = ()
    if first is not None:
        until, partial = complete_until(
            incidents, pd.Period(until, freq="M"), batches=batches, include_partial=include_partial
        )
        messages += [p.sentence(included=include_partial) for p in partial]
    start, end, periods = month_window(pd.Period(until, freq="M"), months)
    if first is not None and periods[0] < first <= periods[-1]:
        periods = periods[periods >= first]
        start = month_start(first)
        messages.append(
            f"Reports for {name} begin in {first:%B %Y}, so the window starts there: months before it have "
            "no data, which is not the same as no incidents."
        )
    if resolution is None:
        resolution = suggest_resolution(area)
    grid = build_grid(
        incidents,
        area=area,
        spec=GridSpec(kind="h3", resolution=resolution),
        start=start,
        end=end,
        categories=None if category is None else [category],
    )
    hot = hot_spots(grid, permutations=permutations, seed=seed)
    emerging = emerging_hotspots(space_time_cube(grid, months=periods))
    for note in (hot.message, emerging.message):
        if note and note not in messages:
            messages.append(note)
    cells = hot.cells.assign(**{EMERGING: emerging.category})
    cells[HOTSPOT_CLASS] = hotspot_classes(cells[GI_BIN], cells[EMERGING], sufficient=hot.sufficient)
    cells = cells[[*CELL_FIELDS, cells.geometry.name]]
    return NeighbourhoodHotspots(
        code=code,
        name=name,
        months=periods,
        category=category,
        grid=grid,
        hotspots=hot,
        emerging=emerging,
        cells=cells,
        messages=tuple(messages),
        partial=partial,
        include_partial=include_partial,
        first_month=first,
    )


def _cell_json(row) -> dict:
    def number(value):
        value = float(value)
        return value if np.isfinite(value) else None

    return {
        CELL_ID: str(getattr(row, CELL_ID)),
        LAT: round(float(getattr(row, LAT)), 7),
        LON: round(float(getattr(row, LON)), 7),
        COUNT: None if pd.isna(getattr(row, COUNT)) else int(getattr(row, COUNT)),
        GI_Z: number(getattr(row, GI_Z)),
        GI_P: number(getattr(row, GI_P)),
        GI_BIN: int(getattr(row, GI_BIN)),
        EMERGING: str(getattr(row, EMERGING)),
        HOTSPOT_CLASS: str(getattr(row, HOTSPOT_CLASS)),
        "geometry": shapely.geometry.mapping(row.geometry),
    }
