"""Export stored layers to GeoJSON, CSV or GeoPackage for QGIS, spreadsheets and open-data portals.

Place in the data flow: the read side, after the store. Incidents are read through
:func:`pipelines.privacy.read_incidents`, so an export holds what its viewer may see, and every export
is audited. :func:`export_public` writes exactly the public view (counts per area and per hexagon,
small counts suppressed, no point, no free text): a file a municipality can publish as it is.

Every CSV written or offered for download (:func:`csv_text`) has cells and column names that a spreadsheet
would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) prefixed with
``'``, and a carriage return inside a cell written as a line feed (so the cell is quoted, not split).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from pipelines import audit, hexes, privacy, private_files
from pipelines.errors import AreaSafeError
from pipelines.schemas import COLUMNS, STORE_CRS
from pipelines.store.base import IncidentQuery, Store

EXPORT_FORMATS = ("geojson", "csv", "gpkg")
EXPORT_LAYERS = ("incidents", "assets", "interventions", "areas")
PUBLIC_FORMATS = ("geojson", "csv")
#: Columns of the public export, in order (plus the geometry, or ``wkt`` in CSV).
PUBLIC_COLUMNS = ("feature", "kind", "code", "name", "incidents", "period", "categories")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells and column names that spreadsheets would evaluate as formulas (numbers are left
    alone), and write a carriage return inside a cell as a line feed: CSV writers leave a cell holding only
    a CR unquoted, and a spreadsheet starts a new row there, whose first cell is the text after it."""
    out = frame.copy()
    out.columns = [_neutral_text(c) if isinstance(c, str) else c for c in out.columns]
    for position in range(out.shape[1]):
        values = out.iloc[:, position]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            text = values.astype(str)
            numeric = pd.to_numeric(values, errors="coerce").notna()
            risky = values.notna() & text.str.startswith(_FORMULA_START) & ~numeric
            values = values.where(~risky, "'" + text)
            out.iloc[:, position] = [_no_cr(v) if isinstance(v, str) else v for v in values]
    return out


def _neutral_text(text: str) -> str:
    risky = text.startswith(_FORMULA_START) and pd.to_numeric(pd.Series([text]), errors="coerce").isna().all()
    return _no_cr("'" + text if risky else text)


