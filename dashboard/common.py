"""Shared dashboard plumbing: the store, the viewer, cached loaders and the sidebar filters (written once).

Place in the data flow: show. :func:`viewer` is who is looking (the logged-in account, or the public);
every loader of incident data passes it to :mod:`pipelines.access`, which decides what comes back, and
pages call :func:`require` first so a page a role may not use stops with a message (the navigation
hides it too). Cached reads are keyed by the store URL, the store's data version (a committed upload
or a deleted batch invalidates them without a restart, also when it went through another dashboard replica
on the same PostGIS database) and the viewer's audience (:func:`audience`: what the disclosure rules
depend on, so two planners share one cached read, an analyst's audited read stays theirs).
:func:`start_warming` fills the caches of the public's first page in a background thread once per
server process, so the first visit does not wait for work the server could do at start.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from pipelines import auth, downloads, glossary, privacy
from pipelines.errors import AreaSafeError
from pipelines.hotspots.change import BASELINE_MONTHS, DOWN, MEANINGS, NO_CLEAR_CHANGE, TOO_FEW, UP, Change
from pipelines.hotspots.recipe import hotspots_for_neighbourhood
from pipelines.periods import month_bounds
from pipelines.privacy import PUBLIC, Viewer
from pipelines.schemas import SOURCES
from pipelines.settings import default_store_url
from pipelines.store import IncidentQuery, Store, open_store
from pipelines.views import available_months, category_labels

#: ``st.session_state`` key of the :class:`pipelines.auth.Session` of a logged-in user.
SESSION_KEY = "areasafe_session"
FLASH_KEY = "areasafe_auth_flash"
_VIEWER_KEY = "areasafe_viewer"  # who check_session found this run
_TICKET_KEY = "areasafe_login_ticket"  # a login's ticket, until the page has traded it for the cookie
_CLEAR_COOKIE_KEY = "areasafe_clear_cookie"  # a logout, until the page has cleared the cookie
#: Where a login lands (relative to app.py): the map, every role's main page.
LANDING_PAGE = "app_pages/map_explorer.py"

SOURCE_CHOICES = {"Both": None, "Municipal": ("municipal",), "Community": ("community",)}
assert set(SOURCES) == {"municipal", "community"}  # the choices above name both sources


_LOG = logging.getLogger(__name__)


@st.cache_resource
def _open(url: str) -> Store:
    return open_store(url)


def store() -> Store:
    """The store named by ``$AREASAFE_STORE`` (or the default), opened once per process."""
    return _open(default_store_url())


def _version() -> tuple[int, int]:
    """The store's data version: cached reads are keyed on it, so an upload or a deleted batch shows at once."""
    return store().data_version()


@st.cache_data(show_spinner=False)
def _areas(url: str, version: tuple[int, int]) -> gpd.GeoDataFrame:
    return store().read_areas()


# Cached per viewer: an analyst's read of sensitive rows is audited when it is made, i.e. once per
# distinct query and store version, not on every rerun of the page.
@st.cache_data(show_spinner=False)
def _incidents(url: str, version: tuple[int, int], query: IncidentQuery, viewer: Viewer) -> gpd.GeoDataFrame:
    return privacy.read_incidents(store(), viewer, query)


@st.cache_data(show_spinner=False)
def _counts(url: str, version: tuple[int, int], query: IncidentQuery, viewer: Viewer) -> privacy.PublishedCounts:
    return privacy.published_counts(store(), viewer, query)


@st.cache_data(show_spinner=False)
def _population_sources(url: str, version: tuple[int, int]) -> dict[str, str]:
    return privacy.population_sources(store())


def population_source(kind: str) -> str:
    """Where the residents behind the rates of ``kind`` areas come from, in one sentence (everyone may read it)."""
    return _population_sources(store().url, _version())[kind]


@st.cache_data(show_spinner=False)
def _choices(url: str, version: tuple[int, int]) -> tuple[list[pd.Period], list[str]]:
    return privacy.filter_choices(store())


@st.cache_data(show_spinner=False)
def _hotspots(
    url: str, version: tuple[int, int], code: str, months: int, until: str | None, viewer: Viewer, partial: bool
) -> HotspotCells:
    result = hotspots_for_neighbourhood(
        store(), code, viewer=viewer, months=months, until=until, resolution=None, include_partial=partial
    )
    return HotspotCells(
        result.cells,
        result.messages,
        int(result.grid.spec.resolution),
        [str(m) for m in result.months],
        bool(result.hotspots.sufficient),
    )


@st.cache_data(show_spinner=False)
def _table(url: str, version: tuple[int, int], name: str, viewer: Viewer) -> pd.DataFrame:
    return privacy.read_table(store(), viewer, name)


@dataclass(frozen=True)
class HotspotCells:
    """What the pages need of :func:`pipelines.hotspots.hotspots_for_neighbourhood` (picklable for the cache)."""

    cells: gpd.GeoDataFrame
    messages: tuple[str, ...]
    resolution: int
    months: list[str]
    sufficient: bool  # False: too few reports or cells to look for hot spots at all (the messages say why)


