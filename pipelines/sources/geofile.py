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
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import geopandas as gpd
import pyogrio
import shapely

from pipelines.errors import UnusableFileError
from pipelines.schemas import STORE_CRS
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


def pick_layer(source: str, layer: str | None, *, polygons: bool, label: str | None = None) -> str | None:
    """The requested layer, or the first (polygon) layer of a multi-layer source."""
    label = label or Path(source).name
    try:
        layers = pyogrio.list_layers(source)
    except Exception as exc:  # GDAL raises DataSourceError and friends
        raise UnusableFileError(f"{label} could not be opened as a vector file: {exc}") from exc
    names = [str(name) for name, _ in layers]
    if layer is not None:
        if layer not in names:
            raise UnusableFileError(f"layer {layer!r} not found; layers are: {', '.join(names)}")
        return layer
    if len(names) <= 1:
        return names[0] if names else None
    if polygons:
        for name, geom_type in layers:
            if geom_type and "polygon" in str(geom_type).lower():
                return str(name)
    return names[0]


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
