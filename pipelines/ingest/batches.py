"""What every import shares: a batch record for a file, its bytes, and committing it once."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path

from pipelines.errors import UnusableFileError
from pipelines.pii import redact_file_name
from pipelines.schemas import COLUMNS
from pipelines.store.base import Batch, Store

Progress = Callable[[str, float], None]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_batch(kind: str, file_name: str, data: bytes, **extra) -> Batch:
    """A batch record for a file; the file's name is kept redacted (it may hold a phone number or ID)."""
    return Batch(
        batch_id=uuid.uuid4().hex,
        kind=kind,
        file_name=redact_file_name(file_name),
        sha256=_sha256(data),
        created_at=dt.datetime.now(dt.UTC),
        **extra,
    )


def earlier_identical_batch(store: Store, batch: Batch) -> str | None:
    """The id of a committed batch with the same file bytes, kind, format, source and org, if any.

    The format tells apart what one file may give read in different ways: a boundary file's layer and
    the kind of area it was loaded as (``json neighbourhood layer countries``).

    A withdrawn batch (its rows deleted, the record kept as a tombstone) does not count: uploading the
    file again stores it again.
    """
    earlier = store.read_table("batches", where={COLUMNS.sha256: batch.sha256, COLUMNS.kind: batch.kind})
    same = earlier[
        (earlier[COLUMNS.source].fillna("") == (batch.source or ""))
        & (earlier[COLUMNS.org].fillna("") == (batch.org or ""))
        & (earlier[COLUMNS.format].fillna("") == (batch.format or ""))
        & earlier[COLUMNS.withdrawn_at].isna()
    ]
    return str(same[COLUMNS.batch_id].iloc[0]) if len(same) else None


def commit_once(store: Store, batch: Batch, **frames) -> Batch:
    """Commit unless the identical file was already committed: then nothing is written and the
    report carries the earlier batch id ("re-ingesting the same file adds nothing")."""
    earlier = earlier_identical_batch(store, batch)
    if earlier:
        return batch.with_counts(batch_id=earlier)
    return store.commit(batch, **frames)


def read_bytes(path: Path, data: bytes | None) -> bytes:
    if data is not None:
        return data
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UnusableFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
