"""The upload page runs a Kobo export through prepare -> dry run -> confirm -> one committed batch."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.settings import STORE_ENV
from pipelines.store import Batch
from tests._helpers import app_login

APP = str(Path(__file__).resolve().parents[3] / "dashboard" / "app.py")

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
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Rows read": "4", "Accepted": "3", "Rejected": "1", "Duplicates": "0"}
    assert upload_store.count("incidents") == 0  # a dry run stores nothing
    at.button(key="u_confirm").click().run()
    assert not at.exception
    assert at.success[0].value.startswith("Stored: ") and "reports accepted" in at.success[0].value
    assert not re.search(r"[0-9a-f]{8}", at.success[0].value)  # no batch id: a CSO knows its file, not our key
    assert upload_store.count("incidents") == 3
    batches = upload_store.read_batches()
    assert list(batches["kind"]) == ["incidents", "boundaries"]
    assert batches["org"].iloc[0] == "Harare CSF"
    assert upload_store.count("rejections") == 1


def _dry_run_rows(at: AppTest):
    """The dry run's table of rows, as the page shows it."""
    return next(d.value for d in at.dataframe if "Outcome" in d.value.columns)


def _survey_uploaded(store) -> AppTest:
    """A planner's upload page with a Kobo survey of four rows uploaded and every row of its dry run shown."""
    hood = store.read_areas("neighbourhood").geometry.iloc[0].representative_point()
    at = AppTest.from_file(APP, default_timeout=60)
    app_login(at, store, "planner")
    at.run()
    at.switch_page("app_pages/upload.py").run()
    at.file_uploader(key="u_file").set_value(("survey.csv", kobo_csv(hood), "text/csv")).run()
    next(r for r in at.radio if r.label == "Show").set_value("All rows").run()
    return at


def test_mapping_correction_changes_the_dry_run(upload_store):
    at = _survey_uploaded(upload_store)
    assert list(_dry_run_rows(at)["Type"]) == ["drug dealing", "stabbing", "broken street light", "gunshots"]
    category = next(s for s in at.selectbox if s.label == "Type of incident")
    assert category.value == "incident/incident_type"
    category.set_value("incident/description").run()  # the user says the category is in another column
    assert not at.exception
    # the dry run the user reads changed with it, not only the choice
    assert list(_dry_run_rows(at)["Type"]) == [
        "Tik sold near the school",
        "Man stabbed outside the tavern",
        "Dark walkway",
        "Shots at night",
    ]


def test_a_file_is_prepared_once_and_confirm_stores_the_dry_run_shown(upload_store, monkeypatch, tmp_path):
    """Reruns (another row filter) read nothing again; Confirm commits the file the dry run on screen was made
    from, even after another batch changed the store; the next visit prepares it again and says it is stored."""
    from pipelines import access
    from pipelines.ingest.incidents import ingest_incidents

    prepared, original = [], access.prepare_upload
    monkeypatch.setattr(access, "prepare_upload", lambda *a, **k: prepared.append(a[2]) or original(*a, **k))
    at = _survey_uploaded(upload_store)
    assert prepared == ["survey.csv"]  # the rerun reused the prepared file
    shown = {m.label: m.value for m in at.metric}
    hood = upload_store.read_areas("neighbourhood").geometry.iloc[0].representative_point()
    other = tmp_path / "other.csv"  # meanwhile, another upload changes the store
    other.write_text(
        f"id,date,category,latitude,longitude,description\nx1,2025-10-01,Robbery,{hood.y},{hood.x},Taken\n"
    )
    ingest_incidents(upload_store, other, source="municipal")
    at.button(key="u_confirm").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert prepared == ["survey.csv"]  # Confirm committed the dry run on screen, not a second reading
    batches = upload_store.read_batches()
    batch = batches[batches["file_name"] == "survey.csv"].iloc[0]
    assert (f"{batch['accepted']}", f"{batch['rejected']}") == (shown["Accepted"], shown["Rejected"])
    at.run()  # the store changed: the file is prepared again, and the dry run says it is stored
    assert prepared == ["survey.csv", "survey.csv"]
    assert {m.label: m.value for m in at.metric}["Accepted"] == "0"


def _confirm_offered(at: AppTest) -> bool:
    return any(b.key == "u_confirm" for b in at.button)


