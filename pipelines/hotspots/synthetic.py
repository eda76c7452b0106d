"""Synthetic incident frames with known patterns, for the hotspot tests and benchmarks.

Place in the data flow: none in production. Tests and ``bench/bench_hotspots.py`` build their inputs
here so that the incidents frame they feed the analytics has exactly the stored columns
(:data:`pipelines.schemas.INCIDENTS`) and the planted patterns are written once.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy import sparse

from pipelines.hotspots._columns import CATEGORY, INCIDENT_ID, NEIGHBOURHOOD_CODE, OCCURRED_AT, PRECINCT_CODE, SOURCE
from pipelines.periods import month_start
from pipelines.schemas import COLUMNS, INCIDENTS, STORE_CRS

#: A metric CRS for Cape Town (WGS 84 / UTM 34S) and a point in Khayelitsha to build grids around.
CAPE_TOWN_CRS = "EPSG:32734"
ORIGIN_LON, ORIGIN_LAT = 18.67, -34.05


def to_lonlat(x, y, crs: str = CAPE_TOWN_CRS) -> tuple[np.ndarray, np.ndarray]:
    """Metric coordinates to lon/lat."""
    return Transformer.from_crs(crs, STORE_CRS, always_xy=True).transform(np.asarray(x, float), np.asarray(y, float))


def to_metric(lon, lat, crs: str = CAPE_TOWN_CRS) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat to metric coordinates."""
    return Transformer.from_crs(STORE_CRS, crs, always_xy=True).transform(
        np.asarray(lon, float), np.asarray(lat, float)
    )


def origin_metric(crs: str = CAPE_TOWN_CRS) -> tuple[float, float]:
    """The Khayelitsha origin in ``crs``, snapped down to a whole kilometre (so fishnet cells align)."""
    x, y = to_metric(ORIGIN_LON, ORIGIN_LAT, crs)
    return float(np.floor(x / 1000) * 1000), float(np.floor(y / 1000) * 1000)


def incidents_frame(
    lon,
    lat,
    *,
    occurred_at=None,
    category="robbery_aggravated",
    source="municipal",
    precinct_code=None,
    neighbourhood_code=None,
) -> gpd.GeoDataFrame:
    """An incidents frame with every stored column; scalars are repeated for every row."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    n = len(lon)
    if occurred_at is None:
        occurred_at = pd.Timestamp("2026-01-15T12:00:00Z")
    occurred = pd.Series(occurred_at if np.ndim(occurred_at) else [occurred_at] * n).reset_index(drop=True)
    frame = pd.DataFrame({c: pd.Series([None] * n, dtype=object) for c in INCIDENTS.columns})
    frame[INCIDENT_ID] = [f"SYN-{i:07d}" for i in range(n)]
    frame[SOURCE] = source
    frame[CATEGORY] = category
    frame[OCCURRED_AT] = pd.to_datetime(occurred, utc=True)
    frame[PRECINCT_CODE] = precinct_code
    frame[NEIGHBOURHOOD_CODE] = neighbourhood_code
    frame[COLUMNS.sensitive] = False
    frame[COLUMNS.batch_id] = "synthetic"
    frame[COLUMNS.dedupe_key] = frame[INCIDENT_ID]
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs=STORE_CRS)


def incidents_from_counts(
    counts: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    months: pd.PeriodIndex,
    *,
    jitter_m: float = 0.0,
    seed: int = 0,
    **columns,
) -> gpd.GeoDataFrame:
    """Incidents reproducing a ``locations × months`` count table.

    Each incident is placed at its location (plus up to ``jitter_m`` metres of uniform jitter) on the
    15th of its local month at noon, so it falls in that month whatever the time zone.
    """
    counts = np.asarray(counts, dtype=np.int64)
    where, when = np.nonzero(counts)
    repeat = counts[where, when]
    location = np.repeat(where, repeat)
    month = np.repeat(when, repeat)
    x, y = to_metric(np.asarray(lon)[location], np.asarray(lat)[location])
    if jitter_m:
        rng = np.random.default_rng(seed)
        x = x + rng.uniform(-jitter_m, jitter_m, len(x))
        y = y + rng.uniform(-jitter_m, jitter_m, len(y))
    point_lon, point_lat = to_lonlat(x, y)
    mid_month = np.array([month_start(m) + pd.Timedelta(days=14, hours=12) for m in months])
    occurred = pd.to_datetime(pd.Series(mid_month[month] if len(month) else [], dtype="datetime64[ns, UTC]"))
    return incidents_frame(point_lon, point_lat, occurred_at=occurred, **columns)


def random_city(
    n: int,
    *,
    seed: int = 0,
    width_m: float = 40_000.0,
    height_m: float = 30_000.0,
    start: str = "2024-11-01",
    months: int = 24,
    clustered: float = 0.3,
) -> gpd.GeoDataFrame:
    """``n`` incidents over a city-sized rectangle: uniform background plus Gaussian clusters.

    Used by the benchmark; ``clustered`` is the share of incidents in 200 clusters of 150 m spread.
    """
    rng = np.random.default_rng(seed)
    x0, y0 = origin_metric()
    n_cluster = int(n * clustered)
    centres = np.column_stack([rng.uniform(0, width_m, 200), rng.uniform(0, height_m, 200)])
    pick = rng.integers(0, 200, n_cluster)
    x = np.concatenate([rng.uniform(0, width_m, n - n_cluster), centres[pick, 0] + rng.normal(0, 150, n_cluster)])
    y = np.concatenate([rng.uniform(0, height_m, n - n_cluster), centres[pick, 1] + rng.normal(0, 150, n_cluster)])
    lon, lat = to_lonlat(x0 + x, y0 + y)
    days = rng.integers(0, months * 30, n)
    occurred = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(days, unit="D") + pd.Timedelta(hours=12)
    return incidents_frame(lon, lat, occurred_at=pd.Series(occurred))


def queen_lattice(side: int) -> sparse.csr_array:
    """Binary queen adjacency of a ``side × side`` lattice, cells numbered row by row."""
    index = np.arange(side * side).reshape(side, side)
    rows, cols = [], []
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr == dc == 0:
                continue
            src = index[max(0, -dr) : side - max(0, dr), max(0, -dc) : side - max(0, dc)]
            dst = index[max(0, dr) : side + min(0, dr) or None, max(0, dc) : side + min(0, dc) or None]
            rows.append(src.ravel())
            cols.append(dst.ravel())
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    return sparse.csr_array((np.ones(len(rows)), (rows, cols)), shape=(side * side, side * side))


def lattice_lonlat(side: int, *, cell_m: float = 100.0, crs: str = CAPE_TOWN_CRS) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat of the centres of a ``side × side`` lattice of ``cell_m`` cells from the Khayelitsha
    origin, numbered row by row (as :func:`queen_lattice`)."""
    x0, y0 = origin_metric(crs)
    x = x0 + cell_m / 2 + cell_m * np.tile(np.arange(side), side)
    y = y0 + cell_m / 2 + cell_m * np.repeat(np.arange(side), side)
    return to_lonlat(x, y, crs)


