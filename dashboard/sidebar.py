"""The sidebar's filters (neighbourhood, period, categories, source), written once for every page.

Place in the data flow: show. :func:`filters` draws them from the stored areas and months
(:mod:`dashboard.loaders`) and returns the :class:`~dashboard.loaders.Filters` the pages pass on to
their reads; :func:`default_neighbourhood` and :func:`default_period` are where it starts, which is also
what :mod:`dashboard.warming` fills the caches for.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st

from dashboard.loaders import Filters, areas, filter_choices
from pipelines.schemas import COLUMNS, SOURCES
from pipelines.views import category_labels

SOURCE_CHOICES = {"Both": None, "Municipal": ("municipal",), "Community": ("community",)}
assert set(SOURCES) == {"municipal", "community"}  # the choices above name both sources


def default_neighbourhood(hoods: gpd.GeoDataFrame) -> str | None:
    """The Safe Neighbourhood the sidebar starts on: the demo's (Harare) when present, else the first by name."""
    hoods = hoods[hoods[COLUMNS.kind] == "neighbourhood"].sort_values(COLUMNS.name)
    harare = [
        code
        for code, name in zip(hoods[COLUMNS.code], hoods[COLUMNS.name], strict=True)
        if "harare" in str(name).lower()
    ]
    return harare[0] if harare else (hoods[COLUMNS.code].iloc[0] if len(hoods) else None)


def default_period(months: list[pd.Period]) -> tuple[pd.Period, pd.Period] | None:
    """The period the sidebar starts on: the last 12 stored months (``months`` newest first)."""
    return (months[max(0, min(len(months) - 1, 11))], months[0]) if months else None


def filters() -> Filters:
    """Neighbourhood, period, categories and source: the filters every page shares."""
    hoods = areas()
    hoods = hoods[hoods[COLUMNS.kind] == "neighbourhood"].sort_values(COLUMNS.name)
    side = st.sidebar
    side.header("Filters")
    codes = [None, *hoods[COLUMNS.code]]
    names = dict(zip(hoods[COLUMNS.code], hoods[COLUMNS.name], strict=True))
    default = codes.index(default_neighbourhood(hoods))
    code = side.selectbox(
        "Safe Neighbourhood",
        codes,
        index=default,
        key="f_hood",
        format_func=lambda c: "All areas" if c is None else names[c],
    )
    months, present = filter_choices()
    period = None
    if months:
        chosen = side.select_slider(
            "Period (months)", options=months[::-1], key="f_period", value=default_period(months), format_func=str
        )
        period = (chosen[0], chosen[1])
    labels = category_labels()
    cats = side.multiselect(
        "Categories", present, key="f_cats", format_func=lambda c: labels.get(c, c), placeholder="All categories"
    )
    source = side.radio("Source", list(SOURCE_CHOICES), key="f_source", horizontal=True)
    partial = side.toggle(
        "Include a last month that looks incomplete",
        key="f_partial",
        help="A month whose reports are not all in yet is left out of trends and hot spots, and named on the "
        "page. Turn this on to include it anyway; it may then read low.",
    )
    population = hoods.set_index(COLUMNS.code)[COLUMNS.population].get(code) if code else None
    return Filters(
        code,
        None if pd.isna(population) else float(population),
        period,
        tuple(cats) or None,
        SOURCE_CHOICES[source],
        partial,
    )


def period_words(filters: Filters) -> str | None:
    """The chosen months in words for file names and captions ("2025-11 to 2026-10")."""
    if not filters.months:
        return None
    first, last = filters.months
    return str(first) if first == last else f"{first} to {last}"
