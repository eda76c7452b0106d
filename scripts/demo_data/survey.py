"""SIMULATED CSO community survey in the KoboCAT CSV export layout, with personal data and dirt planted.

Place in the data flow: after ``incidents`` (it reuses the taverns and the component placement). Reports lie in
the CSO's precincts near interchanges and taverns, grow denser over the window, corroborate the planted hotspot,
and carry the wording, personal information and dirty rows the ingest must cope with.
"""

from __future__ import annotations

import math
import uuid

import geopandas as gpd
import numpy as np
import pandas as pd

from .geometry import offset
from .incidents import TAVERN, locate_component
from .spec import Spec
from .timing import day_weights, window_days


def luhn_check_digit(stem: str) -> str:
    """The Luhn check digit that makes ``stem + digit`` valid (South African ID numbers use Luhn)."""
    total = 0
    for position, char in enumerate(reversed(stem)):
        digit = int(char)
        if position % 2 == 0:  # doubled, counting from the digit next to the check digit
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def _normalise_term(term: str) -> str:
    """Lower-case and collapse whitespace (the taxonomy's comparison)."""
    return " ".join(term.lower().split())


def _survey_locations(
    rng: np.random.Generator, n: int, precincts: gpd.GeoDataFrame, taverns: pd.DataFrame, spec: Spec
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Survey points in the CSO's precincts: near interchanges, near taverns, or anywhere in the precinct.

    Returns latitude, longitude and whether each point came from the tavern component.
    """
    shares = spec.survey.precincts
    area = precincts[precincts["name"].isin(shares)]
    weights = np.array([shares[name] for name in area["name"]])
    codes = area["code"].to_numpy()[rng.choice(len(area), size=n, p=weights / weights.sum())]
    component = rng.choice(3, size=n, p=spec.survey.component_shares)
    lat, lon, component, _ = locate_component(rng, component, codes, precincts, taverns, spec)
    return lat, lon, component == TAVERN


def _survey_type_column(rng: np.random.Generator, n: int, tavern: np.ndarray, spec: Spec) -> np.ndarray:
    """Community wording for each report; tavern-area reports lean to shebeen/violence wording."""
    survey = spec.survey
    names = list(survey.types)
    weights = np.array(list(survey.types.values()))
    types = np.array(names, dtype=object)[rng.choice(len(names), size=n, p=weights / weights.sum())]
    near = np.flatnonzero(tavern & (rng.random(n) < survey.tavern_wording_share))
    tavern_types = np.array(survey.tavern_types, dtype=object)
    types[near] = tavern_types[rng.integers(len(tavern_types), size=len(near))]
    return types


def _survey_dates(rng: np.random.Generator, n: int, spec: Spec) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Incident dates (denser in later months) and the lag in days until the report was made."""
    start = spec.window_start
    days = window_days(start, spec.window_end)
    month_index = (days.year - start.year) * 12 + days.month - start.month
    growth = 1 + 2 * month_index.to_numpy() / 23  # the CSO's survey grows to three times its first rate
    base = day_weights(days, np.array(spec.profiles.week["night"]), spec.profiles) * growth
    incident = days[rng.choice(len(days), size=n, p=base / base.sum())]
    lag = rng.geometric(0.35, size=n) - 1
    return incident, lag


def _uuid(rng: np.random.Generator) -> str:
    """A version-4 UUID drawn from ``rng`` (deterministic)."""
    return str(uuid.UUID(bytes=rng.bytes(16), version=4))


def _kobo_timestamps(rng: np.random.Generator, incident: pd.Timestamp, lag: int, end: pd.Timestamp) -> dict[str, str]:
    """start/end (local, +02:00), today, and _submission_time (UTC, possibly uploaded later)."""
    opened = incident + pd.Timedelta(days=int(lag))
    opened = min(opened, end) + pd.Timedelta(minutes=int(rng.integers(8 * 60, 19 * 60)), seconds=int(rng.integers(60)))
    closed = opened + pd.Timedelta(seconds=int(rng.integers(120, 900)))
    delay = pd.Timedelta(seconds=int(rng.integers(5, 300)))
    if rng.random() < 0.3:  # collected offline, uploaded later
        delay += pd.Timedelta(hours=int(rng.integers(1, 72)))
    submitted_utc = min(closed + delay, end + pd.Timedelta(hours=23, minutes=59)) - pd.Timedelta(hours=2)
    return {
        "start": opened.strftime("%Y-%m-%dT%H:%M:%S.000+02:00"),
        "end": closed.strftime("%Y-%m-%dT%H:%M:%S.000+02:00"),
        "today": opened.strftime("%Y-%m-%d"),
        "_submission_time": submitted_utc.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def _reporter(rng: np.random.Generator, spec: Spec) -> dict[str, str]:
    """Fake reporter fields: filled for the share of submissions the specification states."""
    survey = spec.survey
    if rng.random() >= survey.reporter_share:
        return {"reporter/reporter_name": "", "reporter/reporter_phone": "", "reporter/consent": "no"}
    first = survey.first_names[rng.integers(len(survey.first_names))]
    name = f"{first} {survey.surnames[rng.integers(len(survey.surnames))]}"
    prefix, tail = ("082", "083", "072", "061")[rng.integers(4)], int(rng.integers(100, 200))
    phone = f"{prefix} 555 0{tail}" if rng.random() < 0.5 else f"+27{prefix[1:]}5550{tail}"
    return {"reporter/reporter_name": name, "reporter/reporter_phone": phone, "reporter/consent": "yes"}


def _geopoint(rng: np.random.Generator, lat: float, lon: float, keys: list[str]) -> dict[str, str]:
    """Kobo geopoint ("lat lon alt acc") plus its split columns; empty when lat is NaN."""
    if math.isnan(lat):
        return dict.fromkeys(keys, "")
    altitude = f"{max(rng.normal(25, 8), 0):.1f}"
    precision = f"{rng.lognormal(1.8, 0.5):.1f}"
    lat_s, lon_s = f"{lat:.6f}", f"{lon:.6f}"
    return dict(zip(keys, (f"{lat_s} {lon_s} {altitude} {precision}", lat_s, lon_s, altitude, precision), strict=True))


def _survey_text(rng: np.random.Generator, incident_type: str, spec: Spec) -> str:
    """A community description for a report of ``incident_type`` (misspelled types use the intended text)."""
    survey = spec.survey
    misspelling = survey.misspelled.get(incident_type)
    key = _normalise_term(misspelling.means if misspelling else incident_type)
    options = survey.templates.get(key, (survey.default_template,))
    return options[rng.integers(len(options))]


def simulate_survey(
    rng: np.random.Generator, precincts: gpd.GeoDataFrame, taverns: pd.DataFrame, spec: Spec
) -> tuple[pd.DataFrame, dict]:
    """SIMULATED CSO survey rows in KoboCAT CSV export layout, with PII, odd wording and dirt planted.

    Returns
    -------
    pandas.DataFrame
        The export columns plus ``hotspot`` and ``dirt`` bookkeeping columns.
    dict
        ``pii_uuids`` (kind -> the ``_uuid`` of each planted row) and ``hotspot_reports``.
    """
    survey = spec.survey
    n_general = survey.rows - survey.hotspot_rows
    lat, lon, tavern = _survey_locations(rng, n_general, precincts, taverns, spec)
    types = _survey_type_column(rng, n_general, tavern, spec)
    incident, lag = _survey_dates(rng, n_general, spec)
    hot = _survey_hotspot(rng, spec)
    lat, lon = np.concatenate([lat, hot["lat"]]), np.concatenate([lon, hot["lon"]])
    types = np.concatenate([types, hot["types"]])
    incident = incident.append(hot["incident"])
    lag = np.concatenate([lag, hot["lag"]])
    is_hot = np.arange(survey.rows) >= n_general
    planted = _plant_wording(rng, types, is_hot, spec)
    rows = [
        _kobo_row(rng, i, incident[i], int(lag[i]), types[i], lat[i], lon[i], planted, spec) for i in range(survey.rows)
    ]
    frame = pd.DataFrame(rows).assign(hotspot=is_hot, dirt="")
    pii_uuids = {kind: [frame.at[i, "_uuid"] for i in positions] for kind, positions in planted["pii"].items()}
    frame = frame.sort_values("_submission_time", kind="stable")
    frame["_id"] = [str(survey.first_id + k) for k in range(len(frame))]
    frame = _plant_survey_dirt(rng, frame, set(planted["rows"]), spec)
    return frame, {"pii_uuids": pii_uuids, "hotspot_reports": survey.hotspot_rows}


def _kobo_row(
    rng: np.random.Generator,
    i: int,
    incident: pd.Timestamp,
    lag: int,
    incident_type: str,
    lat: float,
    lon: float,
    planted: dict,
    spec: Spec,
) -> dict[str, str]:
    """One submission, its fields drawn from ``rng`` in the export's order of concerns."""
    row = _kobo_timestamps(rng, incident, lag, spec.window_end)
    row["incident/incident_date"] = incident.strftime("%d/%m/%Y")
    row["incident/incident_type"] = incident_type
    row["incident/description"] = planted["text"].get(i) or _survey_text(rng, incident_type, spec)
    row |= _geopoint(rng, lat, lon, spec.survey.location_columns) | _reporter(rng, spec)
    instance = _uuid(rng)
    row |= {"meta/instanceID": f"uuid:{instance}", "_uuid": instance, "_tags": "", "_notes": ""}
    row |= {"_validation_status": "{}", "_status": "submitted_via_web", "_submitted_by": _enumerator(rng, spec)}
    return row


def _enumerator(rng: np.random.Generator, spec: Spec) -> str:
    """The Kobo user name of the field worker (empty for anonymous web-form submissions)."""
    names = list(spec.survey.enumerators)
    weights = np.array(list(spec.survey.enumerators.values()))
    return names[rng.choice(len(names), p=weights / weights.sum())]


def _survey_hotspot(rng: np.random.Generator, spec: Spec) -> dict[str, np.ndarray]:
    """Community reports near the planted hotspot in its months (corroborating the municipal data)."""
    n, hot = spec.survey.hotspot_rows, spec.hotspot
    radius = rng.uniform(0, spec.survey.hotspot_radius_m, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    lat, lon = offset(hot.lat, hot.lon, radius * np.sin(angle), radius * np.cos(angle))
    start = pd.Timestamp(f"{hot.months[0]}-01")
    days = window_days(start, spec.window_end)
    incident = days[rng.integers(len(days), size=n)]
    hotspot_types = np.array(spec.survey.hotspot_types, dtype=object)
    types = hotspot_types[rng.integers(len(hotspot_types), size=n)]
    return {"lat": lat, "lon": lon, "types": types, "incident": incident, "lag": rng.geometric(0.5, size=n) - 1}


def _plant_wording(rng: np.random.Generator, types: np.ndarray, is_hot: np.ndarray, spec: Spec) -> dict:
    """Overwrite some general rows with misspelled/unmatched types and PII descriptions (in place on types).

    Returns
    -------
    dict
        ``text`` (row -> description), ``rows`` (all touched rows, kept clean of other dirt) and ``pii``
        (kind -> list of row positions, replaced by ``_uuid`` values later).
    """
    survey = spec.survey
    odd = {term: m.rows for term, m in survey.misspelled.items()} | survey.unmatched
    wording = [(t, None) for t, k in odd.items() for _ in range(k)]
    pii = [(kind, item.type, item.text) for kind, items in survey.pii.items() for item in items]
    sa_id = survey.sa_id_stem + luhn_check_digit(survey.sa_id_stem)
    pii.append(("sa_id", "domestic violence", f"She is scared to go to the police. Her ID is {sa_id}"))
    general = np.flatnonzero(~is_hot)
    rows = rng.choice(general, size=len(wording) + len(pii), replace=False)
    text: dict[int, str] = {}
    kinds: dict[str, list[int]] = {}
    for row, (term, _) in zip(rows[: len(wording)], wording, strict=True):
        types[row] = term
    for row, (kind, term, description) in zip(rows[len(wording) :], pii, strict=True):
        types[row] = term
        text[int(row)] = description
        kinds.setdefault(kind, []).append(int(row))
    return {"text": text, "rows": [int(r) for r in rows], "pii": kinds}


def _plant_survey_dirt(rng: np.random.Generator, frame: pd.DataFrame, protected: set[int], spec: Spec) -> pd.DataFrame:
    """Missing/swapped locations, future/unparseable dates and duplicate submissions on ordinary rows."""
    survey = spec.survey
    candidates = [i for i in frame.index if i not in protected and not frame.at[i, "hotspot"]]
    k = survey.dirty
    chosen = rng.choice(np.array(candidates), size=sum(k.values()) + survey.duplicates, replace=False)
    bounds = np.cumsum([k["missing_location"], k["swapped_coordinates"], k["future_date"], k["unparseable_date"]])
    missing, swapped, future, bad_date, duplicated = np.split(chosen, bounds)
    location_cols = survey.location_columns
    frame.loc[missing, location_cols] = ""
    for i in swapped:
        lat, lon, alt, acc = frame.at[i, "incident/location"].split()
        frame.loc[i, location_cols] = [f"{lon} {lat} {alt} {acc}", lon, lat, alt, acc]
    frame.loc[future, "incident/incident_date"] = list(survey.future_dates)
    frame.loc[bad_date, "incident/incident_date"] = list(survey.bad_dates)
    for rows, label in ((missing, "missing_location"), (swapped, "swapped_coordinates"), (future, "future_date")):
        frame.loc[rows, "dirt"] = label
    frame.loc[bad_date, "dirt"] = "unparseable_date"
    # A re-downloaded export appended to the first: exact copies at the end, same _uuid and _id.
    copies = frame.loc[np.sort(duplicated)].assign(dirt="duplicate_submission")
    return pd.concat([frame, copies], ignore_index=True)
