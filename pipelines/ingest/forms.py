"""The dashboard's asset and intervention forms: one record in, checked, placed and committed as one batch."""

from __future__ import annotations

import datetime as dt
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipelines import schemas
from pipelines.errors import AreaSafeError
from pipelines.ingest.assets import normalise_abcd, normalise_consent
from pipelines.ingest.batches import new_batch
from pipelines.ingest.interventions import funding_sphere, normalise_status, status_changes
from pipelines.ingest.registers import stable_id
from pipelines.place import AreaIndex, place_points
from pipelines.schemas import COLUMNS
from pipelines.store.base import Batch, Store

FORM_FILE_NAME = "form"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class RecordError(AreaSafeError):
    """A register record from a form is invalid; the message names the field and what to enter."""


def save_asset(
    store: Store,
    record: dict,
    *,
    user: str | None = None,
    org: str | None = None,
    now: dt.datetime | None = None,
) -> Batch:
    """Add or edit one ABCD asset and commit it as one batch.

    Parameters
    ----------
    record
        ``name`` and ``abcd_category`` (required), ``type``, ``custodian``, ``external_id``,
        ``sharing_consent`` (a person's consent, :func:`normalise_consent`), and the point as
        ``lon``/``lat``. With ``asset_id`` the stored asset is replaced (its point is kept
        when ``lon``/``lat`` are empty); without it a new asset is added.

    Raises
    ------
    RecordError
        A required field is empty, a value is outside its vocabulary or range, or ``asset_id`` is unknown.
    """
    clean = _clean(record)
    name = _required(clean, "name", "asset")
    category = (
        normalise_abcd(clean.get(COLUMNS.abcd_category) or "", None) if clean.get(COLUMNS.abcd_category) else None
    )
    if category is None:
        raise RecordError(
            f"abcd_category must be one of {', '.join(schemas.ABCD_CATEGORIES)}; got {clean.get('abcd_category')!r}."
        )
    stored = store.read_assets()
    existing = _existing(stored, "asset_id", clean.get(COLUMNS.asset_id), "asset")
    point = _point(clean, None if existing is None else existing.geometry, "asset")
    asset_id = clean.get(COLUMNS.asset_id) or stable_id("A", clean.get(COLUMNS.external_id) or f"{name}|{point.wkt}")
    if existing is None and asset_id in set(stored[COLUMNS.asset_id]):
        raise RecordError(
            f"An asset like {name!r} is already registered ({asset_id}); choose it under Edit to change it."
        )
    placement = place_points(np.array([point], dtype=object), AreaIndex.build(store.read_areas()))
    codes = {kind: placement.codes.get(kind, [None])[0] for kind in ("precinct", "neighbourhood")}
    batch = _form_batch("assets", clean, user=user, org=org, now=now, outside=all(v is None for v in codes.values()))
    assets = gpd.GeoDataFrame(
        {
            COLUMNS.asset_id: [asset_id],
            COLUMNS.name: [name],
            COLUMNS.abcd_category: [category],
            COLUMNS.type: [(clean.get(COLUMNS.type) or "").lower() or None],
            COLUMNS.custodian: [clean.get(COLUMNS.custodian)],
            COLUMNS.external_id: [clean.get(COLUMNS.external_id)],
            COLUMNS.sharing_consent: [normalise_consent(clean.get(COLUMNS.sharing_consent))],
            COLUMNS.precinct_code: [codes["precinct"]],
            COLUMNS.neighbourhood_code: [codes["neighbourhood"]],
            COLUMNS.batch_id: [batch.batch_id],
        },
        geometry=[placement.points[0]],
        crs=schemas.STORE_CRS,
    )
    return store.commit(batch, assets=assets)


def save_intervention(
    store: Store,
    record: dict,
    *,
    user: str | None = None,
    note: str | None = None,
    org: str | None = None,
    now: dt.datetime | None = None,
) -> Batch:
    """Add or edit one intervention and commit it, with its status-log entry, as one batch.

    A new intervention, a changed status, or a ``note`` (e.g. what blocks a stalled project) adds a dated
    ``intervention_log`` entry, so the ACT sees progress over time.

    Parameters
    ----------
    record
        ``name`` and ``status`` (required), ``type``, ``lead``, ``partners``, ``budget_zar``,
        ``financial_year``, ``start``/``end`` (``YYYY-MM-DD``), ``external_id`` and the point as
        ``lon``/``lat``. With ``intervention_id`` the stored intervention is replaced; its geometry (a
        line or polygon too) is kept when ``lon``/``lat`` are empty.

    Raises
    ------
    RecordError
        A required field is empty, a value is outside its vocabulary or range, a date is not
        ``YYYY-MM-DD``, the end is before the start, or ``intervention_id`` is unknown.
    """
    clean = _clean(record)
    name = _required(clean, "name", "intervention")
    status = normalise_status(clean.get(COLUMNS.status) or "")
    if status is None:
        raise RecordError(
            f"status must be one of {', '.join(schemas.INTERVENTION_STATUSES)}; got {clean.get('status')!r}."
        )
    budget = _budget(clean.get(COLUMNS.budget_zar))
    start, end = _date(clean, "start"), _date(clean, "end")
    if start and end and end < start:
        raise RecordError(f"end ({end}) is before start ({start}); correct one of the dates.")
    stored = store.read_interventions()
    existing = _existing(stored, "intervention_id", clean.get(COLUMNS.intervention_id), "intervention")
    geometry = _point(clean, None if existing is None else existing.geometry, "intervention")
    intervention_id = clean.get(COLUMNS.intervention_id) or stable_id("I", clean.get(COLUMNS.external_id) or name)
    if existing is None and intervention_id in set(stored[COLUMNS.intervention_id]):
        raise RecordError(
            f"An intervention named {name!r} is already registered ({intervention_id}); choose it under Edit to change it."
        )
    anchor = shapely.point_on_surface(geometry)
    placement = place_points(np.array([anchor], dtype=object), AreaIndex.build(store.read_areas()))
    neighbourhood = placement.codes.get("neighbourhood", [None])[0]
    batch = _form_batch(
        "interventions", {**clean, "note": note}, user=user, org=org, now=now, outside=neighbourhood is None
    )
    interventions = gpd.GeoDataFrame(
        {
            COLUMNS.intervention_id: [intervention_id],
            COLUMNS.name: [name],
            COLUMNS.type: [clean.get(COLUMNS.type)],
            COLUMNS.lead: [clean.get(COLUMNS.lead)],
            COLUMNS.partners: [clean.get(COLUMNS.partners)],
            COLUMNS.status: [status],
            COLUMNS.budget_zar: [budget],
            COLUMNS.financial_year: [clean.get(COLUMNS.financial_year)],
            COLUMNS.funding_sphere: funding_sphere(pd.Series([clean.get(COLUMNS.funding_sphere) or ""])),
            COLUMNS.start: [start],
            COLUMNS.end: [end],
            COLUMNS.external_id: [clean.get(COLUMNS.external_id)],
            COLUMNS.neighbourhood_code: [neighbourhood],
            COLUMNS.batch_id: [batch.batch_id],
        },
        geometry=[geometry],
        crs=schemas.STORE_CRS,
    )
    note = (note or "").strip() or None
    log = status_changes(stored, interventions, user=user, now=batch.created_at, note=note)
    if not len(log) and note:  # same status, but news about it (what blocks it, who was called)
        log = status_changes(stored.iloc[0:0], interventions, user=user, now=batch.created_at, note=note)
    return store.commit(batch, interventions=interventions, intervention_log=log.assign(batch_id=batch.batch_id))


