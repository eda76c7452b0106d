"""Stored rows as a viewer may receive them: incident rows to show, rows to count, and batch history.

Place in the data flow: directly above the store. Every other module that turns incidents into
something a person sees (map, profile, hot spots, agenda, pack, exports, CLI) reads them here:

- :func:`read_incidents`: rows to *show*. The public gets none; a cso only its own organisation's;
  planners and ACT members every row with sensitive ones generalised; analysts and admins everything
  (their reads of sensitive rows are audited).
- :func:`counting_rows`: rows to *count or analyse* (hot spots, agenda, published counts). Every row
  of the query, but a sensitive row sits at its generalised location for every viewer below analyst,
  and free text is gone for viewers who do not see rows. So every count a role sees is computed from
  what that role may see: subtracting the points a planner can see from a count never places a
  sensitive incident more finely than its generalised cell.

A row whose ``sensitive`` flag is missing is treated as sensitive (fail closed).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines import audit
from pipelines.privacy import generalise
from pipelines.privacy.public import PERSONAL_COLUMNS, WITHHELD_COLUMNS, visible_assets
from pipelines.privacy.viewer import Viewer
from pipelines.schemas import COLUMNS, INCIDENTS
from pipelines.store.base import IncidentQuery, Store

#: Columns emptied in a count's input for viewers who do not see rows (free text, who reported).
COUNT_ONLY_DROPPED = (*WITHHELD_COLUMNS, "org", "dedupe_key", "batch_id")
GENERALISED = "generalised"
SENSITIVE = "sensitive"
INCIDENT_ID = "incident_id"


def location_resolution(store: Store) -> int:
    """H3 resolution of generalised locations for this store (:func:`generalise.generalise_resolution`)."""
    return _resolution(store.url, store.count("batches"), store)


@lru_cache(maxsize=16)
def _resolution(url: str, version: int, store: Store) -> int:
    return generalise.generalise_resolution(store.read_areas())


def sensitive_mask(rows: pd.DataFrame) -> np.ndarray:
    """Which rows are sensitive; a missing flag counts as sensitive (fail closed)."""
    if SENSITIVE not in rows or not len(rows):
        return np.ones(len(rows), dtype=bool)
    flags = rows[SENSITIVE]
    return flags.astype(object).where(flags.notna(), True).astype(bool).to_numpy()


def read_incidents(
    store: Store, viewer: Viewer, query: IncidentQuery | None = None, *, audit_view: bool = True
) -> gpd.GeoDataFrame:
    """Incident rows matching ``query`` that ``viewer`` may receive (see the module docstring).

    The result has the columns of :meth:`Store.read_incidents` plus ``generalised`` (bool). With
    ``audit_view``, an analyst's or admin's read that includes sensitive rows is written to the audit
    log (``view_sensitive``, with the count and the filters).
    """
    query = query or IncidentQuery()
    if viewer.is_public:
        return _no_rows(query)
    if viewer.role == "cso":
        if query.orgs is not None and viewer.org not in query.orgs:
            return _no_rows(query)
        query = replace(query, orgs=[viewer.org])
    rows = store.read_incidents(_with_sensitive(query))
    rows[GENERALISED] = False
    if viewer.role == "cso":
        return _select(rows, query)
    sensitive = sensitive_mask(rows)
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


def counting_rows(store: Store, viewer: Viewer, query: IncidentQuery | None = None) -> gpd.GeoDataFrame:
    """Every incident row matching ``query``, as input to a count or an analysis ``viewer`` will see.

    Analysts and admins get the rows as stored (not audited: only aggregates leave this call). Everyone
    else gets sensitive rows at their generalised location with free text withheld; viewers who do not
    see rows (public, cso) get no free text, organisation or source-record link for any row (emptied).
    """
    query = query or IncidentQuery()
    rows = store.read_incidents(_with_sensitive(query))
    rows[GENERALISED] = False
    if not viewer.sees_sensitive:
        rows = generalise_rows(rows, sensitive_mask(rows), location_resolution(store))
    if not viewer.sees_rows:
        rows = rows.assign(**{c: None for c in COUNT_ONLY_DROPPED if c in rows})
    return _select(rows, query)


def generalise_rows(rows: gpd.GeoDataFrame, mask: np.ndarray, resolution: int) -> gpd.GeoDataFrame:
    """``rows`` with the rows under ``mask`` moved to their hexagon's centre, their free text withheld and
    their ``incident_id`` replaced by :func:`masked_ids` (the stored id is a plain hash of the source record
    id, so with a guessable id format it gives the withheld ``external_id`` back)."""
    if not mask.any():
        return rows
    rows = rows.copy()
    moved = generalise.generalised_points(rows.geometry[mask], resolution)
    rows.loc[mask, rows.geometry.name] = moved.to_numpy()
    if INCIDENT_ID in rows:
        rows[INCIDENT_ID] = rows[INCIDENT_ID].astype(object)
        rows.loc[mask, INCIDENT_ID] = masked_ids(rows.loc[mask, INCIDENT_ID])
    for column in WITHHELD_COLUMNS:
        if column in rows:
            rows[column] = rows[column].astype(object)
            rows.loc[mask, column] = None
    rows.loc[mask, GENERALISED] = True
    return rows


#: Key of :func:`masked_ids`: new in every process, so a masked id links nothing across servers or restarts.
_MASK_KEY = secrets.token_bytes(32)


def masked_ids(ids: pd.Series) -> np.ndarray:
    """Stand-ins for the ids of generalised rows: a keyed hash (BLAKE2b with a per-process secret), the
    same for the same id within this process (so a click on the map finds its row), unlinkable to the
    stored id by anyone without the key."""
    return np.array(
        [f"g{hashlib.blake2b(str(i).encode(), key=_MASK_KEY, digest_size=8).hexdigest()}" for i in ids], dtype=object
    )


def _with_sensitive(query: IncidentQuery) -> IncidentQuery:
    if query.columns is None or SENSITIVE in query.columns:
        return query
    return replace(query, columns=[*query.columns, SENSITIVE])


def _select(rows: gpd.GeoDataFrame, query: IncidentQuery) -> gpd.GeoDataFrame:
    if query.columns is None or SENSITIVE in query.columns:
        return rows
    return rows.drop(columns=SENSITIVE)


def _no_rows(query: IncidentQuery) -> gpd.GeoDataFrame:
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
    if kind != "incident" or not record or str(record.get(SENSITIVE)) != "True" or not viewer.sees_sensitive:
        return False
    audit.record(store, "view_sensitive", viewer=viewer, target=f"incident:{record.get('incident_id')}")
    return True


def read_batches(store: Store, viewer: Viewer) -> pd.DataFrame:
    """Batch history, newest first: a cso's own organisation's batches, everyone else's all of them."""
    viewer.require("batches")
    batches = store.read_batches()
    if viewer.role == "cso":
        batches = batches[batches[COLUMNS.org] == viewer.org].reset_index(drop=True)
    return batches


