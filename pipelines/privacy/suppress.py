"""Small-count suppression: the one rule behind every published count.

Place in the data flow: inside the disclosure core (:mod:`pipelines.privacy`). Pure functions over
arrays and frames; the rule and the reasons for its numbers are in ``docs/privacy.md``.

- A **published count** below ``SETTINGS.min_published_count`` is shown as ``"<5"`` (primary
  suppression); 0 is shown as 0.
- Where a table's total is shown too, each group's smallest other non-zero cells are suppressed as
  well (secondary suppression) until the total minus the visible cells says no more about a suppressed
  value than ``"<5"`` (not one hidden cell's value, nor that two hidden cells hold 1 each).
- A figure derived from a suppressed count (a mean, a change, a rate, a p-value) is withheld with it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines import settings
from pipelines.schemas import COLUMNS

COUNT, SHOWN = "count", "shown"
#: A count left out because its table could not be protected against subtraction from its total. Unlike
#: ``"<5"`` it says nothing about the value (zeros are withheld too).
WITHHELD = "withheld"


def threshold() -> int:
    """Counts from 1 to this minus one are suppressed (``SETTINGS.min_published_count``)."""
    return settings.SETTINGS.min_published_count


def is_small(values: object, *, limit: int | None = None) -> np.ndarray:
    """True where a count is published only as ``"<5"`` (1 to the threshold minus one)."""
    limit = threshold() if limit is None else limit
    numbers = pd.to_numeric(pd.Series(np.atleast_1d(np.asarray(values, dtype=object))), errors="coerce")
    return ((numbers > 0) & (numbers < limit)).fillna(False).to_numpy(dtype=bool)


def suppressed_label(limit: int | None = None) -> str:
    return f"<{threshold() if limit is None else limit}"


def suppress(
    counts: pd.Series | np.ndarray,
    *,
    groups: pd.Series | np.ndarray | None = None,
    threshold: int | None = None,
    secondary: bool = True,
) -> pd.DataFrame:
    """Published form of ``counts``: ``count`` (float, NaN where suppressed) and ``shown`` (text).

    Parameters
    ----------
    counts
        Non-negative integer counts.
    groups
        Group label per count (e.g. the month of a month x category table); each group's total is
        taken to be public. ``None``: the whole table is one group.
    threshold
        Counts ``1 .. threshold-1`` are shown as ``"<threshold"`` (default ``SETTINGS.min_published_count``).
        Zero is shown as 0. In a group where a larger count had to be hidden too (``secondary``), every
        hidden count of the group is shown as ``"withheld"``, which is true of each.
    secondary
        Protect the suppressed counts of each group against subtraction from the group's total
        (:func:`_protect_group`): with one suppressed count, its smallest non-zero neighbour is hidden
        too, and more while the hidden counts' sum would still narrow one of them.
    """
    threshold = settings.SETTINGS.min_published_count if threshold is None else threshold
    values = np.asarray(counts, dtype=float)
    index = counts.index if isinstance(counts, pd.Series) else pd.RangeIndex(len(values))
    small = (values > 0) & (values < threshold)
    hidden = small.copy()
    if secondary and len(values):
        labels = np.zeros(len(values), dtype=int) if groups is None else pd.factorize(np.asarray(groups))[0]
        for group in np.unique(labels):
            _protect_group(values, hidden, np.flatnonzero(labels == group), threshold)
    else:
        labels = np.zeros(len(values), dtype=int)
    # A count hidden to protect a small one is not small: "<5" on it would be untrue. In a group where any
    # count was hidden that way, every hidden count reads "withheld" (telling the two kinds apart would
    # give the small ones back: a total of 6 over "<5" and ">=5" is 1 and 5).
    shown = pd.Series(values).map(lambda v: f"{int(v):,}").to_numpy()
    shown = np.where(hidden, f"<{threshold}", shown)
    protecting = np.unique(labels[hidden & ~small])
    shown = np.where(hidden & np.isin(labels, protecting), WITHHELD, shown)
    return pd.DataFrame({COUNT: np.where(hidden, np.nan, values), SHOWN: shown}, index=index)


def shown_total(total: int, *, threshold: int | None = None) -> str:
    """A single published total: ``"<5"`` below the threshold, else the number."""
    threshold = settings.SETTINGS.min_published_count if threshold is None else threshold
    return f"<{threshold}" if 0 < total < threshold else f"{total:,}"


def _protect_group(values: np.ndarray, hidden: np.ndarray, members: np.ndarray, threshold: int) -> None:
    """Secondary suppression of one group, in place: hide its smallest visible non-zero counts until the
    group is :func:`protected`, or nothing is left to hide (then the caller must withhold the table)."""
    while not protected(values[members], hidden[members], threshold=threshold):
        candidates = members[~hidden[members] & (values[members] > 0)]
        if not len(candidates):
            return
        hidden[candidates[np.argmin(values[candidates])]] = True


def protected(values: np.ndarray, hidden: np.ndarray, *, threshold: int | None = None) -> bool:
    """Whether a table's total minus its shown counts says no more about the hidden ones than ``"<5"``.

    The hidden counts add up to the total minus the shown ones and each is at least 1, so the largest any
    one of them can be is that sum minus one per other hidden count. One hidden count is given away
    exactly; several are narrowed while that bound is below ``threshold - 1`` (six cells and a total of
    six: each holds 1). A table that cannot be protected by hiding more of it must not be shown beside
    its total.
    """
    threshold = settings.SETTINGS.min_published_count if threshold is None else threshold
    held = np.asarray(values, dtype=float)[np.asarray(hidden, dtype=bool)]
    if not len(held):
        return True
    return len(held) > 1 and held.sum() - (len(held) - 1) >= threshold - 1


def unprotected(
    counts: pd.Series | np.ndarray,
    hidden: pd.Series | np.ndarray,
    *,
    groups: pd.Series | np.ndarray | None = None,
    threshold: int | None = None,
) -> np.ndarray:
    """Which rows belong to a group that :func:`suppress` could not make :func:`protected` (every non-zero
    count already hidden): such a group must not be shown beside its total. A group whose total is itself
    below the threshold is left alone, since that total reads ``"<5"`` and gives nothing to subtract from."""
    threshold = settings.SETTINGS.min_published_count if threshold is None else threshold
    values, hidden = np.asarray(counts, dtype=float), np.asarray(hidden, dtype=bool)
    labels = np.zeros(len(values), dtype=int) if groups is None else pd.factorize(np.asarray(groups))[0]
    out = np.zeros(len(values), dtype=bool)
    for group in np.unique(labels):
        members = labels == group
        if 0 < values[members].sum() < threshold:
            continue
        if not protected(values[members], hidden[members], threshold=threshold):
            out |= members
    return out


def published_order(table: pd.DataFrame, shown: str, name: str) -> pd.DataFrame:
    """``table`` in an order that says nothing a suppressed count hides: shown counts largest first, then
    every suppressed or withheld one, each run by ``name``. Ordering by the true counts would rank the
    hidden ones, and with the total that pins them (four hidden cells adding up to 7, in falling order,
    make the last exactly 1)."""
    numbers = pd.to_numeric(table[shown].astype(str).str.replace(",", ""), errors="coerce")
    key = pd.DataFrame({"hidden": numbers.isna(), "value": -numbers.fillna(0), COLUMNS.name: table[name].astype(str)})
    return table.iloc[key.sort_values(["hidden", "value", COLUMNS.name], kind="stable").index.map(table.index.get_loc)]


def format_count(value: object, *, public: bool) -> str:
    """A count for display: ``<5`` for 1-4 when ``public``; missing values as an empty string."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    number = float(value)
    if public and is_small(number)[0]:
        return suppressed_label()
    return f"{number:,.1f}".removesuffix(".0") if number != int(number) else f"{int(number):,}"


