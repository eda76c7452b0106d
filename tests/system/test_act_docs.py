"""Everything public in pipelines.act is documented: a docstring, and a mention in docs/act.md."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from pipelines.settings import PROJECT_ROOT

DOC = (PROJECT_ROOT / "docs" / "act.md").read_text()
MODULES = ("finance", "actions", "agenda", "figures", "pack", "review")  # the public rules: pipelines.privacy.public


def _module_names():
    """The modules of ``MODULES``, and the modules inside those that are packages (the agenda's items, the
    pack's sections, HTML and PDF)."""
    for name in MODULES:
        yield name
        module = importlib.import_module(f"pipelines.act.{name}")
        yield from (f"{name}.{part.name}" for part in pkgutil.iter_modules(getattr(module, "__path__", [])))


def test_the_packages_modules_are_read():
    assert {"agenda.context", "agenda.review", "pack.sections", "pack.pdf_doc"} <= set(_module_names())


def _public():
    for name in _module_names():
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
