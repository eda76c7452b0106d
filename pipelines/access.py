"""Who may see what: the viewer, the permission table, and every read of incident data filtered by role.

Place in the data flow: between the store and the show layer. Pages, the CLI and exports get incident
data only through the functions here, each of which takes the :class:`Viewer` and returns what that
viewer may receive:

- **public** (not logged in): aggregates only: counts per area and per H3 hexagon, counts below 5 shown
  as ``"<5"`` (:mod:`pipelines.generalise`); no row, no point, no free text. :func:`read_incidents`
  returns no rows.
- **cso**: the public view, plus its own organisation's rows in full and its own batch history; never a
  row of another organisation.
- **planner**, **act_member**: every row, but a *sensitive* row (taxonomy flag, ``incidents.sensitive``)
  has its point moved to the centre of its hexagon and its free text (``description``, ``raw``,
  ``external_id``) withheld; the column ``generalised`` says which rows were changed.
- **analyst**, **admin**: everything; reading sensitive rows is audited (``view_sensitive``).

The rules, and what suppression does and does not protect against, are in ``docs/privacy.md``.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipelines import audit, generalise
from pipelines.errors import AreaSafeError
from pipelines.schemas import INCIDENTS, ROLES
from pipelines.settings import SETTINGS
from pipelines.store.base import Batch, IncidentQuery, Store

#: Roles that receive incident rows (points and free text) of every organisation.
ROW_ROLES = ("planner", "act_member", "analyst", "admin")
#: Roles that receive sensitive rows exactly.
SENSITIVE_ROLES = ("analyst", "admin")
#: Action -> who may do it (``None`` is the public). Pages and core functions both check this table.
PERMISSIONS: dict[str, tuple[str | None, ...]] = {
    "map": (None, *ROLES),
    "profile": (None, *ROLES),
    "upload": ("cso", "planner", "analyst", "admin"),
    "batches": ("cso", "planner", "analyst", "admin"),
    "act_review": ("planner", "act_member", "analyst", "admin"),
    "meeting": ("planner", "act_member", "analyst", "admin"),
    "actions": ("planner", "act_member", "analyst", "admin"),
    "registers": ("planner", "act_member", "analyst", "admin"),
    "data_quality": ("planner", "analyst", "admin"),
    "export": ("analyst", "admin"),
    "users": ("admin",),
    "audit": ("admin",),
    "delete_batch": ("admin",),
}
#: Columns withheld from sensitive rows below ``analyst`` (free text and links back to the source record).
WITHHELD_COLUMNS = ("description", "raw", "external_id")
GENERALISED = "generalised"


class AccessDenied(AreaSafeError):
    """The viewer may not do this; the message says which role may."""


@dataclass(frozen=True)
class Viewer:
    """Who is asking: an account's name, role and organisation, or the public (all ``None``).

    Hashable, so cached loaders can key on it.
    """

    username: str | None = None
    role: str | None = None
    org: str | None = None

    def __post_init__(self) -> None:
        if self.role is not None and self.role not in ROLES:
            raise AccessDenied(f"role must be one of {', '.join(ROLES)}; got {self.role!r}")
        if self.role == "cso" and not self.org:
            raise AccessDenied(f"a cso account must belong to an organisation; {self.username!r} has none")
        if self.role is None and self.username is not None:
            raise AccessDenied("an account without a role cannot be a viewer; give it a role")

    @property
    def is_public(self) -> bool:
        return self.role is None

    @property
    def sees_rows(self) -> bool:
        """Receives incident rows of every organisation (sensitive ones generalised below analyst)."""
        return self.role in ROW_ROLES

    @property
    def sees_sensitive(self) -> bool:
        """Receives sensitive rows exactly (points and free text)."""
        return self.role in SENSITIVE_ROLES

    @property
    def suppressed(self) -> bool:
        """Counts over data the viewer cannot see row by row are published with small counts suppressed."""
        return not self.sees_rows

    @property
    def label(self) -> str:
        if self.is_public:
            return "public (not logged in)"
        return f"{self.username} ({self.role}{', ' + self.org if self.org else ''})"

    def may(self, action: str) -> bool:
        if action not in PERMISSIONS:
            raise KeyError(f"unknown action {action!r}; actions are {', '.join(PERMISSIONS)}")
        return self.role in PERMISSIONS[action]

    def require(self, action: str) -> None:
        """Raise :class:`AccessDenied` unless the viewer may do ``action``."""
        if not self.may(action):
            allowed = ", ".join(r for r in PERMISSIONS[action] if r) or "nobody"
            who = "the public" if self.is_public else f"role {self.role!r}"
            raise AccessDenied(f"{who} may not use {action.replace('_', ' ')}; log in as one of: {allowed}.")


PUBLIC = Viewer()


def operator(name: str | None = None) -> Viewer:
    """The viewer for the command line: whoever can run ``areasafe`` on the server owns the store (admin)."""
    try:
        who = name or getpass.getuser()
    except OSError:  # no user name in the environment (containers)
        who = "unknown"
    return Viewer(username=f"cli:{who}", role="admin")


# --------------------------------------------------------------------------------------------------
# Incident rows
# --------------------------------------------------------------------------------------------------
def location_resolution(store: Store) -> int:
    """H3 resolution of generalised locations for this store (:func:`pipelines.generalise.generalise_resolution`)."""
    return _resolution(store.url, store.count("batches"), store)


@lru_cache(maxsize=16)
def _resolution(url: str, version: int, store: Store) -> int:
    return generalise.generalise_resolution(store.read_areas())


def read_incidents(
    store: Store, viewer: Viewer, query: IncidentQuery | None = None, *, audit_view: bool = True
) -> gpd.GeoDataFrame:
    """Incident rows matching ``query`` that ``viewer`` may receive (see the module docstring).

    The result has the columns of :meth:`Store.read_incidents` plus ``generalised`` (bool). The public
    gets zero rows; a cso only its own organisation's rows; planners and ACT members every row with
    sensitive ones generalised. With ``audit_view``, an analyst's or admin's read that includes
    sensitive rows is written to the audit log (``view_sensitive``, with the count and the filters).
    """
    query = query or IncidentQuery()
    if viewer.is_public:
        return _no_rows(store, query)
    if viewer.role == "cso":
        if query.orgs is not None and viewer.org not in query.orgs:
            return _no_rows(store, query)
        query = replace(query, orgs=[viewer.org])
    rows = store.read_incidents(_with_sensitive(query))
    rows[GENERALISED] = False
    if viewer.role == "cso":
        return _select(rows, query)
    sensitive = rows["sensitive"].to_numpy(dtype=bool) if len(rows) else np.zeros(0, dtype=bool)
    if viewer.sees_sensitive:
        if audit_view and sensitive.any():
            audit.record(
                store,
                "view_sensitive",
                viewer=viewer,
                target="incidents",
                detail={"sensitive_rows": int(sensitive.sum()), "rows": len(rows), "query": _describe(query)},
            )
        return _select(rows, query)
    return _select(generalise_rows(rows, sensitive, location_resolution(store)), query)


def generalise_rows(rows: gpd.GeoDataFrame, mask: np.ndarray, resolution: int) -> gpd.GeoDataFrame:
    """``rows`` with the rows under ``mask`` moved to their hexagon's centre and their free text withheld."""
    if not mask.any():
        return rows
    rows = rows.copy()
    moved = generalise.generalised_points(rows.geometry[mask], resolution)
    rows.loc[mask, rows.geometry.name] = moved.to_numpy()
    for column in WITHHELD_COLUMNS:
        if column in rows:
            rows[column] = rows[column].astype(object)
            rows.loc[mask, column] = None
    rows.loc[mask, GENERALISED] = True
    return rows


