"""The Batches page names a batch by its file and local upload time, never its hex id, and its download
line says what the files follow (issue 18: "(f824588a)" in every choice, "with the filters above" on a
page with no filters)."""

from __future__ import annotations

import re

import pytest

from pipelines.settings import STORE_ENV
from tests._helpers import page_as

HEX_ID = re.compile(r"\b[0-9a-f]{8}\b")
WHEN = re.compile(r", \d{4}-\d{2}-\d{2} \d{2}:\d{2}\b")


@pytest.fixture
def app(demo_store, monkeypatch):
    monkeypatch.setenv(STORE_ENV, demo_store.url)
    return lambda page, role: page_as(demo_store, page, role)


def test_batch_choices_name_the_file_and_upload_time_not_an_id(app):
    at = app("batches", "admin")
    choices = [o for box in at.selectbox if box.label == "Batch" for o in box.options]
    assert len(choices) >= 2, choices  # the rejected rows to fix and the batch to delete
    assert not [o for o in choices if HEX_ID.search(o)], choices
    assert all(WHEN.search(o) for o in choices), choices


@pytest.mark.parametrize(
    ("page", "role", "words"),
    [
        pytest.param("batches", "admin", "Download what this page shows (", id="no-filters"),
        pytest.param("data_quality", "planner", "Download what this page shows (", id="no-filters-either"),
        pytest.param("map_explorer", "planner", "with the filters in the sidebar", id="sidebar"),
    ],
)
def test_the_download_line_names_the_filters_where_they_are(app, page, role, words):
    at = app(page, role)
    line = next(c.value for c in at.caption if c.value.startswith("Download what this page shows"))
    assert words in line and "filters above" not in line, line
