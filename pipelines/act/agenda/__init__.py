"""The ACT meeting agenda for one Safe Neighbourhood and month, built from the data.

Place in the data flow: analyse. :func:`load_meeting` is the only function here that reads the store
(through the :class:`~pipelines.store.base.Store` interface); :func:`build_agenda` is pure and turns that
:class:`MeetingContext` into an :class:`Agenda`: an ordered tuple of :class:`AgendaItem`, one screen each in
meeting mode and one section each in the meeting pack.

Dates. The meeting's reference day ``as_of`` is the day it was held (``meetings.held_on``) or, when that is
not recorded, the last day of the month. "Since last meeting" means after the previous meeting of the
neighbourhood (its ``held_on``, or the end of its month), or from the first of the month when there was none.
Everything is in local time (``Settings.local_timezone``).

Items, in order:

1. **Actions from last time**: open and blocked actions from earlier meetings, overdue first (most days
   overdue first), then blocked, then by due date; then those closed since the last meeting.
2. **Interventions**: status changed since the last meeting, note-only updates, no update in
   ``stale_weeks`` weeks (complete ones excepted: finished work needs no news), stalled, or past their end
   date and not complete.
3. **One item per new or intensifying hot spot**: connected groups of H3 cells whose emerging-hot-spot
   category (:mod:`pipelines.hotspots.emerging`) is ``new_hot``, ``consecutive_hot`` or ``intensifying_hot``
   over the 12 months ending with the meeting month, each with the nearest assets within walking
   distance (400 m), whether an intervention covers it (:func:`~pipelines.hotspots.hotspots_without_intervention`)
   and the actions already linked to its cells.
4. **Changes in counts**: per category, this month against the average of the ``baseline_months`` before
   it, with an honest small-number rule (see :func:`count_changes`). When the meeting month looks
   incomplete (:func:`pipelines.hotspots.months.month_completeness`: a source has not uploaded since it
   ended, or its count is improbably low, as it usually is for a meeting held mid-month), the item reads
   the last complete month instead and says so, unless the meeting was loaded with ``include_partial``.
   The hot spot window of item 3 ends at that month too.
5. **Community reports since the last meeting**.
6. **Budget cycles and deadlines** (:mod:`pipelines.act.finance`).
7. **Decisions recorded at this meeting**, once there are any.

The package, one room per concern: :mod:`.context` loads what the meeting needs (:func:`load_meeting`) and
holds the data classes; :mod:`.review` reads the actions register and the interventions' status log (items 1,
2 and 7); :mod:`.hotspots` item 3; :mod:`.counts` item 4; :mod:`.reports` item 5; :mod:`.budget` item 6; and
:mod:`.wording` the words they share (counts by the public rules, category names, owners, bottlenecks).
:func:`build_agenda` puts the items in order and :func:`agenda_for` loads and builds in one call.
"""

from __future__ import annotations

import pandas as pd

from pipelines import privacy
from pipelines.act import finance
from pipelines.act.agenda.budget import budget_item
from pipelines.act.agenda.context import (
    HOTSPOT_MONTHS,
    ITEM_KINDS,
    Agenda,
    AgendaError,
    AgendaItem,
    MeetingContext,
    load_meeting,
)
from pipelines.act.agenda.counts import BASELINE_MONTHS, COUNT_COLUMNS, count_changes, counts_item
from pipelines.act.agenda.hotspots import AGENDA_CLASSES, TREND_SENTENCES, hotspot_groups, hotspot_items
from pipelines.act.agenda.reports import REPORT_COLUMNS, community_reports, reports_item
from pipelines.act.agenda.review import (
    ACTION_REVIEW_COLUMNS,
    DELIVERY_STATUSES,
    INTERVENTION_REVIEW_COLUMNS,
    STALE_WEEKS,
    action_review,
    actions_item,
    decisions_item,
    intervention_review,
    interventions_item,
)
from pipelines.act.agenda.wording import Counts
from pipelines.privacy import Viewer
from pipelines.privacy import public as rules
from pipelines.store.base import Store

__all__ = [
    "ACTION_REVIEW_COLUMNS",
    "AGENDA_CLASSES",
    "BASELINE_MONTHS",
    "COUNT_COLUMNS",
    "DELIVERY_STATUSES",
    "HOTSPOT_MONTHS",
    "INTERVENTION_REVIEW_COLUMNS",
    "ITEM_KINDS",
    "REPORT_COLUMNS",
    "STALE_WEEKS",
    "TREND_SENTENCES",
    "Agenda",
    "AgendaError",
    "AgendaItem",
    "MeetingContext",
    "action_review",
    "agenda_for",
    "build_agenda",
    "community_reports",
    "count_changes",
    "hotspot_groups",
    "intervention_review",
    "load_meeting",
]


def build_agenda(
    context: MeetingContext,
    *,
    stale_weeks: int = STALE_WEEKS,
    baseline_months: int = BASELINE_MONTHS,
    deadline_months: int = 6,
    public: bool = False,
) -> Agenda:
    """The agenda of the meeting in ``context`` (see the module docstring for the items).

    Parameters
    ----------
    stale_weeks : int
        An intervention with no status-log entry in this many weeks before the meeting is "stale".
    baseline_months : int
        Months before the meeting month that make the baseline of :func:`count_changes`.
    deadline_months : int
        How far ahead budget deadlines are listed.
    public : bool
        Apply the public-release rules of :mod:`pipelines.privacy.public` (no people, no free text, sensitive
        categories merged, incident counts of 1-4 shown as ``<5``).
    """
    for name, value in (("stale_weeks", stale_weeks), ("baseline_months", baseline_months)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise AgendaError(f"{name} must be a whole number of at least 1; got {value!r}.")
    if public:
        context = rules.public_context(context)
    fmt = Counts(public)
    groups, hot = hotspot_items(context, fmt)
    interventions = context.neighbourhood_interventions
    budget_items = finance.budget_items(interventions, context.actions)
    cycles = finance.budget_cycles(budget_items, as_of=context.as_of)
    deadlines = finance.upcoming_deadlines(budget_items, as_of=context.as_of, months=deadline_months)
    items = [
        actions_item(context),
        interventions_item(context, stale_weeks),
        *hot,
        counts_item(context, baseline_months, fmt),
        reports_item(context, groups, fmt),
        budget_item(context, cycles, deadlines, deadline_months),
    ]
    decisions = decisions_item(context)
    if decisions is not None:
        items.append(decisions)
    return Agenda(context, tuple(items), groups, budget_items, cycles, deadlines, stale_weeks, public)


def agenda_for(
    store: Store,
    code: str,
    month: str | pd.Period,
    *,
    viewer: Viewer,
    public: bool = False,
    include_partial: bool = False,
    **options,
) -> Agenda:
    """:func:`load_meeting` then :func:`build_agenda` (``options`` go to the latter). ``public`` builds the
    public variant, which is loaded as the public sees the data whoever asks."""
    who = privacy.PUBLIC if public else viewer
    context = load_meeting(store, code, month, viewer=who, include_partial=include_partial)
    return build_agenda(context, public=public, **options)
