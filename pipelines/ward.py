"""One ward, one month: what is happening in the ward and what is being done about it.

Place in the data flow: analyse, between the disclosure core and the ward page and councillor's report
(:mod:`pipelines.wardreport`). :func:`ward_view` reads the store as the viewer may see it
(:mod:`pipelines.privacy`) and returns a :class:`WardView` of display-ready tables and sentences:

- incidents in the ward (points placed in the ward directly) and the Empirical Bayes smoothed rate per
  1,000 residents among the wards (:mod:`pipelines.hotspots.rates`), month by month against the whole area
  AreaSafe holds (its rate is total incidents over total residents: :func:`pipelines.crosswalk.combined_rate`);
- SAPS station statistics shared out from the police precincts to the ward (:mod:`pipelines.crosswalk`), with
  how they were shared out;
- hot spots that touch the ward, interventions in the ward with status and budget per financial year, assets,
  open ACT actions of the Safe Neighbourhoods the ward overlaps, and community reports.

Viewers whose counts are suppressed (the public, a cso) see the ward as the public does: incident counts of
1 to 4 as ``<5``, a ward count that would give a small number away against the map's areas withheld
(:mod:`pipelines.privacy.wards`), no people, no report text, no points.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines import crosswalk, periods, privacy
from pipelines.act.actions import OPEN_STATUSES, read_actions
from pipelines.act.agenda import HOTSPOT_MONTHS, MeetingContext
from pipelines.hotspots.emerging import HOTSPOT_CLASS
from pipelines.hotspots.rates import EB_RATE, rate_table
from pipelines.hotspots.recipe import NeighbourhoodHotspots, hotspots_for_neighbourhood, neighbourhood_hotspots
from pipelines.periods import local_months, month_start, parse_month
from pipelines.privacy import suppress
from pipelines.privacy.public import PERSONAL_COLUMNS, SENSITIVE_CODE, SENSITIVE_LABEL
from pipelines.privacy.published import count_threshold
from pipelines.privacy.rows import sensitive_mask
from pipelines.privacy.wards import differencing_leaks, overlapping_codes, publish_ward_counts
from pipelines.schemas import COLUMNS
from pipelines.store.base import IncidentQuery, Store
from pipelines.views import category_labels, status_words

TREND_MONTHS = 12
SAPS_YEARS = 3
#: Hot spots are looked for over the ward and this far around it, so one on the ward's edge is found whole.
HOTSPOT_MARGIN_M = 500
_ROW_COLUMNS = [
    COLUMNS.incident_id,
    COLUMNS.source,
    COLUMNS.occurred_at,
    COLUMNS.category,
    COLUMNS.sensitive,
    COLUMNS.precinct_code,
    COLUMNS.neighbourhood_code,
]
_SHOWN_CLASSES = ("new", "worse", "persistent", "fading", "cold")


@dataclass(frozen=True, eq=False)
class WardContext(MeetingContext):
    """A :class:`~pipelines.act.agenda.MeetingContext` for a ward, so the meeting pack's map can draw it:
    its interventions are those that touch the ward, not those of a neighbourhood code."""

    ward_interventions: gpd.GeoDataFrame | None = None

    @property
    def neighbourhood_interventions(self) -> gpd.GeoDataFrame:
        return self.ward_interventions


@dataclass(frozen=True, eq=False)
class WardMap:
    """What :func:`pipelines.act.figures.neighbourhood_map` reads of an agenda: the context and the agenda's
    hot spot groups (none for a ward: its hot spots are drawn by class)."""

    context: WardContext
    hotspot_groups: gpd.GeoDataFrame


@dataclass(frozen=True, eq=False)
class WardView:
    """A ward and a month as one viewer may see them; every table holds display text.

    Attributes
    ----------
    code, name, version : str
        The ward, and the boundary version it comes from (e.g. "City of Cape Town wards, 2021 demarcation").
    month : pandas.Period
    public : bool
        Built by the public rules (viewers whose counts are suppressed).
    headline : dict
        Sentence-ready figures: ``incidents``, ``rate``, ``city_rate``, ``residents``.
    trend : pandas.DataFrame
        ``Month``, ``Incidents in the ward``, ``Ward per 1,000 residents``, ``Whole area per 1,000 residents``.
    saps, precincts, hotspots, interventions, budget, assets, actions, reports : pandas.DataFrame
    method : str
        How precinct figures were shared out to the ward, and the boundary version.
    notes : tuple of str
        What was left out and why, and caveats, in plain words.
    """

    code: str
    name: str
    version: str
    month: pd.Period
    public: bool
    viewer_label: str
    area: gpd.GeoDataFrame
    headline: dict[str, str]
    trend: pd.DataFrame
    saps: pd.DataFrame
    precincts: pd.DataFrame
    hotspots: pd.DataFrame
    interventions: pd.DataFrame
    budget: pd.DataFrame
    assets: pd.DataFrame
    actions: pd.DataFrame
    reports: pd.DataFrame
    method: str
    notes: tuple[str, ...]
    map_input: WardMap
    trend_series: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def title(self) -> str:
        return f"{self.name}: {self.month:%B %Y}"


def ward_view(
    store: Store, ward: str, month: str | pd.Period, *, viewer: privacy.Viewer, version: str | None = None
) -> WardView:
    """Read the store and build the view of ``ward`` (code, number or name) in ``month`` (``YYYY-MM``) on the
    ward boundaries of ``version`` (default: the latest loaded), as ``viewer`` may see it.

    Raises
    ------
    WardError
        No wards are stored, or ``ward`` or ``version`` is not one of them.
    BadMonthError
        ``month`` is not ``YYYY-MM``.
    """
    viewer.require("ward")
    period = parse_month(str(month), argument="--month")
    wards, label = crosswalk.ward_areas(store, version)
    row = crosswalk.resolve_ward(wards, ward)
    code, name = str(row[COLUMNS.code]), str(row[COLUMNS.name])
    area = wards[wards[COLUMNS.code] == code].reset_index(drop=True)
    public = viewer.suppressed
    who = privacy.PUBLIC if public else viewer
    threshold = count_threshold(who)

    walk = crosswalk.store_crosswalk(store, wards, label)
    precincts = store.read_areas("precinct")
    population = _ward_population(precincts, walk)
    residents = population.get(code)
    wards = wards.assign(population=wards[COLUMNS.code].map(population))

    start = month_start(period - (max(TREND_MONTHS, HOTSPOT_MONTHS) - 1))
    query = IncidentQuery(start=start, end=month_start(period + 1), columns=_ROW_COLUMNS)
    rows = privacy.counting_rows(store, who, query)
    rows = rows.reset_index(drop=True)
    rows["ward"] = crosswalk.ward_of_points(rows.geometry, wards)
    other_wards = _other_versions(store, label, rows.geometry) if threshold else {}
    rows[COLUMNS.month] = local_months(rows[COLUMNS.occurred_at]) if len(rows) else pd.Series(dtype="period[M]")

    trend, series, headline, notes = _trend(rows, other_wards, wards, precincts, code, period, threshold)
    headline["residents_count"] = f"{residents:,.0f}" if residents else "unknown"
    headline["residents"] = (
        f"about {residents:,.0f} residents (estimated: {_population_basis(walk, code)})" if residents else "unknown"
    )
    covered = walk.for_target(code)["km2"].sum() / area.to_crs(crosswalk.EQUAL_AREA).area.iloc[0] * 1e6
    if covered < 0.95:
        notes.append(
            f"Only {covered:.0%} of {name} lies inside the police precincts AreaSafe holds: its residents, rates and "
            "SAPS figures are for that part, and incidents elsewhere in the ward are not recorded here."
        )
    ward_rows = rows[rows["ward"] == code]
    hot, hot_source = _hotspots(store, who, rows, area, period)
    cells = hot.cells[hot.cells.intersects(area.geometry.iloc[0])] if len(hot.cells) else hot.cells
    interventions = crosswalk.in_ward(privacy.read_table(store, who, "interventions"), area)
    assets = crosswalk.in_ward(privacy.read_table(store, who, "assets"), area)
    context = WardContext(
        code=code,
        name=name,
        month=period,
        area=area,
        incidents=ward_rows,
        interventions=privacy.read_table(store, who, "interventions"),
        assets=privacy.read_table(store, who, "assets"),
        intervention_log=privacy.read_table(store, who, "intervention_log"),
        actions=pd.DataFrame(),
        meetings=pd.DataFrame(columns=[COLUMNS.meeting_id, COLUMNS.month, COLUMNS.held_on]),
        hotspots=hot,
        ward_interventions=interventions,
    )
    map_input = WardMap(context, gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"))
    return WardView(
        code=code,
        name=name,
        version=label,
        month=period,
        public=public,
        viewer_label=viewer.label,
        area=area,
        headline=headline,
        trend=trend,
        saps=_saps(store, walk, code),
        precincts=_precinct_shares(walk, code),
        hotspots=_hotspot_table(cells),
        interventions=_intervention_table(interventions),
        budget=_budget_table(interventions, period),
        assets=_asset_table(assets),
        actions=_action_table(store, area, public=public, as_of=period.end_time.date()),
        reports=_report_table(rows, other_wards, code, period, threshold),
        method=walk.sentence(list(walk.for_target(code)[COLUMNS.source])),
        notes=tuple([*notes, f"Hot spots over the 12 months to {period:%B %Y}, {hot_source}.", *hot.messages[:2]]),
        map_input=map_input,
        trend_series=series,
    )


def busiest_ward(store: Store, wards: gpd.GeoDataFrame, version: str) -> str | None:
    """The code of the ward with the most residents within the stored precincts (the page's first choice)."""
    population = _ward_population(store.read_areas("precinct"), crosswalk.store_crosswalk(store, wards, version))
    return max(population, key=population.get) if population else None


@dataclass(frozen=True)
class WardChoices:
    """The wards the ward page offers on one boundary version: ``codes`` in code order, their ``names``,
    and ``first``, the index of the ward the page starts on (:func:`busiest_ward`)."""

    codes: list[str]
    names: dict[str, str]
    first: int


def ward_choices(store: Store, version: str | None) -> WardChoices:
    """The wards of ``version`` (its name or year; ``None``: the latest loaded) for the ward page's choice.

    Raises
    ------
    WardError
        No wards are stored, or ``version`` is not one of them.
    """
    wards, label = crosswalk.ward_areas(store, version)
    ordered = wards.sort_values(COLUMNS.code)
    names = dict(zip(ordered[COLUMNS.code].astype(str), ordered[COLUMNS.name].astype(str), strict=True))
    codes = list(names)
    busiest = busiest_ward(store, wards, label)
    return WardChoices(codes, names, codes.index(busiest) if busiest in names else 0)


def trend_lines(view: WardView) -> pd.DataFrame:
    """The ward's and the whole area's smoothed rate month by month, one row per month and line, for a
    chart: ``month`` (its first day), ``where`` (the ward's name or "Whole area") and ``rate``."""
    series = view.trend_series.assign(month=lambda f: pd.PeriodIndex(f[COLUMNS.month], freq="M").to_timestamp())
    lines = series.melt(id_vars=COLUMNS.month, value_vars=["ward", "city"], var_name="where", value_name="rate")
    lines["where"] = lines["where"].map({"ward": view.name, "city": "Whole area"})
    return lines


def _other_versions(store: Store, version: str, points: gpd.GeoSeries) -> dict[str, np.ndarray]:
    """Each point's ward in every stored boundary version but ``version`` (the page offers them all, so their
    counts are published too: :func:`pipelines.privacy.wards.publish_ward_counts` checks against them)."""
    others = crosswalk.version_names(store, "ward")
    return {
        other: crosswalk.ward_of_points(points, crosswalk.ward_areas(store, other)[0])
        for other in others
        if other != version
    }


def _ward_population(precincts: gpd.GeoDataFrame, walk: crosswalk.Crosswalk) -> dict[str, float]:
    """Residents per ward: the precincts' populations shared out as their counts are."""
    known = precincts.assign(population=pd.to_numeric(precincts[COLUMNS.population], errors="coerce")).dropna(
        subset=[COLUMNS.population]
    )
    shared = crosswalk.apportion(known.rename(columns={COLUMNS.code: COLUMNS.area_code}), walk, value="population")
    return dict(zip(shared[COLUMNS.target], shared[COLUMNS.population], strict=True))


def _population_basis(walk: crosswalk.Crosswalk, code: str) -> str:
    methods = {walk.methods.get(s) for s in walk.for_target(code)[COLUMNS.source]}
    how = "by residents" if methods == {crosswalk.BY_RESIDENTS} else "by area"
    return f"the police precincts' Census 2022 populations shared out {how}"


def _trend(
    rows: pd.DataFrame,
    other_wards: dict[str, np.ndarray],
    wards: gpd.GeoDataFrame,
    precincts: gpd.GeoDataFrame,
    code: str,
    period: pd.Period,
    threshold: int,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str], list[str]]:
    """Month by month: the ward's published count and smoothed rate, and the whole area's rate."""
    codes = list(wards[COLUMNS.code])
    city_population = pd.to_numeric(precincts[COLUMNS.population], errors="coerce").sum()
    records, series = [], []
    for month in pd.period_range(end=period, periods=TREND_MONTHS, freq="M"):
        in_month = (rows[COLUMNS.month] == month).to_numpy()
        chosen = rows[in_month]
        others = {version: codes_in[in_month] for version, codes_in in other_wards.items()}
        published = publish_ward_counts(
            chosen, chosen["ward"].to_numpy(), codes, threshold=threshold, other_wards=others
        )
        counts = published.set_index(COLUMNS.code)[COLUMNS.count]
        rates = rate_table(wards.assign(kind="ward"), counts, kind="ward").table.set_index(COLUMNS.code)
        shown = published.set_index(COLUMNS.code).loc[code, "shown"]
        rate = rates.loc[code, EB_RATE] if code in rates.index else np.nan
        in_city = int(chosen[COLUMNS.precinct_code].notna().sum())
        city = crosswalk.combined_rate([in_city], [city_population])
        series.append({"month": month, "ward": rate, "city": city, "count": counts.get(code, np.nan)})
        records.append(
            {
                "Month": f"{month:%b %Y}",
                "Incidents in the ward": shown,
                "Ward per 1,000 residents": "" if pd.isna(rate) else f"{rate:.2f}",
                "Whole area per 1,000 residents": "" if np.isnan(city) else f"{city:.2f}",
            }
        )
    last = series[-1]
    headline = {
        "incidents": records[-1]["Incidents in the ward"],
        "rate": records[-1]["Ward per 1,000 residents"] or "not shown",
        "city_rate": records[-1]["Whole area per 1,000 residents"] or "not known",
    }
    notes = []
    if any(r["Incidents in the ward"] == suppress.WITHHELD for r in records):
        notes.append(
            "Some months' ward counts are withheld: with the police precinct and neighbourhood counts on the public "
            "map they would give away a handful of incidents."
        )
    if pd.notna(last["ward"]) and pd.notna(last["city"]):
        word = (
            "above"
            if last["ward"] > last["city"] * 1.1
            else "below"
            if last["ward"] < last["city"] * 0.9
            else "close to"
        )
        headline["comparison"] = f"{word} the whole area's rate"
    return pd.DataFrame(records), pd.DataFrame(series), headline, notes


