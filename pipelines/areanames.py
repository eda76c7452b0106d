"""Which stored area a name in a file means: codes, names, other names (aliases) and the closest names.

Place in the data flow: between a reader that names areas (SAPS station statistics, a column of station
or ward names) and the store. :class:`AreaMatcher` holds the stored areas of one kind and answers, for a
name as delivered, which area it is and how it was found:

1. its code or name, ignoring case, accents and punctuation (``Philippi_East`` is ``Philippi East``);
2. another name of the area: station renames, merges and spellings from ``data/area_aliases.yaml`` and
   from the store's ``area_aliases`` table (added with ``areasafe areas alias``; the store's win);
3. the same letters ignoring spaces (``Kwa Mashu E`` is ``Kwamashu E``), when only one area has them.

A name that matches none of these is never guessed by :meth:`AreaMatcher.match` (station statistics):
:meth:`AreaMatcher.closest` gives the stored names nearest to it (difflib), for the message that asks the
user to fix the name or add an alias. Incident rows that name their area (``--area-col``) go through
:meth:`AreaMatcher.place`, which also takes the closest name when it is clearly the one meant (see
:data:`CLOSE_RATIO`), shown to the user in the batch notes, and says when a value is an area of the
other kind.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import pandas as pd
import yaml

from pipelines import schemas
from pipelines.errors import AreaSafeError
from pipelines.schemas import COLUMNS
from pipelines.settings import AREA_ALIASES_PATH
from pipelines.store.base import Store
from pipelines.taxonomy import normalise_term

#: A closest name is used when it is this similar (difflib ratio) to the value, or, when one of the two
#: starts with the other ("Harare Sect" and "Harare"), this similar: short suffixes such as "SAPS", "Sect"
#: or "Ext" are what area names in exports usually add. A tie between two stored names is no match.
CLOSE_RATIO, PREFIX_RATIO = 0.85, 0.6
#: ... and when no other stored name comes within this of it.
CLOSE_MARGIN = 0.1
#: How to add an alias from the command line (shown where a name matches nothing).
ALIAS_COMMAND = 'areasafe areas alias "NAME IN THE FILE" "STORED NAME" --kind {kind}'
#: How a name was matched, in words (for the batch notes).
HOW = {
    "alias": "through a known other name",
    "spacing": "ignoring spaces",
    "province": "with its province added",
}


class AliasError(AreaSafeError):
    """An alias cannot be added as asked; the message says why."""


def name_key(value: object) -> str:
    """A name reduced for matching: lower case, no accents, punctuation or spaces."""
    return normalise_term(value).replace(" ", "")


@dataclass(frozen=True)
class Alias:
    """Another name of an area: ``name`` means the area called (or coded) ``area``."""

    kind: str
    name: str
    area: str
    change: str
    note: str | None = None

    @property
    def both_ways(self) -> bool:
        """A renamed or respelt station is the same station under either name; a merged one is not."""
        return self.change != "merged"


@dataclass(frozen=True)
class Match:
    """Which area a name means (``code`` is ``None`` when none), and how it was found."""

    code: str | None
    how: str | None = None  # "code", "name", "alias", "spacing", "province"
    via: Alias | None = None


@cache
def _shipped(path: str, mtime: float) -> tuple[Alias, ...]:
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    aliases = []
    for kind, entries in (doc.get("aliases") or {}).items():
        for entry in entries or []:
            aliases.append(
                Alias(
                    kind,
                    str(entry[COLUMNS.name]),
                    str(entry[COLUMNS.area]),
                    str(entry[COLUMNS.change]),
                    entry.get(COLUMNS.note),
                )
            )
    return tuple(aliases)


def shipped_aliases(kind: str, path: str | Path | None = None) -> list[Alias]:
    """The aliases of ``kind`` in ``data/area_aliases.yaml`` (or ``path``)."""
    path = Path(path or AREA_ALIASES_PATH)
    if not path.exists():
        return []
    return [a for a in _shipped(str(path), path.stat().st_mtime) if a.kind == kind]


def stored_aliases(store: Store, kind: str) -> list[Alias]:
    """The aliases of ``kind`` added to ``store``: the latest row of each alias."""
    rows = store.read_table("area_aliases", where={COLUMNS.kind: kind})
    if not len(rows):
        return []
    latest = rows.sort_values(COLUMNS.added_at, kind="stable").drop_duplicates(COLUMNS.alias_key, keep="last")
    return [
        Alias(kind, str(r.alias), str(r.area), str(r.change), None if pd.isna(r.note) else str(r.note))
        for r in latest.itertuples(index=False)
    ]


@dataclass(frozen=True)
class AreaMatch:
    """Where an incident row that names its area is placed (:meth:`AreaMatcher.place`).

    ``how`` is how the name was found (``code``, ``name``, ``alias``, ``spacing``), ``"closest"`` (the
    closest stored name, to show the user) or ``"none"``; then ``closest`` holds up to three stored names
    nearest to it and ``other_kind`` the other area kind when the value is one of its codes or names.
    """

    code: str | None
    name: str | None
    how: str
    closest: tuple[str, ...] = ()
    other_kind: str | None = None


def aliases(store: Store, kind: str) -> list[Alias]:
    """Every alias of ``kind`` the matching uses: the shipped ones, then the store's (which win)."""
    return [*shipped_aliases(kind), *stored_aliases(store, kind)]


