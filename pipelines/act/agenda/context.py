"""What one ACT meeting's agenda needs, read once from the store, and the agenda's data classes.

Place in the data flow: analyse (read). :func:`load_meeting` is the agenda's only reader of the store: it
reads the neighbourhood, its incidents as the viewer may count them, the registers, the status log, the
actions and meetings, and the hot spots over :data:`HOTSPOT_MONTHS` months, into a :class:`MeetingContext`.
The meeting's dates (``as_of``, ``since``, the month read as "this month") are that context's properties.
:class:`AgendaItem` and :class:`Agenda` are what :func:`pipelines.act.agenda.build_agenda` returns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from pipelines import privacy
from pipelines.act.actions import meeting_id
from pipelines.errors import AreaSafeError
from pipelines.hotspots.recipe import NeighbourhoodHotspots, UnknownNeighbourhoodError, neighbourhood_hotspots
from pipelines.periods import month_start, parse_month
from pipelines.privacy import Viewer
from pipelines.schemas import COLUMNS
from pipelines.store.base import IncidentQuery, Store

HOTSPOT_MONTHS = 12
ITEM_KINDS = ("actions", "interventions", "hotspot", "counts", "reports", "budget", "decisions")
_INCIDENT_COLUMNS = (
    COLUMNS.incident_id,
    COLUMNS.source,
    COLUMNS.org,
    COLUMNS.occurred_at,
    COLUMNS.category,
    COLUMNS.description,
    COLUMNS.sensitive,
)
_INCIDENT_COLUMNS += (COLUMNS.precinct_code, COLUMNS.neighbourhood_code)


class AgendaError(AreaSafeError):
    """The agenda cannot be built for these arguments; the message says which to change."""


@dataclass(frozen=True, eq=False)
class MeetingContext:
    """Everything the agenda and the pack need, read once from the store.

    Attributes
    ----------
    code, name : str
        The neighbourhood.
    month : pandas.Period
        The meeting month.
    area : geopandas.GeoDataFrame
        The neighbourhood polygon (one row).
    incidents : geopandas.GeoDataFrame
        The neighbourhood's incidents up to the end of the month, all sources and categories.
    interventions, assets : geopandas.GeoDataFrame
        All stored ones (coverage and nearness cross neighbourhood boundaries).
    intervention_log, actions, meetings : pandas.DataFrame
        The status log (all), and this neighbourhood's actions and meetings.
    hotspots : NeighbourhoodHotspots
        Gi* and emerging hot spots over the 12 months ending with ``month`` (or with the last complete
        month before it: see :attr:`trend_month`).
    """

    code: str
    name: str
    month: pd.Period
    area: gpd.GeoDataFrame
    incidents: gpd.GeoDataFrame
    interventions: gpd.GeoDataFrame
    assets: gpd.GeoDataFrame
    intervention_log: pd.DataFrame
    actions: pd.DataFrame
    meetings: pd.DataFrame
    hotspots: NeighbourhoodHotspots

    @property
    def trend_month(self) -> pd.Period:
        """The month read as "this month" in trends and count changes: the meeting month, or the last
        complete month before it when the meeting month looks incomplete (and was not included)."""
        partial = self.hotspots.partial
        if not partial or self.hotspots.include_partial:
            return self.month
        return partial[-1].month - 1

    @property
    def meeting_id(self) -> str:
        return meeting_id(self.code, self.month)

    @property
    def as_of(self) -> dt.date:
        """The day the meeting was held, or the last day of the month."""
        held = self.meetings.loc[self.meetings[COLUMNS.meeting_id] == self.meeting_id, COLUMNS.held_on].dropna()
        return dt.date.fromisoformat(str(held.iloc[0])[:10]) if len(held) else self.month.end_time.date()

    @property
    def previous_meeting(self) -> pd.Series | None:
        earlier = self.meetings[self.meetings[COLUMNS.month].astype(str) < str(self.month)].sort_values(COLUMNS.month)
        return earlier.iloc[-1] if len(earlier) else None

    @property
    def since(self) -> dt.date:
        """The last day already covered: the previous meeting's day, or the day before this month began."""
        previous = self.previous_meeting
        if previous is None:
            return self.month.start_time.date() - dt.timedelta(days=1)
        if isinstance(previous[COLUMNS.held_on], str) and previous[COLUMNS.held_on]:
            return dt.date.fromisoformat(previous[COLUMNS.held_on][:10])
        return pd.Period(previous[COLUMNS.month], freq="M").end_time.date()

    @property
    def neighbourhood_interventions(self) -> gpd.GeoDataFrame:
        return self.interventions[self.interventions[COLUMNS.neighbourhood_code] == self.code]


