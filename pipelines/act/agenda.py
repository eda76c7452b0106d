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
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from pipelines import hexes, privacy
from pipelines.act import finance
from pipelines.act.actions import OPEN_STATUSES, meeting_id, overdue
from pipelines.errors import AreaSafeError
from pipelines.hotspots import change
from pipelines.hotspots.coverage import WALKING_DISTANCE_M, assets_near_hotspots, hotspots_without_intervention
from pipelines.hotspots.emerging import HOTSPOT_CLASS, hotspot_classes
from pipelines.hotspots.months import baseline_months as months_with_data_before
from pipelines.hotspots.months import first_data_month
from pipelines.hotspots.recipe import NeighbourhoodHotspots, UnknownNeighbourhoodError, neighbourhood_hotspots
from pipelines.periods import local_days, local_months, month_start, parse_month, to_local
from pipelines.privacy import Viewer, suppress
from pipelines.privacy import public as rules
from pipelines.schemas import STATUS_WORDS
from pipelines.store.base import IncidentQuery, Store
from pipelines.views import HOT_TRENDS, category_labels

#: Map classes that put a hot spot on the agenda, heat that is new or growing (emerging ``new_hot``,
#: ``consecutive_hot``, ``intensifying_hot``; :func:`pipelines.hotspots.emerging.hotspot_classes`): what the
#: agenda lists is what the map shows as "New hot spot" and "Hot spot getting worse", and nothing it does not.
AGENDA_CLASSES = ("new", "worse")
STALE_WEEKS = 8
BASELINE_MONTHS = change.BASELINE_MONTHS
HOTSPOT_MONTHS = 12
#: Statuses of work still being delivered: past its end date, it is overdue (maintenance is delivered work).
DELIVERY_STATUSES = ("planned", "in_progress", "stalled")
TREND_SENTENCES = {
    "new_hot": "Hot for the first time in {since}",
    "consecutive_hot": "Hot in every month since {since}, and not in the months before that in this 12-month view",
    "intensifying_hot": "Hot in most months and getting hotter",
}
ITEM_KINDS = ("actions", "interventions", "hotspot", "counts", "reports", "budget", "decisions")
_INCIDENT_COLUMNS = ("incident_id", "source", "org", "occurred_at", "category", "description", "sensitive")
_INCIDENT_COLUMNS += ("precinct_code", "neighbourhood_code")


class AgendaError(AreaSafeError):
    """The agenda cannot be built for these arguments; the message says which to change."""


@dataclass(frozen=True, eq=False)
class MeetingContext:
    """Everything the agenda and the pack need, read once from the store.

    Attributes
    ----------
    code, name : str
        The neighbourhood.
    month : pandas.Period
        The meeting month.
    area : geopandas.GeoDataFrame
        The neighbourhood polygon (one row).
    incidents : geopandas.GeoDataFrame
        The neighbourhood's incidents up to the end of the month, all sources and categories.
    interventions, assets : geopandas.GeoDataFrame
        All stored ones (coverage and nearness cross neighbourhood boundaries).
    intervention_log, actions, meetings : pandas.DataFrame
        The status log (all), and this neighbourhood's actions and meetings.
    hotspots : NeighbourhoodHotspots
        Gi* and emerging hot spots over the 12 months ending with ``month`` (or with the last complete
        month before it: see :attr:`trend_month`).
    """

    code: str
    name: str
    month: pd.Period
    area: gpd.GeoDataFrame
    incidents: gpd.GeoDataFrame
    interventions: gpd.GeoDataFrame
    assets: gpd.GeoDataFrame
    intervention_log: pd.DataFrame
    actions: pd.DataFrame
    meetings: pd.DataFrame
    hotspots: NeighbourhoodHotspots

    @property
    def trend_month(self) -> pd.Period:
        """The month read as "this month" in trends and count changes: the meeting month, or the last
        complete month before it when the meeting month looks incomplete (and was not included)."""
        partial = self.hotspots.partial
        if not partial or self.hotspots.include_partial:
            return self.month
        return partial[-1].month - 1

    @property
    def meeting_id(self) -> str:
        return meeting_id(self.code, self.month)

    @property
    def as_of(self) -> dt.date:
        """The day the meeting was held, or the last day of the month."""
        held = self.meetings.loc[self.meetings["meeting_id"] == self.meeting_id, "held_on"].dropna()
        return dt.date.fromisoformat(str(held.iloc[0])[:10]) if len(held) else self.month.end_time.date()

    @property
    def previous_meeting(self) -> pd.Series | None:
        earlier = self.meetings[self.meetings["month"].astype(str) < str(self.month)].sort_values("month")
        return earlier.iloc[-1] if len(earlier) else None

    @property
    def since(self) -> dt.date:
        """The last day already covered: the previous meeting's day, or the day before this month began."""
        previous = self.previous_meeting
        if previous is None:
            return self.month.start_time.date() - dt.timedelta(days=1)
        if isinstance(previous["held_on"], str) and previous["held_on"]:
            return dt.date.fromisoformat(previous["held_on"][:10])
        return pd.Period(previous["month"], freq="M").end_time.date()

    @property
    def neighbourhood_interventions(self) -> gpd.GeoDataFrame:
        return self.interventions[self.interventions["neighbourhood_code"] == self.code]


