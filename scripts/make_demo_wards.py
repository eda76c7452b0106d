"""Write ``data/demo/wards.geojson``: the real City of Cape Town 2021 wards that touch the demo precincts.

Usage: ``python scripts/make_demo_wards.py [--shared PATH] [--out PATH]`` (defaults: ``../shared/data/real``
beside the repository and ``data/demo/wards.geojson``). The wards are copied with their attributes unchanged,
reprojected from EPSG:3857 to EPSG:4326 with coordinates rounded to 6 decimals (about 0.1 m);
``data/demo/WARDS-PROVENANCE.md`` records the source and the sha256 of the result.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import geopandas as gpd
import shapely

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data" / "real")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "demo" / "wards.geojson")
    args = parser.parse_args()
    wards = gpd.read_file(args.shared / "cct-wards-2021" / "Wards.shp").to_crs(4326)
    precincts = gpd.read_file(ROOT / "data" / "demo" / "precincts.geojson").to_crs(4326)
    touching = wards[wards.intersects(precincts.union_all())].copy()
    touching["geometry"] = shapely.set_precision(touching.geometry.to_numpy(), 1e-6)
    touching = touching.sort_values("OBJECTID", ignore_index=True)
    features = json.loads(touching.to_json(drop_id=True))
    features["name"] = "cct_wards_2021_demo"
    args.out.write_text(json.dumps(features, separators=(",", ":")) + "\n")
    print(f"wrote {len(touching)} wards to {args.out}")


if __name__ == "__main__":
    main()