@dataclass(frozen=True)
class AgendaItem:
    """One agenda item: a screen in meeting mode, a section in the pack.

    Attributes
    ----------
    key : str
        Stable id within the agenda (``actions``, ``hotspot-1``...).
    kind : str
        One of :data:`ITEM_KINDS`.
    title, summary : str
        Heading and one or two plain sentences.
    table : pandas.DataFrame
        What to show, ready for display (may be empty).
    caveats : tuple of str
        Small-number warnings and method notes.
    links : dict
        Defaults for an action recorded on this item (``hotspot_cell``, ``intervention_id``, ``asset_id``).
    """

    key: str
    kind: str
    title: str
    summary: str
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    caveats: tuple[str, ...] = ()
    links: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Agenda:
    """The agenda of one meeting.

    Attributes
    ----------
    context : MeetingContext
    items : tuple of AgendaItem
    hotspot_groups : geopandas.GeoDataFrame
        One row per new or intensifying hot spot (``label`` H1, H2..., ``cells``, ``incidents``, the
        merged cell geometry), for the map.
    budget_items, budget_cycles, deadlines : pandas.DataFrame
        From :mod:`pipelines.act.finance`, for the neighbourhood's interventions and actions.
    stale_weeks : int
    public : bool
        Built with the public-release rules (:mod:`pipelines.privacy.public`).
    """

    context: MeetingContext
    items: tuple[AgendaItem, ...]
    hotspot_groups: gpd.GeoDataFrame
    budget_items: pd.DataFrame
    budget_cycles: pd.DataFrame
    deadlines: pd.DataFrame
    stale_weeks: int
    public: bool = False

    def item(self, key: str) -> AgendaItem:
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(f"no agenda item {key!r}; items are {', '.join(i.key for i in self.items)}")


def load_meeting(
    store: Store, code: str, month: str | pd.Period, *, viewer: Viewer, include_partial: bool = False
) -> MeetingContext:
    """Read what the meeting of ``code`` in ``month`` needs from ``store``, as ``viewer`` may see it.

    Incidents come from :func:`pipelines.privacy.counting_rows` (a sensitive incident at its generalised
    location below analyst), the hot-spot grid is no finer than :func:`pipelines.privacy.hotspot_resolution`
    and assets are :func:`pipelines.privacy.visible_assets`; the public pack loads with the public viewer.
    The stored batches say when each source last uploaded (:func:`~pipelines.hotspots.months.month_completeness`);
    ``include_partial`` keeps an incomplete meeting month in the trends.

    Raises
    ------
    BadMonthError
        ``month`` is not ``YYYY-MM``.
    UnknownNeighbourhoodError
        ``code`` is not a stored neighbourhood (the message lists the known codes).
    """
    period = parse_month(str(month), argument="--month")
    areas = store.read_areas("neighbourhood")
    area = areas[areas[COLUMNS.code] == code]
    if area.empty:
        known = ", ".join(sorted(map(str, areas[COLUMNS.code]))) or "none (load neighbourhood boundaries first)"
        raise UnknownNeighbourhoodError(f"Unknown neighbourhood {code!r} for --neighbourhood; known codes: {known}.")
    end = month_start(period + 1)
    query = IncidentQuery(neighbourhood=code, end=end, columns=list(_INCIDENT_COLUMNS))
    incidents = privacy.counting_rows(store, viewer, query)
    resolution = privacy.hotspot_resolution(store, viewer)
    return MeetingContext(
        code=code,
        name=str(area[COLUMNS.name].iloc[0]),
        month=period,
        area=area,
        incidents=incidents,
        interventions=store.read_table("interventions"),
        assets=privacy.read_table(store, viewer, "assets"),
        intervention_log=privacy.read_table(store, viewer, "intervention_log"),
        actions=store.read_table("actions", where={COLUMNS.neighbourhood_code: code}),
        meetings=store.read_table("meetings", where={COLUMNS.neighbourhood_code: code}),
        hotspots=neighbourhood_hotspots(
            incidents,
            area,
            months=HOTSPOT_MONTHS,
            until=period,
            resolution=resolution,
            batches=store.read_table("batches"),
            include_partial=include_partial,
        ),
    )