#: Tables other than incidents that pages, exports and documents read, and what each viewer gets of them.
REGISTER_TABLES = ("assets", "interventions", "intervention_log", "batches", "rejections")


def read_table(store: Store, viewer: Viewer, name: str) -> pd.DataFrame:
    """A stored table other than incidents, as ``viewer`` may see it.

    - ``assets``: people's assets only by their recorded consent, never for the public
      (:func:`pipelines.privacy.public.visible_assets`);
    - ``interventions``: every row (public works are public);
    - ``intervention_log``: the note and who wrote it are blanked for viewers who do not see rows;
    - ``batches``: :func:`read_batches` (a cso its own organisation's only);
    - ``rejections``: for the data-quality roles; a cso its own organisation's; the rejected content
      (``raw``) only for analysts and admins, and for a cso its own.
    """
    if name not in REGISTER_TABLES:
        raise KeyError(f"read_table reads {', '.join(REGISTER_TABLES)}; got {name!r} (incidents: read_incidents)")
    if name == "batches":
        return read_batches(store, viewer)
    if name == "rejections":
        if viewer.role == "cso":
            return store.read_table(name, where={COLUMNS.org: viewer.org})
        viewer.require("data_quality")
        table = store.read_table(name)
        return table if viewer.sees_sensitive else table.assign(raw=None)
    table = store.read_table(name)
    if name == "assets":
        return visible_assets(table, viewer)
    if name == "intervention_log" and not viewer.sees_rows:
        return table.assign(**{c: None for c in PERSONAL_COLUMNS["intervention_log"] if c in table})
    return table
