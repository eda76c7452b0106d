"""The words the agenda's items share: incident counts as the audience may read them, category names,
an action's owner and what blocks it.

Place in the data flow: show (words). Used by every item module of :mod:`pipelines.act.agenda`.
"""

from __future__ import annotations

import numpy as np

from pipelines.privacy import public as rules
from pipelines.privacy import suppress
from pipelines.views import category_labels


class Counts:
    """Formats incident counts for summaries: as they are, or by the public rules (``public=True``: 1 to 4
    as ``<5``, :func:`pipelines.privacy.suppress.format_count`)."""

    def __init__(self, public: bool) -> None:
        self.public = public

    def __call__(self, value: object) -> str:
        return suppress.format_count(value, public=self.public)


def category_names() -> dict[str, str]:
    """Category code -> its name for people, with the public pack's combined sensitive category."""
    return {**category_labels(), rules.SENSITIVE_CODE: rules.SENSITIVE_LABEL}


def owner(org: object, person: object) -> str:
    """An action's owner: ``org``, or ``org (person)`` when a person is named."""
    org = "" if org is None or (isinstance(org, float) and np.isnan(org)) else str(org)
    if person is None or (isinstance(person, float) and np.isnan(person)) or not str(person).strip():
        return org
    return f"{org} ({person})"


def bottleneck(status: str, blocked_by: object, unblocker: object) -> str:
    """What blocks a blocked action and who can unblock it (empty unless ``status`` is ``blocked``)."""
    if status != "blocked":
        return ""
    if not isinstance(blocked_by, str) and not isinstance(unblocker, str):
        return "blocked (details are not published)"
    return f"blocked by {blocked_by}; can unblock: {unblocker}"
