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
