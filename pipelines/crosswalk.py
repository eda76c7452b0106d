"""Crosswalks between boundaries that do not line up: police precincts, wards and the points in them.

Place in the data flow: analyse. SAPS publishes counts per police precinct, the census counts people per
small area and ward, and community reports are points; ward councillors ask about their ward. This module
is the one place that moves figures between those boundaries:

- :func:`boundary_versions` and :func:`ward_areas`: which ward demarcations are stored (2021, 2026 ...) and
  the wards of the one the reader picks (the latest by default);
- :func:`crosswalk`: how much of each precinct goes to each ward. By **residents** where population is
  known at a finer level than the precinct (an area layer with population figures that covers the
  precinct), else by **area**; :attr:`Crosswalk.methods` says which, per precinct, and
  :meth:`Crosswalk.sentence` says it in words. Each precinct's shares add up to 1 (the part of a precinct
  outside every ward, a sliver where the 2015 precinct and 2021 ward lines disagree, is spread over its
  wards and reported in :attr:`Crosswalk.uncovered`), so apportioned counts add up to the precinct totals;
- :func:`apportion`: precinct-level counts (``area_counts``, precinct populations) shared out to wards;
- :func:`combined_rate`: a rate over several areas is their total incidents over their total population,
  never a sum or a mean of their rates;
- :func:`ward_of_points`: points (incidents, assets, interventions) are placed in wards directly, by
  point-in-polygon (a line or a polygon: every ward it touches).

Every result names the boundary version it used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipelines.errors import AreaSafeError
from pipelines.schemas import COLUMNS
from pipelines.store.base import Store

#: Equal-area CRS for the areas of pieces (WGS 84 / NSIDC EASE-Grid 2.0 Global), as the privacy core uses.
EQUAL_AREA = "EPSG:6933"
BY_RESIDENTS, BY_AREA = "residents", "area"
#: A finer population layer is used for a precinct only where it covers this share of the precinct's area.
MIN_COVER = 0.9
#: sha256 of boundary files whose population figures were themselves shared out from the precincts by area
#: (``data/demo/PROVENANCE.md``: the demo's Safe Neighbourhoods): weighting by them would be weighting by area
#: with extra steps, so they do not count as residents known at a finer level.
AREAL_ESTIMATES = frozenset({"c651f7cd0c55f83fbc8f096706d2ebf9dba43af6f40896788d3b0d411450e679"})
RATE_PER = 1000.0


class WardError(AreaSafeError):
    """A ward or a boundary version that is not stored; the message lists what is."""


# --------------------------------------------------------------------------------------------------
# Boundary versions
# --------------------------------------------------------------------------------------------------
def boundary_versions(store: Store, kind: str = "ward") -> pd.DataFrame:
    """The stored versions of ``kind`` boundaries, newest first: ``version``, ``year``, ``file_name``,
    ``loaded_at``, ``batch_id`` and ``areas`` (how many of its areas are still stored).

    A boundary batch loaded before versions were recorded is named after its file.
    """
    areas = store.read_areas(kind)
    if not len(areas):
        return pd.DataFrame(
            columns=[
                COLUMNS.version,
                COLUMNS.year,
                COLUMNS.file_name,
                COLUMNS.loaded_at,
                COLUMNS.batch_id,
                COLUMNS.areas,
            ]
        )
    stored = areas.groupby(COLUMNS.batch_id).size().rename(COLUMNS.areas)
    recorded = store.read_table("boundary_versions", where={COLUMNS.kind: kind})
    batches = store.read_batches().set_index(COLUMNS.batch_id)
    rows = []
    for batch_id, count in stored.items():
        match = recorded[recorded[COLUMNS.batch_id] == batch_id]
        if len(match):
            row = match.iloc[-1]
            rows.append(
                {
                    "version": row[COLUMNS.version],
                    "year": row[COLUMNS.year],
                    "file_name": row[COLUMNS.file_name],
                    "loaded_at": pd.Timestamp(row[COLUMNS.loaded_at]),
                    "batch_id": batch_id,
                    "areas": int(count),
                }
            )
        else:
            batch = batches.loc[batch_id] if batch_id in batches.index else None
            name = batch[COLUMNS.file_name] if batch is not None else "an unrecorded file"
            loaded = pd.Timestamp(batch[COLUMNS.created_at]) if batch is not None else pd.NaT
            rows.append(
                {
                    "version": f"{kind}s from {name}",
                    "year": None,
                    "file_name": name,
                    "loaded_at": loaded,
                    "batch_id": batch_id,
                    "areas": int(count),
                }
            )
    table = pd.DataFrame(rows)
    return table.sort_values(COLUMNS.loaded_at, ascending=False, na_position="last", ignore_index=True)


def version_names(store: Store, kind: str = "ward") -> list[str]:
    """The names of the stored versions of ``kind`` boundaries, newest first (:func:`boundary_versions`)."""
    return [str(name) for name in boundary_versions(store, kind)[COLUMNS.version]]


def ward_areas(store: Store, version: str | None = None) -> tuple[gpd.GeoDataFrame, str]:
    """The wards of one boundary version, and its name. ``version``: its name or its year (``"2021"``);
    ``None``: the version loaded last.

    Raises
    ------
    WardError
        No wards are stored, or ``version`` is not one of them (the message lists them).
    """
    versions = boundary_versions(store, "ward")
    if not len(versions):
        raise WardError(
            "No wards are stored; load them with 'areasafe ingest boundaries --kind ward FILE' (for example the "
            "City of Cape Town wards)."
        )
    if version is None:
        chosen = versions.iloc[0]
    else:
        wanted = str(version).strip().casefold()
        match = versions[
            (versions[COLUMNS.version].str.casefold() == wanted)
            | (versions[COLUMNS.year].map(lambda y: pd.notna(y) and str(int(y)) == wanted))
        ]
        if not len(match):
            known = "; ".join(f"{v!r}" for v in versions[COLUMNS.version])
            raise WardError(f"--boundary-version {version!r} is not stored; stored ward versions: {known}.")
        chosen = match.iloc[0]
    wards = store.read_areas("ward")
    wards = wards[wards[COLUMNS.batch_id] == chosen[COLUMNS.batch_id]].reset_index(drop=True)
    return wards, str(chosen[COLUMNS.version])


def resolve_ward(wards: pd.DataFrame, text: str) -> pd.Series:
    """The ward ``text`` names: its code (``2021-099``), its number (``99``, ``Ward 99``) or its name.

    Raises
    ------
    WardError
        No ward matches (the message gives a few of the codes).
    """
    wanted = str(text).strip()
    number = wanted.casefold().removeprefix("ward").strip().lstrip("0")
    for test in (
        wards[COLUMNS.code].astype(str) == wanted,
        wards[COLUMNS.name].astype(str).str.casefold() == wanted.casefold(),
        wards[COLUMNS.name].astype(str).str.casefold() == f"ward {number}",
    ):
        if test.any():
            return wards[test].iloc[0]
    some = ", ".join(sorted(wards[COLUMNS.code].astype(str))[:8])
    raise WardError(f"--ward {text!r} is not a stored ward of this version; give a ward number or code ({some} ...).")


# --------------------------------------------------------------------------------------------------
# Precinct -> ward shares
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Crosswalk:
    """How each source area's figures are shared out to target areas.

    Attributes
    ----------
    pieces : pandas.DataFrame
        ``source``, ``target``, ``km2`` (area of the overlap) and ``weight`` (the share of the source's
        figures that goes to the target; each source's weights add up to 1).
    methods : dict
        Source code -> :data:`BY_RESIDENTS` or :data:`BY_AREA`.
    uncovered : pandas.Series
        Source code -> share of its area outside every target (spread over its targets).
    version : str
        The target boundary version.
    residents_from : str or None
        The layer whose population weighted the residents method, in words.
    """

    pieces: pd.DataFrame
    methods: dict[str, str]
    uncovered: pd.Series
    version: str
    residents_from: str | None = None
    source_names: dict[str, str] = field(default_factory=dict)

    def for_target(self, code: str) -> pd.DataFrame:
        """The pieces that make up one target (ward), largest share first."""
        return self.pieces[self.pieces[COLUMNS.target] == code].sort_values(
            "weight", ascending=False, ignore_index=True
        )

    def sentence(self, sources: Sequence[str] | None = None) -> str:
        """How the figures of ``sources`` (default: all) were shared out, in one or two plain sentences."""
        codes = list(self.methods) if sources is None else [c for c in sources if c in self.methods]
        by_res = [c for c in codes if self.methods[c] == BY_RESIDENTS]
        by_area = [c for c in codes if self.methods[c] == BY_AREA]
        names = self.source_names

        def listed(group: list[str]) -> str:
            return ", ".join(names.get(c, c) for c in group)

        parts = []
        if by_res:
            parts.append(
                f"Police-precinct figures for {listed(by_res)} are shared out to wards in proportion to the residents "
                f"living in each part ({self.residents_from})."
            )
        if by_area:
            why = "no population figures finer than the precinct are loaded"
            parts.append(
                f"Police-precinct figures for {listed(by_area)} are shared out to wards in proportion to area, "
                f"because {why}: this assumes incidents and people are spread evenly over each precinct."
            )
        return " ".join(parts) + f" Wards: {self.version}."


def crosswalk(
    sources: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame,
    *,
    version: str,
    residents: gpd.GeoDataFrame | None = None,
    residents_from: str | None = None,
    min_cover: float = MIN_COVER,
) -> Crosswalk:
    """The shares of each source area (precinct) that go to each target area (ward).

    Parameters
    ----------
    sources, targets : GeoDataFrame
        ``code`` and polygons (any CRS; areas are measured in :data:`EQUAL_AREA`).
    residents : GeoDataFrame, optional
        Areas finer than the sources with a ``population``: a source they cover (at least ``min_cover`` of
        its area) is shared out by the residents of each piece (each fine area's people spread evenly over
        it), any other source by area.
    """
    src = sources[[COLUMNS.code, COLUMNS.name, COLUMNS.geometry]].to_crs(EQUAL_AREA).reset_index(drop=True)
    tgt = targets[[COLUMNS.code, COLUMNS.geometry]].to_crs(EQUAL_AREA).reset_index(drop=True)
    src_geoms, tgt_geoms = src.geometry.to_numpy(), tgt.geometry.to_numpy()
    s_idx, t_idx = shapely.STRtree(tgt_geoms).query(src_geoms, predicate="intersects")
    overlaps = shapely.intersection(src_geoms[s_idx], tgt_geoms[t_idx])
    km2 = shapely.area(overlaps) / 1e6
    pieces = pd.DataFrame(
        {
            COLUMNS.source: src[COLUMNS.code].to_numpy()[s_idx],
            COLUMNS.target: tgt[COLUMNS.code].to_numpy()[t_idx],
            "km2": km2,
        }
    )
    pieces[COLUMNS.geometry] = overlaps
    pieces = pieces[pieces["km2"] > 0].reset_index(drop=True)
    src_km2 = pd.Series(shapely.area(src_geoms) / 1e6, index=src[COLUMNS.code].to_numpy())
    covered = pieces.groupby(COLUMNS.source)["km2"].sum().reindex(src_km2.index, fill_value=0.0)
    uncovered = (1 - covered / src_km2).clip(lower=0.0)

    people = _residents_in(pieces, residents) if residents is not None and len(residents) else None
    methods, weights = {}, np.zeros(len(pieces))
    for code in src_km2.index:
        rows = np.flatnonzero(pieces[COLUMNS.source].to_numpy() == code)
        if not len(rows):
            continue
        use_people = False
        if people is not None:
            cover = people.coverage.iloc[rows].sum() / src_km2[code]
            use_people = cover >= min_cover and people.population.iloc[rows].sum() > 0
        basis = people.population.iloc[rows].to_numpy() if use_people else pieces["km2"].to_numpy()[rows]
        weights[rows] = basis / basis.sum()
        methods[code] = BY_RESIDENTS if use_people else BY_AREA
    pieces["weight"] = weights
    return Crosswalk(
        pieces=pieces.drop(columns=COLUMNS.geometry),
        methods=methods,
        uncovered=uncovered,
        version=version,
        residents_from=residents_from,
        source_names=dict(zip(src[COLUMNS.code], src[COLUMNS.name], strict=True)),
    )


def _residents_in(pieces: pd.DataFrame, residents: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per piece: the residents in it (each fine area's population spread evenly over its area) and the km²
    of the piece the fine areas cover."""
    fine = residents[pd.to_numeric(residents[COLUMNS.population], errors="coerce") > 0].to_crs(EQUAL_AREA)
    geoms = fine.geometry.to_numpy()
    population = pd.to_numeric(fine[COLUMNS.population]).to_numpy(dtype=float)
    fine_km2 = shapely.area(geoms) / 1e6
    p_idx, f_idx = shapely.STRtree(geoms).query(pieces[COLUMNS.geometry].to_numpy(), predicate="intersects")
    parts = shapely.area(shapely.intersection(pieces[COLUMNS.geometry].to_numpy()[p_idx], geoms[f_idx])) / 1e6
    people = np.bincount(p_idx, weights=population[f_idx] * parts / fine_km2[f_idx], minlength=len(pieces))
    cover = np.bincount(p_idx, weights=parts, minlength=len(pieces))
    return pd.DataFrame({COLUMNS.population: people, "coverage": np.minimum(cover, pieces["km2"].to_numpy())})


def apportion(
    values: pd.DataFrame, walk: Crosswalk, *, code: str = "area_code", value: str = "count", by: Sequence[str] = ()
) -> pd.DataFrame:
    """Source-area figures shared out to targets: ``target``, the ``by`` columns, ``value`` (a float: a share
    of a count is not a whole number) and ``sources`` (how many source areas contributed).

    A source that overlaps no target is left out (no ward holds it); each other source's figure is shared
    in full, so summing the result over targets gives back the source totals.
    """
    joined = values[[code, *by, value]].merge(walk.pieces, left_on=code, right_on=COLUMNS.source, how="inner")
    joined["share"] = pd.to_numeric(joined[value], errors="coerce").astype(float) * joined["weight"]
    grouped = joined.groupby([COLUMNS.target, *by], dropna=False, sort=True)
    return (
        grouped.agg(**{value: ("share", "sum"), "sources": ("source", "nunique")})
        .reset_index()
        .astype({"sources": int})
    )


def combined_rate(
    counts: Sequence[float] | pd.Series, population: Sequence[float] | pd.Series, *, per=RATE_PER
) -> float:
    """The rate of several areas together: their total count over their total population, per ``per``
    residents. Never a sum or a mean of the areas' rates (a mean gives a small area as much say as a large
    one). NaN without population."""
    counts = np.asarray(counts, dtype=float)
    population = np.asarray(population, dtype=float)
    total = np.nansum(population)
    return float(np.nansum(counts) / total * per) if total > 0 else float("nan")


# --------------------------------------------------------------------------------------------------
# Points -> wards
# --------------------------------------------------------------------------------------------------
def ward_of_points(geoms: Sequence | np.ndarray | gpd.GeoSeries, wards: gpd.GeoDataFrame) -> np.ndarray:
    """The ward code of each point, placed directly (``None`` outside every ward; a point on a border shared
    by two wards gets the smaller code, as :mod:`pipelines.place` does). For lines and polygons, which may
    cross several wards, use :func:`in_ward`."""
    values = np.asarray(getattr(geoms, "values", geoms), dtype=object)
    out = np.full(len(values), None, dtype=object)
    usable = ~(shapely.is_missing(values) | shapely.is_empty(values))
    if not usable.any() or not len(wards):
        return out
    ordered = wards.sort_values(COLUMNS.code, kind="stable")
    polygons = ordered.geometry.to_crs(4326).to_numpy() if ordered.crs else ordered.geometry.to_numpy()
    codes = ordered[COLUMNS.code].to_numpy(dtype=object)
    points = values[usable]
    p_idx, w_idx = shapely.STRtree(polygons).query(points, predicate="intersects")
    order = np.lexsort((w_idx, p_idx))  # per point, the ward with the smallest code first
    p_idx, w_idx = p_idx[order], w_idx[order]
    first = np.r_[True, p_idx[1:] != p_idx[:-1]] if len(p_idx) else np.zeros(0, dtype=bool)
    found = np.full(len(points), None, dtype=object)
    found[p_idx[first]] = codes[w_idx[first]]
    out[usable] = found
    return out


def in_ward(frame: gpd.GeoDataFrame, ward: pd.Series | gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The rows of ``frame`` whose geometry touches the ward (points inside it, lines and polygons crossing it)."""
    if not len(frame):
        return frame
    polygon = ward.geometry if isinstance(ward, pd.Series) else ward.geometry.iloc[0]
    geoms = frame.geometry.to_crs(4326).to_numpy() if frame.crs else frame.geometry.to_numpy()
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    hit = np.zeros(len(geoms), dtype=bool)
    hit[usable] = shapely.intersects(polygon, geoms[usable])
    return frame[hit]


def store_crosswalk(store: Store, wards: gpd.GeoDataFrame, version: str) -> Crosswalk:
    """:func:`crosswalk` of the stored precincts to ``wards``, weighted by the residents of a stored finer
    layer (Safe Neighbourhoods with population figures of their own) where it covers a precinct.

    Population figures that were shared out from the precincts by area (:data:`AREAL_ESTIMATES`) do not count
    as residents known at a finer level.
    """
    precincts = store.read_areas("precinct")
    fine = store.read_areas("neighbourhood")
    residents, described = None, None
    if len(fine) and pd.to_numeric(fine[COLUMNS.population], errors="coerce").gt(0).any():
        batches = store.read_batches()
        hashes = set(batches.loc[batches[COLUMNS.batch_id].isin(set(fine[COLUMNS.batch_id].dropna())), COLUMNS.sha256])
        if not hashes & AREAL_ESTIMATES:
            residents = fine
            files = ", ".join(
                sorted(set(batches.loc[batches[COLUMNS.batch_id].isin(set(fine[COLUMNS.batch_id])), COLUMNS.file_name]))
            )
            described = f"population figures of the Safe Neighbourhoods in {files}"
    return crosswalk(precincts, wards, version=version, residents=residents, residents_from=described)
