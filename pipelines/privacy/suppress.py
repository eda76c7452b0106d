"""Small-count suppression: the one rule behind every published count.

Place in the data flow: inside the disclosure core (:mod:`pipelines.privacy`). Pure functions over
arrays and frames; the rule and the reasons for its numbers are in ``docs/privacy.md``.

- A **published count** below ``SETTINGS.min_published_count`` is shown as ``"<5"`` (primary
  suppression); 0 is shown as 0.
- Where a table's total is shown too, a group with exactly one suppressed cell also has its smallest
  other non-zero cell suppressed (secondary suppression), so the total minus the visible cells never
  gives back a suppressed value.
- A figure derived from a suppressed count (a mean, a change, a rate, a p-value) is withheld with it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.settings import SETTINGS

COUNT, SHOWN = "count", "shown"


def threshold() -> int:
    """Counts from 1 to this minus one are suppressed (``SETTINGS.min_published_count``)."""
    return SETTINGS.min_published_count


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
        Zero is shown as 0.
    secondary
        Also suppress the smallest other non-zero count of a group that has exactly one suppressed count.
    """
    threshold = SETTINGS.min_published_count if threshold is None else threshold
    values = np.asarray(counts, dtype=float)
    index = counts.index if isinstance(counts, pd.Series) else pd.RangeIndex(len(values))
    hidden = (values > 0) & (values < threshold)
    if secondary and len(values):
        labels = np.zeros(len(values), dtype=int) if groups is None else pd.factorize(np.asarray(groups))[0]
        for group in np.unique(labels):
            members = np.flatnonzero(labels == group)
            if hidden[members].sum() != 1:
                continue
            candidates = members[~hidden[members] & (values[members] > 0)]
            if len(candidates):
                hidden[candidates[np.argmin(values[candidates])]] = True
    shown = np.where(hidden, f"<{threshold}", pd.Series(values).map(lambda v: f"{int(v):,}").to_numpy())
    return pd.DataFrame({COUNT: np.where(hidden, np.nan, values), SHOWN: shown}, index=index)


def shown_total(total: int, *, threshold: int | None = None) -> str:
    """A single published total: ``"<5"`` below the threshold, else the number."""
    threshold = SETTINGS.min_published_count if threshold is None else threshold
    return f"<{threshold}" if 0 < total < threshold else f"{total:,}"


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
