"""Small builders shared by the core tests: tiny areas whose answers can be worked out on paper."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely

from pipelines.ingest.boundaries import ingest_boundaries

REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "real"

# Two precincts side by side sharing the border x = 18.6, one neighbourhood overlapping both.
WEST = shapely.box(18.5, -34.1, 18.6, -34.0)
EAST = shapely.box(18.6, -34.1, 18.7, -34.0)
HOOD = shapely.box(18.55, -34.08, 18.65, -34.02)


def write_areas(folder: Path) -> tuple[Path, Path]:
    precincts = gpd.GeoDataFrame(
        {"code": ["P-WEST", "P-EAST"], "name": ["West", "East"], "population": [1000, 2000]},
        geometry=[WEST, EAST],
        crs=4326,
    )
    hoods = gpd.GeoDataFrame({"code": ["N-1"], "name": ["Hood"], "population": [500]}, geometry=[HOOD], crs=4326)
    p, n = folder / "precincts.geojson", folder / "hoods.geojson"
    precincts.to_file(p)
    hoods.to_file(n)
    return p, n


def load_areas(store, folder: Path) -> None:
    p, n = write_areas(folder)
    ingest_boundaries(store, p, kind="precinct")
    ingest_boundaries(store, n, kind="neighbourhood")


def write_csv(folder: Path, name: str, text: str, encoding: str = "utf-8", bom: bool = False) -> Path:
    path = folder / name
    data = text.encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


# --- accounts for tests of role-dependent pages ---
PASSWORD = "test passphrase for areasafe"


def ensure_user(store, role: str, *, org: str | None = None, username: str | None = None) -> str:
    """An account with ``role`` in ``store`` (created once, password :data:`PASSWORD`); returns its name.

    A cso account belongs to the demo's CSO unless ``org`` says otherwise.
    """
    from pipelines import auth, privacy
    from pipelines.demo import CSO_ORG

    if role == "cso" and org is None:
        org = CSO_ORG
    if username is None:
        import hashlib

        suffix = f"-{hashlib.sha256(org.encode()).hexdigest()[:6]}" if role == "cso" else ""
        username = f"test-{role}{suffix}"
    if not len(store.read_table("users", where={"username": username})):
        auth.add_user(store, username, role=role, org=org, password=PASSWORD, actor=privacy.operator("tests"))
    return username


def app_login(at, store, role: str | None, **account) -> None:
    """Log an AppTest session in as a fresh session of ``role`` (``None``: stay public), before ``at.run()``."""
    from dashboard.common import SESSION_KEY
    from pipelines import auth

    if role is None:
        at.session_state[SESSION_KEY] = None
        return
    username = ensure_user(store, role, **account)
    at.session_state[SESSION_KEY] = auth.authenticate(store, username, PASSWORD)


def page_as(store, page: str, role: str | None, *, timeout: float = 60, **account):
    """An AppTest of ``page`` run once as a fresh session of ``role`` (``None``: the public), as a person
    who opens the dashboard and then the page; fails on any exception the page raised."""
    from streamlit.testing.v1 import AppTest

    from pipelines.settings import PROJECT_ROOT

    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard" / "app.py"), default_timeout=timeout)
    app_login(at, store, role, **account)
    at.run()
    if page != "map_explorer":
        at.switch_page(f"app_pages/{page}.py")
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def copy_store(store, path: Path):
    """A private copy of a GeoPackage ``store`` at ``path``, opened.

    Copied with SQLite's online backup, never by copying the file: opening and closing the file with
    other code (``shutil.copy``) drops every POSIX lock this process holds on it, so another process
    (the browser tests' server) could then checkpoint the write-ahead log under this process's
    connections, which go stale or fail with "disk I/O error".
    """
    import sqlite3

    from pipelines.store import open_store

    source, target = sqlite3.connect(store.url), sqlite3.connect(path)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return open_store(path)


def file_bytes(store) -> bytes:
    """What a store holds on disk (the file and its write-ahead log), read after closing the store's
    connections so the read does not drop SQLite's locks (see :func:`copy_store`)."""
    store.close()
    wal = Path(store.url + "-wal")
    return Path(store.url).read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def published_map(store, role: str | None, **options):
    """The demo's first month mapped (areas and hexagons) as ``role`` sees it (``None``: the public), as the
    map page builds it: ``(viewer, published counts, rows, MapResult)``. One month, so that some Safe
    Neighbourhoods hold fewer than 5 and suppression shows."""
    from pipelines import mapview, privacy
    from pipelines.periods import month_bounds
    from pipelines.privacy import Viewer
    from pipelines.store.base import IncidentQuery

    viewer = privacy.PUBLIC if role is None else Viewer("v", role, org="Khayelitsha CPF" if role == "cso" else None)
    months, _ = privacy.filter_choices(store)
    start, end = month_bounds(months[0])
    query = IncidentQuery(start=start, end=end)
    published = privacy.published_counts(store, viewer, query)
    rows = privacy.read_incidents(store, viewer, query, audit_view=False)
    map_options = mapview.MapOptions(layers=("areas", "hexagons"), max_hexagons=100_000, **options)
    counts = published if viewer.suppressed else None
    return viewer, published, rows, mapview.build_map(store.read_areas(), rows, counts=counts, options=map_options)
