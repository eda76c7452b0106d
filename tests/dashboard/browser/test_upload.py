"""A CSO coordinator on a phone takes a messy survey through the upload page in a real headless
Chromium, fixes the rejected rows the way a person would and ends with every row stored (issue 16, 9).

The survey has rows without a location, a date that does not exist, the latitude and longitude
headers the wrong way round and its free text under a name nobody guesses. Screenshots at 390x844
and 1280x720 go to ``test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest

from tests._dashboard import ARTIFACTS, CHROMIUM, recording_page, running_dashboard
from tests._helpers import copy_store
from tests.dashboard.browser.test_dashboard import _wait_idle, login_as

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]
ORG = "Phone Test CSF"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 720}
TEXTS = [
    "Two men robbed a woman of her phone at the taxi rank",
    "Shots were fired behind the tavern late at night",
    "A group of youths broke the street light again",
    "Someone broke into the spaza shop and took airtime",
    "A car was stripped of its wheels on the corner",
    "Drugs are sold openly outside the school gate",
]


@pytest.fixture(scope="module")
def store(demo_store, tmp_path_factory):
    folder = tmp_path_factory.mktemp("phone_upload")
    copy = copy_store(demo_store, folder / "store.gpkg")
    yield copy
    copy.close()


@pytest.fixture(scope="module")
def server(store, tmp_path_factory):
    with running_dashboard(store.url, tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield url


def messy_survey(store) -> str:
    """Six reports: rows 3 and 6 (spreadsheet rows 4 and 7) without a location, row 4 with 31 February,
    'latitude' and 'longitude' holding each other's values, the text under 'Tell us what happened'."""
    point = store.read_areas("neighbourhood").geometry.iloc[0].representative_point()
    rows = []
    for i, text in enumerate(TEXTS, start=1):
        lat, lon = f"{point.y + 0.0001 * i:.6f}", f"{point.x + 0.0001 * i:.6f}"
        if i in (3, 6):
            lat = lon = ""
        date = "31/02/2025" if i == 4 else f"2025-11-0{i}"
        rows.append(
            {
                "Ref": f"ph-{i}",
                "Date": date,
                "latitude": lon,
                "longitude": lat,
                "Type": "robbery",
                "Tell us what happened": text,
            }
        )
    return pd.DataFrame(rows).to_csv(index=False)


def go_to(page, title: str) -> None:
    """The sidebar link, clicked as a phone's tap reaches it (the sidebar is folded away at 390 px)."""
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first.dispatch_event("click")
    _wait_idle(page)


def upload(page, path) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    page.get_by_role("heading", name="Which column is which").wait_for(timeout=60_000)
    _wait_idle(page)


def metrics(page) -> dict[str, str]:
    labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    return {label.strip(): value.strip() for label, value in zip(labels, values, strict=True)}


def assert_fits_the_phone(page) -> None:
    """No sideways scrolling of the page; the confirm and download buttons are as wide as the page."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways: {width} px wide"
    main = page.locator('[data-testid="stMainBlockContainer"]').bounding_box()
    for name in ("Confirm and store", re.compile("Download the")):
        box = page.get_by_role("button", name=name).bounding_box()
        assert box["width"] >= main["width"] - 40, (name, box, main)


def shoot(page, name: str) -> None:
    """What the screen shows, and the whole page as it scrolls (Streamlit scrolls inside its main block)."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    size = page.viewport_size
    height = page.locator('[data-testid="stMainBlockContainer"]').evaluate("e => e.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height + 120)})
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / f"{name}_whole.png"))
    page.set_viewport_size(size)
    page.wait_for_timeout(500)


def confirm(page) -> None:
    page.get_by_role("button", name="Confirm and store").click()
    page.get_by_text("accepted. The file is in the batch history").wait_for(timeout=60_000)
    _wait_idle(page)


