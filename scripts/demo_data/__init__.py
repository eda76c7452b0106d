"""Generate the seeded AreaSafe demo data set in ``data/demo/`` from the real data in ``../shared``.

Place in the data flow: this package runs *before* the pipelines, once, by a developer. It reads real public
files from ``../shared/data/real`` (SAPS precinct boundaries, Census-2022 populations, Khayelitsha sub-districts
and roads, schools, SAPS crime-category mixes), simulates what no public source offers (point incidents, a
community survey, assets, interventions) and writes plain source files into ``data/demo/``. ``areasafe demo``
later ingests those files through the same readers, validation and spatial placement as any upload, so the demo
also exercises the rejection paths (the dirty rows planted here). Nothing in ``pipelines/`` or ``dashboard/``
imports this package, and a fresh machine needs only the committed output, not ``../shared``.

What is simulated is data, in ``spec.yaml`` (read by ``spec``); the modules hold the code, one concern each:
``areas`` (real inputs, precincts, Safe Neighbourhoods, schools), ``timing`` (day and hour profiles),
``incidents`` (municipal records and the planted hotspot), ``survey`` (the CSO's Kobo export), ``registers``
(assets and interventions), ``files`` (CSV and GeoJSON text), ``provenance`` (planted.json, PROVENANCE.md) and
``generate`` (the recipe and the command line).

The output is reproducible: one fixed seed, a fixed 24-month simulation window, stable sort orders and no reads
of the clock, so running it twice gives byte-identical files (``tests/system/test_demo_data.py``).

Usage::

    python scripts/make_demo_data.py [--shared ../shared/data/real] [--out data/demo] [--spec PATH]
"""

from .generate import FILES, generate, main
from .spec import DEFAULT_SPEC, Spec, load_spec

__all__ = ["DEFAULT_SPEC", "FILES", "Spec", "generate", "load_spec", "main"]
