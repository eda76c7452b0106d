"""Shared dashboard plumbing: the store, cached loaders and the sidebar filters (written once).

Place in the data flow: show. Pages call these loaders and pass the frames to ``pipelines.views`` /
``pipelines.mapview``. Cached reads are keyed by the store URL and the number of stored batches, which
is read from the store on every page run: a committed upload invalidates them without a restart, also
when it went through another dashboard replica on the same PostGIS database.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import streamlit as st

from pipelines.errors import AreaSafeError
from pipelines.hotspots.recipe import hotspots_for_neighbourhood
from pipelines.schemas import SOURCES
from pipelines.settings import default_store_url
from pipelines.store import IncidentQuery, Store, open_store
from pipelines.views import available_months, category_labels, month_bounds

SOURCE_CHOICES = {"Both": None, "Municipal": ("municipal",), "Community": ("community",)}
assert set(SOURCES) == {"municipal", "community"}  # the choices above name both sources


@st.cache_resource
def _open(url: str) -> Store:
    return open_store(url)


def store() -> Store:
    """The store named by ``$AREASAFE_STORE`` (or the default), opened once per process."""
    return _open(default_store_url())


def _version() -> int:
    return store().count("batches")


@st.cache_data(show_spinner=False)
def _areas(url: str, version: int) -> gpd.GeoDataFrame:
    return store().read_areas()


@st.cache_data(show_spinner=False)
def _incidents(url: str, version: int, query: IncidentQuery) -> gpd.GeoDataFrame:
    return store().read_incidents(query)


@st.cache_data(show_spinner=False)
def _hotspots(url: str, version: int, code: str, months: int, until: str | None) -> HotspotCells:
    result = hotspots_for_neighbourhood(store(), code, months=months, until=until, resolution=None)
    return HotspotCells(
        result.cells, result.messages, int(result.grid.spec.resolution), [str(m) for m in result.months]
    )


@st.cache_data(show_spinner=False)
def _table(url: str, version: int, name: str) -> pd.DataFrame:
    return store().read_table(name)


@st.cache_data(show_spinner=False)
def _months(url: str, version: int) -> pd.DataFrame:
    return store().incident_months()


@dataclass(frozen=True)
class HotspotCells:
    """What the pages need of :func:`pipelines.hotspots.hotspots_for_neighbourhood` (picklable for the cache)."""

    cells: gpd.GeoDataFrame
    messages: tuple[str, ...]
    resolution: int
    months: list[str]


def hotspots(code: str, *, months: int = 12, until: pd.Period | str | None = None) -> HotspotCells:
    """Gi* and emerging hot spots of a Safe Neighbourhood over ``months`` local months ending ``until``
    (the resolution is chosen so a small neighbourhood still has enough cells)."""
    return _hotspots(store().url, _version(), code, int(months), None if until is None else str(until))


def areas() -> gpd.GeoDataFrame:
    return _areas(store().url, _version())


def incidents(query: IncidentQuery | None = None) -> gpd.GeoDataFrame:
    return _incidents(store().url, _version(), query or IncidentQuery())


def table(name: str) -> pd.DataFrame:
    """Any stored table (assets, interventions, intervention_log, batches, rejections)."""
    return _table(store().url, _version(), name)


def incident_months() -> pd.DataFrame:
    """Incident counts per local month, area, category and source (from the store's summary, so the
    filters never read every incident)."""
    return _months(store().url, _version())


@dataclass(frozen=True)
class Filters:
    neighbourhood: str | None
    population: float | None
    months: tuple[pd.Period, pd.Period] | None  # inclusive local months
    categories: tuple[str, ...] | None
    sources: tuple[str, ...] | None

    def query(self, *, whole_period: bool = False) -> IncidentQuery:
        start = end = None
        if self.months and not whole_period:
            start, end = month_bounds(self.months[0])[0], month_bounds(self.months[1])[1]
        return IncidentQuery(
            neighbourhood=self.neighbourhood, start=start, end=end, categories=self.categories, sources=self.sources
        )


def sidebar() -> Filters:
    """Neighbourhood, period, categories and source: the filters every page shares."""
    hoods = areas()
    hoods = hoods[hoods["kind"] == "neighbourhood"].sort_values("name")
    side = st.sidebar
    side.header("Filters")
    codes = [None, *hoods["code"]]
    names = dict(zip(hoods["code"], hoods["name"], strict=True))
    harare = [i for i, n in enumerate(hoods["name"], start=1) if "harare" in str(n).lower()]  # the demo SN
    default = harare[0] if harare else (1 if len(hoods) else 0)
    code = side.selectbox(
        "Safe Neighbourhood",
        codes,
        index=default,
        key="f_hood",
        format_func=lambda c: "All areas" if c is None else names[c],
    )
    summary = incident_months()
    months = sorted(summary["month"].dropna().unique(), reverse=True)
    period = None
    if months:
        oldest = max(0, min(len(months) - 1, 11))
        chosen = side.select_slider(
            "Period (months)", options=months[::-1], key="f_period", value=(months[oldest], months[0]), format_func=str
        )
        period = (chosen[0], chosen[1])
    labels = category_labels()
    present = sorted(summary["category"].unique())
    cats = side.multiselect(
        "Categories", present, key="f_cats", format_func=lambda c: labels.get(c, c), placeholder="All categories"
    )
    source = side.radio("Source", list(SOURCE_CHOICES), key="f_source", horizontal=True)
    population = hoods.set_index("code")["population"].get(code) if code else None
    return Filters(
        code, None if pd.isna(population) else float(population), period, tuple(cats) or None, SOURCE_CHOICES[source]
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


def show_error(exc: AreaSafeError) -> None:
    """Errors users can act on are shown as they are, never as a traceback."""
    st.error(str(exc))