def _with_sensitive(query: IncidentQuery) -> IncidentQuery:
    if query.columns is None or "sensitive" in query.columns:
        return query
    return replace(query, columns=[*query.columns, "sensitive"])


def _select(rows: gpd.GeoDataFrame, query: IncidentQuery) -> gpd.GeoDataFrame:
    if query.columns is None or "sensitive" in query.columns:
        return rows
    return rows.drop(columns="sensitive")


def _no_rows(store: Store, query: IncidentQuery) -> gpd.GeoDataFrame:
    columns = list(query.columns) if query.columns else [c for c in INCIDENTS.columns if c not in ("raw", "dedupe_key")]
    frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    frame[GENERALISED] = pd.Series([], dtype=bool)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs="EPSG:4326"))


def _describe(query: IncidentQuery) -> dict:
    described = {
        "neighbourhood": query.neighbourhood,
        "precinct": query.precinct,
        "start": query.start,
        "end": query.end,
        "categories": list(query.categories) if query.categories is not None else None,
        "sources": list(query.sources) if query.sources is not None else None,
        "orgs": list(query.orgs) if query.orgs is not None else None,
        "batch_id": query.batch_id,
    }
    return {k: v for k, v in described.items() if v is not None}


def note_detail_view(store: Store, viewer: Viewer, kind: str, record: dict | None) -> bool:
    """Audit an analyst or admin opening one sensitive incident's record (``view_sensitive``); True if audited."""
    if kind != "incident" or not record or str(record.get("sensitive")) != "True" or not viewer.sees_sensitive:
        return False
    audit.record(store, "view_sensitive", viewer=viewer, target=f"incident:{record.get('incident_id')}")
    return True


