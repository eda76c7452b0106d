"""Local Moran's I: clusters (HH, LL) and outliers (HL, LH).

Place in the data flow: analyse. :func:`local_moran` takes cell values and the adjacency;
:func:`clusters_and_outliers` runs it on a :class:`~pipelines.hotspots.grid.Grid`.

Gi* says "this neighbourhood has more incidents than the area as a whole". It cannot tell a hot *area*
from one busy cell among quiet ones; Local Moran can:

- ``HH`` high-high cluster: a high cell among high neighbours (a hot area);
- ``LL`` low-low cluster: a low cell among low neighbours;
- ``HL`` high-low outlier: a high cell surrounded by low ones (a lone hot cell: a tavern, a taxi rank);
- ``LH`` low-high outlier: a low cell surrounded by high ones (a quiet spot inside a hot area);
- ``ns``: not significant.

Method (esda 2.9 ``Moran_Local``, GeoDa): values standardised with the population standard deviation,
row-standardised weights, ``I_i = (n-1) z_i Σ_j w_ij z_j / Σ z²``; inference by seeded conditional
permutation (999 by default) with the same draws as esda. Significance uses the two-sided pseudo
p-value (ties count towards both tails) at ``alpha`` (0.05). The quadrant comes from the signs of
``z_i`` and of its spatial lag, as in esda and GeoDa.

FDR is off by default, as in ArcGIS "Cluster and Outlier Analysis" and GeoDa, because a permutation
p-value cannot be smaller than ``2 / (permutations + 1)``: with 999 permutations that is 0.002, and
Benjamini–Hochberg over ``m`` cells only passes the smallest p-value when at least ``m / 25`` cells share
it (at ``alpha = 0.05``). With ``fdr=True`` use 9,999 permutations or more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
from scipy import sparse

from pipelines.hotspots._inference import bh_threshold, conditional_permutation, on_grid, resolve_seed
from pipelines.hotspots.gistar import MIN_INCIDENTS, HotspotInputError, guard_message
from pipelines.hotspots.grid import Grid

MORAN_LABELS = ("HH", "LH", "LL", "HL")  # esda's quadrant order 1..4
NOT_SIGNIFICANT = "ns"
MORAN_I = "moran_i"
MORAN_P = "moran_p"
MORAN_LABEL = "moran_label"


@dataclass(frozen=True, eq=False)
class LocalMoran:
    """Local Moran results, one entry per cell.

    Attributes
    ----------
    I : numpy.ndarray
        Local Moran's I (esda ``Is``).
    quadrant : numpy.ndarray
        esda's quadrant: 1 HH, 2 LH, 3 LL, 4 HL.
    p : numpy.ndarray
        Two-sided pseudo p-value.
    p_sim : numpy.ndarray
        esda's directed pseudo p-value, for comparison with esda and GeoDa.
    z_sim : numpy.ndarray
        Permutation z-score.
    labels : numpy.ndarray
        ``HH``, ``LL``, ``HL``, ``LH`` where significant, else ``ns``.
    significant : numpy.ndarray
        Boolean mask of significant cells.
    alpha, fdr, permutations, seed, transform
        The settings used (``seed`` is recorded even when drawn).
    sufficient : bool
        False when the small-number guard marked nothing.
    message : str or None
        Plain-language caveat, or None.
    """

    I: np.ndarray  # noqa: E741 - the statistic's name
    quadrant: np.ndarray
    p: np.ndarray
    p_sim: np.ndarray
    z_sim: np.ndarray
    labels: np.ndarray
    significant: np.ndarray
    alpha: float
    fdr: bool
    permutations: int
    seed: int
    transform: str
    sufficient: bool
    message: str | None


@dataclass(frozen=True, eq=False)
class ClustersAndOutliers:
    """Local Moran on a grid.

    Attributes
    ----------
    grid : Grid
    moran : LocalMoran
    cells : geopandas.GeoDataFrame
        ``grid.cells`` plus ``moran_i``, ``moran_p`` and ``moran_label``.
    """

    grid: Grid
    moran: LocalMoran
    cells: gpd.GeoDataFrame


def clusters_and_outliers(grid: Grid, **options: Any) -> ClustersAndOutliers:
    """Local Moran clusters and outliers of a grid's incident counts.

    ``options`` are :func:`local_moran`'s keywords, with its defaults: ``permutations`` (999), ``seed``,
    ``alpha`` (0.05), ``fdr`` (False), ``transform`` ("R") and ``min_incidents`` (30).
    """
    moran, cells = on_grid(grid, local_moran, {MORAN_I: "I", MORAN_P: "p", MORAN_LABEL: "labels"}, **options)
    return ClustersAndOutliers(grid=grid, moran=moran, cells=cells)


def local_moran(
    values: np.ndarray,
    neighbours,
    *,
    permutations: int = 999,
    seed: int | None = None,
    alpha: float = 0.05,
    fdr: bool = False,
    transform: str = "R",
    min_incidents: int = MIN_INCIDENTS,
) -> LocalMoran:
    """Local Moran's I with conditional permutation inference.

    Parameters
    ----------
    values : array of float
        Count per site.
    neighbours : scipy sparse matrix
        Binary adjacency without the diagonal.
    permutations : int
        Number of conditional permutations (at least 99).
    seed : int, optional
        Seed for the permutations.
    alpha : float
        Significance level for the labels.
    fdr : bool
        Benjamini–Hochberg correction of ``alpha`` over all cells (off by default; see the module
        docstring for why it needs more permutations).
    transform : {"R", "B"}
        Row-standardised (esda, GeoDa) or binary weights.
    min_incidents : int
        Small-number guard: fewer incidents than this and nothing is labelled.
    """
    y = np.asarray(values, dtype=float).ravel()
    adjacency = sparse.csr_array(neighbours, dtype=float)
    if adjacency.shape != (len(y), len(y)):
        raise HotspotInputError(f"`neighbours` is {adjacency.shape} but there are {len(y)} values; use one grid.")
    if transform not in ("R", "B"):
        raise HotspotInputError(f"`transform` must be 'R' (row-standardised) or 'B' (binary); got {transform!r}.")
    if isinstance(permutations, bool) or int(permutations) != permutations or permutations < 99:
        raise HotspotInputError(
            f"`permutations` must be a whole number of at least 99, e.g. 999; got {permutations!r}."
        )
    if not 0 < alpha < 1:
        raise HotspotInputError(f"`alpha` must be between 0 and 1, e.g. 0.05; got {alpha!r}.")
    used_seed = resolve_seed(seed)
    n = len(y)
    cardinality = np.asarray(adjacency.sum(axis=1)).ravel()
    row_scale = np.where(cardinality > 0, 1.0 / np.maximum(cardinality, 1), 0.0) if transform == "R" else np.ones(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (y - y.mean()) / y.std()
        lag = row_scale * (adjacency @ z)
        local_i = (n - 1) * z * lag / (z * z).sum()
    quadrant = np.select([(z > 0) & (lag > 0), (z <= 0) & (lag > 0), (z <= 0) & (lag <= 0)], [1, 2, 3], default=4)

    # Tally in raw neighbour sums: I_i is increasing in Σ_j y_j when z_i > 0 and decreasing when z_i < 0,
    # and integer sums keep ties exact.
    direction = np.sign(z)
    observed = direction * (adjacency @ y)

    def random_sum(lag_sum: np.ndarray, rows: slice) -> np.ndarray:
        return direction[rows, None] * lag_sum

    tally = conditional_permutation(y, adjacency, observed, random_sum, permutations=permutations, seed=used_seed)
    p = tally.p_two_sided
    critical = bh_threshold(p, alpha) if fdr else alpha
    significant = p <= critical
    message = guard_message(y, local_i, min_incidents)
    if message is not None:
        significant[:] = False
    labels = np.where(significant, np.array(MORAN_LABELS, dtype=object)[quadrant - 1], NOT_SIGNIFICANT)
    return LocalMoran(
        I=local_i,
        quadrant=quadrant,
        p=p,
        p_sim=tally.p_directed,
        z_sim=tally.z(observed),
        labels=labels,
        significant=significant,
        alpha=alpha,
        fdr=fdr,
        permutations=int(permutations),
        seed=used_seed,
        transform=transform,
        sufficient=message is None,
        message=message,
    )
