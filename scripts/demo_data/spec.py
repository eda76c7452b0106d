"""The demo's specification, read from ``spec.yaml`` into frozen, typed records.

Place in the data flow: the first step of ``generate``. Every number, name, weight and text the simulation draws
from (the seed, the window, the counts and dirty rows, the category mixes and profiles, the named assets and
interventions) is data in ``spec.yaml``; the modules beside this one hold only the code that turns it into files.
A key the records do not know, or a missing one, is refused, so a typo in the YAML cannot pass silently.
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pandas as pd
import yaml

#: The specification the committed ``data/demo`` files were made from.
DEFAULT_SPEC = Path(__file__).resolve().with_name("spec.yaml")


@dataclasses.dataclass(frozen=True)
class RealInput:
    """A real input file in the shared data folder, with the sha256 its PROVENANCE.md records."""

    folder: str
    file: str
    sha256: str


@dataclasses.dataclass(frozen=True)
class Anchor:
    """A named place that attracts incidents (a transport interchange)."""

    name: str
    place: str  # how a description refers to it
    lat: float
    lon: float
    weight: float
    note: str


@dataclasses.dataclass(frozen=True)
class Hotspot:
    """The planted emerging hotspot: where, how big, when and what."""

    lat: float
    lon: float
    radius_m: float
    months: tuple[str, ...]
    mean_per_month: tuple[int, ...]
    crime_types: dict[str, float]
    min_distance_from_interchanges_m: float


@dataclasses.dataclass(frozen=True)
class Profiles:
    """Relative intensity by hour (0..23) and weekday (Monday..Sunday), the season and the payday spike."""

    hours: dict[str, tuple[float, ...]]
    week: dict[str, tuple[float, ...]]
    season_amplitude: float
    season_peak_doy: int
    payday_factor: float


@dataclasses.dataclass(frozen=True)
class Taverns:
    """The SIMULATED taverns/shebeens incidents cluster around (not written out)."""

    count: int
    min_per_precinct: int
    min_distance_from_hotspot_m: float
    sigma_m: float


@dataclasses.dataclass(frozen=True)
class Municipal:
    """The municipal incident records: how many, where, when, what words, and the dirty rows."""

    rows: int
    dirty: dict[str, int]
    empty_description_share: float
    interchange_sigma_m: float
    day_types: tuple[str, ...]
    commute_types: tuple[str, ...]
    component_shares: dict[str, tuple[float, ...]]
    default_component_shares: tuple[float, ...]
    columns: tuple[str, ...]
    items: tuple[str, ...]
    places: dict[str, tuple[str, ...]]
    templates: dict[str, tuple[str, ...]]
    default_templates: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Misspelling:
    """A planted misspelled survey type: how many rows carry it and what the reporter meant."""

    rows: int
    means: str


@dataclasses.dataclass(frozen=True)
class PiiText:
    """A survey description carrying personal information, and the type of the report it is planted in."""

    type: str
    text: str


@dataclasses.dataclass(frozen=True)
class Survey:
    """The CSO's community survey in KoboCAT export layout: counts, wording, personal data and dirty rows."""

    rows: int
    hotspot_rows: int
    hotspot_radius_m: float
    precincts: dict[str, float]
    component_shares: tuple[float, ...]
    tavern_wording_share: float
    reporter_share: float
    dirty: dict[str, int]
    duplicates: int
    future_dates: tuple[str, ...]
    bad_dates: tuple[str, ...]
    first_id: int
    types: dict[str, float]
    tavern_types: tuple[str, ...]
    hotspot_types: tuple[str, ...]
    misspelled: dict[str, Misspelling]
    unmatched: dict[str, int]
    templates: dict[str, tuple[str, ...]]
    default_template: str
    pii: dict[str, tuple[PiiText, ...]]
    sa_id_stem: str
    first_names: tuple[str, ...]
    surnames: tuple[str, ...]
    enumerators: dict[str, float]
    columns: tuple[str, ...]

    @property
    def location_columns(self) -> list[str]:
        """The geopoint column and its four split columns, in export order."""
        return [c for c in self.columns if c.startswith("incident/") and "location" in c]


