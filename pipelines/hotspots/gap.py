"""Where community reports run ahead of municipal records.

Place in the data flow: analyse. :func:`reporting_gap` takes a grid built without a source filter and
returns, per cell and per precinct, how many more community reports there are than both sources'
overall shares would predict, with a binomial test of whether that is chance.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import stats

from pipelines.hotspots._columns import CELL_ID, LAT, LON, PRECINCT_CODE, SOURCE
from pipelines.hotspots._inference import bh_threshold
from pipelines.hotspots.gistar import HotspotInputError
from pipelines.hotspots.grid import Grid


@dataclass(frozen=True, eq=False)
class ReportingGap:
    """Where community reports run ahead of municipal records.

    For each cell (and precinct) with ``c`` community and ``m`` municipal incidents, and ``S`` the
    community share over the whole grid, the indicator is the one-sided binomial p-value
    ``P(X >= c)`` for ``X ~ Binomial(c + m, S)``: how surprising that many community reports are if
    both sources recorded the same events in the same proportion everywhere. A cell is flagged when that
    p-value is significant (Benjamini–Hochberg over cells when ``fdr``) and it has at least
    ``min_reports`` community reports. ``excess`` is ``c - (c + m)·S``: community reports beyond
    the expected share, the number to quote at the ACT.

    Attributes
    ----------
    cells : geopandas.GeoDataFrame
        ``cell_id``, ``community``, ``municipal``, ``community_share``, ``expected_community``,
        ``excess``, ``p``, ``gap`` (bool), ``lat``, ``lon``, geometry; largest excess first.
    precincts : pandas.DataFrame
        The same per ``precinct_code`` of the incidents.
    overall_share : float
        ``S``.
    message : str or None
    """

    cells: gpd.GeoDataFrame
    precincts: pd.DataFrame
    overall_share: float
    message: str | None


def reporting_gap(grid: Grid, *, alpha: float = 0.05, min_reports: int = 5, fdr: bool = True) -> ReportingGap:
    """Cells and precincts where community reports are high but municipal records are low.

    Build ``grid`` without a source filter so both sources are counted.
    """
    if not 0 < alpha < 1:
        raise HotspotInputError(f"`alpha` must be between 0 and 1, e.g. 0.05; got {alpha!r}.")
    community_rows = (grid.incidents[SOURCE] == "community").to_numpy()
    municipal_rows = (grid.incidents[SOURCE] == "municipal").to_numpy()
    community = np.bincount(grid.positions[community_rows], minlength=grid.n)
    municipal = np.bincount(grid.positions[municipal_rows], minlength=grid.n)
    total = community.sum() + municipal.sum()
    share = community.sum() / total if total else float("nan")
    message = None
    if not 0 < share < 1:
        which = "community reports" if share == 0 or not np.isfinite(share) else "municipal records"
        message = f"There are no {which} in this selection, so the two sources cannot be compared."
    cells = grid.cells[[CELL_ID, LAT, LON, grid.cells.geometry.name]].copy()
    for key, value in _gap_columns(community, municipal, share, alpha, min_reports, fdr).items():
        cells[key] = value
    cells = cells.sort_values("excess", ascending=False, ignore_index=True)
    codes = grid.incidents[PRECINCT_CODE].fillna("(none)").to_numpy()
    precinct_ids = np.unique(codes)
    index = np.searchsorted(precinct_ids, codes)
    by_c = np.bincount(index[community_rows], minlength=len(precinct_ids))
    by_m = np.bincount(index[municipal_rows], minlength=len(precinct_ids))
    precincts = pd.DataFrame({PRECINCT_CODE: precinct_ids, **_gap_columns(by_c, by_m, share, alpha, min_reports, fdr)})
    precincts = precincts.sort_values("excess", ascending=False, ignore_index=True)
    return ReportingGap(cells=cells, precincts=precincts, overall_share=float(share), message=message)


def _gap_columns(community, municipal, share, alpha, min_reports, fdr) -> dict[str, np.ndarray]:
    community = np.asarray(community, dtype=np.int64)
    municipal = np.asarray(municipal, dtype=np.int64)
    total = community + municipal
    with np.errstate(divide="ignore", invalid="ignore"):
        cell_share = np.where(total > 0, community / total, np.nan)
    expected = total * share if np.isfinite(share) else np.full(len(total), np.nan)
    p = np.full(len(total), np.nan)
    if 0 < share < 1:
        tested = total > 0
        p[tested] = stats.binom.sf(community[tested] - 1, total[tested], share)
    critical = bh_threshold(p, alpha) if fdr else alpha
    gap = np.isfinite(p) & (p <= critical) & (community >= min_reports)
    return {
        "community": community,
        "municipal": municipal,
        "community_share": cell_share,
        "expected_community": expected,
        "excess": community - expected,
        "p": p,
        "gap": gap,
    }
