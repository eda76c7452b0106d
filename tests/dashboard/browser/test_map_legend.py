"""The map legend in a real headless Chromium at projector size (1280x720), as a planner and as the public.

Screenshots go to ``test-artifacts/map-legend-*.png`` (and ``/tmp/shots-map/`` when that folder exists) for a
person to look at. The text checks: classes in words, real ranges, no statistics jargon below analyst.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests._dashboard import ARTIFACTS, CHROMIUM
from tests.dashboard.browser.test_dashboard import MAP_FRAME, _wait_idle, login_as, open_page

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")
SHOTS = Path("/tmp/shots-map")
JARGON = ("Gi*", "z-score", "p-value", "FDR", "Benjamini", "resolution", "≤", "gi_bin", "emerging")


def _map_page_text(page) -> str:
    page.frame_locator(MAP_FRAME).locator(".leaflet-container").wait_for(timeout=60_000)
    page.wait_for_timeout(2000)
    return page.locator('[data-testid="stMain"]').inner_text()


def _shoot(page, name: str) -> None:
    """The page as the viewport shows it, and the legend itself (it sits beside the map, below the fold)."""
    ARTIFACTS.mkdir(exist_ok=True)
    legend = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text="Context").last
    legend.scroll_into_view_if_needed()
    paths = [ARTIFACTS / f"map-legend-{name}-page.png", ARTIFACTS / f"map-legend-{name}.png"]
    page.screenshot(path=str(paths[0]))
    legend.screenshot(path=str(paths[1]))
    for path in paths:
        if SHOTS.is_dir():
            shutil.copy(path, SHOTS / path.name)


def test_planner_legend_names_classes_in_words_with_real_ranges(server, page, demo_store):
    login_as(page, server, demo_store, "planner")
    open_page(page, "Map explorer")  # through the sidebar, as a person would
    page.get_by_text("Per 1,000 residents", exact=True).first.click()
    _wait_idle(page)
    text = _map_page_text(page)
    _shoot(page, "planner")
    assert "Safe Neighbourhoods: incidents per 1,000 residents (smoothed)" in text
    assert "Residents: estimated from Census 2022 (Stats SA)" in text
    assert "New hot spot: hot in the latest months" in text  # the planted Aug-Oct spot, in words
    assert "Crude rates" in text  # planners may switch to crude rates
    ranges = re.findall(r"^\d[\d,.]*(?:–[\d,.]+|\+)?$", text, re.M)
    assert len(ranges) >= 2, text
    for word in JARGON:
        assert word not in text, word
    assert not page.failed, page.failed


def test_public_legend_and_caption_agree(server, page):
    page.goto(f"{server}/")  # the map is the public's main page
    _wait_idle(page)
    text = _map_page_text(page)
    _shoot(page, "public")
    assert "no hot or cold spots are shown" in text
    # nothing drawn, nothing in the legend (the Layers choice still names the layer)
    assert "New hot spot" not in text and "Cold spot" not in text and "Persistent hot spot" not in text
    assert "Incidents per hexagon" in text or "Safe Neighbourhoods: incidents" in text
    for word in ("Gi*", "z-score", "≤", "Crude rates"):
        assert word not in text, word
