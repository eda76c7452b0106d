"""Registers: ABCD community assets and violence-prevention interventions.

Place in the data flow: ``read (tabular or vector) -> normalise -> place -> store``, like incidents
but for the things that already exist (assets) and the things the ACT is doing (interventions).
Every input row is accepted or rejected with a reason, so ``rows_read == accepted + rejected``.
Interventions also get a dated status-log entry whenever a commit changes their status.

The dashboard's forms go through :func:`save_asset` and :func:`save_intervention`: one record in, checked
at this boundary, placed, and committed as one batch (``file_name="form"``), exactly like a one-row file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipelines import schemas
from pipelines.errors import AreaSafeError, MappingError, UnusableFileError
from pipelines.ingest import _new_batch, _read_bytes, commit_once
from pipelines.pii import rejection_rows
from pipelines.place import AreaIndex, place_points
from pipelines.sources.geofile import read_vector
from pipelines.sources.limits import check_upload
from pipelines.sources.mapping import leaf
from pipelines.sources.tabular import ROW_NUMBER, is_geo_file, read_tabular
from pipelines.store.base import Batch, Store
from pipelines.taxonomy import normalise_term
from pipelines.validate import _split_geopoint, _to_float

_ASSET_FIELDS = {
    "name": ("name", "asset_name", "institution_name", "title", "organisation", "organization"),
    "abcd_category": ("abcd_category", "abcd", "asset_category", "category"),
    "type": ("type", "asset_type", "kind", "phase", "facility_type"),
    "custodian": ("custodian", "owner", "managed_by", "contact_organisation", "sector"),
    "external_id": ("asset_id", "id", "natemis", "objectid", "code"),
    "sharing_consent": ("sharing_consent", "consent", "share_with"),
}
# Words people write for a consent -> the recorded value; anything else is recorded as no consent.
_CONSENT_SYNONYMS = {
    "none": "none", "no": "none", "private": "none", "admins": "none",
    "act": "act", "officials": "act", "act only": "act", "city": "act",
    "partners": "partners", "all partners": "partners", "yes": "partners", "everyone logged in": "partners",
}  # fmt: skip


def normalise_consent(value: object) -> str | None:
    """A delivered consent (``Yes``, ``ACT only``...) as one of :data:`pipelines.schemas.ASSET_CONSENT`;
    empty or unrecognised is ``None`` (no consent recorded: only admins see a person's asset)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return _CONSENT_SYNONYMS.get(re.sub(r"[\s_\-]+", " ", str(value).strip().lower()))


_INTERVENTION_FIELDS = {
    "name": ("name", "intervention", "project", "title"),
    "type": ("type", "intervention_type", "category"),
    "lead": ("lead", "lead_department", "owner", "department"),
    "partners": ("partners", "partner"),
    "status": ("status", "state", "progress"),
    "budget_zar": ("budget_zar", "budget", "budget_rand", "amount"),
    "financial_year": ("financial_year", "fy", "budget_year"),
    "funding_sphere": ("funding_sphere", "sphere", "funder", "budget_sphere"),
    "start": ("start", "start_date", "begin"),
    "end": ("end", "end_date", "due", "due_date", "completion_date"),
    "external_id": ("intervention_id", "id", "project_id", "code"),
}
_STATUS_SYNONYMS = {
    "planned": "planned",
    "plan": "planned",
    "proposed": "planned",
    "not started": "planned",
    "in progress": "in_progress",
    "in_progress": "in_progress",
    "ongoing": "in_progress",
    "underway": "in_progress",
    "started": "in_progress",
    "implementation": "in_progress",
    "active": "in_progress",
    "complete": "complete",
    "completed": "complete",
    "done": "complete",
    "finished": "complete",
    "stalled": "stalled",
    "on hold": "stalled",
    "blocked": "stalled",
    "delayed": "stalled",
    "stopped": "stalled",
    "maintenance": "maintenance",
    "operational": "maintenance",
    "operating": "maintenance",
}
_ABCD_SYNONYMS = {
    "individual": "individuals",
    "people": "individuals",
    "association": "associations",
    "group": "associations",
    "club": "associations",
    "institution": "institutions",
    "school": "institutions",
    "church": "associations",
    "physical": "physical",
    "land": "physical",
    "infrastructure": "physical",
    "economic": "economic",
    "business": "economic",
    "culture": "cultural",
    "cultural": "cultural",
    "heritage": "cultural",
}
_LAT = ("latitude", "lat", "gis_latitude", "y")
_LON = ("longitude", "lon", "lng", "long", "gis_longitude", "x")


def _find(columns: list[str], names: tuple[str, ...], explicit: str | None = None) -> str | None:
    if explicit:
        if explicit not in columns:
            raise MappingError(f"field {explicit!r} is not a column of this file; columns are: {', '.join(columns)}")
        return explicit
    by_leaf = {}
    for c in columns:
        by_leaf.setdefault(leaf(c), c)
    return next((by_leaf[n] for n in names if n in by_leaf), None)


def _read_register(path: Path, data: bytes | None) -> tuple[pd.DataFrame, np.ndarray, bytes]:
    """Rows as text plus their geometries (``None`` where the row has no usable location).

    With ``data`` (an upload's bytes) ``path`` is only a label whose suffix picks the reader; it is never opened.
    """
    content = _read_bytes(path, data)
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
    lat_col, lon_col = _find(columns, _LAT), _find(columns, _LON)
    wkt_col = _find(columns, ("wkt", "geometry", "geom", "the_geom"))
    geoms = np.full(len(table), None, dtype=object)
    if wkt_col:
        geoms = shapely.from_wkt(table[wkt_col].astype(str).to_numpy(), on_invalid="ignore")
    elif lat_col and lon_col:
        lat, lon = (
            _to_float(table[lat_col].astype("string[pyarrow]").fillna("")),
            _to_float(table[lon_col].astype("string[pyarrow]").fillna("")),
        )
        geoms = shapely.points(lon.to_numpy(), lat.to_numpy())
    else:
        geo = _find(columns, ("location", "gps", "geopoint", "_geolocation", "coordinates"))
        if geo is None:
            raise UnusableFileError(
                f"{path.name}: no latitude/longitude, WKT or GPS column found; columns are: {', '.join(columns)}"
            )
        lat, lon = _split_geopoint(table[geo].astype("string[pyarrow]").fillna(""))
        geoms = shapely.points(lon.to_numpy(), lat.to_numpy())
    table = table.astype("object").where(table.notna(), "")
    return table, np.asarray(geoms, dtype=object), content


def import_upload(store: Store, kind: str, name: str, data: bytes, *, user: str | None = None, **options) -> Batch:
    """A register file uploaded through the dashboard: the upload limits are checked on its bytes
    (:func:`pipelines.sources.limits.check_upload`), then :func:`ingest_assets` or
    :func:`ingest_interventions` (``kind``) reads those bytes. ``name`` only labels the file."""
    if kind not in ("assets", "interventions"):
        raise MappingError(f"kind must be 'assets' or 'interventions'; got {kind!r}")
    upload = check_upload(name, data)
    ingest = ingest_assets if kind == "assets" else ingest_interventions
    return ingest(store, upload.name, data=upload.data, user=user, **options)


def _location_problems(geoms: np.ndarray) -> np.ndarray:
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


def _stable_id(prefix: str, *parts: object) -> str:
    digest = hashlib.blake2b("|".join(str(p) for p in parts).encode(), digest_size=8).hexdigest()
    return f"{prefix}-{digest}"


def _rejections(
    table: pd.DataFrame, positions: np.ndarray, reasons: list[str], messages: list[str], org: str | None
) -> pd.DataFrame:
    subset = table.iloc[positions].drop(columns=[ROW_NUMBER])
    row_number = table[ROW_NUMBER].to_numpy()[positions].astype(int)
    return rejection_rows(row_number, reasons, messages, org=org, raw=subset)


def _commit_file(
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
    batch = _new_batch(
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


def _normalise_abcd(value: str, default: str | None) -> str | None:
    key = normalise_term(value)
    if key in schemas.ABCD_CATEGORIES:
        return key
    if key in _ABCD_SYNONYMS:
        return _ABCD_SYNONYMS[key]
    return default if not key else None


def ingest_assets(
    store: Store,
    path: str | Path,
    *,
    abcd_category: str | None = None,
    asset_type: str | None = None,
    name_field: str | None = None,
    user: str | None = None,
    org: str | None = None,
    data: bytes | None = None,
) -> Batch:
    """Load ABCD assets from a CSV/Excel (lat/lon, WKT or GPS column) or a vector file.

    ``abcd_category`` fills rows whose file has no ABCD column (e.g. a school list is
    ``institutions``); the DBE school master list is recognised and needs no options.
    """
    path = Path(path)
    if abcd_category and abcd_category not in schemas.ABCD_CATEGORIES:
        raise MappingError(
            f"--abcd-category must be one of {', '.join(schemas.ABCD_CATEGORIES)}; got {abcd_category!r}"
        )
    table, geoms, content = _read_register(path, data)
    columns = [c for c in table.columns if c != ROW_NUMBER]
    is_school_list = {"NatEmis", "Institution_Name"} <= set(columns)
    if is_school_list:
        abcd_category = abcd_category or "institutions"
    fields = {
        role: _find(columns, names, name_field if role == "name" else None) for role, names in _ASSET_FIELDS.items()
    }
    if is_school_list:
        fields.update(name="Institution_Name", external_id="NatEmis", type="Phase", custodian="Sector")
        fields["abcd_category"] = None
    if fields["name"] is None:
        raise UnusableFileError(f"{path.name}: no name column found; use --name-field. Columns: {', '.join(columns)}")
    if fields["abcd_category"] is None and abcd_category is None:
        raise UnusableFileError(
            f"{path.name}: no abcd_category column; pass --abcd-category ({', '.join(schemas.ABCD_CATEGORIES)})."
        )

    def col(role: str) -> pd.Series:
        c = fields[role]
        return table[c].astype(str).str.strip().replace({".": ""}) if c else pd.Series("", index=table.index)

    names = col("name")
    abcd = col("abcd_category").map(lambda v: _normalise_abcd(v, abcd_category))
    reasons = _location_problems(geoms)
    reasons[(names == "").to_numpy() & pd.isna(reasons)] = "invalid_value"
    reasons[abcd.isna().to_numpy() & pd.isna(reasons)] = "invalid_value"
    ok = pd.isna(reasons)
    ext = col("external_id")
    ids = [
        _stable_id("A", e or f"{n}|{g.wkt if g is not None else ''}") for e, n, g in zip(ext, names, geoms, strict=True)
    ]
    placement = place_points(geoms[ok], AreaIndex.build(store.read_areas())) if ok.any() else None
    types = col("type").str.lower()
    if asset_type:
        types = types.where(types != "", asset_type)
    assets = gpd.GeoDataFrame(
        {
            "asset_id": np.asarray(ids, dtype=object)[ok],
            "name": names[ok].to_numpy(dtype=object),
            "abcd_category": abcd[ok].to_numpy(dtype=object),
            "type": types[ok].replace("", None).to_numpy(dtype=object),
            "custodian": col("custodian")[ok].replace("", None).to_numpy(dtype=object),
            "external_id": ext[ok].replace("", None).to_numpy(dtype=object),
            "sharing_consent": col("sharing_consent")[ok].map(normalise_consent).to_numpy(dtype=object),
            "precinct_code": placement.codes.get("precinct") if placement else None,
            "neighbourhood_code": placement.codes.get("neighbourhood") if placement else None,
            "batch_id": None,
        },
        geometry=placement.points if placement else [],
        crs=schemas.STORE_CRS,
    )
    assets = assets.drop_duplicates("asset_id")
    bad = np.flatnonzero(~ok)
    messages = [_asset_message(r, names.iat[i]) for i, r in zip(bad, reasons[bad], strict=True)]
    return _commit_file(store, "assets", path, content, table, ok, reasons, messages, user=user, org=org, assets=assets)


def _asset_message(reason: str, name: str) -> str:
    if reason == "missing_location":
        return f"Asset {name!r} has no location; add latitude/longitude."
    if reason == "invalid_coordinates":
        return f"Asset {name!r} has coordinates outside the valid range (or 0,0); check latitude and longitude."
    return f"Asset {name!r} needs a name and an ABCD category ({', '.join(schemas.ABCD_CATEGORIES)})."


def normalise_status(value: str) -> str | None:
    """Map a delivered status (``In progress``, ``on hold``...) to the controlled vocabulary."""
    return _STATUS_SYNONYMS.get(re.sub(r"[\s_\-]+", " ", str(value).strip().lower()))


def ingest_interventions(
    store: Store,
    path: str | Path,
    *,
    user: str | None = None,
    org: str | None = None,
    data: bytes | None = None,
    now: dt.datetime | None = None,
) -> Batch:
    """Load interventions (any geometry), logging a dated status entry for each new or changed status."""
    path = Path(path)
    table, geoms, content = _read_register(path, data)
    columns = [c for c in table.columns if c != ROW_NUMBER]
    fields = {role: _find(columns, names) for role, names in _INTERVENTION_FIELDS.items()}
    for required in ("name", "status"):
        if fields[required] is None:
            raise UnusableFileError(f"{path.name}: no {required} column found; columns are: {', '.join(columns)}")

    def col(role: str) -> pd.Series:
        c = fields[role]
        return table[c].astype(str).str.strip() if c else pd.Series("", index=table.index)

    names, status = col("name"), col("status").map(normalise_status)
    reasons = _location_problems(geoms)
    reasons[((names == "") | status.isna()).to_numpy() & pd.isna(reasons)] = "invalid_value"
    ok = pd.isna(reasons)
    ext = col("external_id")
    ids = np.asarray([_stable_id("I", e or n) for e, n in zip(ext, names, strict=True)], dtype=object)
    index = AreaIndex.build(store.read_areas())
    anchors = shapely.point_on_surface(geoms[ok]) if ok.any() else np.array([], dtype=object)
    placement = place_points(anchors, index) if ok.any() else None
    budget = pd.to_numeric(col("budget_zar").str.replace(r"[R\s,]", "", regex=True), errors="coerce")
    interventions = gpd.GeoDataFrame(
        {
            "intervention_id": ids[ok],
            "name": names[ok].to_numpy(dtype=object),
            "type": col("type")[ok].replace("", None).to_numpy(dtype=object),
            "lead": col("lead")[ok].replace("", None).to_numpy(dtype=object),
            "partners": col("partners")[ok].replace("", None).to_numpy(dtype=object),
            "status": status[ok].to_numpy(dtype=object),
            "budget_zar": budget[ok].to_numpy(dtype=float),
            "financial_year": col("financial_year")[ok].replace("", None).to_numpy(dtype=object),
            "funding_sphere": _sphere(col("funding_sphere")[ok]),
            "start": col("start")[ok].replace("", None).to_numpy(dtype=object),
            "end": col("end")[ok].replace("", None).to_numpy(dtype=object),
            "external_id": ext[ok].replace("", None).to_numpy(dtype=object),
            "neighbourhood_code": placement.codes.get("neighbourhood") if placement else None,
            "batch_id": None,
        },
        geometry=geoms[ok] if ok.any() else [],
        crs=schemas.STORE_CRS,
    ).drop_duplicates("intervention_id")
    log = status_changes(store.read_interventions(), interventions, user=user, now=now)
    bad = np.flatnonzero(~ok)
    messages = [
        f"Intervention {names.iat[i]!r}: "
        + (
            "status must be one of " + ", ".join(schemas.INTERVENTION_STATUSES)
            if r == "invalid_value"
            else "no usable location (add a point, line or polygon)"
        )
        for i, r in zip(bad, reasons[bad], strict=True)
    ]
    return _commit_file(
        store,
        "interventions",
        path,
        content,
        table,
        ok,
        reasons,
        messages,
        user=user,
        org=org,
        interventions=interventions,
        intervention_log=log,
    )


def status_changes(
    stored: pd.DataFrame,
    incoming: pd.DataFrame,
    *,
    user: str | None = None,
    now: dt.datetime | None = None,
    note: str | None = None,
) -> pd.DataFrame:
    """Log entries for interventions that are new or whose status differs from the stored one."""
    previous = dict(zip(stored["intervention_id"], stored["status"], strict=True)) if len(stored) else {}
    changed = [previous.get(i) != s for i, s in zip(incoming["intervention_id"], incoming["status"], strict=True)]
    subset = incoming.loc[changed]
    return pd.DataFrame(
        {
            "intervention_id": subset["intervention_id"].to_numpy(dtype=object),
            "status": subset["status"].to_numpy(dtype=object),
            "changed_at": pd.Timestamp(now or dt.datetime.now(dt.UTC)),
            "note": note,
            "user": user,
            "batch_id": None,
        }
    )


_UPDATE_FIELDS = {
    "intervention": ("intervention_id", "intervention", "name", "project"),
    "status": ("status", "state", "progress"),
    "changed_at": ("changed_at", "date", "updated", "updated_at", "when"),
    "note": ("note", "notes", "comment", "update"),
    "user": ("user", "by", "recorded_by", "reported_by"),
}


def ingest_status_updates(
    store: Store,
    path: str | Path,
    *,
    user: str | None = None,
    org: str | None = None,
    data: bytes | None = None,
) -> Batch:
    """Load dated status updates of stored interventions (a project tracker's history) into the status log.

    The file (CSV or Excel) has one row per update: the intervention (its ``intervention_id`` or exact
    ``name``), its ``status`` from that date on, ``changed_at`` (a date, or date and time, local time)
    and an optional ``note`` and ``user``. Rows naming an unknown intervention, an unknown status or an
    unreadable date are rejected with a reason. The register's current status is not changed by this
    history: an update dated after every stored entry must therefore agree with the current status
    (edit the intervention to change it), or it is rejected.
    """
    from pipelines.dates import parse_dates

    path = Path(path)
    content = _read_bytes(path, data)
    table = read_tabular(path, data=content).frame
    columns = [c for c in table.columns if c != ROW_NUMBER]
    fields = {role: _find(columns, names) for role, names in _UPDATE_FIELDS.items()}
    for required in ("intervention", "status", "changed_at"):
        if fields[required] is None:
            names = " or ".join(_UPDATE_FIELDS[required][:2])
            raise UnusableFileError(f"{path.name}: no {names} column found; columns are: {', '.join(columns)}")

    def col(role: str) -> pd.Series:
        c = fields[role]
        return table[c].astype(str).str.strip() if c else pd.Series("", index=table.index)

    stored = store.read_interventions()
    by_name = dict(zip(stored["name"], stored["intervention_id"], strict=True))
    known = set(stored["intervention_id"])
    ids = col("intervention").map(lambda v: v if v in known else by_name.get(v))
    status = col("status").map(normalise_status)
    changed_at, _ = parse_dates(col("changed_at"))
    reasons = np.full(len(table), None, dtype=object)
    messages = [""] * len(table)
    log = store.read_table("intervention_log")
    last_logged = pd.to_datetime(log["changed_at"], utc=True).groupby(log["intervention_id"]).max() if len(log) else {}
    latest_in_file = changed_at.groupby(ids).transform("max") if ids.notna().any() else changed_at
    current = dict(zip(stored["intervention_id"], stored["status"], strict=True))
    for i in range(len(table)):
        name, iid = col("intervention").iat[i], ids.iat[i]
        if iid is None or pd.isna(iid):
            reasons[i], messages[i] = "invalid_value", f"Intervention {name!r} is not in the register; add it first."
        elif status.iat[i] is None or pd.isna(status.iat[i]):
            reasons[i] = "invalid_value"
            messages[i] = f"{name}: status must be one of {', '.join(schemas.INTERVENTION_STATUSES)}."
        elif pd.isna(changed_at.iat[i]):
            reasons[i] = "invalid_date"
            messages[i] = f"{name}: changed_at {col('changed_at').iat[i]!r} is not a date; write it as YYYY-MM-DD."
        elif (
            changed_at.iat[i] == latest_in_file.iat[i]
            and (iid not in last_logged or changed_at.iat[i] > last_logged[iid])
            and status.iat[i] != current[iid]
        ):
            reasons[i] = "invalid_value"
            messages[i] = (
                f"{name}: this is the latest update but says {status.iat[i]!r} while the register says "
                f"{current[iid]!r}; edit the intervention to change its status."
            )
    ok = pd.isna(reasons)
    updates = pd.DataFrame(
        {
            "intervention_id": ids[ok].to_numpy(dtype=object),
            "status": status[ok].to_numpy(dtype=object),
            "changed_at": changed_at[ok].to_numpy(),
            "note": col("note")[ok].replace("", None).to_numpy(dtype=object),
            "user": [v or user for v in col("user")[ok]],
            "batch_id": None,
        }
    )
    return _commit_file(
        store,
        "interventions",
        path,
        content,
        table,
        ok,
        reasons,
        [m for m in messages if m],
        user=user,
        org=org,
        intervention_log=updates,
    )


# --------------------------------------------------------------------------------------------------
# Forms: one record at a time (the dashboard's registers page)
# --------------------------------------------------------------------------------------------------
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
    category = _normalise_abcd(clean.get("abcd_category") or "", None) if clean.get("abcd_category") else None
    if category is None:
        raise RecordError(
            f"abcd_category must be one of {', '.join(schemas.ABCD_CATEGORIES)}; got {clean.get('abcd_category')!r}."
        )
    stored = store.read_assets()
    existing = _existing(stored, "asset_id", clean.get("asset_id"), "asset")
    point = _point(clean, None if existing is None else existing.geometry, "asset")
    asset_id = clean.get("asset_id") or _stable_id("A", clean.get("external_id") or f"{name}|{point.wkt}")
    if existing is None and asset_id in set(stored["asset_id"]):
        raise RecordError(
            f"An asset like {name!r} is already registered ({asset_id}); choose it under Edit to change it."
        )
    placement = place_points(np.array([point], dtype=object), AreaIndex.build(store.read_areas()))
    codes = {kind: placement.codes.get(kind, [None])[0] for kind in ("precinct", "neighbourhood")}
    batch = _form_batch("assets", clean, user=user, org=org, now=now, outside=all(v is None for v in codes.values()))
    assets = gpd.GeoDataFrame(
        {
            "asset_id": [asset_id],
            "name": [name],
            "abcd_category": [category],
            "type": [(clean.get("type") or "").lower() or None],
            "custodian": [clean.get("custodian")],
            "external_id": [clean.get("external_id")],
            "sharing_consent": [normalise_consent(clean.get("sharing_consent"))],
            "precinct_code": [codes["precinct"]],
            "neighbourhood_code": [codes["neighbourhood"]],
            "batch_id": [batch.batch_id],
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
    status = normalise_status(clean.get("status") or "")
    if status is None:
        raise RecordError(
            f"status must be one of {', '.join(schemas.INTERVENTION_STATUSES)}; got {clean.get('status')!r}."
        )
    budget = _budget(clean.get("budget_zar"))
    start, end = _date(clean, "start"), _date(clean, "end")
    if start and end and end < start:
        raise RecordError(f"end ({end}) is before start ({start}); correct one of the dates.")
    stored = store.read_interventions()
    existing = _existing(stored, "intervention_id", clean.get("intervention_id"), "intervention")
    geometry = _point(clean, None if existing is None else existing.geometry, "intervention")
    intervention_id = clean.get("intervention_id") or _stable_id("I", clean.get("external_id") or name)
    if existing is None and intervention_id in set(stored["intervention_id"]):
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
            "intervention_id": [intervention_id],
            "name": [name],
            "type": [clean.get("type")],
            "lead": [clean.get("lead")],
            "partners": [clean.get("partners")],
            "status": [status],
            "budget_zar": [budget],
            "financial_year": [clean.get("financial_year")],
            "funding_sphere": _sphere(pd.Series([clean.get("funding_sphere") or ""])),
            "start": [start],
            "end": [end],
            "external_id": [clean.get("external_id")],
            "neighbourhood_code": [neighbourhood],
            "batch_id": [batch.batch_id],
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
    geometry = row.get("geometry")
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
    lon, lat = record.get("lon"), record.get("lat")
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
    batch = _new_batch(
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


def _sphere(values: pd.Series) -> list[str | None]:
    """Funding spheres, lower-cased; anything else (blank, unknown) is left empty, not guessed."""
    lowered = values.fillna("").astype(str).str.strip().str.lower()
    return [v if v in schemas.FUNDING_SPHERES else None for v in lowered]