# --------------------------------------------------------------------------------------------------
# Aggregates (every viewer; suppressed for the public and cso)
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PublishedCounts:
    """Incident counts as a viewer may see them.

    Attributes
    ----------
    total : float
        Incidents matching the query (NaN when suppressed); ``total_shown`` is its text.
    areas : pandas.DataFrame
        ``kind``, ``code``, ``count`` (NaN where suppressed), ``shown`` for every stored area.
    cells : pandas.DataFrame
        ``cell`` (H3 index at ``resolution``), ``count``, ``shown``, busiest first; empty cells left out.
    suppressed : bool
        Whether small counts were suppressed (public and cso viewers).
    """

    total: float
    total_shown: str
    areas: pd.DataFrame
    cells: pd.DataFrame
    resolution: int
    suppressed: bool = field(default=True)

    def area_counts(self, kind: str) -> pd.DataFrame:
        return self.areas[self.areas["kind"] == kind].reset_index(drop=True)


def published_counts(
    store: Store, viewer: Viewer, query: IncidentQuery | None = None, *, resolution: int | None = None
) -> PublishedCounts:
    """Counts per area (both kinds) and per H3 cell of the incidents matching ``query``.

    Every viewer may have these. For suppressed viewers (public, cso) counts 1-4 are shown as ``"<5"``
    and each table gets secondary suppression against its total (:func:`pipelines.generalise.suppress`);
    other viewers get exact counts. ``resolution`` defaults to :func:`location_resolution`.
    """
    query = replace(query or IncidentQuery(), columns=["precinct_code", "neighbourhood_code"])
    resolution = location_resolution(store) if resolution is None else resolution
    incidents = store.read_incidents(query)
    areas = store.read_areas()[["kind", "code"]]
    threshold = SETTINGS.min_published_count if viewer.suppressed else 0
    by_area = []
    for kind in ("precinct", "neighbourhood"):
        counts = incidents[f"{kind}_code"].value_counts()
        chosen = areas[areas["kind"] == kind].reset_index(drop=True)
        values = chosen["code"].map(counts).fillna(0).astype(int)
        by_area.append(pd.concat([chosen, generalise.suppress(values, threshold=threshold)], axis=1))
    points = incidents.geometry.to_numpy()
    points = points[~shapely.is_missing(points) & ~shapely.is_empty(points)]
    cells = pd.Series(generalise.points_to_cells(shapely.get_x(points), shapely.get_y(points), resolution))
    per_cell = cells.value_counts().sort_values(ascending=False, kind="stable")
    cell_frame = pd.concat(
        [
            pd.DataFrame({"cell": per_cell.index.astype(str)}),
            generalise.suppress(per_cell.reset_index(drop=True), threshold=threshold),
        ],
        axis=1,
    )
    total = len(incidents)
    return PublishedCounts(
        total=np.nan if 0 < total < threshold else float(total),
        total_shown=generalise.shown_total(total, threshold=threshold),
        areas=pd.concat(by_area, ignore_index=True),
        cells=cell_frame,
        resolution=resolution,
        suppressed=viewer.suppressed,
    )


def hotspot_resolution(store: Store, viewer: Viewer) -> int | None:
    """H3 resolution of the Gi* grid a viewer may see: no finer than :func:`location_resolution` for
    suppressed viewers (a finer cell holds too few households); ``None`` (the recipe's choice) otherwise."""
    return None if viewer.sees_rows else location_resolution(store)


