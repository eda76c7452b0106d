"""Column mapping: which input column plays which role (latitude, date, category, ...).

Place in the data flow: between reading a raw frame and validating it. :func:`detect_format`
recognises KoboToolbox, ODK Central, data.police.uk (street crime and stop-and-search) and plain exports; :func:`detect_mapping`
guesses each role from the column names; overrides from the CLI, the dashboard or a YAML mapping
file (:func:`load_mapping_file`) win over the guesses. The result, a :class:`ColumnMapping`, is what
the validator consumes and what the upload page shows the user to correct.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import pandas as pd
import yaml

from pipelines.dates import DateFormat, parse_dates
from pipelines.errors import MappingError, MissingLocationError, UnusableFileError
from pipelines.schemas import COLUMNS
from pipelines.sources.columns import (
    coordinate_pair,
    first,
    is_repeat_table,
    key,
    leaf,
    longest_text,
    most_unique,
    odk_leaf,
)

FORMATS = ("auto", "kobo", "odk", "police-uk", "plain")
COLUMN_ROLES = ("lat", "lon", "geopoint", "x", "y", "date", "fallback_date", "category", "id", "description", "area")

_POLICE_UK = {"crime id", "month", "crime type", "longitude", "latitude", "lsoa code"}
_POLICE_UK_STOP_SEARCH = {"type", "date", "part of a policing operation", "latitude", "longitude", "object of search"}
#: The searched person, in a police.uk stop-and-search row: never stored.
_STOP_SEARCH_PERSON = {"gender", "age range", "self-defined ethnicity", "officer-defined ethnicity"}
_KOBO_MARKERS = {"_uuid", "_submission_time", "meta/instanceid", "_id", "_index", "_validation_status"}
_ODK_MARKERS = {"key", "submissiondate", "meta-instanceid", "submitterid", "submittername", "reviewstate"}
#: The columns ODK Central adds to every export (``lib/data/briefcase.js``): ``SubmissionDate`` first,
#: then the form's fields, then these. None is a form answer, so none is guessed for a role except
#: ``SubmissionDate`` (the fallback date: when the form reached the server, never the incident's date)
#: and ``KEY`` (the id); SubmitterID, SubmitterName and DeviceID are personal and dropped.
ODK_CENTRAL_COLUMNS = (
    "SubmissionDate",
    "KEY",
    "SubmitterID",
    "SubmitterName",
    "AttachmentsPresent",
    "AttachmentsExpected",
    "Status",
    "ReviewState",
    "DeviceID",
    "Edits",
    "FormVersion",
)
_ODK_CENTRAL = {c.lower() for c in ODK_CENTRAL_COLUMNS}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Personal columns are dropped before anything is stored (POPIA). A column is recognised by what its
# name means, word by word (``victimName``, ``group/victim_name``, ``meta-deviceID`` and ``VICTIM NAME``
# are all the words "victim name"), not by a list of exact names; see :func:`is_personal`.
#: Words (or words run together) that name something identifying a person.
_PERSONAL_ATTRIBUTES = _words(
    "name surname firstname lastname fullname forename givenname middlename maidenname nickname username "
    "phone telephone tel telno phoneno phonenr phonenumber cell cellphone cellno cellnr cellnumber mobile mobileno "
    "mobilenr mobilenumber msisdn whatsapp whatsappno whatsappnumber contact contactno contactnr contactnumber "
    "contactdetails contactperson email emailaddress idnumber idno idnr identitynumber identityno identity "
    "passport passportno passportnumber dob birth birthdate birthday dateofbirth address homeaddress "
    "ethnicity ethnic race "  # special personal information (POPIA s26), whoever it describes
    "streetaddress postaladdress residentialaddress physicaladdress ipaddress macaddress imei imsi iccid "
    "deviceid subscriberid simserial simid userid signature"
)
#: People whose column, on its own or with a word such as "details", holds who they are.
_PERSON_ROLES = _words(
    "complainant victim survivor reporter enumerator interviewer respondent witness informant caller "
    "submitter claimant suspect perpetrator offender"
)
#: Words that leave a role column personal: ``victim``, ``victim_details``, ``respondent_id``.
_NEUTRAL = _words("details detail info information particulars id identity identifier personal data of the")
#: Things, not people: an attribute next to one of these describes the thing (``station_name``,
#: ``incident_address``, ``school_phone``, ``file_name``, ``contact_crime``, ``name_of_school``).
_THINGS = _words(
    "lsoa msoa institution station place area ward suburb school org organisation organization company asset "
    "facility site location precinct district neighbourhood neighborhood town city village township province "
    "municipality mun munic metro project intervention form file layer group category type crime offence offense "
    "business shop venue landmark incident event scene police hospital clinic office department programme program team h3 grid "
    "hex hexagon hotspot sheet table column field variable host domain brand"
)
_STREETS = _words("street road avenue lane drive")  # a street's name is a place; its address is a home
_SKIP = frozenset({"of", "the"})
_VOCABULARY = _PERSONAL_ATTRIBUTES | _PERSON_ROLES | _THINGS | _STREETS | _NEUTRAL


def name_words(column: str) -> list[str]:
    """The words of a column name's last Kobo group segment, lower case, plural ``s`` removed.

    camelCase, snake_case, kebab-case (ODK's group separator), spaces and dots all split words; a word
    run together from known ones is split too (``victimname`` -> ``victim``, ``name``).
    """
    leaf_name = str(column).strip().split("/")[-1]
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", leaf_name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    raw = re.findall(r"[a-z]+|[0-9]+", spaced.lower())
    words: list[str] = []
    for i, word in enumerate(raw):
        if word.isdigit():
            if i and raw[i - 1] == "h":  # h3
                words[-1] = "h" + word
            continue
        words += _split_compound(_singular(word))
    return words


def _singular(word: str) -> str:
    for ending in ("es", "s"):
        if word.endswith(ending) and word not in _VOCABULARY and word[: -len(ending)] in _VOCABULARY:
            return word[: -len(ending)]
    return word


def _split_compound(word: str) -> list[str]:
    if word in _VOCABULARY:
        return [word]
    for head in sorted(_VOCABULARY, key=len, reverse=True):
        rest = word[len(head) :]
        if len(head) > 2 and word.startswith(head) and len(rest) > 2:
            return [head, *_split_compound(rest)]
    for tail in ("name", "phone", "email", "address", "number", "contact"):
        head = word[: -len(tail)]
        if word.endswith(tail) and len(head) > 1:
            return [head, tail]
    return [word]


def _attribute_at(words: list[str], i: int) -> int:
    """How many words from ``i`` on spell a personal attribute (``date of birth``, ``e mail``: 3, 2), or 0."""
    for size in (3, 2, 1):
        if i + size <= len(words) and "".join(words[i : i + size]) in _PERSONAL_ATTRIBUTES:
            return size
    return 0


def is_personal(column: str) -> bool:
    """Whether a column holds personal information by its name (see ``docs/privacy.md``).

    A name is personal when one of its words is an identifying attribute (name, surname, phone, cell,
    mobile, msisdn, whatsapp, contact, email, ID number, dob, birth date, address, username, device or
    subscriber id, IMEI ...) that is not qualified by a thing (``station_name``, ``contact_crime``), when
    it names a person's role (complainant, victim, reporter, enumerator, interviewer, respondent,
    witness, informant ...) with nothing but words like "details" or "id", or when it ends in "by"
    (``_submitted_by``). ``victim_age`` and ``number_of_victims`` describe the incident and are kept.
    """
    words = name_words(column)
    for i in range(len(words)):
        size = _attribute_at(words, i)
        if not size:
            continue
        before = words[i - 1] if i else None
        after = next((w for w in words[i + size :] if w not in _SKIP), None)
        attribute = "".join(words[i : i + size])
        if before in _THINGS or (before in _STREETS and attribute == "name") or after in _THINGS:
            continue
        return True
    if any(w in _PERSON_ROLES for w in words) and all(w in _PERSON_ROLES or w in _NEUTRAL for w in words):
        return True
    return len(words) >= 2 and words[-1] == "by"


_CANDIDATES: dict[str, tuple[str, ...]] = {
    "lat": ("latitude", "lat", "gis_latitude", "y_lat", "decimal_latitude", "gps_latitude", "location_latitude"),
    "lon": (
        "longitude",
        "lon",
        "lng",
        "long",
        "gis_longitude",
        "x_lon",
        "decimal_longitude",
        "gps_longitude",
        "location_longitude",
    ),
    "x": ("x", "easting", "x_coord", "xcoord", "location_x", "point_x", "east"),
    "y": ("y", "northing", "y_coord", "ycoord", "location_y", "point_y", "north"),
    "date": (
        "occurred_at",
        "incident_datetime",
        "incident_date",
        "date_time",
        "datetime",
        "date_of_incident",
        "incident_date_time",
        "occurred",
        "occurrence_date",
        "offence_date",
        "event_date",
        "date",
        "when",
        "month",
        "today",
        "reported_date",
        "report_datetime",
        "start",
    ),
    "fallback_date": ("_submission_time", "submissiondate", "submission_date", "end"),
    "category": (
        "category",
        "crime_type",
        "incident_type",
        "incident_category",
        "offence",
        "offence_type",
        "crime_category",
        "crime",
        "type_of_incident",
        "type",
        "issue",
        "incident",
        "what_happened",
    ),
    "id": (
        "incident_id",
        "case_number",
        "case_no",
        "cas_number",
        "crime_id",
        "row_id",
        "record_id",
        "reference",
        "ref",
        "id",
        "_uuid",
        "instanceid",
        "key",
        "_id",
        "objectid",
        "fid",
    ),
    "description": (
        "description",
        "incident_description",
        "details",
        "narrative",
        "comments",
        "comment",
        "notes",
        "what_happened_description",
        "summary",
        "location",
        "remarks",
    ),
}


@dataclass(frozen=True)
class ColumnMapping:
    """The role of each input column (``None`` when the file has no such column)."""

    format: str = "plain"
    lat: str | None = None
    lon: str | None = None
    geopoint: str | None = None  # "lat lon [alt acc]" in one column, or "[lat, lon]", or "(lat, lon)"
    x: str | None = None
    y: str | None = None
    crs: str | None = None  # CRS of x/y
    date: str | None = None
    fallback_date: str | None = None  # e.g. the Kobo submission time when the incident date is empty
    category: str | None = None
    id: str | None = None
    description: str | None = None
    #: The area (ward, suburb, police station) each row names, by code or name: where a row without a
    #: usable point is placed. Only ever given (``--area-col``), never guessed: a guessed column could
    #: put rows in the wrong area.
    area: str | None = None
    personal: tuple[str, ...] = ()
    category_overrides: dict[str, str] = field(default_factory=dict)

    def has_location(self) -> bool:
        """Whether rows can be placed: coordinates, or an area column."""
        return self.has_points() or bool(self.area)

    def has_points(self) -> bool:
        """Whether coordinate columns are mapped."""
        return bool((self.lat and self.lon) or self.geopoint or (self.x and self.y))

    def roles(self) -> dict[str, str | None]:
        return {role: getattr(self, role) for role in COLUMN_ROLES}

    def structural_columns(self) -> set[str]:
        """Columns whose values are coordinates, dates or identifiers (not free text)."""
        return {c for role, c in self.roles().items() if c and role != "description"}

    def to_dict(self) -> dict:
        out = asdict(self)
        out["personal"] = list(self.personal)
        return out


def detect_format(columns: list[str]) -> str:
    """Which preset fits the columns: ``police-uk``, ``kobo``, ``odk`` or ``plain``."""
    lowered = {c.strip().lower() for c in columns}
    if lowered >= _POLICE_UK or lowered >= _POLICE_UK_STOP_SEARCH:
        return "police-uk"
    if len(lowered & _ODK_CENTRAL) >= 3:  # before Kobo: Central names split select-multiple columns "q1/a"
        return "odk"
    if (
        lowered & _KOBO_MARKERS
        or any("/" in c for c in lowered)
        or any(re.fullmatch(r"(.*/)?_[a-z0-9_]+_latitude", c) for c in lowered)
    ):
        return "kobo"
    if lowered & _ODK_MARKERS or any(c.endswith("-latitude") for c in lowered):
        return "odk"
    return "plain"


def _geopoint_column(columns: list[str], frame: pd.DataFrame | None) -> str | None:
    """A column holding "lat lon alt acc" (Kobo geopoint), "[lat, lon]" or "(lat, lon)"."""
    named = first(
        columns,
        (
            "_geolocation",
            "geolocation",
            "gps",
            "geopoint",
            "location",
            "point",
            "coordinates",
            "coords",
            "position",
            "gps_location",
            "incident_location",
        ),
    )
    candidates = [named] if named else []
    candidates += [c for c in columns if c not in candidates]
    if frame is None:
        return named
    pattern = r"^\s*[\[(]?\s*-?\d{1,3}(\.\d+)?[\s,;]+-?\d{1,3}(\.\d+)?([\s,]+-?[\d.]+)*\s*[\])]?\s*$"
    for c in candidates:
        values = frame[c].astype(str).str.strip()
        values = values[values.ne("")].head(200)
        if len(values) and values.str.match(pattern).mean() > 0.8:
            return c
    return None


def detect_mapping(columns: list[str], frame: pd.DataFrame | None = None, *, format: str = "auto") -> ColumnMapping:
    """Guess the column mapping for ``columns`` (``frame`` lets the guess look at values).

    A recipe of named steps: pick the format (:func:`detect_format` unless given), set the personal
    columns aside (:func:`is_personal`; police.uk has none), then let the format's preset
    (``_police_uk``, ``_odk``, ``_kobo``, ``_plain``) name each role from what is left. Last, a
    description column is guessed from the content when no name matched (:func:`with_text_column`).
    """
    return with_text_column(_detect_by_name(columns, frame, format=format), columns, frame)


def with_text_column(mapping: ColumnMapping, columns: list[str], frame: pd.DataFrame | None) -> ColumnMapping:
    """The mapping with a description column guessed from the content when no name matched: the
    column whose values read as the longest free text (:func:`~pipelines.sources.columns.longest_text`),
    among those that play no other role and are not personal."""
    if mapping.description or frame is None:
        return mapping
    taken = mapping.structural_columns() - {mapping.category} | set(mapping.personal)
    candidates = [c for c in columns if not c.startswith("__") and c not in taken]
    return replace(mapping, description=longest_text(frame, candidates))


def _detect_by_name(columns: list[str], frame: pd.DataFrame | None = None, *, format: str = "auto") -> ColumnMapping:
    columns = [c for c in columns if not c.startswith("__")]
    fmt = detect_format(columns) if format == "auto" else format
    if fmt not in FORMATS:
        raise MappingError(f"format must be one of {', '.join(FORMATS)}; got {format!r}")
    personal = _personal_columns(columns, fmt)
    usable = [c for c in columns if c not in personal]
    if fmt == "police-uk":
        return _police_uk(columns, personal)
    preset = {"odk": _odk, "kobo": _kobo}.get(fmt, _plain)
    return replace(preset(usable, frame), format=fmt, personal=personal)


def _personal_columns(columns: list[str], fmt: str) -> tuple[str, ...]:
    """The columns dropped before anything is stored (police.uk publishes no personal columns)."""
    return () if fmt == "police-uk" else tuple(c for c in columns if is_personal(c))


def _police_uk(columns: list[str], personal: tuple[str, ...]) -> ColumnMapping:
    """data.police.uk street-level crime, or stop and search: fixed column names."""
    get = {c.strip().lower(): c for c in columns}
    if "crime id" not in get and set(get) >= _POLICE_UK_STOP_SEARCH:
        return _police_uk_stop_search(columns, get)
    return ColumnMapping(
        format="police-uk",
        lat=get["latitude"],
        lon=get["longitude"],
        date=get[COLUMNS.month],
        category=get["crime type"],
        id=get["crime id"],
        description=get.get("location"),
        personal=personal,
    )


def _police_uk_stop_search(columns: list[str], get: dict[str, str]) -> ColumnMapping:
    """A data.police.uk stop-and-search file: one row per search, no record id (people searched together
    are identical rows), the time with its offset in ``Date``, what was searched for as the category.
    The searched person's gender, age range and ethnicity are dropped whole."""
    return ColumnMapping(
        format="police-uk",
        lat=get["latitude"],
        lon=get["longitude"],
        date=get["date"],
        category=get["object of search"],
        personal=tuple(c for c in columns if c.strip().lower() in _STOP_SEARCH_PERSON or is_personal(c)),
    )


