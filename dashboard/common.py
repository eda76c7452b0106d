"""Session state and the small shared widgets: the store, who is looking, and what every page draws alike.

Place in the data flow: show. :func:`viewer` is who is looking (the logged-in account, or the public);
every read of incident data passes it to :mod:`pipelines.access` and :mod:`pipelines.privacy` (through
:mod:`dashboard.loaders`, which caches the reads), and pages call :func:`require` first so a page a role
may not use stops with a message (the navigation hides it too). The session survives a reload through its
cookie (:func:`sync_cookie`, :mod:`dashboard.session_routes`). The widgets here read nothing of the data:
the pager, a statistic's explanation, a count's change, an error, the download buttons. The sidebar's
filters read the stored areas and months, so they live above the loaders (:mod:`dashboard.sidebar`).
"""

from __future__ import annotations

import dataclasses
import json
from functools import partial

import streamlit as st

from pipelines import auth, downloads, glossary, privacy
from pipelines.errors import AreaSafeError
from pipelines.hotspots.change import BASELINE_MONTHS, DOWN, MEANINGS, NO_CLEAR_CHANGE, TOO_FEW, UP, Change
from pipelines.privacy import PUBLIC, Viewer
from pipelines.settings import default_store_url
from pipelines.store import Store, open_store

#: ``st.session_state`` key of the :class:`pipelines.auth.Session` of a logged-in user.
SESSION_KEY = "areasafe_session"
FLASH_KEY = "areasafe_auth_flash"
_VIEWER_KEY = "areasafe_viewer"  # who check_session found this run
_TICKET_KEY = "areasafe_login_ticket"  # a login's ticket, until the page has traded it for the cookie
_CLEAR_COOKIE_KEY = "areasafe_clear_cookie"  # a logout, until the page has cleared the cookie
#: Where a login lands (relative to app.py): the map, every role's main page.
LANDING_PAGE = "app_pages/map_explorer.py"


@st.cache_resource
def _open(url: str) -> Store:
    return open_store(url)


def store() -> Store:
    """The store named by ``$AREASAFE_STORE`` (or the default), opened once per process."""
    return _open(default_store_url())


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
        body = url = None
    # In a place of its own that every run draws (hidden, dashboard/static/areasafe.css): the script comes and
    # goes without moving the page's elements, which Streamlit would draw anew (the map a new frame).
    with st.sidebar.container(key="areasafe_session"):
        if url is not None:
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


def download_caption(scope: str | None = None) -> str:
    """The line above a page's download buttons: what the files hold, and ``scope``, the choices they follow."""
    return f"Download what this page shows{', ' + scope if scope else ''} (the download is recorded in the audit log)."


def change_term(change: Change | None) -> str | None:
    """The glossary term of a change's reading ("Up / Down", "No clear change", ...)."""
    if change is None:
        return None
    return {UP: "Up / Down", DOWN: "Up / Down", NO_CLEAR_CHANGE: "No clear change", TOO_FEW: "Too few reports to tell"}[
        change.reading
    ]


def offer_downloads(view: downloads.DownloadView, *, key: str, scope: str | None = None) -> None:
    """Download buttons for what the page shows (:mod:`pipelines.downloads`): GeoPackage, GeoJSON and CSV,
    and the map as a PNG image. Each file is built when its button is clicked, and audited as an export.

    ``scope`` says which of the page's choices the files follow, where they are ("with the filters in the
    sidebar"); a page without choices leaves it out."""
    current, where, session = viewer(), store(), st.session_state.get(SESSION_KEY)
    st.caption(download_caption(scope))
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
