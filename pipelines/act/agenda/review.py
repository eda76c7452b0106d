"""Agenda items 1, 2 and 7: actions from last time, interventions that changed or went quiet, and the
decisions recorded at this meeting.

Place in the data flow: analyse. :func:`action_review` and :func:`intervention_review` are pure (frames in,
a frame out); :func:`actions_item`, :func:`interventions_item` and :func:`decisions_item` put them in words
for a :class:`~pipelines.act.agenda.context.MeetingContext`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pipelines.act.actions import OPEN_STATUSES, overdue
from pipelines.act.agenda.context import AgendaItem, MeetingContext
from pipelines.act.agenda.wording import bottleneck, owner
from pipelines.periods import local_days
from pipelines.plural import counted
from pipelines.schemas import COLUMNS, STATUS_WORDS

STALE_WEEKS = 8
#: Statuses of work still being delivered: past its end date, it is overdue (maintenance is delivered work).
DELIVERY_STATUSES = ("planned", "in_progress", "stalled")


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
    earlier = actions[actions[COLUMNS.meeting_id].fillna("") != this_meeting]
    updated = local_days(earlier[COLUMNS.updated_at])
    still_open = earlier[COLUMNS.status].isin(OPEN_STATUSES)
    closed_since = ~still_open & (updated > since) & (updated <= as_of)
    chosen = earlier[still_open | closed_since].copy()
    due = pd.to_datetime(chosen[COLUMNS.due], errors="coerce").dt.date
    late = overdue(chosen, as_of=as_of)
    days = [(as_of - d).days if is_late else None for d, is_late in zip(due, late, strict=True)]
    chosen["_rank"] = np.select(
        [
            late.to_numpy(),
            (chosen[COLUMNS.status] == "blocked").to_numpy(),
            chosen[COLUMNS.status].isin(OPEN_STATUSES).to_numpy(),
        ],
        [0, 1, 2],
        3,
    )
    chosen["_days"] = [-(d or 0) for d in days]
    chosen["_due"] = due.fillna(dt.date.max)
    chosen["overdue_days"] = days
    chosen = chosen.sort_values(["_rank", "_days", "_due", COLUMNS.action_id], kind="stable")
    return pd.DataFrame(
        {
            "action": chosen[COLUMNS.action_id].to_numpy(),
            COLUMNS.decision: chosen[COLUMNS.decision].to_numpy(),
            "owner": [
                owner(o, p) for o, p in zip(chosen[COLUMNS.owner_org], chosen[COLUMNS.owner_person], strict=True)
            ],
            COLUMNS.due: chosen[COLUMNS.due].fillna("").to_numpy(),
            COLUMNS.status: [
                s if s in OPEN_STATUSES else f"{s} since last meeting" for s in chosen[COLUMNS.status].to_numpy()
            ],
            "overdue_days": pd.array(chosen["overdue_days"].to_numpy(), dtype="Int64"),
            "bottleneck": [
                bottleneck(s, b, u)
                for s, b, u in zip(
                    chosen[COLUMNS.status], chosen[COLUMNS.blocked_by], chosen[COLUMNS.unblocker], strict=True
                )
            ],
            "from": chosen[COLUMNS.meeting_id].fillna("").str.extract(r"(\d{4}-\d{2})$")[0].fillna("").to_numpy(),
        }
    )


def actions_item(context: MeetingContext) -> AgendaItem:
    """Item 1: :func:`action_review` of the context's actions, with a summary (open, overdue on the meeting
    day, blocked and its bottleneck, closed since the last meeting)."""
    table = action_review(context.actions, this_meeting=context.meeting_id, as_of=context.as_of, since=context.since)
    open_ = table[COLUMNS.status].isin(OPEN_STATUSES)
    late = table["overdue_days"].notna()
    blocked = table[COLUMNS.status] == "blocked"
    closed = (~open_).sum()
    if not len(table):
        summary = "No actions from earlier meetings are open."
    else:
        # Overdue on the meeting day, not today: the actions register counts against today and says so.
        summary = (
            f"{counted(int(open_.sum()), 'open action')} from earlier meetings; {int(late.sum())} overdue on the meeting "
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
        mine = entries[entries[COLUMNS.intervention_id] == record[COLUMNS.intervention_id]]
        row = _review_row(record, mine, as_of=as_of, since=since, stale_weeks=stale_weeks)
        if row is not None:
            rows.append(row)
    rows.sort(key=lambda r: r["_order"])
    table = pd.DataFrame(rows, columns=[*INTERVENTION_REVIEW_COLUMNS, "_id"])
    table["weeks"] = pd.array(table["weeks"], dtype="Int64")
    return table


def _log_until(log: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The status-log entries up to ``as_of`` (by local day, ``_day``), per intervention in time order."""
    entries = log.assign(_day=local_days(log[COLUMNS.changed_at])) if len(log) else log.assign(_day=[])
    return entries[entries["_day"] <= as_of].sort_values([COLUMNS.intervention_id, COLUMNS.changed_at], kind="stable")


