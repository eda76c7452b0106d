"""Two dashboard replicas on one PostGIS database see each other's uploads, in a real Chromium.

An upload goes through replica A's upload page; replica B's data-quality page, already open and
cached, shows the new batch after a reload (the dashboard's caches are keyed on the store's data
version, read from the database on every page run).
"""

from __future__ import annotations

import contextlib

import pytest

from pipelines.store import open_store
from tests._dashboard import ARTIFACTS, CHROMIUM, running_dashboard
from tests.dashboard.browser.test_dashboard import login_as, open_page, upload_through_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def shared_url(pg_cluster, pg_demo_template):
    url = pg_cluster.create_database(template=pg_demo_template)
    yield url
    pg_cluster.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture(scope="module")
def replicas(shared_url, tmp_path_factory):
    """Two ``areasafe serve`` processes (the command it runs) on two free ports, one database."""
    with contextlib.ExitStack() as stack:
        yield [
            stack.enter_context(
                running_dashboard(shared_url, tmp_path_factory.mktemp(f"replica-{name}") / "server.log")
            )
            for name in ("a", "b")
        ]


def _metric(page, label: str) -> int:
    value = page.locator('[data-testid="stMetric"]', has_text=label).locator('[data-testid="stMetricValue"]')
    return int(value.inner_text().replace(",", ""))


def test_an_upload_through_one_replica_shows_on_the_other(replicas, shared_url, browser, tmp_path):
    replica_a, replica_b = replicas
    ARTIFACTS.mkdir(exist_ok=True)
    accounts = open_store(shared_url)  # one users table: an account works on every replica
    reader = browser.new_context(viewport={"width": 1500, "height": 1100}).new_page()
    login_as(reader, replica_b, accounts, "planner")
    open_page(reader, "Data quality")
    batches_before, incidents_before = _metric(reader, "Batches"), _metric(reader, "Incidents stored")
    with open_store(shared_url) as store:
        assert batches_before == store.count("batches") and incidents_before == store.count("incidents")
        point = store.read_areas("neighbourhood").geometry.iloc[0].representative_point()

    csv = tmp_path / "replica_survey.csv"
    csv.write_text(
        "start,incident/incident_date,incident/incident_type,incident/_location_latitude,"
        "incident/_location_longitude,_id,_uuid,_submission_time\n"
        f"2025-11-05T08:00:00.000+02:00,2025-11-02,drug dealing,{point.y:.6f},{point.x:.6f},1,rp-1,2025-11-02T11:20\n"
        f"2025-11-05T08:00:00.000+02:00,2025-11-03,gunshots,{point.y:.6f},{point.x:.6f},2,rp-2,2025-11-03T11:20\n"
    )
    writer = browser.new_context(viewport={"width": 1500, "height": 1100}).new_page()
    login_as(writer, replica_a, accounts, "planner")
    upload_through_page(writer, csv)

    accounts.close()
    open_page(reader, "Upload")  # away and back through the app (a reload would start a logged-out session)
    open_page(reader, "Data quality")
    reader.screenshot(path=str(ARTIFACTS / "replica_b_data_quality.png"), full_page=True)
    assert _metric(reader, "Batches") == batches_before + 1
    assert _metric(reader, "Incidents stored") == incidents_before + 2
    # the batch list: a canvas grid whose cells are mirrored in an accessible table in the DOM
    batch_list = reader.locator('[data-testid="stDataFrame"]').first.evaluate("e => e.innerHTML")
    assert "replica_survey.csv" in batch_list
    with open_store(shared_url) as store:
        newest = store.read_batches().iloc[0]
        assert (newest["file_name"], newest["accepted"]) == ("replica_survey.csv", 2)
