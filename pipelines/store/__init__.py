"""Persistence: :func:`open_store` picks the backend from the store URL.

A path (or ``file:`` URL) opens the embedded GeoPackage store; a ``postgresql://`` URL opens the
PostGIS store (:mod:`pipelines.store.postgis`), whose database must have been migrated with
``areasafe db upgrade`` first.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.settings import default_store_url
from pipelines.store.base import Batch, IncidentQuery, Store, StoreError

__all__ = ["Batch", "IncidentQuery", "Store", "StoreError", "is_postgres_url", "open_store"]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL database (else it is a GeoPackage path). Decided here, without
    importing the PostgreSQL driver: opening a GeoPackage store does not pay for it."""
    return url.startswith(POSTGRES_SCHEMES)


def open_store(url: str | Path | None = None) -> Store:
    """Open the store at ``url``, defaulting to :func:`default_store_url`.

    A GeoPackage is created (or upgraded in place) when needed; a PostGIS database must already be at
    the current schema revision (run ``areasafe db upgrade``), else a :class:`StoreError` says so.
    """
    url = str(url) if url is not None else default_store_url()
    if is_postgres_url(url):
        from pipelines.store.postgis import PostGISStore

        return PostGISStore(url)
    path = url.removeprefix("file:")
    if not path.endswith(".gpkg"):
        raise StoreError(f"store path {path!r} must end in .gpkg (or be a postgresql://USER@HOST:PORT/DATABASE URL)")
    from pipelines.store.gpkg import GeoPackageStore

    return GeoPackageStore(path)
