"""The words AreaSafe uses for its numbers, written for an ACT member: one place for the glossary page and
the meeting pack.

Each entry reuses the sentence of the module that makes the number, so the glossary cannot drift from the
screens: the hot-spot classes from :data:`pipelines.hotspots.emerging.HOTSPOT_CLASSES`, the readings of
a change from :data:`pipelines.hotspots.change.MEANINGS`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.hotspots import change
from pipelines.hotspots.emerging import HOTSPOT_CLASSES


@dataclass(frozen=True)
class Entry:
    """A term as people meet it on screen, what it means, and how we know (one or two sentences each)."""

    term: str
    means: str
    how_we_know: str


def _hotspot_entries() -> list[Entry]:
    how = (
        "Each small hexagon is compared with the hexagons around it, month by month, over the last 12 months. "
        "A hexagon counts as a hot spot only when its cluster has more reports than chance would give, after "
        "allowing for the many hexagons looked at."
    )
    shown = [c for c in HOTSPOT_CLASSES if c.key != "none"]
    return [Entry(c.label, c.meaning[:1].upper() + c.meaning[1:] + ".", how) for c in shown]


def entries() -> list[Entry]:
    """Every glossary entry, in the order a meeting meets them."""
    return [
        Entry(
            "Hot spot",
            "A small area with clearly more reports than the areas around it, more than chance would give.",
            "Reports are counted in small hexagons (150 to 400 m across); each hexagon's cluster is compared with the "
            "whole neighbourhood. With too few reports no hot spot can be found, and the page says so: that is "
            "not the same as 'no hot spot'.",
        ),
        *_hotspot_entries(),
        Entry(
            "Up / Down",
            change.MEANINGS[change.UP].replace("More reports", "More (or fewer) reports"),
            f"This month's count is compared with the average of the {change.BASELINE_MONTHS} months before with "
            "an exact test that allows for the number of categories compared at once.",
        ),
        Entry(
            "No clear change",
            change.MEANINGS[change.NO_CLEAR_CHANGE],
            "The same test found no difference larger than chance, and there were enough reports that a doubling "
            "would have been seen. Shown in grey: it is not a finding.",
        ),
        Entry(
            "Too few reports to tell",
            change.MEANINGS[change.TOO_FEW],
            f"Below {change.SMALL_NUMBER} reports a month, or when even a doubling would be missed more than "
            f"{100 - round(change.MIN_POWER * 100)} times in 100, no change is read at all.",
        ),
        Entry(
            "Smoothed rate (per 1,000 residents)",
            "Reports per 1,000 residents, with small neighbourhoods pulled towards the rate of all "
            "neighbourhoods, so that a few reports in a small area do not put it at the top of the list.",
            "Empirical Bayes smoothing: the fewer residents an area has, the more its rate is pulled towards the "
            "overall rate. The map names where the resident numbers come from.",
        ),
        Entry(
            "Shared out to the ward",
            "Police figures come per police precinct, and wards do not follow precinct lines. A ward gets the share "
            "of each precinct's figures that matches the part of the precinct inside it.",
            "Each precinct's figures are split over the wards it overlaps in proportion to the residents of each part "
            "where AreaSafe holds population figures finer than the precinct, otherwise in proportion to area. The "
            "shares of a precinct add up to the whole, so no incident is counted twice or lost. The ward page says "
            "which way was used and which ward boundaries (2021 or later demarcation).",
        ),
        Entry(
            "Partial month",
            "A month whose reports are not all in yet. It is left out of trends and hot spots, and named.",
            "A month is partial when a source has not uploaded since the month ended, or when it has far fewer "
            "reports than the months before it.",
        ),
        Entry(
            "Did it work?",
            "Whether reports near an intervention fell or rose after it started, compared with similar places "
            "without one. The answer comes with a range, because counts swing from year to year.",
            "Reports near the intervention before and after its start are compared with the same change in about "
            "20 places that had a similar number of reports before and no intervention; the range allows for "
            "how much such places swing on their own.",
        ),
        Entry(
            "<5",
            "Between 1 and 4 reports: small numbers are not shown exactly, to protect the people involved.",
            "Counts from 1 to 4 are hidden, and so is any other number that would let someone work them out.",
        ),
    ]


def entry(term: str) -> Entry:
    """The entry of ``term`` (as :func:`entries` spells it)."""
    found = {e.term: e for e in entries()}
    if term not in found:
        raise KeyError(f"no glossary entry {term!r}; entries are {', '.join(found)}")
    return found[term]