def published_hotspots(cells: gpd.GeoDataFrame, viewer: Viewer) -> gpd.GeoDataFrame:
    """Gi* cells of :func:`pipelines.hotspots.hotspots_for_neighbourhood` as ``viewer`` may see them.

    Suppressed viewers get ``count`` NaN below 5 and ``shown`` as ``"<5"``, and no z-score or p-value
    (with the neighbours' counts they would give a suppressed count back); bins and trends stay.
    """
    cells = cells.copy()
    if not viewer.suppressed:
        return cells
    published = generalise.suppress(cells["count"].to_numpy(), secondary=False)
    cells["count"] = published["count"].to_numpy()
    cells["shown"] = published["shown"].to_numpy()
    for column in ("gi_z", "gi_p"):
        if column in cells:
            cells[column] = np.nan
    return cells


def filter_choices(store: Store) -> tuple[list[pd.Period], list[str]]:
    """Local months (newest first) and categories present in the store: the sidebar's choices.

    Which months and categories occur at all is not personal information; every viewer gets them.
    """
    summary = store.incident_months()  # a maintained summary where the store has one: no full scan
    months = sorted(summary["month"].dropna().unique(), reverse=True)
    return months, sorted(summary["category"].dropna().unique())


@dataclass(frozen=True)
class ProfileStats:
    """A neighbourhood's headline numbers as text (suppressed where needed) and its monthly trend.

    ``trend`` has ``month``, ``category``, ``count`` (NaN where suppressed) and ``shown``.
    """

    incidents: str
    change: str | None
    rate_per_1000: str
    community_share: str
    trend: pd.DataFrame
    suppressed: bool


def profile_stats(
    store: Store,
    viewer: Viewer,
    query: IncidentQuery,
    *,
    month: pd.Period,
    population: float | None,
    trend_start: dt.datetime | None = None,
    trend_end: dt.datetime | None = None,
) -> ProfileStats:
    """KPIs for ``month`` (against the month before) and the monthly trend between ``trend_start`` and
    ``trend_end``, over every incident matching ``query``, as ``viewer`` may see them.

    For suppressed viewers a count below 5 is ``"<5"``; the change, the rate per 1,000 and the community
    share are withheld when either month's count is suppressed (each would give the count back), and
    the trend is suppressed per month with secondary suppression.
    """
    from pipelines import views

    incidents = store.read_incidents(replace(query, columns=["occurred_at", "category", "source"]))
    kpis = views.profile_kpis(incidents, month=month, population=population)
    threshold = SETTINGS.min_published_count if viewer.suppressed else 0
    hidden = any(0 < n < threshold for n in (kpis.incidents, kpis.previous))
    period = incidents
    if trend_start is not None:
        period = period[period["occurred_at"] >= pd.Timestamp(trend_start)]
    if trend_end is not None:
        period = period[period["occurred_at"] < pd.Timestamp(trend_end)]
    trend = views.monthly_trend(period)
    trend = pd.concat(
        [
            trend.drop(columns="count").reset_index(drop=True),
            generalise.suppress(trend["count"].reset_index(drop=True), groups=trend["month"], threshold=threshold),
        ],
        axis=1,
    )
    return ProfileStats(
        incidents=generalise.shown_total(kpis.incidents, threshold=threshold),
        change=None if hidden else f"{kpis.change:+,} vs {month - 1}",
        rate_per_1000="n/a" if hidden or kpis.rate_per_1000 is None else f"{kpis.rate_per_1000:.2f}",
        community_share="n/a" if hidden or kpis.community_share is None else f"{kpis.community_share:.0%}",
        trend=trend,
        suppressed=viewer.suppressed,
    )


# --------------------------------------------------------------------------------------------------
# Batches, uploads and erasure
# --------------------------------------------------------------------------------------------------
def read_batches(store: Store, viewer: Viewer) -> pd.DataFrame:
    """Batch history, newest first: a cso's own organisation's batches, everyone else's all of them."""
    viewer.require("batches")
    batches = store.read_batches()
    if viewer.role == "cso":
        batches = batches[batches["org"] == viewer.org].reset_index(drop=True)
    return batches


def upload_org(viewer: Viewer, org: str | None) -> str | None:
    """The organisation an upload is stored under: a cso always uploads as its own organisation."""
    viewer.require("upload")
    if viewer.role != "cso":
        return org
    if org not in (None, "", viewer.org):
        raise AccessDenied(f"a cso account uploads for its own organisation {viewer.org!r} only; got {org!r}")
    return viewer.org


def check_upload_size(name: str, data: bytes, *, max_bytes: int | None = None) -> None:
    """Refuse a dashboard upload larger than ``SETTINGS.max_upload_bytes``, saying what to do instead."""
    limit = SETTINGS.max_upload_bytes if max_bytes is None else max_bytes
    if len(data) > limit:
        raise AreaSafeError(
            f"{name} is {len(data) / 1e6:.1f} MB; the dashboard accepts files up to {limit / 1e6:.0f} MB. "
            "Split the file, or ask an administrator to load it with 'areasafe ingest'."
        )


