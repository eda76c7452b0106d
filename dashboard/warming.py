"""Warming the caches at server start: the public's first map page is ready before the first visit.

Place in the data flow: show. :func:`start_warming` (called by ``areasafe serve``, :mod:`dashboard.launch`)
runs :func:`warm` in a background thread once per server process; :func:`warmed` says when it is over
(``/api/ready``, :mod:`dashboard.readiness`). :func:`warm` reads through the same cached loaders and map
cache the pages use, with the sidebar's default filters, so the first visit finds every entry filled.
"""

from __future__ import annotations

import logging
import threading
from functools import partial

import pandas as pd

from dashboard import loaders, map_frame, maps, sidebar
from pipelines.privacy import PUBLIC, Viewer
from pipelines.schemas import COLUMNS

_LOG = logging.getLogger(__name__)


def warm() -> None:
    """Fill the caches a visitor's first map page reads, for the sidebar's default filters, as the public and
    as the stand-ins of the row-seeing roles (:func:`dashboard.loaders.audience`): what :func:`start_warming`
    runs at start."""
    # The pages' heavier imports, paid here and not by the first visitor.
    import plotly.express  # noqa: F401
    from streamlit.runtime import Runtime

    from pipelines import mapview, periods

    every = loaders.areas()
    months, _ = loaders.filter_choices()
    source = loaders.population_source("neighbourhood")
    code, period = sidebar.default_neighbourhood(every), sidebar.default_period(months)
    population = every.set_index(COLUMNS.code)[COLUMNS.population].get(code) if code else None
    filters = loaders.Filters(code, None if pd.isna(population) else float(population), period, None, None, False)
    span, until = (periods.month_span(*period), str(period[1])) if period else (12, None)

    # The public's first map built and rendered as the page would (same inputs, same cache entry), so the
    # first visitor's run neither builds nor renders it. The component is registered as a script run would.
    if Runtime.exists():
        Runtime.instance().component_registry.register_component(map_frame.COMPONENT)
    for who in (PUBLIC, *(loaders.audience(Viewer("warm", role)) for role in ("planner", "act_member"))):
        assets, interventions = loaders.table("assets", who), loaders.table("interventions", who)
        hot = loaders.hotspots(code, months=span, until=until, who=who) if code is not None else None
        counts = loaders.counts(filters.query(), who=who) if who.suppressed else None
        incidents = loaders.incidents(filters.query(), who=who)
        allowed = mapview.allowed_layers(who)
        choices = dict(
            layers=tuple(layer for layer in mapview.DEFAULT_LAYERS if layer in allowed),
            metric="count",
            area_kind="neighbourhood",
            online=False,
        )
        maps.drawn_map(
            maps.explorer_inputs(filters, who, **choices),
            partial(
                maps.explorer_map, filters, who, **choices, areas=every, incidents=incidents, counts=counts, hot=hot,
                assets=assets, interventions=interventions, population_source=source,
            ),
            key=maps.EXPLORER_MAP,
            returned_objects=maps.EXPLORER_RETURNS,
            who=who,
        )  # fmt: skip


def _warm_when_running() -> None:
    from streamlit.runtime import Runtime

    for _ in range(600):  # the caches belong to the runtime: wait for the server to create it
        if Runtime.exists():
            break
        threading.Event().wait(0.1)
    else:
        return  # no server (an AppTest, a script): nobody to warm the caches for
    try:
        warm()
    except Exception:  # a store that cannot be read now is reported by the page that reads it
        _LOG.exception("warming the dashboard caches failed")


def start_warming() -> threading.Thread:
    """Start :func:`warm` in a background thread, once per process: ``areasafe serve``
    (:func:`dashboard.launch.main`) calls it before the server starts."""
    global _WARMING
    with _WARM_LOCK:
        if _WARMING is None:
            _WARMING = threading.Thread(target=_warm_when_running, name="areasafe-warm", daemon=True)
            _WARMING.start()
        return _WARMING


def warmed() -> bool:
    """Whether the start-up work is over: :func:`start_warming` was never called, or its :func:`warm` has
    finished (or failed). What ``/api/ready`` (:mod:`dashboard.readiness`) answers."""
    with _WARM_LOCK:
        return _WARMING is None or not _WARMING.is_alive()


_WARM_LOCK = threading.Lock()
_WARMING: threading.Thread | None = None
