"""Persistence: :func:`open_store` picks the backend from the store URL.

A path (or ``file:`` URL) opens the embedded GeoPackage store; a ``postgresql://`` URL will open the
PostGIS store once that backend lands.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.settings import default_store_url
from pipelines.store.base import Batch, IncidentQuery, Store, StoreError

__all__ = ["Batch", "IncidentQuery", "Store", "StoreError", "open_store"]


def open_store(url: str | Path | None = None) -> Store:
    """Open (and create if needed) the store at ``url``, defaulting to :func:`default_store_url`."""
    url = str(url) if url is not None else default_store_url()
    if url.startswith(("postgresql://", "postgres://")):
        raise StoreError(
            f"PostGIS stores are not available in this version (got {url!r}); use a .gpkg path for --store."
        )
    path = url.removeprefix("file:")
    if not path.endswith(".gpkg"):
        raise StoreError(f"store path {path!r} must end in .gpkg (or be a postgresql:// URL)")
    from pipelines.store.gpkg import GeoPackageStore

    return GeoPackageStore(path)
