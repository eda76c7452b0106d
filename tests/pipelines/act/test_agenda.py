"""The agenda built from the real demo store, and its parts on hand-built frames (pipelines.act.agenda)."""

from __future__ import annotations

import csv
import datetime as dt
import json

import h3
import numpy as np
import pandas as pd
import pytest

from pipelines.act.agenda import (
    AgendaError,
    action_review,
    build_agenda,
    count_changes,
    intervention_review,
    load_meeting,
)
from pipelines.hotspots import UnknownNeighbourhoodError
from pipelines.periods import BadMonthError
from pipelines.privacy import operator
from pipelines.settings import DEMO_DIR

PLANTED = json.loads((DEMO_DIR / "planted.json").read_text())["emerging_hotspot"]
CODE = PLANTED["neighbourhood_code"]
LAST_MONTH = max(PLANTED["months"])  # the last demo month


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A demo store of this module's own (other tests write to the shared one)."""
    from pipelines.demo import build_demo
    from pipelines.store import open_store

    built = open_store(tmp_path_factory.mktemp("act") / "demo.gpkg")
    build_demo(built)
    yield built
    built.close()


@pytest.fixture(scope="module")
def context(store):
    return load_meeting(store, CODE, LAST_MONTH, viewer=operator())


@pytest.fixture(scope="module")
def agenda(context):
    return build_agenda(context)


def _expected_overdue(as_of: dt.date) -> set[str]:
    """Overdue actions read straight from the demo file: the latest version of each, open or blocked, due before."""
    latest = {}
    with (DEMO_DIR / "actions.csv").open() as f:
        for row in csv.DictReader(f):
            latest[row["action_id"]] = row  # rows are oldest first
    return {
        a
        for a, r in latest.items()
        if r["neighbourhood_code"] == CODE and r["status"] in ("open", "blocked") and r["due"] < as_of.isoformat()
    }


def test_the_meeting_is_dated_and_follows_the_last_one(context):
    assert str(context.month) == LAST_MONTH
    assert context.as_of == dt.date(2026, 10, 31)  # no October meeting stored: the last day of the month
    assert context.since == dt.date(2026, 9, 24)  # the September meeting
    assert context.meeting_id == f"{CODE}-{LAST_MONTH}"


def test_agenda_lists_the_overdue_actions_first(agenda, context):
    assert agenda.items[0].key == "actions"
    table = agenda.items[0].table
    expected = _expected_overdue(context.as_of)
    assert len(expected) == 3
    late = table["overdue_days"].notna()
    assert set(table.loc[late, "action"]) == expected
    assert late.iloc[: len(expected)].all() and not late.iloc[len(expected) :].any()  # overdue first
    assert table.loc[late, "overdue_days"].is_monotonic_decreasing  # the longest overdue first
    blocked = table[table["status"] == "blocked"].iloc[0]
    assert "Eskom" in blocked["bottleneck"] and "cable" in blocked["bottleneck"].lower()
    assert "3 overdue on the meeting day (" in agenda.items[0].summary  # not against today: the register says so
    closed = table[~table["status"].isin(["open", "blocked"])]
    assert closed["status"].tolist() == ["done since last meeting"]


def test_agenda_lists_the_planted_emerging_hotspot(agenda, context):
    hotspots = [item for item in agenda.items if item.kind == "hotspot"]
    assert len(hotspots) == 1 and len(agenda.hotspot_groups) == 1
    group = agenda.hotspot_groups.iloc[0]
    resolution = context.hotspots.grid.spec.resolution
    centre = h3.latlng_to_cell(PLANTED["lat"], PLANTED["lon"], resolution)
    assert centre in group["cells"]
    assert group["trend"] in ("new_hot", "consecutive_hot", "intensifying_hot")
    assert str(group["hot_since"]) == min(PLANTED["months"])  # planted from August
    assert group["incidents"] >= sum(PLANTED["incidents_per_month"].values())
    lat, lon = h3.cell_to_latlng(hotspots[0].links["hotspot_cell"])
    distance = np.hypot((lat - PLANTED["lat"]) * 111_320, (lon - PLANTED["lon"]) * 92_000)
    assert distance < PLANTED["radius_m"] + 100
    answers = dict(zip(hotspots[0].table["question"], hotspots[0].table["answer"], strict=True))
    assert answers["Nearest assets (partners)"].count(" m)") >= 3
    assert answers["Covered by an intervention?"] == "Yes: Ncumo open field public space upgrade (planned)"
    assert answers["Stalled projects nearby"] == "Ncumo Road street lighting upgrade"
    assert "2026-08-A01 (open)" in answers["Actions already on it"]  # the SAPS patrol action