def test_a_stored_file_is_not_offered_confirm_again(upload_store):
    """ "Confirm and store" stayed on screen above "Stored: 3 reports accepted", so a second tap was easy on a
    phone (issue 18's screenshot review). Once stored, the result stays and Confirm goes, for that file."""
    at = _survey_uploaded(upload_store)
    assert _confirm_offered(at)
    at.button(key="u_confirm").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert not _confirm_offered(at)  # gone in the very run that stored
    assert at.success[0].value.startswith("Stored: 3 reports accepted")
    next(r for r in at.radio if r.label == "Show").set_value("Rows to check").run()  # any later rerun
    assert not _confirm_offered(at) and at.success[0].value.startswith("Stored: 3 reports accepted")
    assert list(upload_store.read_batches()["kind"]) == ["incidents", "boundaries"]  # stored once
    hood = upload_store.read_areas("neighbourhood").geometry.iloc[0].representative_point()
    fixed = kobo_csv(hood).replace(b"Dark walkway", b"Dark lane")  # another file: offered again
    at.file_uploader(key="u_file").set_value(("fixed.csv", fixed, "text/csv")).run()
    assert _confirm_offered(at) and not at.success


def test_missing_location_offers_the_columns_instead_of_a_dead_end(upload_store):
    """Location columns under names nobody guesses: the page says so in words (no command-line flag), keeps
    the column choices and a preview of the file on screen, and choosing them gives the dry run."""
    hood = upload_store.read_areas("neighbourhood").geometry.iloc[0].representative_point()
    csv = (
        "Ref,Wanneer,Noord,Oos,Soort,Wat het gebeur\n"
        f"1,02/11/2025,{hood.y:.6f},{hood.x:.6f},robbery,A man was robbed of his phone near the taxi rank\n"
        f"2,03/11/2025,{hood.y:.6f},{hood.x:.6f},gunshots,Shots fired at night behind the tavern on Mew Way\n"
    ).encode()
    at = AppTest.from_file(APP, default_timeout=60)
    app_login(at, upload_store, "cso", org="Harare CSF")
    at.run()
    at.switch_page("app_pages/upload.py").run()
    at.file_uploader(key="u_file").set_value(("survey.csv", csv, "text/csv")).run()
    assert not at.exception, [e.message for e in at.exception]
    shown = " ".join(w.value for w in [*at.warning, *at.error])
    assert "We could not find where each report happened" in shown and "--lat-col" not in shown
    labels = {s.label: s for s in at.selectbox}
    assert labels["Latitude"].options == ["(none)", "Ref", "Wanneer", "Noord", "Oos", "Soort", "Wat het gebeur"]
    assert list(at.dataframe[0].value.columns) == ["Row", "Ref", "Wanneer", "Noord", "Oos", "Soort", "Wat het gebeur"]
    assert any("'Wat het gebeur' holds the report's text" in c.value for c in at.caption)
    assert labels["What happened (free text)"].value == "Wat het gebeur"
    assert not at.metric  # no dry run yet
    labels["Latitude"].set_value("Noord").run()
    next(s for s in at.selectbox if s.label == "Longitude").set_value("Oos").run()
    assert any("We found no date column" in c.value for c in at.caption)
    next(s for s in at.selectbox if s.label == "Date of the incident").set_value("Wanneer").run()
    assert not at.exception, [e.message for e in at.exception]
    assert {m.label: m.value for m in at.metric}["Accepted"] == "2"
    rows = at.dataframe[1].value
    assert list(rows["What happened"]) == [
        "A man was robbed of his phone near the taxi rank",
        "Shots fired at night behind the tavern on Mew Way",
    ]
    assert list(rows["Read as"]) == ["2025-11-02", "2025-11-03"]  # date-only reports stay dates


def test_batches_offer_the_rejected_rows_to_their_own_organisation_only(upload_store):
    """Later, on Batches: the cso that uploaded gets its rejected rows as the file it sent; a planner
    (who does not see rejected content) and a cso of another organisation do not."""
    hood = upload_store.read_areas("neighbourhood").geometry.iloc[0].representative_point()
    at = AppTest.from_file(APP, default_timeout=60)
    app_login(at, upload_store, "cso", org="Harare CSF")
    at.run()
    at.switch_page("app_pages/upload.py").run()
    at.file_uploader(key="u_file").set_value(("survey.csv", kobo_csv(hood), "text/csv")).run()
    at.button(key="u_confirm").click().run()
    assert not at.exception, [e.message for e in at.exception]
    at.switch_page("app_pages/batches.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.selectbox(key="b_rejected").value == upload_store.read_batches()["batch_id"].iloc[0]
    downloads = [b for b in at.get("download_button") if b.key == "b_download"]  # besides the list's own CSV
    assert len(downloads) == 1 and downloads[0].proto.label == "Download the rejected row to fix (CSV)"

    for role, org in (("planner", None), ("cso", "Another CSO")):
        other = AppTest.from_file(APP, default_timeout=60)
        app_login(other, upload_store, role, org=org)
        other.run()
        other.switch_page("app_pages/batches.py").run()
        assert not other.exception, [e.message for e in other.exception]
        assert not [b for b in other.get("download_button") if b.key == "b_download"], role
        offered = any("Only the organisation that uploaded" in c.value for c in other.caption)
        assert offered == (role == "planner")  # the other cso does not even see the batch