def _hotspots(
    store: Store, viewer: privacy.Viewer, rows: pd.DataFrame, area: gpd.GeoDataFrame, period: pd.Period
) -> tuple[NeighbourhoodHotspots, str]:
    """The hot spots that touch the ward, and where they come from in words.

    Viewers whose counts are suppressed get exactly what the public map shows: the hot spots of each Safe
    Neighbourhood the ward overlaps (:func:`pipelines.hotspots.recipe.hotspots_for_neighbourhood`, as the map
    computes them), nothing else. Other viewers get hot spots found over the ward and :data:`HOTSPOT_MARGIN_M`
    around it (so one on the ward's edge is found whole), on the grid their role may see.
    """
    if viewer.suppressed:
        hoods = crosswalk.in_ward(store.read_areas("neighbourhood"), area)
        found = [
            hotspots_for_neighbourhood(store, code, viewer=viewer, months=HOTSPOT_MONTHS, until=period, resolution=None)
            for code in sorted(hoods[COLUMNS.code])
        ]
        if found:
            cells = pd.concat([f.cells for f in found], ignore_index=True)
            messages = tuple(dict.fromkeys(m for f in found for m in f.messages))
            merged = replace(found[0], cells=gpd.GeoDataFrame(cells, geometry="geometry", crs=found[0].cells.crs))
            return replace(merged, messages=messages), "as the public map shows them for the neighbourhoods it overlaps"
    metric = area.estimate_utm_crs()
    around = gpd.GeoDataFrame(
        {COLUMNS.code: area[COLUMNS.code], COLUMNS.name: area[COLUMNS.name], COLUMNS.kind: "ward"},
        geometry=area.to_crs(metric).buffer(HOTSPOT_MARGIN_M).to_crs(4326),
        crs="EPSG:4326",
    )
    nearby = crosswalk.in_ward(rows.drop(columns=["ward", COLUMNS.month]), around)
    found = neighbourhood_hotspots(
        nearby,
        around,
        months=HOTSPOT_MONTHS,
        until=period,
        resolution=privacy.hotspot_resolution(store, viewer),
        batches=store.read_table("batches"),
    )
    return replace(found, cells=privacy.published_hotspots(found.cells, viewer)), (
        f"found over the ward and {HOTSPOT_MARGIN_M} m around it"
    )