#: Kobo's own metadata: when the form was opened, closed, filled in or sent, not when the incident happened.
_KOBO_TIMESTAMPS = {"start", "end", "today", "_submission_time", "start_time", "end_time", "starttime", "endtime"}
_DATE_WORDS = {"date", "when", "datetime", "day", "time"}


def _kobo_date(usable: list[str], frame: pd.DataFrame | None) -> str | None:
    """The form's own date question, before Kobo's metadata (``today``, then ``start``).

    A question named as a date usually is (``incident_date``, ``date``); otherwise one whose name has
    a word such as "date" or "when" and whose answers read as dates (``date_of_event``,
    ``when_did_it_happen``).
    """
    metadata = {c for c in usable if leaf(c) in _KOBO_TIMESTAMPS}
    named = first(usable, _CANDIDATES["date"], exclude=metadata)
    if named:
        return named
    asked = [c for c in usable if c not in metadata and _DATE_WORDS & set(name_words(c))]
    for column in asked:
        if frame is None or _mostly_dates(frame[column]):
            return column
    return first(usable, ("today", "start"))


def _mostly_dates(values: pd.Series) -> bool:
    """Whether most of the first 200 answers with a digit in them (not blanks, not "n/a") read as dates."""
    text = values.astype("string[pyarrow]").fillna("")
    text = text[text.str.contains(r"[0-9]", regex=True)].head(200)
    if text.empty:
        return False
    parsed, _ = parse_dates(text, date_format=DateFormat("dmy"))
    return bool(parsed.notna().mean() > 0.8)


