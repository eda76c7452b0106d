"""Settings: every path, default and limit in one typed place that tests can override.

Place in the data flow: read by the CLI and the dashboard when they open a store or load the
taxonomy; nothing else reads environment variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DEMO_DIR = DATA_DIR / "demo"
TAXONOMY_PATH = DATA_DIR / "taxonomy.yaml"
DEFAULT_STORE = DATA_DIR / "areasafe.gpkg"
STORE_ENV = "AREASAFE_STORE"


@dataclass(frozen=True)
class Settings:
    """Ingest and validation defaults."""

    #: Earliest plausible incident date; older dates are rejected as ``invalid_date``.
    earliest_date: str = "1990-01-01"
    #: Dates this far in the future (to allow for clock and time-zone skew) are still accepted.
    future_tolerance_hours: float = 24.0
    #: Timezone assumed for dates that carry none.
    local_timezone: str = "Africa/Johannesburg"
    #: Points outside every area but this close to one (metres) are given the nearest area: snap points
    #: on bridges and piers fall outside boundaries clipped to the shoreline (London MSOAs: 80-104 m).
    edge_tolerance_m: float = 150.0
    #: Rows per progress-bar step and per insert chunk.
    chunk_rows: int = 100_000


SETTINGS = Settings()


def default_store_url() -> str:
    """``$AREASAFE_STORE`` when set, else ``data/areasafe.gpkg`` in the project."""
    return os.environ.get(STORE_ENV) or str(DEFAULT_STORE)
