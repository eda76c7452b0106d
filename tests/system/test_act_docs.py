"""Everything public in pipelines.act is documented: a docstring, and a mention in docs/act.md."""

from __future__ import annotations

import importlib
import inspect

import pytest

from pipelines.settings import PROJECT_ROOT

DOC = (PROJECT_ROOT / "docs" / "act.md").read_text()
MODULES = ("finance", "actions", "agenda", "figures", "pack")  # the public rules: pipelines.privacy.public


def _public():
    for name in MODULES:
        module = importlib.import_module(f"pipelines.act.{name}")
        assert inspect.getdoc(module), f"pipelines.act.{name} has no module docstring"
        for attr, value in vars(module).items():
            if attr.startswith("_") or not (inspect.isfunction(value) or inspect.isclass(value)):
                continue
            if value.__module__ == module.__name__:
                yield pytest.param(value, id=f"{name}.{attr}")


@pytest.mark.parametrize("value", list(_public()))
def test_public_names_are_documented(value):
    assert inspect.getdoc(value), f"{value.__qualname__} has no docstring"
    assert f"`{value.__name__}" in DOC, f"{value.__name__} is not mentioned in docs/act.md"
