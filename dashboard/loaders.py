"""The dashboard's cached reads of the store, keyed on the store's data version and the viewer's audience.

Place in the data flow: show, between the store and the pages. Every read of incident data goes through
:mod:`pipelines.privacy` (what the viewer may see), and is cached per store URL, data version (a committed
upload or a deleted batch invalidates it without a restart, also when it went through another dashboard
replica on the same PostGIS database) and audience (:func:`audience`: what the disclosure rules depend
on, so two planners share one cached read, an analyst's audited read stays theirs). The reads that follow
the session's viewer take ``who=`` too, for :mod:`dashboard.warming`, which fills them for the public and
the row-seeing roles at start.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import streamlit as st

from dashboard.common import store, viewer
from pipelines import privacy
from pipelines.hotspots.recipe import hotspots_for_neighbourhood
from pipelines.periods import month_bounds
from pipelines.privacy import PUBLIC, Viewer
from pipelines.store import IncidentQuery
from pipelines.views import available_months


def data_version() -> tuple[int, int]:
    """The store's data version: cached reads are keyed on it, so an upload or a deleted batch shows at once."""
    return store().data_version()


@st.cache_data(show_spinner=False)
def _areas(url: str, version: tuple[int, int]) -> gpd.GeoDataFrame:
    return store().read_areas()


# Cached per viewer: an analyst's read of sensitive rows is audited when it is made, i.e. once per
# distinct query and store version, not on every rerun of the page.
@st.cache_data(show_spinner=False)
def _incidents(url: str, version: tuple[int, int], query: IncidentQuery, viewer: Viewer) -> gpd.GeoDataFrame:
    return privacy.read_incidents(store(), viewer, query)


@st.cache_data(show_spinner=False)
def _counts(url: str, version: tuple[int, int], query: IncidentQuery, viewer: Viewer) -> privacy.PublishedCounts:
    return privacy.published_counts(store(), viewer, query)


@st.cache_data(show_spinner=False)
def _population_sources(url: str, version: tuple[int, int]) -> dict[str, str]:
    return privacy.population_sources(store())


def population_source(kind: str) -> str:
    """Where the residents behind the rates of ``kind`` areas come from, in one sentence (everyone may read it)."""
    return _population_sources(store().url, data_version())[kind]


@st.cache_data(show_spinner=False)
def _choices(url: str, version: tuple[int, int]) -> tuple[list[pd.Period], list[str]]:
    return privacy.filter_choices(store())


def filter_choices() -> tuple[list[pd.Period], list[str]]:
    """The stored local months (newest first) and categories the sidebar offers
    (:func:`pipelines.privacy.filter_choices`)."""
    return _choices(store().url, data_version())


@st.cache_data(show_spinner=False)
def _hotspots(
    url: str, version: tuple[int, int], code: str, months: int, until: str | None, viewer: Viewer, partial: bool
) -> HotspotCells:
    result = hotspots_for_neighbourhood(
        store(), code, viewer=viewer, months=months, until=until, resolution=None, include_partial=partial
    )
    return HotspotCells(
        result.cells,
        result.messages,
        int(result.grid.spec.resolution),
        [str(m) for m in result.months],
        bool(result.hotspots.sufficient),
    )


@st.cache_data(show_spinner=False)
def _table(url: str, version: tuple[int, int], name: str, viewer: Viewer) -> pd.DataFrame:
    return privacy.read_table(store(), viewer, name)


@dataclass(frozen=True)
class HotspotCells:
    """What the pages need of :func:`pipelines.hotspots.hotspots_for_neighbourhood` (picklable for the cache)."""

    cells: gpd.GeoDataFrame
    messages: tuple[str, ...]
    resolution: int
    months: list[str]
    sufficient: bool  # False: too few reports or cells to look for hot spots at all (the messages say why)


