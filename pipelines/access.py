"""Uploads, register edits and imports, ACT records and erasure: the operations that change what is stored.

Place in the data flow: between the pages (or CLI) and ingest/the store. Each operation is one call that
checks, does and records: it asks the disclosure core (:mod:`pipelines.privacy`, where who may see what
lives) whether the viewer may *do* it (:meth:`~pipelines.privacy.Viewer.require`), calls the core function
that changes the store, and records the change in the audit log. A page, a CLI command and a test call the
same function, so none of them runs that sequence itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import pandas as pd

from pipelines import audit
from pipelines.errors import AreaSafeError, MappingError
from pipelines.privacy.viewer import AccessDenied, Viewer
from pipelines.schemas import ASSETS, COLUMNS, INTERVENTIONS
from pipelines.sources import limits
from pipelines.store.base import Batch, Store


# --------------------------------------------------------------------------------------------------
# Uploads
# --------------------------------------------------------------------------------------------------
def upload_org(viewer: Viewer, org: str | None) -> str | None:
    """The organisation an upload is stored under: a cso always uploads as its own organisation."""
    viewer.require("upload")
    if viewer.role != "cso":
        return org
    if org not in (None, "", viewer.org):
        raise AccessDenied(f"a cso account uploads for its own organisation {viewer.org!r} only; got {org!r}")
    return viewer.org


def check_upload_size(name: str, data: bytes, *, max_bytes: int | None = None) -> None:
    """Refuse a dashboard upload larger than ``SETTINGS.max_upload_bytes`` (:mod:`pipelines.sources.limits`)."""
    limits.check_size(limits.upload_name(name), len(data), max_bytes=max_bytes)


def check_upload_rows(name: str, rows: int, *, max_rows: int | None = None) -> None:
    """Refuse a dashboard upload with more than ``SETTINGS.max_upload_rows`` data rows."""
    limits.check_rows(limits.upload_name(name), rows, max_rows=max_rows)


def prepare_upload(store: Store, viewer: Viewer, name: str, data: bytes, *, org: str | None = None, **options):
    """:func:`pipelines.ingest.prepare_incidents` for a dashboard upload: permission, organisation and
    upload limits checked on the bytes before they are parsed (the rows again after); nothing is written.
    ``name`` only labels the file: the bytes are what is read."""
    from pipelines.ingest.incidents import prepare_incidents

    org = upload_org(viewer, org)
    upload = limits.check_upload(name, data)
    prepared = prepare_incidents(
        store, upload.name, org=org, user=viewer.username, data=upload.data, file_name=upload.name, **options
    )
    check_upload_rows(upload.name, prepared.batch.rows_read)
    return prepared


def commit_upload(store: Store, viewer: Viewer, prepared) -> Batch:
    """Commit a prepared upload and audit it (``upload``)."""
    from pipelines.ingest.incidents import commit_incidents

    upload_org(viewer, prepared.batch.org)
    batch = commit_incidents(store, prepared)
    record_upload(store, viewer, batch)
    return batch


def record_upload(store: Store, viewer: Viewer, batch: Batch) -> None:
    """Audit a stored file (``upload``): the dashboard's confirmed upload and ``areasafe ingest``, alike."""
    detail = {"kind": batch.kind, "file": batch.file_name, "org": batch.org}
    audit.record(
        store,
        "upload",
        viewer=viewer,
        target=batch.batch_id,
        detail={**detail, "accepted": batch.accepted, "rejected": batch.rejected},
    )


# --------------------------------------------------------------------------------------------------
# Registers (assets, interventions): form saves and file imports
# --------------------------------------------------------------------------------------------------
#: Register -> the column that identifies one of its records.
REGISTER_IDS = {table.name: table.key for table in (ASSETS, INTERVENTIONS)}


def save_register_record(store: Store, viewer: Viewer, kind: str, record: dict, *, note: str | None = None) -> Batch:
    """Add or edit one asset or intervention (``kind``) from a form, as ``viewer``, and audit it (``edit``).

    ``record`` is what :func:`pipelines.ingest.forms.save_asset` or
    :func:`~pipelines.ingest.forms.save_intervention` takes (with the record's id to edit it); ``note``
    goes into an intervention's status history. The viewer's account is recorded with the batch.
    """
    from pipelines.ingest import forms

    viewer.require("registers")
    if kind == "assets":
        batch = forms.save_asset(store, record, user=viewer.username)
    elif kind == "interventions":
        batch = forms.save_intervention(store, record, user=viewer.username, note=note)
    else:
        raise AreaSafeError(f"kind must be one of {', '.join(REGISTER_IDS)}; got {kind!r}")
    record_edit(store, viewer, batch, what=kind, record_id=record.get(REGISTER_IDS[kind]))
    return batch