def _recent_news(mine: pd.DataFrame, since: dt.date) -> tuple[list[str], str]:
    """The flags (``status changed``, ``updated``) and the news of one intervention's log entries after
    ``since``: the latest status change, else the latest note."""
    before = mine[mine["_day"] <= since]
    recent = mine[mine["_day"] > since]
    flags, change_news, update_news = [], "", ""
    previous_status = before[COLUMNS.status].iloc[-1] if len(before) else None
    for entry in recent.to_dict("records"):
        note = f": {entry['note']}" if isinstance(entry.get(COLUMNS.note), str) and entry[COLUMNS.note] else ""
        if previous_status is not None and entry[COLUMNS.status] != previous_status:
            flags.append("status changed")
            change_news = (
                f"{STATUS_WORDS.get(previous_status, previous_status)} -> "
                f"{STATUS_WORDS.get(entry['status'], entry['status'])} on {entry['_day']}{note}"
            )
        else:
            update_news = f"update on {entry['_day']}{note}"
        previous_status = entry[COLUMNS.status]
    if len(recent) and "status changed" not in flags:
        flags.append("updated")
    return flags, change_news or update_news


def _stale_news(mine: pd.DataFrame, last_day: dt.date | None) -> str:
    """The news of a stale intervention with none: its last update (and note), or that there was none."""
    if last_day is None:
        return "no update recorded"
    return f"last update {last_day}" + (
        f": {mine['note'].iloc[-1]}" if isinstance(mine[COLUMNS.note].iloc[-1], str) else ""
    )


def _is_overdue(record: dict, as_of: dt.date) -> bool:
    """Whether an intervention ended before ``as_of`` and is still being delivered."""
    end = pd.to_datetime(record.get(COLUMNS.end), errors="coerce")
    return not pd.isna(end) and end.date() < as_of and record[COLUMNS.status] in DELIVERY_STATUSES


def _review_row(record: dict, mine: pd.DataFrame, *, as_of: dt.date, since: dt.date, stale_weeks: int) -> dict | None:
    """One intervention's row of :func:`intervention_review` from its log entries ``mine``; ``None`` when
    nothing flags it."""
    flags, news = _recent_news(mine, since)
    last_day = mine["_day"].iloc[-1] if len(mine) else None
    weeks = None if last_day is None else (as_of - last_day).days // 7
    if record[COLUMNS.status] != "complete" and (last_day is None or weeks >= stale_weeks):
        flags.append("stale")
        if not news:
            news = _stale_news(mine, last_day)
    if record[COLUMNS.status] == "stalled":
        flags.append("stalled")
    if _is_overdue(record, as_of):
        flags.append("overdue")
    if not flags:
        return None
    return {
        "intervention": record[COLUMNS.name],
        "lead": record.get(COLUMNS.lead),
        "status": STATUS_WORDS.get(record[COLUMNS.status], record[COLUMNS.status]),
        "flags": ", ".join(dict.fromkeys(flags)),
        "last_update": "" if last_day is None else str(last_day),
        "weeks": weeks,
        "news": news,
        "_order": (0 if "status changed" in flags else 1 if "stalled" in flags else 2, str(record[COLUMNS.name])),
        "_id": record[COLUMNS.intervention_id],
    }


def interventions_item(context: MeetingContext, stale_weeks: int) -> AgendaItem:
    """Item 2: :func:`intervention_review` of the neighbourhood's interventions, with a summary of the flags
    and a link to the first one listed."""
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
        f"{len(table)} of {counted(n, 'intervention')} {'needs' if len(table) == 1 else 'need'} attention: "
        f"{', '.join(parts) or 'news only'}."
        if len(table)
        else _no_intervention_news(n)
    )
    links = {"intervention_id": str(ids.iloc[0])} if len(ids) else {}
    caveat = (
        f"Stale: no status update in the {stale_weeks} weeks before {context.as_of:%d %b %Y} "
        "(complete interventions excepted)."
    )
    return AgendaItem(
        "interventions", "interventions", "Interventions: changes and stale updates", summary, table, (caveat,), links
    )


def _no_intervention_news(n: int) -> str:
    """Item 2's summary when no intervention of the ``n`` needs attention."""
    if n == 0:
        return "No intervention is registered in this Safe Neighbourhood."
    if n == 1:
        return "The one intervention has not changed status, gone stale or fallen overdue."
    return f"None of the {n} interventions changed status, went stale or is overdue."


# --------------------------------------------------------------------------------------------------
# 7. Decisions
# --------------------------------------------------------------------------------------------------
def decisions_item(context: MeetingContext) -> AgendaItem | None:
    """Item 7: the actions recorded at this meeting, or ``None`` before any is recorded."""
    mine = context.actions[context.actions[COLUMNS.meeting_id] == context.meeting_id].sort_values(COLUMNS.action_id)
    if mine.empty:
        return None
    table = pd.DataFrame(
        {
            "action": mine[COLUMNS.action_id].to_numpy(),
            COLUMNS.decision: mine[COLUMNS.decision].to_numpy(),
            "owner": [owner(o, p) for o, p in zip(mine[COLUMNS.owner_org], mine[COLUMNS.owner_person], strict=True)],
            COLUMNS.due: mine[COLUMNS.due].fillna("").to_numpy(),
            COLUMNS.status: mine[COLUMNS.status].to_numpy(),
        }
    )
    summary = f"{counted(len(mine), 'decision')} recorded at this meeting."
    return AgendaItem("decisions", "decisions", "Decisions recorded at this meeting", summary, table)
