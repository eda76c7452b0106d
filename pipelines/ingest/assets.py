"""ABCD community assets from a file."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines import schemas
from pipelines.errors import MappingError, UnusableFileError
from pipelines.ingest.registers import commit_file, location_problems, read_register, stable_id
from pipelines.place import AreaIndex, place_points
from pipelines.schemas import COLUMNS
from pipelines.sources.columns import explicit_or_first
from pipelines.sources.tabular import ROW_NUMBER
from pipelines.store.base import Batch, Store
from pipelines.taxonomy import normalise_term

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


def normalise_abcd(value: str, default: str | None) -> str | None:
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
    table, geoms, content = read_register(path, data)
    fields, abcd_category = _asset_fields(table, path, abcd_category=abcd_category, name_field=name_field)

    def col(role: str) -> pd.Series:
        c = fields[role]
        return table[c].astype(str).str.strip().replace({".": ""}) if c else pd.Series("", index=table.index)

    names = col("name")
    abcd = col("abcd_category").map(lambda v: normalise_abcd(v, abcd_category))
    reasons = location_problems(geoms)
    reasons[(names == "").to_numpy() & pd.isna(reasons)] = "invalid_value"
    reasons[abcd.isna().to_numpy() & pd.isna(reasons)] = "invalid_value"
    ok = pd.isna(reasons)
    ext = col("external_id")
    ids = [
        stable_id("A", e or f"{n}|{g.wkt if g is not None else ''}") for e, n, g in zip(ext, names, geoms, strict=True)
    ]
    placement = place_points(geoms[ok], AreaIndex.build(store.read_areas())) if ok.any() else None
    types = col("type").str.lower()
    if asset_type:
        types = types.where(types != "", asset_type)
    assets = gpd.GeoDataFrame(
        {
            COLUMNS.asset_id: np.asarray(ids, dtype=object)[ok],
            COLUMNS.name: names[ok].to_numpy(dtype=object),
            COLUMNS.abcd_category: abcd[ok].to_numpy(dtype=object),
            COLUMNS.type: types[ok].replace("", None).to_numpy(dtype=object),
            COLUMNS.custodian: col("custodian")[ok].replace("", None).to_numpy(dtype=object),
            COLUMNS.external_id: ext[ok].replace("", None).to_numpy(dtype=object),
            COLUMNS.sharing_consent: col("sharing_consent")[ok].map(normalise_consent).to_numpy(dtype=object),
            COLUMNS.precinct_code: placement.codes.get("precinct") if placement else None,
            COLUMNS.neighbourhood_code: placement.codes.get("neighbourhood") if placement else None,
            COLUMNS.batch_id: None,
        },
        geometry=placement.points if placement else [],
        crs=schemas.STORE_CRS,
    )
    assets = assets.drop_duplicates(COLUMNS.asset_id)
    bad = np.flatnonzero(~ok)
    messages = [_asset_message(r, names.iat[i]) for i, r in zip(bad, reasons[bad], strict=True)]
    return commit_file(store, "assets", path, content, table, ok, reasons, messages, user=user, org=org, assets=assets)


def _asset_fields(
    table: pd.DataFrame, path: Path, *, abcd_category: str | None, name_field: str | None
) -> tuple[dict[str, str | None], str | None]:
    """The column of each role of an asset file, and the ABCD category for rows without one (the DBE
    school master list is recognised: its columns, and ``institutions``); refused without a name
    column, or with neither an ABCD column nor a category given."""
    columns = [c for c in table.columns if c != ROW_NUMBER]
    is_school_list = {"NatEmis", "Institution_Name"} <= set(columns)
    if is_school_list:
        abcd_category = abcd_category or "institutions"
    fields = {
        role: explicit_or_first(columns, names, name_field if role == "name" else None, option="--name-field")
        for role, names in _ASSET_FIELDS.items()
    }
    if is_school_list:
        fields.update(name="Institution_Name", external_id="NatEmis", type="Phase", custodian="Sector")
        fields[COLUMNS.abcd_category] = None
    if fields[COLUMNS.name] is None:
        raise UnusableFileError(f"{path.name}: no name column found; use --name-field. Columns: {', '.join(columns)}")
    if fields[COLUMNS.abcd_category] is None and abcd_category is None:
        raise UnusableFileError(
            f"{path.name}: no abcd_category column; pass --abcd-category ({', '.join(schemas.ABCD_CATEGORIES)})."
        )
    return fields, abcd_category


def _asset_message(reason: str, name: str) -> str:
    if reason == "missing_location":
        return f"Asset {name!r} has no location; add latitude/longitude."
    if reason == "invalid_coordinates":
        return f"Asset {name!r} has coordinates outside the valid range (or 0,0); check latitude and longitude."
    return f"Asset {name!r} needs a name and an ABCD category ({', '.join(schemas.ABCD_CATEGORIES)})."
