"""The browser tests' shared fixtures: one dashboard server per test module on the demo store, and a
recording page per test at the projector's size (a module needing another size overrides ``viewport``;
a module needing its own store or server overrides ``server``)."""

from __future__ import annotations

import pytest

from tests._dashboard import recording_page, running_dashboard

PROJECTOR = {"width": 1280, "height": 720}


@pytest.fixture(scope="module")
def server(demo_store, tmp_path_factory):
    """``areasafe serve`` on the demo store, for the module's tests; yields its base URL."""
    with running_dashboard(demo_store.url, tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield url


@pytest.fixture
def viewport() -> dict:
    """The page's size: a 1280x720 projector unless the module says otherwise."""
    return PROJECTOR


@pytest.fixture
def page(browser, viewport):
    """A fresh browser context's page of ``viewport`` size, recording failed and external requests."""
    with recording_page(browser, viewport=viewport) as page:
        yield page