def _odk(usable: list[str], frame: pd.DataFrame | None) -> ColumnMapping:
    """ODK Central / Briefcase CSV: groups joined with ``-``, geopoints split into ``-Latitude``/``-Longitude``
    (with ``-Altitude``/``-Accuracy``), Central's own columns (:data:`ODK_CENTRAL_COLUMNS`) at the end."""
    answers = [c for c in usable if c.strip().lower() not in _ODK_CENTRAL]
    lat, lon = _odk_geopoint(answers)
    return ColumnMapping(
        lat=lat or first(answers, _CANDIDATES["lat"], by=odk_leaf),
        lon=lon or first(answers, _CANDIDATES["lon"], by=odk_leaf),
        geopoint=None if (lat and lon) else _geopoint_column(answers, frame),
        date=first(answers, _CANDIDATES["date"], by=odk_leaf),
        fallback_date=first(usable, _CANDIDATES["fallback_date"], by=odk_leaf),
        category=first(answers, _CANDIDATES["category"], by=odk_leaf),
        id=first(usable, ("key", "instanceid", "meta_instanceid"), by=odk_leaf),
        description=first(answers, _CANDIDATES["description"], by=odk_leaf),
    )


def _odk_geopoint(columns: list[str]) -> tuple[str | None, str | None]:
    """The first geopoint ODK split into ``<name>-Latitude`` and ``<name>-Longitude`` (a pair of one name)."""
    lat, lon = coordinate_pair(columns, r".*-latitude", r".*-longitude", by=str.lower)
    if lat and lon and lat[: -len("latitude")].lower() != lon[: -len("longitude")].lower():
        prefixes = {c[: -len("-longitude")].lower(): c for c in columns if c.lower().endswith("-longitude")}
        lon = prefixes.get(lat[: -len("-latitude")].lower(), lon)
    return lat, lon


