"""An ACT member reads the pages in plain words (issue 17): a real headless Chromium, logged in as an
act_member, reads the text of the ACT review, meeting mode (every item), the map and the profile, and finds
none of the statistics' jargon, internal field names, UTC offsets or Streamlit's own API documentation.

Screenshots at projector size go to ``test-artifacts/plain-words-*.png`` for a person to look at.
"""

from __future__ import annotations

import re

import pytest

from tests._dashboard import ARTIFACTS, CHROMIUM
from tests.dashboard.browser.test_dashboard import MAP_FRAME, _wait_idle, login_as, open_page

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")

#: What an ACT member must never read (issue 17, "Plain words everywhere"), as patterns on the page text.
FORBIDDEN = {
    "H3 ids": r"\b8[0-9a-f]{14}\b",
    "H3": r"\bH3\b",
    "z-scores": r"\bz[- ]?(score|value)s?\b|\bgi_z\b",
    "p-values": r"\bp[- ]?values?\b|\bp\s*[<=]\s*0?\.\d",
    "Gi*": r"Gi\*|\bGi[_ ]?bin\b|\bgi_star\b",
    "FDR": r"\bFDR\b|Benjamini|Hochberg",
    "resolution": r"\bresolution\b",
    "internal field names": r"\b(asset_id|batch_id|intervention_id|neighbourhood_code|precinct_code|this_month|"
    r"previous_month|baseline_mean|overdue_days|hotspot_class|emerging)\b",
    "None cells": r"(^|\t|\n)None($|\t|\n)",
    "UTC times": r"\+00:00|\bUTC\b",
    "Streamlit's API documentation": r"DeltaGenerator",
}


def _jargon(text: str) -> dict[str, list[str]]:
    found = {}
    for name, pattern in FORBIDDEN.items():
        hits = {m.group(0).strip() for m in re.finditer(pattern, text, flags=re.IGNORECASE | re.MULTILINE)}
        if hits:
            found[name] = sorted(hits)[:5]
    return found


def _main_text(page) -> str:
    errors = page.locator('[data-testid="stException"]')
    assert not errors.count(), errors.first.inner_text()  # a page that fails shows no jargon, and is no pass
    return page.locator('[data-testid="stMain"]').inner_text()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"plain-words-{name}.png"))


def test_the_scan_finds_jargon():
    """Control: the patterns catch what the pages used to show."""
    shown_before = "Gi* and emerging hot spots (H3 resolution 10)\ncell 8a2a1072b59ffff z-score 3.1 p = 0.002\nNone"
    assert set(_jargon(shown_before)) >= {"Gi*", "H3", "H3 ids", "z-scores", "p-values", "resolution", "None cells"}


def test_an_act_member_reads_no_jargon(server, page, demo_store):
    login_as(page, server, demo_store, "act_member")
    found = {}
    open_page(page, "Map explorer")
    page.frame_locator(MAP_FRAME).locator(".leaflet-container").wait_for(timeout=60_000)
    page.wait_for_timeout(2000)
    found["map"] = _jargon(_main_text(page))
    _shot(page, "map")
    for title, key in (("Neighbourhood profile", "profile"), ("ACT meeting review", "act_review")):
        open_page(page, title)
        found[key] = _jargon(_main_text(page))
        _shot(page, key)
    open_page(page, "Meeting mode")
    count = int(re.search(r"Item 1 of (\d+)", _main_text(page)).group(1))
    assert count >= 5, "meeting mode showed fewer items than the agenda has"
    for item in range(1, count + 1):
        page.get_by_text(f"Item {item} of {count}").wait_for(timeout=60_000)
        found[f"meeting item {item}"] = _jargon(_main_text(page))
        _shot(page, f"meeting-{item}")
        if item < count:
            page.get_by_role("button", name=re.compile(r"^Next")).first.click()
            _wait_idle(page)
    leaks = {where: hits for where, hits in found.items() if hits}
    assert not leaks, leaks


#: Column names a table shows a planner or ACT member must be words (tables are drawn on a canvas in the
#: browser, so their headers are checked here, where the page's elements can be read).
INTERNAL = re.compile(r"^[a-z]+(_[a-z]+)+$|^(name|lead|status|date|category|org|description|type)$")


@pytest.mark.parametrize("page_name", ["map_explorer", "profile", "act_review", "meeting", "glossary"])
def test_an_act_member_reads_tables_in_words(demo_store, monkeypatch, page_name):
    from pipelines.settings import STORE_ENV
    from tests._helpers import page_as

    monkeypatch.setenv(STORE_ENV, demo_store.url)
    at = page_as(demo_store, page_name, "act_member")
    headers = [str(c) for df in at.dataframe for c in df.value.columns]
    headers += [str(c) for tb in at.table for c in [*tb.value.columns, tb.value.index.name] if c is not None]
    assert not [h for h in headers if INTERNAL.match(h)], headers
    shown = "\n".join(str(el.value) for el in [*at.markdown, *at.caption, *at.info, *at.warning, *at.subheader])
    assert not _jargon(shown), _jargon(shown)
