"""The canonical incident taxonomy: raw terms from every source mapped to one set of categories.

Place in the data flow: used by ``normalise`` to turn each row's ``raw_category`` into ``category``
and ``sensitive``. The taxonomy itself lives in ``data/taxonomy.yaml`` (versioned, editable by
municipal staff); this module only loads and matches it.

Matching is tolerant: case, accents, punctuation and spacing are ignored, and a term within a small
edit distance of a known term (``illegal shebean`` for ``illegal shebeen``) still matches. A term
that matches nothing maps to ``other`` and is reported, never rejected.

Sensitivity fails closed. A term that matches nothing is sensitive until someone maps it
(:mod:`pipelines.terms`), and wording that names a sensitive offence (:func:`sensitive_wording`:
rape, sexual assault, domestic violence, child abuse, trafficking, ... in any spelling, order or
inflection, in English, Afrikaans, isiXhosa or isiZulu) makes a row sensitive whatever its category:
``validate`` runs it on the raw category and on the description.
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
from pipelines.schemas import COLUMNS
from pipelines.settings import TAXONOMY_PATH

#: The fallback for terms that match nothing: sensitive until the term is mapped (see the module docstring).
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
    how: str  # "exact", "fuzzy", "wording" (placed by sensitive wording alone) or "unknown"


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
        """Map one raw term.

        A term that matches nothing is ``other`` and sensitive (fail closed). A term whose wording names
        a sensitive offence is sensitive whatever it matched; when it matched nothing, or only fuzzily a
        category that is not sensitive, it goes to the category the wording names.
        """
        key = normalise_term(raw)
        code, how = self._lookup.get(key), "exact"
        if code is None:
            close = difflib.get_close_matches(key, self._keys, n=1, cutoff=_FUZZY_CUTOFF) if key else []
            code, how = (self._lookup[close[0]], "fuzzy") if close else (None, "unknown")
        offence = sensitive_wording(key)
        # a guess (fuzzy) or nothing gives way to the category the wording names
        guessed = code is None or (how == "fuzzy" and not self.categories[code].sensitive)
        if offence is not None and offence.category in self.categories and guessed:
            code, how = offence.category, "wording"
        if code is None:
            return Match(OTHER, True, "unknown")
        return Match(code, self.categories[code].sensitive or offence is not None, how)

    def with_terms(self, terms: dict[str, str]) -> Taxonomy:
        """This taxonomy plus ``terms`` (raw term -> code, as mapped in the store), which win over its own.

        Unknown codes raise :class:`TaxonomyError`. The sensitive-wording rule still applies to them.
        """
        if not terms:
            return self
        unknown = sorted({code for code in terms.values() if code not in self.categories})
        if unknown:
            raise TaxonomyError(
                f"mapped terms name unknown categories {unknown}; codes are {', '.join(self.categories)}"
            )
        extended = Taxonomy.__new__(Taxonomy)
        extended.version = self.version
        extended.categories = self.categories
        extended._lookup = {**self._lookup, **{normalise_term(t): c for t, c in terms.items() if normalise_term(t)}}
        extended._keys = list(extended._lookup)
        return extended

    def map_series(self, raw: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
        """Map a column of raw terms; returns ``(category, sensitive, unknown)`` aligned to ``raw``.

        Each distinct value is matched once, so this is cheap on millions of rows.
        """
        codes, uniques = pd.factorize(raw.astype("object").where(raw.notna(), ""), sort=False)
        matches = [self.match(v) for v in uniques]
        category = np.array([m.category for m in matches] or [OTHER], dtype=object)
        sensitive = np.array([m.sensitive for m in matches] or [True], dtype=bool)
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
                    code=str(entry[COLUMNS.code]),
                    label=str(entry.get("label", entry[COLUMNS.code])),
                    group=str(entry.get("group", "other")),
                    sensitive=bool(entry.get(COLUMNS.sensitive, False)),
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


# --------------------------------------------------------------------------------------------------
# Sensitive wording: does a text name a sensitive offence, however it is spelled?
# --------------------------------------------------------------------------------------------------
# Text is normalised (normalise_term) and split into tokens; a token names an offence when it is one
# of the listed words, contains one of the listed stems, or is one edit from a listed word that is
# long enough not to collide with ordinary words. Words match whole tokens only, so "grape", "drape"
# and "therapist" never read as "rape". Some offences need two words near each other ("domestic" and
# "violence", "child" and "abuse", "human" and "trafficking"), in either order.
_SEXUAL = "sexual_offences"
_POLICE_ACTION = "sexual_offences_police_action"
_DOMESTIC = "domestic_violence"
_CHILD = "child_abuse"
_GBV = "gender_based_violence"

#: Words that name an offence on their own (whole tokens), by the category they belong in.
_WORDS: dict[str, tuple[str, ...]] = {
    _SEXUAL: (
        "rape",
        "rapes",
        "raped",
        "raping",
        "rapeing",
        "rapist",
        "rapists",
        "raep",
        "raip",
        "gangrape",
        "gangraped",
        "sexual",
        "sexually",
        "sex",
        "sexualy",
        "seksuele",
        "seksueel",
        "indecent",
        "indecently",
        "onsedelike",
        "sodomy",
        "incest",
        "incestuous",
        "bloedskande",
        "porn",
        "pornography",
        "pornographic",
        "voyeurism",
        "upskirting",
        "ngokwesondo",
        "ngokocansi",
    ),
    _POLICE_ACTION: ("prostitution", "prostitute", "prostitutes", "brothel", "brothels"),
    _DOMESTIC: ("dv", "ipv", "gesinsgeweld"),
    _CHILD: ("paedophile", "pedophile", "paedophilia", "pedophilia", "csam", "kindermishandeling"),
    _GBV: ("gbv", "gbvf", "femicide", "stalking", "stalked", "stalker", "ukuthwala"),
}
#: Stems that name an offence wherever they occur in a token (agglutinated and inflected forms).
_STEMS: dict[str, tuple[str, ...]] = {
    _SEXUAL: ("molest", "sodomi", "sodomy", "sextort", "verkrag", "verkracht", "dlwengul"),
    _CHILD: ("paedophil", "pedophil", "kindermishandel", "kindermolest"),
    _DOMESTIC: ("gesinsgeweld",),
}
#: Listed words (and stems) that also match one edit away: long and unlike ordinary words.
_FUZZY = frozenset(
    (
        "rapist",
        "rapists",
        "raping",
        "sexual",
        "sexually",
        "molested",
        "molesting",
        "molestation",
        "sodomy",
        "indecent",
        "pornography",
        "prostitution",
        "prostitute",
        "paedophile",
        "pedophile",
        "femicide",
        "verkragting",
        "ukudlwengula",
        "sextortion",
        "kindermishandeling",
        "gesinsgeweld",
        "domestic",
        "violence",
        "trafficking",
        "trafficked",
        "intimate",
        "children",
        "exploitation",
        "assault",
    )
)
#: Ordinary words one edit from a listed one.
_ORDINARY = frozenset(("rapping", "rapped", "rapier", "rapiers", "sensual"))
_HARM = (
    "violence",
    "violent",
    "abuse",
    "abused",
    "abuses",
    "abusing",
    "abuser",
    "abusive",
    "geweld",
    "mishandeling",
    "udlame",
    "ubundlobongela",
)
_HURT = ("assault", "assaults", "assaulted", "beating", "beaten", "beat", "beats", "battered", "battering")
#: Pairs of words that name an offence within :data:`_PAIR_WINDOW` tokens of each other, either order.
_PAIRS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        _DOMESTIC,
        (
            "domestic",
            "family",
            "household",
            "intimate",
            "partner",
            "spousal",
            "spouse",
            "wife",
            "husband",
            "girlfriend",
            "boyfriend",
            "dating",
            "marital",
            "huishoudelike",
            "lwasekhaya",
            "basekhaya",
        ),
        _HARM + _HURT,
    ),
    (_DOMESTIC, ("home", "ekhaya", "sekhaya"), _HARM),
    (
        _CHILD,
        (
            "child",
            "children",
            "childs",
            "minor",
            "minors",
            "kid",
            "kids",
            "baby",
            "babies",
            "infant",
            "toddler",
            "kinders",
            "kind",
        ),
        (*_HARM, *_HURT, "neglect", "neglected", "exploitation", "exploited", "maltreatment", "cruelty"),
    ),
    (_GBV, ("gender", "women", "woman", "girls", "vroue", "vrouens"), _HARM),
    (
        _GBV,
        ("human", "humans", "people", "person", "persons", "women", "girls", "children", "child", "sex", "mense"),
        ("trafficking", "trafficked", "trafficker", "traffickers", "smenghandel"),
    ),
    (_GBV, ("forced", "child", "early"), ("marriage", "marriages")),
    (_POLICE_ACTION, ("sex",), ("work", "worker", "workers")),
)
_PAIR_WINDOW = 3
#: Abbreviations that name an offence only when they are the whole text ("SA" is also South Africa).
_WHOLE_TEXT = {"sa": _SEXUAL}
#: When one text names several offences, the first of these decides the category.
_PRIORITY = (_CHILD, _SEXUAL, _DOMESTIC, _GBV, _POLICE_ACTION)


@dataclass(frozen=True)
class Offence:
    """A sensitive offence named in a text: the category it belongs in and the words that named it."""

    category: str
    words: str


def _one_edit(word: str, form: str) -> bool:
    """Whether ``word`` is one insertion, deletion, substitution or adjacent swap from ``form``.

    Six-letter forms allow no substitution: "rating" is not "raping"."""
    if word == form or word[:1] != form[:1] or abs(len(word) - len(form)) > 1:
        return False
    if len(word) == len(form):
        diff = [i for i, (a, b) in enumerate(zip(word, form, strict=True)) if a != b]
        if len(diff) == 2:
            i, j = diff
            return j == i + 1 and word[i] == form[j] and word[j] == form[i]
        return len(diff) == 1 and len(form) > 6
    short, long_ = (word, form) if len(word) < len(form) else (form, word)
    i = next((k for k, (a, b) in enumerate(zip(short, long_, strict=False)) if a != b), len(short))
    return short[i:] == long_[i + 1 :]


def _lexicon() -> dict[str, set[str]]:
    """Every listed word -> its roles: ``"word:<category>"``, or ``"a:<pair>"``/``"b:<pair>"`` for pair words."""
    roles: dict[str, set[str]] = {}
    for category, words in _WORDS.items():
        for word in words:
            roles.setdefault(word, set()).add(f"word:{category}")
    for n, (_, first, second) in enumerate(_PAIRS):
        for side, words in (("a", first), ("b", second)):
            for word in words:
                roles.setdefault(word, set()).add(f"{side}:{n}")
    return roles


_LEXICON = _lexicon()
_FUZZY_FORMS = tuple(
    sorted(f for f in _FUZZY if f in _LEXICON or any(f.startswith(s) for v in _STEMS.values() for s in v))
)


_WORD = re.compile(r"[a-z0-9]+")
#: Roles of the tokens seen so far (ordinary words map to an empty set); bounded by :data:`_ROLES_MAX`.
_ROLES: dict[str, frozenset[str]] = {}
_ROLES_MAX = 500_000


def _tokens(text: object) -> list[str]:
    """The tokens of ``text`` as :func:`normalise_term` would split it (ASCII text takes a shortcut)."""
    if text is None or (isinstance(text, float) and text != text):
        return []
    text = str(text)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _WORD.findall(text.lower())


def _token_roles(token: str) -> frozenset[str]:
    """What one normalised token can mean (see :func:`_lexicon`); empty for an ordinary word."""
    if len(_ROLES) >= _ROLES_MAX:
        _ROLES.clear()
    _ROLES[token] = roles = frozenset(_roles_of(token))
    return roles


def _roles_of(token: str) -> set[str]:
    roles = set(_LEXICON.get(token, ()))
    for category, stems in _STEMS.items():
        if any(stem in token for stem in stems):
            roles.add(f"word:{category}")
    if not roles and len(token) >= 5 and token not in _ORDINARY:
        for form in _FUZZY_FORMS:
            if _one_edit(token, form):
                roles |= _LEXICON.get(form, set())
                roles |= {f"word:{c}" for c, stems in _STEMS.items() if any(s in form for s in stems)}
    return roles


def sensitive_wording(text: object) -> Offence | None:
    """The sensitive offence ``text`` names (a raw category or a description), or ``None``.

    Case, accents, punctuation, word order, plurals and one-letter slips are ignored: "Rape/sexual
    assault", "ASSAULT (SEXUAL)", "sexualy assaulted", "violence, domestic", "verkragting",
    "ukudlwengula" and "GBV" all name one; "grape theft" and "therapist" do not.
    """
    tokens = _tokens(text)
    if len(tokens) == 1 and tokens[0] in _WHOLE_TEXT:
        return Offence(_WHOLE_TEXT[tokens[0]], tokens[0])
    roles = [_ROLES[t] if t in _ROLES else _token_roles(t) for t in tokens]
    if not any(roles):
        return None
    found: list[Offence] = []
    for i, token_roles in enumerate(roles):
        for role in token_roles:
            kind, _, what = role.partition(":")
            if kind == "word":
                found.append(Offence(what, tokens[i]))
            elif kind == "a":
                pair = int(what)
                for j in range(max(0, i - _PAIR_WINDOW), min(len(tokens), i + _PAIR_WINDOW + 1)):
                    if j != i and f"b:{pair}" in roles[j]:
                        first, last = sorted((i, j))
                        # a pair is more specific than a word ("sex work" is not a sexual offence)
                        found.insert(0, Offence(_PAIRS[pair][0], " ".join(tokens[first : last + 1])))
                        break
    if not found:
        return None
    pairs = [o for o in found if " " in o.words]
    candidates = pairs or found
    return min(candidates, key=lambda o: _PRIORITY.index(o.category))


def sensitive_wording_mask(texts: pd.Series) -> np.ndarray:
    """:func:`sensitive_wording` for a column: True where the text names a sensitive offence.

    Each distinct text is read once (about 6 microseconds each), so repeated descriptions cost nothing.
    """
    codes, uniques = pd.factorize(texts, sort=False)
    named = np.fromiter((sensitive_wording(v) is not None for v in uniques), bool, len(uniques))
    return np.append(named, False)[codes]  # code -1 (missing) takes the appended False