def _hotspot_table(cells: gpd.GeoDataFrame) -> pd.DataFrame:
    columns = ["Kind of hot spot", "Hexagons touching the ward", "What it means"]
    if not len(cells):
        return pd.DataFrame(columns=columns)
    counted = cells["hotspot_class"].value_counts()
    rows = [
        (HOTSPOT_CLASS[key].label, int(counted[key]), HOTSPOT_CLASS[key].meaning)
        for key in _SHOWN_CLASSES
        if key in counted.index
    ]
    return pd.DataFrame(rows, columns=columns)


def _rand(value: object) -> str:
    number = pd.to_numeric(value, errors="coerce")
    return "" if pd.isna(number) else f"R {number:,.0f}".replace(",", " ")


def _intervention_table(interventions: pd.DataFrame) -> pd.DataFrame:
    columns = ["Intervention", "Status", "Budget", "Financial year", "Whose budget", "Lead"]
    if not len(interventions):
        return pd.DataFrame(columns=columns)
    ordered = interventions.sort_values([COLUMNS.status, COLUMNS.name])
    return pd.DataFrame(
        {
            "Intervention": ordered[COLUMNS.name].to_numpy(),
            "Status": ordered[COLUMNS.status].map(status_words).to_numpy(),
            "Budget": ordered[COLUMNS.budget_zar].map(_rand).to_numpy(),
            "Financial year": ordered[COLUMNS.financial_year].fillna("").to_numpy(),
            "Whose budget": ordered[COLUMNS.funding_sphere].fillna("").to_numpy(),
            "Lead": ordered[COLUMNS.lead].fillna("").to_numpy(),
        }
    )


