"""Benchmark: ingest N community rows into the 1,143 real SAPS precincts, CSV to committed store.

Compares AreaSafe's full pipeline (encoding/delimiter detection, column mapping, PII redaction,
date parsing, taxonomy, duplicate detection, raw JSON copies, spatial join, one-transaction
GeoPackage commit) with a plain geopandas baseline measured in the same run:
``read_csv -> points_from_xy -> sjoin -> to_file``. Each run is a fresh subprocess, so peak memory
(max RSS) is measured per run. Prints a Markdown table; ``--out`` also writes it to a file.

    python bench/bench_ingest.py --rows 1000000 --repeat 3 --out bench/RESULTS-ingest.md
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "data" / "real"
PRECINCTS = REAL / "za-saps-precincts-2015" / "policeBounds3.json"
STATIONS = REAL / "za-saps-station-crimestats-2005-2016" / "Police_points.shp"
TERMS = [
    "gang violence",
    "drug dealing",
    "Robbery",
    "housebreaking",
    "broken street light",
    "illegal shebeen",
    "Common assault",
    "domestic violence",
    "gunshots",
    "vandalism",
]


def make_csv(path: Path, rows: int, seed: int = 1) -> None:
    """Kobo-style community rows clustered around the real police stations."""
    import geopandas as gpd

    rng = np.random.default_rng(seed)
    stations = gpd.read_file(STATIONS)
    pick = rng.integers(0, len(stations), rows)
    lon = stations.geometry.x.to_numpy()[pick] + rng.normal(0, 0.02, rows)
    lat = stations.geometry.y.to_numpy()[pick] + rng.normal(0, 0.02, rows)
    when = pd.Timestamp("2024-11-01") + pd.to_timedelta(rng.integers(0, 730 * 24 * 60, rows), unit="min")
    descriptions = np.array(
        [
            "Seen near the taxi rank",
            "Shots fired at night, people ran",
            "Break-in at a spaza",
            "Group of youths robbing people walking home",
            "Streetlight out for two weeks",
        ]
    )
    frame = pd.DataFrame(
        {
            "incident/incident_date": when.strftime("%d/%m/%Y %H:%M"),
            "incident/incident_type": np.array(TERMS)[rng.integers(0, len(TERMS), rows)],
            "incident/description": descriptions[rng.integers(0, len(descriptions), rows)],
            "incident/_location_latitude": lat.round(6),
            "incident/_location_longitude": lon.round(6),
            "_uuid": _uuid4s(rng, rows),
            "_submission_time": when.strftime("%Y-%m-%dT%H:%M:%S"),
        }
    )
    frame.to_csv(path, index=False)


def _uuid4s(rng: np.random.Generator, rows: int) -> np.ndarray:
    """Random version-4 UUIDs as Kobo writes them (random, so the store's unique index sees them in
    no particular order, as with real exports)."""
    raw = np.frombuffer(rng.bytes(16 * rows), dtype=np.uint8).reshape(rows, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexes = pd.Series(np.frombuffer(raw.tobytes().hex().encode(), dtype="S32").astype(str)).str
    return (hexes[:8] + "-" + hexes[8:12] + "-" + hexes[12:16] + "-" + hexes[16:20] + "-" + hexes[20:]).to_numpy()


BASELINE = """
import sys, geopandas as gpd, pandas as pd
csv, out = sys.argv[1], sys.argv[2]
raw = pd.read_csv(csv)
points = gpd.GeoDataFrame(raw, geometry=gpd.points_from_xy(raw["incident/_location_longitude"],
                          raw["incident/_location_latitude"]), crs=4326)
precincts = gpd.read_file(sys.argv[3])
joined = gpd.sjoin(points, precincts[["id", "geometry"]], predicate="within", how="left")
joined.to_file(out, layer="incidents", driver="GPKG")
print(len(joined))
"""

AREASAFE = """
import sys
from pipelines.store import open_store
from pipelines.ingest.incidents import ingest_incidents
store = open_store(sys.argv[2])
batch = ingest_incidents(store, sys.argv[1], source="community", org="bench")
store.close()  # the last connection: SQLite folds the write-ahead log into the file here
print(batch.accepted)
"""


def _settle(folder: Path, keep: tuple[Path, ...] = ()) -> None:
    """Start each timed run from the same disk state: earlier runs' outputs removed and every dirty
    page written out, so neither pipeline pays for the other's writeback (it used to swing AreaSafe's
    fsyncs by seconds from one run to the next)."""
    for f in folder.glob("*.gpkg*"):
        if f not in keep and f.name != "template.gpkg":
            f.unlink()
    os.sync()


def _run_with_rss(code: str, *args: str) -> tuple[float, float, str]:
    """Wall time and the child's peak RSS in MB (Linux ru_maxrss is in kB)."""
    wrapper = (
        "import resource, runpy, sys, time, json\n"
        "t = time.perf_counter()\n"
        f"exec(compile({code!r}, 'bench', 'exec'))\n"
        "sys.stderr.write(json.dumps({'s': time.perf_counter() - t, "
        "'rss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *args], capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(out.stderr)
    stats = json.loads(out.stderr.strip().splitlines()[-1])
    return stats["s"], stats["rss"], out.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not PRECINCTS.exists():
        sys.exit(f"needs the real precincts at {PRECINCTS}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv = tmp / "community.csv"
        make_csv(csv, args.rows)
        from pipelines.ingest.boundaries import ingest_boundaries
        from pipelines.store import open_store

        template = tmp / "template.gpkg"
        with open_store(template) as store:
            ingest_boundaries(store, PRECINCTS, kind="precinct")
        results: dict[str, list[tuple[float, float]]] = {"geopandas baseline": [], "AreaSafe ingest": []}
        for i in range(args.repeat):
            out = tmp / f"baseline{i}.gpkg"
            _settle(tmp)
            s, rss, _ = _run_with_rss(BASELINE, str(csv), str(out), str(PRECINCTS))
            results["geopandas baseline"].append((s, rss))
            target = tmp / f"store{i}.gpkg"
            target.write_bytes(template.read_bytes())
            _settle(tmp, keep=(target,))
            s, rss, accepted = _run_with_rss(AREASAFE, str(csv), str(target))
            results["AreaSafe ingest"].append((s, rss))
            print(
                f"run {i + 1}: baseline {results['geopandas baseline'][-1][0]:.2f} s, areasafe {s:.2f} s "
                f"({accepted} accepted)",
                file=sys.stderr,
            )
    base = statistics.median(s for s, _ in results["geopandas baseline"])
    lines = [
        f"Ingest of {args.rows:,} community rows (Kobo CSV layout) into 1,143 real SAPS precincts, "
        f"median of {args.repeat} runs, each in a fresh process; {_machine()}.",
        "",
        "| pipeline | median s | rows/s | peak RSS MB | time vs baseline |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, runs in results.items():
        median = statistics.median(s for s, _ in runs)
        peak = max(r for _, r in runs)
        lines.append(f"| {name} | {median:.2f} | {args.rows / median:,.0f} | {peak:,.0f} | {median / base:.2f}x |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        args.out.write_text("# Ingest benchmark\n\n" + table + "\n")


def _machine() -> str:
    import os
    import platform

    return f"{os.cpu_count()} cores, Python {platform.python_version()}"


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
