"""Counts as a viewer may see them: per area and hexagon, per hot-spot cell, and a neighbourhood profile.

Place in the data flow: inside the disclosure core (:mod:`pipelines.privacy`), between
:mod:`pipelines.privacy.rows` (what to count) and the pages, pack and exports (what is shown). Every
count here is made from :func:`~pipelines.privacy.rows.counting_rows`, so a sensitive incident is
counted at its generalised location for every viewer below analyst; viewers who do not see rows
(public, cso) get small counts suppressed (:mod:`pipelines.privacy.suppress`).

Numbers shown together must not undo each other's suppression. Hence:

- the hexagon table and the total it adds up to are suppressed as one group (secondary suppression);
- hot-spot cells carry **no count** for suppressed viewers: the same cells' counts are on the hexagon
  layer, already suppressed against the total, and a second, differently suppressed copy would give the
  hidden ones back (total - visible hot-spot cells);
- no z-score or p-value for suppressed viewers (with the neighbours' counts they give a count back).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipelines import hexes, periods
from pipelines.hotspots.change import BASELINE_MONTHS, Change
from pipelines.privacy import suppress
from pipelines.privacy.rows import counting_rows, location_resolution
from pipelines.privacy.viewer import Viewer
from pipelines.schemas import CODE_COLUMN, COLUMNS
from pipelines.store.base import IncidentQuery, Store

#: What a suppressed viewer reads in place of a hot-spot cell's count.
COUNT_NOT_SHOWN = "see hexagons"
WITHHELD = suppress.WITHHELD
_HOTSPOT_STATISTICS = ("gi_z", "gi_p")


def count_threshold(viewer: Viewer) -> int:
    """The small-count threshold that applies to ``viewer`` (0: exact counts)."""
    return suppress.threshold() if viewer.suppressed else 0


@dataclass(frozen=True)
class PublishedCounts:
    """Incident counts as a viewer may see them.

    Attributes
    ----------
    total : float
        Incidents matching the query (NaN when suppressed); ``total_shown`` is its text.
    areas : pandas.DataFrame
        ``kind``, ``code``, ``count`` (NaN where suppressed), ``shown`` for every stored area.
    cells : pandas.DataFrame
        ``cell`` (H3 index at ``resolution``), ``count``, ``shown``, busiest first; empty cells left out.
    suppressed : bool
        Whether small counts were suppressed (public and cso viewers).
    unmapped : str or None
        The sentence saying how many incidents have an area but no point (:func:`unmapped_note`): they
        are in ``total`` and ``areas`` but not in ``cells``.
    withheld : tuple of str
        Tables left out whole (``"hexagons"``: ``cells`` is empty) or with every non-zero count withheld
        (``"precinct counts"``: every count of that kind reads ``withheld``), because secondary suppression
        could not protect them against the total
        (:func:`pipelines.privacy.suppress.protected`); :attr:`notes` says so in words.
    """

    total: float
    total_shown: str
    areas: pd.DataFrame
    cells: pd.DataFrame
    resolution: int
    suppressed: bool = field(default=True)
    withheld: tuple[str, ...] = ()
    unmapped: str | None = None

    @property
    def notes(self) -> list[str]:
        """Plain sentences for what was left out of this view, and why."""
        notes = [
            f"Too few incidents in this view to show {what} without revealing small numbers; widen the period "
            "or the area."
            for what in self.withheld
        ]
        return [*notes, self.unmapped] if self.unmapped else notes

    def area_counts(self, kind: str) -> pd.DataFrame:
        return self.areas[self.areas[COLUMNS.kind] == kind].reset_index(drop=True)


def published_counts(
    store: Store, viewer: Viewer, query: IncidentQuery | None = None, *, resolution: int | None = None
) -> PublishedCounts:
    """Counts per area (both kinds) and per H3 cell of the incidents matching ``query``.

    Every viewer may have these. For suppressed viewers (public, cso) counts 1-4 are shown as ``"<5"``
    and each table gets secondary suppression against its total; other viewers get exact counts. The
    cells are never finer than :func:`~pipelines.privacy.rows.location_resolution`.
    """
    query = replace(query or IncidentQuery(), columns=list(CODE_COLUMN.values()))
    finest = location_resolution(store)
    resolution = finest if resolution is None else min(int(resolution), finest)
    incidents = counting_rows(store, viewer, query)
    return _count(
        incidents,
        store.read_areas(),
        threshold=count_threshold(viewer),
        resolution=resolution,
        suppressed=viewer.suppressed,
    )


def exact_counts(rows: pd.DataFrame, areas: pd.DataFrame, *, resolution: int) -> PublishedCounts:
    """Counts per area (both kinds, every one of ``areas``) and per H3 cell of ``rows``, exact: the counting
    of :func:`published_counts` with nothing suppressed.

    Only for rows the viewer already receives (:func:`~pipelines.privacy.rows.read_incidents`), when they
    come without their published counts: for a viewer who sees rows these are the rows
    :func:`~pipelines.privacy.rows.counting_rows` counts, so the numbers are the published ones. A map of
    those rows (:func:`pipelines.mapview.build_map`) counts them here and nowhere else.
    """
    return _count(rows, areas, threshold=0, resolution=resolution, suppressed=False)


def _count(
    incidents: pd.DataFrame, areas: pd.DataFrame, *, threshold: int, resolution: int, suppressed: bool
) -> PublishedCounts:
    """The counts of ``incidents`` per area and cell, those below ``threshold`` suppressed (0: none); for a
    ``suppressed`` viewer the cells in :func:`~pipelines.privacy.suppress.published_order`."""
    areas = areas[[COLUMNS.kind, COLUMNS.code]]
    total = len(incidents)
    total_shown = not (0 < total < threshold)
    withheld = []
    by_area = []
    for kind, column in CODE_COLUMN.items():
        counts = incidents[column].value_counts() if column in incidents else pd.Series(dtype=int)
        chosen = areas[areas[COLUMNS.kind] == kind].reset_index(drop=True)
        values = chosen[COLUMNS.code].map(counts).fillna(0).astype(int)
        published = suppress.suppress(values, threshold=threshold)
        if total_shown and suppress.unprotected(values, published[COLUMNS.count].isna(), threshold=threshold).any():
            published = _withhold(published)
            withheld.append(f"{kind} counts")
        by_area.append(pd.concat([chosen, published], axis=1))
    # a frame without a geometry column holds rows without a point
    points = incidents.geometry.to_numpy() if isinstance(incidents, gpd.GeoDataFrame) else np.full(total, None)
    no_point = shapely.is_missing(points) | shapely.is_empty(points)
    points = points[~no_point]
    cells = pd.Series(hexes.point_cells(shapely.get_x(points), shapely.get_y(points), resolution, snap=True))
    by_cell = cells.value_counts().sort_values(ascending=False, kind="stable")
    per_cell = by_cell.reset_index(drop=True)
    # Rows without a point are in the total but in no cell, so the total minus the cells is their number.
    # Published as "<5" when small, it is one more hidden cell of the hexagon table (total 14 beside one
    # hexagon of 12 gave "<5 reports have an area but no exact place" back as 2); when their number is
    # shown exactly, the total minus it is the cells' sum, public even when small, so the cells must hold
    # against it too.
    unmapped = int(no_point.sum())
    in_table = pd.concat([per_cell, pd.Series([unmapped] if 0 < unmapped < threshold else [])], ignore_index=True)
    published_all = suppress.suppress(in_table.astype(int), threshold=threshold)
    hidden_all = published_all[COLUMNS.count].isna()
    published = published_all.iloc[: len(per_cell)].reset_index(drop=True)
    cell_frame = pd.concat([pd.DataFrame({"cell": by_cell.index.astype(str)}), published], axis=1)
    if suppressed:
        cell_frame = suppress.published_order(cell_frame, "shown", "cell").reset_index(drop=True)
    hidden = published[COLUMNS.count].isna()
    small_sum_public = unmapped >= threshold and 0 < per_cell.sum() < threshold
    if total_shown and (
        suppress.unprotected(in_table, hidden_all, threshold=threshold).any()
        or (small_sum_public and not suppress.protected(per_cell, hidden, threshold=threshold))
    ):
        cell_frame = cell_frame.iloc[0:0]
        withheld.append("hexagons")
    return PublishedCounts(
        total=np.nan if 0 < total < threshold else float(total),
        total_shown=suppress.shown_total(total, threshold=threshold),
        areas=pd.concat(by_area, ignore_index=True),
        cells=cell_frame,
        resolution=resolution,
        suppressed=suppressed,
        withheld=tuple(withheld),
        unmapped=unmapped_note(unmapped, threshold=threshold),
    )


def unmapped_count(incidents: gpd.GeoDataFrame) -> int:
    """Incidents without a point (placed by the area their file named): in area totals, on no map."""
    points = incidents.geometry.to_numpy()
    return int((shapely.is_missing(points) | shapely.is_empty(points)).sum())


def unmapped_note(count: int, *, threshold: int = 0) -> str | None:
    """The sentence saying how many incidents count in area totals but are left out of the map, the
    hexagons and the hot spots (no exact place); the count as published (``"<5"`` below ``threshold``).
    ``None`` when there are none."""
    if not count:
        return None
    one = count == 1 and not 0 < count < threshold
    return (
        f"{suppress.shown_total(count, threshold=threshold)} report{'' if one else 's'} {'has' if one else 'have'} "
        f"an area but no exact place; {'it counts' if one else 'they count'} in area totals but not on the map "
        "or in hot spots."
    )


def _withhold(published: pd.DataFrame) -> pd.DataFrame:
    """A table that secondary suppression cannot protect: every count withheld, zeros too (a shown 0, or
    ``<5``, would say the others are at least 1, and with the total that pins them)."""
    return published.assign(count=np.nan, shown=WITHHELD)


def hotspot_resolution(store: Store, viewer: Viewer) -> int | None:
    """H3 resolution of the Gi* grid a viewer may see: no finer than the location resolution for
    suppressed viewers (a finer cell holds too few households); ``None`` (the recipe's choice) for the
    others, whose counts are made from generalised sensitive rows (:func:`counting_rows`)."""
    return None if viewer.sees_rows else location_resolution(store)


def published_hotspots(cells: gpd.GeoDataFrame, viewer: Viewer) -> gpd.GeoDataFrame:
    """Gi* cells as ``viewer`` may see them.

    Viewers who see rows get the cells as they are. Suppressed viewers get the
    bin and the trend only: ``count`` NaN, ``shown`` :data:`COUNT_NOT_SHOWN`, no z-score or p-value
    (see the module docstring for why).
    """
    cells = cells.copy()
    if not viewer.suppressed:
        return cells
    cells[COLUMNS.count] = np.nan
    cells["shown"] = COUNT_NOT_SHOWN
    for column in _HOTSPOT_STATISTICS:
        if column in cells:
            cells[column] = np.nan
    return cells


def population_sources(store: Store) -> dict[str, str]:
    """Area kind -> where the residents behind its rates come from, in one sentence
    (:func:`pipelines.hotspots.rates.population_source`).

    Every viewer may have it: it reads only the areas and the boundary files' names, hashes and load dates,
    none of which is personal.
    """
    from pipelines.hotspots.rates import population_source

    areas = store.read_areas()
    batches = store.read_batches()
    boundaries = batches[batches[COLUMNS.kind] == "boundaries"] if len(batches) else batches
    return {kind: population_source(areas, boundaries, kind=kind) for kind in ("precinct", "neighbourhood")}


def smoothed_rate(store: Store, viewer: Viewer, query: IncidentQuery, *, month: pd.Period) -> float | None:
    """Incidents per 1,000 residents in the area of ``query`` (its neighbourhood, else its precinct) in
    ``month``, Empirical Bayes smoothed among every area of that kind (same categories and sources), from the
    counts ``viewer`` may see (:func:`published_counts`; a withheld count gives ``None``). ``None`` without
    an area or a population."""
    from pipelines.hotspots.rates import EB_RATE, rate_table
    from pipelines.periods import month_bounds

    kind, code = ("neighbourhood", query.neighbourhood) if query.neighbourhood else ("precinct", query.precinct)
    if code is None:
        return None
    start, end = month_bounds(month)
    counts = published_counts(store, viewer, replace(query, neighbourhood=None, precinct=None, start=start, end=end))
    published = counts.area_counts(kind).set_index(COLUMNS.code)[COLUMNS.count]
    table = rate_table(store.read_areas(kind), published, kind=kind).table
    rate = table.loc[table[COLUMNS.code] == code, EB_RATE]
    return float(rate.iloc[0]) if len(rate) and pd.notna(rate.iloc[0]) else None


def filter_choices(store: Store) -> tuple[list[pd.Period], list[str]]:
    """Local months (newest first) and categories present in the store: the sidebar's choices.

    Which months and categories occur at all is not personal information; every viewer gets them.
    """
    summary = store.incident_months()  # a maintained summary where the store has one: no full scan
    months = sorted(summary[COLUMNS.month].dropna().unique(), reverse=True)
    return months, sorted(summary[COLUMNS.category].dropna().unique())


@dataclass(frozen=True)
class ProfileStats:
    """A neighbourhood's headline numbers as text (suppressed where needed) and its monthly trend.

    ``trend`` has ``month``, ``category``, ``count`` (NaN where suppressed) and ``shown``; ``unmapped``
    says how many of the incidents counted have an area but no point (:func:`unmapped_note`).
    """

    incidents: str
    change: Change | None  # this month against the months before; None where it would reveal a small count
    rate_per_1000: str
    community_share: str
    trend: pd.DataFrame
    suppressed: bool
    unmapped: str | None = None


def profile_stats(
    store: Store,
    viewer: Viewer,
    query: IncidentQuery,
    *,
    month: pd.Period,
    population: float | None,
    trend_start=None,
    trend_end=None,
) -> ProfileStats:
    """KPIs for ``month`` (against the month before) and the monthly trend between ``trend_start`` and
    ``trend_end``, over every incident matching ``query``, as ``viewer`` may see them.

    The rate per 1,000 residents is the Empirical Bayes smoothed rate of the neighbourhood among all
    neighbourhoods in ``month`` (:func:`smoothed_rate`), as the map shows it, not the crude rate.

    For suppressed viewers a count below 5 is ``"<5"``; the change (read by :mod:`pipelines.hotspots.change`
    against the average of the months before), the rate per 1,000 and the community share are withheld when
    the month's count or any of those months' counts is suppressed (each would give a count back), and
    the trend is suppressed per month with secondary suppression; a month whose categories cannot be
    protected against its total (which the map states for any one month) is left out of the trend.
    """
    from pipelines import views

    incidents = counting_rows(
        store, viewer, replace(query, columns=[COLUMNS.occurred_at, COLUMNS.category, COLUMNS.source])
    )
    kpis = views.profile_kpis(incidents, month=month, population=population)
    threshold = count_threshold(viewer)
    local = periods.local_months(incidents[COLUMNS.occurred_at]) if len(incidents) else pd.Series(dtype="period[M]")
    before = [int((local == month - i).sum()) for i in range(1, BASELINE_MONTHS + 1)]
    hidden = any(0 < n < threshold for n in (kpis.incidents, *before))
    period = incidents
    if trend_start is not None:
        period = period[period[COLUMNS.occurred_at] >= pd.Timestamp(trend_start)]
    if trend_end is not None:
        period = period[period[COLUMNS.occurred_at] < pd.Timestamp(trend_end)]
    trend = views.monthly_trend(period).reset_index(drop=True)
    published = suppress.suppress(trend[COLUMNS.count], groups=trend[COLUMNS.month], threshold=threshold)
    # Every month's total is public (the KPI, or the map with that month chosen): a month whose categories
    # cannot be protected against it is left out of the trend (its listed categories would each be >= 1).
    months = pd.to_datetime(trend[COLUMNS.month]).dt.to_period("M")
    keep = ~suppress.unprotected(
        trend[COLUMNS.count], published[COLUMNS.count].isna(), groups=months, threshold=threshold
    )
    trend = pd.concat([trend.drop(columns=COLUMNS.count), published], axis=1)[keep].reset_index(drop=True)
    rate = None
    if not hidden and population:
        rate = smoothed_rate(store, viewer, query, month=month)
    return ProfileStats(
        incidents=suppress.shown_total(kpis.incidents, threshold=threshold),
        change=None if hidden else kpis.change,
        rate_per_1000="n/a" if hidden or rate is None else f"{rate:.2f}",
        community_share="n/a" if hidden or kpis.community_share is None else f"{kpis.community_share:.0%}",
        trend=trend,
        suppressed=viewer.suppressed,
        unmapped=unmapped_note(unmapped_count(incidents), threshold=threshold),
    )