class AreaMatcher:
    """The stored areas of one kind, to match names against (see the module docstring).

    Parameters
    ----------
    areas
        Frame with ``code`` and ``name`` (``Store.read_areas(kind)``).
    aliases
        Other names of these areas (:func:`aliases`), later entries winning over earlier ones.
    """

    def __init__(
        self,
        areas: pd.DataFrame,
        aliases: list[Alias] | tuple[Alias, ...] = (),
        *,
        kind: str | None = None,
        other_kinds: dict[str, str] | None = None,
    ) -> None:
        self.kind = kind
        self.other_kinds = other_kinds or {}  # name_key of another kind's code or name -> that kind
        self._placed: dict[object, AreaMatch] = {}
        names = [
            n if pd.notna(n) and str(n).strip() else c
            for c, n in zip(areas[COLUMNS.code], areas[COLUMNS.name], strict=True)
        ]
        self.names = dict(zip(areas[COLUMNS.code].astype(str), map(str, names), strict=True))
        self._exact: dict[str, str] = {}
        for code, name in self.names.items():
            self._exact.setdefault(normalise_term(name), code)
        for code in self.names:  # a code wins over another area's name
            self._exact[normalise_term(code)] = code
        by_key: dict[str, set[str]] = {}
        for code, name in self.names.items():
            for text in (code, name):
                by_key.setdefault(name_key(text), set()).add(code)
        self._spaced = {k: next(iter(codes)) for k, codes in by_key.items() if len(codes) == 1}
        # Renamed and respelt stations: every name of one station is one group (Grahamstown, Makhanda);
        # a merged station points one way, at the group of the station that took it over.
        self._group: dict[str, set[str]] = {}
        self._change: dict[str, Alias] = {}
        self._merged: dict[str, Alias] = {}
        for alias in aliases:
            if not alias.both_ways:
                self._merged[name_key(alias.name)] = alias
                continue
            names = {alias.name, alias.area} | self._group.get(name_key(alias.name), set())
            names |= self._group.get(name_key(alias.area), set())
            for name in names:
                self._group[name_key(name)] = names
                self._change.setdefault(name_key(name), alias)
        self._choices = {normalise_term(name): name for name in self.names.values()}

    @classmethod
    def from_store(cls, store: Store, kind: str) -> AreaMatcher:
        """The areas of ``kind`` in ``store`` with every alias the matching uses."""
        return cls.for_kind(store.read_areas(), kind, aliases(store, kind))

    @classmethod
    def for_kind(cls, areas: pd.DataFrame, kind: str, aliases: list[Alias] | tuple[Alias, ...] = ()) -> AreaMatcher:
        """The areas of ``kind`` among ``areas`` (every kind, with a ``kind`` column); the others are kept
        to say when a name belongs to another kind."""
        if kind not in schemas.AREA_KINDS:
            raise ValueError(f"area kind must be one of {', '.join(schemas.AREA_KINDS)}; got {kind!r}")
        own = areas[areas[COLUMNS.kind] == kind].sort_values(COLUMNS.code, kind="stable")
        others = {
            name_key(value): row_kind
            for row_kind, code, name in zip(areas[COLUMNS.kind], areas[COLUMNS.code], areas[COLUMNS.name], strict=True)
            if row_kind != kind
            for value in (code, name)
            if pd.notna(value)
        }
        return cls(own, aliases, kind=kind, other_kinds=others)

    @property
    def empty(self) -> bool:
        return not self.names

    def _direct(self, value: object) -> str | None:
        return self._exact.get(normalise_term(value))

    def match(self, value: object) -> Match:
        """Which area ``value`` means, and how it was found."""
        text = normalise_term(value)
        if not text:
            return Match(None)
        code = self._exact.get(text)
        if code is not None:
            return Match(code, "code" if normalise_term(code) == text else "name")
        found = self._through_alias(value)
        if found is not None:
            return found
        code = self._spaced.get(name_key(value))
        if code is not None:
            return Match(code, "spacing")
        return Match(None)

    def _stored(self, name: str) -> str | None:
        return self._direct(name) or self._spaced.get(name_key(name))

    def _through_alias(self, value: object) -> Match | None:
        """The area ``value`` names under another of its names (a rename, a spelling, or a merge)."""
        own = name_key(value)
        for name in sorted(self._group.get(own, ()), key=str):
            code = self._stored(name) if name_key(name) != own else None
            if code is not None:
                alias = self._change[own]
                return Match(code, "alias", Alias(alias.kind, str(value), self.names[code], alias.change, alias.note))
        merged = self._merged.get(own)
        if merged is not None:
            for name in sorted(self._group.get(name_key(merged.area), {merged.area}), key=str):
                code = self._stored(name)
                if code is not None:
                    return Match(code, "alias", replace(merged, area=self.names[code]))
        return None

    def closest(self, value: object, n: int = 3) -> list[str]:
        """Up to ``n`` stored names nearest to ``value``, nearest first (none when nothing is close)."""
        text = normalise_term(value)
        found = difflib.get_close_matches(text, list(self._choices), n=n, cutoff=0.6)
        if len(found) < n:  # spacing differences weigh less without the spaces
            keyed = {name_key(k): k for k in self._choices}
            extra = difflib.get_close_matches(name_key(value), list(keyed), n=n, cutoff=0.6)
            found += [keyed[k] for k in extra if keyed[k] not in found]
        return [self._choices[k] for k in found[:n]]

    def place(self, value: object) -> AreaMatch:
        """Where an incident row naming ``value`` goes: :meth:`match`, else the closest stored name when it
        is clearly the one meant (:data:`CLOSE_RATIO`, no rival within :data:`CLOSE_MARGIN`); with no
        match, the three closest names to suggest and the other kind the value belongs to, if any."""
        if value not in self._placed:
            self._placed[value] = self._place(value)
        return self._placed[value]

    def _place(self, value: object) -> AreaMatch:
        found = self.match(value)
        if found.code is not None:
            return AreaMatch(found.code, self.names[found.code], found.how or "name")
        key = name_key(value)
        ranked = self._ranked(key) if key else []
        if ranked:
            (best, score), others = ranked[0], ranked[1:]
            # Another name nearly as close ("Nyanga E": Nyanga or Nyanga East?) makes it a guess: the row
            # is rejected with the names to choose from.
            rival = any(other >= score - CLOSE_MARGIN for _, other in others)
            if not rival and (score >= CLOSE_RATIO or (_prefixed(key, best) and score >= PREFIX_RATIO)):
                code = self._by_key[best]
                return AreaMatch(code, self.names[code], "closest")
        closest = tuple(self.names[self._by_key[k]] for k, _ in ranked[:3])
        return AreaMatch(None, None, "none", closest, self.other_kinds.get(key))

    @property
    def _by_key(self) -> dict[str, str]:
        """name_key of each stored name -> its code (the first code of a name two areas share)."""
        if not hasattr(self, "_keys"):
            self._keys: dict[str, str] = {}
            for code, name in sorted(self.names.items()):
                self._keys.setdefault(name_key(name), code)
        return self._keys

    def _ranked(self, key: str) -> list[tuple[str, float]]:
        """The (at most three) stored name keys most similar to ``key``, most similar first."""
        matcher = difflib.SequenceMatcher()
        matcher.set_seq2(key)
        best: list[tuple[float, str]] = []
        for candidate in self._by_key:
            matcher.set_seq1(candidate)
            floor = best[-1][0] if len(best) == 3 else 0.0
            if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
                continue
            score = matcher.ratio()
            if len(best) < 3 or score > floor:
                best = sorted([*best, (score, candidate)], key=lambda pair: (-pair[0], pair[1]))[:3]
        return [(candidate, score) for score, candidate in best]

    def unknown_message(self, value: object, *, kind: str, what: str = "Station") -> str:
        """The rejection message for a name that matches no area: the closest names and what to do."""
        if not self.names:
            return (
                f"{what} {str(value)!r} matches no stored {kind}: no {kind} boundaries are loaded yet. "
                f"Load them first (areasafe ingest boundaries FILE --kind {kind}), then this file again."
            )
        closest = self.closest(value)
        hint = (
            f"The closest stored names are {', '.join(repr(c) for c in closest)}. If it is one of them under "
            f"another name, add that name ({ALIAS_COMMAND.format(kind=kind)}) and load the file again"
            if closest
            else "No stored name is close. Fix the name in the file, or load the boundary that holds it"
        )
        return f"{what} {str(value)!r} matches no stored {kind}. {hint}."