def test_interventions_that_changed_or_went_stale(agenda):
    table = agenda.item("interventions").table.set_index("intervention")
    assert table.loc["Ncumo Road street lighting upgrade", "flags"].startswith("status changed")
    assert table.loc["Ncumo Road street lighting upgrade", "news"].startswith("in progress -> stalled on 2026-10-08")
    assert table.loc["Harare Square active box", "flags"] == "stale"
    assert table.loc["Harare Square active box", "weeks"] == 20
    assert table.loc["Ncumo open field public space upgrade", "flags"] == "updated"


def test_stale_weeks_is_a_parameter(context):
    table = build_agenda(context, stale_weeks=30).item("interventions").table
    assert "Harare Square active box" not in set(table["intervention"])
    with pytest.raises(AgendaError, match="stale_weeks must be a whole number of at least 1; got 0"):
        build_agenda(context, stale_weeks=0)


def test_community_reports_since_the_last_meeting(agenda, context):
    table = agenda.item("reports").table
    incidents = context.incidents
    day = incidents["occurred_at"].dt.tz_convert("Africa/Johannesburg").dt.date
    expected = (incidents["source"] == "community") & (day > dt.date(2026, 9, 24)) & (day <= dt.date(2026, 10, 31))
    assert len(table) == expected.sum() > 0
    assert table["date"].min() > "2026-09-24" and table["date"].max() <= "2026-10-31"
    assert (table["in_hotspot"] == "H1").any()


def test_count_changes_and_budget_items_are_on_the_agenda(agenda):
    keys = [item.key for item in agenda.items]
    assert keys[:2] == ["actions", "interventions"] and keys[-3:] == ["counts", "reports", "budget"]
    counts = agenda.item("counts").table.set_index("category")
    assert counts.loc["All incidents", "reading"] == "up"
    assert "Sensitive" not in " ".join(counts.index)
    deadlines = agenda.item("budget").table
    assert {"municipal", "provincial"} <= set(deadlines["sphere"])
    assert "2027-02-28" in set(deadlines["date"])


def test_count_changes_reads_small_numbers_honestly():
    months = ["2026-07"] * 10 + ["2026-08"] * 10 + ["2026-09"] * 10 + ["2026-10"] * 30
    months += ["2026-07", "2026-09", "2026-10", "2026-10", "2026-10", "2026-10"]
    categories = ["robbery"] * 60 + ["arson"] * 6
    incidents = pd.DataFrame(
        {
            "occurred_at": pd.to_datetime([f"{m}-15 12:00" for m in months]).tz_localize("UTC"),
            "category": categories,
        }
    )
    table = count_changes(incidents, month=pd.Period("2026-10", freq="M")).set_index("category")
    assert table.loc["All incidents", ["this_month", "baseline_mean", "reading"]].tolist() == [34, 10.7, "up"]
    robbery = [c for c in table.index if c != "All incidents" and table.loc[c, "this_month"] == 30][0]
    assert table.loc[robbery, "reading"] == "up" and table.loc[robbery, "p"] < 0.001
    arson = [c for c in table.index if table.loc[c, "this_month"] == 4][0]
    assert table.loc[arson, "reading"] == "too few reports to tell"  # 4 after 2 in three months is not a trend


def test_action_review_orders_by_overdue_then_blocked_then_due():
    actions = pd.DataFrame(
        {
            "action_id": ["a", "b", "c", "d", "e", "f"],
            "meeting_id": ["M-2026-09"] * 5 + ["M-2026-10"],
            "decision": list("ABCDEF"),
            "owner_org": ["Org"] * 6,
            "owner_person": [None, "P", None, None, None, None],
            "due": ["2026-12-01", "2026-10-01", "2026-09-01", "2026-12-31", "2026-11-01", "2026-10-01"],
            "status": ["open", "open", "blocked", "blocked", "done", "open"],
            "blocked_by": [None, None, "x", "y", None, None],
            "unblocker": [None, None, "X", "Y", None, None],
            "updated_at": pd.to_datetime(["2026-09-01"] * 4 + ["2026-10-10", "2026-10-31"], utc=True),
        }
    )
    table = action_review(actions, this_meeting="M-2026-10", as_of=dt.date(2026, 10, 31), since=dt.date(2026, 9, 24))
    assert table["action"].tolist() == ["c", "b", "d", "a", "e"]  # f is from this meeting
    assert table["overdue_days"].tolist()[:2] == [60, 30]
    assert table["owner"].tolist()[1] == "Org (P)"
    assert table["bottleneck"].iloc[0] == "blocked by x; can unblock: X"


