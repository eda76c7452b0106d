"""Boundary files (precincts, Safe Neighbourhoods, wards): read, repair, name and store areas."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines import schemas
from pipelines.errors import MappingError, UnusableFileError
from pipelines.ingest.batches import commit_once, new_batch
from pipelines.ingest.rejections import rejection_rows
from pipelines.schemas import COLUMNS
from pipelines.sources.columns import explicit_or_first, first, leaf, name_like, with_values
from pipelines.sources.geofile import read_vector, repair, to_multipolygons
from pipelines.store.base import Batch, Store
from pipelines.taxonomy import normalise_term

Progress = Callable[[str, float], None]


_CODE_FIELDS = ("code", "area_code", "precinct_code", "msoa11cd", "ward_id", "objectid", "id", "fid")
_NAME_FIELDS = (
    "name",
    "area_name",
    "precinct",
    "station",
    "compnt_nm",
    "msoa11nm",
    "ward_name",
    "name_en",
    "admin",
    "title",
    "label",
)
_POP_FIELDS = ("population", "pop", "usualres", "total_population", "pop_2022", "census_population")
_MUNI_FIELDS = ("municipality", "muni", "municipality_name", "lad11nm", "lmunname", "dmunname")
# Wards: the ward's number (the City of Cape Town's layer keeps it in WARD_NAME) and the demarcation year.
_WARD_NUMBER_FIELDS = ("ward_name", "ward_no", "wardno", "ward_number", "ward_num", "ward")
_WARD_YEAR_FIELDS = ("ward_year", "demarcation_year", "delimitation_year", "year")


def _field(frame: pd.DataFrame, explicit: str | None, candidates: tuple[str, ...], what: str) -> str | None:
    columns = [c for c in frame.columns if c != frame.geometry.name]
    if explicit:
        return explicit_or_first(columns, candidates, explicit, option=f"--{what}-field")
    return first(with_values(frame, columns), candidates)


def _name_field(frame: pd.DataFrame, explicit: str | None, code_col: str | None) -> str | None:
    """The name column: the one named, an expected name (``name``, ``NAME``, ``name_en``, ``ADMIN``,
    ``WARD_NAME``, a GeoJSON ``title`` ...), any column whose name says it holds names, or else ``id``
    (the SAPS TopoJSON keeps each station's name there)."""
    found = _field(frame, explicit, _NAME_FIELDS, "name")
    if found is None:
        columns = [c for c in with_values(frame, list(frame.columns)) if c != frame.geometry.name]
        found = name_like([c for c in columns if c != code_col]) or first(columns, ("id",))
    return found


def _slug(text: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "-", normalise_term(text).upper()).strip("-")


def read_boundaries(
    path: str | Path,
    *,
    kind: str,
    code_field: str | None = None,
    name_field: str | None = None,
    layer: str | None = None,
    municipality: str | None = None,
) -> tuple[gpd.GeoDataFrame, dict[str, int], list[str]]:
    """Read a boundary file into the ``areas`` shape; returns areas, warning counts and notes.

    With several layers that could hold the areas (TopoJSON objects, GeoPackage layers ...) and no
    ``layer``, the file is refused with each layer and its feature count. Features that share a code
    are merged into one area (a note names each code); ``areas.attrs["features_read"]`` keeps the
    number of features read.
    """
    if kind not in schemas.AREA_KINDS:
        raise MappingError(f"--kind must be one of {', '.join(schemas.AREA_KINDS)}; got {kind!r}")
    frame = read_vector(path, layer=layer, polygons=True)
    features_read = len(frame)
    polygons = _polygon_rows(frame, path)
    not_areas = frame[~polygons]
    frame = frame[polygons]
    code_col = _field(frame, code_field, _CODE_FIELDS, "code")
    codes, names = _codes_and_names(frame, kind, code_col, _name_field(frame, name_field, code_col))
    geoms, repaired = repair(frame.geometry)
    notes = []
    if repaired:
        notes.append(f"repaired {len(repaired)} invalid geometries: {', '.join(str(names[i]) for i in repaired[:20])}")
    areas = _area_frame(frame, codes, names, to_multipolygons(geoms), kind=kind, municipality=municipality)
    if kind == "ward" and code_field is None:
        areas = _ward_labels(frame, areas)
    warnings = {"repaired_geometry": len(repaired)} if repaired else {}
    areas = _merge_shared_codes(areas, code_col, notes, warnings)
    if len(not_areas):  # an overpass-turbo export mixes the polygons with points of interest
        kinds = ", ".join(f"{n:,} {kind}" for kind, n in not_areas.geom_type.value_counts().items())
        notes.append(f"Left aside {len(not_areas):,} features that are not areas ({kinds}): boundaries are polygons.")
    areas.attrs["features_read"] = features_read
    areas.attrs["not_areas"] = not_areas
    areas.attrs["polygons"] = polygons
    return areas, warnings, notes


def _polygon_rows(frame: gpd.GeoDataFrame, path: str | Path) -> np.ndarray:
    """Which features are polygons; a file with no features, or no polygons, is refused."""
    if not len(frame):
        raise UnusableFileError(f"{Path(path).name} has no features with a geometry.")
    polygons = frame.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if not polygons.any():
        kinds = ", ".join(sorted(set(frame.geom_type)))
        raise UnusableFileError(
            f"{Path(path).name} holds no areas, only {kinds} features: boundaries are polygons. Points of "
            "interest go in with 'areasafe ingest assets', incident points with 'areasafe ingest incidents'."
        )
    return polygons


def _codes_and_names(
    frame: gpd.GeoDataFrame, kind: str, code_col: str | None, name_col: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """Each area's code and name: from their columns, a code made from the name when there is no
    code column, ``PRE-3`` (kind and feature number) when there is no code, "Unnamed area ..." when
    there is no name."""
    names = frame[name_col].astype("object") if name_col else pd.Series(None, index=frame.index, dtype=object)
    names = names.where(names.notna() & names.astype(str).str.strip().ne(""), None)
    if name_col == code_col or (name_col and leaf(name_col) == "id"):
        names = names.map(lambda v: None if v is None else str(v).replace("_", " "))
    codes = frame[code_col].astype("object") if code_col else names.map(lambda v: None if v is None else _slug(v))
    codes = codes.where(codes.notna() & codes.astype(str).str.strip().ne(""), None)
    missing = codes.isna().to_numpy()
    codes = codes.astype(object).to_numpy().copy()
    codes[missing] = [f"{kind[:3].upper()}-{i + 1}" for i in np.flatnonzero(missing)]
    names = names.to_numpy(dtype=object).copy()
    names[pd.isna(names)] = [f"Unnamed area {c}" for c in codes[pd.isna(names)]]
    return codes, names


def _area_frame(
    frame: gpd.GeoDataFrame,
    codes: np.ndarray,
    names: np.ndarray,
    geometry: gpd.GeoSeries,
    *,
    kind: str,
    municipality: str | None,
) -> gpd.GeoDataFrame:
    """The areas in the ``areas`` shape, with population and municipality from their columns when
    the file has them (``municipality``, when given, for every area)."""
    pop_col = _field(frame, None, _POP_FIELDS, "population")
    muni_col = _field(frame, None, _MUNI_FIELDS, "municipality")
    population = pd.to_numeric(frame[pop_col], errors="coerce") if pop_col else np.nan
    areas = gpd.GeoDataFrame(
        {
            COLUMNS.code: [str(c) for c in codes],
            COLUMNS.name: [str(n) for n in names],
            COLUMNS.kind: kind,
            COLUMNS.municipality: frame[muni_col].astype("object").to_numpy() if muni_col else municipality,
            COLUMNS.population: population,
            COLUMNS.batch_id: None,
        },
        geometry=geometry.to_numpy(),
        crs=schemas.STORE_CRS,
    )
    if municipality:
        areas[COLUMNS.municipality] = municipality
    return areas


def _merge_shared_codes(
    areas: gpd.GeoDataFrame, code_col: str | None, notes: list[str], warnings: dict[str, int]
) -> gpd.GeoDataFrame:
    """Merge the features that share a code into one area each (populations summed), noting each
    code in ``notes`` and the features merged in ``warnings``."""
    duplicated = areas[COLUMNS.code].duplicated(keep=False)
    if not duplicated.any():
        return areas
    notes.append(_merge_note(areas[duplicated], code_col))
    warnings["merged_features"] = int(duplicated.sum())
    parts = (
        areas[duplicated]
        .dissolve(
            by=COLUMNS.code,
            aggfunc={
                COLUMNS.name: "first",
                COLUMNS.kind: "first",
                COLUMNS.municipality: "first",
                COLUMNS.population: "sum",
                COLUMNS.batch_id: "first",
            },
        )
        .reset_index()
    )
    parts = parts.set_geometry(to_multipolygons(parts.geometry))
    return pd.concat([areas[~duplicated], parts[areas.columns]], ignore_index=True)


def _ward_labels(frame: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Wards coded by demarcation year and number (``2021-099``, named "Ward 99"), so the wards of two
    demarcations can be stored side by side; ``areas.attrs["year"]`` keeps the year when the file has one.
    Files without a ward-number column keep the codes and names read."""
    columns = [c for c in frame.columns if c != frame.geometry.name]
    number_col = first(columns, _WARD_NUMBER_FIELDS)
    if number_col is None:
        return areas
    year_col = first(columns, _WARD_YEAR_FIELDS)
    numbers = frame[number_col].astype("object").to_numpy()
    years = pd.to_numeric(frame[year_col], errors="coerce").to_numpy() if year_col else np.full(len(frame), np.nan)

    def number_text(value: object) -> str:
        text = str(value).strip()
        return text.lstrip("0") or text if text.isdigit() else text

    labels = [number_text(n) for n in numbers]
    codes = [
        (f"{int(y)}-{n:0>3}" if n.isdigit() else f"{int(y)}-{n}") if np.isfinite(y) else n
        for n, y in zip(labels, years, strict=True)
    ]
    areas = areas.assign(code=codes, name=[f"Ward {n}" if n.isdigit() else n for n in labels])
    known = sorted({int(y) for y in years if np.isfinite(y)})
    areas.attrs[COLUMNS.year] = known[-1] if len(known) == 1 else None
    return areas


def boundary_version_label(kind: str, year: int | None, municipality: str | None, file_name: str) -> str:
    """The version's name in words when the user gave none: "City of Cape Town wards, 2021 demarcation"."""
    plural = {"precinct": "police precincts", "neighbourhood": "Safe Neighbourhoods", "ward": "wards"}[kind]
    who = f"{municipality} {plural}" if municipality else plural[0].upper() + plural[1:]
    return f"{who}, {year} demarcation" if year else f"{who} from {file_name}"


def _merge_note(shared: pd.DataFrame, code_col: str | None) -> str:
    """Every code several features share, with how many, in words (they are stored as one area each)."""
    parts = []
    for code, group in shared.groupby(COLUMNS.code, sort=True):
        names = list(dict.fromkeys(group[COLUMNS.name]))
        differ = (
            f", named {', '.join(repr(n) for n in names[:5])}{' ...' if len(names) > 5 else ''}"
            if len(names) > 1
            else ""
        )
        parts.append(f"{code!r} ({len(group)} features{differ})")
    where = f"the column {code_col!r}" if code_col else "their names"
    return (
        f"{len(shared)} features shared {len(parts)} code{'s' if len(parts) > 1 else ''} in {where} and were "
        f"stored as one area per code: {'; '.join(parts)}. If features with one code are different areas, "
        "load the file again with --code-field naming the column that tells them apart."
    )


def ingest_boundaries(
    store: Store,
    path: str | Path,
    *,
    kind: str,
    user: str | None = None,
    version: str | None = None,
    **options,
) -> Batch:
    """Load a boundary file as areas of ``kind``, replacing stored areas with the same codes.

    ``rows_read`` and ``accepted`` count features: features that share a code are stored as one area,
    and the batch notes say which codes and how many features (``merged_features`` counts them).
    The file is recorded in ``boundary_versions`` as ``version`` (default: the kind, the municipality and
    the demarcation year the file names, e.g. "City of Cape Town wards, 2021 demarcation"). Wards are
    coded by year and number (``2021-099``): two demarcations are kept side by side.
    """
    path = Path(path)
    areas, warnings, notes = read_boundaries(path, kind=kind, **options)
    year = areas.attrs.get(COLUMNS.year)
    content = path.read_bytes() if path.is_file() else b""
    features = areas.attrs.get("features_read", len(areas))
    not_areas = areas.attrs.get("not_areas")
    left_aside = 0 if not_areas is None else len(not_areas)
    if features - left_aside != len(areas):
        read = f"{features - left_aside:,} area features" if left_aside else f"{features:,} features"
        notes = [*notes, f"{read} read, stored as {len(areas):,} areas."]
    rejections = None
    if left_aside:
        rejections = rejection_rows(
            np.flatnonzero(~areas.attrs["polygons"]) + 1,  # feature numbers, from 1
            "not_an_area",
            [f"A {kind} is not an area; boundaries are polygons." for kind in not_areas.geom_type],
            org=None,
            raw=pd.DataFrame(not_areas.drop(columns=not_areas.geometry.name)),
        )
    batch = new_batch(
        "boundaries",
        path.name,
        content,
        user=user,
        rows_read=features,
        accepted=features - left_aside,
        rejected=left_aside,
        rejections={"not_an_area": left_aside} if left_aside else {},
        warnings=warnings,
        notes=tuple(notes),
        format=" ".join(
            [path.suffix.lstrip(".").lower(), kind, *(["layer", options["layer"]] if options.get("layer") else [])]
        ),
    )
    frames = {"areas": areas.assign(batch_id=batch.batch_id)}
    if rejections is not None:
        frames["rejections"] = rejections.assign(batch_id=batch.batch_id)
    stored = commit_once(store, batch, **frames)
    municipality = options.get(COLUMNS.municipality) or next(iter(areas[COLUMNS.municipality].dropna()), None)
    label = version or boundary_version_label(kind, year, municipality, batch.file_name)
    record = {
        "batch_id": stored.batch_id,
        "kind": kind,
        "version": label,
        "year": year,
        "file_name": batch.file_name,
        "sha256": batch.sha256,
        "loaded_at": stored.created_at,
        "loaded_by": user,
        "areas": len(areas),
    }
    store.save(boundary_versions=pd.DataFrame([record]))
    return stored