def add_alias(
    store: Store,
    kind: str,
    name: str,
    area: str,
    *,
    change: str = "renamed",
    note: str | None = None,
    user: str | None = None,
    now: dt.datetime | None = None,
) -> Alias:
    """Record that ``name`` means the stored area ``area`` (its name or code) from now on.

    The area must be stored; ``name`` must not be another stored area's code or name, even spaced
    differently (an alias cannot move a station's counts to a different station that is loaded under
    that name).
    """
    if kind not in schemas.AREA_KINDS:
        raise AliasError(f"--kind must be one of {', '.join(schemas.AREA_KINDS)}; got {kind!r}")
    if change not in schemas.ALIAS_CHANGES:
        raise AliasError(f"--change must be one of {', '.join(schemas.ALIAS_CHANGES)}; got {change!r}")
    if not name_key(name):
        raise AliasError("the other name is empty; give the name as the file spells it")
    matcher = AreaMatcher(store.read_areas(kind))
    target = matcher.match(area)
    if target.code is None or target.how == "spacing":
        closest = matcher.closest(area)
        raise AliasError(
            f"{area!r} is not a stored {kind}"
            + (f"; the closest stored names are {', '.join(map(repr, closest))}" if closest else "")
            + ". Give the stored area's name or code."
        )
    own = matcher.match(name)
    # A name that matches a stored area by itself, spacing aside, is that area's: pointed at another one
    # it would move the rows of everyone whose files spell that area so.
    if own.code is not None and own.how in ("code", "name", "spacing") and own.code != target.code:
        raise AliasError(
            f"{name!r} is already the stored {kind} {matcher.names[own.code]!r} (code {own.code}); an alias "
            "cannot point it at another area."
        )
    row = pd.DataFrame(
        {
            COLUMNS.kind: [kind],
            COLUMNS.alias: [name],
            COLUMNS.alias_key: [name_key(name)],
            COLUMNS.area: [matcher.names[target.code]],
            COLUMNS.change: [change],
            COLUMNS.note: [note],
            COLUMNS.added_at: [pd.Timestamp(now or dt.datetime.now(dt.UTC))],
            COLUMNS.added_by: [user],
        }
    )
    store.save(area_aliases=row)
    return Alias(kind, name, matcher.names[target.code], change, note)


def _prefixed(a: str, b: str) -> bool:
    """Whether one of two name keys starts with the other (the shorter at least 4 characters)."""
    return min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a))