def record_for_form(frame: pd.DataFrame, id_column: str, record_id: str | None) -> dict:
    """A stored register row as a form record, ``{}`` when absent.

    ``lon``/``lat`` are set for point geometries only: a line or polygon (a walkway, a park) is kept as
    it is on save unless the user sets a new point. ``geometry_type`` says which it is.
    """
    if not record_id or not len(frame):
        return {}
    match = frame[frame[id_column] == record_id]
    if not len(match):
        return {}
    row = match.iloc[0]
    record = {k: (None if _missing(v) else v) for k, v in row.items() if k not in ("geometry", "batch_id")}
    geometry = row.get(COLUMNS.geometry)
    record["geometry_type"] = None if geometry is None or geometry.is_empty else geometry.geom_type
    if record["geometry_type"] == "Point":
        record.update(lon=round(geometry.x, 6), lat=round(geometry.y, 6))
    return record


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT


def _clean(record: dict) -> dict:
    """Strip text and turn empty strings (what forms send for blank fields) into ``None``."""
    out = {}
    for key, value in record.items():
        if isinstance(value, str):
            value = value.strip() or None
        out[key] = None if _missing(value) else value
    return out


def _required(record: dict, field: str, what: str) -> str:
    value = record.get(field)
    if not value:
        raise RecordError(f"{field} is required; enter the {what}'s {field}.")
    return str(value)


def _existing(stored: pd.DataFrame, id_column: str, record_id: str | None, what: str):
    if not record_id:
        return None
    match = stored[stored[id_column] == record_id] if len(stored) else stored
    if not len(match):
        raise RecordError(f"{id_column} {record_id!r} is not stored; leave it empty to add a new {what}.")
    return match.iloc[0]


def _point(record: dict, stored_geometry, what: str):
    lon, lat = record.get(COLUMNS.lon), record.get(COLUMNS.lat)
    if lon is None and lat is None:
        if stored_geometry is not None and not stored_geometry.is_empty:
            return stored_geometry
        raise RecordError(f"The {what} has no location; click the map (or enter lat and lon) to set its point.")
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        raise RecordError(
            f"lat and lon must both be numbers in decimal degrees; got lat={lat!r}, lon={lon!r}."
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (abs(lat) < 1e-9 and abs(lon) < 1e-9):
        raise RecordError(
            f"lat {lat} / lon {lon} is not a valid location (lat -90..90, lon -180..180, not 0,0); click the map."
        )
    return shapely.Point(lon, lat)


def _budget(value: object) -> float:
    if value is None:
        return float("nan")
    text = re.sub(r"[R\s,]", "", str(value)) if isinstance(value, str) else value
    try:
        budget = float(text)
    except (TypeError, ValueError):
        raise RecordError(f"budget_zar must be a number of rand, e.g. 1200000; got {value!r}.") from None
    if not np.isfinite(budget) or budget < 0:
        raise RecordError(f"budget_zar must be zero or more rand; got {value!r}.")
    return budget


def _date(record: dict, field: str) -> str | None:
    value = record.get(field)
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    text = str(value)
    try:
        if not _DATE.match(text):
            raise ValueError
        dt.date.fromisoformat(text)
    except ValueError:
        raise RecordError(f"{field} must be a date written YYYY-MM-DD, e.g. 2026-03-31; got {text!r}.") from None
    return text


def _form_batch(kind: str, record: dict, *, user, org, now, outside: bool) -> Batch:
    content = json.dumps(record, sort_keys=True, default=str).encode()
    batch = new_batch(
        kind,
        FORM_FILE_NAME,
        content,
        user=user,
        org=org,
        format="form",
        rows_read=1,
        accepted=1,
        outside_areas=int(outside),
    )
    return batch.with_counts(created_at=now) if now else batch
