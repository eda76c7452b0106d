"""Financial years at their boundaries, labels, budget cycles and deadlines (pipelines.act.finance)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipelines.act.finance import (
    budget_cycles,
    budget_items,
    normalise_financial_year,
    statutory_deadlines,
    upcoming_deadlines,
)
from pipelines.periods import FinancialYear, FinancialYearError, financial_year_of, parse_financial_year

D = dt.date


@pytest.mark.parametrize(
    ("day", "sphere", "label"),
    [
        pytest.param("2025-06-30", "municipal", "2024/25", id="municipal-30-june"),
        pytest.param("2025-07-01", "municipal", "2025/26", id="municipal-1-july"),
        pytest.param("2026-06-30", "municipal", "2025/26", id="municipal-last-day"),
        pytest.param("2025-03-31", "national", "2024/25", id="national-31-march"),
        pytest.param("2025-04-01", "national", "2025/26", id="national-1-april"),
        pytest.param("2025-03-31", "provincial", "2024/25", id="provincial-31-march"),
        pytest.param("2025-04-01", "provincial", "2025/26", id="provincial-1-april"),
        pytest.param("2026-05-15", "municipal", "2025/26", id="same-day-municipal"),
        pytest.param("2026-05-15", "national", "2026/27", id="same-day-national"),
        pytest.param("2099-12-31", "municipal", "2099/00", id="century-label"),
    ],
)
def test_financial_year_at_the_boundaries(day, sphere, label):
    fy = financial_year_of(day, sphere)
    assert fy.label == label
    assert fy.contains(D.fromisoformat(day))
    assert not fy.contains(fy.start - dt.timedelta(days=1)) and not fy.contains(fy.end + dt.timedelta(days=1))


def test_first_and_last_days():
    municipal, national = FinancialYear("municipal", 2025), FinancialYear("national", 2025)
    assert (municipal.start, municipal.end) == (D(2025, 7, 1), D(2026, 6, 30))
    assert (national.start, national.end) == (D(2025, 4, 1), D(2026, 3, 31))
    assert FinancialYear("provincial", 2023).end == D(2024, 3, 31)  # leap year: still 31 March
    assert municipal.next().label == "2026/27"
    assert str(municipal) == "municipal 2025/26 (01 Jul 2025 to 30 Jun 2026)"
    assert financial_year_of(pd.Timestamp("2025-07-01 00:30"), "municipal").label == "2025/26"


@pytest.mark.parametrize("label", ["2025/26", "2025/2026", "2025-26", "FY2025/26", " fy 2025 / 26 "])
def test_labels_are_read(label):
    assert parse_financial_year(label, "municipal") == FinancialYear("municipal", 2025)


@pytest.mark.parametrize(
    ("label", "sphere", "match"),
    [
        pytest.param("2025/27", "municipal", "two consecutive years", id="not-consecutive"),
        pytest.param("25/26", "municipal", "two consecutive years", id="short-first-year"),
        pytest.param("2025", "national", "starts on 1 April", id="one-year"),
        pytest.param("", "municipal", "starts on 1 July", id="empty"),
        pytest.param("2025/26", "county", "funding_sphere must be one of municipal, provincial, national", id="sphere"),
    ],
)
def test_bad_labels_say_what_to_write(label, sphere, match):
    with pytest.raises(FinancialYearError, match=match):
        parse_financial_year(label, sphere)


def test_normalise_takes_the_year_from_the_date_and_refuses_a_year_without_sphere():
    assert normalise_financial_year(None, "national", "2026-03-31") == "2025/26"
    assert normalise_financial_year(None, "municipal", "2026-03-31") == "2025/26"
    assert normalise_financial_year(None, "national", "2026-04-01") == "2026/27"
    assert normalise_financial_year("2025/2026", "provincial") == "2025/26"
    assert normalise_financial_year(None, None, "2026-04-01") is None
    with pytest.raises(FinancialYearError, match="needs a funding_sphere"):
        normalise_financial_year("2025/26", None)


def test_municipal_statutory_deadlines_of_one_year():
    found = statutory_deadlines("municipal", D(2026, 7, 1), D(2027, 6, 30))
    by_source = {d.source: d.date for d in found}
    assert by_source == {
        "MFMA s21(1)(b)": D(2026, 9, 1),
        "MFMA s72(1)": D(2027, 1, 25),
        "MBRR reg 23(1); MFMA s28(2)(b), (d) and (f)": D(2027, 2, 28),
        "MFMA s16(2)": D(2027, 4, 2),  # 90 days before 1 July 2027
        "MFMA s24(1)": D(2027, 6, 1),  # 30 days before
        "MFMA s16(1), s24(2)(a)": D(2027, 6, 30),
        "year end": D(2027, 6, 30),
    }
    assert [d.date for d in found] == sorted(d.date for d in found)
    assert {d.financial_year for d in found if d.source == "MFMA s16(2)"} == {"2027/28"}


def test_national_and_provincial_list_only_their_year_end():
    found = statutory_deadlines("national", D(2026, 1, 1), D(2027, 12, 31))
    assert [(d.date, d.source) for d in found] == [(D(2026, 3, 31), "year end"), (D(2027, 3, 31), "year end")]


@pytest.fixture
def records():
    interventions = pd.DataFrame(
        {
            "intervention_id": ["I-1", "I-2"],
            "name": ["Lights", "Park"],
            "status": ["in_progress", "planned"],
            "financial_year": ["2025/26", "2026/27"],
            "funding_sphere": ["municipal", None],
            "start": ["2025-08-01", "2026-09-01"],
            "end": ["2026-08-31", "2027-06-30"],
            "geometry": [None, None],
        }
    )
    actions = pd.DataFrame(
        {
            "action_id": ["A-1", "A-2", "A-3", "A-4"],
            "decision": ["Patrols", "Kit", "Budget", "Old"],
            "status": ["open", "blocked", "open", "done"],
            "due": ["2026-03-31", "2026-04-15", "2027-02-28", "2026-01-10"],
            "financial_year": ["2025/26", "2025/26", None, "2025/26"],
            "funding_sphere": ["national", "national", "municipal", "municipal"],
        }
    )
    return interventions, actions


def test_budget_items_place_each_record_and_flag_what_needs_a_look(records):
    items = budget_items(*records).set_index("id")
    assert items.loc["I-1", ["sphere", "financial_year", "fy_end"]].tolist() == ["municipal", "2025/26", D(2026, 6, 30)]
    assert "after 2025/26 ends on 30 Jun 2026" in items.loc["I-1", "note"]  # ends in August 2026
    assert items.loc["I-2", "sphere"] == "not recorded" and "sphere not recorded" in items.loc["I-2", "note"]
    assert items.loc["A-1", "note"] == ""  # due on the last day of the national year
    assert "after 2025/26 ends on 31 Mar 2026" in items.loc["A-2", "note"]  # one day into the next year
    assert items.loc["A-3", ["financial_year", "note"]].tolist() == ["2026/27", "financial year taken from the date"]


def test_budget_cycles_say_which_year_is_current(records):
    cycles = budget_cycles(budget_items(*records), as_of=D(2026, 5, 1))
    state = {(r.sphere, r.financial_year): r.state for r in cycles.itertuples()}
    assert state == {
        ("municipal", "2025/26"): "current",
        ("municipal", "2026/27"): "next",
        ("national", "2025/26"): "past",
        ("not recorded", "not recorded"): "",
    }
    row = cycles[(cycles["sphere"] == "national")].iloc[0]
    assert (row.actions, row.open_actions, row.flagged, row.period) == (2, 2, 1, "01 Apr 2025 to 31 Mar 2026")


def test_upcoming_deadlines_cover_each_sphere_and_pending_records_only(records):
    found = upcoming_deadlines(budget_items(*records), as_of=D(2026, 3, 1), months=2)
    rows = list(zip(found["date"], found["sphere"], found["what"], strict=True))
    assert (D(2026, 3, 31), "national", "Action due: Patrols") in rows
    assert (D(2026, 3, 31), "national", "National 2025/26 year ends") in rows
    assert (D(2026, 4, 15), "national", "Action due: Kit") in rows
    assert any(s == "municipal" and "budget tabled" in w for _, s, w in rows)
    assert not any("Old" in w for _, _, w in rows)  # done actions have no deadline
    assert found.loc[found["what"] == "Action due: Patrols", "days"].item() == 30
    with pytest.raises(FinancialYearError, match="months must be at least 1"):
        upcoming_deadlines(budget_items(*records), as_of=D(2026, 3, 1), months=0)