def hotspots(
    code: str, *, months: int = 12, until: pd.Period | str | None = None, include_partial: bool = False
) -> HotspotCells:
    """Gi* and emerging hot spots of a Safe Neighbourhood over ``months`` local months ending ``until``
    (the resolution is chosen so a small neighbourhood still has enough cells); an incomplete last month is
    left out unless ``include_partial`` (:mod:`pipelines.hotspots.months`)."""
    until = None if until is None else str(until)
    return _hotspots(store().url, _version(), code, int(months), until, audience(viewer()), bool(include_partial))


def areas() -> gpd.GeoDataFrame:
    return _areas(store().url, _version())


def audience(who: Viewer) -> Viewer:
    """The viewer a cached read is keyed on: one stand-in per role (and organisation, for a cso), since
    what the disclosure core returns depends on nothing else, except for the roles that see sensitive rows,
    whose reads are audited under their own name (so they stay keyed on the account)."""
    if who.is_public or who.sees_sensitive:
        return who
    return Viewer(username=f"role:{who.role}", role=who.role, org=who.org if who.role == "cso" else None)


def incidents(query: IncidentQuery | None = None) -> gpd.GeoDataFrame:
    """Incident rows the viewer may see (:func:`pipelines.privacy.read_incidents`; none for the public).

    A shared audience's rows for a category or source choice are its cached rows for every category and
    source, narrowed in memory (:meth:`IncidentQuery.widened`): changing those filters reads nothing.
    An analyst's or admin's read stays as asked, since it is audited with its filters and count."""
    query, who = query or IncidentQuery(), audience(viewer())
    wide = None if who.sees_sensitive else query.widened()
    if wide is None:
        return _incidents(store().url, _version(), query, who)
    return query.narrow(_incidents(store().url, _version(), wide, who))


def counts(query: IncidentQuery | None = None) -> privacy.PublishedCounts:
    """Counts per area and hexagon as the viewer may see them (:func:`pipelines.privacy.published_counts`)."""
    return _counts(store().url, _version(), query or IncidentQuery(), audience(viewer()))


def table(name: str, who: Viewer) -> pd.DataFrame:
    """A stored table that is not incident data (assets, interventions, intervention_log, batches, rejections),
    as ``who`` may see it (:func:`pipelines.privacy.read_table` applies the rules). The page names whose eyes
    the read is for (the viewer :func:`require` returned), so no read of a table falls back on a session
    nobody named."""
    return _table(store().url, _version(), name, audience(who))


@dataclass(frozen=True)
class DrawnMap:
    """A built map (:class:`pipelines.mapview.MapResult`) and what streamlit-folium sends for it, rendered once."""

    result: object  # pipelines.mapview.MapResult
    args: dict  # the component's arguments (script, header, html, defaults ...), the same on every rerun
    hash_key: str  # streamlit-folium's widget key: the same map keeps its frame (and its last click)


#: The map explorer's map: its widget key and what its clicks return (also what :func:`warm` renders).
EXPLORER_MAP = "explorer_map"
EXPLORER_RETURNS = ("last_object_clicked_popup",)


def _map_key(url: str, version, who: Viewer, key: str, returned_objects, inputs: tuple) -> tuple:
    return (url, version, who, key, tuple(returned_objects), *inputs)


def drawn_map(inputs: tuple, build, *, key: str, returned_objects) -> DrawnMap:
    """The map ``build()`` makes, built and rendered once per data version, audience (:func:`audience`) and
    ``inputs`` (everything else the map depends on: filters, layers, options): a rerun with the same inputs,
    another planner's visit, or a click reuses the rendered map instead of building and rendering it again
    (streamlit-folium renders a map several times per call)."""
    return _drawn(_map_key(store().url, _version(), audience(viewer()), key, returned_objects, inputs), build)


def _drawn(full: tuple, build) -> DrawnMap:
    from pipelines import mapview

    with _MAPS_LOCK:
        if full in _MAPS:
            _MAPS.move_to_end(full)
            return _MAPS[full]
    result = build()
    drawn = DrawnMap(result, *mapview.component_args(result.map, key=full[3], returned_objects=full[4]))
    with _MAPS_LOCK:
        _MAPS[full] = drawn
        while len(_MAPS) > _MAPS_MAX:
            _MAPS.popitem(last=False)
    return drawn


def explorer_map(
    filters: Filters,
    who: Viewer,
    *,
    layers,
    metric: str,
    area_kind: str,
    online: bool,
    areas: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    counts,
    hot: HotspotCells | None,
    assets: pd.DataFrame,
    interventions: pd.DataFrame,
    population_source: str,
):
    """The map explorer's map (:func:`pipelines.mapview.build_map`) of what ``who`` may see."""
    from pipelines import mapview

    return mapview.build_map(
        areas,
        incidents,
        assets=assets,
        interventions=interventions,
        roads=mapview.load_context_roads(),
        hotspots=None if hot is None else hot.cells,
        focus=filters.neighbourhood,
        counted_in=filters.neighbourhood,
        options=mapview.MapOptions(
            layers=tuple(layers),
            metric=metric,
            area_kind=area_kind,
            online_tiles=online,
            statistics=who.may("statistics"),
            roads_files=ROADS_FILES,
        ),
        counts=counts,
        population_source=population_source,
    )


#: Where the map's road lines are written once and the URL the browser loads them from (Streamlit serves
#: dashboard/static at /app/static/): each map then carries no road lines of its own.
ROADS_FILES = (str(Path(__file__).resolve().parent / "static" / "cache"), "/app/static/cache")