@dataclass(frozen=True)
class AgendaItem:
    """One agenda item: a screen in meeting mode, a section in the pack.

    Attributes
    ----------
    key : str
        Stable id within the agenda (``actions``, ``hotspot-1``...).
    kind : str
        One of :data:`ITEM_KINDS`.
    title, summary : str
        Heading and one or two plain sentences.
    table : pandas.DataFrame
        What to show, ready for display (may be empty).
    caveats : tuple of str
        Small-number warnings and method notes.
    links : dict
        Defaults for an action recorded on this item (``hotspot_cell``, ``intervention_id``, ``asset_id``).
    """

    key: str
    kind: str
    title: str
    summary: str
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    caveats: tuple[str, ...] = ()
    links: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Agenda:
    """The agenda of one meeting.

    Attributes
    ----------
    context : MeetingContext
    items : tuple of AgendaItem
    hotspot_groups : geopandas.GeoDataFrame
        One row per new or intensifying hot spot (``label`` H1, H2..., ``cells``, ``incidents``, the
        merged cell geometry), for the map.
    budget_items, budget_cycles, deadlines : pandas.DataFrame
        From :mod:`pipelines.act.finance`, for the neighbourhood's interventions and actions.
    stale_weeks : int
    public : bool
        Built with the public-release rules (:mod:`pipelines.privacy.public`).
    """

    context: MeetingContext
    items: tuple[AgendaItem, ...]
    hotspot_groups: gpd.GeoDataFrame
    budget_items: pd.DataFrame
    budget_cycles: pd.DataFrame
    deadlines: pd.DataFrame
    stale_weeks: int
    public: bool = False

    def item(self, key: str) -> AgendaItem:
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(f"no agenda item {key!r}; items are {', '.join(i.key for i in self.items)}")


def load_meeting(
    store: Store, code: str, month: str | pd.Period, *, viewer: Viewer, include_partial: bool = False
) -> MeetingContext:
    """Read what the meeting of ``code`` in ``month`` needs from ``store``, as ``viewer`` may see it.

    Incidents come from :func:`pipelines.privacy.counting_rows` (a sensitive incident at its generalised
    location below analyst), the hot-spot grid is no finer than :func:`pipelines.privacy.hotspot_resolution`
    and assets are :func:`pipelines.privacy.visible_assets`; the public pack loads with the public viewer.
    The stored batches say when each source last uploaded (:func:`~pipelines.hotspots.months.month_completeness`);
    ``include_partial`` keeps an incomplete meeting month in the trends.

    Raises
    ------
    BadMonthError
        ``month`` is not ``YYYY-MM``.
    UnknownNeighbourhoodError
        ``code`` is not a stored neighbourhood (the message lists the known codes).
    """
    period = parse_month(str(month), argument="--month")
    areas = store.read_areas("neighbourhood")
    area = areas[areas["code"] == code]
    if area.empty:
        known = ", ".join(sorted(map(str, areas["code"]))) or "none (load neighbourhood boundaries first)"
        raise UnknownNeighbourhoodError(f"Unknown neighbourhood {code!r} for --neighbourhood; known codes: {known}.")
    end = month_start(period + 1)
    query = IncidentQuery(neighbourhood=code, end=end, columns=list(_INCIDENT_COLUMNS))
    incidents = privacy.counting_rows(store, viewer, query)
    resolution = privacy.hotspot_resolution(store, viewer)
    return MeetingContext(
        code=code,
        name=str(area["name"].iloc[0]),
        month=period,
        area=area,
        incidents=incidents,
        interventions=store.read_table("interventions"),
        assets=privacy.read_table(store, viewer, "assets"),
        intervention_log=privacy.read_table(store, viewer, "intervention_log"),
        actions=store.read_table("actions", where={"neighbourhood_code": code}),
        meetings=store.read_table("meetings", where={"neighbourhood_code": code}),
        hotspots=neighbourhood_hotspots(
            incidents,
            area,
            months=HOTSPOT_MONTHS,
            until=period,
            resolution=resolution,
            batches=store.read_table("batches"),
            include_partial=include_partial,
        ),
    )


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
    fmt = _Counts(public)
    groups, hotspot_items = _hotspot_items(context, fmt)
    interventions = context.neighbourhood_interventions
    budget_items = finance.budget_items(interventions, context.actions)
    cycles = finance.budget_cycles(budget_items, as_of=context.as_of)
    deadlines = finance.upcoming_deadlines(budget_items, as_of=context.as_of, months=deadline_months)
    items = [
        _actions_item(context),
        _interventions_item(context, stale_weeks),
        *hotspot_items,
        _counts_item(context, baseline_months, fmt),
        _reports_item(context, groups, fmt),
        _budget_item(context, cycles, deadlines, deadline_months),
    ]
    decisions = _decisions_item(context)
    if decisions is not None:
        items.append(decisions)
    return Agenda(context, tuple(items), groups, budget_items, cycles, deadlines, stale_weeks, public)


class _Counts:
    """Formats incident counts for summaries: as they are, or by the public rules."""

    def __init__(self, public: bool) -> None:
        self.public = public

    def __call__(self, value: object) -> str:
        return suppress.format_count(value, public=self.public)


def _labels() -> dict[str, str]:
    return {**category_labels(), rules.SENSITIVE_CODE: rules.SENSITIVE_LABEL}


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