def check_upload_rows(name: str, rows: int, *, max_rows: int | None = None) -> None:
    """Refuse a dashboard upload with more than ``SETTINGS.max_upload_rows`` data rows."""
    limit = SETTINGS.max_upload_rows if max_rows is None else max_rows
    if rows > limit:
        raise AreaSafeError(
            f"{name} has {rows:,} data rows; the dashboard accepts up to {limit:,} per file. "
            "Split the file, or ask an administrator to load it with 'areasafe ingest'."
        )


def prepare_upload(store: Store, viewer: Viewer, name: str, data: bytes, *, org: str | None = None, **options):
    """:func:`pipelines.ingest.prepare_incidents` for a dashboard upload: permission, organisation,
    size and row limits checked; nothing is written."""
    from pipelines.ingest import prepare_incidents

    org = upload_org(viewer, org)
    check_upload_size(name, data)
    prepared = prepare_incidents(
        store, Path(name).name, org=org, user=viewer.username, data=data, file_name=name, **options
    )
    check_upload_rows(name, prepared.batch.rows_read)
    return prepared


def commit_upload(store: Store, viewer: Viewer, prepared) -> Batch:
    """Commit a prepared upload and audit it (``upload``)."""
    from pipelines.ingest import commit_incidents

    upload_org(viewer, prepared.batch.org)
    batch = commit_incidents(store, prepared)
    audit.record(
        store,
        "upload",
        viewer=viewer,
        target=batch.batch_id,
        detail={"file": batch.file_name, "org": batch.org, "accepted": batch.accepted, "rejected": batch.rejected},
    )
    return batch


def record_edit(store: Store, viewer: Viewer, batch: Batch, *, what: str, record_id: str | None = None) -> None:
    """Audit a register change (``edit``): a form save or a file import, by batch."""
    viewer.require("registers")
    detail = {"register": what, "accepted": batch.accepted, "rejected": batch.rejected}
    if record_id:
        detail["id"] = record_id
    audit.record(store, "edit", viewer=viewer, target=batch.batch_id, detail=detail)


def delete_batch(
    store: Store, viewer: Viewer, batch_id: str, *, reason: str | None = None, now: dt.datetime | None = None
) -> int:
    """Erase a batch (admins only): every row it wrote, with their raw copies, is deleted everywhere.

    The batch record stays as a tombstone (``withdrawn_at``, ``withdrawn_by``, ``withdrawn_reason``) so
    the history shows what was withdrawn and when; the deletion is audited (``delete_batch``). Returns
    the number of rows deleted.
    """
    viewer.require("delete_batch")
    batches = store.read_table("batches", where={"batch_id": batch_id})
    if not len(batches):
        raise AreaSafeError(f"no batch {batch_id!r}; list batch ids with 'areasafe batches'")
    record = batches.iloc[[0]].copy()
    if pd.notna(record["withdrawn_at"].iloc[0]):
        raise AreaSafeError(f"batch {batch_id} was already deleted on {record['withdrawn_at'].iloc[0]:%Y-%m-%d}")
    now = pd.Timestamp(now or dt.datetime.now(dt.UTC))
    record["withdrawn_at"] = now
    record["withdrawn_by"] = viewer.username
    record["withdrawn_reason"] = reason

    def tombstone_and_audit(removed: int) -> dict[str, pd.DataFrame]:
        detail = {"rows_deleted": removed - 1, "kind": record["kind"].iloc[0], "org": record["org"].iloc[0]}
        entry = audit.entry(
            "delete_batch", viewer=viewer, target=batch_id, detail={**detail, "reason": reason}, now=now
        )
        return {"batches": record, "audit_log": entry}

    # One transaction: the rows go, and the tombstone and the audit entry are stored, or nothing happens.
    # The count includes the batch record itself, which is not a data row.
    return store.delete_batch(batch_id, then=tombstone_and_audit) - 1


def live_batch_ids(batches: pd.DataFrame) -> Sequence[str]:
    """Ids of batches that were not withdrawn."""
    if "withdrawn_at" not in batches:
        return list(batches["batch_id"])
    return list(batches.loc[batches["withdrawn_at"].isna(), "batch_id"])
