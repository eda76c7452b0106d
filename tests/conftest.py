"""Shared pytest fixtures."""

# --- demo store fixture (dashboard owner; the CLI owner may replace the fallback) ---
import datetime as _dt  # noqa: E402

import pytest  # noqa: E402


def _demo_files_present() -> bool:
    try:
        from pipelines import demo
    except ImportError:
        return False
    return all((demo.DEMO_DIR / f).exists() for f in demo._FILES)


def _build_fallback_demo(store, folder) -> None:
    """A small synthetic Safe Neighbourhood (real Khayelitsha sub-district outlines) for when data/demo is absent."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely

    from pipelines.ingest import ingest_boundaries, ingest_incidents
    from pipelines.store.base import Batch

    gdb = "/vsizip//work/shared/data/real/khayelitsha-subdistricts-sjc/Sub_dist_Khayelitsha.gdb.zip/Sub_dist_Khayelitsha.gdb"
    names = ["HARARE HOLOMISA", "MONWABISI", "SILVER TOWN"]
    try:
        subs = gpd.read_file(gdb, layer="Sub_districts")
        subs = subs[subs["NAME"].isin(names)].reset_index(drop=True)
    except Exception:  # the shared real data is not on every machine: fall back to squares
        boxes = [shapely.box(18.655 + 0.012 * i, -34.05, 18.666 + 0.012 * i, -34.04) for i in range(3)]
        subs = gpd.GeoDataFrame({"NAME": names}, geometry=boxes, crs=4326)
    hoods = gpd.GeoDataFrame(
        {
            "code": ["HARARE", "MONWABISI", "SILVERTOWN"],
            "name": ["Harare", "Monwabisi", "Silvertown"],
            "population": [38000, 21000, 9000],
        },
        geometry=subs.geometry.to_numpy(),
        crs=4326,
    )
    hoods.to_file(folder / "neighbourhoods.geojson")
    minx, miny, maxx, maxy = hoods.total_bounds
    precincts = gpd.GeoDataFrame(
        {"code": ["HARARE-SAPS"], "name": ["Harare"], "population": [90000]},
        geometry=[shapely.box(minx - 0.01, miny - 0.01, maxx + 0.01, maxy + 0.01)],
        crs=4326,
    )
    precincts.to_file(folder / "precincts.geojson")
    ingest_boundaries(store, folder / "precincts.geojson", kind="precinct")
    ingest_boundaries(store, folder / "neighbourhoods.geojson", kind="neighbourhood")

    rng = np.random.default_rng(7)
    n = 3000
    xy = shapely.get_coordinates(gpd.GeoSeries([hoods.geometry.union_all()], crs=4326).sample_points(n, rng=rng))
    cats = rng.choice(
        [
            "Common assault",
            "Robbery with aggravating circumstances",
            "Burglary at residential premises",
            "Murder",
            "Drug-related crime",
        ],
        n,
        p=[0.35, 0.25, 0.2, 0.05, 0.15],
    )
    start = pd.Timestamp("2025-01-01")
    days = rng.integers(0, 365, n)
    municipal = pd.DataFrame(
        {
            "case_number": [f"CAS-{i:05d}" for i in range(n)],
            "occurred_at": [
                (start + pd.Timedelta(days=int(d), hours=int(h))).isoformat()
                for d, h in zip(days, rng.integers(0, 24, n), strict=True)
            ],
            "crime_type": cats,
            "latitude": xy[:, 1].round(6),
            "longitude": xy[:, 0].round(6),
        }
    )
    municipal.to_csv(folder / "incidents_municipal.csv", index=False)
    ingest_incidents(store, folder / "incidents_municipal.csv", source="municipal", org="City (synthetic)")
    kobo = _kobo_frame(rng, hoods, 150)
    kobo.to_csv(folder / "cso_survey_kobo.csv", index=False)
    ingest_incidents(store, folder / "cso_survey_kobo.csv", source="community", org="CSF (synthetic)")

    anchors = shapely.get_coordinates(gpd.GeoSeries([hoods.geometry.union_all()], crs=4326).sample_points(6, rng=rng))
    now = _dt.datetime.now(_dt.UTC)
    batch = Batch(
        batch_id="registers-synthetic",
        kind="assets",
        file_name="synthetic",
        sha256="0" * 64,
        created_at=now,
        rows_read=6,
        accepted=6,
    )
    assets = gpd.GeoDataFrame(
        {
            "asset_id": [f"A{i}" for i in range(4)],
            "name": ["Harare Library", "Kwam Fields", "Ikhwezi School", "Active Box 3"],
            "abcd_category": ["institutions", "physical", "institutions", "associations"],
            "type": ["library", "sports field", "school", "active box"],
            "custodian": ["City", "City", "WCED", "NHW"],
            "external_id": None,
            "precinct_code": "HARARE-SAPS",
            "neighbourhood_code": "HARARE",
            "batch_id": batch.batch_id,
        },
        geometry=gpd.points_from_xy(anchors[:4, 0], anchors[:4, 1]),
        crs=4326,
    )
    interventions = gpd.GeoDataFrame(
        {
            "intervention_id": ["I1", "I2"],
            "name": ["Walkway lighting phase 2", "Youth programme"],
            "type": ["lighting", "programme"],
            "lead": ["Electricity Dept", "Social Development"],
            "partners": None,
            "status": ["stalled", "in_progress"],
            "budget_zar": [1_200_000.0, 300_000.0],
            "financial_year": "2025/26",
            "start": ["2025-03-01", "2025-06-01"],
            "end": ["2025-09-30", "2026-06-30"],
            "external_id": None,
            "neighbourhood_code": "HARARE",
            "batch_id": batch.batch_id,
        },
        geometry=gpd.points_from_xy(anchors[4:, 0], anchors[4:, 1]),
        crs=4326,
    )
    log = pd.DataFrame(
        {
            "intervention_id": ["I1", "I1"],
            "status": ["in_progress", "stalled"],
            "changed_at": [pd.Timestamp("2025-04-01", tz="UTC"), pd.Timestamp("2025-11-15", tz="UTC")],
            "note": ["started", "contractor left site"],
            "user": "synthetic",
            "batch_id": batch.batch_id,
        }
    )
    store.commit(batch, assets=assets, interventions=interventions, intervention_log=log)


def _kobo_frame(rng, hoods, n: int):
    """A KoboToolbox-style export (group paths, geopoint split columns, _uuid, _submission_time)."""
    import uuid

    import pandas as pd
    import shapely

    xy = shapely.get_coordinates(hoods.geometry.iloc[[0]].sample_points(n, rng=rng))
    days = rng.integers(0, 365, n)
    return pd.DataFrame(
        {
            "start": "2025-12-01T08:00:00.000+02:00",
            "incident/incident_date": [
                (pd.Timestamp("2025-01-01") + pd.Timedelta(days=int(d))).date().isoformat() for d in days
            ],
            "incident/incident_type": rng.choice(["Broken street light", "Illegal shebeen", "Robbery", "Gunshots"], n),
            "incident/what_happened": "Reported at the community safety forum",
            "incident/_gps_latitude": xy[:, 1].round(6),
            "incident/_gps_longitude": xy[:, 0].round(6),
            "_uuid": [str(uuid.UUID(int=int(rng.integers(0, 2**62)))) for _ in range(n)],
            "_submission_time": "2025-12-01T10:00:00",
            "_id": range(1000, 1000 + n),
        }
    )


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory):
    """A built demo GeoPackageStore in a tmp dir (the real demo when data/demo is complete)."""
    import warnings

    from pipelines.store import open_store

    folder = tmp_path_factory.mktemp("demo")
    store = None
    if _demo_files_present():
        from pipelines.demo import build_demo

        store = open_store(str(folder / "demo.gpkg"))
        try:
            build_demo(store)
        except Exception as exc:  # the demo build has its own tests; dashboard tests still need a store
            warnings.warn(f"build_demo failed ({exc!r}); using the synthetic fallback store", stacklevel=1)
            store.close()
            store = None
    if store is None:
        store = open_store(str(folder / "fallback.gpkg"))
        _build_fallback_demo(store, folder)
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
