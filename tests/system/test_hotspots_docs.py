"""Everything public in pipelines.hotspots is documented: a docstring, and a mention in docs/hotspots.md."""

from __future__ import annotations

import inspect

import pytest

import pipelines.hotspots as hotspots
from pipelines.settings import PROJECT_ROOT

DOC = (PROJECT_ROOT / "docs" / "hotspots.md").read_text()
PUBLIC = [name for name in hotspots.__all__ if callable(getattr(hotspots, name))]


@pytest.mark.parametrize("name", PUBLIC)
def test_public_names_have_docstrings(name):
    assert inspect.getdoc(getattr(hotspots, name)), f"{name} has no docstring"


@pytest.mark.parametrize("name", PUBLIC)
def test_public_names_are_in_the_docs(name):
    assert f"`{name}" in DOC or f"{name}(" in DOC, f"{name} is not mentioned in docs/hotspots.md"


def test_every_emerging_category_is_documented():
    for category in hotspots.EMERGING_CATEGORIES:
        assert f"`{category}`" in DOC, category