def _kobo(usable: list[str], frame: pd.DataFrame | None) -> ColumnMapping:
    """KoboToolbox CSV/XLSX: groups joined with ``/``, metadata columns start with ``_``."""
    lat, lon, geopoint = _kobo_location(usable, frame)
    geo_sources = {m.group(1) for c in usable if (m := re.fullmatch(r"_([a-z0-9_]+)_latitude", leaf(c)))}
    return ColumnMapping(
        lat=lat,
        lon=lon,
        geopoint=geopoint,
        date=_kobo_date(usable, frame),
        fallback_date=first(usable, ("_submission_time", "end")),
        category=first(usable, _CANDIDATES["category"]),
        id=first(usable, ("_uuid", "instanceid", "_id")),
        description=first(usable, _CANDIDATES["description"], exclude={c for c in usable if leaf(c) in geo_sources}),
    )


def _kobo_location(usable: list[str], frame: pd.DataFrame | None) -> tuple[str | None, str | None, str | None]:
    """Kobo splits a geopoint "gps" into "_gps_latitude"/"_gps_longitude" beside the original; else the
    usual latitude/longitude names; else a geopoint column."""
    lat, lon = coordinate_pair(usable, r"_[a-z0-9_]+_latitude", r"_[a-z0-9_]+_longitude")
    if lat and lon:
        return lat, lon, None
    lat, lon = first(usable, _CANDIDATES["lat"]), first(usable, _CANDIDATES["lon"])
    if lat and lon:
        return lat, lon, None
    return lat, lon, _geopoint_column(usable, frame)