def test_a_cso_on_a_phone_fixes_the_rejected_rows_and_stores_every_report(server, store, browser, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    survey = tmp_path / "survey.csv"
    survey.write_text(messy_survey(store))
    with recording_page(browser, viewport=PHONE, is_mobile=True, has_touch=True, accept_downloads=True) as page:
        login_as(page, server, store, "cso", org=ORG, username="phone-cso")
        go_to(page, "Upload")
        upload(page, survey)
        page.get_by_text("Dry run").wait_for(timeout=60_000)
        text = page.locator('[data-testid="stMain"]').inner_text()
        assert "We think the column 'Tell us what happened' holds the report" in text
        assert "latitude and longitude the wrong way round" in text  # said before confirming
        assert "the latitude and longitude columns may be the wrong way round" in text
        assert "The row has no location" in text and "The date could not be read" in text
        assert "missing_location" not in text and "+00:00" not in text
        assert metrics(page) == {"Rows read": "6", "Accepted": "3", "Rejected": "3", "Duplicates": "0"}
        assert_fits_the_phone(page)
        shoot(page, "upload_phone_dry_run")

        with page.expect_download() as download:
            page.get_by_role("button", name=re.compile("Download the 3 rejected rows")).click()
        rejected = pd.read_csv(download.value.path(), dtype=str, keep_default_na=False)
        assert list(rejected.columns) == [
            "Ref",
            "Date",
            "latitude",
            "longitude",
            "Type",
            "Tell us what happened",
            "reason",
        ]
        assert list(rejected["Ref"]) == ["ph-3", "ph-4", "ph-6"]
        confirm(page)

        # Fixed as a person would in a spreadsheet: the empty cells filled in the file's own (swapped)
        # columns, the impossible date corrected; the header and the reason column left as they were.
        good = pd.read_csv(io.StringIO(messy_survey(store)), dtype=str, keep_default_na=False).set_index("Ref")
        for ref in ("ph-3", "ph-6"):
            near = good.loc["ph-2"]
            rejected.loc[rejected["Ref"] == ref, ["latitude", "longitude"]] = [near["latitude"], near["longitude"]]
        rejected.loc[rejected["Ref"] == "ph-4", "Date"] = "28/02/2025"
        fixed = tmp_path / "survey-fixed.csv"
        fixed.write_text(rejected.to_csv(index=False))
        upload(page, fixed)
        page.get_by_text("Dry run").wait_for(timeout=60_000)
        assert metrics(page) == {"Rows read": "3", "Accepted": "3", "Rejected": "0", "Duplicates": "0"}
        assert "The 'reason' column AreaSafe added" in page.locator('[data-testid="stMain"]').inner_text()
        shoot(page, "upload_phone_fixed")
        confirm(page)

        stored = store.read_incidents()
        mine = stored[stored["org"] == ORG]
        assert sorted(mine["external_id"]) == [f"ph-{i}" for i in range(1, 7)]  # every row of the survey
        assert set(mine["description"]) == set(TEXTS)  # the text under the unusual name was kept
        batches = store.read_batches()
        assert sorted(batches.loc[batches["org"] == ORG, "accepted"]) == [3, 3]

        go_to(page, "Batches")  # later, the first batch's rejected rows are still there to fix
        assert page.locator('[data-testid="stException"]').count() == 0
        page.get_by_role("combobox").first.wait_for(timeout=30_000)
        with page.expect_download() as later:
            page.get_by_role("button", name=re.compile("Download the 3 rejected rows")).click()
        again = pd.read_csv(later.value.path(), dtype=str, keep_default_na=False)
        assert list(again.columns) == list(rejected.columns) and list(again["Ref"]) == ["ph-3", "ph-4", "ph-6"]
        shoot(page, "batches_phone")
        assert not page.failed, page.failed
        assert not page.external, page.external


def test_missing_location_at_phone_and_desktop_widths(server, store, browser, tmp_path):
    """The mapping controls and preview when no location is found, at phone and desktop widths (and the
    dry run on a desktop, for a person to look at)."""
    ARTIFACTS.mkdir(exist_ok=True)
    survey = tmp_path / "no-location.csv"
    table = pd.read_csv(io.StringIO(messy_survey(store)), dtype=str, keep_default_na=False)
    survey.write_text(table.rename(columns={"latitude": "Oos", "longitude": "Noord"}).to_csv(index=False))
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        with recording_page(browser, viewport=viewport) as page:
            login_as(page, server, store, "cso", org=ORG, username="phone-cso")
            go_to(page, "Upload")
            upload(page, survey)
            text = page.locator('[data-testid="stMain"]').inner_text()
            assert "We could not find where each report happened" in text and "--lat-col" not in text
            assert page.get_by_text("Latitude", exact=True).count() == 1
            assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
            shoot(page, f"upload_{name}_no_location")
            if name == "desktop":
                messy = tmp_path / "survey-desktop.csv"
                messy.write_text(messy_survey(store).replace("ph-", "dt-"))
                upload(page, messy)
                page.get_by_text("Dry run").wait_for(timeout=60_000)
                _wait_idle(page)
                shoot(page, "upload_desktop_dry_run")
            assert not page.failed, page.failed
