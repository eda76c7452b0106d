"""AppTest smoke tests for every dashboard page, plus one real interaction each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.settings import STORE_ENV

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard" / "app.py")
PAGES = ["map_explorer", "profile", "act_review", "upload", "registers", "data_quality"]


@pytest.fixture
def app(demo_store, monkeypatch):
    monkeypatch.setenv(STORE_ENV, demo_store.url)

    def run(page: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        if page != "map_explorer":
            at.switch_page(f"pages/{page}.py")
            at.run()
        assert not at.exception, [e.message for e in at.exception]
        return at

    return run


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _map_args(at: AppTest) -> dict:
    components = [el for el in at.get("component_instance")]
    assert len(components) == 1
    return json.loads(components[0].proto.json_args)


@pytest.mark.parametrize("page", PAGES)
def test_page_renders(app, page):
    at = app(page)
    assert at.title[0].value


def test_map_assets_are_local_and_filters_change_counts(app):
    at = app("map_explorer")
    args = _map_args(at)
    links = args["js_links"] + args["css_links"]
    assert links and all(url.startswith("/app/static/vendor/") for url in links), links
    for url in links:  # every link resolves to a committed vendored file
        assert (ROOT / "dashboard" / "static" / url.removeprefix("/app/static/")).is_file(), url
    assert "https://" not in args["script"].replace("https://www.openstreetmap.org", "")
    before = int(_metric(at, "Incidents matching the filters").replace(",", ""))
    at.radio(key="f_source").set_value("Community").run()
    after = int(_metric(at, "Incidents matching the filters").replace(",", ""))
    assert 0 < after < before


def test_profile_kpis_follow_the_neighbourhood(app, demo_store):
    at = app("profile")
    hoods = demo_store.read_areas("neighbourhood").sort_values("name")
    other = hoods["code"].iloc[-1]
    assert at.selectbox(key="f_hood").value != other
    before = _metric(at, "Residents")
    at.selectbox(key="f_hood").set_value(other).run()
    assert not at.exception
    population = hoods.set_index("code")["population"][other]
    assert _metric(at, "Residents") == f"{population:,.0f}" != before
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert figure["data"], "the trend chart has no series"


def test_act_review_month_changes_numbers(app):
    at = app("act_review")
    counts = {}
    for index in range(4):
        at.selectbox(key="act_month").select_index(index).run()
        month = at.selectbox(key="act_month").options[index]
        assert at.title[0].value.endswith(month)
        counts[month] = _metric(at, "Incidents")
    assert len(set(counts.values())) > 1, counts
