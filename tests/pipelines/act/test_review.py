"""The ACT review page's month (pipelines.act.review), from the demo's agenda."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pipelines import views
from pipelines.act.agenda import agenda_for
from pipelines.act.pack import agenda_section
from pipelines.act.review import CATEGORY_ROWS, REPORT_ROWS, first_item, month_review
from pipelines.privacy import operator, read_incidents
from pipelines.settings import DEMO_DIR
from pipelines.store import IncidentQuery

PLANTED = json.loads((DEMO_DIR / "planted.json").read_text())["emerging_hotspot"]
CODE = PLANTED["neighbourhood_code"]
MONTH = pd.Period(max(PLANTED["months"]), "M")


@pytest.fixture(scope="module")
def agenda(demo_store):
    return agenda_for(demo_store, CODE, MONTH, viewer=operator("tests"))


@pytest.fixture(scope="module")
def incidents(demo_store):
    return read_incidents(demo_store, operator("tests"), IncidentQuery(neighbourhood=CODE), audit_view=False)


@pytest.fixture(scope="module")
def review(agenda, incidents):
    cells = agenda.context.hotspots.cells
    return month_review(agenda, incidents, month=MONTH, population=50_000.0, cells=cells)


def test_first_item_finds_an_agendas_item_by_kind(agenda):
    assert first_item(agenda, "counts") is next(i for i in agenda.items if i.kind == "counts")
    assert first_item(agenda, "no such kind") is None


def test_the_review_shows_the_agendas_rows_as_the_pack_does(agenda, review):
    """One rule for "overdue": the review's interventions are the agenda's item, as meeting mode and the pack
    show it."""
    for shown, kind in ((review.interventions, "interventions"), (review.by_category, "counts")):
        expected = agenda_section("", first_item(agenda, kind), agenda)
        pd.testing.assert_frame_equal(shown.table, expected.table)
        assert shown.summary == expected.summary
    assert len(review.category_table) == min(CATEGORY_ROWS, len(review.by_category.table))
    assert review.category_table.index.name == review.by_category.table.columns[0]


def test_the_review_names_the_agendas_hot_spots_and_counts_its_reports(agenda, incidents, review):
    titles = [i.title for i in agenda.items if i.kind == "hotspot" and i.links.get("hotspot_cell")]
    assert list(review.hotspot_titles) == titles and titles  # the planted hot spot is on the agenda
    assert any("New hot spot near" in t for t in titles)  # the name meeting mode gives it
    reports = views.new_community_reports(incidents, month=MONTH)
    assert len(review.reports) == len(reports) > 0
    assert len(review.report_table) == min(REPORT_ROWS, len(reports))
    assert review.kpis == views.profile_kpis(incidents, month=MONTH, population=50_000.0)
    assert set(review.tables()) == {"by_category", "hot_spots", "interventions_needing_attention", "community_reports"}
    assert review.tables()["community_reports"] is review.reports