def _budget_table(interventions: pd.DataFrame, period: pd.Period) -> pd.DataFrame:
    """Budget of the ward's interventions per financial year (the City's runs July to June)."""
    columns = ["Financial year", "Interventions", "Budget", "Note"]
    if not len(interventions):
        return pd.DataFrame(columns=columns)
    current = {
        sphere: periods.financial_year_of(period.end_time.date(), sphere).label
        for sphere in ("municipal", "provincial")
    }
    frame = interventions.assign(
        fy=interventions[COLUMNS.financial_year].fillna("not set"),
        sphere=interventions[COLUMNS.funding_sphere].fillna("municipal"),
        budget=pd.to_numeric(interventions[COLUMNS.budget_zar], errors="coerce"),
    )
    rows = []
    for (sphere, fy), group in frame.groupby(["sphere", "fy"], sort=True):
        note = "this financial year" if current.get(sphere) == fy else ""
        rows.append((f"{fy} ({sphere})", len(group), _rand(group["budget"].sum()), note))
    return pd.DataFrame(rows, columns=columns)


def _asset_table(assets: pd.DataFrame) -> pd.DataFrame:
    columns = ["Kind of asset", "Number", "For example"]
    if not len(assets):
        return pd.DataFrame(columns=columns)
    rows = []
    for category, group in assets.groupby(COLUMNS.abcd_category, sort=True):
        names = sorted(group[COLUMNS.name].astype(str))
        rows.append((str(category).capitalize(), len(group), ", ".join(names[:3]) + (" ..." if len(names) > 3 else "")))
    return pd.DataFrame(rows, columns=columns)


