"""Errors a user can act on. Each message says what is wrong and what to do about it."""

from __future__ import annotations


class AreaSafeError(ValueError):
    """Base class: the CLI prints the message and exits 2; the dashboard shows it as is."""


class StoreError(AreaSafeError):
    """The store could not be opened or written; the message says what to do (:mod:`pipelines.store`)."""


class UnusableFileError(AreaSafeError):
    """The file as a whole cannot be ingested (no location columns, not a CSV, unreadable)."""


class MappingError(AreaSafeError):
    """A column mapping (override or YAML file) names a column the file does not have, or is invalid."""


class DateOrderError(UnusableFileError):
    """A date column proves both orders (some rows day first, others month first); the message names
    rows of each and how to choose the order (``--date-format``)."""


class MissingLocationError(UnusableFileError):
    """No location columns were found or given.

    It carries what a page needs to let the person choose them instead of stopping: the file's
    ``columns``, the ``mapping`` guessed so far and a few redacted ``preview`` rows.
    """

    def __init__(self, message: str, *, columns=(), mapping=None, preview=None) -> None:
        super().__init__(message)
        self.columns = list(columns)
        self.mapping = mapping
        self.preview = preview