def test_intervention_review_ignores_the_future_and_spares_complete_work():
    interventions = pd.DataFrame(
        {
            "intervention_id": ["I1", "I2", "I3"],
            "name": ["Lights", "Walkway", "Box"],
            "lead": ["E", "U", "S"],
            "status": ["stalled", "complete", "in_progress"],
            "end": ["2027-01-01", "2025-01-01", "2026-06-30"],
        }
    )
    log = pd.DataFrame(
        {
            "intervention_id": ["I1", "I1", "I2", "I3", "I3"],
            "status": ["in_progress", "stalled", "complete", "in_progress", "stalled"],
            "changed_at": pd.to_datetime(
                ["2026-01-01", "2026-10-05", "2025-01-01", "2026-10-20", "2026-11-15"], utc=True
            ),
            "note": [None, "theft", None, "on site", "after the meeting"],
        }
    )
    table = intervention_review(
        interventions, log, as_of=dt.date(2026, 10, 31), since=dt.date(2026, 9, 30), stale_weeks=8
    ).set_index("intervention")
    assert table.loc["Lights", "flags"] == "status changed, stalled"
    assert table.loc["Lights", "news"] == "in progress -> stalled on 2026-10-05: theft"
    assert "Walkway" not in table.index  # complete: never stale, never overdue
    assert table.loc["Box", "flags"] == "updated, overdue"  # the 15 November entry had not happened yet
    assert table.loc["Box", "status"] == "in progress"


@pytest.mark.parametrize(
    ("status", "end", "changed", "expected"),
    [
        pytest.param("in_progress", "2025-01-31", None, "stale, overdue", id="overdue"),
        pytest.param("planned", "2025-01-31", None, "stale, overdue", id="planned-overdue"),
        pytest.param("stalled", "2025-01-31", None, "stale, stalled, overdue", id="stalled-overdue"),
        pytest.param("maintenance", "2025-01-31", None, "stale", id="maintenance-not-overdue"),
        pytest.param("complete", "2025-01-31", None, None, id="complete-not-overdue"),
        pytest.param("in_progress", "2026-01-31", "2025-04-10", "updated", id="updated"),
        pytest.param("in_progress", "2026-01-31", "2025-02-10", "stale", id="updated-earlier"),
    ],
)
def test_intervention_review_flags(status, end, changed, expected):
    """Overdue is work still being delivered (planned, in progress, stalled) past its end date; maintenance
    is delivered work kept up, so its end date passing is no news (docs/act.md). The ACT review page and
    meeting mode both show this function's rows."""
    interventions = pd.DataFrame(
        {"intervention_id": ["I1"], "name": ["Lights"], "lead": ["Electricity"], "status": [status], "end": [end]}
    )
    log = pd.DataFrame(
        {
            "intervention_id": ["I1"] if changed else [],
            "changed_at": pd.to_datetime([changed] if changed else [], utc=True),
            "note": ["n"] if changed else [],
            "status": [status] if changed else [],
        }
    )
    table = intervention_review(interventions, log, as_of=dt.date(2025, 4, 20), since=dt.date(2025, 3, 31))
    assert (table["flags"].iloc[0] if len(table) else None) == expected


def test_public_agenda_has_no_people_no_free_text_and_no_small_counts(context):
    agenda = build_agenda(context, public=True)
    text = " ".join([item.summary for item in agenda.items] + [item.table.to_csv() for item in agenda.items])
    for secret in ("T. Mahlangu", "N. Dlamini", "Eskom", "Cable stolen", "Amatsotsi", "Community Safety Forum"):
        assert secret not in text, secret
    reports = agenda.item("reports").table
    assert list(reports.columns) == ["category", "reports"]
    counts = agenda.item("counts").table
    small = counts[counts["this_month"] == "<5"]
    assert len(small) and (small["change"] == "").all() and (small["reading"] == "").all()
    assert "p" not in counts.columns  # the meeting reads words; the p-value stays with count_changes
    assert not counts["this_month"].isin(["1", "2", "3", "4"]).any()


