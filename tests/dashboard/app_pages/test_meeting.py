"""AppTest for meeting mode, the actions register and the pack buttons on the ACT review page."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.act.agenda import agenda_for
from pipelines.privacy import Viewer
from pipelines.settings import STORE_ENV
from tests._helpers import app_login

APP = str(Path(__file__).resolve().parents[3] / "dashboard" / "app.py")
CODE = "KHA-HARARE-HOLOMISA"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A demo store of this module's own: these tests record actions."""
    from pipelines.demo import build_demo
    from pipelines.store import open_store

    built = open_store(tmp_path_factory.mktemp("act-pages") / "demo.gpkg")
    build_demo(built)
    yield built
    built.close()


@pytest.fixture
def app(store, monkeypatch):
    monkeypatch.setenv(STORE_ENV, store.url)

    def run(page: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=90)
        app_login(at, store, "act_member")
        at.run()
        at.switch_page(f"app_pages/{page}.py")
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        return at

    return run


def _form_value(at: AppTest, label: str, value) -> None:
    widget = next(w for kind in ("text_area", "text_input") for w in getattr(at, kind) if w.label == label)
    widget.set_value(value)


def test_meeting_mode_steps_through_the_agenda(app):
    at = app("meeting")
    assert at.title[0].value == "1. Actions from last time"
    at.button(key="mm_next").click().run()
    assert at.title[0].value == "2. Interventions: changes and stale updates"
    at.button(key="mm_right").click().run()
    assert at.title[0].value.startswith("3. H1: New hot spot near")
    at.button(key="mm_left").click().run()
    at.button(key="mm_prev").click().run()
    at.button(key="mm_prev").click().run()  # stays on the first item
    assert at.title[0].value == "1. Actions from last time"
    assert "Item 1 of" in " ".join(m.value for m in at.markdown)


def test_a_decision_recorded_on_a_hotspot_screen_is_linked_to_it(app, store):
    at = app("meeting")
    at.button(key="mm_next").click().run()
    at.button(key="mm_next").click().run()
    assert at.title[0].value.startswith("3. H1")
    # an ACT member never sees an H3 index: the decision is linked to the item's hot spot all the same
    assert not [w for w in at.text_input if "cell" in w.label.lower()]
    assert any("Linked to this item's hot spot" in c.value for c in at.caption)
    agenda = agenda_for(store, CODE, "2026-10", viewer=Viewer("test-act_member", "act_member"))
    item = next(i for i in agenda.items if i.key == "hotspot-H1")
    cell = item.links["hotspot_cell"]
    before = store.count("actions")
    _form_value(at, "Decision", "Floodlight at the footpath behind Luleka Primary (AppTest)")
    _form_value(at, "Owner (department or organisation)", "Energy (Public Lighting)")
    at.button(key="FormSubmitter:mm_form_hotspot-H1-Record decision").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert store.count("actions") == before + 1
    saved = store.read_table(
        "actions", where={"decision": "Floodlight at the footpath behind Luleka Primary (AppTest)"}
    )
    assert saved["hotspot_cell"].item() == cell and saved["meeting_id"].item() == f"{CODE}-2026-10"
    assert any("Recorded" in s.value for s in at.success)
    assert saved["updated_by"].item() == "test-act_member"  # the logged-in account, not a typed name
    edits = store.read_table("audit_log", where={"event": "edit", "target": saved["action_id"].item()})
    assert edits["user"].tolist() == ["test-act_member"]


def test_a_blocked_decision_without_an_unblocker_is_refused_on_screen(app, store):
    at = app("meeting")
    before = store.count("action_log")
    _form_value(at, "Decision", "Blocked without saying by what")
    _form_value(at, "Owner (department or organisation)", "Urban Management")
    next(w for w in at.selectbox if w.label == "Status").set_value("blocked")
    at.button(key="FormSubmitter:mm_form_actions-Record decision").click().run()
    assert any("blocked_by" in e.value and "unblocker" in e.value for e in at.error)
    assert store.count("action_log") == before


def test_actions_register_edits_with_history(app, store):
    at = app("actions")
    assert at.title[0].value == "Actions register"
    # Counted against today, and it says so: the agenda counts at the meeting day (issue 17, item 8).
    overdue = next(m for m in at.metric if m.label == "Overdue today")
    assert "meeting agenda counts what was overdue on the day of the meeting" in overdue.proto.help
    action = f"{CODE}-2026-07-A01"
    at.selectbox(key="ar_edit").set_value(action).run()
    next(w for w in at.selectbox if w.label == "Status").set_value("done")
    _form_value(at, "Note for the history (why it changed)", "Field cleared on 28 October")
    at.button(key=f"FormSubmitter:ar_form_{action}-Save action").click().run()
    assert not at.exception and not at.error
    assert store.read_table("actions", where={"action_id": action})["status"].item() == "done"
    history = at.dataframe[-1].value
    assert (
        history["changes"].iloc[0] == "status: open -> done"
        and history["note"].iloc[0] == "Field cleared on 28 October"
    )


def test_act_review_offers_the_pack(app):
    at = app("act_review")
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Pack PDF", "Pack HTML", "Public PDF", "CSV"]  # the pack, then the page's tables


def test_meeting_details_set_the_meeting_day(app, store):
    import datetime as dt

    at = app("meeting")
    for day in (dt.date(2026, 10, 29), dt.date(2026, 10, 22)):  # the second replaces the first
        next(d for d in at.date_input if d.label == "Held on").set_value(day)
        next(b for b in at.button if b.label == "Save meeting details").click().run()
        assert not at.exception and not at.error
        assert any(f"meeting of {day:%d %b %Y}" in c.value for c in at.caption)
    stored = store.read_table("meetings", where={"meeting_id": f"{CODE}-2026-10"})
    assert stored["held_on"].tolist() == ["2026-10-22"]


