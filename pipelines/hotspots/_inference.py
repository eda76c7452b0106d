"""Shared inference machinery: False Discovery Rate, confidence bins and conditional permutation.

Place in the data flow: used by :mod:`.gistar`, :mod:`.moran`, :mod:`.emerging` and :mod:`.gap`; nothing
outside the package calls it. :func:`on_grid` runs a local statistic on a grid the same way for Gi* and
Local Moran.

Conditional permutation
-----------------------
This is esda's ``crand`` (esda 2.9) written as array operations, because without numba esda loops over
the sites in Python. The semantics are the same, so that results can be checked against esda:

- one matrix of permuted ids is drawn for all sites: ``permutations`` rows, each ``max_card`` ids drawn
  without replacement from ``0..n-2`` with a ``numpy.random.RandomState(seed)`` (the stream esda uses
  when numba is absent, so the pseudo p-values agree exactly);
- for site ``i`` those ids index the values *with site i removed*, and the first ``card_i`` of them are
  paired, in order, with site ``i``'s neighbour weights (sorted by neighbour position);
- the focal value is held fixed and enters only through the self-weight (Gi*) or the product with
  ``z_i`` (Local Moran).

Because site ``i``'s values-without-``i`` are ``values[id]`` for ``id < i`` and ``values[id + 1]``
otherwise, every random lag is a small matrix product plus a correction for the few ids that fall in the
current block of sites; no ``n × permutations × k`` array is ever built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from scipy import sparse

from pipelines.hotspots._columns import CELL_ID, COUNT, LAT, LON

if TYPE_CHECKING:
    import geopandas as gpd

    from pipelines.hotspots.grid import Grid

Result = TypeVar("Result")
CONFIDENCE_LEVELS = ((3, 0.01), (2, 0.05), (1, 0.10))  # bin, alpha: 99 %, 95 %, 90 % confidence
_CHUNK = 1024


def on_grid(
    grid: Grid, statistic: Callable[..., Result], columns: Mapping[str, str], **options: Any
) -> tuple[Result, gpd.GeoDataFrame]:
    """A local statistic (:func:`~.gistar.gi_star`, :func:`~.moran.local_moran`) run on a grid's counts and
    adjacency, and ``grid.cells`` with its per-cell arrays added.

    ``columns`` maps each new column to the result's attribute that fills it; the cells come back as
    ``cell_id``, ``count``, ``lat``, ``lon``, those columns, geometry. ``options`` go to ``statistic``, whose
    signature holds the defaults.
    """
    result = statistic(grid.counts, grid.neighbours, **options)
    cells = grid.cells.assign(**{column: getattr(result, attribute) for column, attribute in columns.items()})
    return result, cells[[CELL_ID, COUNT, LAT, LON, *columns, cells.geometry.name]]


def bh_threshold(p: np.ndarray, alpha: float) -> float:
    """Benjamini–Hochberg critical p-value: the largest ``p_(k)`` with ``p_(k) <= k·alpha/m``.

    A test is significant when ``p <= threshold``; ``0.0`` means nothing is. NaN p-values are ignored
    (they do not count towards ``m``).
    """
    finite = np.sort(p[np.isfinite(p)])
    m = len(finite)
    if m == 0:
        return 0.0
    passed = np.nonzero(finite <= np.arange(1, m + 1) * alpha / m)[0]
    return float(finite[passed[-1]]) if len(passed) else 0.0


def confidence_bins(z: np.ndarray, p: np.ndarray, *, fdr: bool = True) -> np.ndarray:
    """ArcGIS-style Gi_Bin: ±3/±2/±1 significant at 99/95/90 % confidence, 0 otherwise; sign of ``z``.

    With ``fdr`` the critical p-value at each confidence level is the Benjamini–Hochberg threshold for
    that level over all tests, which is what ArcGIS's "Apply False Discovery Rate correction" does.
    """
    z = np.asarray(z, dtype=float)
    p = np.asarray(p, dtype=float)
    level = np.zeros(z.shape, dtype=np.int8)
    for bin_, alpha in reversed(CONFIDENCE_LEVELS):  # 90 % first, so the strictest level passed wins
        critical = bh_threshold(p.ravel(), alpha) if fdr else alpha
        level[np.isfinite(p) & (p <= critical)] = bin_
    return (level * np.sign(np.nan_to_num(z))).astype(np.int8)


def self_weights_and_others(weights: sparse.csr_array) -> tuple[np.ndarray, sparse.csr_array]:
    """Split a weights matrix into its diagonal and an off-diagonal matrix with sorted indices."""
    weights = sparse.csr_array(weights, dtype=float)
    diagonal = weights.diagonal().copy()
    others = (weights - sparse.diags_array(diagonal)).tocsr()
    others.eliminate_zeros()
    others.sort_indices()
    return diagonal, others


def esda_permuted_ids(n: int, k: int, permutations: int, seed: int) -> np.ndarray:
    """The permuted-id matrix esda's ``vec_permutations`` draws when numba is not installed."""
    rng = np.random.RandomState(seed)
    out = np.empty((permutations, k), dtype=np.int64)
    for row in range(permutations):
        out[row] = rng.choice(n - 1, size=k, replace=False)
    return out