def _plain(usable: list[str], frame: pd.DataFrame | None) -> ColumnMapping:
    """Any other table: each role by its usual names; the id is the most distinct id-like column."""
    lat, lon, x, y, geopoint = _plain_location(usable, frame)
    id_candidates = [c for c in usable if leaf(c) in _CANDIDATES["id"]]
    return ColumnMapping(
        lat=lat,
        lon=lon,
        x=x,
        y=y,
        geopoint=geopoint,
        date=first(usable, _CANDIDATES["date"]),
        category=first(usable, _CANDIDATES["category"]),
        id=most_unique(frame, id_candidates),
        description=first(usable, _CANDIDATES["description"], exclude={geopoint} if geopoint else set()),
    )


def _plain_location(usable: list[str], frame: pd.DataFrame | None) -> tuple[str | None, ...]:
    """latitude/longitude, else projected x/y, else a geopoint column: (lat, lon, x, y, geopoint)."""
    lat, lon = first(usable, _CANDIDATES["lat"]), first(usable, _CANDIDATES["lon"])
    if lat and lon:
        return lat, lon, None, None, None
    x, y = first(usable, _CANDIDATES["x"]), first(usable, _CANDIDATES["y"])
    if x and y:
        return lat, lon, x, y, None
    return lat, lon, None, None, _geopoint_column(usable, frame)