@dataclasses.dataclass(frozen=True)
class Asset:
    """A SIMULATED ABCD asset, placed ``east_m``/``north_m`` metres from a named anchor."""

    name: str
    abcd_category: str
    type: str
    custodian: str
    anchor: str  # an interchange name or a sub-district's source NAME
    east_m: float
    north_m: float
    sharing_consent: str = ""  # only for people's assets: who the person agreed may see it


@dataclasses.dataclass(frozen=True)
class Intervention:
    """A SIMULATED intervention; ``geometry`` is ``{road, within, max_m}``, ``{point, east_m, north_m}`` or
    ``{square, east_m, north_m, half_side_m}`` (``point``/``square`` name the anchor)."""

    name: str
    type: str
    lead: str
    partners: str
    status: str
    budget_zar: int
    start: str
    end: str
    geometry: dict[str, str | float]
    funding_sphere: str = "municipal"


@dataclasses.dataclass(frozen=True)
class Spec:
    """The whole demo specification (``spec.yaml``)."""

    seed: int
    window: dict[str, str]
    municipality: str
    real_inputs: dict[str, RealInput]
    crimestats_year: str
    precinct_ids: tuple[str, ...]
    station_abbreviations: dict[str, str]
    dirty_school_emis: tuple[str, ...]
    interchanges: tuple[Anchor, ...]
    hotspot: Hotspot
    profiles: Profiles
    taverns: Taverns
    municipal: Municipal
    survey: Survey
    assets: tuple[Asset, ...]
    interventions: tuple[Intervention, ...]

    @property
    def window_start(self) -> pd.Timestamp:
        """First day of the simulation window."""
        return pd.Timestamp(self.window["start"])

    @property
    def window_end(self) -> pd.Timestamp:
        """Last day of the simulation window (inclusive)."""
        return pd.Timestamp(self.window["end"])


def load_spec(path: Path = DEFAULT_SPEC) -> Spec:
    """Read a demo specification.

    Parameters
    ----------
    path : pathlib.Path
        A YAML file laid out as ``spec.yaml``; defaults to the one beside this module.

    Returns
    -------
    Spec
        The specification, lists read as tuples and nested records as their dataclasses.

    Raises
    ------
    ValueError
        When a key is unknown or a required key is missing; the message names its place in the file.
    """
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return _convert(Spec, data, str(path))


def _convert(kind: object, value: object, where: str) -> object:
    """``value`` as the type ``kind`` (a dataclass, ``tuple[X, ...]``, ``dict[str, X]`` or a plain type)."""
    if dataclasses.is_dataclass(kind):
        return _record(kind, value, where)
    origin = typing.get_origin(kind)
    if origin is tuple:
        return tuple(_convert(typing.get_args(kind)[0], v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        item = typing.get_args(kind)[1]
        return {k: _convert(item, v, f"{where}.{k}") for k, v in value.items()}
    return value


def _record(kind: type, value: object, where: str) -> object:
    """A dataclass built from a mapping, refusing unknown and missing keys."""
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a mapping for {kind.__name__}, got {type(value).__name__}")
    hints = typing.get_type_hints(kind)
    fields = {f.name: f for f in dataclasses.fields(kind)}
    unknown = sorted(set(value) - set(fields))
    required = {n for n, f in fields.items() if f.default is dataclasses.MISSING}
    missing = sorted(required - set(value))
    if unknown or missing:
        raise ValueError(
            f"{where}: {kind.__name__} has unknown keys {unknown} and missing keys {missing}; "
            f"the keys are {sorted(fields)}"
        )
    return kind(**{k: _convert(hints[k], v, f"{where}.{k}") for k, v in value.items()})
