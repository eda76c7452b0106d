"""Build the demo store: a Cape Town Safe Neighbourhood from the files in ``data/demo``.

Place in the data flow: a recipe over the real ingest functions. Every demo file goes through the
same pipeline a municipality's files would (readers, validation, placement, one batch each), so the
demo also exercises rejections, duplicates and PII redaction. ``data/demo/PROVENANCE.md`` says
which files are real and which are simulated.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.act.actions import import_actions
from pipelines.ingest.assets import ingest_assets
from pipelines.ingest.boundaries import ingest_boundaries
from pipelines.ingest.counts import ingest_counts
from pipelines.ingest.incidents import ingest_incidents
from pipelines.ingest.interventions import ingest_interventions, ingest_status_updates
from pipelines.settings import DEMO_DIR
from pipelines.store.base import Batch, Store

MUNICIPALITY = "City of Cape Town"
MUNICIPAL_ORG = "City of Cape Town (simulated records)"
CSO_ORG = "Khayelitsha Community Safety Forum (simulated survey)"
DEMO_USER = "demo"
WARDS_VERSION = "City of Cape Town wards, 2021 demarcation"


def build_demo(store: Store, *, demo_dir: str | Path | None = None) -> list[Batch]:
    """Ingest every demo file into ``store``; returns the batches in load order.

    Running it on a store that already holds the demo adds nothing: areas and registers are
    replaced by code and id, incidents are recognised as duplicates, identical files are not committed
    twice and action versions already in the log are skipped. The ACT's meetings and actions
    (``meetings.csv``, ``actions.csv``, see ``data/demo/ACT-PROVENANCE.md``) are loaded last.
    """
    folder = Path(demo_dir or DEMO_DIR)
    missing = [f for f in _FILES if not (folder / f).exists()]
    if missing:
        raise FileNotFoundError(f"demo files missing from {folder}: {', '.join(missing)}; restore data/demo from git")
    batches = [
        ingest_boundaries(store, folder / "precincts.geojson", kind="precinct", user=DEMO_USER),
        ingest_boundaries(store, folder / "neighbourhoods.geojson", kind="neighbourhood", user=DEMO_USER),
        # The real City of Cape Town wards around the precincts (data/demo/WARDS-PROVENANCE.md).
        ingest_boundaries(
            store,
            folder / "wards.geojson",
            kind="ward",
            user=DEMO_USER,
            municipality=MUNICIPALITY,
            version=WARDS_VERSION,
        ),
        ingest_counts(store, folder / "saps_station_stats.csv", org="SAPS", user=DEMO_USER),
        ingest_assets(store, folder / "schools.csv", abcd_category="institutions", asset_type="school", user=DEMO_USER),
        ingest_assets(store, folder / "assets_other.csv", user=DEMO_USER),
        ingest_interventions(store, folder / "interventions.geojson", user=DEMO_USER, org=MUNICIPALITY),
        ingest_status_updates(store, folder / "intervention_updates.csv", user=DEMO_USER, org=MUNICIPALITY),
        # Its points are made inside the study area (scripts/make_demo_data.py); the 55 that spill up to
        # 147 m past its edge belong to it, so they are snapped back (snapping is off by default).
        ingest_incidents(
            store,
            folder / "incidents_municipal.csv",
            source="municipal",
            org=MUNICIPAL_ORG,
            user=DEMO_USER,
            snap_m=150,
        ),
        ingest_incidents(store, folder / "cso_survey_kobo.csv", source="community", org=CSO_ORG, user=DEMO_USER),
    ]
    # The ACT's meetings and actions register (with history): after the registers, whose ids it links to.
    import_actions(store, folder / "actions.csv", meetings=folder / "meetings.csv")
    return batches


_FILES = (
    "precincts.geojson",
    "neighbourhoods.geojson",
    "wards.geojson",
    "saps_station_stats.csv",
    "schools.csv",
    "assets_other.csv",
    "interventions.geojson",
    "incidents_municipal.csv",
    "cso_survey_kobo.csv",
    "intervention_updates.csv",
    "meetings.csv",
    "actions.csv",
)
