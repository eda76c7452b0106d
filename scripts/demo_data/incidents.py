"""SIMULATED municipal incident records: taverns, places, times, descriptions, the hotspot and the dirty rows.

Place in the data flow: after ``areas``. Row (station, category) pairs follow the real SAPS mix; each row is
placed in a diffuse background, near an interchange or near a tavern (the *component*), given a time from the
profile its crime and component call for, and a description; then the planted hotspot and the dirty rows are
added. ``survey`` reuses the taverns and :func:`locate_component`.
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd

from .geometry import distance_m, fmt_coord, offset, point_in_areas, sample_in_polygon
from .spec import Spec
from .timing import sample_times, window_days

#: Where a simulated point comes from; indexes the component shares of ``spec.yaml``.
BACKGROUND, INTERCHANGE, TAVERN, HOTSPOT = 0, 1, 2, 3
_PLACE_KEYS = {BACKGROUND: "background", TAVERN: "tavern", HOTSPOT: "hotspot"}


def place_taverns(rng: np.random.Generator, precincts: gpd.GeoDataFrame, mix: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """SIMULATED taverns/shebeens: per precinct in proportion to its crime volume, none near the hotspot.

    Returns
    -------
    pandas.DataFrame
        Columns ``code, lat, lon, weight``.
    """
    taverns, hotspot = spec.taverns, spec.hotspot
    totals = mix.groupby("code", sort=True)["count"].sum()
    raw = totals / totals.sum() * (taverns.count - taverns.min_per_precinct * len(totals))
    counts = taverns.min_per_precinct + np.floor(raw).astype(int)
    remainder = (raw - np.floor(raw)).sort_values(ascending=False, kind="stable")
    for code in remainder.index[: taverns.count - counts.sum()]:  # largest remainder
        counts[code] += 1
    rows = []
    for code, k in counts.items():
        polygon = precincts.loc[precincts["code"] == code].geometry.iloc[0]
        points = np.empty((0, 2))
        while len(points) < k:
            candidate = sample_in_polygon(rng, polygon, 1)
            far = distance_m(candidate[:, 0], candidate[:, 1], hotspot.lat, hotspot.lon)
            if far[0] >= taverns.min_distance_from_hotspot_m:
                points = np.vstack([points, candidate])
        for lat, lon in points:
            rows.append({"code": code, "lat": lat, "lon": lon, "weight": rng.gamma(2.0, 1.0)})
    return pd.DataFrame(rows)


def _cluster_points(
    rng: np.random.Generator, centres_lat: np.ndarray, centres_lon: np.ndarray, sigma_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian scatter around given centres."""
    east = rng.normal(0, sigma_m, len(centres_lat))
    north = rng.normal(0, sigma_m, len(centres_lat))
    return offset(centres_lat, centres_lon, east, north)


def locate_component(
    rng: np.random.Generator,
    component: np.ndarray,
    codes: np.ndarray,
    precincts: gpd.GeoDataFrame,
    taverns: pd.DataFrame,
    spec: Spec,
) -> tuple:
    """Coordinates for each row given its component (background/interchange/tavern) and precinct.

    Returns
    -------
    tuple
        Latitude and longitude arrays, the component actually used (interchange/tavern fall back to
        background in a precinct without such sites) and the interchange table with precinct codes.
    """
    lat, lon = np.full(len(codes), np.nan), np.full(len(codes), np.nan)
    hubs = pd.DataFrame([dataclasses.asdict(a) for a in spec.interchanges])
    hubs["code"] = point_in_areas(precincts, hubs["lat"].to_numpy(), hubs["lon"].to_numpy(), "code")
    component = component.copy()
    clusters = ((INTERCHANGE, hubs, spec.municipal.interchange_sigma_m), (TAVERN, taverns, spec.taverns.sigma_m))
    for code, polygon in zip(precincts["code"], precincts.geometry, strict=True):
        in_code = codes == code
        for kind, sites, sigma in clusters:
            rows = np.flatnonzero(in_code & (component == kind))
            local = sites[sites["code"] == code]
            if local.empty:
                component[rows] = BACKGROUND
                continue
            pick = rng.choice(len(local), size=len(rows), p=(local["weight"] / local["weight"].sum()).to_numpy())
            lat[rows], lon[rows] = _cluster_points(
                rng, local["lat"].to_numpy()[pick], local["lon"].to_numpy()[pick], sigma
            )
        rows = np.flatnonzero(in_code & (component == BACKGROUND))
        points = sample_in_polygon(rng, polygon, len(rows))
        lat[rows], lon[rows] = points[:, 0], points[:, 1]
    return lat, lon, component, hubs


