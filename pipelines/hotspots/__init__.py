"""Hotspot analytics: grids, Gi*, Local Moran, emerging hot spots, density, rates and the ACT questions.

Place in the data flow: analyse. Every function takes frames and returns a result object; only
:func:`hotspots_for_neighbourhood` reads from a store. See ``docs/hotspots.md`` for the methods.

One module per statistic:

- :mod:`.grid`: :func:`build_grid` (H3 or fishnet, clip, filters) -> :class:`Grid`
- :mod:`.gistar`: :func:`hot_spots` / :func:`gi_star` -> :class:`HotSpots` / :class:`GiStar`
- :mod:`.moran`: :func:`clusters_and_outliers` / :func:`local_moran`
- :mod:`.emerging`: :func:`space_time_cube`, :func:`emerging_hotspots`, :func:`classify`, :func:`mann_kendall`,
  :func:`hotspot_classes` (the map's classes in words)
- :mod:`.density`: :func:`density_surface`
- :mod:`.rates`: :func:`area_rates`, :func:`empirical_bayes`
- :mod:`.coverage`: :func:`hotspots_without_intervention`, :func:`assets_near_hotspots`
- :mod:`.effect`: :func:`intervention_effect`, :func:`intervention_effects`; :mod:`.did`: :func:`did_estimate`,
  :func:`matched_places`
- :mod:`.gap`: :func:`reporting_gap`
- :mod:`.months`: :func:`month_completeness`, :func:`complete_until`, :func:`first_data_month`
- :mod:`.recipe`: :func:`hotspots_for_neighbourhood`, :func:`neighbourhood_hotspots`
- :mod:`.cli`: ``areasafe hotspots``

Names are imported on first use, so ``import pipelines.hotspots.cli`` (which the main CLI does to build
its parser) does not load geopandas, scipy and h3.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "grid": (
        "GRID_KINDS",
        "MIN_CELLS",
        "Grid",
        "GridError",
        "GridSpec",
        "build_grid",
        "select_incidents",
        "suggest_resolution",
        "utm_crs",
    ),
    "gistar": ("GiStar", "HotSpots", "HotspotInputError", "gi_star", "hot_spots"),
    "moran": ("ClustersAndOutliers", "LocalMoran", "clusters_and_outliers", "local_moran"),
    "emerging": (
        "EMERGING_CATEGORIES",
        "HOTSPOT_CLASS",
        "HOTSPOT_CLASSES",
        "EmergingHotspots",
        "HotspotClass",
        "SpaceTimeCube",
        "classify",
        "emerging_hotspots",
        "hotspot_classes",
        "mann_kendall",
        "space_time_cube",
        "space_time_weights",
    ),
    "density": ("DensitySurface", "density_surface"),
    "rates": ("AreaRates", "area_rates", "empirical_bayes"),
    "_nearby": ("WALKING_DISTANCE_M",),
    "coverage": (
        "COVERING_STATUSES",
        "AssetsNearHotspots",
        "InterventionGaps",
        "assets_near_hotspots",
        "hotspots_without_intervention",
    ),
    "did": ("DidEstimate", "did_estimate", "matched_places"),
    "effect": ("InterventionEffect", "intervention_effect", "intervention_effects"),
    "gap": ("ReportingGap", "reporting_gap"),
    "months": ("MonthCompleteness", "complete_until", "first_data_month", "month_completeness"),
    "recipe": (
        "NeighbourhoodHotspots",
        "UnknownCategoryError",
        "UnknownNeighbourhoodError",
        "hotspots_for_neighbourhood",
        "neighbourhood_hotspots",
    ),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