def test_every_demo_neighbourhood_and_an_empty_month_get_an_agenda(store):
    codes = sorted(store.read_areas("neighbourhood")["code"])
    for code in codes:  # some have no interventions, actions, meetings or hot spots
        agenda = build_agenda(load_meeting(store, code, LAST_MONTH, viewer=operator()))
        assert [i.key for i in agenda.items][:2] == ["actions", "interventions"], code
    future = build_agenda(load_meeting(store, CODE, "2030-01", viewer=operator()))
    assert future.item("counts").summary.startswith("0 incidents in January 2030")
    # no report in the window: "not enough reports to look", never "no hot spot" (a finding it cannot support)
    assert future.item("hotspot-none").summary.startswith("Not enough reports in Harare Holomisa")
    table = future.item("actions").table
    still_open = table["status"].isin(["open", "blocked"])
    assert still_open.sum() == 5 and table.loc[still_open, "overdue_days"].notna().all()  # all overdue by 2030


def test_agenda_errors_name_the_argument(store):
    with pytest.raises(UnknownNeighbourhoodError, match=r"Unknown neighbourhood 'NOPE' for --neighbourhood; known"):
        load_meeting(store, "NOPE", LAST_MONTH, viewer=operator())
    with pytest.raises(BadMonthError, match=r"--month must be a month written YYYY-MM, e.g. 2026-10; got '2026/10'"):
        load_meeting(store, CODE, "2026/10", viewer=operator())


def test_counts_summary_says_which_baseline_it_compares_with(agenda):
    """ "114 against 66 a month before" read as last month; 66 was the 3-month mean (issue 17, item 8)."""
    item = agenda.item("counts")
    total = item.table.iloc[0]
    assert f"against an average of {total['baseline_mean']:g} a month over the 3 months before" in item.summary
    assert f"({total['previous_month']} in " in item.summary
    assert "never before" not in " ".join(i.summary for i in agenda.items)


@pytest.mark.parametrize(
    ("n", "noun", "expected"),
    [
        pytest.param(1, "action", "1 action", id="one"),
        pytest.param(5, "open action", "5 open actions", id="many"),
        pytest.param(0, "intervention", "0 interventions", id="none"),
        pytest.param(np.int64(1234), "incident", "1,234 incidents", id="thousands"),
        pytest.param("<5", "community report", "<5 community reports", id="suppressed-is-plural"),
        pytest.param("1", "incident", "1 incident", id="written-one"),
        pytest.param(2, "person", "2 people", id="irregular"),
    ],
)
def test_counted_says_one_or_many_in_words(n, noun, expected):
    from pipelines.plural import counted

    assert counted(n, noun, plural="people" if noun == "person" else None) == expected


def test_agenda_summaries_say_real_plurals_and_hexagons_not_cells(agenda):
    """ "5 open action(s)", "258 incident(s) in 9 cell(s)": hedged plurals and a word ACT members do not use
    (issue 18's screenshot review). A hot spot's size is said as the map's hexagon record says it."""
    from pipelines import hexes
    from pipelines.act.pack.sections import annexes

    summaries = [item.summary for item in agenda.items] + [s.summary for s in annexes(agenda, {})]
    assert not [s for s in summaries if "(s)" in s]
    assert not [s for s in summaries if " cell" in s]
    hot = next(i for i in agenda.items if i.kind == "hotspot" and i.key != "hotspot-none")
    size = hexes.across_words(h3.get_resolution(hot.links["hotspot_cell"]))
    assert f"hexagons of the map ({size})" in hot.summary or f"1 hexagon of the map ({size})" in hot.summary
    assert " open actions from earlier meetings" in agenda.item("actions").summary


def test_budget_deadlines_name_items_by_their_short_id_as_item_1_does(agenda):
    """The budget item's Source read "action KHA-HARARE-HOLOMISA-2026-09-A01" and "intervention I-42c5...",
    where item 1 says "2026-06-A01" (issue 18's screenshot review): one short form, in the pack and meeting
    mode alike."""
    from pipelines.act.figures import intervention_labels
    from pipelines.act.pack import agenda_section, short_action_id

    budget = agenda.item("budget")
    items = agenda.budget_items.set_index("id")["kind"]
    labels = intervention_labels(agenda.context.neighbourhood_interventions)
    expected = {f"{kind} {i}": f"{kind} {labels.get(i) or short_action_id(i, CODE)}" for i, kind in items.items()}
    sources = budget.table["source"]
    assert sources.str.startswith(f"action {CODE}-").any()  # the agenda keeps the full id
    shown = agenda_section("6", budget, agenda).table.iloc[:, -1]
    assert list(shown) == [expected.get(s, s) for s in sources]
    assert not shown.str.contains(CODE).any() and not shown.str.contains("intervention I-").any()
    actions = agenda_section("1", agenda.item("actions"), agenda).table.iloc[:, 0]
    assert shown.str.removeprefix("action ").isin(actions).any()  # the same id as item 1 shows