def _describe(rng: np.random.Generator, crime: str, component: int, place: str | None, spec: Spec) -> str:
    """A short free-text description for one municipal record."""
    municipal = spec.municipal
    templates = municipal.templates.get(crime, municipal.default_templates)
    template = templates[rng.integers(len(templates))]
    item = municipal.items[rng.integers(len(municipal.items))]
    if place is None:
        places = municipal.places[_PLACE_KEYS[component]]
        place = places[rng.integers(len(places))]
    text = template.format(item=item, Item=item.capitalize(), place=place, crime=crime)
    return text[0].upper() + text[1:]


def _simulate_base_incidents(
    rng: np.random.Generator, precincts: gpd.GeoDataFrame, mix: pd.DataFrame, taverns: pd.DataFrame, spec: Spec
) -> pd.DataFrame:
    """The ordinary (non-hotspot) municipal incidents: type mix, location, time, description."""
    municipal, profiles = spec.municipal, spec.profiles
    n = municipal.rows
    pick = rng.choice(len(mix), size=n, p=(mix["count"] / mix["count"].sum()).to_numpy())
    codes = mix["code"].to_numpy()[pick]
    crimes = mix["category"].to_numpy()[pick]
    shares = np.array([municipal.component_shares.get(c, municipal.default_component_shares) for c in crimes])
    component = (rng.random(n)[:, None] > np.cumsum(shares, axis=1)).sum(axis=1)
    lat, lon, component, hubs = locate_component(rng, component, codes, precincts, taverns, spec)
    nearest_hub = _nearest_hub_place(hubs, lat, lon)
    commute = (component == INTERCHANGE) & np.isin(crimes, list(municipal.commute_types))
    daytime = np.isin(crimes, list(municipal.day_types)) & ~commute
    night = ~(commute | daytime)
    when = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    days = window_days(spec.window_start, spec.window_end)
    week, hours = profiles.week, profiles.hours
    for rows, week_profile, hour_profile in (
        (daytime, week["day"], hours["day"]),
        (commute, week["day"], hours["commute"]),
        (night, week["night"], hours["night"]),
    ):
        times = sample_times(
            rng, days, np.array(week_profile), np.array(hour_profile), int(rows.sum()), profiles=profiles
        )
        when[rows] = times.to_numpy(dtype="datetime64[ns]")
    descriptions = [
        _describe(rng, crime, comp, nearest_hub[i] if comp == INTERCHANGE else None, spec)
        for i, (crime, comp) in enumerate(zip(crimes, component, strict=True))
    ]
    return pd.DataFrame(
        {"when": when, "crime_type": crimes, "lat": lat, "lon": lon, "description": descriptions, "home": codes}
    ).assign(hotspot=False)


