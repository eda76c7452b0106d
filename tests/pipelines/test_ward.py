"""The ward view (pipelines.ward), its disclosure rule (pipelines.privacy.wards) and the ward page, on the demo
store with the real Cape Town wards."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from pipelines import privacy
from pipelines.privacy.wards import differencing_leaks, publish_ward_counts
from pipelines.settings import STORE_ENV
from pipelines.ward import ward_view
from tests._helpers import page_as

MONTH = "2026-10"
WARD = "98"  # holds the planted emerging hot spot (data/demo/planted.json) and Harare's ACT actions
ROLES = [None, "cso", "act_member", "planner", "analyst", "admin"]


# -- differencing: a ward count must not give a small number away against the map's areas ----------------
@pytest.mark.parametrize(
    ("extra", "leaks"),
    [
        pytest.param(2, True, id="ward-is-area-plus-2"),
        pytest.param(5, False, id="ward-is-area-plus-5"),
        pytest.param(0, False, id="ward-is-the-area"),
    ],
)
def test_a_ward_count_that_differs_from_an_area_by_a_few_is_caught(extra, leaks):
    # 40 incidents in neighbourhood N, all in ward W; `extra` more in W outside N.
    hood = np.array(["N"] * 40 + [None] * extra, dtype=object)
    in_ward = np.ones(40 + extra, dtype=bool)
    assert differencing_leaks(in_ward, {"neighbourhood": hood}, threshold=5) is leaks
    assert differencing_leaks(in_ward, {"neighbourhood": hood}, threshold=0) is False  # exact viewers


def test_published_ward_counts_withhold_a_count_that_would_give_a_few_away():
    # W1 = neighbourhood N (40) plus 3 outside it; W2 holds 30 elsewhere (in M). Exact: 43 and 30.
    rows = pd.DataFrame({"neighbourhood_code": ["N"] * 40 + [None] * 3 + ["M"] * 30, "precinct_code": None})
    wards = np.array(["W1"] * 43 + ["W2"] * 30, dtype=object)
    exact = publish_ward_counts(rows, wards, ["W1", "W2"], threshold=0)
    assert exact["shown"].tolist() == ["43", "30"]
    public = publish_ward_counts(rows, wards, ["W1", "W2"], threshold=5)
    # W1 is withheld; W2 too (the total would give W1 back), and nothing else is shown.
    assert public["shown"].tolist() == ["withheld", "withheld"] and public["count"].isna().all()


# -- the view on the demo ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def views(demo_store):
    return {
        "public": ward_view(demo_store, WARD, MONTH, viewer=privacy.PUBLIC),
        "analyst": ward_view(demo_store, WARD, MONTH, viewer=privacy.Viewer("a", "analyst")),
    }


def test_the_view_has_what_a_councillor_asks_for(views):
    view = views["analyst"]
    assert view.title == "Ward 98: October 2026" and view.version == "City of Cape Town wards, 2021 demarcation"
    assert "in proportion to area" in view.method and view.method.endswith("2021 demarcation.")
    assert len(view.trend) == 12 and view.trend["Month"].iloc[-1] == "Oct 2026"
    # The planted hot spot (Aug-Oct 2026) is in ward 98: its rate is far above the whole area's.
    assert float(view.headline["rate"]) > 2 * float(view.headline["city_rate"])
    assert "New hot spot" in set(view.hotspots["Kind of hot spot"])
    assert set(view.interventions["Status"]) >= {"stalled", "planned"}  # status in words, not codes
    assert view.interventions["Budget"].str.startswith("R ").all()
    assert len(view.actions) == 5 and view.actions["Due"].str.contains("overdue").sum() == 3
    assert view.actions["Due"].str.contains("overdue").tolist()[:3] == [True] * 3  # overdue first, by date
    assert view.actions["Due"].iloc[0] == "31 Aug 2026 (overdue)"
    assert list(view.precincts["Police precinct"]) == ["Lingelethu-West", "Harare"]  # largest share first
    assert view.saps["SAPS year (April to March)"].tolist() == ["2013/14", "2014/15", "2015/16"]


def test_the_public_view_shows_nothing_the_public_map_does_not(views, demo_store):
    public, exact = views["public"], views["analyst"]
    assert public.public and not exact.public
    # Hot spots are those of the public map (none at the public's scale in these neighbourhoods), not the
    # analyst's ward-wide analysis.
    assert len(public.hotspots) == 0 and len(exact.hotspots) > 0
    assert any("as the public map shows them" in note for note in public.notes)
    names = set(demo_store.read_table("actions")["owner_person"].dropna())
    shown = " ".join(public.actions.astype(str).to_numpy().ravel())
    assert not any(name in shown for name in names)
    assert any(name in " ".join(exact.actions.astype(str).to_numpy().ravel()) for name in names)
    categories = set(public.reports["Category"])
    assert "Child abuse" not in categories and "Gender-based violence" not in categories
    for column in ("Incidents in the ward",):
        for value in public.trend[column]:
            assert value in ("withheld", "<5", "0") or int(value.replace(",", "")) >= 5
    for value in public.reports["Community reports"]:
        assert value in ("withheld", "<5") or int(value) >= 5
    assert (exact.reports["Community reports"].astype(int) < 5).any()  # the analyst sees the small counts


def test_the_page_offers_the_wards_in_code_order_starting_on_the_busiest(demo_store):
    from pipelines import crosswalk
    from pipelines.ward import busiest_ward, ward_choices

    assert crosswalk.version_names(demo_store) == ["City of Cape Town wards, 2021 demarcation"]
    wards, label = crosswalk.ward_areas(demo_store)
    choices = ward_choices(demo_store, label)
    assert choices.codes == sorted(wards["code"]) and len(choices.codes) == len(wards)
    assert choices.names == dict(zip(wards["code"], wards["name"], strict=True))
    assert choices.codes[choices.first] == busiest_ward(demo_store, wards, label)
    assert ward_choices(demo_store, "2021") == choices  # the version by its year, as the CLI takes it


def test_the_trend_chart_has_the_ward_and_the_whole_area_month_by_month(views):
    from pipelines.ward import trend_lines

    view = views["analyst"]
    lines = trend_lines(view)
    series = view.trend_series
    assert len(lines) == 2 * len(series) and set(lines["where"]) == {view.name, "Whole area"}
    ward_line = lines[lines["where"] == view.name]
    assert list(ward_line["month"]) == [m.start_time for m in series["month"]]
    assert ward_line["rate"].tolist() == series["ward"].tolist()
    assert lines.loc[lines["where"] == "Whole area", "rate"].tolist() == series["city"].tolist()


def test_no_viewer_may_open_a_ward_without_the_permission():
    assert privacy.PUBLIC.may("ward") and all(privacy.Viewer("x", r, "o").may("ward") for r in ROLES[1:])


# -- the page, for every role --------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_the_ward_page_for_each_role(demo_store, monkeypatch, role):
    monkeypatch.setenv(STORE_ENV, demo_store.url)
    account = {"org": "Khayelitsha Community Safety Forum (simulated survey)"} if role == "cso" else {}
    at = page_as(demo_store, "ward", role, timeout=120, **account)
    assert at.title[0].value == "Ward view"
    at.selectbox(key="ward_code").set_value("2021-098")
    at.selectbox(key="ward_month").set_value(pd.Period(MONTH, freq="M"))
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.header[0].value == "Ward 98: October 2026"
    captions = " ".join(c.value for c in at.caption)
    assert "City of Cape Town wards, 2021 demarcation" in captions and "**Shared out to the ward**" in captions
    assert ("public rules" in captions) is (role in (None, "cso"))
    text = " ".join(str(df.value.to_numpy().ravel()) for df in at.dataframe)
    for word in ("neighbourhood_code", "batch_id", "gi_z", "PD199", "in_progress"):  # no internal names or codes
        assert word not in text
    assert not re.search(r"\b8[0-9a-f]{14}\b", text)  # no H3 cell ids
