"""Getis-Ord Gi* hot and cold spots with False Discovery Rate correction.

Place in the data flow: analyse. :func:`gi_star` takes cell values and the cell adjacency (arrays in,
arrays out); :func:`hot_spots` runs it on a :class:`~pipelines.hotspots.grid.Grid` and returns the cells
with their z-score, p-value and bin.

Method (the same as ArcGIS "Hot Spot Analysis (Getis-Ord Gi*)" on an aggregation grid):

- weights are binary, the cell itself included (Gi*, ``star=True``); ``transform="R"`` row-standardises
  instead, as esda's default does;
- z-scores are Getis and Ord's analytical z under randomisation: esda's ``Zs`` for binary weights
  (identical to ArcGIS's GiZScore); for row-standardised weights esda's variance is wrong (z about
  1/sqrt(k) too small), and ours equals the binary z, as it must (scaling a row does not change z); p-values
  are two-sided, ``2 · P(Z > |z|)``; esda's ``p_norm`` is one-sided, so ``p = 2 · p_norm``;
- bins: +3/+2/+1 hot at 99/95/90 % confidence, -1/-2/-3 cold, 0 not significant. With ``fdr=True`` (the
  default) the critical p-value at each level is the Benjamini–Hochberg threshold over all cells;
- ``permutations > 0`` switches to conditional permutation inference (see :mod:`._inference`): seeded,
  the same draws as esda so ``p_sim`` agrees with esda's, and the bins use a two-sided pseudo p-value
  and the sign of ``z_sim``. Conditional permutation holds the focal cell's own count fixed, so a
  single hot cell with ordinary neighbours is *not* a hot spot under permutation (its own count is in
  every permuted sum), while the analytical test, which treats every count as random, can mark it.

Small-number guard: with fewer than ``min_incidents`` incidents (30, ArcGIS's floor for hot spot
analysis), fewer than 30 cells, or every cell equal, no cell is marked and :attr:`GiStar.message` says
why. A hot cell whose neighbourhood (the cell and its neighbours) holds fewer than ``min_local_count``
incidents is not marked either, and is flagged in :attr:`GiStar.few`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
from scipy import sparse, stats

from pipelines.errors import AreaSafeError
from pipelines.hotspots._columns import GI_BIN, GI_P, GI_Z
from pipelines.hotspots._inference import conditional_permutation, confidence_bins, on_grid, resolve_seed
from pipelines.hotspots.grid import MIN_CELLS, Grid
from pipelines.plural import counted

MIN_INCIDENTS = 30
MIN_LOCAL_COUNT = 3
TRANSFORMS = ("B", "R")
LOCAL_COUNT = "local_count"


class HotspotInputError(AreaSafeError):
    """Arguments to a hotspot statistic are inconsistent; the message names the argument."""


@dataclass(frozen=True, eq=False)
class GiStar:
    """Gi* results, one entry per cell.

    Attributes
    ----------
    g : numpy.ndarray
        The Gi* statistic (esda ``Gs``): the weighted neighbourhood sum over the total.
    z : numpy.ndarray
        Analytical z-score (esda ``Zs``, ArcGIS ``GiZScore``).
    p : numpy.ndarray
        The two-sided p-value that decided the bin: analytical ``2·P(Z > |z|)`` or, with permutations,
        the two-sided pseudo p-value.
    bins : numpy.ndarray
        -3..3 (int8) after FDR and the small-number guard.
    p_norm : numpy.ndarray
        Two-sided analytical p-value (``2 ×`` esda's one-sided ``p_norm``).
    p_sim, z_sim : numpy.ndarray or None
        With permutations: esda's directed pseudo p-value and the permutation z-score.
    local_count : numpy.ndarray
        Incidents in the cell and its neighbours (the guard's measure).
    few : numpy.ndarray
        True where a cell would have been hot but its neighbourhood has too few incidents.
    inference : {"analytical", "permutation"}
    permutations : int
    seed : int or None
        Seed used for the permutations (drawn and recorded when none was given).
    fdr : bool
    transform : {"B", "R"}
    sufficient : bool
        False when the small-number guard marked nothing; :attr:`message` says why.
    message : str or None
        Plain-language caveat for the ACT, or None.
    """

    g: np.ndarray
    z: np.ndarray
    p: np.ndarray
    bins: np.ndarray
    p_norm: np.ndarray
    p_sim: np.ndarray | None
    z_sim: np.ndarray | None
    local_count: np.ndarray
    few: np.ndarray
    inference: str
    permutations: int
    seed: int | None
    fdr: bool
    transform: str
    sufficient: bool
    message: str | None


@dataclass(frozen=True, eq=False)
class HotSpots:
    """Gi* on a grid.

    Attributes
    ----------
    grid : Grid
        The grid the statistic ran on.
    gi : GiStar
        The per-cell statistics.
    cells : geopandas.GeoDataFrame
        ``grid.cells`` plus ``gi_z``, ``gi_p``, ``gi_bin`` and ``local_count``.
    """

    grid: Grid
    gi: GiStar
    cells: gpd.GeoDataFrame

    @property
    def message(self) -> str | None:
        return self.gi.message

    @property
    def sufficient(self) -> bool:
        return self.gi.sufficient

    @property
    def hot(self) -> gpd.GeoDataFrame:
        """Significant hot cells, hottest first."""
        return self.cells[self.cells[GI_BIN] > 0].sort_values([GI_BIN, GI_Z], ascending=False)

    @property
    def cold(self) -> gpd.GeoDataFrame:
        """Significant cold cells, coldest first."""
        return self.cells[self.cells[GI_BIN] < 0].sort_values([GI_BIN, GI_Z])


def hot_spots(grid: Grid, **options: Any) -> HotSpots:
    """Gi* hot and cold spots of a grid's incident counts.

    ``options`` are :func:`gi_star`'s keywords, with its defaults: ``permutations`` (0: analytical),
    ``seed``, ``fdr`` (True), ``transform`` ("B"), ``min_incidents`` (30) and ``min_local_count`` (3).
    """
    gi, cells = on_grid(grid, gi_star, {GI_Z: "z", GI_P: "p", GI_BIN: "bins", LOCAL_COUNT: "local_count"}, **options)
    return HotSpots(grid=grid, gi=gi, cells=cells)


def gi_star(
    values: np.ndarray,
    neighbours: sparse.sparray | sparse.spmatrix,
    *,
    permutations: int = 0,
    seed: int | None = None,
    fdr: bool = True,
    transform: str = "B",
    min_incidents: int = MIN_INCIDENTS,
    min_local_count: int = MIN_LOCAL_COUNT,
) -> GiStar:
    """Getis-Ord Gi* for each site.

    Parameters
    ----------
    values : array of float
        Count (or other non-negative value) per site.
    neighbours : scipy sparse matrix
        Binary adjacency without the diagonal; the self-weight is added here.
    permutations : int
        0 for analytical inference (the default, as ArcGIS); otherwise the number of conditional
        permutations, e.g. 999.
    seed : int, optional
        Seed for the permutations.
    fdr : bool
        Benjamini–Hochberg correction of the critical p-value at each confidence level.
    transform : {"B", "R"}
        Binary (ArcGIS) or row-standardised (esda default) weights.
    min_incidents, min_local_count : int
        The small-number guard (see the module docstring).
    """
    y, adjacency = _check(values, neighbours, permutations, transform)
    weights = _star_weights(adjacency, transform)
    g, z = _analytical(y, weights)
    p_norm = 2.0 * stats.norm.sf(np.abs(z))
    p, sign, p_sim, z_sim, used_seed = p_norm, z, None, None, None
    local_count = (adjacency @ y) + y
    if permutations:
        used_seed = resolve_seed(seed)
        # Tally on the unscaled neighbourhood sums: within a row, binary and row-standardised Gi* differ by
        # a positive constant, so the ranks are the same, and integer sums keep ties exact (esda's float
        # arithmetic breaks some ties by rounding; see the module docstring).
        binary = _star_weights(adjacency, "B")

        def random_sum(lag: np.ndarray, rows: slice) -> np.ndarray:
            return lag + y[rows, None]

        tally = conditional_permutation(y, binary, local_count, random_sum, permutations=permutations, seed=used_seed)
        p, p_sim, z_sim = tally.p_two_sided, tally.p_directed, tally.z(local_count)
        sign = z_sim
    bins = confidence_bins(sign, p, fdr=fdr)
    few = (bins > 0) & (local_count < min_local_count)
    bins[few] = 0
    guard = guard_message(y, z, min_incidents)
    message = guard
    if guard is not None:
        bins[:] = 0
        few[:] = False
    elif few.any():
        message = (
            f"{counted(int(few.sum()), 'hexagon')} looked hot on fewer than {min_local_count} incidents (the hexagon and "
            f"its neighbours together) and {'is' if few.sum() == 1 else 'are'} not marked: too few to call a hot spot."
        )
    return GiStar(
        g=g,
        z=z,
        p=p,
        bins=bins,
        p_norm=p_norm,
        p_sim=p_sim,
        z_sim=z_sim,
        local_count=local_count,
        few=few,
        inference="permutation" if permutations else "analytical",
        permutations=int(permutations),
        seed=used_seed,
        fdr=fdr,
        transform=transform,
        sufficient=guard is None,
        message=message,
    )


def star_weights(neighbours, transform: str = "B") -> sparse.csr_array:
    """Gi* weights: the adjacency plus the diagonal, binary or row-standardised."""
    return _star_weights(sparse.csr_array(neighbours, dtype=float), transform)


def analytical_gi_star(values: np.ndarray, weights) -> tuple[np.ndarray, np.ndarray]:
    """Gi* statistic and analytical z-score for ``weights`` that already hold the self-weights.

    This is esda's ``G_Local.calc`` for ``star=True``; :mod:`.emerging` uses it on space-time weights.
    """
    return _analytical(np.asarray(values, dtype=float), sparse.csr_array(weights, dtype=float))


# --------------------------------------------------------------------------------------------------
def _check(values, neighbours, permutations, transform) -> tuple[np.ndarray, sparse.csr_array]:
    y = np.asarray(values, dtype=float).ravel()
    adjacency = sparse.csr_array(neighbours, dtype=float)
    if adjacency.shape != (len(y), len(y)):
        raise HotspotInputError(
            f"`neighbours` is {adjacency.shape[0]}×{adjacency.shape[1]} but there are {len(y)} values; "
            "build both from the same grid."
        )
    if not np.all(np.isfinite(y)) or (y < 0).any():
        raise HotspotInputError("`values` must be finite, non-negative counts; fill missing cells with 0.")
    if adjacency.diagonal().any():
        raise HotspotInputError("`neighbours` must not include the cell itself; Gi* adds the self-weight.")
    if transform not in TRANSFORMS:
        raise HotspotInputError(
            f"`transform` must be 'B' (binary, as ArcGIS) or 'R' (row-standardised); got {transform!r}."
        )
    if isinstance(permutations, bool) or int(permutations) != permutations or permutations < 0:
        raise HotspotInputError(
            f"`permutations` must be 0 (analytical) or a positive whole number such as 999; got {permutations!r}."
        )
    return y, adjacency


def _star_weights(adjacency: sparse.csr_array, transform: str) -> sparse.csr_array:
    weights = (adjacency + sparse.eye_array(adjacency.shape[0], format="csr")).tocsr()
    if transform == "R":
        weights = sparse.csr_array(sparse.diags_array(1.0 / weights.sum(axis=1)) @ weights)
    weights.sort_indices()
    return weights


def _analytical(y: np.ndarray, weights: sparse.csr_array) -> tuple[np.ndarray, np.ndarray]:
    # Getis and Ord's (1992, 1995) Gi* under randomisation for any weights: with W_i the row sum and
    # S1_i the sum of squared weights, Var(Gi*) = (n S1_i - W_i^2) / (n - 1) * s^2 / (sum y)^2. For binary
    # weights S1_i = W_i, which is esda 2.9's G_Local.calc with star=True (z agrees with esda to rounding);
    # esda uses W_i in place of S1_i for row-standardised weights too, which shrinks z by about 1/sqrt(k).
    # Scaling a row's weights by a constant leaves z unchanged, so row-standardised z equals binary z.
    n = len(y)
    total = y.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        g = (weights @ y) / total
        mean = total / n
        variance = (y**2).sum() / n - mean**2
        row_sum = np.asarray(weights.sum(axis=1)).ravel()
        squares = np.asarray(weights.multiply(weights).sum(axis=1)).ravel()
        expected = row_sum / n
        var_g = (n * squares - row_sum**2) / (n - 1) / n**2 * variance / mean**2
        z = (g - expected) / np.sqrt(var_g)
    return g, z


def guard_message(y: np.ndarray, z: np.ndarray, min_incidents: int) -> str | None:
    total = int(round(y.sum()))
    advice = "Widen the period or the area, or include more categories."
    if total < min_incidents:
        return (
            f"Only {counted(total, 'incident')} in this selection; at least {min_incidents} are needed before a cluster can "
            f"be told apart from chance, so no hot or cold spots are shown. {advice}"
        )
    if len(y) < MIN_CELLS:
        return (
            f"Only {len(y)} map cells in this area; at least {MIN_CELLS} are needed to tell a cluster from chance, "
            "so no hot or cold spots are shown. A larger area gives more cells."
        )
    if not np.isfinite(z).any() or np.ptp(y) == 0:
        return "Every cell has the same count, so there is no pattern to test."
    return None
