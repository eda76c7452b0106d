"""What the asset and intervention registers share: reading a register file, placing it, committing it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from pipelines.errors import UnusableFileError
from pipelines.ingest.batches import commit_once, new_batch, read_bytes
from pipelines.ingest.rejections import rejection_rows
from pipelines.ingest.validate import split_geopoint, to_float
from pipelines.sources.columns import first
from pipelines.sources.geofile import read_vector
from pipelines.sources.tabular import ROW_NUMBER, is_geo_file, read_tabular
from pipelines.store.base import Batch, Store

_LAT = ("latitude", "lat", "gis_latitude", "y")
_LON = ("longitude", "lon", "lng", "long", "gis_longitude", "x")


def read_register(path: Path, data: bytes | None) -> tuple[pd.DataFrame, np.ndarray, bytes]:
    """Rows as text plus their geometries (``None`` where the row has no usable location).

    With ``data`` (an upload's bytes) ``path`` is only a label whose suffix picks the reader; it is never opened.
    """
    content = read_bytes(path, data)
    if is_geo_file(path):
        frame = read_vector(path, data=data)
        geoms = frame.geometry.to_numpy()
        table = pd.DataFrame(frame.drop(columns=frame.geometry.name)).reset_index(drop=True)
        table = table.astype("object").where(table.notna(), "").astype(str)
        table[ROW_NUMBER] = np.arange(1, len(table) + 1)
        return table, geoms, content
    raw = read_tabular(path, data=content)
    table = raw.frame
    columns = [c for c in table.columns if c != ROW_NUMBER]
    lat_col, lon_col = first(columns, _LAT), first(columns, _LON)
    wkt_col = first(columns, ("wkt", "geometry", "geom", "the_geom"))
    geoms = np.full(len(table), None, dtype=object)
    if wkt_col:
        geoms = shapely.from_wkt(table[wkt_col].astype(str).to_numpy(), on_invalid="ignore")
    elif lat_col and lon_col:
        lat, lon = (
            to_float(table[lat_col].astype("string[pyarrow]").fillna("")),
            to_float(table[lon_col].astype("string[pyarrow]").fillna("")),
        )
        geoms = shapely.points(lon.to_numpy(), lat.to_numpy())
    else:
        geo = first(columns, ("location", "gps", "geopoint", "_geolocation", "coordinates"))
        if geo is None:
            raise UnusableFileError(
                f"{path.name}: no latitude/longitude, WKT or GPS column found; columns are: {', '.join(columns)}"
            )
        lat, lon = split_geopoint(table[geo].astype("string[pyarrow]").fillna(""))
        geoms = shapely.points(lon.to_numpy(), lat.to_numpy())
    table = table.astype("object").where(table.notna(), "")
    return table, np.asarray(geoms, dtype=object), content


def location_problems(geoms: np.ndarray) -> np.ndarray:
    """A rejection reason per geometry (``None`` when it is usable)."""
    out = np.full(len(geoms), None, dtype=object)
    present = ~pd.isna(geoms)
    bounds = np.full((len(geoms), 4), np.nan)
    if present.any():
        bounds[present] = shapely.bounds(geoms[present])
    missing = np.isnan(bounds).any(axis=1)  # no geometry, an empty one, or "." / "n/a" coordinates
    out[missing] = "missing_location"
    minx, miny, maxx, maxy = bounds.T
    with np.errstate(invalid="ignore"):
        bad = ~((np.abs(miny) <= 90) & (np.abs(maxy) <= 90) & (np.abs(minx) <= 180) & (np.abs(maxx) <= 180))
        bad |= (np.abs(minx) < 1e-9) & (np.abs(miny) < 1e-9) & (np.abs(maxx) < 1e-9) & (np.abs(maxy) < 1e-9)
    out[bad & ~missing] = "invalid_coordinates"
    return out


def stable_id(prefix: str, *parts: object) -> str:
    digest = hashlib.blake2b("|".join(str(p) for p in parts).encode(), digest_size=8).hexdigest()
    return f"{prefix}-{digest}"


def _rejections(
    table: pd.DataFrame, positions: np.ndarray, reasons: list[str], messages: list[str], org: str | None
) -> pd.DataFrame:
    subset = table.iloc[positions].drop(columns=[ROW_NUMBER])
    row_number = table[ROW_NUMBER].to_numpy()[positions].astype(int)
    return rejection_rows(row_number, reasons, messages, org=org, raw=subset)


def commit_file(
    store: Store,
    kind: str,
    path: Path,
    content: bytes,
    table: pd.DataFrame,
    ok: np.ndarray,
    reasons: np.ndarray,
    messages: list[str],
    *,
    user: str | None,
    org: str | None,
    **frames: pd.DataFrame,
) -> Batch:
    """Commit a register file as one batch: its accepted rows (``frames``) and its rejections."""
    bad = np.flatnonzero(~ok)
    rejections = _rejections(table, bad, list(reasons[bad]), messages, org)
    batch = new_batch(
        kind,
        path.name,
        content,
        user=user,
        org=org,
        rows_read=len(table),
        accepted=int(ok.sum()),
        rejected=len(bad),
        rejections=pd.Series(reasons[bad]).value_counts().to_dict() if len(bad) else {},
    )
    stamped = {name: frame.assign(batch_id=batch.batch_id) for name, frame in frames.items()}
    return commit_once(store, batch, rejections=rejections.assign(batch_id=batch.batch_id), **stamped)
