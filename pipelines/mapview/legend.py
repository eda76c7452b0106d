"""The map's colour classes and its legend: round class bounds, the palette, and the legend as HTML.

Place in the data flow: show. The area and hexagon layers (:mod:`pipelines.mapview.areas`,
:mod:`pipelines.mapview.incidents`) colour their features with these classes, and the pack's map
(:func:`pipelines.downloads.map_figure`) shades its hexagons with them. The legend is returned as data and
drawn beside the map, never inside it: a branca colormap makes streamlit-folium pull d3 from a CDN.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: At most this many colour classes in a legend.
MAX_CLASSES = 5

# Sequential palette (ColorBrewer YlOrRd, 5 classes): readable on a projector and in greyscale.
_SEQUENTIAL = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
_NICE_MANTISSAS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0)


@dataclass(frozen=True)
class LegendSection:
    title: str
    entries: tuple[tuple[str, str], ...]  # (label, CSS colour)
    note: str = ""


def legend_html(legend: Sequence[LegendSection]) -> str:
    """The legend as small, self-contained HTML (drawn beside the map, never inside it)."""
    parts = []
    for section in legend:
        rows = "".join(
            f'<div><span style="display:inline-block;width:14px;height:14px;background:{colour};'
            f'border:1px solid #333;margin-right:6px;vertical-align:middle"></span>{html.escape(label)}</div>'
            for label, colour in section.entries
        )
        note = f'<div style="font-size:0.8em;color:#444">{html.escape(section.note)}</div>' if section.note else ""
        parts.append(f'<div style="margin-bottom:8px"><b>{html.escape(section.title)}</b>{rows}{note}</div>')
    return "".join(parts)


def nice_breaks(values, *, classes: int = MAX_CLASSES, decimals: int = 0, first: float | None = None) -> list[float]:
    """Lower bounds of at most ``classes`` colour classes for ``values``, the first 0: round numbers
    (1, 1.5, 2, 2.5, 3, 4 or 5 times a power of ten) just below the quantiles of the positive values, so a legend
    reads "0–4, 5–9, 10–19, 20–39, 40+" and each class holds some of the data.

    ``decimals`` is the precision the values are shown with (0 for counts: whole-number bounds). ``first``
    forces the second bound (e.g. 5, so a suppressed "<5" falls wholly in the first class).
    """
    shown = np.round(np.asarray(values, dtype=float), decimals)
    positive = shown[np.isfinite(shown) & (shown > 0)]
    if not len(positive):
        return [0.0]
    step = 10.0**-decimals
    candidates = {float(first)} if first else set()
    for q in np.quantile(positive, np.linspace(0, 1, classes + 1)[1:-1]):
        candidates.add(round(_nice(q, step), decimals))
    lows = [0.0]
    for bound in sorted(c for c in candidates if c >= max(step, first or 0)):
        below = (shown >= lows[-1]) & (shown < bound)
        if bound > lows[-1] and (shown >= bound).any() and (below.any() or len(lows) == 1):
            lows.append(bound)
    return lows[:classes]


def _nice(value: float, step: float) -> float:
    """The largest round number (from :data:`_NICE_MANTISSAS`) not above ``value``, never finer than ``step``:
    rounding down keeps data at or above every bound."""
    value = max(float(value), step)
    power = 10.0 ** np.floor(np.log10(value))
    options = [m * p for p in (power / 10, power) for m in _NICE_MANTISSAS]
    options = [o for o in options if o >= step and abs(o / step - round(o / step)) < 1e-9 and o <= value * (1 + 1e-9)]
    return float(max(options, default=step))


def class_of(values, lows: Sequence[float], *, decimals: int = 0) -> np.ndarray:
    """Class index (0 = lowest) of each value as it is shown, against the lower bounds of :func:`nice_breaks`."""
    shown = np.round(np.asarray(values, dtype=float), decimals)
    return (np.searchsorted(np.asarray(lows), np.nan_to_num(shown, nan=0.0), side="right") - 1).clip(0)


def class_labels(lows: Sequence[float], *, decimals: int = 0) -> list[str]:
    """``"0–4"``, ``"5–9"``, ..., ``"40+"``: each class's real range as shown (the top one open)."""
    step = 10.0**-decimals
    fmt = f"{{:,.{decimals}f}}"
    labels = []
    for low, high in zip(lows, [*lows[1:], None], strict=True):
        if high is None:
            labels.append(f"{fmt.format(low)}+" if len(lows) > 1 else fmt.format(low))
        elif round(high - step, decimals) <= round(low, decimals):
            labels.append(fmt.format(low))
        else:
            labels.append(f"{fmt.format(low)}–{fmt.format(high - step)}")
    return labels


def palette(n: int) -> tuple[str, ...]:
    """``n`` colours of the sequential palette, spread from lightest to darkest."""
    return tuple(_SEQUENTIAL[i] for i in np.round(np.linspace(0, len(_SEQUENTIAL) - 1, n)).astype(int))
