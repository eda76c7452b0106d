"""The upload page's file, prepared once: not again on every rerun, nor again at Confirm.

Place in the data flow: show, in front of ingest. :func:`prepared_upload` calls
:func:`pipelines.access.prepare_upload` (decoded, validated, placed; nothing written) and
:func:`pipelines.ingest.report.dry_run_report` once per file content, viewer, options and store data
version, and keeps the result in the browser session.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import streamlit as st

from dashboard.common import store
from dashboard.loaders import data_version
from pipelines.errors import AreaSafeError
from pipelines.privacy import Viewer

_PREPARED_KEY = "areasafe_prepared_uploads"
_SHOWN_KEY = "areasafe_prepared_shown"  # the key of the preparation whose dry run the page showed last
#: Prepared uploads one browser session keeps (each holds a parsed file): the one on screen and the one before
#: it, so going back to the previous options does not read the file again.
PREPARED_KEPT = 2


@dataclass(frozen=True)
class PreparedUpload:
    """An uploaded file prepared for the store (:func:`pipelines.access.prepare_upload`: decoded, validated,
    placed; nothing written) and its dry run in words (:func:`pipelines.ingest.report.dry_run_report`)."""

    prepared: object  # pipelines.ingest.incidents.PreparedIncidents
    dry_run: object  # pipelines.ingest.report.DryRunReport


def _frozen(value: object) -> object:
    """Options as a hashable key (the column choices are a dict)."""
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    return value


def prepared_upload(
    who: Viewer,
    name: str,
    data: bytes,
    *,
    overrides: dict | None = None,
    confirming: bool = False,
    **options,
) -> PreparedUpload:
    """The upload page's file prepared once: per content (its bytes' hash), viewer, options, column choices
    and store data version, kept in this browser session (the newest :data:`PREPARED_KEPT`), so a rerun of the
    page (another row filter, an expander opened) reads nothing again. An error is kept too, and raised again.

    Column choices (``overrides``) that only repeat what the file was read with when none were given (the
    page's column boxes start from that reading) are the same file prepared the same way, so they reuse it.
    ``confirming`` (the Confirm button was clicked) returns the file as the dry run on screen showed it, even
    when the store changed since, so the batch committed is the one the user read; otherwise a changed store
    (this upload committed, another one elsewhere) prepares the file again, so the dry run says what is
    already stored. ``name`` only labels the batch: the bytes are what is read and what the key is made of.
    """
    from pipelines import access
    from pipelines.ingest import report

    state = st.session_state
    kept: OrderedDict = state.setdefault(_PREPARED_KEY, OrderedDict())
    file = (hashlib.sha256(data).hexdigest(), name, store().url, who)
    key = base = (*file, _frozen(options), ())
    if overrides and not _repeats_reading(kept.get(base), overrides):
        key = (*file, _frozen(options), _frozen(overrides))
    shown = state.get(_SHOWN_KEY)
    if confirming and shown in kept and shown[: len(file)] == file:
        key = shown  # what the user read when they clicked
    version = data_version()
    found = kept.get(key)
    if found is None or not (confirming or found[0] == version):
        try:
            prepared = access.prepare_upload(store(), who, name, data, overrides=overrides, **options)
            found = (version, PreparedUpload(prepared, report.dry_run_report(prepared)))
        except AreaSafeError as exc:
            found = (version, exc)
        kept[key] = found
    kept.move_to_end(key)
    while len(kept) > PREPARED_KEPT:
        kept.popitem(last=False)
    state[_SHOWN_KEY] = key
    if isinstance(found[1], AreaSafeError):
        raise found[1]
    return found[1]


def _repeats_reading(found: tuple | None, overrides: dict) -> bool:
    """Whether every column choice is the one the file was read with (``found``: a kept preparation without
    choices); empty choices clear a role."""
    outcome = None if found is None else found[1]
    mapping = getattr(getattr(outcome, "prepared", None), "mapping", None) or getattr(outcome, "mapping", None)
    if mapping is None:
        return False
    return all((value or None) == getattr(mapping, role, None) for role, value in overrides.items())
