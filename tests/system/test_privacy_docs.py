"""docs/privacy.md and the README state the rules the code applies: the numbers must match the settings."""

from __future__ import annotations

from pipelines.privacy import PERMISSIONS
from pipelines.schemas import AUDIT_EVENTS, USER_ROLES
from pipelines.settings import PROJECT_ROOT, SETTINGS

DOC = (PROJECT_ROOT / "docs" / "privacy.md").read_text()
README = (PROJECT_ROOT / "README.md").read_text()


def test_privacy_doc_matches_the_settings():
    s = SETTINGS
    for fact in (
        f"`min_households_per_cell` ({s.min_households_per_cell})",
        f"`persons_per_household` ({s.persons_per_household}",
        f"`max_failed_logins` ({s.max_failed_logins})",
        f"`lockout_seconds` ({s.lockout_seconds} s)",
        f"`max_lockout_seconds` ({s.max_lockout_seconds // 60} min)",
        f"`session_idle_minutes` ({s.session_idle_minutes})",
        f"`session_absolute_hours` ({s.session_absolute_hours})",
        f"`min_password_length` ({s.min_password_length})",
        f"`max_upload_bytes` ({s.max_upload_bytes // 1024**2} MB)",
        f"`max_upload_rows` ({s.max_upload_rows:,})",
        f"`generalise_resolutions` ({', '.join(map(str, s.generalise_resolutions))};",
        f"1-{s.min_published_count - 1} are shown as `<{s.min_published_count}`",
    ):
        assert fact in DOC, fact


def test_privacy_doc_names_every_role_event_and_action():
    for name in (*USER_ROLES, *AUDIT_EVENTS):
        assert f"`{name}`" in DOC, name
    assert "PERMISSIONS" in DOC and set(PERMISSIONS) >= {"users", "audit", "delete_batch"}


def test_readme_has_the_privacy_section():
    section = README.split("## Privacy and security", 1)[1].split("\n## ", 1)[0]
    for must in ("TLS", "secrets", "backups", "--public", "areasafe users add", "docs/privacy.md"):
        assert must in section, must
    assert "areasafe users add admin --role admin --password-stdin" in README


def test_privacy_doc_names_every_module_of_the_disclosure_core():
    modules = sorted(p.stem for p in (PROJECT_ROOT / "pipelines" / "privacy").glob("*.py") if p.stem != "__init__")
    assert modules, "pipelines/privacy has no modules"
    for stem in modules:
        assert f"`privacy.{stem}`" in DOC, f"docs/privacy.md does not say what pipelines/privacy/{stem}.py rules"