def planted_city(side: int = 30, months: int = 12, *, seed: int = 0, background: float = 3.0) -> np.ndarray:
    """``side² × months`` counts: Poisson(``background``) everywhere plus five planted 3 × 3 clusters.

    The clusters, by lattice row and column of their corner: (5, 5) steady (6 a month per cell),
    (5, 20) growing (2 + month), (20, 5) new in the last three months (8), (20, 20) stopped three months
    before the end (8), (12, 12) new in the final month (10). Used to check what an incomplete last
    month does to the emerging categories.
    """
    rng = np.random.default_rng(seed)
    counts = rng.poisson(background, (side * side, months))
    t = np.arange(months)
    profiles = {
        (5, 5): np.full(months, 6.0),
        (5, 20): 2.0 + t,
        (20, 5): np.where(t >= months - 3, 8.0, 0.0),
        (20, 20): np.where(t < months - 3, 8.0, 0.0),
        (12, 12): np.where(t == months - 1, 10.0, 0.0),
    }
    for (row, col), profile in profiles.items():
        block = [(row + i) * side + col + j for i in range(3) for j in range(3) if row + i < side and col + j < side]
        counts[block] += rng.poisson(np.broadcast_to(profile, (len(block), months)))
    return counts


def overdispersed_places(
    rng: np.random.Generator,
    *,
    treated_mean: float,
    effect: float = 1.0,
    cv: float = 0.2,
    places: int = 60,
) -> tuple[int, int, np.ndarray, np.ndarray]:
    """One draw of before/after counts near an intervention and in ``places`` places without one.

    Each place's usual level varies around ``treated_mean`` (Gamma, CV 50 %); everyone shares a common
    change (CV 10 %); and each place's rate in each period is multiplied by its own Gamma factor of mean 1
    and CV ``cv``: the ordinary year-to-year variation ("overdispersion") that Poisson counts leave out.
    The intervention multiplies its area's after rate by ``effect``. Returns ``(Tb, Ta, b, a)``.
    """

    def swing(size: int) -> np.ndarray:
        if cv <= 0:
            return np.ones(size)
        shape = 1.0 / cv**2
        return rng.gamma(shape, 1.0 / shape, size)

    usual = treated_mean * rng.gamma(4.0, 0.25, places)
    common = rng.gamma(100.0, 0.01)
    treated_before = int(rng.poisson(treated_mean * swing(1))[0])
    treated_after = int(rng.poisson(treated_mean * common * effect * swing(1))[0])
    return (
        treated_before,
        treated_after,
        rng.poisson(usual * swing(places)),
        rng.poisson(usual * common * swing(places)),
    )
