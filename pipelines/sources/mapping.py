"""Column mapping: which input column plays which role (latitude, date, category, ...).

Place in the data flow: between reading a raw frame and validating it. :func:`detect_format`
recognises KoboToolbox, ODK Central, data.police.uk and plain exports; :func:`detect_mapping`
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

from pipelines.errors import MappingError, MissingLocationError
from pipelines.ingest.columns import first, key, leaf, longest_text, most_unique, odk_leaf

FORMATS = ("auto", "kobo", "odk", "police-uk", "plain")
ROLES = ("lat", "lon", "geopoint", "x", "y", "date", "fallback_date", "category", "id", "description")

_POLICE_UK = {"crime id", "month", "crime type", "longitude", "latitude", "lsoa code"}
_KOBO_MARKERS = {"_uuid", "_submission_time", "meta/instanceid", "_id", "_index", "_validation_status"}
_ODK_MARKERS = {"key", "submissiondate", "meta-instanceid", "submitterid", "submittername", "reviewstate"}


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
    personal: tuple[str, ...] = ()
    category_overrides: dict[str, str] = field(default_factory=dict)

    def has_location(self) -> bool:
        return bool((self.lat and self.lon) or self.geopoint or (self.x and self.y))

    def roles(self) -> dict[str, str | None]:
        return {role: getattr(self, role) for role in ROLES}

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
    if lowered >= _POLICE_UK:
        return "police-uk"
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
    """Guess the column mapping for ``columns`` (``frame`` lets the guess look at values)."""
    return with_text_column(_detect_by_name(columns, frame, format=format), columns, frame)


def with_text_column(mapping: ColumnMapping, columns: list[str], frame: pd.DataFrame | None) -> ColumnMapping:
    """The mapping with a description column guessed from the content when no name matched: the
    column whose values read as the longest free text (:func:`~pipelines.ingest.columns.longest_text`),
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
    personal = () if fmt == "police-uk" else tuple(c for c in columns if is_personal(c))
    usable = [c for c in columns if c not in personal]

    if fmt == "police-uk":
        get = {c.strip().lower(): c for c in columns}
        return ColumnMapping(
            format=fmt,
            lat=get["latitude"],
            lon=get["longitude"],
            date=get["month"],
            category=get["crime type"],
            id=get["crime id"],
            description=get.get("location"),
            personal=personal,
        )

    if fmt == "odk":
        lat = next((c for c in usable if c.lower().endswith("-latitude")), None)
        lon = next((c for c in usable if c.lower().endswith("-longitude")), None)
        return ColumnMapping(
            format=fmt,
            lat=lat or first(usable, _CANDIDATES["lat"], by=odk_leaf),
            lon=lon or first(usable, _CANDIDATES["lon"], by=odk_leaf),
            geopoint=None if (lat and lon) else _geopoint_column(usable, frame),
            date=first(usable, _CANDIDATES["date"], by=odk_leaf, exclude={"SubmissionDate"}),
            fallback_date=first(usable, _CANDIDATES["fallback_date"], by=odk_leaf),
            category=first(usable, _CANDIDATES["category"], by=odk_leaf),
            id=first(usable, ("key", "instanceid", "meta_instanceid"), by=odk_leaf),
            description=first(usable, _CANDIDATES["description"], by=odk_leaf),
            personal=personal,
        )

    if fmt == "kobo":
        # Kobo splits a geopoint "gps" into "_gps_latitude"/"_gps_longitude" beside the original.
        lat = next((c for c in usable if re.fullmatch(r"_[a-z0-9_]+_latitude", leaf(c))), None)
        lon = next((c for c in usable if re.fullmatch(r"_[a-z0-9_]+_longitude", leaf(c))), None)
        geopoint = None
        if not (lat and lon):
            lat = first(usable, _CANDIDATES["lat"])
            lon = first(usable, _CANDIDATES["lon"])
            if not (lat and lon):
                geopoint = _geopoint_column(usable, frame)
        geo_sources = {m.group(1) for c in usable if (m := re.fullmatch(r"_([a-z0-9_]+)_latitude", leaf(c)))}
        date_exclude = {"_submission_time", "start", "end"}
        date = first(usable, _CANDIDATES["date"][:-1], exclude={c for c in usable if leaf(c) in date_exclude})
        return ColumnMapping(
            format=fmt,
            lat=lat,
            lon=lon,
            geopoint=geopoint,
            date=date or first(usable, ("start",)),
            fallback_date=first(usable, ("_submission_time", "end")),
            category=first(usable, _CANDIDATES["category"]),
            id=first(usable, ("_uuid", "instanceid", "_id")),
            description=first(
                usable, _CANDIDATES["description"], exclude={c for c in usable if leaf(c) in geo_sources}
            ),
            personal=personal,
        )

    lat = first(usable, _CANDIDATES["lat"])
    lon = first(usable, _CANDIDATES["lon"])
    x = y = geopoint = None
    if not (lat and lon):
        x = first(usable, _CANDIDATES["x"])
        y = first(usable, _CANDIDATES["y"])
        if not (x and y):
            x = y = None
            geopoint = _geopoint_column(usable, frame)
    id_candidates = [c for c in usable if leaf(c) in _CANDIDATES["id"]]
    return ColumnMapping(
        format=fmt,
        lat=lat,
        lon=lon,
        x=x,
        y=y,
        geopoint=geopoint,
        date=first(usable, _CANDIDATES["date"]),
        category=first(usable, _CANDIDATES["category"]),
        id=most_unique(frame, id_candidates),
        description=first(usable, _CANDIDATES["description"], exclude={geopoint} if geopoint else set()),
        personal=personal,
    )


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
        if role in ROLES and value != "" and value not in columns:
            close = [c for c in columns if key(c) == key(value) or leaf(c) == leaf(value)]
            if len(close) == 1:
                value = close[0]
            else:
                raise MappingError(
                    f"--{role.replace('_', '-')}-col {value!r} is not a column of this file; "
                    f"columns are: {', '.join(columns[:40])}"
                )
        changes[role] = (value or None) if role in ROLES else value
    if "personal" in changes:
        changes["personal"] = tuple(changes["personal"])
    mapping = replace(mapping, **changes)
    if {"lat", "lon", "x", "y"} & changes.keys() and "geopoint" not in changes and (mapping.lat or mapping.x):
        mapping = replace(mapping, geopoint=None)
    # A column chosen for a role is never dropped as personal.
    chosen = {c for c in mapping.roles().values() if c}
    return replace(mapping, personal=tuple(c for c in mapping.personal if c not in chosen))


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
    bad = {str(k) for k in columns} - set(ROLES)
    if bad:
        raise MappingError(f"mapping file {path}: unknown column roles {sorted(bad)}; roles are {', '.join(ROLES)}")
    out: dict = dict(columns)
    if "format" in doc:
        out["format"] = doc["format"]
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
        f"Name them with --lat-col and --lon-col (or --mapping); columns are: {', '.join(columns[:30])}",
        columns=columns,
        mapping=mapping,
    )
