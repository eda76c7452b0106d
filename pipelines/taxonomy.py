"""The canonical incident taxonomy: raw terms from every source mapped to one set of categories.

Place in the data flow: used by ``normalise`` to turn each row's ``raw_category`` into ``category``
and ``sensitive``. The taxonomy itself lives in ``data/taxonomy.yaml`` (versioned, editable by
municipal staff); this module only loads and matches it.

Matching is tolerant: case, accents, punctuation and spacing are ignored, and a term within a small
edit distance of a known term (``illegal shebean`` for ``illegal shebeen``) still matches. A term
that matches nothing maps to ``other`` and is reported, never rejected.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from pipelines.errors import AreaSafeError
from pipelines.settings import TAXONOMY_PATH

OTHER = "other"
_FUZZY_CUTOFF = 0.86


class TaxonomyError(AreaSafeError):
    """The taxonomy file is malformed."""


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    group: str
    sensitive: bool
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    """How one raw term was mapped."""

    category: str
    sensitive: bool
    how: str  # "exact", "fuzzy" or "unknown"


def normalise_term(term: object) -> str:
    """Lower-case, strip accents and punctuation, collapse whitespace."""
    if term is None or (isinstance(term, float) and term != term):
        return ""
    text = unicodedata.normalize("NFKD", str(term)).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", " ", text.lower())
    return " ".join(text.split())


class Taxonomy:
    """A loaded taxonomy; build it with :func:`load_taxonomy`."""

    def __init__(self, categories: list[Category], *, version: object) -> None:
        self.version = version
        self.categories = {c.code: c for c in categories}
        if OTHER not in self.categories:
            raise TaxonomyError(f"the taxonomy must define a category with code {OTHER!r}")
        self._lookup: dict[str, str] = {}
        # Codes and labels match too, but an explicit term wins over them ("Other" in DataSF means
        # other_crime, not the unclassified fallback). Two categories listing one term is an error.
        for category in categories:
            for term in (category.code, category.label):
                self._lookup.setdefault(normalise_term(term), category.code)
        owners: dict[str, str] = {}
        for category in categories:
            for term in category.terms:
                key = normalise_term(term)
                owner = owners.setdefault(key, category.code)
                if key and owner != category.code:
                    raise TaxonomyError(
                        f"term {term!r} is listed under both {owner!r} and {category.code!r}; keep it in one category"
                    )
                self._lookup[key] = category.code
        self._keys = list(self._lookup)

    @property
    def sensitive_codes(self) -> frozenset[str]:
        return frozenset(code for code, c in self.categories.items() if c.sensitive)

    def match(self, raw: object) -> Match:
        """Map one raw term."""
        key = normalise_term(raw)
        if key in self._lookup:
            code = self._lookup[key]
            return Match(code, self.categories[code].sensitive, "exact")
        close = difflib.get_close_matches(key, self._keys, n=1, cutoff=_FUZZY_CUTOFF) if key else []
        if close:
            code = self._lookup[close[0]]
            return Match(code, self.categories[code].sensitive, "fuzzy")
        return Match(OTHER, False, "unknown")

    def map_series(self, raw: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
        """Map a column of raw terms; returns ``(category, sensitive, unknown)`` aligned to ``raw``.

        Each distinct value is matched once, so this is cheap on millions of rows.
        """
        codes, uniques = pd.factorize(raw.astype("object").where(raw.notna(), ""), sort=False)
        matches = [self.match(v) for v in uniques]
        category = np.array([m.category for m in matches] or [OTHER], dtype=object)
        sensitive = np.array([m.sensitive for m in matches] or [False], dtype=bool)
        unknown = np.array([m.how == "unknown" for m in matches] or [False], dtype=bool)
        return (
            pd.Series(category.take(codes), index=raw.index, dtype=object),
            pd.Series(sensitive.take(codes), index=raw.index, dtype=bool),
            pd.Series(unknown.take(codes), index=raw.index, dtype=bool),
        )


@cache
def _load_cached(path: str, mtime: float) -> Taxonomy:
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TaxonomyError(f"cannot read taxonomy {path} (it must be UTF-8 YAML): {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("categories"), list):
        raise TaxonomyError(f"{path} must be a mapping with a 'categories' list")
    categories = []
    for i, entry in enumerate(doc["categories"]):
        try:
            categories.append(
                Category(
                    code=str(entry["code"]),
                    label=str(entry.get("label", entry["code"])),
                    group=str(entry.get("group", "other")),
                    sensitive=bool(entry.get("sensitive", False)),
                    terms=tuple(str(t) for t in entry.get("terms") or ()),
                )
            )
        except (KeyError, TypeError) as exc:
            raise TaxonomyError(f"{path}: category #{i + 1} needs at least a 'code' ({exc})") from exc
    return Taxonomy(categories, version=doc.get("version"))


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load (and cache until the file changes) the taxonomy at ``path`` or ``data/taxonomy.yaml``."""
    path = Path(path or TAXONOMY_PATH)
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise TaxonomyError(f"taxonomy file {path} not found") from exc
    return _load_cached(str(path), mtime)