def explorer_inputs(filters: Filters, who: Viewer, *, layers, metric: str, area_kind: str, online: bool) -> tuple:
    """What the map explorer's map depends on besides the data version and the audience."""
    return (filters, tuple(layers), metric, area_kind, bool(online), who.may("statistics"))


def show_map(drawn: DrawnMap, *, key: str, height: int):
    """Draw ``drawn`` with streamlit-folium's component (as ``st_folium(..., use_container_width=True)``);
    returns what it returns (the last click's popup text)."""
    import streamlit_folium

    def on_change() -> None:
        st.session_state[key] = st.session_state.get(drawn.hash_key, {})

    return streamlit_folium._component_func(
        **drawn.args, key=drawn.hash_key, height=height, width=None, on_change=on_change
    )


_MAPS: OrderedDict = OrderedDict()
_MAPS_LOCK = threading.Lock()
_MAPS_MAX = 24  # rendered maps kept per process (about 1 MB each)


# --------------------------------------------------------------------------------------------------
# Who is looking
# --------------------------------------------------------------------------------------------------
def sso_configured() -> bool:
    """True when ``.streamlit/secrets.toml`` has an ``[auth]`` section (Streamlit's OIDC login)."""
    try:
        return bool(st.secrets.load_if_toml_exists()) and "auth" in st.secrets
    except Exception:  # an unreadable secrets file means no SSO, not a broken page
        return False


def _sso_session() -> auth.Session | None:
    user = getattr(st, "user", None)
    if not sso_configured() or user is None or not user.get("is_logged_in"):
        return None
    email = user.get("email")
    if st.session_state.get("areasafe_sso_checked") == email:
        return None  # an identity without an account: the public view, checked once
    st.session_state["areasafe_sso_checked"] = email
    return auth.sso_session(store(), email)


def _cookie_token() -> str | None:
    try:
        token = st.context.cookies.get(auth.COOKIE)
    except Exception:  # no browser behind this run (AppTest, bare mode): no cookie
        return None
    return token if isinstance(token, str) else None


def start_session(session: auth.Session) -> None:
    """Keep a new session (from a login) in this browser tab, and have the page trade its one-time
    ticket for the session cookie on the next run (:func:`sync_cookie`), so a reload finds it again."""
    if session.ticket:
        st.session_state[_TICKET_KEY] = session.ticket
    st.session_state[SESSION_KEY] = dataclasses.replace(session, ticket=None)
    st.session_state.pop(_VIEWER_KEY, None)


def end_session() -> None:
    """Log out: end the session in the store (audited) and have the page clear the cookie."""
    session = st.session_state.pop(SESSION_KEY, None)
    st.session_state.pop(_VIEWER_KEY, None)
    st.session_state.pop(_TICKET_KEY, None)
    st.session_state[_CLEAR_COOKIE_KEY] = True
    if session is not None:
        auth.logout(store(), session)


def check_session() -> Viewer:
    """Who is looking, checked against the store once per run (``app.py`` calls it first): this tab's
    session, else the one the session cookie names (after a reload), else single sign-on, else the
    public. An expired or revoked session ends here, with a message for the login page."""
    session = st.session_state.get(SESSION_KEY)
    try:
        if session is None:
            session = auth.resume_session(store(), _cookie_token())
            if session is None and (session := _sso_session()) is not None:
                start_session(session)
        if session is not None:
            session = auth.refresh_session(store(), session)
    except auth.SessionExpired as exc:
        st.session_state.pop(SESSION_KEY, None)
        st.session_state[FLASH_KEY] = str(exc)
        session = None
    if session is None:
        st.session_state[_VIEWER_KEY] = PUBLIC
        return PUBLIC
    st.session_state[SESSION_KEY] = session
    st.session_state[_VIEWER_KEY] = session.viewer
    return session.viewer


def viewer() -> Viewer:
    """The logged-in account's viewer, or the public, as :func:`check_session` found it this run."""
    current = st.session_state.get(_VIEWER_KEY)
    return check_session() if current is None else current


def sync_cookie() -> None:
    """Write the page's part of a login or logout: a same-origin POST that trades the login's ticket for
    the session cookie, or clears the cookie (:mod:`dashboard.session_routes`). Nothing secret is in it:
    the ticket works once, for a minute, and only from this origin; the token never reaches the page."""
    from dashboard import session_routes

    ticket = st.session_state.pop(_TICKET_KEY, None)
    clear = st.session_state.pop(_CLEAR_COOKIE_KEY, False)
    if ticket:
        body = json.dumps({"ticket": ticket})
        url = session_routes.route_url(session_routes.START)
    elif clear:
        body, url = "{}", session_routes.route_url(session_routes.END)
    else:
        return
    st.html(
        f"<script>fetch({json.dumps(url)}, {{method: 'POST', credentials: 'same-origin', "
        f"headers: {{'Content-Type': 'application/json'}}, body: {json.dumps(body)}}});</script>",
        width="content",
        unsafe_allow_javascript=True,
    )


