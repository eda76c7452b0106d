"""The disclosure core: the only code that turns stored rows into what a role sees.

Place in the data flow: directly above the store, below everything that shows data. The map, profile,
hot spots, agenda, meeting pack, exports, CLI and pages take incident data, counts and people's assets
from here, and nothing else decides who sees what. One module per rule:

- :mod:`.viewer`: who is asking (:class:`Viewer`) and the permission table (:data:`PERMISSIONS`);
- :mod:`.rows`: the row filter: rows to show (:func:`read_incidents`), rows to count
  (:func:`counting_rows`), withheld columns, batch history;
- :mod:`.generalise`: where a sensitive point may be shown (the centre of its H3 cell at the store's
  generalisation resolution);
- :mod:`.suppress`: small counts (primary and secondary suppression, and figures derived from them);
- :mod:`.published`: counts per area, hexagon and hot-spot cell, and the neighbourhood profile, as a
  viewer may see them;
- :mod:`.public`: the public rules for documents (the public pack) and for people's assets.

What each role sees, surface by surface, is in ``docs/privacy.md``.
"""

from __future__ import annotations

from pipelines.privacy.public import visible_assets
from pipelines.privacy.published import (
    COUNT_NOT_SHOWN,
    ProfileStats,
    PublishedCounts,
    exact_counts,
    filter_choices,
    hotspot_resolution,
    population_sources,
    profile_stats,
    published_counts,
    published_hotspots,
)
from pipelines.privacy.rows import (
    GENERALISED,
    WITHHELD_COLUMNS,
    counting_rows,
    location_resolution,
    note_detail_view,
    read_batches,
    read_incidents,
    read_table,
)
from pipelines.privacy.viewer import PERMISSIONS, PUBLIC, AccessDenied, Viewer, operator

__all__ = [
    "COUNT_NOT_SHOWN",
    "GENERALISED",
    "PERMISSIONS",
    "PUBLIC",
    "WITHHELD_COLUMNS",
    "AccessDenied",
    "ProfileStats",
    "PublishedCounts",
    "Viewer",
    "counting_rows",
    "exact_counts",
    "filter_choices",
    "hotspot_resolution",
    "location_resolution",
    "note_detail_view",
    "operator",
    "population_sources",
    "profile_stats",
    "published_counts",
    "published_hotspots",
    "read_batches",
    "read_incidents",
    "read_table",
    "visible_assets",
]