def resolve_seed(seed: int | None) -> int:
    """The seed to use: ``seed`` itself, or a fresh one that is then reported so the run can be repeated."""
    if seed is None:
        return int(np.random.default_rng().integers(0, 2**32 - 1))
    if not 0 <= int(seed) < 2**32:
        raise ValueError(f"seed must be between 0 and 2**32 - 1; got {seed}.")
    return int(seed)


@dataclass(frozen=True)
class PermutationTally:
    """How the observed statistic sits in its conditional-permutation reference distribution.

    Attributes
    ----------
    n_ge, n_le : numpy.ndarray
        Per site, how many permuted statistics were ``>=`` / ``<=`` the observed one.
    mean, std : numpy.ndarray
        Mean and standard deviation of the permuted statistics per site.
    permutations : int
        Number of permutations.
    seed : int
        Seed of the permuted-id matrix.
    """

    n_ge: np.ndarray
    n_le: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    permutations: int
    seed: int

    @property
    def p_directed(self) -> np.ndarray:
        """esda's ``p_sim``: the smaller tail, ``(min(n_ge, P - n_ge) + 1) / (P + 1)``.

        With ties (common for counts) this can be tiny for a site whose statistic equals every permuted
        value, e.g. an empty cell among empty cells; AreaSafe therefore decides on :attr:`p_two_sided`.
        """
        larger = np.minimum(self.n_ge, self.permutations - self.n_ge)
        return (larger + 1.0) / (self.permutations + 1.0)

    @property
    def p_two_sided(self) -> np.ndarray:
        """``min(1, 2 · (min(n_ge, n_le) + 1) / (P + 1))``; ties count towards both tails."""
        return np.minimum(1.0, 2.0 * (np.minimum(self.n_ge, self.n_le) + 1.0) / (self.permutations + 1.0))

    def z(self, observed: np.ndarray) -> np.ndarray:
        """``(observed - mean) / std`` of the permuted statistics (esda's ``z_sim``)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return (observed - self.mean) / self.std


def conditional_permutation(
    values: np.ndarray,
    weights: sparse.csr_array,
    observed: np.ndarray,
    statistic: Callable[[np.ndarray, slice], np.ndarray],
    *,
    permutations: int,
    seed: int,
) -> PermutationTally:
    """Tally observed local statistics against esda-style conditional permutations.

    Parameters
    ----------
    values : numpy.ndarray
        The values that are permuted (counts for Gi*, standardised values for Local Moran).
    weights : scipy.sparse.csr_array
        Spatial weights; the diagonal is the self-weight and is never permuted.
    observed : numpy.ndarray
        The observed statistic per site.
    statistic : callable
        ``statistic(lag, rows)`` turns random neighbour lags ``Σ_j w_ij x_perm(j)`` (``len(rows) ×
        permutations``, self-weight excluded) into random statistics for the sites ``rows``.
    permutations, seed : int
        Number of permutations and the seed of the permuted-id matrix.
    """
    values = np.asarray(values, dtype=float)
    n = len(values)
    _, others = self_weights_and_others(weights)
    cardinality = np.diff(others.indptr)
    k = int(cardinality.max()) if n else 0
    if n < 2 or k == 0 or k > n - 1:
        # nothing to permute (no neighbours anywhere): every permuted value equals the observed one
        every, nan = np.full(n, float(permutations)), np.full(n, np.nan)
        return PermutationTally(every, every, nan, nan, permutations, seed)
    padded = np.zeros((n, k))
    padded[np.repeat(np.arange(n), cardinality), np.arange(others.nnz) - np.repeat(others.indptr[:-1], cardinality)] = (
        others.data
    )
    ids = esda_permuted_ids(n, k, permutations, seed)
    below, above = values[ids], values[ids + 1]  # site i sees values[id] when id < i, else values[id + 1]
    flat = ids.ravel()
    order = np.argsort(flat, kind="stable")
    sorted_ids, perm_of, col_of = flat[order], order // k, order % k

    n_ge = np.empty(n)
    n_le = np.empty(n)
    mean = np.empty(n)
    std = np.empty(n)
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        lag = padded[lo:hi] @ np.where(ids < lo, below, above).T
        # ids inside this block switch from values[id + 1] to values[id] for the sites after them
        first, last = np.searchsorted(sorted_ids, [lo, hi - 1])
        for e in range(first, last):
            p, c, start = perm_of[e], col_of[e], sorted_ids[e] + 1
            lag[start - lo :, p] += padded[start:hi, c] * (below[p, c] - above[p, c])
        random = statistic(lag, slice(lo, hi))
        obs = observed[lo:hi, None]
        n_ge[lo:hi] = (random >= obs).sum(axis=1)
        n_le[lo:hi] = (random <= obs).sum(axis=1)
        mean[lo:hi] = random.mean(axis=1)
        std[lo:hi] = random.std(axis=1)
    return PermutationTally(n_ge, n_le, mean, std, permutations, seed)
