"""Who is asking and what they may do: the :class:`Viewer` and the permission table.

Place in the data flow: the first thing the disclosure core (:mod:`pipelines.privacy`) asks. Every
page, CLI command and export names its action here, and every function that returns data takes the
viewer. Nothing else holds a role rule.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from pipelines.errors import AreaSafeError
from pipelines.schemas import ROLE_WORDS, USER_ROLES

#: Roles that receive incident rows (points and free text) of every organisation.
ROW_ROLES = ("planner", "act_member", "analyst", "admin")
#: Roles that receive sensitive rows exactly.
SENSITIVE_ROLES = ("analyst", "admin")
#: Action -> who may do it (``None`` is the public). Pages and core functions both check this table.
PERMISSIONS: dict[str, tuple[str | None, ...]] = {
    "map": (None, *USER_ROLES),
    "profile": (None, *USER_ROLES),
    # A ward's page and its councillor's report: everyone, the public and csos by the public rules.
    "ward": (None, *USER_ROLES),
    "glossary": (None, *USER_ROLES),
    "upload": ("cso", "planner", "analyst", "admin"),
    "batches": ("cso", "planner", "analyst", "admin"),
    "act_review": ("planner", "act_member", "analyst", "admin"),
    "meeting": ("planner", "act_member", "analyst", "admin"),
    "actions": ("planner", "act_member", "analyst", "admin"),
    "registers": ("planner", "act_member", "analyst", "admin"),
    "data_quality": ("planner", "analyst", "admin"),
    "map_terms": ("analyst", "admin"),
    # Crude (unsmoothed) rates per area, as official reports quote them: for the roles that reconcile with
    # those reports. Everyone else sees the smoothed rate only, so a handful of incidents in a small area
    # never tops their map.
    "crude_rates": ("planner", "analyst", "admin"),
    # The statistics behind the map's words (H3 ids, Gi* bins, z-scores, emerging categories).
    "statistics": ("analyst", "admin"),
    "export": ("analyst", "admin"),
    "users": ("admin",),
    "audit": ("admin",),
    "delete_batch": ("admin",),
}


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
        if self.role is not None and self.role not in USER_ROLES:
            raise AccessDenied(f"role must be one of {', '.join(USER_ROLES)}; got {self.role!r}")
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
        return f"{self.username} ({ROLE_WORDS[self.role]}{', ' + self.org if self.org else ''})"

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
