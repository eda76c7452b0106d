"""Click handling: which feature a click on the map chose, read back from the popup text it returned.

Place in the data flow: show, and back. Every clickable feature's popup ends in a short reference
(``asset:A1``, ``incident:42``, and for areas, hexagons and hot spots a number such as ``hexagon:12``
when the statistics are hidden); streamlit-folium returns the clicked popup's text, :func:`parse_ref`
reads the reference, and :meth:`pipelines.mapview.MapResult.clicked` turns a short number back into the
feature it stands for. :func:`pipelines.views.feature_record` then finds the record shown beside the map.
"""

from __future__ import annotations

import re

import pandas as pd

from pipelines.schemas import COLUMNS

_REF = re.compile(r"\b(area|asset|intervention|incident|cell|hotspot|hexagon):([A-Za-z0-9_.\-]+(?::[A-Za-z0-9_.\-]+)?)")
#: The kinds whose popup carries a short number, resolved through the map's ``refs``.
NUMBERED = ("hotspot", "hexagon", "area")


def parse_ref(text: str | None) -> tuple[str, str] | None:
    """``(kind, id)`` from a clicked popup's text (``asset:A1``, ``area:neighbourhood:HARARE``...): its last
    reference, the one the map put at the end of every popup. Text before it came from a file (a description
    saying "near area:1" or "cell:zz") and must not choose the feature."""
    found = _REF.findall(text or "")
    return found[-1] if found else None


def clicked_point(returned: dict | None) -> tuple[float, float] | None:
    """``(lon, lat)`` rounded to 6 decimals (about 0.1 m) from st_folium's ``last_clicked``, or ``None``."""
    clicked = (returned or {}).get("last_clicked")
    if not clicked or clicked.get(COLUMNS.lat) is None or clicked.get("lng") is None:
        return None
    return round(float(clicked["lng"]), 6), round(float(clicked[COLUMNS.lat]), 6)


def reference(refs: dict[str, tuple[str, str]], kind: str, number: int, cell: str, *, statistics: bool) -> str:
    """A hexagon's or hot spot's popup reference: the H3 cell for analysts (``statistics``), a short number
    for everyone else, recorded in ``refs`` so that a click reads back as ``("cell", <H3 id>)``."""
    if statistics:
        return f"cell:{cell}"
    refs[f"{kind}:{number}"] = ("cell", cell)
    return f"{kind}:{number}"


def refer_areas(summary: pd.DataFrame, area_kind: str, refs: dict[str, tuple[str, str]]) -> None:
    """Give each area a short reference for its popup (``summary["ref"]``; no area code on screen), recorded
    in ``refs`` as ``("area", "<kind>:<code>")``."""
    summary["ref"] = [f"area:{number}" for number in range(1, len(summary) + 1)]
    refs.update(
        {ref: ("area", f"{area_kind}:{code}") for ref, code in zip(summary["ref"], summary[COLUMNS.code], strict=True)}
    )