def _action_table(store: Store, area: gpd.GeoDataFrame, *, public: bool, as_of: dt.date) -> pd.DataFrame:
    """Open and blocked ACT actions of the Safe Neighbourhoods that overlap the ward (people left out for the
    public, as in the public meeting pack)."""
    columns = ["Decision", "Who does it", "Due", "Status", "Neighbourhood"]
    hoods = store.read_areas("neighbourhood")
    touching = crosswalk.in_ward(hoods, area)
    if len(touching):
        metric = area.estimate_utm_crs()
        shared = touching.to_crs(metric).intersection(area.to_crs(metric).geometry.iloc[0]).area
        touching = touching[(shared > 0.01 * area.to_crs(metric).area.iloc[0]).to_numpy()]
    names = dict(zip(touching[COLUMNS.code], touching[COLUMNS.name], strict=True))
    actions = read_actions(store)
    actions = actions[actions[COLUMNS.neighbourhood_code].isin(names) & actions[COLUMNS.status].isin(OPEN_STATUSES)]
    if public:
        actions = actions.assign(**dict.fromkeys(c for c in PERSONAL_COLUMNS["actions"] if c in actions))
    if not len(actions):
        return pd.DataFrame(columns=columns)
    due = pd.to_datetime(actions[COLUMNS.due], errors="coerce")
    late = due.dt.date < as_of
    who = actions[COLUMNS.owner_org].fillna("")
    if not public and COLUMNS.owner_person in actions:
        who = who + actions[COLUMNS.owner_person].map(lambda p: f" ({p})" if isinstance(p, str) and p else "")
    table = pd.DataFrame(
        {
            "Decision": actions[COLUMNS.decision].to_numpy(),
            "Who does it": who.to_numpy(),
            "Due": [
                "" if pd.isna(d) else f"{d:%d %b %Y}" + (" (overdue)" if overdue else "")
                for d, overdue in zip(due, late, strict=True)
            ],
            "Status": actions[COLUMNS.status].map(status_words).to_numpy(),
            "Neighbourhood": actions[COLUMNS.neighbourhood_code].map(names).to_numpy(),
        }
    )
    order = np.lexsort((due.fillna(pd.Timestamp.max).to_numpy(), ~late.to_numpy()))  # overdue first, then by date
    return table.iloc[order].reset_index(drop=True)


