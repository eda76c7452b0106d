"""Agenda item 4: changes in counts, per category, this month against the months before.

Place in the data flow: analyse. :func:`count_changes` is pure and reads every change with the one rule of
:mod:`pipelines.hotspots.change`; :func:`counts_item` puts it in words, by the public rules when the agenda
is public (categories suppressed together with their total).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.act.agenda.context import AgendaItem, MeetingContext
from pipelines.act.agenda.wording import Counts, category_names
from pipelines.hotspots import change
from pipelines.hotspots.months import baseline_months as months_with_data_before
from pipelines.hotspots.months import first_data_month
from pipelines.periods import local_months, month_words
from pipelines.plural import counted
from pipelines.privacy import suppress
from pipelines.schemas import COLUMNS

BASELINE_MONTHS = change.BASELINE_MONTHS
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
    months = local_months(incidents[COLUMNS.occurred_at]) if len(incidents) else pd.Series(dtype="period[M]")
    baseline = months_with_data_before(incidents, month, baseline_months)
    k = len(baseline)
    labels = category_names()
    category = (
        incidents[COLUMNS.category].map(labels).fillna(incidents[COLUMNS.category]) if len(incidents) else pd.Series()
    )
    this = category[months == month].value_counts()
    previous = category[months == month - 1].value_counts()
    base = category[months.isin(baseline)].value_counts()
    names = sorted(set(this.index) | set(base.index), key=lambda c: (-this.get(c, 0), -base.get(c, 0), c))
    rows = [("All incidents", int(this.sum()), int(previous.sum()), int(base.sum()))]
    rows += [(c, int(this.get(c, 0)), int(previous.get(c, 0)), int(base.get(c, 0))) for c in names]
    table = pd.DataFrame(rows, columns=[COLUMNS.category, "this_month", "previous_month", "_base"])
    table["baseline_mean"] = (table["_base"] / k).round(1) if k else np.nan
    table[COLUMNS.change] = table["this_month"] - table["baseline_mean"]
    if k:
        readings = change.read_changes(table["this_month"], table["_base"], k, alpha=alpha)
        table["p"] = np.round([r.p for r in readings], 4)
        table["reading"] = [r.reading for r in readings]
    else:
        table["p"] = np.nan
        table["reading"] = change.TOO_FEW
    return table[list(COUNT_COLUMNS)]


def counts_item(context: MeetingContext, baseline_months: int, fmt: Counts) -> AgendaItem:
    """Item 4: :func:`count_changes` for the month read as "this month" (the last complete one), the
    categories seen this month or last, with a summary of what changed more than chance would explain."""
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
            f"{counted(total['this_month'], 'incident')} in {month_words(month)}, against an average of {total['baseline_mean']} a "
            f"month over the {k} months before ({total['previous_month']} in {month_words(month - 1)}). "
        )
    else:
        summary = f"{counted(total['this_month'], 'incident')} in {month_words(month)}; there are no earlier months of data to compare with. "
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
