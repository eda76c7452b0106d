"""The actions register: validation, one transaction per version, full history (pipelines.act.actions)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipelines.act.actions import (
    REGISTER_COLUMNS,
    ActionError,
    history_table,
    import_actions,
    meeting_record,
    read_actions,
    read_history,
    register_view,
    save_action,
    save_meeting,
)
from pipelines.settings import DEMO_DIR

NOW = dt.datetime(2026, 10, 29, 15, 0, tzinfo=dt.UTC)


def _base(**changes) -> dict:
    return {
        "neighbourhood_code": "N-1",
        "month": "2026-10",
        "decision": "Fix the lights on Main Road",
        "owner_org": "Energy",
        "owner_person": "T. Test",
        "due": "2026-11-30",
        **changes,
    }


def _counts(store) -> tuple[int, int, int]:
    return store.count("actions"), store.count("action_log"), store.count("meetings")


def test_a_new_action_is_stored_with_its_first_history_entry_and_its_meeting(area_store):
    saved = save_action(area_store, _base(funding_sphere="national"), user="secretary", note="agreed", now=NOW)
    assert saved["action_id"] == "N-1-2026-10-A01"
    assert saved["meeting_id"] == "N-1-2026-10"
    assert saved["financial_year"] == "2026/27"  # national year of the due date
    assert _counts(area_store) == (1, 1, 1)
    stored = read_actions(area_store).iloc[0]
    log = read_history(area_store).iloc[0]
    for field in ("action_id", "decision", "owner_org", "due", "status", "financial_year", "updated_by"):
        assert stored[field] == log[field], field
    assert log["note"] == "agreed" and stored["updated_at"] == pd.Timestamp(NOW)
    second = save_action(area_store, _base(decision="Second"), now=NOW)
    assert second["action_id"] == "N-1-2026-10-A02" and _counts(area_store) == (2, 2, 1)


def test_blocking_needs_what_blocks_it_and_who_can_unblock_it(area_store):
    saved = save_action(area_store, _base(), now=NOW)
    before = _counts(area_store)
    with pytest.raises(ActionError, match=r"blocked_by and unblocker are empty"):
        save_action(area_store, {"action_id": saved["action_id"], "status": "blocked"}, now=NOW)
    with pytest.raises(ActionError, match=r"unblocker is empty"):
        save_action(area_store, {"action_id": saved["action_id"], "status": "blocked", "blocked_by": "Cable theft"})
    assert _counts(area_store) == before  # nothing half-written
    later = NOW + dt.timedelta(days=3)
    save_action(
        area_store,
        {"action_id": saved["action_id"], "status": "blocked", "blocked_by": "Cable theft", "unblocker": "Eskom"},
        note="cable stolen",
        now=later,
    )
    assert _counts(area_store) == (1, 2, 1)
    current = read_actions(area_store).iloc[0]
    assert (current["status"], current["blocked_by"], current["unblocker"]) == ("blocked", "Cable theft", "Eskom")
    assert current["decision"] == "Fix the lights on Main Road"  # fields not sent keep their stored value
    history = history_table(read_history(area_store, action_id=saved["action_id"]))
    assert history["changes"].tolist() == [
        "status: open -> blocked; blocked_by:  -> Cable theft; unblocker:  -> Eskom",
        "created",
    ]
    assert history["note"].iloc[0] == "cable stolen" and pd.isna(history["note"].iloc[1])


def test_saving_an_unchanged_action_adds_no_version_but_a_note_does(area_store):
    saved = save_action(area_store, _base(), now=NOW)
    save_action(area_store, {"action_id": saved["action_id"], "decision": " Fix the lights on Main Road "}, now=NOW)
    assert _counts(area_store) == (1, 1, 1)
    later = NOW + dt.timedelta(hours=1)
    save_action(area_store, {"action_id": saved["action_id"]}, note="called Energy again", now=later)
    assert _counts(area_store) == (1, 2, 1)
    assert history_table(read_history(area_store))["changes"].iloc[0] == "note only"


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        pytest.param({"decision": "  "}, "decision is required", id="no-decision"),
        pytest.param({"owner_org": None}, "owner_org is required", id="no-owner"),
        pytest.param({"status": "finished"}, "status must be one of open, done, blocked, dropped", id="status"),
        pytest.param({"due": "30/11/2026"}, "due must be a date written YYYY-MM-DD", id="due-format"),
        pytest.param({"due": "2026-02-30"}, "due must be a date", id="due-impossible"),
        pytest.param({"financial_year": "2026/27"}, "needs a funding_sphere", id="year-without-sphere"),
        pytest.param({"funding_sphere": "county"}, "funding_sphere must be one of", id="sphere"),
        pytest.param({"financial_year": "2026/28", "funding_sphere": "municipal"}, "consecutive", id="year"),
        pytest.param({"hotspot_cell": "not-a-cell"}, "hotspot_cell must be an H3 cell index", id="cell"),
        pytest.param({"intervention_id": "I-missing"}, "intervention_id 'I-missing' is not a stored", id="link"),
        pytest.param({"asset_id": "A-missing"}, "asset_id 'A-missing' is not a stored asset", id="asset"),
        pytest.param({"neighbourhood_code": "N-9"}, "neighbourhood_code 'N-9' is not stored", id="hood"),
        pytest.param({"action_id": "N-1-A99"}, "action_id 'N-1-A99' is not stored", id="unknown-id"),
        pytest.param({"month": "2026-13"}, "month must be a month written YYYY-MM", id="month"),
        pytest.param(
            {"month": None, "meeting_id": "M-x"}, "meeting ids read <neighbourhood code>-YYYY-MM", id="meeting"
        ),
    ],
)
def test_invalid_actions_are_refused_with_the_field_named(area_store, changes, match):
    with pytest.raises(ActionError, match=match):
        save_action(area_store, _base(**changes), now=NOW)
    assert _counts(area_store) == (0, 0, 0)


def test_meetings(area_store):
    row = save_meeting(area_store, {"neighbourhood_code": "N-1", "month": "2026-10", "held_on": "2026-10-29"})
    assert row["meeting_id"] == "N-1-2026-10"
    save_meeting(area_store, {"neighbourhood_code": "N-1", "month": "2026-10", "chair": "Cllr X"})  # replaces
    stored = area_store.read_table("meetings")
    assert len(stored) == 1 and stored["chair"].item() == "Cllr X"
    with pytest.raises(ActionError, match="held_on 2026-11-02 is not in the meeting month 2026-10"):
        meeting_record("N-1", "2026-10", held_on="2026-11-02")


def test_demo_register_imports_once_with_history(demo_store):
    before = demo_store.count("action_log")
    assert before == sum(1 for _ in (DEMO_DIR / "actions.csv").open()) - 1  # one version per data row
    assert import_actions(demo_store, DEMO_DIR / "actions.csv", meetings=DEMO_DIR / "meetings.csv") == (6, 0)
    assert demo_store.count("action_log") == before
    actions = read_actions(demo_store, "KHA-HARARE-HOLOMISA").set_index("action_id")
    lights = actions.loc["KHA-HARARE-HOLOMISA-2026-06-A01"]
    assert lights["status"] == "blocked" and lights["unblocker"].startswith("Eskom")
    history = read_history(demo_store, action_id="KHA-HARARE-HOLOMISA-2026-06-A01")
    assert history["status"].tolist() == ["open", "blocked", "blocked"]


def test_a_bad_row_stops_the_whole_import(area_store, tmp_path):
    good = "N-1-A01,N-1,,Patrols,Watch,,2026-11-30,open,,,,,,,,2026-10-01T10:00:00+02:00,,first\n"
    bad = "N-1-A02,N-1,,Lights,Energy,,2026-11-30,blocked,Cable theft,,,,,,,2026-10-01T10:00:00+02:00,,\n"
    header = (
        "action_id,neighbourhood_code,meeting_id,decision,owner_org,owner_person,due,status,blocked_by,unblocker,"
        "financial_year,funding_sphere,intervention_id,hotspot_cell,asset_id,updated_at,updated_by,note\n"
    )
    path = tmp_path / "actions.csv"
    path.write_text(header + good + bad)
    with pytest.raises(ActionError, match=r"actions.csv line 3: a blocked action must say .* unblocker is empty"):
        import_actions(area_store, path)
    assert _counts(area_store) == (0, 0, 0)
    path.write_text(header + good)
    assert import_actions(area_store, path) == (0, 1)
    assert read_actions(area_store)["decision"].tolist() == ["Patrols"]


def test_the_command_line_saves_an_action_through_the_dashboards_service(area_store, capsys):
    """``areasafe actions add`` is :func:`pipelines.access.save_action`: the name given is recorded with the
    version, and the save is audited as the command line's operator, as a page's save is as its account."""
    from pipelines.cli import main

    argv = ["--store", str(area_store.url), "actions", "add", "--neighbourhood", "N-1", "--month", "2026-10"]
    argv += ["--decision", "Fix the lights", "--owner-org", "Energy", "--user", "clerk"]
    assert main(argv) == 0, capsys.readouterr().err
    saved = read_actions(area_store).iloc[0]
    assert saved["updated_by"] == "clerk"
    entry = area_store.read_table("audit_log", where={"event": "edit", "target": saved["action_id"]})
    assert entry["user"].tolist() == ["cli:clerk"] and entry["detail"].tolist() == ['{"table": "actions"}']


def test_the_register_view_marks_overdue_on_the_day_and_counts_what_it_shows():
    actions = pd.DataFrame(
        {
            "action_id": ["A1", "A2", "A3"],
            "decision": ["Lights", "Patrol", "Fence"],
            "status": ["open", "blocked", "done"],
            "due": ["2026-10-01", "2026-12-01", "2026-09-01"],
        }
    ).reindex(columns=[c for c in REGISTER_COLUMNS if c != "overdue"])
    view = register_view(actions, statuses=["open", "blocked"], as_of=dt.date(2026, 10, 29))
    assert view.shown["action_id"].tolist() == ["A1", "A2"]
    assert view.shown["overdue"].tolist() == [True, False]  # A3 is done: never overdue
    assert (view.overdue, view.blocked) == (1, 1)
    assert view.decisions == {"A1": "Lights", "A2": "Patrol", "A3": "Fence"}  # every action, for editing
    everything = register_view(actions, statuses=[], as_of=dt.date(2026, 12, 2))
    assert everything.shown["action_id"].tolist() == ["A1", "A2", "A3"] and everything.overdue == 2