def _report_table(
    rows: pd.DataFrame, other_wards: dict[str, np.ndarray], code: str, period: pd.Period, threshold: int
) -> pd.DataFrame:
    """Community reports in the ward this month per category; for the public, small counts as ``<5`` and a
    category whose count would give a small number away against the map's areas withheld."""
    columns = ["Category", "Community reports"]
    chosen = ((rows[COLUMNS.source] == "community") & (rows[COLUMNS.month] == period)).to_numpy()
    reports = rows[chosen]
    in_ward = reports["ward"].to_numpy() == code
    if not in_ward.any():
        return pd.DataFrame(columns=columns)
    labels = category_labels() | {SENSITIVE_CODE: SENSITIVE_LABEL}
    if threshold:  # the public rules: sensitive categories are one row (rule 4 of pipelines.privacy.public)
        sensitive = sensitive_mask(reports)
        reports = reports.assign(
            category=np.where(sensitive, SENSITIVE_CODE, reports[COLUMNS.category].to_numpy(dtype=object))
        )
    counted = reports[in_ward].groupby(COLUMNS.category).size()
    shown = suppress.suppress(counted.reset_index(drop=True), threshold=threshold)["shown"].to_numpy()
    codes = overlapping_codes(reports, {version: found[chosen] for version, found in other_wards.items()})
    out = []
    for (category, _n), text in zip(counted.items(), shown, strict=True):
        same = (reports[COLUMNS.category] == category).to_numpy()
        sub_codes = {k: v[same] for k, v in codes.items()}
        if threshold and differencing_leaks(in_ward[same], sub_codes, threshold=threshold):
            text = suppress.WITHHELD
        out.append((labels.get(category, str(category)), text))
    table = pd.DataFrame(out, columns=columns)
    return (
        suppress.published_order(table, "Community reports", "Category").reset_index(drop=True)
        if threshold
        else (
            table.sort_values(
                "Community reports", key=lambda s: -pd.to_numeric(s.str.replace(",", "")), ignore_index=True
            )
        )
    )


