"""The audit log: who logged in, uploaded, edited, exported, deleted or viewed sensitive detail, and when.

Place in the data flow: beside the store. :func:`entry` builds one ``audit_log`` row and :func:`record`
appends it through :meth:`Store.save`; the store refuses UPDATE and DELETE on the table (a database
trigger), so history cannot be rewritten even by a bug elsewhere. Callers that change something else in
the same step hand the row to ``Store.save`` together with their own rows, so the change and its audit
entry are one transaction. Only admins read the log (:func:`read_log`).

The log never holds a password, free text from an upload or a deleted row's content: ``detail`` carries
counts, ids, (redacted) file names and filter values only. A failed login under a name that has no
account is logged as :func:`pipelines.pii.unknown_user_marker` of what was typed, never the text
itself: people type their password into the username field.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

import pandas as pd

from pipelines.errors import AreaSafeError
from pipelines.pii import unknown_user_marker
from pipelines.schemas import AUDIT_EVENTS, COLUMNS
from pipelines.store.base import Store

if TYPE_CHECKING:
    from pipelines.privacy.viewer import Viewer

#: Longest text kept in ``user`` and ``target`` (a failed login's username is whatever was typed).
_MAX_TEXT = 200


def entry(
    event: str,
    *,
    viewer: Viewer | None = None,
    user: str | None = None,
    role: str | None = None,
    target: str | None = None,
    detail: dict | None = None,
    now: dt.datetime | None = None,
) -> pd.DataFrame:
    """One ``audit_log`` row as a frame, ready for ``Store.save(audit_log=...)``.

    Parameters
    ----------
    event
        One of :data:`pipelines.schemas.AUDIT_EVENTS`.
    viewer
        Who did it; ``user``/``role`` override it (a failed login has no viewer yet).
    target
        What it happened to: a batch id, a file, a username, a table.
    detail
        JSON-serialisable particulars (counts, filters); never personal content.
    """
    if event not in AUDIT_EVENTS:
        raise AreaSafeError(f"audit event must be one of {', '.join(AUDIT_EVENTS)}; got {event!r}")
    if viewer is not None:
        user = user if user is not None else viewer.username
        role = role if role is not None else viewer.role
    return pd.DataFrame(
        {
            COLUMNS.at: [pd.Timestamp(now or dt.datetime.now(dt.UTC))],
            COLUMNS.user: [None if user is None else str(user)[:_MAX_TEXT]],
            COLUMNS.role: [role],
            COLUMNS.event: [event],
            COLUMNS.target: [None if target is None else str(target)[:_MAX_TEXT]],
            COLUMNS.detail: [json.dumps(detail, sort_keys=True, default=str) if detail else None],
        }
    )


def record(store: Store, event: str, **fields) -> None:
    """Append one entry (see :func:`entry` for the fields) in its own transaction.

    A ``login_failed`` entry for a name that is no account keeps a marker instead of the typed name.
    """
    if event == "login_failed":
        fields = _without_typed_name(store, fields)
    store.save(audit_log=entry(event, **fields))


def _without_typed_name(store: Store, fields: dict) -> dict:
    typed = fields.get(COLUMNS.user)
    if typed is None or len(store.read_table("users", where={COLUMNS.username: str(typed)})):
        return fields
    marker = unknown_user_marker(str(typed))
    return {
        **fields,
        "user": marker,
        "target": marker if fields.get(COLUMNS.target) == typed else fields.get(COLUMNS.target),
    }


def read_log(
    store: Store,
    viewer: Viewer,
    *,
    event: str | None = None,
    user: str | None = None,
    limit: int | None = 1000,
) -> pd.DataFrame:
    """The audit log, newest first (admins only): ``at``, ``user``, ``role``, ``event``, ``target``, ``detail``."""
    viewer.require("audit")
    where = {k: v for k, v in (("event", event), ("user", user)) if v}
    log = store.read_table("audit_log", where=where or None)
    log = log.sort_values(COLUMNS.at, ascending=False, kind="stable", ignore_index=True)
    return log.head(limit) if limit else log