def require(action: str) -> Viewer:
    """The viewer, when it may do ``action``; otherwise the page stops with a message saying who may."""
    current = viewer()
    if not current.may(action):
        try:
            current.require(action)
        except privacy.AccessDenied as exc:
            st.warning(str(exc))
        st.stop()
    return current


def _act_version() -> tuple[int, int, int, int]:
    """Changes whenever the ACT's records change (they are saved without a batch): every action save appends
    to ``action_log``; a meeting is replaced in place, so its rows are hashed (a handful per neighbourhood)."""
    s = store()
    meetings = int(pd.util.hash_pandas_object(s.read_table("meetings").astype(str), index=False).sum())
    return _version(), s.count("action_log"), meetings, s.count("intervention_log")


@st.cache_resource(show_spinner="Building the agenda ...", max_entries=16)
def _agenda(url: str, version: tuple, code: str, month: str, public: bool, viewer: Viewer, partial: bool):
    from pipelines.act.agenda import agenda_for

    return agenda_for(store(), code, month, viewer=viewer, public=public, include_partial=partial)


def agenda(code: str, month: pd.Period | str, *, public: bool = False, include_partial: bool = False):
    """The meeting agenda (:mod:`pipelines.act.agenda`), rebuilt when any record behind it changes; an
    incomplete meeting month is read as such unless ``include_partial``."""
    who = PUBLIC if public else audience(viewer())  # the public variant is the same for everyone: built once
    return _agenda(store().url, _act_version(), code, str(month), public, who, bool(include_partial))


@dataclass(frozen=True)
class Filters:
    neighbourhood: str | None
    population: float | None
    months: tuple[pd.Period, pd.Period] | None  # inclusive local months
    categories: tuple[str, ...] | None
    sources: tuple[str, ...] | None
    include_partial: bool = False  # keep a last month that looks incomplete in trends and hot spots

    @property
    def hotspot_note(self) -> str | None:
        """What the hot spots do with the filters, when the filters narrow what else the page shows: hot
        spots are always found from every category and source (issue 17, item 8)."""
        if not (self.categories or self.sources):
            return None
        return (
            "Hot spots are found from every kind of incident and every source: the category and source "
            "filters change the counts and points, not the hot spots."
        )

    def query(self, *, whole_period: bool = False) -> IncidentQuery:
        start = end = None
        if self.months and not whole_period:
            start, end = month_bounds(self.months[0])[0], month_bounds(self.months[1])[1]
        return IncidentQuery(
            neighbourhood=self.neighbourhood, start=start, end=end, categories=self.categories, sources=self.sources
        )


def sidebar() -> Filters:
    """Neighbourhood, period, categories and source: the filters every page shares."""
    hoods = areas()
    hoods = hoods[hoods["kind"] == "neighbourhood"].sort_values("name")
    side = st.sidebar
    side.header("Filters")
    codes = [None, *hoods["code"]]
    names = dict(zip(hoods["code"], hoods["name"], strict=True))
    default = codes.index(default_neighbourhood(hoods))
    code = side.selectbox(
        "Safe Neighbourhood",
        codes,
        index=default,
        key="f_hood",
        format_func=lambda c: "All areas" if c is None else names[c],
    )
    months, present = _choices(store().url, _version())
    period = None
    if months:
        chosen = side.select_slider(
            "Period (months)", options=months[::-1], key="f_period", value=default_period(months), format_func=str
        )
        period = (chosen[0], chosen[1])
    labels = category_labels()
    cats = side.multiselect(
        "Categories", present, key="f_cats", format_func=lambda c: labels.get(c, c), placeholder="All categories"
    )
    source = side.radio("Source", list(SOURCE_CHOICES), key="f_source", horizontal=True)
    partial = side.toggle(
        "Include a last month that looks incomplete",
        key="f_partial",
        help="A month whose reports are not all in yet is left out of trends and hot spots, and named on the "
        "page. Turn this on to include it anyway; it may then read low.",
    )
    population = hoods.set_index("code")["population"].get(code) if code else None
    return Filters(
        code,
        None if pd.isna(population) else float(population),
        period,
        tuple(cats) or None,
        SOURCE_CHOICES[source],
        partial,
    )


def profile_stats(filters: Filters, month: pd.Period) -> privacy.ProfileStats:
    """KPIs and trend of the chosen neighbourhood as the viewer may see them."""
    start = end = None
    if filters.months:
        start, end = month_bounds(filters.months[0])[0], month_bounds(filters.months[1])[1]
    query = filters.query(whole_period=True)
    return _profile_stats(
        store().url, _version(), query, audience(viewer()), str(month), filters.population, start, end
    )


@st.cache_data(show_spinner=False, max_entries=256)
def _profile_stats(
    url: str, version: tuple[int, int], query: IncidentQuery, viewer: Viewer, month: str, population, start, end
) -> privacy.ProfileStats:
    return privacy.profile_stats(
        store(),
        viewer,
        query,
        month=pd.Period(month, freq="M"),
        population=population,
        trend_start=start,
        trend_end=end,
    )


def neighbourhood_incidents(filters: Filters) -> tuple[gpd.GeoDataFrame, list[pd.Period]]:
    """The chosen neighbourhood's incidents over the whole period and their months, newest first;
    stops the page with a plain message when no neighbourhood is chosen or nothing matches."""
    if filters.neighbourhood is None:
        st.info("Choose a Safe Neighbourhood in the sidebar.")
        st.stop()
    found = incidents(filters.query(whole_period=True))
    months = available_months(found)
    if not months:
        st.warning("No incidents match these filters.")
        st.stop()
    return found, months