def _nearest_hub_place(hubs: pd.DataFrame, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """The description phrase of the interchange nearest to each point."""
    distances = np.column_stack(
        [distance_m(lat, lon, h_lat, h_lon) for h_lat, h_lon in zip(hubs["lat"], hubs["lon"], strict=True)]
    )
    return hubs["place"].to_numpy()[np.nanargmin(np.nan_to_num(distances, nan=np.inf), axis=1)]


def _simulate_hotspot(rng: np.random.Generator, spec: Spec) -> tuple[pd.DataFrame, dict[str, int]]:
    """The planted emerging hotspot: robbery/assault within its radius, only in its months."""
    hot, profiles = spec.hotspot, spec.profiles
    frames, per_month = [], {}
    for month, mean in zip(hot.months, hot.mean_per_month, strict=True):
        n = int(rng.poisson(mean))
        per_month[month] = n
        start = pd.Timestamp(f"{month}-01")
        days = window_days(start, start + pd.offsets.MonthEnd(0))
        hours = np.array(profiles.hours["commute"]) + np.array(profiles.hours["night"])
        when = sample_times(rng, days, np.array(profiles.week["night"]), hours, n, profiles=profiles)
        radius = np.minimum(np.abs(rng.normal(0, hot.radius_m / 2, n)), hot.radius_m - 5)
        angle = rng.uniform(0, 2 * np.pi, n)
        lat, lon = offset(hot.lat, hot.lon, radius * np.sin(angle), radius * np.cos(angle))
        types = list(hot.crime_types)
        crimes = np.array(types)[rng.choice(len(types), size=n, p=list(hot.crime_types.values()))]
        descriptions = [_describe(rng, c, HOTSPOT, None, spec) for c in crimes]
        frames.append(
            pd.DataFrame({"when": when, "crime_type": crimes, "lat": lat, "lon": lon, "description": descriptions})
        )
    return pd.concat(frames, ignore_index=True).assign(hotspot=True, home=None), per_month


def _case_numbers(frame: pd.DataFrame, abbreviations: dict[str, str]) -> list[str]:
    """SAPS-style case numbers, numbered per station and month in time order: ``HAR/CAS/0012/08/2026``."""
    serial: dict[tuple[str, str], int] = {}
    numbers = []
    for station, when in zip(frame["station"], frame["when"], strict=True):
        key = (station, when.strftime("%m/%Y"))
        serial[key] = serial.get(key, 0) + 1
        numbers.append(f"{abbreviations[station]}/CAS/{serial[key]:04d}/{key[1]}")
    return numbers


def _plant_municipal_dirt(rng: np.random.Generator, frame: pd.DataFrame, dirty: dict[str, int]) -> pd.DataFrame:
    """Empty, zero and swapped coordinates and exact duplicate rows, all on non-hotspot rows."""
    candidates = np.flatnonzero(~frame["hotspot"].to_numpy())
    chosen = rng.choice(candidates, size=sum(dirty.values()), replace=False)
    empty, zero, swapped, duplicated = np.split(
        chosen, np.cumsum([dirty["empty_coordinates"], dirty["zero_coordinates"], dirty["swapped_coordinates"]])
    )
    frame = frame.copy()
    frame["latitude"] = fmt_coord(frame["lat"].to_numpy())
    frame["longitude"] = fmt_coord(frame["lon"].to_numpy())
    frame.loc[empty, ["latitude", "longitude"]] = ""
    frame.loc[zero, ["latitude", "longitude"]] = "0"
    frame.loc[swapped, ["latitude", "longitude"]] = frame.loc[swapped, ["longitude", "latitude"]].to_numpy()
    frame["dirt"] = ""
    frame.loc[empty, "dirt"] = "empty_coordinates"
    frame.loc[zero, "dirt"] = "zero_coordinates"
    frame.loc[swapped, "dirt"] = "swapped_coordinates"
    copies = frame.loc[np.sort(duplicated)].assign(dirt="duplicate_rows")
    # Duplicates sit right after their originals, as a double export from a case system produces.
    combined = pd.concat([frame, copies]).sort_index(kind="stable")
    return combined.reset_index(drop=True)


def simulate_municipal(
    rng: np.random.Generator, precincts: gpd.GeoDataFrame, mix: pd.DataFrame, taverns: pd.DataFrame, spec: Spec
) -> tuple[pd.DataFrame, dict]:
    """SIMULATED municipal incident records, with the emerging hotspot and dirty rows planted.

    Returns
    -------
    pandas.DataFrame
        Output columns plus ``hotspot``, ``outside`` and ``dirt`` bookkeeping columns.
    dict
        What was planted (hotspot counts per month, empty descriptions).
    """
    base = _simulate_base_incidents(rng, precincts, mix, taverns, spec)
    hotspot, per_month = _simulate_hotspot(rng, spec)
    frame = pd.concat([base, hotspot], ignore_index=True)
    found = point_in_areas(precincts, frame["lat"].to_numpy(), frame["lon"].to_numpy(), "code")
    frame["code"] = np.where(pd.isna(found), frame["home"], found)
    frame["outside"] = pd.isna(found)
    names = dict(zip(precincts["code"], precincts["name"], strict=True))
    frame["station"] = frame["code"].map(names)
    frame = frame.sort_values(["when", "station", "lat", "lon"], kind="stable").reset_index(drop=True)
    frame["case_number"] = _case_numbers(frame, spec.station_abbreviations)
    frame["date_time"] = frame["when"].dt.strftime("%Y-%m-%d %H:%M")
    empty = rng.random(len(frame)) < spec.municipal.empty_description_share
    frame.loc[empty, "description"] = ""
    planted = _plant_municipal_dirt(rng, frame, spec.municipal.dirty)
    return planted, {"per_month": per_month, "empty_descriptions": int(empty.sum())}