def _no_cr(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text with formulas neutralised: the only way AreaSafe writes CSV."""
    table = pd.DataFrame(frame)
    if isinstance(frame, gpd.GeoDataFrame):
        table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        table["wkt"] = frame.geometry.to_wkt()
    return neutralise_formulas(table).to_csv(index=False)


def read_layer(store: Store, layer: str, *, viewer: privacy.Viewer) -> gpd.GeoDataFrame:
    """A stored layer as ``viewer`` may see it (incidents through :func:`pipelines.privacy.read_incidents`)."""
    if layer not in EXPORT_LAYERS:
        raise AreaSafeError(f"--layer must be one of {', '.join(EXPORT_LAYERS)}; got {layer!r}")
    if layer == "incidents":
        return privacy.read_incidents(store, viewer, audit_view=False)
    if layer == "areas":
        return store.read_table(layer)
    return privacy.read_table(store, viewer, layer)


def export_layer(store: Store, fmt: str, out: str | Path, *, layer: str = "incidents", viewer: privacy.Viewer) -> int:
    """Write one layer to ``out`` (analysts and admins only); returns the number of features written."""
    viewer.require("export")
    if fmt not in EXPORT_FORMATS:
        raise AreaSafeError(f"export format must be one of {', '.join(EXPORT_FORMATS)}; got {fmt!r}")
    frame = read_layer(store, layer, viewer=viewer)
    _write(frame, fmt, Path(out), layer=layer)
    detail = {"layer": layer, "format": fmt, "features": len(frame)}
    if COLUMNS.sensitive in frame:
        detail["sensitive_rows"] = int(frame[COLUMNS.sensitive].astype(bool).sum())
    audit.record(store, "export", viewer=viewer, target=Path(out).name, detail=detail)
    return len(frame)


def public_view(
    store: Store,
    query: IncidentQuery | None = None,
    *,
    period: str = "all",
    counts: privacy.PublishedCounts | None = None,
) -> gpd.GeoDataFrame:
    """The public view as features: one per area (both kinds) and one per H3 hexagon with incidents.

    ``counts`` are the public's :func:`pipelines.privacy.published_counts` for ``query`` when the caller
    already holds them (the dashboard's map: the same counts the screen shows); otherwise they are read.

    Columns :data:`PUBLIC_COLUMNS`: ``feature`` (``area`` or ``hexagon``), ``kind`` (``precinct``,
    ``neighbourhood`` or ``h3 resolution N``), ``code``, ``name``, ``incidents`` (a number, or ``"<5"``),
    ``period`` and ``categories`` (what was counted); the geometry is the area or the hexagon.
    """
    query = query or IncidentQuery()
    if counts is None:
        counts = privacy.published_counts(store, privacy.PUBLIC, query)
    if not counts.suppressed:
        raise AreaSafeError("public_view takes suppressed counts (the public's or a cso's); these are exact")
    areas = store.read_areas()[[COLUMNS.kind, COLUMNS.code, COLUMNS.name, COLUMNS.geometry]]
    by_area = areas.merge(counts.areas, on=[COLUMNS.kind, COLUMNS.code], how="left")
    area_features = gpd.GeoDataFrame(
        {
            "feature": "area",
            COLUMNS.kind: by_area[COLUMNS.kind].to_numpy(),
            COLUMNS.code: by_area[COLUMNS.code].to_numpy(),
            COLUMNS.name: by_area[COLUMNS.name].to_numpy(),
            COLUMNS.incidents: _plain(by_area),
        },
        geometry=by_area.geometry.to_numpy(),
        crs=STORE_CRS,
    )
    cells = counts.cells
    hexagons = hexes.cell_polygons(cells["cell"].to_numpy())
    cell_features = gpd.GeoDataFrame(
        {
            "feature": "hexagon",
            COLUMNS.kind: f"h3 resolution {counts.resolution}",
            COLUMNS.code: cells["cell"].to_numpy(),
            COLUMNS.name: None,
            COLUMNS.incidents: _plain(cells),
        },
        geometry=hexagons,
        crs=STORE_CRS,
    )
    features = pd.concat([area_features, cell_features], ignore_index=True)
    features[COLUMNS.period] = period
    features["categories"] = ", ".join(query.categories) if query.categories else "all"
    return gpd.GeoDataFrame(features[list(PUBLIC_COLUMNS)], geometry=features.geometry.to_numpy(), crs=STORE_CRS)


def export_public(
    store: Store,
    fmt: str,
    out: str | Path,
    *,
    query: IncidentQuery | None = None,
    period: str = "all",
    viewer: privacy.Viewer = privacy.PUBLIC,
) -> int:
    """Write :func:`public_view` to ``out`` (GeoJSON or CSV); returns the number of features.

    Anyone may write it, since it holds only what the public sees; ``viewer`` is recorded in the audit log.
    """
    if fmt not in PUBLIC_FORMATS:
        raise AreaSafeError(f"a public export is {' or '.join(PUBLIC_FORMATS)}; got {fmt!r}")
    features = public_view(store, query, period=period)
    _write(features, fmt, Path(out), layer="public")
    detail = {"public": True, "format": fmt, "features": len(features), "period": period}
    audit.record(store, "export", viewer=viewer, target=Path(out).name, detail=detail)
    return len(features)


def _plain(published: pd.DataFrame) -> list[str]:
    """Published counts as open-data text: digits without separators, or the suppression label."""
    return [
        shown if pd.isna(count) else str(int(count))
        for count, shown in zip(published[COLUMNS.count], published["shown"].fillna("0"), strict=True)
    ]


def _write(frame: gpd.GeoDataFrame, fmt: str, out: Path, *, layer: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    frame = frame.copy()
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    with private_files.target(out) as part:  # owner-only from the first byte
        if fmt == "csv":
            part.write_text(csv_text(frame), encoding="utf-8")
        else:
            driver = "GeoJSON" if fmt == "geojson" else "GPKG"
            pyogrio.write_dataframe(frame, part, layer=layer if fmt == "gpkg" else None, driver=driver)