#: Meeting views on a 1280x720 projector: the whole width, tables that wrap inside their column (a column
#: never runs off the right edge), and a map no taller than the room an agenda item has.
_MEETING_CSS = """<style>
[data-testid='stMainBlockContainer'] {max-width: 100%; padding: 3.6rem 1.5rem 1rem;}
[data-testid='stMain'] [data-testid='stHeading'] h1 {font-weight: 800; color: #000; line-height: 1.15;
  font-size: 3rem; padding: 0.1rem 0;}
[data-testid='stMain'] [data-testid='stHeading'] h2 {font-size: 1.6rem; color: #000; padding: 0.2rem 0;}
[data-testid='stHeading'] h1 span, [data-testid='stHeading'] h2 span {font-size: inherit;}
[data-testid='stMain'] [data-testid='stTable'] table {width: 100%; table-layout: auto;}
[data-testid='stMain'] [data-testid='stTable'] td, [data-testid='stMain'] [data-testid='stTable'] th
  {font-size: 1.05rem; color: #000; white-space: normal; overflow-wrap: break-word; padding: 0.3rem 0.45rem;}
[data-testid='stMain'] [class*='st-key-map'] img {max-height: 430px; width: auto; max-width: 100%; margin: 0 auto;}
[data-testid='stMain'] [data-testid='stForm'] [data-testid='stVerticalBlock'] {gap: 0.45rem;}
</style>"""


def meeting_view() -> None:
    """Lay a page out for the projector (ACT meeting review, meeting mode): the sidebar collapsed (its
    filters one click away), the whole width used, tables wrapped in their columns."""
    st.set_page_config(initial_sidebar_state="collapsed")
    st.markdown(_MEETING_CSS, unsafe_allow_html=True)


@st.cache_data(show_spinner=False, max_entries=64)
def _item_map(url: str, version: tuple, code: str, month: str, key: str, viewer: Viewer, partial: bool) -> bytes | None:
    from pipelines.act import figures

    built = _agenda(url, version, code, month, False, viewer, partial)
    item = next((i for i in built.items if i.key == key), None)
    return None if item is None else figures.item_map(built, item)


def item_map(code: str, month: pd.Period | str, key: str, *, include_partial: bool = False) -> bytes | None:
    """The small offline map (PNG) of the agenda item ``key`` as the viewer may see it, or ``None`` for an item
    with no place (:func:`pipelines.act.figures.item_map`: the pack's map renderer, from the viewer's agenda)."""
    url, version = store().url, _act_version()
    return _item_map(url, version, code, str(month), key, viewer(), bool(include_partial))


def show_error(exc: AreaSafeError) -> None:
    """Errors users can act on are shown as they are, never as a traceback."""
    st.error(str(exc))


def pager(count: int, *, key: str, reset_on: str) -> int:
    """Previous/next buttons for ``count`` screens, driven by the keyboard too; returns the current index.

    PageUp/PageDown (what presentation clickers send) and the left/right arrow keys work through
    Streamlit's button ``shortcut``s, which ignore keys typed into a text field. The index goes back to 0
    when ``reset_on`` changes (another meeting).
    """
    index_key = f"{key}_index"
    if st.session_state.get(f"{key}_on") != reset_on:
        st.session_state.update({f"{key}_on": reset_on, index_key: 0})
    st.session_state[index_key] = max(0, min(st.session_state[index_key], count - 1))

    def move(step: int) -> None:
        st.session_state[index_key] = max(0, min(count - 1, st.session_state[index_key] + step))

    nav = st.columns([3, 1, 2, 1, 3], vertical_alignment="center")
    nav[0].button("◀ Previous", on_click=move, args=(-1,), shortcut="PageUp", key=f"{key}_prev", width="stretch")
    nav[1].button(
        "", on_click=move, args=(-1,), shortcut="Left", key=f"{key}_left", type="tertiary", help="Previous item"
    )
    nav[2].markdown(
        f"<p style='text-align:center'><b>Item {st.session_state[index_key] + 1} of {count}</b></p>",
        unsafe_allow_html=True,
    )
    nav[3].button("", on_click=move, args=(1,), shortcut="Right", key=f"{key}_right", type="tertiary", help="Next item")
    nav[4].button(
        "Next ▶", on_click=move, args=(1,), shortcut="PageDown", key=f"{key}_next", type="primary", width="stretch"
    )
    return st.session_state[index_key]


