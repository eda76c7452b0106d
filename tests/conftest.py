"""Shared pytest fixtures."""

import pytest


# --- demo store fixture ---
@pytest.fixture(scope="session")
def demo_store(tmp_path_factory):
    """The real demo store (data/demo through the real pipelines) in a tmp dir, built once per session.

    No fallback: if the demo cannot be built, every test that needs it fails and says why.
    """
    from pipelines.demo import build_demo
    from pipelines.store import open_store

    store = open_store(tmp_path_factory.mktemp("demo") / "demo.gpkg")
    build_demo(store)
    yield store
    store.close()


# --- end demo store fixture ---


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every browser test of the session (each test opens its own context)."""
    from tests._dashboard import launched_chromium

    with launched_chromium() as chromium:
        yield chromium


# --- core fixtures (CLI/store owner) ---
@pytest.fixture
def store(tmp_path):
    """An empty GeoPackage store in a tmp dir."""
    from pipelines.store import open_store

    s = open_store(tmp_path / "store.gpkg")
    yield s
    s.close()


@pytest.fixture
def area_store(store, tmp_path):
    """A store holding two precincts (West/East, border at lon 18.6) and one neighbourhood."""
    from tests._helpers import load_areas

    load_areas(store, tmp_path)
    return store


@pytest.fixture(scope="session")
def real_data():
    from tests._helpers import REAL

    if not REAL.exists():
        pytest.skip("../shared/data/real is not beside the project")
    return REAL


# --- PostGIS fixtures (issue 6): one test suite, two stores ---
SKIP_POSTGIS_ENV = "AREASAFE_SKIP_POSTGIS"
BACKENDS = ("gpkg", "postgis")


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL + PostGIS cluster on 127.0.0.1 and a free port, for the whole session.

    Missing server binaries make every PostGIS test fail (saying how to install them), unless
    ``AREASAFE_SKIP_POSTGIS=1`` is set: then they are skipped.
    """
    import os

    from tests._pgcluster import ClusterUnavailable, TempCluster

    if os.environ.get(SKIP_POSTGIS_ENV) == "1":
        pytest.skip(f"{SKIP_POSTGIS_ENV}=1: PostGIS tests skipped")
    try:
        cluster = TempCluster().start()
    except ClusterUnavailable as exc:
        pytest.fail(f"the PostGIS tests need a local PostgreSQL with PostGIS: {exc}", pytrace=False)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def pg_template(pg_cluster):
    """Name of a database with PostGIS and the migrated schema, cloned for each test."""
    return pg_cluster.migrated_template()


@pytest.fixture
def pg_url(pg_cluster, pg_template):
    """URL of a fresh, migrated, empty PostGIS database (a clone of the template), dropped afterwards."""
    url = pg_cluster.create_database(template=pg_template)
    yield url
    pg_cluster.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture(params=BACKENDS)
def new_store(request, tmp_path):
    """A factory of empty stores of one backend (``gpkg`` or ``postgis``; the test id says which)."""
    from pipelines.store import open_store

    cleanups, names = [], iter(range(1_000))

    def make():
        if request.param == "gpkg":
            store = open_store(tmp_path / f"store{next(names)}.gpkg")
            cleanups.append(store.close)
            return store
        cluster, template = request.getfixturevalue("pg_cluster"), request.getfixturevalue("pg_template")
        url = cluster.create_database(template=template)
        store = open_store(url)
        cleanups.append(lambda: (store.close(), cluster.drop_database(url.rsplit("/", 1)[1])))
        return store

    make.backend = request.param
    yield make
    for cleanup in cleanups:
        cleanup()


@pytest.fixture
def any_store(new_store):
    """An empty store, once as a GeoPackage and once as PostGIS."""
    return new_store()


@pytest.fixture
def any_area_store(any_store, tmp_path):
    """:func:`area_store` on both backends: two precincts (border at lon 18.6) and one neighbourhood."""
    from tests._helpers import load_areas

    load_areas(any_store, tmp_path)
    return any_store


@pytest.fixture(scope="session")
def pg_demo_template(pg_cluster, pg_template):
    """Name of a PostGIS database holding the real demo (built once), cloned by :func:`any_demo_copy`."""
    from pipelines.demo import build_demo
    from pipelines.store import open_store

    url = pg_cluster.create_database(template=pg_template, name="areasafe_demo_template")
    with open_store(url) as store:
        build_demo(store)
    return "areasafe_demo_template"


@pytest.fixture(params=BACKENDS)
def any_demo_copy(request, tmp_path):
    """A private, writable copy of the demo store on each backend."""
    from pipelines.store import open_store
    from tests._helpers import copy_store

    if request.param == "gpkg":
        store = copy_store(request.getfixturevalue("demo_store"), tmp_path / "demo-copy.gpkg")
        yield store
        store.close()
        return
    cluster = request.getfixturevalue("pg_cluster")
    url = cluster.create_database(template=request.getfixturevalue("pg_demo_template"))
    store = open_store(url)
    yield store
    store.close()
    cluster.drop_database(url.rsplit("/", 1)[1])


# --- end PostGIS fixtures ---