def test_too_little_data_is_not_shown_as_no_hot_spot(app):
    """Bongweni has 24 reports in the year, fewer than Gi* needs: the page must not say "No hot spot"
    (a finding) but that there was too little data (issue 17, item 3)."""
    at = app("act_review")
    at.sidebar.selectbox(key="f_hood").set_value("KHA-BONGWENI").run()
    assert not at.exception, [e.message for e in at.exception]
    assert not [s.value for s in at.success if "No hot spot" in s.value]
    assert any("too little data" in i.value for i in at.info)
    assert any("at least 30 are needed" in w.value for w in at.warning)
    at.sidebar.selectbox(key="f_hood").set_value("KHA-HARARE-HOLOMISA").run()
    assert not [i.value for i in at.info if "too little data" in i.value]


HEADER_WORDS = r"^[A-Z][A-Za-z0-9 ,()'/-]*$"  # words a person reads: no snake_case, no lone symbols


@pytest.mark.parametrize("role", ["planner", "act_member"])
def test_meeting_views_head_every_column_in_words_and_map_each_place(store, monkeypatch, role):
    """Planners and ACT members read words in every column header, never "p" or "z" (the analyst's figures
    are one click away on the ACT review page); meeting mode draws a map for each item about a place."""
    import re

    from pipelines.act.figures import MAPPED_KINDS
    from tests._helpers import page_as

    monkeypatch.setenv(STORE_ENV, store.url)
    review = page_as(store, "act_review", role, timeout=120)
    headers = [str(c) for t in review.table for c in (*t.value.columns, t.value.index.name) if c]
    assert "Days overdue" not in headers  # the actions are meeting mode's; here the month's numbers
    assert {"Category", "This month", "Reading", "Hot spot", "Hexagons", "What it means"} <= set(headers)
    assert "How we know: each hexagon's statistics" not in [e.label for e in review.expander]
    assert len(review.get("image")) == 2  # the hot spots' map and the interventions' map

    meeting = page_as(store, "meeting", role, timeout=120)
    seen = []
    while True:
        headers += [str(c) for t in meeting.table for c in (*t.value.columns, t.value.index.name) if c]
        seen.append((meeting.title[0].value, len(meeting.get("image"))))
        before = meeting.session_state["mm_index"]
        meeting.button(key="mm_next").click().run()
        if meeting.session_state["mm_index"] == before:  # the last item
            break
    assert {"Action", "Days overdue", "Bottleneck", "Question", "Answer"} <= set(headers)
    for header in headers:
        assert re.match(HEADER_WORDS, header) and header not in ("P", "Z"), header
    kinds = {"Interventions": "interventions", "H1": "hotspot", "Changes in counts": "counts"}
    for title, maps in seen:
        mapped = any(word in title for word in kinds)
        assert maps == (1 if mapped else 0), (title, maps)
    assert sum(m for _, m in seen) == len(MAPPED_KINDS)


def _overdue(table) -> set[str]:
    """The interventions a page's table flags overdue (names without the map's I1, I2 labels)."""
    frame = table.value.reset_index()
    flags = next(c for c in frame.columns if frame[c].astype(str).str.contains("overdue").any())
    names = frame[frame.columns[0]].astype(str).str.replace(r"^I\d+ ", "", regex=True)
    return set(names[frame[flags].astype(str).str.contains("overdue")])


def test_act_review_and_meeting_mode_show_the_same_overdue_interventions(store, monkeypatch):
    """One review (pipelines.act.agenda.intervention_review) for both pages: the ACT review page used to
    call maintenance work overdue once its end date had passed (the Harare Square active box, in
    maintenance since June 2024) while meeting mode did not."""
    from tests._helpers import page_as

    monkeypatch.setenv(STORE_ENV, store.url)
    review = page_as(store, "act_review", "act_member", timeout=120)
    review.sidebar.selectbox(key="f_hood").set_value(CODE).run()
    shown = [t for t in review.table if any("overdue" in str(v) for v in t.value.to_numpy().ravel())]
    meeting = page_as(store, "meeting", "act_member", timeout=120)
    meeting.sidebar.selectbox(key="f_hood").set_value(CODE).run()
    meeting.button(key="mm_next").click().run()
    assert meeting.title[0].value == "2. Interventions: changes and stale updates"
    assert len(shown) == 1 and len(meeting.table) == 1
    on_review, in_meeting = _overdue(shown[0]), _overdue(meeting.table[0])
    assert on_review == in_meeting and in_meeting  # the demo has overdue work (the stalled Ncumo Road lights)
    assert "Harare Square active box" not in on_review


def test_act_review_meeting_mode_and_profile_name_the_month_in_words(app):
    """ "ACT review: Harare Holomisa, 2026-10" and "Incidents in 2026-10", where the Ward page says "October
    2026" (issue 18's screenshot review): headings and month choices say the month in words."""
    import re

    in_words = re.compile(
        r"(January|February|March|April|May|June|July|August|September|October|November|December) \d{4}"
    )
    at = app("act_review")
    box = at.selectbox(key="act_month")
    assert all(in_words.fullmatch(option) for option in box.options), box.options
    assert at.title[0].value == f"ACT review: Harare Holomisa, {box.value:%B %Y}"
    at = app("meeting")
    assert all(in_words.fullmatch(option) for option in at.selectbox(key="mm_month").options)
    at = app("profile")
    labels = [m.label for m in at.metric if m.label.startswith("Incidents in ")]
    assert labels and all(in_words.fullmatch(label.removeprefix("Incidents in ")) for label in labels), labels