def _saps(store: Store, walk: crosswalk.Crosswalk, code: str) -> pd.DataFrame:
    """The latest SAPS financial years' crimes, shared out from the precincts to the ward."""
    columns = ["SAPS year (April to March)", "Crimes recorded (estimate for the ward)", "From police precincts"]
    counts = store.read_table("area_counts", where={COLUMNS.area_kind: "precinct"})
    if not len(counts):
        return pd.DataFrame(columns=columns)
    per_year = counts.groupby([COLUMNS.area_code, COLUMNS.period], as_index=False)[COLUMNS.count].sum()
    shared = crosswalk.apportion(per_year, walk, by=[COLUMNS.period])
    mine = shared[shared[COLUMNS.target] == code].sort_values(COLUMNS.period).tail(SAPS_YEARS)
    pieces = walk.for_target(code)
    names = ", ".join(
        f"{walk.source_names.get(s, s)} ({w:.0%})"
        for s, w in zip(pieces[COLUMNS.source], pieces["weight"], strict=True)
        if w >= 0.005
    )
    return pd.DataFrame(
        {
            columns[0]: mine[COLUMNS.period].to_numpy(),
            columns[1]: [f"about {v:,.0f}" for v in mine[COLUMNS.count]],
            columns[2]: names,
        }
    )


def _precinct_shares(walk: crosswalk.Crosswalk, code: str) -> pd.DataFrame:
    """Which police precincts the ward takes figures from, and how much of each."""
    pieces = walk.for_target(code)
    return pd.DataFrame(
        {
            "Police precinct": [walk.source_names.get(s, s) for s in pieces[COLUMNS.source]],
            "Share of the precinct's figures": [f"{w:.1%}" for w in pieces["weight"]],
            "Shared out by": [walk.methods.get(s, "") for s in pieces[COLUMNS.source]],
            "Overlap (km²)": [f"{k:.2f}" for k in pieces["km2"]],
        }
    )
