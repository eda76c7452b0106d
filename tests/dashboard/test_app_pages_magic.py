"""No page prints a value by accident: Streamlit's "magic" writes the value of every bare expression, so
``st.table(x) if cond else st.caption(y)`` printed a DeltaGenerator's documentation onto the ACT review."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pipelines.settings import PROJECT_ROOT
from tests._helpers import page_as

SOURCES = sorted([PROJECT_ROOT / "dashboard" / "app.py", *(PROJECT_ROOT / "dashboard" / "app_pages").glob("*.py")])


def _bare_values(path: Path) -> list[int]:
    """Lines of statements that are an expression whose value magic would write (not a call or docstring)."""
    tree = ast.parse(path.read_text())
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Call | ast.Await | ast.Yield | ast.YieldFrom):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                continue  # docstrings
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("path", SOURCES, ids=[p.stem for p in SOURCES])
def test_pages_hold_no_bare_expression(path):
    assert not _bare_values(path), f"{path.name}: bare expressions on lines {_bare_values(path)}; use an if statement"


def test_the_act_review_prints_no_api_documentation(demo_store, monkeypatch):
    from pipelines.settings import STORE_ENV

    monkeypatch.setenv(STORE_ENV, demo_store.url)
    at = page_as(demo_store, "act_review", "act_member")
    text = "\n".join(str(el.proto) for el in at.markdown) + "\n".join(str(el.proto) for el in at.get("help"))
    assert "DeltaGenerator" not in text


def test_pages_use_no_deprecated_width_argument():
    """``use_container_width`` logged a deprecation warning per element and run (363 per session); only
    streamlit-folium's ``st_folium`` still takes it."""
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and any(k.arg == "use_container_width" for k in node.keywords):
                assert getattr(node.func, "id", None) == "st_folium", f"{path.name}:{node.lineno}"


def test_page_headings_name_what_they_show(demo_store, monkeypatch):
    from pipelines.settings import STORE_ENV

    monkeypatch.setenv(STORE_ENV, demo_store.url)
    assert page_as(demo_store, "profile", None).title[0].value == "Safe Neighbourhood profile: Harare Holomisa"
    labels = {w.label for w in page_as(demo_store, "registers", "planner").selectbox}
    assert "ABCD asset category" in labels and "Abcd category" not in labels


def test_rejected_rows_are_plotted_per_month(demo_store, monkeypatch):
    """One bar per month labelled 'Dec 2026', not a bar at 00:00:00 on a time axis (issue 18). A date axis
    with a month tick format still drew one wide bar with no date when every rejection fell in one month:
    the months are categories, each named."""
    import json
    import re

    from pipelines.settings import STORE_ENV

    monkeypatch.setenv(STORE_ENV, demo_store.url)
    at = page_as(demo_store, "data_quality", "planner")
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert figure["layout"]["xaxis"]["type"] == "category"
    months = {x for trace in figure["data"] for x in trace["x"]}
    assert months and all(re.fullmatch(r"[A-Z][a-z]{2} \d{4}", month) for month in months), months
