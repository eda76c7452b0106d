"""The synthetic grid the hot-spot ACT tests share: two clusters of hot cells, A and B, and three interventions."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipelines.hotspots.gistar import hot_spots
from pipelines.hotspots.grid import GridSpec, build_grid
from pipelines.hotspots.synthetic import (
    CAPE_TOWN_CRS,
    incidents_from_counts,
    origin_metric,
    to_lonlat,
)

SIDE = 20
SPEC = GridSpec(kind="fishnet", cell_size_m=100, crs=CAPE_TOWN_CRS)
X0, Y0 = origin_metric()
CX = X0 + 50 + 100 * np.tile(np.arange(SIDE), SIDE)
CY = Y0 + 50 + 100 * np.repeat(np.arange(SIDE), SIDE)
LON, LAT = to_lonlat(CX, CY)
A = (X0 + 550, Y0 + 550)  # centre of cluster A (cells 4-6)
B = (X0 + 1450, Y0 + 1450)  # centre of cluster B (cells 13-15)


def point(x, y) -> shapely.Point:
    lon, lat = to_lonlat([x], [y])
    return shapely.Point(lon[0], lat[0])


def area() -> shapely.Polygon:
    lon, lat = to_lonlat([X0, X0 + 2000, X0 + 2000, X0], [Y0, Y0, Y0 + 2000, Y0 + 2000])
    return shapely.Polygon(zip(lon, lat, strict=True))


def grid_hotspots():
    """Gi* on a 20 x 20 fishnet of 100 m cells with two clusters of nine hot cells (A and B)."""
    counts = np.random.default_rng(1).poisson(1.0, (SIDE * SIDE, 1))
    for cx, cy in ((5, 5), (14, 14)):
        for r in range(cy - 1, cy + 2):
            for c in range(cx - 1, cx + 2):
                counts[r * SIDE + c] += 10
    months = pd.period_range("2026-01", periods=1, freq="M")
    grid = build_grid(incidents_from_counts(counts, LON, LAT, months), area=area(), spec=SPEC)
    return hot_spots(grid)


def sample_interventions() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "intervention_id": ["I1", "I2", "I3"],
            "name": ["Lighting A", "Walkway B", "Youth programme"],
            "type": ["lighting", "walkway", "programme"],
            "status": ["complete", "stalled", "in_progress"],
            "start": ["2025-07-01", "2025-03-01", "2025-01-01"],
            "end": [None, None, None],
        },
        geometry=[point(*A), point(*B), None],
        crs=4326,
    )


def is_near(hot_cells, centre, metres=400) -> np.ndarray:
    cells = hot_cells.geometry.to_crs(CAPE_TOWN_CRS)
    return cells.distance(shapely.Point(*centre)).to_numpy() <= metres
