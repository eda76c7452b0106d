"""Benchmark: explorer map build time and payload for 10k, 100k and 1M incidents in one neighbourhood.

Compares :func:`pipelines.mapview.build_map` (server-side aggregation, capped layers) with a plain
folium map holding one CircleMarker per incident, at the sizes where that finishes in reasonable time.
Run from the repository root: ``python bench/bench_map.py [--sizes 10000 100000 1000000]``; writes
``bench/RESULTS-map.md``.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipelines import mapview

OUT = Path(__file__).resolve().parent / "RESULTS-map.md"
NEIGHBOURHOOD = Path(__file__).resolve().parent.parent / "data" / "demo" / "neighbourhoods.geojson"
BASELINE_MAX = 20_000  # one CircleMarker per incident: beyond this the baseline takes minutes


def _areas() -> gpd.GeoDataFrame:
    if NEIGHBOURHOOD.exists():
        areas = gpd.read_file(NEIGHBOURHOOD)
        harare = areas[areas["name"].str.contains("Harare", case=False, na=False)]
        areas = harare.head(1) if len(harare) else areas.head(1)
        return gpd.GeoDataFrame(
            {"code": ["SN"], "name": areas["name"].to_numpy(), "kind": "neighbourhood", "population": [38_000.0]},
            geometry=areas.geometry.to_numpy(),
            crs=4326,
        )
    return gpd.GeoDataFrame(
        {"code": ["SN"], "name": ["Synthetic"], "kind": "neighbourhood", "population": [38_000.0]},
        geometry=[shapely.box(18.65, -34.06, 18.68, -34.04)],
        crs=4326,
    )


def _incidents(area, n: int, seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = area.total_bounds
    # clustered, like real incidents: 70 % around 12 centres, the rest uniform in the bounding box
    centres = rng.uniform([minx, miny], [maxx, maxy], (12, 2))
    k = int(n * 0.7)
    near = centres[rng.integers(0, 12, k)] + rng.normal(0, 0.0015, (k, 2))
    uniform = rng.uniform([minx, miny], [maxx, maxy], (n - k, 2))
    xy = np.vstack([near, uniform])
    return gpd.GeoDataFrame(
        {
            "incident_id": np.char.add("i", np.arange(n).astype(str)),
            "category": rng.choice(["assault_common", "robbery_aggravated", "drug_related"], n),
            "occurred_at": pd.Timestamp("2025-06-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 86400 * 180, n), "s"),
            "source": "municipal",
            "neighbourhood_code": "SN",
            "precinct_code": None,
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=4326,
    )


def _baseline(incidents: gpd.GeoDataFrame) -> folium.Map:
    m = folium.Map(location=[incidents.geometry.y.mean(), incidents.geometry.x.mean()], zoom_start=14, tiles=None)
    for y, x in zip(incidents.geometry.y.to_numpy(), incidents.geometry.x.to_numpy(), strict=True):
        folium.CircleMarker([y, x], radius=3).add_to(m)
    return m


def _time(build) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(3):
        start = time.perf_counter()
        m = build()
        size = len(m.get_root().render().encode())  # rendering is part of what st_folium does per run
        times.append(time.perf_counter() - start)
    return float(np.median(times)), size


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = parser.parse_args(argv)
    areas = _areas()
    roads = mapview.load_context_roads()
    options = mapview.MapOptions(layers=mapview.LAYERS)
    rows = []
    for n in args.sizes:
        incidents = _incidents(areas, n)
        seconds, size = _time(
            lambda inc=incidents: mapview.build_map(areas, inc, roads=roads, focus="SN", options=options).map
        )
        rows.append(("mapview.build_map (all layers)", n, seconds, size))
        if n <= BASELINE_MAX:
            seconds, size = _time(lambda inc=incidents: _baseline(inc))
            rows.append(("plain folium, 1 CircleMarker each", n, seconds, size))
        else:
            rows.append(("plain folium, 1 CircleMarker each", n, float("nan"), 0))
    lines = [
        "# Map build benchmark (`python bench/bench_map.py`)",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, folium {folium.__version__}. "
        "Median of 3 runs; build time includes rendering the map HTML (what streamlit-folium does per page run), "
        "not reading from the store. Incidents are synthetic and clustered inside the demo Harare neighbourhood; "
        "layers: area choropleth, kernel-density heat surface, H3 hexagons, clustered points (sampled to 2,000), offline roads.",
        "Target: payload < 1.5 MB and build < 1 s at every size.",
        "",
        "| map | incidents | build (s) | payload (MB) | meets target |",
        "|---|---:|---:|---:|---|",
    ]
    for name, n, seconds, size in rows:
        if np.isnan(seconds):
            lines.append(f"| {name} | {n:,} | not run (> {BASELINE_MAX:,}: minutes) | | no |")
            continue
        ok = "yes" if seconds < 1 and size < 1.5e6 else "no"
        lines.append(f"| {name} | {n:,} | {seconds:.2f} | {size / 1e6:.2f} | {ok} |")
    text = "\n".join(lines) + "\n"
    print(text)
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
