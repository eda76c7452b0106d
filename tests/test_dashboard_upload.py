"""The upload page runs a Kobo export through prepare -> dry run -> confirm -> one committed batch."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.settings import STORE_ENV
from pipelines.store import Batch
from tests._helpers import app_login

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")

KOBO_CSV = (
    "start,today,incident/incident_date,incident/incident_type,incident/description,"
    "incident/_location_latitude,incident/_location_longitude,reporter/reporter_phone,_id,_uuid,_submission_time\n"
    "{start},2025-11-02,2025-11-02,drug dealing,Tik sold near the school,{lat},{lon},0821234567,1,u-1,2025-11-02T11:20\n"
    "{start},2025-11-03,2025-11-03,stabbing,Man stabbed outside the tavern,{lat},{lon},,2,u-2,2025-11-03T16:36\n"
    "{start},2025-11-04,2025-11-04,broken street light,Dark walkway,{lat},{lon},,3,u-3,2025-11-04T09:00\n"
    "{start},2025-11-05,2025-11-05,gunshots,Shots at night,,,,4,u-4,2025-11-05T09:00\n"
)


def kobo_csv(point) -> bytes:
    return KOBO_CSV.format(start="2025-11-05T08:00:00.000+02:00", lat=f"{point.y:.6f}", lon=f"{point.x:.6f}").encode()


@pytest.fixture
def upload_store(demo_store, new_store, monkeypatch):
    """A fresh store (each backend) with the demo areas only, so committing does not change other tests' numbers."""
    store = new_store()
    areas = demo_store.read_areas()
    batch = Batch(
        "areas-copy",
        "boundaries",
        "areas",
        "0" * 64,
        dt.datetime.now(dt.UTC),
        rows_read=len(areas),
        accepted=len(areas),
    )
    store.commit(batch, areas=areas.assign(batch_id=batch.batch_id))
    monkeypatch.setenv(STORE_ENV, store.url)
    return store


def test_kobo_upload_commits_one_batch(upload_store):
    hood = upload_store.read_areas("neighbourhood").geometry.iloc[0].representative_point()
    at = AppTest.from_file(APP, default_timeout=60)
    app_login(at, upload_store, "planner")
    at.run()
    at.switch_page("app_pages/upload.py").run()
    at.text_input(key="u_org").set_value("Harare CSF").run()
    at.file_uploader(key="u_file").set_value(("survey.csv", kobo_csv(hood), "text/csv")).run()
    assert not at.exception, [e.message for e in at.exception]
    assert "kobo" in at.subheader[0].value
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Rows read": "4", "Accepted": "3", "Rejected": "1", "Duplicates": "0"}
    assert upload_store.count("incidents") == 0  # a dry run stores nothing
    at.button(key="u_confirm").click().run()
    assert not at.exception
    assert "Stored batch" in at.success[0].value
    assert upload_store.count("incidents") == 3
    batches = upload_store.read_batches()
    assert list(batches["kind"]) == ["incidents", "boundaries"]
    assert batches["org"].iloc[0] == "Harare CSF"
    assert upload_store.count("rejections") == 1


def test_mapping_correction_changes_the_dry_run(upload_store):
    hood = upload_store.read_areas("neighbourhood").geometry.iloc[0].representative_point()
    at = AppTest.from_file(APP, default_timeout=60)
    app_login(at, upload_store, "planner")
    at.run()
    at.switch_page("app_pages/upload.py").run()
    at.file_uploader(key="u_file").set_value(("survey.csv", kobo_csv(hood), "text/csv")).run()
    category = next(s for s in at.selectbox if s.label == "category")
    assert category.value == "incident/incident_type"
    category.set_value("incident/description").run()  # the user says the category is in another column
    assert not at.exception
    assert next(s for s in at.selectbox if s.label == "category").value == "incident/description"


def test_unusable_file_shows_an_actionable_error(upload_store):
    at = AppTest.from_file(APP, default_timeout=60)
    app_login(at, upload_store, "planner")
    at.run()
    at.switch_page("app_pages/upload.py").run()
    at.file_uploader(key="u_file").set_value(("notes.csv", b"a,b\n1,2\n", "text/csv")).run()
    assert not at.exception  # no traceback
    assert at.error and "location" in at.error[0].value.lower()
