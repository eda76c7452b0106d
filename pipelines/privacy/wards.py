"""Incident counts per ward as a viewer may see them, protected against differencing with the map's areas.

Place in the data flow: inside the disclosure core (:mod:`pipelines.privacy`), beside
:mod:`pipelines.privacy.published`. Wards cut across the precincts and Safe Neighbourhoods the map counts
by, so a ward's count and an overlapping area's count, both shown, can give away the incidents of the sliver
between them: a ward that is a neighbourhood plus a strip, with 40 and 42 incidents, says the strip holds 2.
For viewers whose counts are suppressed (public, cso) a ward count is therefore **withheld** when, for any
precinct or neighbourhood it overlaps, one side of the difference is empty and the other holds 1 to 4
incidents (:func:`differencing_leaks`). The wards of every other stored boundary version count as such areas
too: the page offers each version, and a ward redrawn by a sliver, shown with 133 incidents beside its old self's
131, says the sliver holds 2. Sums of several areas against several wards are not checked; see
``docs/privacy.md``.

Counts are made from :func:`~pipelines.privacy.rows.counting_rows` (sensitive incidents at their generalised
place), and rows are placed in wards by point-in-polygon (:func:`pipelines.crosswalk.ward_of_points`);
rows without a point are in no ward.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from pipelines.privacy import suppress
from pipelines.schemas import CODE_COLUMN, COLUMNS

WITHHELD = suppress.WITHHELD


def differencing_leaks(
    in_ward: np.ndarray, area_codes: dict[str, np.ndarray], *, threshold: int, shown_areas: set[str] | None = None
) -> bool:
    """Whether the ward's count (rows where ``in_ward``) and one overlapping area's count would give away 1 to
    ``threshold - 1`` incidents by subtraction.

    ``area_codes`` holds, per placed kind, each row's area code. For an area ``a`` holding some of the ward's
    rows, ``count(a) - count(ward) = n(a outside the ward) - n(ward outside a)``; it pins a small number when
    one of the two is 0 and the other is small. ``shown_areas``: ``kind:code`` of areas whose count is shown
    (default: every area with 0 or at least ``threshold`` rows, as the map publishes them).
    """
    in_ward = np.asarray(in_ward, dtype=bool)
    if threshold <= 0 or not in_ward.any():
        return False
    n_ward = int(in_ward.sum())
    for kind, codes in area_codes.items():
        codes = np.asarray(codes, dtype=object)
        present = pd.notna(codes)
        for code in pd.unique(codes[in_ward & present]):
            in_area = codes == code
            n_area = int(in_area.sum())
            if shown_areas is not None and f"{kind}:{code}" not in shown_areas:
                continue
            if shown_areas is None and 0 < n_area < threshold:
                continue  # the map shows "<5" for it: nothing exact to subtract
            both = int((in_area & in_ward).sum())
            outside_ward, outside_area = n_area - both, n_ward - both
            if (outside_area == 0 and 0 < outside_ward < threshold) or (
                outside_ward == 0 and 0 < outside_area < threshold
            ):
                return True
    return False


def overlapping_codes(rows: pd.DataFrame, other_wards: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Per published layer a ward's count could be subtracted from, each row's area code: the map's precincts and
    Safe Neighbourhoods (``rows``' area codes) and ``other_wards`` (boundary version -> each row's ward in it)."""
    codes = {kind: rows[column].to_numpy(dtype=object) for kind, column in CODE_COLUMN.items() if column in rows}
    for version, ward_codes in (other_wards or {}).items():
        codes[f"ward ({version})"] = np.asarray(ward_codes, dtype=object)
    return codes


def publish_ward_counts(
    rows: pd.DataFrame,
    ward_codes: np.ndarray,
    wards: list[str],
    *,
    threshold: int,
    other_wards: Mapping[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Published counts per ward of ``rows`` (``ward_codes`` aligned to them): ``code``, ``count`` (NaN where
    not shown) and ``shown``. With a ``threshold`` (suppressed viewers) small counts read ``<5``, a ward whose
    count would give away a small number by differencing (against the map's areas and ``other_wards``, each
    row's ward in the other stored boundary versions) reads ``withheld``, and a table that secondary
    suppression cannot protect against its total is withheld whole.
    """
    ward_codes = np.asarray(ward_codes, dtype=object)
    values = pd.Series(ward_codes).value_counts().reindex(wards, fill_value=0).astype(int)
    published = suppress.suppress(values.reset_index(drop=True), threshold=threshold)
    if threshold:
        codes = overlapping_codes(rows, other_wards)
        for i, code in enumerate(wards):
            if (
                pd.notna(published.loc[i, COLUMNS.count])
                and values.iloc[i]
                and differencing_leaks(ward_codes == code, codes, threshold=threshold)
            ):
                published.loc[i, [COLUMNS.count, "shown"]] = [np.nan, WITHHELD]
        hidden = published[COLUMNS.count].isna()
        total = int(len(rows))
        if (
            not 0 < total < threshold
            and suppress.unprotected(values.to_numpy(), hidden.to_numpy(), threshold=threshold).any()
        ):
            published = published.assign(count=np.nan, shown=WITHHELD)
    return pd.concat([pd.DataFrame({COLUMNS.code: wards}), published.reset_index(drop=True)], axis=1)
