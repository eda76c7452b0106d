"""A sidebar filter changes the map's layers inside the frame it has, in a real headless Chromium: the frame
is not made again (no Leaflet loaded again, the reader's pan and zoom kept), and the counts drawn are the
filtered ones. Right after a login too: the login's cookie script must not move the map to a new frame."""

from __future__ import annotations

import pytest

from tests._dashboard import CHROMIUM
from tests.dashboard.browser.test_dashboard import MAP_FRAME, _wait_idle, login_as

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]

#: Each area's count as its layer holds it (the popup's "Incidents"), by the area's name.
_DRAWN_AREAS = """f => {
  const out = {};
  f.contentWindow.map.eachLayer(l => {
    const p = l.feature && l.feature.properties;
    if (p && String(p.ref || '').includes('area:')) out[p.name] = String(p.count);  // ref: the hidden reference's markup
  });
  return out;
}"""


@pytest.fixture
def viewport() -> dict:
    """Taller than the projector: the sidebar's Source choice and the whole map on one screen."""
    return {"width": 1280, "height": 900}


def _published(store, username: str, sources) -> dict[str, str]:
    """What the sidebar's first view (its default Safe Neighbourhood and months) publishes for a planner, by
    area name, for ``sources``."""
    from dashboard.loaders import Filters
    from dashboard.sidebar import default_neighbourhood, default_period
    from pipelines import privacy
    from pipelines.privacy import Viewer

    areas = store.read_areas()
    months, _ = privacy.filter_choices(store)
    code = default_neighbourhood(areas)
    query = Filters(code, None, default_period(months), None, sources).query()
    counts = privacy.published_counts(store, Viewer(username, "planner"), query).area_counts("neighbourhood")
    names = dict(zip(areas["code"], areas["name"], strict=False))
    return {names[c]: s for c, s in zip(counts["code"], counts["shown"], strict=True) if c == code}


def test_a_source_change_redraws_the_counts_in_the_same_frame(server, page, demo_store):
    username = login_as(page, server, demo_store, "planner")  # a login lands on the map
    frame = page.locator(MAP_FRAME)
    page.frame_locator(MAP_FRAME).locator(".leaflet-container .leaflet-pane path").first.wait_for(state="attached")
    page.wait_for_timeout(1000)
    both, municipal = _published(demo_store, username, None), _published(demo_store, username, ("municipal",))
    (focus,) = both
    assert both != municipal  # the demo's community reports count there
    before = frame.evaluate(_DRAWN_AREAS)
    assert before[focus] == both[focus]
    frame.evaluate("f => { f.contentWindow.areasafeKept = 'this frame'; }")

    page.locator('[data-testid="stSidebar"]').get_by_text("Municipal", exact=True).click()
    _wait_idle(page)
    page.wait_for_function(
        f"() => ({_DRAWN_AREAS})(document.querySelector('{MAP_FRAME}'))[{focus!r}] === {municipal[focus]!r}",
        timeout=30_000,
    )
    after = frame.evaluate(_DRAWN_AREAS)
    assert frame.evaluate("f => f.contentWindow.areasafeKept") == "this frame"  # the frame was not made again
    assert after[focus] == municipal[focus] and after.keys() == before.keys()
    assert page.frame_locator(MAP_FRAME).locator(".leaflet-control-layers").count() == 1  # one control, replaced
    assert not page.failed, page.failed
    assert not page.external, page.external