# --------------------------------------------------------------------------------------------------
# 1. Actions from last time
# --------------------------------------------------------------------------------------------------
ACTION_REVIEW_COLUMNS = ("action", "decision", "owner", "due", "status", "overdue_days", "bottleneck", "from")


def action_review(actions: pd.DataFrame, *, this_meeting: str, as_of: dt.date, since: dt.date) -> pd.DataFrame:
    """Actions from earlier meetings to review: still open (overdue first), then closed since ``since``.

    Columns :data:`ACTION_REVIEW_COLUMNS`; ``overdue_days`` is empty when not overdue, ``bottleneck`` reads
    "blocked by ...; can unblock: ..." for blocked actions.
    """
    if not len(actions):
        return pd.DataFrame(columns=list(ACTION_REVIEW_COLUMNS))
    earlier = actions[actions["meeting_id"].fillna("") != this_meeting]
    updated = local_days(earlier["updated_at"])
    still_open = earlier["status"].isin(OPEN_STATUSES)
    closed_since = ~still_open & (updated > since) & (updated <= as_of)
    chosen = earlier[still_open | closed_since].copy()
    due = pd.to_datetime(chosen["due"], errors="coerce").dt.date
    late = overdue(chosen, as_of=as_of)
    days = [(as_of - d).days if is_late else None for d, is_late in zip(due, late, strict=True)]
    chosen["_rank"] = np.select(
        [late.to_numpy(), (chosen["status"] == "blocked").to_numpy(), chosen["status"].isin(OPEN_STATUSES).to_numpy()],
        [0, 1, 2],
        3,
    )
    chosen["_days"] = [-(d or 0) for d in days]
    chosen["_due"] = due.fillna(dt.date.max)
    chosen["overdue_days"] = days
    chosen = chosen.sort_values(["_rank", "_days", "_due", "action_id"], kind="stable")
    return pd.DataFrame(
        {
            "action": chosen["action_id"].to_numpy(),
            "decision": chosen["decision"].to_numpy(),
            "owner": [_owner(o, p) for o, p in zip(chosen["owner_org"], chosen["owner_person"], strict=True)],
            "due": chosen["due"].fillna("").to_numpy(),
            "status": [s if s in OPEN_STATUSES else f"{s} since last meeting" for s in chosen["status"].to_numpy()],
            "overdue_days": pd.array(chosen["overdue_days"].to_numpy(), dtype="Int64"),
            "bottleneck": [
                _bottleneck(s, b, u)
                for s, b, u in zip(chosen["status"], chosen["blocked_by"], chosen["unblocker"], strict=True)
            ],
            "from": chosen["meeting_id"].fillna("").str.extract(r"(\d{4}-\d{2})$")[0].fillna("").to_numpy(),
        }
    )


def _actions_item(context: MeetingContext) -> AgendaItem:
    table = action_review(context.actions, this_meeting=context.meeting_id, as_of=context.as_of, since=context.since)
    open_ = table["status"].isin(OPEN_STATUSES)
    late = table["overdue_days"].notna()
    blocked = table["status"] == "blocked"
    closed = (~open_).sum()
    if not len(table):
        summary = "No actions from earlier meetings are open."
    else:
        # Overdue on the meeting day, not today: the actions register counts against today and says so.
        summary = (
            f"{int(open_.sum())} open action(s) from earlier meetings; {int(late.sum())} overdue on the meeting "
            f"day ({context.as_of.day} {context.as_of:%B %Y})"
        )
        summary += f" and {int(blocked.sum())} blocked." if blocked.any() else "."
        if blocked.any():
            first = table[blocked].iloc[0]
            summary += f" Bottleneck: {first['decision']} ({first['bottleneck']})."
        if closed:
            summary += f" {int(closed)} closed since the last meeting."
    return AgendaItem("actions", "actions", "Actions from last time", summary, table)


# --------------------------------------------------------------------------------------------------
# 2. Interventions
# --------------------------------------------------------------------------------------------------
INTERVENTION_REVIEW_COLUMNS = ("intervention", "lead", "status", "flags", "last_update", "weeks", "news")


def intervention_review(
    interventions: pd.DataFrame,
    log: pd.DataFrame,
    *,
    as_of: dt.date,
    since: dt.date,
    stale_weeks: int = STALE_WEEKS,
) -> pd.DataFrame:
    """Interventions the ACT should hear about, with why (``flags``).

    Flags: ``status changed`` (a log entry after ``since`` whose status differs from the entry before it),
    ``updated`` (a note after ``since`` without a status change), ``stale`` (no log entry in the
    ``stale_weeks`` weeks up to ``as_of``; complete interventions are never stale), ``stalled``, and
    ``overdue`` (end date before ``as_of`` and still being delivered: planned, in progress or stalled). Log entries after ``as_of`` are ignored:
    they had not happened at the meeting. Columns :data:`INTERVENTION_REVIEW_COLUMNS` (and ``_id``, the
    intervention id); ``news`` is the
    latest change or note ("in_progress -> stalled on 2026-10-08: Cable stolen twice").
    """
    if not len(interventions):
        return pd.DataFrame(columns=[*INTERVENTION_REVIEW_COLUMNS, "_id"])
    entries = _log_until(log, as_of)
    rows = []
    for record in pd.DataFrame(interventions).to_dict("records"):
        mine = entries[entries["intervention_id"] == record["intervention_id"]]
        row = _review_row(record, mine, as_of=as_of, since=since, stale_weeks=stale_weeks)
        if row is not None:
            rows.append(row)
    rows.sort(key=lambda r: r["_order"])
    table = pd.DataFrame(rows, columns=[*INTERVENTION_REVIEW_COLUMNS, "_id"])
    table["weeks"] = pd.array(table["weeks"], dtype="Int64")
    return table


