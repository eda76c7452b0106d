"""SIMULATED registers: community assets (``assets_other.csv``) and interventions (``interventions.geojson``).

Place in the data flow: after ``areas``. Every name and attribute is in ``spec.yaml``; positions are fixed offsets
from named anchors (interchanges, or a sub-district's representative point), and line interventions follow real
road centrelines clipped to a sub-district.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import LineString
from shapely.ops import linemerge, substring

from pipelines.periods import financial_year_of
from pipelines.schemas import ABCD_CATEGORIES, INTERVENTION_STATUSES

from .files import csv_text, geojson_text
from .geometry import COORD_DECIMALS, METRIC_CRS, WGS84, offset
from .spec import Spec


def anchor_points(hoods: gpd.GeoDataFrame, spec: Spec) -> dict[str, tuple[float, float]]:
    """(lat, lon) of every anchor: interchanges by name, sub-districts by source NAME (representative point)."""
    anchors = {a.name: (a.lat, a.lon) for a in spec.interchanges}
    for source_name, geom in zip(hoods["source_name"], hoods.geometry, strict=True):
        if isinstance(source_name, str):
            point = geom.representative_point()
            anchors[source_name] = (point.y, point.x)
    return anchors


def _placed(anchors: dict[str, tuple[float, float]], anchor: str, east_m: float, north_m: float) -> tuple[float, float]:
    """(lat, lon) of a point ``east_m``/``north_m`` metres from a named anchor, rounded to 6 decimals."""
    lat, lon = offset(*anchors[anchor], east_m, north_m)
    return round(float(lat), COORD_DECIMALS), round(float(lon), COORD_DECIMALS)


def assets_text(hoods: gpd.GeoDataFrame, spec: Spec) -> str:
    """SIMULATED ABCD assets as CSV text (``name,abcd_category,type,custodian,sharing_consent,latitude,longitude``)."""
    anchors = anchor_points(hoods, spec)
    union = hoods.geometry.union_all()
    rows = []
    for asset in spec.assets:
        if asset.abcd_category not in ABCD_CATEGORIES:
            raise ValueError(f"asset {asset.name!r}: abcd_category {asset.abcd_category!r} not in {ABCD_CATEGORIES}")
        lat, lon = _placed(anchors, asset.anchor, asset.east_m, asset.north_m)
        if not union.contains(shapely.Point(lon, lat)):
            raise ValueError(f"asset {asset.name!r} at {lat},{lon} falls outside the demo neighbourhoods; move it")
        fields = ("name", "abcd_category", "type", "custodian", "sharing_consent")
        rows.append({k: getattr(asset, k) for k in fields} | {"latitude": f"{lat:.6f}", "longitude": f"{lon:.6f}"})
    return csv_text(pd.DataFrame(rows))


def _road_route(roads: gpd.GeoDataFrame, hoods: gpd.GeoDataFrame, road: str, hood: str, max_m: float) -> LineString:
    """The longest continuous piece of a named road inside a sub-district, cut to ``max_m`` metres."""
    area = hoods.loc[hoods["source_name"] == hood].to_crs(METRIC_CRS).geometry.iloc[0]
    parts = roads.loc[roads["ROAD_NAME"] == road].to_crs(METRIC_CRS).geometry
    merged = linemerge(shapely.intersection(shapely.union_all(parts.to_numpy()), area))
    lines = list(getattr(merged, "geoms", [merged]))
    longest = max((g for g in lines if g.geom_type == "LineString"), key=lambda g: g.length)
    route = substring(longest, 0, min(max_m, longest.length))
    route = shapely.simplify(route, 2.0)  # centreline vertices every few metres are not needed
    return gpd.GeoSeries([route], crs=METRIC_CRS).to_crs(WGS84).iloc[0]


def _intervention_geometry(
    where: dict, anchors: dict[str, tuple[float, float]], roads: gpd.GeoDataFrame, hoods: gpd.GeoDataFrame
) -> shapely.Geometry:
    """Build an intervention's geometry from its ``geometry`` entry in the specification."""
    if "road" in where:
        return _road_route(roads, hoods, where["road"], where["within"], where["max_m"])
    anchor = where.get("point", where.get("square"))
    if anchor is None:
        raise ValueError(f"intervention geometry {where} names no `road`, `point` or `square`; use one of them")
    lat, lon = _placed(anchors, anchor, where["east_m"], where["north_m"])
    if "point" in where:
        return shapely.Point(lon, lat)
    half = where["half_side_m"]
    (south, west), (north, east) = (offset(lat, lon, -half, -half), offset(lat, lon, half, half))
    return shapely.box(float(west), float(south), float(east), float(north))


def interventions_text(hoods: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, spec: Spec) -> str:
    """SIMULATED interventions as GeoJSON (properties ``name,type,lead,partners,status,...``).

    ``financial_year`` is the year of ``start`` in the budget of ``funding_sphere`` (``pipelines.periods``).
    """
    anchors = anchor_points(hoods, spec)
    union = hoods.geometry.union_all()
    features = []
    for item in spec.interventions:
        if item.status not in INTERVENTION_STATUSES:
            raise ValueError(f"intervention {item.name!r}: status {item.status!r} not in {INTERVENTION_STATUSES}")
        geom = _intervention_geometry(item.geometry, anchors, roads, hoods)
        if not union.contains(geom.centroid):
            raise ValueError(f"intervention {item.name!r} lies outside the demo neighbourhoods; move it")
        properties = {k: getattr(item, k) for k in ("name", "type", "lead", "partners", "status", "budget_zar")}
        properties |= {
            "financial_year": financial_year_of(item.start, item.funding_sphere).label,
            "funding_sphere": item.funding_sphere,
            "start": item.start,
            "end": item.end,
        }
        features.append((properties, geom))
    return geojson_text(features)