def action_form(
    key: str,
    defaults: dict,
    *,
    interventions: pd.DataFrame,
    assets: pd.DataFrame,
    submit: str,
    compact: bool = False,
) -> dict | None:
    """The actions-register form (meeting mode and the register page); the entered record on submit, else None.

    ``defaults`` pre-fills it (a stored action, or an agenda item's links); validation is
    :func:`pipelines.act.actions.save_action`'s, so the page shows its message when a rule is broken.
    ``compact`` (meeting mode, beside an agenda item on one screen) keeps the decision, owner, due date and
    status in view and puts budget, blockers, links and the note one click away.
    """
    defaults = {k: None if not isinstance(v, str) and pd.isna(v) else v for k, v in defaults.items()}
    names = dict(zip(interventions["intervention_id"], interventions["name"], strict=True))
    asset_names = dict(zip(assets["asset_id"], assets["name"], strict=True))

    with st.form(key, clear_on_submit=True):
        decision = st.text_area("Decision", value=defaults.get("decision") or "", height=68 if compact else 90)
        cols, owner_org, owner_person = _owner_fields(defaults, compact=compact)
        due, status = _due_and_status(cols, defaults)
        if compact:
            cols = st.expander("More: budget, blockers, links").columns(2)
        sphere, year = _budget_fields(cols, defaults)
        blocked_by = cols[0].text_input("Blocked by (if blocked)", value=defaults.get("blocked_by") or "")
        unblocker = cols[1].text_input("Who can unblock it (if blocked)", value=defaults.get("unblocker") or "")
        intervention, asset = _link_fields(cols, defaults, names, asset_names)
        cell = _cell_field(cols, defaults)
        note = (cols[1] if compact else st).text_input("Note for the history (why it changed)", value="")
        if not st.form_submit_button(submit, type="primary"):
            return None
    return {
        "decision": decision, "owner_org": owner_org, "owner_person": owner_person, "due": due, "status": status,
        "funding_sphere": sphere, "financial_year": year, "blocked_by": blocked_by, "unblocker": unblocker,
        "intervention_id": intervention, "asset_id": asset, "hotspot_cell": cell, "_note": note,
    }  # fmt: skip


def _pick(options: dict, value: object) -> int:
    """The index of ``value`` in a selectbox of ``[None, *options]`` (0, "none", when it is not there)."""
    keys = [None, *options]
    return keys.index(value) if value in keys else 0


def _owner_fields(defaults: dict, *, compact: bool) -> tuple[list, str, str]:
    """The action form's owner and person (one above the other when compact, else side by side) and the
    form's two columns."""
    if compact:
        owner_org = st.text_input("Owner (department or organisation)", value=defaults.get("owner_org") or "")
        owner_person = st.text_input("Person responsible", value=defaults.get("owner_person") or "")
        cols = st.columns(2)
    else:
        cols = st.columns(2)
        owner_org = cols[0].text_input("Owner (department or organisation)", value=defaults.get("owner_org") or "")
        owner_person = cols[1].text_input("Person responsible", value=defaults.get("owner_person") or "")
    return cols, owner_org, owner_person


def _due_and_status(cols: list, defaults: dict) -> tuple:
    """The action form's due date and status."""
    from pipelines.schemas import ACTION_STATUSES

    due_default = pd.to_datetime(defaults.get("due"), errors="coerce")
    due = cols[0].date_input("Due", value=None if pd.isna(due_default) else due_default.date(), format="YYYY-MM-DD")
    status = cols[1].selectbox("Status", ACTION_STATUSES, index=ACTION_STATUSES.index(defaults.get("status") or "open"))
    return due, status


def _budget_fields(cols: list, defaults: dict) -> tuple:
    """The action form's funding sphere and financial year."""
    from pipelines.schemas import FUNDING_SPHERES

    sphere = cols[0].selectbox(
        "Whose budget",
        [None, *FUNDING_SPHERES],
        index=_pick(dict.fromkeys(FUNDING_SPHERES), defaults.get("funding_sphere")),
        format_func=lambda v: "not set" if v is None else v,
    )
    year = cols[1].text_input(
        "Financial year (blank: the year of the due date)", value=defaults.get("financial_year") or ""
    )
    return sphere, year


def _link_fields(cols: list, defaults: dict, names: dict, asset_names: dict) -> tuple:
    """The action form's linked intervention and asset, chosen by name."""
    intervention = cols[0].selectbox(
        "Intervention",
        [None, *names],
        index=_pick(names, defaults.get("intervention_id")),
        format_func=lambda v: "none" if v is None else names[v],
    )
    asset = cols[1].selectbox(
        "Asset",
        [None, *asset_names],
        index=_pick(asset_names, defaults.get("asset_id")),
        format_func=lambda v: "none" if v is None else asset_names[v],
    )
    return intervention, asset


def _cell_field(cols: list, defaults: dict) -> str:
    """The action form's hot-spot cell: typed by an analyst, a caption for others when one is linked."""
    cell = defaults.get("hotspot_cell") or ""
    if viewer().may("statistics"):  # an analyst may type an H3 index; nobody else sees one
        cell = cols[0].text_input("Hot spot cell (H3 index)", value=cell)
    elif cell:
        cols[0].caption("Linked to this item's hot spot (its place on the map).")
    return cell


def change_delta(change: Change | None) -> dict:
    """``st.metric`` keywords that show a count's change in words: red or green with an arrow only when the
    change is more than chance (:mod:`pipelines.hotspots.change`), grey and without an arrow otherwise."""
    if change is None:
        return {}
    return {
        "delta": change.words(f"the {BASELINE_MONTHS} months before"),
        "delta_color": "inverse" if change.coloured else "off",
        "delta_arrow": ("up" if change.reading == UP else "down") if change.coloured else "off",
        "help": f"{MEANINGS[change.reading]} Average of the {BASELINE_MONTHS} months before: "
        f"{change.baseline_mean:.1f} a month.",
    }