def hotspots(
    code: str,
    *,
    months: int = 12,
    until: pd.Period | str | None = None,
    include_partial: bool = False,
    who: Viewer | None = None,
) -> HotspotCells:
    """Gi* and emerging hot spots of a Safe Neighbourhood over ``months`` local months ending ``until``
    (the resolution is chosen so a small neighbourhood still has enough cells); an incomplete last month is
    left out unless ``include_partial`` (:mod:`pipelines.hotspots.months`). As ``who`` may see them (the
    session's viewer unless given)."""
    until = None if until is None else str(until)
    who = audience(viewer() if who is None else who)
    return _hotspots(store().url, data_version(), code, int(months), until, who, bool(include_partial))


def areas() -> gpd.GeoDataFrame:
    return _areas(store().url, data_version())


def audience(who: Viewer) -> Viewer:
    """The viewer a cached read is keyed on: one stand-in per role (and organisation, for a cso), since
    what the disclosure core returns depends on nothing else, except for the roles that see sensitive rows,
    whose reads are audited under their own name (so they stay keyed on the account)."""
    if who.is_public or who.sees_sensitive:
        return who
    return Viewer(username=f"role:{who.role}", role=who.role, org=who.org if who.role == "cso" else None)


def incidents(query: IncidentQuery | None = None, *, who: Viewer | None = None) -> gpd.GeoDataFrame:
    """Incident rows ``who`` (the session's viewer unless given) may see (:func:`pipelines.privacy.read_incidents`;
    none for the public).

    A shared audience's rows for a category or source choice are its cached rows for every category and
    source, narrowed in memory (:meth:`IncidentQuery.widened`): changing those filters reads nothing.
    An analyst's or admin's read stays as asked, since it is audited with its filters and count."""
    query, who = query or IncidentQuery(), audience(viewer() if who is None else who)
    wide = None if who.sees_sensitive else query.widened()
    if wide is None:
        return _incidents(store().url, data_version(), query, who)
    return query.narrow(_incidents(store().url, data_version(), wide, who))


def counts(query: IncidentQuery | None = None, *, who: Viewer | None = None) -> privacy.PublishedCounts:
    """Counts per area and hexagon as ``who`` (the session's viewer unless given) may see them
    (:func:`pipelines.privacy.published_counts`)."""
    return _counts(store().url, data_version(), query or IncidentQuery(), audience(viewer() if who is None else who))


def table(name: str, who: Viewer) -> pd.DataFrame:
    """A stored table that is not incident data (assets, interventions, intervention_log, batches, rejections),
    as ``who`` may see it (:func:`pipelines.privacy.read_table` applies the rules). The page names whose eyes
    the read is for (the viewer :func:`require` returned), so no read of a table falls back on a session
    nobody named."""
    return _table(store().url, data_version(), name, audience(who))


def _act_version() -> tuple[int, int, int, int]:
    """Changes whenever the ACT's records change (they are saved without a batch): every action save appends
    to ``action_log``; a meeting is replaced in place, so its rows are hashed (a handful per neighbourhood)."""
    s = store()
    meetings = int(pd.util.hash_pandas_object(s.read_table("meetings").astype(str), index=False).sum())
    return data_version(), s.count("action_log"), meetings, s.count("intervention_log")


@st.cache_resource(show_spinner="Building the agenda ...", max_entries=16)
def _agenda(url: str, version: tuple, code: str, month: str, public: bool, viewer: Viewer, partial: bool):
    from pipelines.act.agenda import agenda_for

    return agenda_for(store(), code, month, viewer=viewer, public=public, include_partial=partial)


def agenda(code: str, month: pd.Period | str, *, public: bool = False, include_partial: bool = False):
    """The meeting agenda (:mod:`pipelines.act.agenda`), rebuilt when any record behind it changes; an
    incomplete meeting month is read as such unless ``include_partial``."""
    who = PUBLIC if public else audience(viewer())  # the public variant is the same for everyone: built once
    return _agenda(store().url, _act_version(), code, str(month), public, who, bool(include_partial))