def apply_overrides(mapping: ColumnMapping, columns: list[str], **overrides) -> ColumnMapping:
    """Replace guessed roles with explicit choices, checking that each named column exists.

    ``overrides`` takes role names (``lat``, ``date``, ...), ``crs``, ``personal`` and
    ``category_overrides``; ``None`` values are ignored, and an empty string clears a role.
    """
    valid = {f.name for f in fields(ColumnMapping)}
    changes = {}
    for role, value in overrides.items():
        if value is None:
            continue
        if role not in valid:
            raise MappingError(f"unknown mapping key {role!r}; use one of {', '.join(sorted(valid))}")
        changes[role] = _override_value(role, value, columns)
    if "personal" in changes:
        changes["personal"] = tuple(changes["personal"])
    mapping = replace(mapping, **changes)
    if {"lat", "lon", "x", "y"} & changes.keys() and "geopoint" not in changes and (mapping.lat or mapping.x):
        mapping = replace(mapping, geopoint=None)
    # A column chosen for a role is never dropped as personal.
    chosen = {c for c in mapping.roles().values() if c}
    return replace(mapping, personal=tuple(c for c in mapping.personal if c not in chosen))


def _override_value(role: str, value, columns: list[str]):
    """The value an override sets: for a column role, the column named (or the one column whose
    name matches it but for case, spacing or group path; ``None`` for an empty string)."""
    if role not in COLUMN_ROLES:
        return value
    if value != "" and value not in columns:
        close = [c for c in columns if key(c) == key(value) or leaf(c) == leaf(value)]
        if len(close) != 1:
            raise MappingError(
                f"--{role.replace('_', '-')}-col {value!r} is not a column of this file; "
                f"columns are: {', '.join(columns[:40])}"
            )
        value = close[0]
    return value or None


