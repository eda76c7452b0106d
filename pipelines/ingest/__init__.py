"""Ingestion: one module per kind of input, each ``read -> validate + normalise -> place -> store``.

- :mod:`~pipelines.ingest.incidents`: incident files (CSV, Excel, Kobo, ODK, police.uk, vector files).
- :mod:`~pipelines.ingest.boundaries`: precinct, Safe Neighbourhood and ward boundaries.
- :mod:`~pipelines.ingest.counts`: counts per area and period (SAPS station statistics).
- :mod:`~pipelines.ingest.assets`, :mod:`~pipelines.ingest.interventions`: the registers, which share
  :mod:`~pipelines.ingest.registers`; :mod:`~pipelines.ingest.forms`: the dashboard's one-record forms.
- :mod:`~pipelines.ingest.batches`: the batch record and committing a file once.

Every importer stores its rejected rows through :func:`pipelines.ingest.rejections.rejection_rows`, and guesses
columns with :mod:`pipelines.sources.columns`.
"""
