"""Places and areas of the demo: the real inputs, precincts, Safe Neighbourhoods, roads, crime mix and schools.

Place in the data flow: the first step after the specification. It checks the real files in
``../shared/data/real`` against their recorded sha256 and reads them into frames the simulation steps draw on.
``schools.csv`` is copied here too, line for line, because it is real rows, not a simulation.
"""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .geometry import METRIC_CRS, WGS84, clean_polygons
from .spec import RealInput


def sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_inputs(shared: Path, real_inputs: dict[str, RealInput]) -> dict[str, Path]:
    """Locate the real inputs and check their sha256 against their PROVENANCE.md.

    Raises
    ------
    FileNotFoundError
        When ``shared`` or a file is missing.
    ValueError
        When a file's sha256 differs from the one recorded in its source folder.
    """
    if not shared.is_dir():
        raise FileNotFoundError(
            f"`--shared` folder {shared} does not exist; point it at the shared real-data folder "
            "(default ../shared/data/real next to the repository)"
        )
    paths = {}
    for key, real in real_inputs.items():
        path = shared / real.folder / real.file
        if not path.is_file():
            raise FileNotFoundError(f"real input {path} is missing; the demo needs {real.folder}/{real.file}")
        actual = sha256(path)
        if actual != real.sha256:
            raise ValueError(
                f"{path} has sha256 {actual}, but {real.folder}/PROVENANCE.md records {real.sha256}; "
                "restore the original file or update the provenance first"
            )
        paths[key] = path
    return paths


