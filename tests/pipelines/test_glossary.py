"""One glossary, in the words of the screens (issue 17): the page, the meeting pack and the "what this
means" line beside each statistic all read pipelines.glossary."""

from __future__ import annotations

import pytest

from pipelines import glossary
from pipelines.hotspots import change
from pipelines.hotspots.emerging import HOTSPOT_CLASSES
from pipelines.settings import STORE_ENV
from tests._helpers import page_as

#: What the issue asks the glossary to explain, for an ACT member.
ASKED = ("Hot spot", "No clear change", "Too few reports to tell", "Smoothed rate", "Partial month", "Did it work?")


def test_the_glossary_explains_what_the_issue_asks_and_every_class_and_reading():
    terms = [e.term for e in glossary.entries()]
    for asked in ASKED:
        assert any(t.startswith(asked) for t in terms), asked
    for cls in HOTSPOT_CLASSES:
        if cls.key != "none":
            assert glossary.entry(cls.label).means.lower().startswith(cls.meaning[:20].lower())
    assert glossary.entry("No clear change").means == change.MEANINGS[change.NO_CLEAR_CHANGE]
    for entry in glossary.entries():  # plain words: none of the statistics' names
        text = f"{entry.term} {entry.means}"
        for word in ("Gi*", "z-score", "p-value", "FDR", "H3", "resolution", "Benjamini"):
            assert word not in text, (entry.term, word)


@pytest.mark.parametrize("role", [None, "act_member"])
def test_the_glossary_page(demo_store, monkeypatch, role):
    monkeypatch.setenv(STORE_ENV, demo_store.url)
    at = page_as(demo_store, "glossary", role)
    assert at.title[0].value == "What the words mean"
    assert {h.value for h in at.subheader} >= {"Hot spot", "No clear change", "Partial month"}
    assert len(at.expander) == len(glossary.entries())


def test_statistics_say_what_they_mean_beside_them(demo_store, monkeypatch):
    monkeypatch.setenv(STORE_ENV, demo_store.url)
    at = page_as(demo_store, "profile", "act_member")
    captions = " ".join(c.value for c in at.caption)
    assert "**Smoothed rate (per 1,000 residents)**:" in captions and "**Hot spot**:" in captions
    assert sum(e.label == "How we know" for e in at.expander) >= 3


def test_the_pack_carries_the_glossary(demo_store):
    from pipelines.act.pack import build_pack
    from pipelines.privacy import PUBLIC

    code = demo_store.read_areas("neighbourhood")["code"].iloc[0]
    months = sorted(demo_store.read_incidents()["occurred_at"].dt.tz_convert("Africa/Johannesburg").dt.to_period("M"))
    pack = build_pack(demo_store, code, months[-1], viewer=PUBLIC, public=True)
    annex = next(a for a in pack.annexes if a.title == "What the words mean")
    assert set(annex.table["Term"]) == {e.term for e in glossary.entries()}
    assert "Gi*" not in pack.map_caption and "H3" not in pack.map_caption
