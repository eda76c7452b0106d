"""Incident rates per 1,000 residents per precinct or neighbourhood, with Empirical Bayes smoothing.

Place in the data flow: analyse. :func:`area_rates` counts incidents per area (from the incidents'
``precinct_code`` / ``neighbourhood_code``, set when they were placed) and divides by the area's
population; :func:`empirical_bayes` is the smoother on its own.

Why smooth: three incidents among 150 residents is a crude rate of 20 per 1,000, which would top any
league table, yet one incident fewer would halve it. Global Empirical Bayes (Marshall 1991, as esda's
``Empirical_Bayes``) pulls each area's rate towards the overall rate in proportion to how little its
population tells us:

- ``b = Σ counts / Σ population`` (the overall rate);
- ``s² = Σ population_i (r_i - b)² / Σ population`` (population-weighted variance of the crude rates);
- ``a = s² - b / mean(population)`` (between-area variance; set to 0 when negative: then every area's
  smoothed rate is ``b``, since the data cannot tell the areas apart);
- ``w_i = a / (a + b / population_i)``, and the smoothed rate is ``w_i r_i + (1 - w_i) b``.

Large areas keep nearly their crude rate (``w`` near 1); small ones move towards ``b``. Areas without a
population figure get no rate and are left out of ``b`` and ``a``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines.hotspots._columns import AREA_CODE, AREA_KIND, AREA_NAME, POPULATION
from pipelines.hotspots.gistar import HotspotInputError
from pipelines.hotspots.grid import select_incidents
from pipelines.periods import TimeLike
from pipelines.schemas import AREA_KINDS, CODE_COLUMN, COLUMNS

RATE_PER = 1000.0
CRUDE_RATE = "crude_rate"
EB_RATE = "eb_rate"
SHRINKAGE = "weight"
NOTE = "note"


@dataclass(frozen=True, eq=False)
class AreaRates:
    """Crude and smoothed rates per area.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per area of the kind: ``code``, ``name``, ``kind``, ``population``, ``count``,
        ``crude_rate`` and ``eb_rate`` (per ``per`` residents), ``weight`` (the weight on the area's own
        rate, 0..1) and ``note`` (plain-language caveat or empty); highest smoothed rate first.
    per : float
        Rates are per this many residents.
    overall_rate : float
        ``b``: all incidents over all residents, per ``per`` residents.
    between_variance : float
        ``a`` (per resident², before scaling by ``per``).
    kind : str
        ``precinct`` or ``neighbourhood``.
    """

    table: pd.DataFrame
    per: float
    overall_rate: float
    between_variance: float
    kind: str


def empirical_bayes(counts, population) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Global Empirical Bayes rates (per resident) for areas with positive population.

    Returns
    -------
    rates, weights, b, a
        Smoothed rates, the weight on each area's own crude rate, the overall rate and the
        between-area variance (clipped at 0).
    """
    e = np.asarray(counts, dtype=float)
    pop = np.asarray(population, dtype=float)
    if e.shape != pop.shape or (pop <= 0).any() or not np.isfinite(pop).all() or (e < 0).any():
        raise HotspotInputError("`counts` and `population` must have the same length, counts >= 0, population > 0.")
    if len(e) == 0:
        return np.array([]), np.array([]), float("nan"), float("nan")
    b = e.sum() / pop.sum()
    crude = e / pop
    s2 = (pop * (crude - b) ** 2).sum() / pop.sum()
    a = max(s2 - b / pop.mean(), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        weights = np.where(a > 0, a / (a + b / pop), 0.0)
    return weights * crude + (1 - weights) * b, weights, float(b), float(a)


def area_rates(
    incidents: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    *,
    kind: str = "precinct",
    per: float = RATE_PER,
    start: TimeLike = None,
    end: TimeLike = None,
    categories: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
    min_population: float = 500.0,
) -> AreaRates:
    """Incidents per ``per`` residents in each area of ``kind``, crude and Empirical Bayes smoothed.

    Parameters
    ----------
    incidents : DataFrame
        Incidents with ``precinct_code``/``neighbourhood_code``.
    areas : GeoDataFrame
        The areas frame (``code``, ``name``, ``kind``, ``population``).
    kind : {"precinct", "neighbourhood"}
    per : float
        Rate denominator (1,000 residents).
    start, end, categories, sources
        Filters, as in :func:`~pipelines.hotspots.grid.select_incidents`.
    min_population : float
        Areas with fewer residents get a note that even the smoothed rate is uncertain.
    """
    _check(kind, per)
    if kind not in CODE_COLUMN:  # wards: incidents carry no ward code; count them with pipelines.crosswalk
        raise HotspotInputError(f"`kind` must be one of {', '.join(CODE_COLUMN)}; got {kind!r}.")
    selected = select_incidents(incidents, start=start, end=end, categories=categories, sources=sources)
    counts = selected[CODE_COLUMN[kind]].value_counts()
    return rate_table(areas, counts, kind=kind, per=per, min_population=min_population)


def rate_table(
    areas: pd.DataFrame,
    counts: pd.Series,
    *,
    kind: str = "precinct",
    per: float = RATE_PER,
    min_population: float = 500.0,
) -> AreaRates:
    """Crude and smoothed rates of the areas of ``kind`` from counts already made (area code -> count).

    An area missing from ``counts`` has 0 incidents. A count that is NaN is one the reader may not see
    (suppressed, :func:`pipelines.privacy.published_counts`): that area gets no rate, and it is left out of
    the overall rate ``b`` and the between-area variance ``a`` too, so no rate shown (each one depends on
    ``a`` and ``b``) carries anything of the hidden count. Its note says why.
    """
    _check(kind, per)
    table = pd.DataFrame(areas.loc[areas[AREA_KIND] == kind, [AREA_CODE, AREA_NAME, AREA_KIND, POPULATION]])
    table[POPULATION] = pd.to_numeric(table[POPULATION], errors="coerce")
    known = pd.Series(counts, dtype=float)
    table[COLUMNS.count] = table[AREA_CODE].map(known).where(table[AREA_CODE].isin(known.index), 0.0).to_numpy()
    hidden = table[COLUMNS.count].isna().to_numpy()
    has_pop = (table[POPULATION] > 0).to_numpy() & ~hidden
    eb, weights, b, a = empirical_bayes(table[COLUMNS.count].to_numpy()[has_pop], table[POPULATION].to_numpy()[has_pop])
    table[CRUDE_RATE] = np.where(has_pop, table[COLUMNS.count] / table[POPULATION].where(has_pop) * per, np.nan)
    table[EB_RATE] = np.nan
    table[SHRINKAGE] = np.nan
    table.loc[has_pop, EB_RATE] = eb * per
    table.loc[has_pop, SHRINKAGE] = weights
    table[NOTE] = _notes(table, has_pop, hidden, min_population)
    if not hidden.any():
        table[COLUMNS.count] = table[COLUMNS.count].astype(np.int64)
    table = table.sort_values(EB_RATE, ascending=False, na_position="last", ignore_index=True)
    return AreaRates(table=table, per=float(per), overall_rate=b * per, between_variance=a, kind=kind)


#: sha256 of boundary files whose population figures have a known source (``data/demo/PROVENANCE.md``; a
#: test checks these against it) -> that source in words, as the map names it beside a rate.
KNOWN_POPULATION_SOURCES = {
    "fa8afc561739fb79a3ea6929de966ea09f6afaad19cfcdd0f72d0c900ad4f002": (
        "Census 2022 (Stats SA), per 2022 police district; the precinct boundaries are from 2015, so rates "
        "are indicative"
    ),
    "c651f7cd0c55f83fbc8f096706d2ebf9dba43af6f40896788d3b0d411450e679": (
        "estimated from Census 2022 (Stats SA) precinct populations by share of area; not a census count"
    ),
}


def population_source(areas: pd.DataFrame, batches: pd.DataFrame, *, kind: str) -> str:
    """Where the residents behind the rates of ``kind`` areas come from, as one sentence for the reader.

    The boundary batch that loaded the areas names the file; a file listed in
    :data:`KNOWN_POPULATION_SOURCES` (by its sha256, so a renamed or edited file is not mistaken for it) gets
    its source and year, any other file is named as it is, with the date it was loaded, and the sentence
    says plainly that the file does not record where its figures come from.
    """
    chosen = areas[(areas[AREA_KIND] == kind) & (pd.to_numeric(areas[POPULATION], errors="coerce") > 0)]
    if not len(chosen):
        return "Residents: no population figures are loaded for these areas, so no rate can be shown."
    ids = set(chosen[COLUMNS.batch_id].dropna()) if COLUMNS.batch_id in chosen else set()
    loaded = (
        batches[batches[COLUMNS.batch_id].isin(ids)]
        if len(batches) and COLUMNS.batch_id in batches
        else batches.iloc[0:0]
    )
    known = [KNOWN_POPULATION_SOURCES[h] for h in loaded.get(COLUMNS.sha256, []) if h in KNOWN_POPULATION_SOURCES]
    if known and len(known) == len(loaded):
        return "Residents: " + "; ".join(dict.fromkeys(known)) + "."
    files = ", ".join(dict.fromkeys(str(f) for f in loaded.get(COLUMNS.file_name, []))) or "the boundary file"
    return (
        f"Residents: the population figures in {files}, as loaded; the file does not say where they come from "
        "or which year they describe."
    )


def _check(kind: str, per: float) -> None:
    if kind not in AREA_KINDS:
        raise HotspotInputError(f"`kind` must be one of {', '.join(AREA_KINDS)}; got {kind!r}.")
    if not per > 0:
        raise HotspotInputError(f"`per` must be a positive number of residents, e.g. 1000; got {per!r}.")


def _notes(table: pd.DataFrame, has_pop: np.ndarray, hidden: np.ndarray, min_population: float) -> list[str]:
    notes = []
    rows = zip(table[POPULATION], table[COLUMNS.count], table[SHRINKAGE], has_pop, hidden, strict=True)
    for pop, count, weight, ok, withheld in rows:
        if withheld:
            notes.append("Too few incidents to publish, so no rate: the rate would give the number back.")
        elif not ok:
            notes.append("No population figure, so no rate; add the population to the area boundaries.")
        elif pop < min_population:
            notes.append(f"Only {pop:,.0f} residents: even the smoothed rate is uncertain.")
        elif weight < 0.5 and count > 0:
            notes.append(
                "Rate pulled strongly towards the overall rate: too few residents or incidents to stand alone."
            )
        else:
            notes.append("")
    return notes