def read_precincts(
    precincts_path: Path, stations_path: Path, *, precinct_ids: tuple[str, ...], municipality: str
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """The demo precincts with Census-2022 code, name and population.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``code, name, municipality, population, source_id, geometry``, sorted by code.
    dict
        Geometry repair counts (see :func:`clean_polygons`).
    """
    raw = gpd.read_file(precincts_path)  # TopoJSON; GDAL reads the object "collection"
    raw = raw[raw["id"].isin(precinct_ids)].copy()
    stations = pd.read_csv(stations_path, dtype={"code": str})
    stations["key"] = stations["name"].str.casefold()
    raw["key"] = raw["id"].str.replace("_", " ").str.casefold()
    columns = ["key", "code", "name", "population", "area_km2"]
    joined = raw.merge(stations[columns], on="key", how="left", validate="1:1")
    if joined["code"].isna().any() or len(joined) != len(precinct_ids):
        missing = sorted(set(precinct_ids) - set(joined.loc[joined["code"].notna(), "id"]))
        raise ValueError(f"precincts {missing} have no Census-2022 row in {stations_path.name}")
    geoms, repairs = clean_polygons(list(joined.geometry))
    precincts = gpd.GeoDataFrame(
        {
            "code": joined["code"].to_numpy(),
            "name": joined["name"].to_numpy(),
            "municipality": municipality,
            "population": joined["population"].astype(int).to_numpy(),
            "source_id": joined["id"].to_numpy(),
            "area_km2_2022": joined["area_km2"].to_numpy(),
        },
        geometry=geoms,
        crs=WGS84,
    )
    return precincts.sort_values("code", kind="stable").reset_index(drop=True), repairs


def _title(name: str) -> str:
    """Title-case a sub-district name, keeping codes such as ``T2-V2B``, ``RR`` and ``SP`` upper-case."""
    words = []
    for word in name.split():
        keep = len(word) <= 2 or any(ch.isdigit() for ch in word)
        words.append(word if keep else word.capitalize())
    return " ".join(words)


def _slug(name: str) -> str:
    """``HARARE HOLOMISA`` -> ``HARARE-HOLOMISA``."""
    return re.sub(r"[^A-Z0-9]+", "-", name.upper()).strip("-")


def read_neighbourhoods(
    gdb_zip: Path, precincts: gpd.GeoDataFrame, *, municipality: str
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """The 30 Khayelitsha sub-districts with codes and an areal-weighted population estimate.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``code, name, municipality, population, source_name, geometry``, sorted by code.
    dict
        Geometry repair counts.
    """
    raw = gpd.read_file(f"/vsizip/{gdb_zip.resolve()}/Sub_dist_Khayelitsha.gdb", layer="Sub_districts")
    raw = raw.reset_index(drop=True)
    centroids = raw.to_crs(METRIC_CRS).centroid
    unnamed = raw.index[raw["NAME"].isna()]
    order = sorted(unnamed, key=lambda i: (centroids[i].x, centroids[i].y))  # west to east
    codes, names = [], []
    for i, source_name in enumerate(raw["NAME"]):
        if pd.isna(source_name):
            k = order.index(i) + 1
            codes.append(f"KHA-UNNAMED-{k}")
            names.append(f"Unnamed sub-area {k}")
        else:
            codes.append(f"KHA-{_slug(source_name)}")
            names.append(_title(source_name))
    geoms, repairs = clean_polygons(list(raw.geometry))
    hoods = gpd.GeoDataFrame(
        {"code": codes, "name": names, "municipality": municipality, "source_name": raw["NAME"]},
        geometry=geoms,
        crs=WGS84,
    )
    hoods["population"] = estimate_population(hoods, precincts)
    columns = ["code", "name", "municipality", "population", "source_name", "geometry"]
    return hoods[columns].sort_values("code", kind="stable").reset_index(drop=True), repairs


def estimate_population(hoods: gpd.GeoDataFrame, precincts: gpd.GeoDataFrame) -> np.ndarray:
    """Areal-weighted population: sum over precincts of population x (overlap area / precinct area).

    Areas are computed in EPSG:32734 (metres). This assumes people are spread evenly over each precinct,
    which they are not; it is an estimate for rates, not a census count.
    """
    hoods_m = hoods.to_crs(METRIC_CRS).geometry
    precincts_m = precincts.to_crs(METRIC_CRS)
    estimate = np.zeros(len(hoods_m))
    for population, geom in zip(precincts_m["population"], precincts_m.geometry, strict=True):
        overlap = shapely.area(shapely.intersection(hoods_m.to_numpy(), geom))
        estimate += population * overlap / geom.area
    return np.rint(estimate).astype(int)


def read_roads(gdb_zip: Path) -> gpd.GeoDataFrame:
    """Road centrelines (City of Cape Town schema) around Khayelitsha, EPSG:4326."""
    return gpd.read_file(f"/vsizip/{gdb_zip.resolve()}/Sub_dist_Khayelitsha.gdb", layer="roads")


def read_saps_mix(crimestats_path: Path, precincts: gpd.GeoDataFrame, *, year: str) -> pd.DataFrame:
    """Counts per (precinct, SAPS category) in one year of the SAPS station statistics.

    Returns
    -------
    pandas.DataFrame
        Columns ``code, name, category, count``; rows with a zero count dropped; stable order.
    """
    stats = pd.read_csv(crimestats_path)
    stats["key"] = stats["Station"].str.casefold()
    keys = precincts.assign(key=precincts["name"].str.casefold())[["key", "code", "name"]]
    mix = stats.merge(keys, on="key", how="inner")[["code", "name", "Category", year]]
    mix = mix.rename(columns={"Category": "category", year: "count"})
    if mix["code"].nunique() != len(precincts):
        raise ValueError(f"SAPS statistics lack some demo stations: found {sorted(mix['name'].unique())}")
    mix = mix[mix["count"] > 0]
    return mix.sort_values(["code", "category"], kind="stable").reset_index(drop=True)


def schools_text(
    schools_path: Path, precincts: gpd.GeoDataFrame, *, dirty_emis: tuple[str, ...]
) -> tuple[str, dict[str, int]]:
    """Header plus the school rows inside the demo precincts, plus the dirty rows named, lines unmodified.

    Returns
    -------
    str
        The CSV text.
    dict
        ``inside`` and ``dirty`` row counts.
    """
    lines = schools_path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    i_emis, i_lon, i_lat = (header.index(c) for c in ("NatEmis", "GIS_Longitude", "GIS_Latitude"))
    union = precincts.geometry.union_all()
    shapely.prepare(union)
    kept, counts = [lines[0]], {"inside": 0, "dirty": 0}
    for line in lines[1:]:
        row = next(csv.reader([line]))
        if row[i_emis] in dirty_emis:
            kept.append(line)
            counts["dirty"] += 1
            continue
        try:
            lon, lat = float(row[i_lon]), float(row[i_lat])
        except ValueError:
            continue
        if shapely.contains_xy(union, lon, lat):
            kept.append(line)
            counts["inside"] += 1
    if counts["dirty"] != len(dirty_emis):
        raise ValueError(f"expected dirty school rows {dirty_emis}, found {counts['dirty']}")
    return "".join(kept), counts