def import_register(store: Store, viewer: Viewer, kind: str, name: str, data: bytes, **options) -> Batch:
    """Import a register file uploaded through the dashboard, as ``viewer``, and audit it (``edit``): the upload
    limits are checked on its bytes (:func:`pipelines.sources.limits.check_upload`), then
    :func:`~pipelines.ingest.assets.ingest_assets` or :func:`~pipelines.ingest.interventions.ingest_interventions`
    (``kind``) reads those bytes. ``name`` only labels the file."""
    from pipelines.ingest.assets import ingest_assets
    from pipelines.ingest.interventions import ingest_interventions

    viewer.require("registers")
    if kind not in ("assets", "interventions"):
        raise MappingError(f"kind must be 'assets' or 'interventions'; got {kind!r}")
    upload = limits.check_upload(name, data)
    ingest = ingest_assets if kind == "assets" else ingest_interventions
    batch = ingest(store, upload.name, data=upload.data, user=viewer.username, **options)
    record_edit(store, viewer, batch, what=f"{kind} import")
    return batch


def record_edit(store: Store, viewer: Viewer, batch: Batch, *, what: str, record_id: str | None = None) -> None:
    """Audit a register change (``edit``): a form save or a file import, by batch."""
    viewer.require("registers")
    detail = {"register": what, "accepted": batch.accepted, "rejected": batch.rejected}
    if record_id:
        detail["id"] = record_id
    audit.record(store, "edit", viewer=viewer, target=batch.batch_id, detail=detail)


# --------------------------------------------------------------------------------------------------
# ACT records: actions and meetings
# --------------------------------------------------------------------------------------------------
def save_action(
    store: Store, viewer: Viewer, record: Mapping, *, note: str | None = None, user: str | None = None
) -> dict:
    """Add or edit one ACT action (:func:`pipelines.act.actions.save_action`: the version and its history
    entry in one transaction), as ``viewer``, and audit it (``edit``). Returns the stored version.

    ``user`` is the name recorded with the version (the command line's ``--user``); by default the viewer's
    account, which is all a page passes: the logged-in account records it, never a typed name.
    """
    from pipelines.act import actions

    viewer.require("actions")
    saved = actions.save_action(store, record, user=user or viewer.username, note=note)
    audit.record(store, "edit", viewer=viewer, target=saved[COLUMNS.action_id], detail={"table": "actions"})
    return saved


def save_meeting(store: Store, viewer: Viewer, record: Mapping) -> dict:
    """Add or update one ACT meeting's details (:func:`pipelines.act.actions.save_meeting`: date held, chair,
    minutes), as ``viewer``, and audit it (``edit``). Returns the stored row."""
    from pipelines.act import actions

    viewer.require("meeting")
    saved = actions.save_meeting(store, record)
    audit.record(store, "edit", viewer=viewer, target=saved[COLUMNS.meeting_id], detail={"table": "meetings"})
    return saved


# --------------------------------------------------------------------------------------------------
# Erasure
# --------------------------------------------------------------------------------------------------
def delete_batch(
    store: Store, viewer: Viewer, batch_id: str, *, reason: str | None = None, now: dt.datetime | None = None
) -> int:
    """Erase a batch (admins only): every row it wrote, with their raw copies, is deleted everywhere.

    The batch record stays as a tombstone (``withdrawn_at``, ``withdrawn_by``, ``withdrawn_reason``) so
    the history shows what was withdrawn and when; the deletion is audited (``delete_batch``). Returns
    the number of rows deleted.
    """
    viewer.require("delete_batch")
    batches = store.read_table("batches", where={COLUMNS.batch_id: batch_id})
    if not len(batches):
        raise AreaSafeError(f"no batch {batch_id!r}; list batch ids with 'areasafe batches'")
    record = batches.iloc[[0]].copy()
    if pd.notna(record[COLUMNS.withdrawn_at].iloc[0]):
        raise AreaSafeError(f"batch {batch_id} was already deleted on {record['withdrawn_at'].iloc[0]:%Y-%m-%d}")
    now = pd.Timestamp(now or dt.datetime.now(dt.UTC))
    record[COLUMNS.withdrawn_at] = now
    record[COLUMNS.withdrawn_by] = viewer.username
    record[COLUMNS.withdrawn_reason] = reason

    def tombstone_and_audit(removed: int) -> dict[str, pd.DataFrame]:
        detail = {"rows_deleted": removed - 1, "kind": record[COLUMNS.kind].iloc[0], "org": record[COLUMNS.org].iloc[0]}
        entry = audit.entry(
            "delete_batch", viewer=viewer, target=batch_id, detail={**detail, "reason": reason}, now=now
        )
        return {"batches": record, "audit_log": entry}

    # One transaction: the rows go, and the tombstone and the audit entry are stored, or nothing happens.
    # The count includes the batch record itself, which is not a data row.
    return store.delete_batch(batch_id, then=tombstone_and_audit) - 1


def live_batch_ids(batches: pd.DataFrame) -> Sequence[str]:
    """Ids of batches that were not withdrawn."""
    if COLUMNS.withdrawn_at not in batches:
        return list(batches[COLUMNS.batch_id])
    return list(batches.loc[batches[COLUMNS.withdrawn_at].isna(), COLUMNS.batch_id])