def explain(term: str, *, where=None) -> None:
    """Beside a statistic: one line of what it means, and "How we know" one click away
    (:mod:`pipelines.glossary`, the words the glossary page and the pack use)."""
    place = where or st
    found = glossary.entry(term)
    place.caption(f"**{found.term}**: {found.means}")
    with place.expander("How we know"):
        st.write(found.how_we_know)


def change_term(change: Change | None) -> str | None:
    """The glossary term of a change's reading ("Up / Down", "No clear change", ...)."""
    if change is None:
        return None
    return {UP: "Up / Down", DOWN: "Up / Down", NO_CLEAR_CHANGE: "No clear change", TOO_FEW: "Too few reports to tell"}[
        change.reading
    ]


# --------------------------------------------------------------------------------------------------
# Uploads: each file prepared once
# --------------------------------------------------------------------------------------------------
_PREPARED_KEY = "areasafe_prepared_uploads"
_SHOWN_KEY = "areasafe_prepared_shown"  # the key of the preparation whose dry run the page showed last
#: Prepared uploads one browser session keeps (each holds a parsed file): the one on screen and the one before
#: it, so going back to the previous options does not read the file again.
PREPARED_KEPT = 2


@dataclass(frozen=True)
class PreparedUpload:
    """An uploaded file prepared for the store (:func:`pipelines.access.prepare_upload`: decoded, validated,
    placed; nothing written) and its dry run in words (:func:`pipelines.ingest.report.dry_run_report`)."""

    prepared: object  # pipelines.ingest.incidents.PreparedIncidents
    dry_run: object  # pipelines.ingest.report.DryRunReport


def _frozen(value: object) -> object:
    """Options as a hashable key (the column choices are a dict)."""
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    return value


def prepared_upload(
    who: Viewer,
    name: str,
    data: bytes,
    *,
    overrides: dict | None = None,
    confirming: bool = False,
    **options,
) -> PreparedUpload:
    """The upload page's file prepared once: per content (its bytes' hash), viewer, options, column choices
    and store data version, kept in this browser session (the newest :data:`PREPARED_KEPT`), so a rerun of the
    page (another row filter, an expander opened) reads nothing again. An error is kept too, and raised again.

    Column choices (``overrides``) that only repeat what the file was read with when none were given (the
    page's column boxes start from that reading) are the same file prepared the same way, so they reuse it.
    ``confirming`` (the Confirm button was clicked) returns the file as the dry run on screen showed it, even
    when the store changed since, so the batch committed is the one the user read; otherwise a changed store
    (this upload committed, another one elsewhere) prepares the file again, so the dry run says what is
    already stored. ``name`` only labels the batch: the bytes are what is read and what the key is made of.
    """
    from pipelines import access
    from pipelines.ingest import report

    state = st.session_state
    kept: OrderedDict = state.setdefault(_PREPARED_KEY, OrderedDict())
    file = (hashlib.sha256(data).hexdigest(), name, store().url, who)
    key = base = (*file, _frozen(options), ())
    if overrides and not _repeats_reading(kept.get(base), overrides):
        key = (*file, _frozen(options), _frozen(overrides))
    shown = state.get(_SHOWN_KEY)
    if confirming and shown in kept and shown[: len(file)] == file:
        key = shown  # what the user read when they clicked
    version = _version()
    found = kept.get(key)
    if found is None or not (confirming or found[0] == version):
        try:
            prepared = access.prepare_upload(store(), who, name, data, overrides=overrides, **options)
            found = (version, PreparedUpload(prepared, report.dry_run_report(prepared)))
        except AreaSafeError as exc:
            found = (version, exc)
        kept[key] = found
    kept.move_to_end(key)
    while len(kept) > PREPARED_KEPT:
        kept.popitem(last=False)
    state[_SHOWN_KEY] = key
    if isinstance(found[1], AreaSafeError):
        raise found[1]
    return found[1]


def _repeats_reading(found: tuple | None, overrides: dict) -> bool:
    """Whether every column choice is the one the file was read with (``found``: a kept preparation without
    choices); empty choices clear a role."""
    outcome = None if found is None else found[1]
    mapping = getattr(getattr(outcome, "prepared", None), "mapping", None) or getattr(outcome, "mapping", None)
    if mapping is None:
        return False
    return all((value or None) == getattr(mapping, role, None) for role, value in overrides.items())


# --------------------------------------------------------------------------------------------------
# Downloads
# --------------------------------------------------------------------------------------------------
def period_words(filters: Filters) -> str | None:
    """The chosen months in words for file names and captions ("2025-11 to 2026-10")."""
    if not filters.months:
        return None
    first, last = filters.months
    return str(first) if first == last else f"{first} to {last}"


