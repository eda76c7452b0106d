"""The recipe: read the specification and the real inputs, simulate, and write every demo file.

Place in the data flow: the one public entry of the package (``generate``, and ``main`` for the command line).
Three independent random streams are spawned from the specification's seed, in this order: taverns, municipal
incidents, survey; so changing one file's simulation does not reshuffle the others.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pipelines.settings import DEMO_DIR, PROJECT_ROOT

from .areas import check_inputs, read_neighbourhoods, read_precincts, read_roads, read_saps_mix, schools_text, sha256
from .files import csv_text, geojson_text, plain
from .geometry import METRIC_CRS
from .incidents import place_taverns, simulate_municipal
from .provenance import planted_record, provenance_text
from .registers import assets_text, interventions_text
from .spec import DEFAULT_SPEC, Spec, load_spec
from .survey import simulate_survey

DEFAULT_SHARED = PROJECT_ROOT.parent / "shared" / "data" / "real"

#: The files ``generate`` writes, in order; PROVENANCE.md (which lists their sha256) comes last.
FILES = (
    "precincts.geojson",
    "neighbourhoods.geojson",
    "schools.csv",
    "assets_other.csv",
    "incidents_municipal.csv",
    "cso_survey_kobo.csv",
    "interventions.geojson",
    "planted.json",
)
_AREA_PROPERTIES = ["code", "name", "municipality", "population"]


def generate(shared: Path, out: Path, *, spec: Spec | None = None) -> dict[str, str]:
    """Build every demo file from the real inputs in ``shared`` and write them to ``out``.

    Parameters
    ----------
    shared : pathlib.Path
        The ``shared/data/real`` folder.
    out : pathlib.Path
        Destination folder; created if needed. Existing files of the same names are overwritten.
    spec : Spec, optional
        The specification; ``spec.yaml`` beside this module when not given.

    Returns
    -------
    dict
        File name to sha256 of every written file (PROVENANCE.md last).
    """
    spec = spec or load_spec()
    paths = check_inputs(shared, spec.real_inputs)
    rng_taverns, rng_municipal, rng_survey = (
        np.random.default_rng(s) for s in np.random.SeedSequence(spec.seed).spawn(3)
    )

    precincts, precinct_repairs = read_precincts(
        paths["precincts"], paths["stations"], precinct_ids=spec.precinct_ids, municipality=spec.municipality
    )
    hoods, hood_repairs = read_neighbourhoods(paths["subdistricts"], precincts, municipality=spec.municipality)
    roads = read_roads(paths["subdistricts"])
    mix = read_saps_mix(paths["crimestats"], precincts, year=spec.crimestats_year)
    taverns = place_taverns(rng_taverns, precincts, mix, spec)

    texts: dict[str, str] = {}
    for name, areas in (("precincts.geojson", precincts), ("neighbourhoods.geojson", hoods)):
        texts[name] = geojson_text(
            [({k: plain(row[k]) for k in _AREA_PROPERTIES}, row.geometry) for _, row in areas.iterrows()]
        )
    texts["schools.csv"], school_counts = schools_text(paths["schools"], precincts, dirty_emis=spec.dirty_school_emis)
    texts["assets_other.csv"] = assets_text(hoods, spec)

    municipal, municipal_info = simulate_municipal(rng_municipal, precincts, mix, taverns, spec)
    texts["incidents_municipal.csv"] = csv_text(municipal[list(spec.municipal.columns)])
    survey, survey_info = simulate_survey(rng_survey, precincts, taverns, spec)
    texts["cso_survey_kobo.csv"] = csv_text(survey[list(spec.survey.columns)])
    texts["interventions.geojson"] = interventions_text(hoods, roads, spec)

    planted = planted_record(precincts, hoods, municipal, municipal_info, survey, survey_info, spec)
    texts["planted.json"] = json.dumps(planted, indent=2, ensure_ascii=False) + "\n"

    out.mkdir(parents=True, exist_ok=True)
    digests = {}
    for name in FILES:
        (out / name).write_bytes(texts[name].encode("utf-8"))
        digests[name] = sha256(out / name)
    context = {
        "sha256": digests,
        "planted": planted,
        "repairs": {"precincts": precinct_repairs, "neighbourhoods": hood_repairs},
        "schools": school_counts,
        "precinct_areas": precincts.assign(area_2015=precincts.to_crs(METRIC_CRS).area / 1e6),
        "counts": {
            "incidents_municipal": len(municipal),
            "cso_survey_kobo": len(survey),
            "outside_precincts": int((municipal["outside"] & (municipal["dirt"] == "")).sum()),
        },
    }
    (out / "PROVENANCE.md").write_bytes(provenance_text(context, spec).encode("utf-8"))
    digests["PROVENANCE.md"] = sha256(out / "PROVENANCE.md")
    return digests


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``python scripts/make_demo_data.py [--shared PATH] [--out PATH] [--spec PATH]``."""
    parser = argparse.ArgumentParser(
        description="Generate the seeded AreaSafe demo data set in data/demo/ from the real data in ../shared."
    )
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="shared/data/real folder")
    parser.add_argument("--out", type=Path, default=DEMO_DIR, help="output folder (default data/demo)")
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="specification (default: spec.yaml)")
    args = parser.parse_args(argv)
    digests = generate(args.shared, args.out, spec=load_spec(args.spec))
    for name, digest in digests.items():
        print(f"{digest}  {args.out / name}")
    return 0