def suppress_counts(
    table: pd.DataFrame, columns: list[str] | tuple[str, ...], *, derived: list[str] | tuple[str, ...] = ()
) -> pd.DataFrame:
    """``table`` with the count ``columns`` as text and 1-4 shown as ``<5`` (primary suppression only).

    A row with any suppressed count also has its ``derived`` columns and its other numeric columns (a
    mean, a change, a p-value) blanked, since they would let the hidden count be worked out.
    """
    out = table.copy()
    hidden = np.zeros(len(out), dtype=bool)
    for column in columns:
        values = pd.to_numeric(out[column], errors="coerce")
        hidden |= is_small(values.to_numpy()) if len(values) else np.zeros(0, dtype=bool)
        out[column] = [format_count(v, public=True) for v in values]
    for column in out.columns:
        if column in derived or (column not in columns and pd.api.types.is_numeric_dtype(table[column])):
            out[column] = out[column].astype(object).where(~hidden, "")
    return out


def suppress_against_total(
    table: pd.DataFrame,
    columns: list[str] | tuple[str, ...],
    *,
    scale: dict[str, float] | None = None,
    derived: list[str] | tuple[str, ...] = (),
    order_by: str | None = None,
) -> pd.DataFrame:
    """``table`` whose rows after the first add up to the first (a total row) in each count column, as text
    with small counts suppressed so that the total minus the shown rows gives none of them back.

    Each column is suppressed as one group against its total (:func:`suppress`, then :func:`protected`);
    a column that cannot be protected has every part shown as :data:`WITHHELD` (zeros too: a shown 0 would
    say the others are at least 1). ``scale`` turns a column into counts first (a mean over 3 months: 3).
    A row with any suppressed count has its ``derived`` columns blanked. With ``order_by`` (a name column)
    the rows after the total are put in :func:`published_order` of the first count column.
    """
    out = table.copy()
    hidden_rows = np.zeros(len(out), dtype=bool)
    for column in columns:
        values = pd.to_numeric(table[column], errors="coerce").fillna(0).to_numpy(dtype=float)
        counts = np.rint(values * (scale or {}).get(column, 1))
        hidden = np.zeros(len(out), dtype=bool)
        hidden[0] = bool(is_small(counts[:1])[0])
        labels = [suppressed_label()] * len(out)
        if len(out) > 1:
            parts = counts[1:]
            part_hidden = suppress(parts)[COLUMNS.count].isna().to_numpy()
            if not hidden[0] and unprotected(parts, part_hidden).any():
                part_hidden = np.ones(len(parts), dtype=bool)
                labels[1:] = [WITHHELD] * len(parts)
            hidden[1:] = part_hidden
        out[column] = [
            label if h else format_count(v, public=True) for v, h, label in zip(values, hidden, labels, strict=True)
        ]
        hidden_rows |= hidden
    for column in derived:
        out[column] = out[column].astype(object).where(~hidden_rows, "")
    if order_by is not None and len(out) > 1:
        out = pd.concat([out.iloc[:1], published_order(out.iloc[1:], columns[0], order_by)], ignore_index=True)
    return out
