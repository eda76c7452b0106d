"""The audit log in words: its events, roles and details (issue 18: "view_sensitive", "org: None; sso only:
False")."""

from __future__ import annotations

import re

from pipelines.schemas import AUDIT_EVENT_WORDS, ROLE_WORDS

CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")  # view_sensitive, act_member, sso_only ...


def test_audit_log_reads_events_roles_and_details_in_words(admin_page):
    log = admin_page("audit_log").dataframe[0].value
    assert len(log) and set(log["Event"]) <= set(AUDIT_EVENT_WORDS.values()), set(log["Event"])
    assert set(log["Role"]) - {""} <= set(ROLE_WORDS.values()), set(log["Role"])
    details = " | ".join(log["Detail"].astype(str))
    assert not re.search(r"\b(None|True|False|null)\b", details), details
    assert not CODE.search(details), CODE.findall(details)