def load_mapping_file(path: str | Path) -> dict:
    """Read a YAML mapping file into keyword overrides for :func:`apply_overrides`.

    Example::

        format: kobo
        columns:
          lat: incident/_location_latitude
          lon: incident/_location_longitude
          date: incident/incident_date
          category: incident/incident_type
        crs: EPSG:4326
        personal: [reporter/reporter_name]
        categories:
          skollies fighting: gang_violence
    """
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MappingError(f"cannot read mapping file {path} (it must be UTF-8 YAML): {exc}") from exc
    if not isinstance(doc, dict):
        raise MappingError(f"mapping file {path} must be a YAML mapping with 'columns:'")
    unknown = set(doc) - {"format", "columns", "crs", "personal", "categories"}
    if unknown:
        raise MappingError(
            f"mapping file {path}: unknown keys {sorted(unknown)}; use format, columns, crs, personal, categories"
        )
    columns = doc.get("columns") or {}
    for section, expected in (("columns", dict), ("categories", dict), ("personal", list)):
        value = doc.get(section)
        if value is not None and not isinstance(value, expected):
            raise MappingError(
                f"mapping file {path}: '{section}' must be a YAML {'mapping' if expected is dict else 'list'}; "
                f"got {type(value).__name__}"
            )
    bad = {str(k) for k in columns} - set(COLUMN_ROLES)
    if bad:
        raise MappingError(
            f"mapping file {path}: unknown column roles {sorted(bad)}; roles are {', '.join(COLUMN_ROLES)}"
        )
    out: dict = dict(columns)
    if "format" in doc:
        out[COLUMNS.format] = doc["format"]
    if "crs" in doc:
        out["crs"] = str(doc["crs"])
    if "personal" in doc:
        out["personal"] = list(doc["personal"] or [])
    if "categories" in doc:
        out["category_overrides"] = {str(k): str(v) for k, v in (doc["categories"] or {}).items()}
    return out


def require_location(mapping: ColumnMapping, columns: list[str], file_name: str) -> None:
    """Raise :class:`~pipelines.errors.MissingLocationError` when no location columns were found or given."""
    if mapping.has_location():
        return
    raise MissingLocationError(
        f"{file_name}: no location columns found (looked for latitude/longitude, a GPS/geopoint column, or x/y). "
        "Name them with --lat-col and --lon-col (or --mapping), or name the column holding each row's ward, "
        f"suburb or station with --area-col; columns are: {', '.join(columns[:30])}",
        columns=columns,
        mapping=mapping,
    )


def refuse_repeat_table(columns: list[str], frame: pd.DataFrame | None, file_name: str, *, date_given: bool) -> None:
    """Raise :class:`UnusableFileError` for a repeat group's table uploaded on its own.

    ODK Central writes each repeat group to ``<form>-<group>.csv`` (``PARENT_KEY``, ``KEY`` such as
    ``uuid:.../child[1]``); Kobo to a later sheet (``_parent_index``, ``_submission__uuid``). Its rows
    are the repeated answers of each submission, with neither the submission's date nor, usually, its
    place. When each repeat is an incident of its own (a patrol form with one repeat per incident),
    naming its date column (``date_given``) reads it.
    """
    if date_given or not is_repeat_table(columns):
        return
    group = ""
    if frame is not None and len(frame):
        key_column = next((c for c in columns if key(c) == "key"), None)
        found = frame[key_column].astype(str).str.extract(r"/([^/\[]+)\[\d+\]$")[0].dropna() if key_column else None
        if found is not None and len(found):
            group = f" '{found.iloc[0]}'"
    rows = f" ({len(frame):,} rows)" if frame is not None else ""
    raise UnusableFileError(
        f"{file_name} is the table of a repeat group{group}{rows}: one row per repeated answer of a submission, "
        "without the submission's date or place. Upload the submissions table instead: from ODK Central the "
        "whole submissions.csv.zip or the <form>.csv in it (the one with SubmissionDate); from Kobo the first "
        "sheet of the export. If each row here is an incident of its own, name its date column (--date-col)."
    )