def _log_until(log: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The status-log entries up to ``as_of`` (by local day, ``_day``), per intervention in time order."""
    entries = log.assign(_day=local_days(log["changed_at"])) if len(log) else log.assign(_day=[])
    return entries[entries["_day"] <= as_of].sort_values(["intervention_id", "changed_at"], kind="stable")


def _recent_news(mine: pd.DataFrame, since: dt.date) -> tuple[list[str], str]:
    """The flags (``status changed``, ``updated``) and the news of one intervention's log entries after
    ``since``: the latest status change, else the latest note."""
    before = mine[mine["_day"] <= since]
    recent = mine[mine["_day"] > since]
    flags, change_news, update_news = [], "", ""
    previous_status = before["status"].iloc[-1] if len(before) else None
    for entry in recent.to_dict("records"):
        note = f": {entry['note']}" if isinstance(entry.get("note"), str) and entry["note"] else ""
        if previous_status is not None and entry["status"] != previous_status:
            flags.append("status changed")
            change_news = (
                f"{STATUS_WORDS.get(previous_status, previous_status)} -> "
                f"{STATUS_WORDS.get(entry['status'], entry['status'])} on {entry['_day']}{note}"
            )
        else:
            update_news = f"update on {entry['_day']}{note}"
        previous_status = entry["status"]
    if len(recent) and "status changed" not in flags:
        flags.append("updated")
    return flags, change_news or update_news


def _stale_news(mine: pd.DataFrame, last_day: dt.date | None) -> str:
    """The news of a stale intervention with none: its last update (and note), or that there was none."""
    if last_day is None:
        return "no update recorded"
    return f"last update {last_day}" + (f": {mine['note'].iloc[-1]}" if isinstance(mine["note"].iloc[-1], str) else "")


def _is_overdue(record: dict, as_of: dt.date) -> bool:
    """Whether an intervention ended before ``as_of`` and is still being delivered."""
    end = pd.to_datetime(record.get("end"), errors="coerce")
    return not pd.isna(end) and end.date() < as_of and record["status"] in DELIVERY_STATUSES


def _review_row(record: dict, mine: pd.DataFrame, *, as_of: dt.date, since: dt.date, stale_weeks: int) -> dict | None:
    """One intervention's row of :func:`intervention_review` from its log entries ``mine``; ``None`` when
    nothing flags it."""
    flags, news = _recent_news(mine, since)
    last_day = mine["_day"].iloc[-1] if len(mine) else None
    weeks = None if last_day is None else (as_of - last_day).days // 7
    if record["status"] != "complete" and (last_day is None or weeks >= stale_weeks):
        flags.append("stale")
        if not news:
            news = _stale_news(mine, last_day)
    if record["status"] == "stalled":
        flags.append("stalled")
    if _is_overdue(record, as_of):
        flags.append("overdue")
    if not flags:
        return None
    return {
        "intervention": record["name"],
        "lead": record.get("lead"),
        "status": STATUS_WORDS.get(record["status"], record["status"]),
        "flags": ", ".join(dict.fromkeys(flags)),
        "last_update": "" if last_day is None else str(last_day),
        "weeks": weeks,
        "news": news,
        "_order": (0 if "status changed" in flags else 1 if "stalled" in flags else 2, str(record["name"])),
        "_id": record["intervention_id"],
    }


def _interventions_item(context: MeetingContext, stale_weeks: int) -> AgendaItem:
    table = intervention_review(
        context.neighbourhood_interventions,
        context.intervention_log,
        as_of=context.as_of,
        since=context.since,
        stale_weeks=stale_weeks,
    )
    ids = table.pop("_id")
    flags = table["flags"]
    parts = [
        f"{int(flags.str.contains(word).sum())} {word}"
        for word in ("status changed", "stale", "stalled", "overdue")
        if flags.str.contains(word).any()
    ]
    n = len(context.neighbourhood_interventions)
    summary = (
        f"{len(table)} of {n} intervention(s) need attention: {', '.join(parts) or 'news only'}."
        if len(table)
        else f"None of the {n} intervention(s) changed status, went stale or is overdue."
    )
    links = {"intervention_id": str(ids.iloc[0])} if len(ids) else {}
    caveat = (
        f"Stale: no status update in the {stale_weeks} weeks before {context.as_of:%d %b %Y} "
        "(complete interventions excepted)."
    )
    return AgendaItem(
        "interventions", "interventions", "Interventions: changes and stale updates", summary, table, (caveat,), links
    )


# --------------------------------------------------------------------------------------------------
# 3. New and intensifying hot spots
# --------------------------------------------------------------------------------------------------
def hotspot_groups(
    result: NeighbourhoodHotspots,
    *,
    classes: tuple[str, ...] = AGENDA_CLASSES,
    categories: pd.Series | None = None,
    fmt=str,
) -> gpd.GeoDataFrame:
    """Connected groups of cells whose map class (``hotspot_class``) is one of ``classes``, largest first.

    Columns: ``label`` (H1, H2...), ``cells`` (list of cell ids, busiest first), ``core_cell`` (the busiest),
    ``trend`` (the most common emerging category of the group), ``hotspot_class`` (the most urgent class
    among its cells, as the map names it), ``incidents`` (in the window), ``recent`` (in the
    last three months), ``hot_since`` (first month of the run of hot months that ends in the final month,
    over the group's cells), ``top_categories`` and the merged geometry.

    ``categories`` (incident id -> category code) overrides the incidents' own categories (the public
    variant merges sensitive ones); ``fmt`` formats the counts in ``top_categories``.
    """
    found = result.cells
    if "hotspot_class" not in found:
        found = found.assign(
            hotspot_class=hotspot_classes(found["gi_bin"], found["emerging"], sufficient=result.hotspots.sufficient)
        )
    cells = found[found["hotspot_class"].isin(list(classes))]
    columns = ["label", "cells", "core_cell", "trend", "hotspot_class", "incidents", "recent", "hot_since"]
    columns.append("top_categories")
    if cells.empty:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=result.cells.crs)
    ids = set(cells["cell_id"])
    groups: list[list[str]] = []
    seen: set[str] = set()
    for start in cells.sort_values("count", ascending=False)["cell_id"]:
        if start in seen:
            continue
        group, todo = [], [start]
        seen.add(start)
        while todo:
            cell = todo.pop()
            group.append(cell)
            for nxt in h3.grid_disk(cell, 1):
                if nxt in ids and nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        groups.append(group)
    by_id = cells.set_index("cell_id")
    grid_incidents = result.grid.incidents
    months = local_months(grid_incidents["occurred_at"])
    recent_months = set(result.months[-3:])
    labels = _labels()
    category = grid_incidents["category"]
    if categories is not None:
        category = grid_incidents["incident_id"].map(categories).fillna(category)
    hot_since = _hot_since(result)
    rows, geoms = [], []
    for group in sorted(groups, key=lambda g: -by_id.loc[g, "count"].sum()):
        ordered = list(by_id.loc[group].sort_values("count", ascending=False).index)
        inside = grid_incidents["cell_id"].isin(ordered).to_numpy()
        top = category[inside].value_counts().head(3)
        rows.append(
            {
                "cells": ordered,
                "core_cell": ordered[0],
                "trend": by_id.loc[ordered, "emerging"].value_counts().index[0],
                "hotspot_class": next(c for c in classes if (by_id.loc[ordered, "hotspot_class"] == c).any()),
                "incidents": int(by_id.loc[ordered, "count"].sum()),
                "recent": int((inside & months.isin(recent_months).to_numpy()).sum()),
                "hot_since": min((hot_since[c] for c in ordered if c in hot_since), default=None),
                "top_categories": ", ".join(f"{labels.get(c, c)} ({fmt(n)})" for c, n in top.items()),
            }
        )
        geoms.append(by_id.loc[ordered].geometry.union_all())
    frame = gpd.GeoDataFrame(rows, geometry=geoms, crs=result.cells.crs)
    frame.insert(0, "label", [f"H{i}" for i in range(1, len(frame) + 1)])
    return frame


def _hot_since(result: NeighbourhoodHotspots) -> dict[str, pd.Period]:
    """Per cell, the first month of the run of hot months (space-time bin > 0) ending in the final month."""
    bins = result.emerging.bins
    out = {}
    for i, cell in enumerate(result.emerging.cube.cells["cell_id"]):
        hot = bins[i] > 0
        if not hot[-1]:
            continue
        start = len(hot) - 1
        while start > 0 and hot[start - 1]:
            start -= 1
        out[cell] = result.emerging.cube.months[start]
    return out


def _hotspot_items(context: MeetingContext, fmt: _Counts) -> tuple[gpd.GeoDataFrame, list[AgendaItem]]:
    result = context.hotspots
    categories = context.incidents.set_index("incident_id")["category"]
    groups = hotspot_groups(result, categories=categories, fmt=fmt)
    window = f"{result.months[0]} to {result.months[-1]}" if len(result.months) else "no months"
    method = (
        f"Hot spots over {window}: small hexagons compared with those around them, listed when they are new "
        f"or getting worse. Assets and interventions within {WALKING_DISTANCE_M:.0f} m."
    )
    if groups.empty:
        return groups, [_no_hotspot_item(context, window, method)]
    group_cells = result.hotspots.cells[result.hotspots.cells["cell_id"].isin({c for g in groups["cells"] for c in g})]
    subset = replace(result.hotspots, cells=group_cells)
    near = assets_near_hotspots(subset, context.assets, min_bin=-3).table
    cover = hotspots_without_intervention(subset, context.interventions, min_bin=-3)
    names = [_place_name(g, near) for g in groups.itertuples()]
    groups = groups.assign(place=names)
    status_of = dict(zip(context.interventions["name"], context.interventions["status"], strict=True))
    items = [_hotspot_item(context, g, near, cover, status_of, fmt, method) for g in groups.itertuples()]
    return groups, items


def _no_hotspot_item(context: MeetingContext, window: str, method: str) -> AgendaItem:
    """The one hot-spot item when there is none to list: too few reports to look, or none found."""
    result = context.hotspots
    if not result.hotspots.sufficient:
        summary = f"Not enough reports in {context.name} over {window} to look for hot spots: see the note below."
    else:
        summary = f"No new or intensifying hot spot in {context.name} over {window}."
    caveats = (*result.messages, method)
    return AgendaItem("hotspot-none", "hotspot", "New and intensifying hot spots", summary, caveats=caveats)


def _hotspot_item(
    context: MeetingContext, g, near: pd.DataFrame, cover, status_of: dict, fmt: _Counts, method: str
) -> AgendaItem:
    """The agenda item of one hot spot ``g``: what is happening, the nearest assets, the interventions
    covering it (or the nearest), stalled projects nearby and the actions already on it."""
    result = context.hotspots
    assets = near[near["cell_id"].isin(g.cells)].sort_values("distance_m").drop_duplicates("asset_id")
    covered = cover.covered[cover.covered["cell_id"].isin(g.cells)]
    uncovered = cover.table[cover.table["cell_id"].isin(g.cells)]
    covering = "; ".join(
        f"{n} ({status_of.get(n, 'status unknown')})" for n in _joined(covered["interventions"]).split("; ") if n
    )
    stalled = _joined(pd.concat([covered["stalled_nearby"], uncovered["stalled_nearby"]]))
    since = g.hot_since.strftime("%b %Y") if g.hot_since is not None else str(result.months[-1])
    summary = (
        f"{TREND_SENTENCES.get(g.trend, HOT_TRENDS.get(g.trend, g.trend)).format(since=since)}: {fmt(g.incidents)} incident(s) in {len(g.cells)} cell(s) over the "
        f"last {len(result.months)} months, {fmt(g.recent)} in the last 3. Mostly {g.top_categories}."
    )
    rows = _hotspot_questions(context, g.cells, assets, covering, uncovered, stalled)
    links = {"hotspot_cell": g.core_cell}
    if len(assets):
        links["asset_id"] = str(assets["asset_id"].iloc[0])
    return AgendaItem(
        f"hotspot-{g.label}",
        "hotspot",
        f"{g.label}: {HOTSPOT_CLASS[g.hotspot_class].label} near {g.place}",
        summary,
        pd.DataFrame(rows, columns=["question", "answer"]),
        (*(p.sentence(included=result.include_partial, fmt=fmt) for p in result.partial), method)
        + tuple(m for m in (cover.message,) if m),
        links,
    )


def _hotspot_questions(
    context: MeetingContext,
    cells: list,
    assets: pd.DataFrame,
    covering: str,
    uncovered: pd.DataFrame,
    stalled: str,
) -> list[dict[str, str]]:
    """The question-and-answer rows of one hot spot's table."""
    linked = context.actions[context.actions["hotspot_cell"].isin(cells)]
    rows = [
        {"question": "Nearest assets (partners)", "answer": _asset_list(assets)},
        {
            "question": "Covered by an intervention?",
            "answer": f"Yes: {covering}"
            if covering
            else "No: no planned, running or finished intervention within 400 m",
        },
    ]
    if not covering and len(uncovered) and pd.notna(uncovered["nearest_m"]).any():
        nearest = uncovered.sort_values("nearest_m").iloc[0]
        rows.append(
            {
                "question": "Nearest intervention",
                "answer": f"{nearest['nearest_name']} ({nearest['nearest_status']}, {nearest['nearest_m']:.0f} m)",
            }
        )
    if stalled:
        rows.append({"question": "Stalled projects nearby", "answer": stalled})
    rows.append(
        {
            "question": "Actions already on it",
            "answer": "; ".join(
                f"{a.removeprefix(context.code + '-')} ({s})"
                for a, s in zip(linked["action_id"], linked["status"], strict=True)
            )
            or "none",
        }
    )
    return rows


def _place_name(group, near: pd.DataFrame) -> str:
    mine = near[near["cell_id"].isin(group.cells)].sort_values("distance_m")
    if len(mine):
        return str(mine["name"].iloc[0])
    lat, lon = h3.cell_to_latlng(group.core_cell)
    return f"{lat:.4f}, {lon:.4f}"


def _asset_list(assets: pd.DataFrame, n: int = 5) -> str:
    if not len(assets):
        return f"none within {WALKING_DISTANCE_M:.0f} m"
    return "; ".join(
        f"{name} ({category}, {distance:.0f} m)"
        for name, category, distance in zip(
            assets["name"].head(n), assets["abcd_category"].head(n), assets["distance_m"].head(n), strict=True
        )
    )


def _joined(values: pd.Series) -> str:
    names: list[str] = []
    for value in values.dropna():
        for name in str(value).split("; "):
            if name and name not in names:
                names.append(name)
    return "; ".join(names)


# --------------------------------------------------------------------------------------------------
# 4. Changes in counts
# --------------------------------------------------------------------------------------------------
COUNT_COLUMNS = ("category", "this_month", "previous_month", "baseline_mean", "change", "p", "reading")


def count_changes(
    incidents: pd.DataFrame,
    *,
    month: pd.Period,
    baseline_months: int = BASELINE_MONTHS,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """This month's count per category against the mean of the ``baseline_months`` before, read with the
    one rule of :mod:`pipelines.hotspots.change` (exact test; "too few reports to tell" below 10 a month or
    when even a doubling would often be missed; Benjamini-Hochberg over the categories at false discovery
    rate ``alpha``).

    Baseline months before the first month with any incident in ``incidents``
    (:func:`~pipelines.hotspots.months.first_data_month`) are missing, not zero: they are left out, and
    ``k`` is the number of baseline months on or after it (with none, the reading is "too few reports to
    tell"). Pass every incident of the neighbourhood, not only the months compared.

    The first row is every category together (``All incidents``), then categories by this month's count.
    """
    months = local_months(incidents["occurred_at"]) if len(incidents) else pd.Series(dtype="period[M]")
    baseline = months_with_data_before(incidents, month, baseline_months)
    k = len(baseline)
    labels = _labels()
    category = incidents["category"].map(labels).fillna(incidents["category"]) if len(incidents) else pd.Series()
    this = category[months == month].value_counts()
    previous = category[months == month - 1].value_counts()
    base = category[months.isin(baseline)].value_counts()
    names = sorted(set(this.index) | set(base.index), key=lambda c: (-this.get(c, 0), -base.get(c, 0), c))
    rows = [("All incidents", int(this.sum()), int(previous.sum()), int(base.sum()))]
    rows += [(c, int(this.get(c, 0)), int(previous.get(c, 0)), int(base.get(c, 0))) for c in names]
    table = pd.DataFrame(rows, columns=["category", "this_month", "previous_month", "_base"])
    table["baseline_mean"] = (table["_base"] / k).round(1) if k else np.nan
    table["change"] = table["this_month"] - table["baseline_mean"]
    if k:
        readings = change.read_changes(table["this_month"], table["_base"], k, alpha=alpha)
        table["p"] = np.round([r.p for r in readings], 4)
        table["reading"] = [r.reading for r in readings]
    else:
        table["p"] = np.nan
        table["reading"] = change.TOO_FEW
    return table[list(COUNT_COLUMNS)]


def _counts_item(context: MeetingContext, baseline_months: int, fmt: _Counts) -> AgendaItem:
    month = context.trend_month
    table = count_changes(context.incidents, month=month, baseline_months=baseline_months)
    first = first_data_month(context.incidents)
    k = len(months_with_data_before(context.incidents, month, baseline_months))
    caveat = (
        f"Compared with the average of the {k} months before. 'Up' or 'down' only when the change is "
        "larger than chance would explain, allowing for the number of categories read; 'too few reports to tell' "
        "when even a doubling could be missed. Counts reflect reporting as well as crime."
    )
    shown = pd.concat(
        [table.iloc[:1], table.iloc[1:][(table.iloc[1:][["this_month", "previous_month"]].sum(axis=1) > 0)]]
    )
    # The test's p-value stays in count_changes for analysts; the meeting reads the words.
    shown = shown.drop(columns="p").reset_index(drop=True)
    words = shown.assign(baseline_mean=[f"{v:g}" for v in shown["baseline_mean"]])
    if fmt.public:
        # The category rows add up to the first row: suppressed together, so that the total minus the
        # shown categories gives no hidden one back (the baseline is a mean of baseline_months counts).
        shown = suppress.suppress_against_total(
            shown,
            ["this_month", "previous_month", "baseline_mean"],
            scale={"baseline_mean": max(k, 1)},
            derived=["change", "reading"],
            order_by="category",
        )
        words = shown
        caveat += f" Counts of 1 to {suppress.threshold() - 1} are shown as {suppress.suppressed_label()}."
        if shown.isin([suppress.WITHHELD]).any(axis=None):
            caveat += (
                f" '{suppress.WITHHELD}': too few incidents that month to show each category beside the total "
                "without giving small numbers away."
            )
    total = words.iloc[0]
    partial = [p.sentence(included=context.hotspots.include_partial, fmt=fmt) for p in context.hotspots.partial]
    if first is not None and k < baseline_months:
        caveat += (
            f" Reports for {context.name} begin in {first:%B %Y}; months before that have no data and are not "
            "counted as zero."
        )
    if k:
        summary = (
            f"{total['this_month']} incident(s) in {month}, against an average of {total['baseline_mean']} a "
            f"month over the {k} months before ({total['previous_month']} in {month - 1}). "
        )
    else:
        summary = f"{total['this_month']} incident(s) in {month}; there are no earlier months of data to compare with. "
    summary = " ".join([*partial, summary]) if partial else summary
    notable = words[shown["reading"].isin(["up", "down"]).to_numpy()]
    summary += (
        "Notable: "
        + "; ".join(f"{r.category} {r.reading} ({r.this_month} vs {r.baseline_mean})" for r in notable.itertuples())
        + "."
        if len(notable)
        else "No category changed by more than chance would explain."
    )
    return AgendaItem("counts", "counts", "Changes in counts", summary, shown, (caveat,))


# --------------------------------------------------------------------------------------------------
# 5. Community reports
# --------------------------------------------------------------------------------------------------
REPORT_COLUMNS = ("date", "category", "org", "in_hotspot", "description", "sensitive")


def community_reports(
    incidents: pd.DataFrame,
    *,
    since: dt.date,
    as_of: dt.date,
    hotspot_cells: dict[str, str] | None = None,
    resolution: int = 10,
) -> pd.DataFrame:
    """Community reports dated after ``since`` up to ``as_of`` (local days), newest first.

    ``in_hotspot`` names the hot spot (H1...) whose cells contain the report, given ``hotspot_cells``
    (cell id -> label) at ``resolution``.
    """
    if not len(incidents):
        return pd.DataFrame(columns=list(REPORT_COLUMNS))
    day = local_days(incidents["occurred_at"])
    rows = incidents[(incidents["source"] == "community") & (day > since) & (day <= as_of)]
    rows = rows.sort_values("occurred_at", ascending=False)
    labels = _labels()
    where = [""] * len(rows)
    if hotspot_cells:
        points = rows.geometry.to_numpy()
        placed = ~(shapely.is_missing(points) | shapely.is_empty(points))
        cells = hexes.point_cells(shapely.get_x(points[placed]), shapely.get_y(points[placed]), resolution)
        where = np.full(len(rows), "", dtype=object)
        where[placed] = [hotspot_cells.get(cell, "") for cell in cells]
        where = where.tolist()
    return pd.DataFrame(
        {
            "date": to_local(rows["occurred_at"]).dt.strftime("%Y-%m-%d").to_numpy(),
            "category": rows["category"].map(labels).fillna(rows["category"]).to_numpy(),
            "org": rows["org"].to_numpy(),
            "in_hotspot": where,
            "description": rows["description"].to_numpy(),
            "sensitive": rows["sensitive"].astype(bool).to_numpy(),
        }
    )


def _reports_item(context: MeetingContext, groups: gpd.GeoDataFrame, fmt: _Counts) -> AgendaItem:
    cells = {c: label for label, group in zip(groups["label"], groups["cells"], strict=True) for c in group}
    table = community_reports(
        context.incidents,
        since=context.since,
        as_of=context.as_of,
        hotspot_cells=cells,
        resolution=int(context.hotspots.grid.spec.resolution),
    )
    previous = context.previous_meeting
    after = f"the meeting of {context.since:%d %b %Y}" if previous is not None else f"1 {context.month:%b %Y}"
    summary = f"{fmt(len(table))} community report(s) since {after}"
    in_hot = table["in_hotspot"] != ""
    summary += f", {fmt(int(in_hot.sum()))} inside the hot spots above." if in_hot.any() else "."
    if len(table):
        top = table["category"].value_counts().head(3)
        summary += " Most often: " + ", ".join(f"{c} ({fmt(n)})" for c, n in top.items()) + "."
    caveats = ()
    if fmt.public:
        table = rules.report_counts(table)
        caveats = ("Public pack: reports are counted by category; their text is not published.",)
    return AgendaItem("reports", "reports", "Community reports since last meeting", summary, table, caveats)


# --------------------------------------------------------------------------------------------------
# 6. Budget, 7. decisions
# --------------------------------------------------------------------------------------------------
def _budget_item(context: MeetingContext, cycles: pd.DataFrame, deadlines: pd.DataFrame, months: int) -> AgendaItem:
    current = cycles[cycles["state"] == "current"]
    parts = [f"{r.sphere} {r.financial_year} ({r.period})" for r in current.itertuples()]
    summary = "Current budget years: " + ("; ".join(parts) if parts else "none recorded") + "."
    soon = deadlines.head(3)
    if len(soon):
        summary += " Next: " + "; ".join(f"{r.date:%d %b %Y} {r.what}" for r in soon.itertuples()) + "."
    caveat = (
        "Municipal years run 1 July to 30 June (MFMA); national and provincial years 1 April to 31 March (PFMA). "
        "Municipal milestones are those fixed in law (MFMA s16, s21, s24, s72; MBRR reg 23)."
    )
    table = deadlines.assign(date=deadlines["date"].astype(str))
    return AgendaItem(
        "budget", "budget", f"Budget cycles and deadlines (next {months} months)", summary, table, (caveat,)
    )


def _decisions_item(context: MeetingContext) -> AgendaItem | None:
    mine = context.actions[context.actions["meeting_id"] == context.meeting_id].sort_values("action_id")
    if mine.empty:
        return None
    table = pd.DataFrame(
        {
            "action": mine["action_id"].to_numpy(),
            "decision": mine["decision"].to_numpy(),
            "owner": [_owner(o, p) for o, p in zip(mine["owner_org"], mine["owner_person"], strict=True)],
            "due": mine["due"].fillna("").to_numpy(),
            "status": mine["status"].to_numpy(),
        }
    )
    summary = f"{len(mine)} decision(s) recorded at this meeting."
    return AgendaItem("decisions", "decisions", "Decisions recorded at this meeting", summary, table)


def _owner(org: object, person: object) -> str:
    org = "" if org is None or (isinstance(org, float) and np.isnan(org)) else str(org)
    if person is None or (isinstance(person, float) and np.isnan(person)) or not str(person).strip():
        return org
    return f"{org} ({person})"


def _bottleneck(status: str, blocked_by: object, unblocker: object) -> str:
    if status != "blocked":
        return ""
    if not isinstance(blocked_by, str) and not isinstance(unblocker, str):
        return "blocked (details are not published)"
    return f"blocked by {blocked_by}; can unblock: {unblocker}"
