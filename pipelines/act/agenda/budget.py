"""Agenda item 6: budget cycles and the deadlines ahead, in words.

Place in the data flow: show (words). The cycles and deadlines come from :mod:`pipelines.act.finance`.
"""

from __future__ import annotations

import pandas as pd

from pipelines.act.agenda.context import AgendaItem, MeetingContext


def budget_item(context: MeetingContext, cycles: pd.DataFrame, deadlines: pd.DataFrame, months: int) -> AgendaItem:
    """Item 6: the current budget years of ``cycles`` and the next of ``deadlines`` (``months`` ahead)."""
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
