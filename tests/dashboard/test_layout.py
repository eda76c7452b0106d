"""dashboard.layout: the pages laid out for the projector are the ones whose choice closes the sidebar."""

from __future__ import annotations

from pathlib import Path

from dashboard import layout

PAGES = Path(layout.__file__).parent / "app_pages"


def test_every_meeting_view_closes_the_sidebar_when_chosen():
    """A page that calls ``layout.meeting_view()`` is listed in ``MEETING_VIEWS`` (its sidebar link closes the
    sidebar on any screen), and only such a page."""
    calling = {page.stem for page in PAGES.glob("*.py") if "layout.meeting_view()" in page.read_text()}
    assert calling == set(layout.MEETING_VIEWS) == {"act_review", "meeting"}
