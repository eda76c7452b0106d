"""Read vector files (GeoJSON, TopoJSON, GeoPackage, Shapefile, zipped Shapefile or File Geodatabase).

Place in the data flow: the reader for boundary files and for registers and incidents delivered with
geometry. It resolves zip archives to the dataset inside them (refusing path traversal and zip bombs),
picks a layer, and reprojects to EPSG:4326. A file without a CRS is taken as EPSG:4326 only when
its coordinates fit longitude/latitude ranges; otherwise the user is told to supply one.

An upload is read from its bytes only (``read_vector(name, data=...)``): they are written under a fixed
name in a private temporary folder, and the client's file name serves as a label and, by its suffix,
picks the format. GDAL opens each file with the driver its suffix names (or after checking its magic
bytes), never by guessing from the content: guessing would let a file that says ``.geojson`` be a GDAL
virtual dataset (VRT) or a streamed algorithm (GDALG), formats whose content names other files on the
server for GDAL to read.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import geopandas as gpd
import pyogrio
import shapely

from pipelines.errors import UnusableFileError
from pipelines.schemas import COLUMNS, STORE_CRS
from pipelines.sources.archive import DATASET_SUFFIXES, MAX_UNZIPPED_BYTES, check_archive

#: What an upload may be; KML and TopoJSON files are loaded with ``areasafe ingest``.
UPLOAD_SUFFIXES = (".geojson", ".json", ".gpkg", ".fgb", ".zip")
_JSON_SUFFIXES = (".geojson", ".json", ".topojson")
_MAGIC = {".shp": b"\x00\x00\x27\x0a", ".fgb": b"fgb\x03", ".gpkg": b"SQLite format 3\x00"}
_HEAD_BYTES = 4096  # GDAL identifies a format from the first 1 kB
_REFERS_TO_FILES = (b"ogrvrtdatasource", b"gdal_streamed_alg")  # content that makes GDAL open other files
_UPLOAD_NAME = "upload"  # the fixed name an upload's bytes are written under


def suffix_of(name: str | Path) -> str:
    """The lower-case suffix of a file name, ignoring any directory part (``/`` or ``\\``)."""
    return PurePosixPath(str(name).replace("\\", "/")).suffix.lower()


def _label(name: str | Path) -> str:
    return PurePosixPath(str(name).replace("\\", "/")).name or _UPLOAD_NAME


@dataclass(frozen=True)
class Dataset:
    """What GDAL is handed for a file: ``source`` names the driver to use; ``member`` is the dataset's
    name inside a zip archive (``None`` for a plain file)."""

    source: str
    suffix: str
    member: str | None = None


def _zip_member(path: Path, label: str) -> tuple[str, str, bytes]:
    """The dataset inside a zip archive: its name, its suffix and its first bytes."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = check_archive(archive, label, max_unzipped_bytes=MAX_UNZIPPED_BYTES)
            names = [i.filename for i in infos]
            gdbs = sorted({n.split(".gdb/")[0] + ".gdb" for n in names if ".gdb/" in n})
            if gdbs:
                return gdbs[0], ".gdb", b""
            datasets = sorted(n for n in names if n.lower().endswith(DATASET_SUFFIXES) and not n.startswith("__MACOSX"))
            if not datasets:
                raise UnusableFileError(
                    f"{label} holds no Shapefile, GeoJSON, GeoPackage or File Geodatabase; zip the files themselves."
                )
            with archive.open(datasets[0]) as member:
                head = member.read(_HEAD_BYTES)
    except zipfile.BadZipFile as exc:
        raise UnusableFileError(f"{label} is not a valid zip archive ({exc}).") from exc
    return datasets[0], suffix_of(datasets[0]), head


def _with_driver(source: str, suffix: str, head: bytes, label: str) -> str:
    """``source`` in the form that makes GDAL use the driver ``suffix`` names, once its first bytes agree."""
    if any(marker in head.lower() for marker in _REFERS_TO_FILES):
        raise UnusableFileError(
            f"{label} is a GDAL virtual dataset or algorithm, which reads other files; it was not opened. "
            "Export the data itself as GeoJSON, GeoPackage or a zipped Shapefile."
        )
    magic = _MAGIC.get(suffix)
    if magic and not head.startswith(magic):
        raise UnusableFileError(
            f"{label} is not a {suffix.lstrip('.').upper()} file (its first bytes do not say so); export it again."
        )
    if suffix == ".gpkg":
        return f"GPKG:{source}"
    if suffix in _JSON_SUFFIXES:
        if b'"Topology"' in head:
            return f"TopoJSON:{source}"
        if b'"geometryType"' in head and b'"FeatureCollection"' not in head:
            return f"ESRIJSON:{source}"
        return f"GeoJSON:{source}"
    return source


