"""How the demo files are written: CSV and GeoJSON text, byte for byte the same on every run.

Place in the data flow: the last step of every file (``generate`` writes the text this module makes).
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from .geometry import round_geometry


def csv_text(frame: pd.DataFrame) -> str:
    """Serialise a frame as UTF-8 CSV text with ``\\n`` line ends and minimal quoting."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def geojson_text(features: list[tuple[dict, shapely.Geometry]]) -> str:
    """A GeoJSON FeatureCollection (RFC 7946, WGS84), one feature per line for readable diffs.

    Parameters
    ----------
    features : list of (dict, shapely.Geometry)
        Properties (in output order) and geometry of each feature.

    Returns
    -------
    str
        The file text.
    """
    lines = []
    for properties, geom in features:
        feature = {"type": "Feature", "properties": properties, "geometry": mapping(round_geometry(geom))}
        lines.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"


def plain(value: object) -> object:
    """numpy scalars to plain Python for JSON."""
    return value.item() if isinstance(value, np.generic) else value
