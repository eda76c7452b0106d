"""Settings: every path, default and limit in one typed place that tests can override.

Place in the data flow: read by the CLI and the dashboard when they open a store or load the
taxonomy; nothing else reads environment variables.

Read settings when they are used, through the module: ``from pipelines import settings`` and then
``settings.SETTINGS.chunk_rows`` inside the function, never ``from pipelines.settings import SETTINGS``
(that binds the object at import, so an override would have to reach each module separately). A
function that takes ``settings=`` defaults it to ``None`` and reads ``SETTINGS`` when called. Then one
override reaches every module: ``with settings.override(chunk_rows=2): ...``, or in a test
``monkeypatch.setattr(settings, "SETTINGS", dataclasses.replace(settings.SETTINGS, chunk_rows=2))``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DEMO_DIR = DATA_DIR / "demo"
TAXONOMY_PATH = DATA_DIR / "taxonomy.yaml"
AREA_ALIASES_PATH = DATA_DIR / "area_aliases.yaml"
DEFAULT_STORE = DATA_DIR / "areasafe.gpkg"
STORE_ENV = "AREASAFE_STORE"
#: Where a running dashboard writes files it makes for browsers (the map's road lines), unless
#: ``Settings.cache_dir`` says: see :func:`cache_dir`.
CACHE_ENV = "AREASAFE_CACHE_DIR"


@dataclass(frozen=True)
class Settings:
    """Ingest and validation defaults."""

    #: Earliest plausible incident date; older dates are rejected as ``invalid_date``.
    earliest_date: str = "1990-01-01"
    #: Dates this far in the future (to allow for clock and time-zone skew) are still accepted.
    future_tolerance_hours: float = 24.0
    #: Timezone assumed for dates that carry none.
    local_timezone: str = "Africa/Johannesburg"
    #: Points outside every area but this close to one (metres) are given the nearest area (``--snap-m``).
    #: Off by default, because a point outside the areas loaded is as likely to be a neighbouring
    #: council's: City of London Police's street crimes (Dec 2018 and Dec 2021) against the City's own
    #: MSOAs put 52 points from neighbouring boroughs into the City at 150 m and rescued 28 of the City's
    #: own, and at every distance from 10 m on the wrong ones outnumbered the right ones. Only with every
    #: neighbouring area loaded (all London MSOAs) did it help: 21 of 21 points on bridges and the river
    #: bank, 30-104 m outside shoreline-clipped boundaries, went where police.uk puts them. A wrong area
    #: is silent; a point outside every area is kept, counted and reported with this advice.
    edge_tolerance_m: float = 0.0
    #: Which stored areas an incident file's area column (``--area-col``) names unless told: Safe
    #: Neighbourhoods, since profiles, rates and the monthly summary count by them (a file naming police
    #: stations says ``--area-kind precinct``; a station name given as a neighbourhood is refused with
    #: that advice).
    area_kind: str = "neighbourhood"
    #: Rows per progress-bar step and per insert chunk.
    chunk_rows: int = 100_000

    # -- uploads through the dashboard (the CLI has no limit: bulk loads are an operator's job) ----
    # Checked on the bytes before anything is parsed (pipelines.sources.limits); messages say MB for MiB.
    #: Largest file the dashboard accepts, in bytes ("25 MB").
    max_upload_bytes: int = 25 * 1024 * 1024
    #: Most data rows one dashboard upload may hold (features, for a vector file).
    max_upload_rows: int = 100_000
    #: Most columns one dashboard upload may hold (in its header, or in any row or spreadsheet row).
    max_upload_columns: int = 1_000
    #: Longest line of a delimited (CSV) upload, in bytes ("1 MB").
    max_line_bytes: int = 1024 * 1024
    #: Most vertices the geometries of one vector upload may hold, all features together.
    max_upload_vertices: int = 1_000_000
    #: Most bytes an uploaded zip archive or Excel workbook (a zip too) may unpack to ("200 MB").
    max_upload_unzipped_bytes: int = 200 * 1024 * 1024
    #: Most worksheets an uploaded Excel workbook may hold (each is opened to find the submissions'
    #: sheet; 3,000 empty sheets in 1.3 MB took 9 s).
    max_upload_sheets: int = 100

    # -- accounts and sessions (pipelines.auth) -----------------------------------------------------
    #: Shortest password ``areasafe users add`` accepts.
    min_password_length: int = 10
    #: Failed logins in a row (per username, counted in the store so every replica sees them) before
    #: each further attempt must wait.
    max_failed_logins: int = 5
    #: The first wait after ``max_failed_logins``; it doubles with every further failure.
    lockout_seconds: int = 30
    #: The longest wait.
    max_lockout_seconds: int = 15 * 60
    #: A session with no page view for this long has expired.
    session_idle_minutes: int = 30
    #: A session expires this long after login, however active.
    session_absolute_hours: int = 12

    # -- privacy (pipelines.access, docs/privacy.md) ------------------------------------------------
    #: Published counts below this are shown as "<5".
    min_published_count: int = 5
    #: H3 resolutions tried for generalised locations, finest first; the finest whose least dense
    #: populated area still puts ``min_households_per_cell`` households in a cell is used.
    generalise_resolutions: tuple[int, ...] = (9, 8, 7)
    #: Households a generalised location must stand for (Police.uk map points cover at least 8 addresses;
    #: a hexagon's centre stands for every household in the cell, so the bar is set far higher).
    min_households_per_cell: int = 100
    #: Persons per household, to turn area populations into households (Census 2022: 3.3 in Cape Town).
    persons_per_household: float = 3.3

    # -- files a running dashboard writes (dashboard.map_files) --------------------------------------
    #: The folder for them; ``None``: ``$AREASAFE_CACHE_DIR``, else ``$XDG_CACHE_HOME/areasafe``, else
    #: ``~/.cache/areasafe`` (:func:`cache_dir`). Never inside the installed package.
    cache_dir: str | None = None


#: The settings in force. Read it as ``settings.SETTINGS`` when used (see the module docstring).
SETTINGS = Settings()


@contextmanager
def override(**changes: Any) -> Iterator[Settings]:
    """Use ``SETTINGS`` with ``changes`` in every module until the block ends.

    Parameters
    ----------
    **changes
        Field names of :class:`Settings` and their values for the block, e.g. ``chunk_rows=2``.

    Yields
    ------
    Settings
        The settings in force inside the block.
    """
    global SETTINGS
    unknown = sorted(set(changes) - {field.name for field in dataclasses.fields(Settings)})
    if unknown:
        raise TypeError(f"Settings has no field {', '.join(unknown)}; see pipelines/settings.py for the names.")
    before = SETTINGS
    SETTINGS = dataclasses.replace(before, **changes)
    try:
        yield SETTINGS
    finally:
        SETTINGS = before


def default_store_url() -> str:
    """``$AREASAFE_STORE`` when set, else ``data/areasafe.gpkg`` in the project."""
    return os.environ.get(STORE_ENV) or str(DEFAULT_STORE)


def cache_dir() -> Path:
    """The folder a running dashboard writes its own files into (the map's road lines, named by content, so
    stores and replicas may share it): ``SETTINGS.cache_dir``, else ``$AREASAFE_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/areasafe``, else ``~/.cache/areasafe``. Not created here."""
    chosen = SETTINGS.cache_dir or os.environ.get(CACHE_ENV)
    if chosen:
        return Path(chosen)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "areasafe"