def _dataset(path: Path, label: str) -> Dataset:
    """What to hand to GDAL for the file at ``path`` (zip archives resolved to their content)."""
    suffix, member = suffix_of(path), None
    if suffix == ".zip":
        member, suffix, head = _zip_member(path, label)
        source = f"/vsizip/{path.resolve()}/{member}"
    elif path.is_dir():
        return Dataset(str(path), suffix)  # a File Geodatabase folder
    else:
        source = str(path)
        with path.open("rb") as file:
            head = file.read(_HEAD_BYTES)
    return Dataset(_with_driver(source, suffix, head, label), suffix, member)


def dataset_path(path: str | Path) -> str:
    """What to hand to GDAL for ``path`` on the disk (the command line's files; uploads are bytes)."""
    path = Path(path)
    if not path.exists():
        raise UnusableFileError(f"{path} does not exist.")
    return _dataset(path, path.name).source


@contextlib.contextmanager
def uploaded_dataset(name: str | Path, data: bytes) -> Iterator[Dataset]:
    """The dataset in an upload's bytes, valid inside the ``with`` block.

    ``name`` only labels the file and, by its suffix, picks the format: the bytes are written as
    ``upload<suffix>`` in a private temporary folder, removed afterwards, and nothing else is opened.
    """
    label, suffix = _label(name), suffix_of(name)
    if suffix not in UPLOAD_SUFFIXES:
        raise UnusableFileError(
            f"{label}: the dashboard reads vector files as GeoJSON, GeoPackage, FlatGeobuf or a zip "
            f"(Shapefile, File Geodatabase); got {suffix or 'no suffix'}. Export it as one of those, or ask "
            "an administrator to load it with 'areasafe ingest'."
        )
    with tempfile.TemporaryDirectory(prefix="areasafe-upload-") as folder:
        path = Path(folder) / f"{_UPLOAD_NAME}{suffix}"
        path.write_bytes(data)
        yield _dataset(path, label)


#: GDAL's TopoJSON driver reads each object that is a GeometryCollection as a layer of that name, and
#: every other object (world-atlas's ``land``, a single MultiPolygon) into one layer of this name.
_TOPOJSON_REST = "TopoJSON"


def _topojson_objects(source: str) -> dict[str, str]:
    """Object name -> type of a TopoJSON file on the disk (empty when ``source`` is none)."""
    path = Path(source.removeprefix("TopoJSON:"))
    if not source.startswith("TopoJSON:") or not path.is_file():
        return {}
    try:
        objects = json.loads(path.read_bytes()).get("objects") or {}
    except (ValueError, AttributeError):
        return {}
    return {str(name): str((obj or {}).get(COLUMNS.type)) for name, obj in objects.items()}


def _layer_words(name: str, objects: dict[str, str]) -> str:
    """A layer as the user knows it: GDAL's ``TopoJSON`` layer by the objects it holds."""
    rest = [n for n, kind in objects.items() if kind != "GeometryCollection"]
    return ", ".join(rest) if name == _TOPOJSON_REST and rest else name


def pick_layer(source: str, layer: str | None, *, polygons: bool, label: str | None = None) -> str | None:
    """The requested layer, or the only candidate of a multi-layer source.

    With ``polygons`` (boundaries), every non-empty layer that may hold polygons is a candidate
    (TopoJSON objects, GeoPackage layers, File Geodatabase feature classes, KML folders); when there
    are several, nothing is guessed: the file is refused with each candidate and its feature count, so
    the user chooses one with ``--layer``. Without ``polygons`` the first layer is read.
    """
    label = label or Path(source).name
    try:
        layers = pyogrio.list_layers(source)
    except Exception as exc:  # GDAL raises DataSourceError and friends
        raise UnusableFileError(f"{label} could not be opened as a vector file: {exc}") from exc
    names = [str(name) for name, _ in layers]
    objects = _topojson_objects(source) if source.startswith("TopoJSON:") and len(names) > 1 else {}
    if layer is not None:
        return _named_layer(layer, names, objects, label)
    if len(names) <= 1:
        return names[0] if names else None
    if not polygons:
        return names[0]
    candidates = _polygon_layers(source, layers)
    if len(candidates) <= 1:
        return candidates[0][0] if candidates else names[0]
    listed = ", ".join(f"{_layer_words(name, objects)} ({_features(n)})" for name, n in candidates)
    example = _layer_words(max(candidates, key=lambda c: c[1])[0], objects).split(", ")[0]
    raise UnusableFileError(
        f"{label} holds {len(candidates)} layers that could be the areas: {listed}. Nothing was loaded. "
        f"Choose one with --layer NAME, e.g. --layer {example}."
    )