def offer_downloads(view: downloads.DownloadView, *, key: str) -> None:
    """Download buttons for what the page shows (:mod:`pipelines.downloads`): GeoPackage, GeoJSON and CSV,
    and the map as a PNG image. Each file is built when its button is clicked, and audited as an export."""
    current, where, session = viewer(), store(), st.session_state.get(SESSION_KEY)
    st.caption("Download what this page shows, with the filters above (audited).")
    layer = None
    if len(view.names) > 1:
        layer = st.selectbox(
            "Layer for GeoJSON and CSV (the GeoPackage holds every layer)",
            view.names,
            key=f"{key}_layer",
            format_func=lambda name: name.replace("_", " ").capitalize(),
        )
    with st.container(horizontal=True):
        for fmt in view.formats:
            chosen = layer if fmt in ("geojson", "csv") else None
            if fmt == "geojson" and not view.geographic(chosen or view.names[0]):
                continue  # a table without a place: CSV only
            st.download_button(
                downloads.FORMATS[fmt].label,
                data=partial(downloads.deliver, where, current, view, fmt, chosen, session=session),
                file_name=view.file_name(fmt, chosen),
                mime=downloads.FORMATS[fmt].mime,
                on_click="ignore",
                icon=":material/download:",
                key=f"{key}_{fmt}",
                width="content",
            )


# --------------------------------------------------------------------------------------------------
# Warming the caches at server start
# --------------------------------------------------------------------------------------------------
def default_neighbourhood(hoods: gpd.GeoDataFrame) -> str | None:
    """The Safe Neighbourhood the sidebar starts on: the demo's (Harare) when present, else the first by name."""
    hoods = hoods[hoods["kind"] == "neighbourhood"].sort_values("name")
    harare = [code for code, name in zip(hoods["code"], hoods["name"], strict=True) if "harare" in str(name).lower()]
    return harare[0] if harare else (hoods["code"].iloc[0] if len(hoods) else None)


def default_period(months: list[pd.Period]) -> tuple[pd.Period, pd.Period] | None:
    """The period the sidebar starts on: the last 12 stored months (``months`` newest first)."""
    return (months[max(0, min(len(months) - 1, 11))], months[0]) if months else None


def warm() -> None:
    """Fill the caches a visitor's first map page reads, for the sidebar's default filters, as the public and
    as the stand-ins of the row-seeing roles (:func:`audience`): what :func:`start_warming` runs at start."""
    # The pages' heavier imports, paid here and not by the first visitor.
    import plotly.express  # noqa: F401

    from pipelines import mapview

    url, version = store().url, _version()
    every = _areas(url, version)
    months, _ = _choices(url, version)
    _population_sources(url, version)
    code, period = default_neighbourhood(every), default_period(months)
    population = every.set_index("code")["population"].get(code) if code else None
    filters = Filters(code, None if pd.isna(population) else float(population), period, None, None, False)
    span, until = ((period[1] - period[0]).n + 1, str(period[1])) if period else (12, None)

    def read(who: Viewer):
        for name in ("assets", "interventions"):
            _table(url, version, name, who)
        hot = _hotspots(url, version, code, span, until, who, False) if code is not None else None
        counts = _counts(url, version, filters.query(), who) if who.suppressed else None
        return _incidents(url, version, filters.query(), who), counts, hot

    # The public's first map built and rendered as the page would (same inputs, same cache entry), so the
    # first visitor's run neither builds nor renders it. The component is registered as a script run would.
    import streamlit_folium
    from streamlit.runtime import Runtime

    if Runtime.exists():
        Runtime.instance().component_registry.register_component(streamlit_folium._component_func)
    for who in (PUBLIC, *(audience(Viewer("warm", role)) for role in ("planner", "act_member"))):
        incidents, counts, hot = read(who)
        allowed = mapview.allowed_layers(who)
        choices = dict(
            layers=tuple(layer for layer in mapview.DEFAULT_LAYERS if layer in allowed),
            metric="count",
            area_kind="neighbourhood",
            online=False,
        )
        inputs = explorer_inputs(filters, who, **choices)
        _drawn(
            _map_key(url, version, who, EXPLORER_MAP, EXPLORER_RETURNS, inputs),
            partial(
                explorer_map, filters, who, **choices, areas=every, incidents=incidents, counts=counts, hot=hot,
                assets=_table(url, version, "assets", who), interventions=_table(url, version, "interventions", who),
                population_source=_population_sources(url, version)["neighbourhood"],
            ),
        )  # fmt: skip


def _warm_when_running() -> None:
    from streamlit.runtime import Runtime

    for _ in range(600):  # the caches belong to the runtime: wait for the server to create it
        if Runtime.exists():
            break
        threading.Event().wait(0.1)
    else:
        return  # no server (an AppTest, a script): nobody to warm the caches for
    try:
        warm()
    except Exception:  # a store that cannot be read now is reported by the page that reads it
        _LOG.exception("warming the dashboard caches failed")


def start_warming() -> threading.Thread:
    """Start :func:`warm` in a background thread, once per process: ``areasafe serve``
    (:func:`dashboard.launch.main`) calls it before the server starts."""
    global _WARMING
    with _WARM_LOCK:
        if _WARMING is None:
            _WARMING = threading.Thread(target=_warm_when_running, name="areasafe-warm", daemon=True)
            _WARMING.start()
        return _WARMING


def warmed() -> bool:
    """Whether the start-up work is over: :func:`start_warming` was never called, or its :func:`warm` has
    finished (or failed). What ``/api/ready`` (:mod:`dashboard.readiness`) answers."""
    with _WARM_LOCK:
        return _WARMING is None or not _WARMING.is_alive()


_WARM_LOCK = threading.Lock()
_WARMING: threading.Thread | None = None
