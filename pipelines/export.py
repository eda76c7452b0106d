"""Export stored layers to GeoJSON, CSV or GeoPackage for QGIS, spreadsheets and portals.

Place in the data flow: the read side, after the store. CSV cells that a spreadsheet would run as a
formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) are prefixed with ``'``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from pipelines.errors import AreaSafeError
from pipelines.store.base import Store

EXPORT_FORMATS = ("geojson", "csv", "gpkg")
EXPORT_LAYERS = ("incidents", "assets", "interventions", "areas")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that spreadsheets would evaluate as formulas (numbers are left alone)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            values = out[column]
            text = values.astype(str)
            numeric = pd.to_numeric(values, errors="coerce").notna()
            risky = values.notna() & text.str.startswith(_FORMULA_START) & ~numeric
            out[column] = values.where(~risky, "'" + text)
    return out


def read_layer(store: Store, layer: str) -> gpd.GeoDataFrame:
    if layer not in EXPORT_LAYERS:
        raise AreaSafeError(f"--layer must be one of {', '.join(EXPORT_LAYERS)}; got {layer!r}")
    if layer == "incidents":
        return store.read_incidents()
    return store.read_table(layer)


def export_layer(store: Store, fmt: str, out: str | Path, *, layer: str = "incidents") -> int:
    """Write one layer to ``out``; returns the number of features written."""
    if fmt not in EXPORT_FORMATS:
        raise AreaSafeError(f"export format must be one of {', '.join(EXPORT_FORMATS)}; got {fmt!r}")
    frame = read_layer(store, layer)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt == "csv":
        table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        table["wkt"] = frame.geometry.to_wkt()
        neutralise_formulas(table).to_csv(out, index=False)
    else:
        driver = "GeoJSON" if fmt == "geojson" else "GPKG"
        pyogrio.write_dataframe(frame, out, layer=layer if fmt == "gpkg" else None, driver=driver)
    return len(frame)
