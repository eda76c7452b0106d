"""Read vector files (GeoJSON, TopoJSON, GeoPackage, Shapefile, zipped Shapefile or File Geodatabase).

Place in the data flow: the reader for boundary files and for registers delivered with geometry.
It resolves zip archives to the dataset inside them (refusing path traversal and zip bombs),
picks a layer, and reprojects to EPSG:4326. A file without a CRS is taken as EPSG:4326 only when
its coordinates fit longitude/latitude ranges; otherwise the user is told to supply one.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

import geopandas as gpd
import pyogrio
import shapely

from pipelines.errors import UnusableFileError
from pipelines.schemas import STORE_CRS

_MAX_UNZIPPED_BYTES = 2 * 1024**3
_MAX_RATIO = 200
_DATASET_SUFFIXES = (".shp", ".geojson", ".json", ".gpkg", ".fgb", ".kml", ".topojson")


def _zip_dataset(path: Path) -> str:
    """The GDAL ``/vsizip/`` path of the dataset inside a zip archive."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise UnusableFileError(f"{path.name} is not a valid zip archive ({exc}).") from exc
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if total > _MAX_UNZIPPED_BYTES or total / packed > _MAX_RATIO:
        raise UnusableFileError(
            f"{path.name} unpacks to {total / 1e6:.0f} MB ({total / packed:.0f}x its size); that looks like a zip "
            "bomb. Send the boundary file itself or a normal zip."
        )
    names = [i.filename for i in infos]
    for name in names:
        parts = PurePosixPath(name).parts
        if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
            raise UnusableFileError(f"{path.name} contains an unsafe path {name!r}; it was not opened.")
    gdbs = sorted({n.split(".gdb/")[0] + ".gdb" for n in names if ".gdb/" in n})
    if gdbs:
        return f"/vsizip/{path.resolve()}/{gdbs[0]}"
    datasets = sorted(n for n in names if n.lower().endswith(_DATASET_SUFFIXES) and not n.startswith("__MACOSX"))
    if not datasets:
        raise UnusableFileError(
            f"{path.name} holds no Shapefile, GeoJSON, GeoPackage or File Geodatabase; zip the boundary files themselves."
        )
    return f"/vsizip/{path.resolve()}/{datasets[0]}"


def dataset_path(path: str | Path) -> str:
    """What to hand to GDAL for ``path`` (zip archives resolved to their content)."""
    path = Path(path)
    if not path.exists():
        raise UnusableFileError(f"{path} does not exist.")
    if path.suffix.lower() == ".zip":
        return _zip_dataset(path)
    return str(path)


def pick_layer(source: str, layer: str | None, *, polygons: bool) -> str | None:
    """The requested layer, or the first (polygon) layer of a multi-layer source."""
    try:
        layers = pyogrio.list_layers(source)
    except Exception as exc:  # GDAL raises DataSourceError and friends
        raise UnusableFileError(f"{Path(source).name} could not be opened as a vector file: {exc}") from exc
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


def read_vector(path: str | Path, *, layer: str | None = None, polygons: bool = False) -> gpd.GeoDataFrame:
    """Read a vector dataset and return it in EPSG:4326."""
    source = dataset_path(path)
    chosen = pick_layer(source, layer, polygons=polygons)
    try:
        frame = pyogrio.read_dataframe(source, layer=chosen, use_arrow=True)
    except Exception as exc:
        raise UnusableFileError(f"{Path(path).name} could not be read: {exc}") from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        raise UnusableFileError(
            f"{Path(path).name} could not be opened as a vector file with geometries; send GeoJSON, TopoJSON, "
            "GeoPackage, a (zipped) Shapefile or a zipped File Geodatabase."
        )
    if frame.crs is None:
        minx, miny, maxx, maxy = frame.total_bounds if len(frame) else (0, 0, 0, 0)
        if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90:
            frame = frame.set_crs(STORE_CRS)
        else:
            raise UnusableFileError(
                f"{Path(path).name} has no CRS and its coordinates are not longitude/latitude; add a .prj file or "
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
