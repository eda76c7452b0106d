"""The data-quality page speaks to a planner in words: months, reasons, warnings, files, headers and
sources, never codes, hex batch ids or a chart's default "value" and "variable" (issue 18)."""

from __future__ import annotations

import json
import re

import pytest

from pipelines.settings import STORE_ENV
from tests._helpers import page_as

CODE = re.compile(r"^[a-z]+(_[a-z]+)+$")  # missing_location, redacted_pii, raw_category ...


@pytest.fixture
def page(demo_store, monkeypatch):
    monkeypatch.setenv(STORE_ENV, demo_store.url)
    return page_as(demo_store, "data_quality", "planner")


def _charts(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _table(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_rejected_rows_name_their_month_and_reason_in_words(page):
    """The demo's rejections all came in one upload: the chart drew one wide bar at a time, no date on its
    axis, and a legend of reason codes."""
    rejected = _charts(page)[0]
    assert rejected["layout"]["xaxis"]["type"] == "category"
    months = {x for trace in rejected["data"] for x in trace["x"]}
    assert months and all(re.fullmatch(r"[A-Z][a-z]{2} \d{4}", m) for m in months), months
    reasons = [trace["name"] for trace in rejected["data"]]
    assert reasons and not [r for r in reasons if CODE.match(r)], reasons


def test_coverage_chart_is_labelled_in_words(page):
    coverage = _charts(page)[-1]
    assert coverage["layout"]["yaxis"]["title"]["text"] == "Incidents"
    assert coverage["layout"]["legend"]["title"]["text"] == "Source"
    assert {trace["name"] for trace in coverage["data"]} == {"Municipal", "Community"}
    assert coverage["layout"]["xaxis"]["type"] == "category"


def test_warnings_name_the_file_and_upload_time_not_a_batch_id(page):
    warnings = _table(page, "Warning")
    assert list(warnings.columns) == ["File", "Uploaded", "Warning", "Rows"]
    text = warnings.astype(str).to_string()
    assert not re.search(r"\b[0-9a-f]{8}\b", text), text
    assert len(warnings) and not [w for w in warnings["Warning"] if CODE.match(w)], list(warnings["Warning"])


def test_area_and_term_tables_have_headers_in_words(page):
    headers = [c for d in page.dataframe for c in d.value.columns]
    assert {"Source", "Organisation", "Incidents", "Term", "Category as reported"} <= set(headers), headers
    assert not [h for h in headers if h[:1].islower()], headers