def _named_layer(layer: str, names: list[str], objects: dict[str, str], label: str) -> str:
    """The layer the user named (a TopoJSON object as the layer GDAL reads it in); refused, with the
    source's layers, when there is none by that name."""
    if layer in names:
        return layer
    if objects.get(layer) not in (None, "GeometryCollection") and _TOPOJSON_REST in names:
        return _TOPOJSON_REST  # the object the user named, as GDAL reads it
    known = ", ".join(_layer_words(n, objects) for n in names)
    raise UnusableFileError(f"{label}: layer {layer!r} not found; its layers are: {known}")


def _polygon_layers(source: str, layers) -> list[tuple[str, int]]:
    """The layers that may hold polygons and are not empty, each with its feature count (-1: not
    counted)."""
    candidates = []
    for name, geom_type in layers:
        kind = str(geom_type).lower()
        if geom_type is None or not ("polygon" in kind or kind == "unknown"):
            continue
        features = _feature_count(source, str(name))
        if features:
            candidates.append((str(name), features))
    return candidates


def _features(n: int) -> str:
    return "features not counted" if n < 0 else f"{n:,} feature{'s' if n != 1 else ''}"


def _feature_count(source: str, layer: str) -> int:
    try:
        return int(pyogrio.read_info(source, layer=layer, force_feature_count=True)["features"])
    except Exception:  # a layer GDAL cannot count is still offered
        return -1


def read_vector(
    path: str | Path, *, data: bytes | None = None, layer: str | None = None, polygons: bool = False
) -> gpd.GeoDataFrame:
    """Read a vector dataset and return it in EPSG:4326.

    Parameters
    ----------
    path
        The file on the disk; with ``data``, only a label whose suffix picks the format (never opened).
    data
        The file's bytes, when it came from an upload.
    layer
        The layer to read (default: the first, or with ``polygons`` the first polygon layer).
    """
    label = _label(path)
    if data is None:
        return _read(dataset_path(path), label, layer, polygons)
    with uploaded_dataset(path, data) as dataset:
        return _read(dataset.source, label, layer, polygons)


def _read(source: str, label: str, layer: str | None, polygons: bool) -> gpd.GeoDataFrame:
    chosen = pick_layer(source, layer, polygons=polygons, label=label)
    try:
        frame = pyogrio.read_dataframe(source, layer=chosen, use_arrow=True)
    except Exception as exc:
        raise UnusableFileError(f"{label} could not be read: {exc}") from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        raise UnusableFileError(
            f"{label} could not be opened as a vector file with geometries; send GeoJSON, TopoJSON, "
            "GeoPackage, a (zipped) Shapefile or a zipped File Geodatabase."
        )
    if frame.crs is None:
        minx, miny, maxx, maxy = frame.total_bounds if len(frame) else (0, 0, 0, 0)
        if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90:
            frame = frame.set_crs(STORE_CRS)
        else:
            raise UnusableFileError(
                f"{label} has no CRS and its coordinates are not longitude/latitude; add a .prj file or "
                "export it with its coordinate system."
            )
    if not frame.crs.equals(STORE_CRS):
        frame = frame.to_crs(STORE_CRS)
    frame = frame[frame.geometry.notna()] if len(frame) else frame
    return frame


def repair(geoms: gpd.GeoSeries) -> tuple[gpd.GeoSeries, list[int]]:
    """Make polygons valid (keeping only their polygonal parts); return the positions repaired."""
    values = geoms.to_numpy()
    invalid = ~shapely.is_valid(values)
    repaired = []
    for i in invalid.nonzero()[0]:
        fixed = shapely.make_valid(values[i])
        if fixed.geom_type == "GeometryCollection":
            fixed = shapely.union_all([g for g in fixed.geoms if g.geom_type in ("Polygon", "MultiPolygon")])
        values[i] = fixed
        repaired.append(int(i))
    return gpd.GeoSeries(values, index=geoms.index, crs=geoms.crs), repaired


def to_multipolygons(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Polygons as MultiPolygons (the stored geometry type of areas)."""
    values = geoms.to_numpy().copy()
    single = shapely.get_type_id(values) == 3
    values[single] = [shapely.MultiPolygon([g]) for g in values[single]]
    return gpd.GeoSeries(values, index=geoms.index, crs=geoms.crs)