@st.cache_resource(show_spinner="Reading the ward ...", max_entries=16)
def _ward_view(url: str, version: tuple, code: str, month: str, boundaries: str, who: Viewer):
    from pipelines.ward import ward_view as build

    return build(store(), code, month, viewer=who, version=boundaries)


def ward_view(code: str, month: pd.Period | str, boundaries: str, who: Viewer):
    """One ward's month (:func:`pipelines.ward.ward_view`) on the ``boundaries`` version, as ``who`` may see it;
    read again when any record behind it changes (its interventions and open actions too)."""
    return _ward_view(store().url, _act_version(), code, str(month), boundaries, who)


@dataclass(frozen=True)
class Filters:
    neighbourhood: str | None
    population: float | None
    months: tuple[pd.Period, pd.Period] | None  # inclusive local months
    categories: tuple[str, ...] | None
    sources: tuple[str, ...] | None
    include_partial: bool = False  # keep a last month that looks incomplete in trends and hot spots

    @property
    def hotspot_note(self) -> str | None:
        """What the hot spots do with the filters, when the filters narrow what else the page shows: hot
        spots are always found from every category and source (issue 17, item 8)."""
        if not (self.categories or self.sources):
            return None
        return (
            "Hot spots are found from every kind of incident and every source: the category and source "
            "filters change the counts and points, not the hot spots."
        )

    def query(self, *, whole_period: bool = False) -> IncidentQuery:
        start = end = None
        if self.months and not whole_period:
            start, end = month_bounds(self.months[0])[0], month_bounds(self.months[1])[1]
        return IncidentQuery(
            neighbourhood=self.neighbourhood, start=start, end=end, categories=self.categories, sources=self.sources
        )


def profile_stats(filters: Filters, month: pd.Period) -> privacy.ProfileStats:
    """KPIs and trend of the chosen neighbourhood as the viewer may see them."""
    start = end = None
    if filters.months:
        start, end = month_bounds(filters.months[0])[0], month_bounds(filters.months[1])[1]
    query = filters.query(whole_period=True)
    return _profile_stats(
        store().url, data_version(), query, audience(viewer()), str(month), filters.population, start, end
    )


@st.cache_data(show_spinner=False, max_entries=256)
def _profile_stats(
    url: str, version: tuple[int, int], query: IncidentQuery, viewer: Viewer, month: str, population, start, end
) -> privacy.ProfileStats:
    return privacy.profile_stats(
        store(),
        viewer,
        query,
        month=pd.Period(month, freq="M"),
        population=population,
        trend_start=start,
        trend_end=end,
    )


def neighbourhood_incidents(filters: Filters) -> tuple[gpd.GeoDataFrame, list[pd.Period]]:
    """The chosen neighbourhood's incidents over the whole period and their months, newest first;
    stops the page with a plain message when no neighbourhood is chosen or nothing matches."""
    if filters.neighbourhood is None:
        st.info("Choose a Safe Neighbourhood in the sidebar.")
        st.stop()
    found = incidents(filters.query(whole_period=True))
    months = available_months(found)
    if not months:
        st.warning("No incidents match these filters.")
        st.stop()
    return found, months


@st.cache_data(show_spinner=False, max_entries=64)
def _item_map(url: str, version: tuple, code: str, month: str, key: str, viewer: Viewer, partial: bool) -> bytes | None:
    from pipelines.act import figures

    built = _agenda(url, version, code, month, False, viewer, partial)
    item = next((i for i in built.items if i.key == key), None)
    return None if item is None else figures.item_map(built, item)


def item_map(code: str, month: pd.Period | str, key: str, *, include_partial: bool = False) -> bytes | None:
    """The small offline map (PNG) of the agenda item ``key`` as the viewer may see it, or ``None`` for an item
    with no place (:func:`pipelines.act.figures.item_map`: the pack's map renderer, from the viewer's agenda)."""
    url, version = store().url, _act_version()
    return _item_map(url, version, code, str(month), key, viewer(), bool(include_partial))
