"""pipelines.settings: one override reaches every module, because modules read settings when used."""

from __future__ import annotations

import ast

import pytest

from pipelines import auth, settings
from pipelines.errors import AreaSafeError
from pipelines.privacy import suppress
from pipelines.settings import PROJECT_ROOT
from pipelines.sources import limits


def test_one_override_reaches_modules_that_bound_settings_at_import():
    """Each of these modules did ``from pipelines.settings import SETTINGS`` (auth.check_password even
    took it as a default argument), so a test had to patch each one separately."""
    with settings.override(max_upload_bytes=100, min_password_length=20, min_published_count=10) as changed:
        assert changed is settings.SETTINGS and changed.max_upload_bytes == 100
        with pytest.raises(AreaSafeError, match="Size limit: a.csv"):
            limits.check_size("a.csv", 101)
        with pytest.raises(auth.AuthError, match="use at least 20"):
            auth.check_password("fifteen letters")
        assert suppress.suppress([7, 12, 30], secondary=False)["shown"].tolist() == ["<10", "12", "30"]
    limits.check_size("a.csv", 101)
    auth.check_password("fifteen letters")
    assert suppress.suppress([7, 12, 30], secondary=False)["shown"].tolist() == ["7", "12", "30"]


def test_override_restores_after_an_error_and_names_an_unknown_field():
    before = settings.SETTINGS
    with pytest.raises(RuntimeError), settings.override(chunk_rows=2):
        raise RuntimeError
    assert settings.SETTINGS is before
    with pytest.raises(TypeError, match="no field chunk_size"), settings.override(chunk_size=2):
        pass
    assert settings.SETTINGS is before


def _binds_settings_by_value(path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module == "pipelines.settings":
            found += [f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}" for a in node.names if a.name == "SETTINGS"]
    return found


def test_no_module_binds_the_settings_at_import():
    """``from pipelines.settings import SETTINGS`` keeps the object of import time, so an override misses it."""
    paths = [p for folder in ("pipelines", "dashboard") for p in sorted((PROJECT_ROOT / folder).rglob("*.py"))]
    assert len(paths) > 50
    assert [hit for path in paths for hit in _binds_settings_by_value(path)] == []
