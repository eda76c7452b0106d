"""Location generalisation: where a point may be shown, and the finest cell a count may be made on.

Place in the data flow: inside the disclosure core (:mod:`pipelines.privacy`). Pure functions over
arrays and frames; the rule and the reasons for its numbers are in ``docs/privacy.md``.

- A **generalised location** is the centre of the point's H3 hexagon at the resolution chosen by
  :func:`generalise_resolution`: the finest of ``SETTINGS.generalise_resolutions`` at which a hexagon in
  the least densely populated area still holds ``SETTINGS.min_households_per_cell`` households. Like
  Police.uk's map points (each covers at least 8 postal addresses), one dot then stands for many homes.
"""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

import pipelines.settings
from pipelines import hexes
from pipelines.schemas import COLUMNS, STORE_CRS
from pipelines.settings import Settings

#: Equal-area CRS for area sizes (WGS 84 / NSIDC EASE-Grid 2.0 Global).
_EQUAL_AREA = "EPSG:6933"


def generalised_points(geoms: gpd.GeoSeries, resolution: int) -> gpd.GeoSeries:
    """Each point moved to the centre of its H3 cell at ``resolution`` (missing points stay missing)."""
    values = geoms.to_numpy()
    present = ~shapely.is_missing(values) & ~shapely.is_empty(values)
    out = np.full(len(values), None, dtype=object)
    if present.any():
        lon, lat = shapely.get_x(values[present]), shapely.get_y(values[present])
        clon, clat = hexes.cell_centres(hexes.point_cells(lon, lat, resolution, snap=True))
        out[present] = shapely.points(clon, clat)
    return gpd.GeoSeries(out, index=geoms.index, crs=geoms.crs or STORE_CRS)


def households_per_cell(areas: gpd.GeoDataFrame, resolution: int, *, settings: Settings | None = None) -> pd.Series:
    """Estimated households in an average H3 cell at ``resolution`` in each populated area (by code).

    Households are the area's population over ``settings.persons_per_household``, spread evenly over
    its land; areas without a population are left out.
    """
    settings = settings or pipelines.settings.SETTINGS
    population = pd.to_numeric(areas[COLUMNS.population], errors="coerce")
    populated = areas[population.notna() & (population > 0)]
    if not len(populated):
        return pd.Series(dtype=float)
    km2 = populated.geometry.to_crs(_EQUAL_AREA).area.to_numpy() / 1e6
    density = pd.to_numeric(populated[COLUMNS.population]).to_numpy() / np.where(km2 > 0, km2, np.nan)
    per_cell = density / settings.persons_per_household * h3.average_hexagon_area(resolution, unit="km^2")
    return pd.Series(per_cell, index=populated[COLUMNS.code].to_numpy(), name="households").dropna()


def generalise_resolution(areas: gpd.GeoDataFrame, *, settings: Settings | None = None) -> int:
    """The H3 resolution of generalised locations for these areas.

    The finest of ``settings.generalise_resolutions`` at which the *least* densely populated Safe
    Neighbourhood (or precinct, when no neighbourhood has a population) holds at least
    ``settings.min_households_per_cell`` households per cell; the coarsest when none does or no
    population is known.
    """
    settings = settings or pipelines.settings.SETTINGS
    resolutions = settings.generalise_resolutions
    chosen = areas[areas[COLUMNS.kind] == "neighbourhood"] if COLUMNS.kind in areas else areas
    if not len(households_per_cell(chosen, resolutions[0], settings=settings)):
        chosen = areas[areas[COLUMNS.kind] == "precinct"] if COLUMNS.kind in areas else areas
    for resolution in resolutions:
        per_cell = households_per_cell(chosen, resolution, settings=settings)
        if len(per_cell) and per_cell.min() >= settings.min_households_per_cell:
            return resolution
    return resolutions[-1]
