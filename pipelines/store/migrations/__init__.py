"""Alembic migrations of the PostGIS store (run with ``areasafe db upgrade``; see docs/deploy.md).

Each revision in ``versions/`` holds literal DDL, frozen when it was written; the patterns they share
(a table's ``fid`` key, comments, spatial indexes, append-only triggers) are spelled once in :mod:`.ddl`. :mod:`pipelines.store._pg_migrate`
configures Alembic programmatically, so no ``alembic.ini`` is needed and the scripts ship inside the package.
"""
