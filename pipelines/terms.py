"""Raw category terms the taxonomy cannot place: listing them, mapping them, re-classifying what is stored.

Place in the data flow: beside the store, after ingest. A raw category that matches no taxonomy term is
stored under ``other`` and is *sensitive* (fail closed, :mod:`pipelines.taxonomy`) until someone with
a role in :data:`MAPPER_ROLES` maps it to a category (:func:`map_term`, ``areasafe taxonomy map`` or
the Data quality page). A mapping is appended to ``term_mappings`` (the latest row of a term wins),
re-classifies the stored incidents with that term and is audited (``map_term``), all in one
transaction; later uploads use it through :func:`store_taxonomy`. A term whose wording names a
sensitive offence cannot be mapped to a category that is not sensitive: the wording rule wins.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines import audit
from pipelines.errors import AreaSafeError
from pipelines.privacy import PERMISSIONS, AccessDenied, Viewer
from pipelines.schemas import COLUMNS
from pipelines.store.base import IncidentQuery, Store
from pipelines.taxonomy import (
    OTHER,
    Taxonomy,
    load_taxonomy,
    normalise_term,
    sensitive_wording,
    sensitive_wording_mask,
)

#: The action of mapping a raw term to a category (for the permission table).
MAP_TERMS = "map_terms"
#: Who may map terms (the permission table's ``map_terms``): the roles that see sensitive rows exactly,
#: and so can judge what a term means.
MAPPER_ROLES = tuple(r for r in PERMISSIONS[MAP_TERMS] if r)
#: How to map a term from the command line (shown wherever unmapped terms are listed).
MAP_COMMAND = 'areasafe taxonomy map "TERM" CATEGORY'
_READ_COLUMNS = [COLUMNS.incident_id, COLUMNS.raw_category, COLUMNS.description, COLUMNS.category, COLUMNS.sensitive]


class TermMappingError(AreaSafeError):
    """A term cannot be mapped as asked; the message says why and what to do instead."""


@dataclass(frozen=True)
class MappedTerm:
    """What :func:`map_term` did: the term (normalised), its category, and the incidents re-classified."""

    term: str
    category: str
    incidents: int
    previous: str | None = None


def may_map_terms(viewer: Viewer) -> bool:
    """Whether ``viewer`` may map raw terms to categories (the permission table's ``map_terms``)."""
    return viewer.may(MAP_TERMS)


def _require_mapper(viewer: Viewer) -> None:
    if not may_map_terms(viewer):
        raise AccessDenied(
            f"only {' and '.join(MAPPER_ROLES)} accounts may map category terms; {viewer.label} may not. "
            "Ask an analyst to map it."
        )


def mapped_terms(store: Store) -> dict[str, str]:
    """Every mapped term (normalised) -> its category code: the latest mapping of each term."""
    mappings = store.read_table("term_mappings")
    if not len(mappings):
        return {}
    latest = mappings.sort_values(COLUMNS.mapped_at, kind="stable").drop_duplicates(COLUMNS.term, keep="last")
    return dict(zip(latest[COLUMNS.term], latest[COLUMNS.category], strict=True))


def store_taxonomy(store: Store, taxonomy: Taxonomy | None = None) -> Taxonomy:
    """``taxonomy`` (default: the project's) with the terms mapped in ``store``: what an ingest uses."""
    return (taxonomy or load_taxonomy()).with_terms(mapped_terms(store))


def unmapped_terms(store: Store) -> pd.DataFrame:
    """The stored raw terms the taxonomy could not place, most frequent first.

    Columns ``term`` (normalised: spellings that differ only in case or punctuation are one term),
    ``raw_category`` (its most frequent spelling) and ``incidents``. Those incidents are sensitive until
    the term is mapped (:func:`map_term`).
    """
    rows = store.read_incidents(IncidentQuery(categories=[OTHER], columns=[COLUMNS.raw_category]))
    raw = rows[COLUMNS.raw_category].astype(object).where(rows[COLUMNS.raw_category].notna(), "")
    frame = pd.DataFrame({COLUMNS.term: raw.map(normalise_term), COLUMNS.raw_category: raw})
    spelling = frame.groupby([COLUMNS.term, COLUMNS.raw_category]).size().rename("n").reset_index()
    spelling = spelling.sort_values([COLUMNS.term, "n"], ascending=[True, False], kind="stable").drop_duplicates(
        COLUMNS.term
    )
    counts = frame.groupby(COLUMNS.term).size()
    out = spelling.drop(columns="n").assign(incidents=lambda f: f[COLUMNS.term].map(counts).astype("int64"))
    out[COLUMNS.raw_category] = out[COLUMNS.raw_category].replace("", "(no category)")
    return out.sort_values([COLUMNS.incidents, COLUMNS.term], ascending=[False, True], ignore_index=True)[
        [COLUMNS.term, COLUMNS.raw_category, COLUMNS.incidents]
    ]


def mappable_categories(taxonomy: Taxonomy | None = None, *, term: str | None = None) -> list[str]:
    """Category codes a term may be mapped to: every code except the fallback ``other``, and only
    sensitive ones when ``term``'s wording names a sensitive offence."""
    taxonomy = taxonomy or load_taxonomy()
    codes = [code for code in taxonomy.categories if code != OTHER]
    if term is not None and sensitive_wording(term) is not None:
        codes = [code for code in codes if taxonomy.categories[code].sensitive]
    return codes


def map_term(
    store: Store,
    viewer: Viewer,
    term: str,
    category: str,
    *,
    taxonomy: Taxonomy | None = None,
    now: dt.datetime | None = None,
) -> MappedTerm:
    """Map raw ``term`` to taxonomy ``category`` and re-classify the stored incidents that carry it.

    Parameters
    ----------
    store
        Where the mapping is kept and the incidents are re-classified (one transaction, with the audit entry).
    viewer
        Who maps it: an analyst or admin (:data:`MAPPER_ROLES`).
    term
        The raw category as delivered; case, accents and punctuation are ignored.
    category
        A taxonomy code other than ``other``; a sensitive one when the term's wording names a
        sensitive offence.

    Returns
    -------
    MappedTerm
        The term, the category, the number of stored incidents changed, and the previous mapping.
    """
    _require_mapper(viewer)
    base = taxonomy or load_taxonomy()
    key = _check_mapping(base, term, category)
    previous = mapped_terms(store).get(key)
    mapped = base.with_terms({**mapped_terms(store), key: category})
    # The rows with this term are under 'other' (unmapped) or under the term's previous mapping.
    rows = store.read_incidents(IncidentQuery(categories=sorted({OTHER, previous or OTHER}), columns=_READ_COLUMNS))
    rows = rows[rows[COLUMNS.raw_category].astype(object).map(normalise_term).eq(key).to_numpy(dtype=bool)]
    changes = _classified(rows, mapped)
    at = pd.Timestamp(now or dt.datetime.now(dt.UTC))

    def then(changed: int) -> dict[str, pd.DataFrame]:
        mapping = pd.DataFrame(
            {
                COLUMNS.term: [key],
                COLUMNS.raw_term: [str(term)],
                COLUMNS.category: [category],
                COLUMNS.mapped_at: [at],
                COLUMNS.mapped_by: [viewer.username],
                COLUMNS.incidents: [changed],
            }
        )
        detail = {"category": category, "previous": previous, "incidents": changed}
        entry = audit.entry("map_term", viewer=viewer, target=f"term:{key}", detail=detail, now=at)
        return {"term_mappings": mapping, "audit_log": entry}

    changed = store.reclassify_incidents(changes, then=then)
    return MappedTerm(key, category, changed, previous)


def reclassify_stored(store: Store, viewer: Viewer, *, taxonomy: Taxonomy | None = None) -> int:
    """Bring stored incidents up to the current rules; return the number of rows changed.

    Incidents under ``other`` are placed again (the taxonomy file or a mapping may place their term
    now) and every incident whose raw category or description names a sensitive offence becomes
    sensitive. Nothing else changes, and no row becomes less sensitive than it is: a category set
    by a source's mapping file stays, and so does a flag set for a reason this cannot see.
    """
    _require_mapper(viewer)
    mapped = store_taxonomy(store, taxonomy)
    rows = store.read_incidents(IncidentQuery(columns=_READ_COLUMNS))
    changes = _classified(rows, mapped)
    unplaced = rows[COLUMNS.category].eq(OTHER).to_numpy(dtype=bool)
    changes[COLUMNS.category] = np.where(unplaced, changes[COLUMNS.category], rows[COLUMNS.category].astype(object))
    changes[COLUMNS.sensitive] = (
        changes[COLUMNS.sensitive].to_numpy(dtype=bool) | rows[COLUMNS.sensitive].to_numpy(dtype=bool) & ~unplaced
    )
    differs = changes[COLUMNS.category].ne(rows[COLUMNS.category].astype(object).to_numpy()).to_numpy() | (
        changes[COLUMNS.sensitive].to_numpy(dtype=bool) != rows[COLUMNS.sensitive].to_numpy(dtype=bool)
    )
    changes = changes[differs]

    def then(changed: int) -> dict[str, pd.DataFrame]:
        return {"audit_log": audit.entry("map_term", viewer=viewer, target="reclassify", detail={"incidents": changed})}

    return store.reclassify_incidents(changes, then=then)


def _check_mapping(taxonomy: Taxonomy, term: str, category: str) -> str:
    """The normalised term, after checking that it may be mapped to ``category``."""
    key = normalise_term(term)
    if not key:
        raise TermMappingError(f"term {term!r} has no letters or digits; give the raw category as it was delivered")
    if category == OTHER:
        raise TermMappingError(
            f"{OTHER!r} is where unplaced terms wait; map {term!r} to a category such as 'other_crime' or 'non_crime'"
        )
    if category not in taxonomy.categories:
        raise TermMappingError(
            f"category must be one of the taxonomy codes ({', '.join(mappable_categories(taxonomy))}); got {category!r}"
        )
    offence = sensitive_wording(term)
    if offence is not None and not taxonomy.categories[category].sensitive:
        sensitive = ", ".join(mappable_categories(taxonomy, term=term))
        raise TermMappingError(
            f"{term!r} names a sensitive offence ({offence.words!r}), so it cannot go to {category!r}, which is not "
            f"sensitive; map it to a sensitive category ({sensitive}), e.g. {offence.category!r}"
        )
    return key


def _classified(rows: pd.DataFrame, taxonomy: Taxonomy) -> pd.DataFrame:
    """``incident_id``, ``category`` and ``sensitive`` of ``rows`` as an ingest would set them now."""
    category, sensitive, _ = taxonomy.map_series(rows[COLUMNS.raw_category].reset_index(drop=True))
    described = sensitive_wording_mask(rows[COLUMNS.description].reset_index(drop=True))
    return pd.DataFrame(
        {
            COLUMNS.incident_id: rows[COLUMNS.incident_id].astype(object).to_numpy(),
            COLUMNS.category: category.to_numpy(dtype=object),
            COLUMNS.sensitive: sensitive.to_numpy(dtype=bool) | described,
        }
    )


def unmapped_notice(unmapped: pd.DataFrame, *, mapper: bool = True) -> str:
    """What the list of :func:`unmapped_terms` means and who may act on it, as a sentence for a page.

    ``mapper``: whether the reader may map terms (:func:`may_map_terms`); only they are shown the command
    that maps one, the others whom to ask."""
    roles = " and ".join(MAPPER_ROLES)
    act = f"{roles} accounts".capitalize() + (
        f" map {{them}} here or with `{MAP_COMMAND}`." if mapper else " map {them}: ask one of them."
    )
    if not len(unmapped):
        return "Every stored category term is mapped. " + act.format(them="new ones")
    incidents, n = int(unmapped[COLUMNS.incidents].sum()), len(unmapped)
    return (
        f"{incidents:,} incidents under {n:,} raw category {'term' if n == 1 else 'terms'} that the taxonomy "
        "cannot place are treated as sensitive (exact points and descriptions withheld below analyst) until "
        f"the term is mapped. {act.format(them='them')}"
    )
