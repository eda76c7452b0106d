"""``areasafe hotspots``: Gi* and emerging hot spots for one Safe Neighbourhood.

Place in the data flow: show. :func:`add_parser` adds the subcommand to the main parser in
:mod:`pipelines.cli`; :func:`run` calls :func:`~pipelines.hotspots.recipe.hotspots_for_neighbourhood` and
prints a table or one JSON object. Usage errors (unknown neighbourhood or category, a bad ``--until``)
are raised as :class:`~pipelines.errors.AreaSafeError` (a ``ValueError``) for the main CLI to report.

This module imports the analytics lazily, so building the parser stays cheap for every other command.
"""

from __future__ import annotations

import argparse
import json

_BIN_LABELS = {3: "hot 99%", 2: "hot 95%", 1: "hot 90%", 0: "-", -1: "cold 90%", -2: "cold 95%", -3: "cold 99%"}


def add_parser(subparsers) -> None:
    """Add the ``hotspots`` subcommand to ``subparsers`` (from ``ArgumentParser.add_subparsers``)."""
    parser = subparsers.add_parser(
        "hotspots",
        help="Gi* hot and cold spots and emerging hot spots for a Safe Neighbourhood",
        description=(
            "Getis-Ord Gi* hot and cold spots (FDR-corrected, ArcGIS bins) and emerging hot spot categories "
            "on an H3 grid, for a window of whole months."
        ),
    )
    parser.add_argument("--neighbourhood", required=True, metavar="CODE", help="Safe Neighbourhood code")
    parser.add_argument(
        "--months", type=_positive_int, default=12, metavar="N", help="months in the window (default 12)"
    )
    parser.add_argument(
        "--until", metavar="YYYY-MM", help="last month of the window (default: the last month with data)"
    )
    parser.add_argument("--category", metavar="C", help="only this canonical category (default: all)")
    parser.add_argument(
        "--resolution",
        type=_resolution,
        default=9,
        metavar="R",
        help="H3 resolution 0-15 (default 9), or 'auto': the coarsest from 9 to 11 giving at least 30 cells",
    )
    parser.add_argument(
        "--permutations",
        type=int,
        default=0,
        metavar="P",
        help="conditional permutations for Gi* inference (default 0: analytical, as ArcGIS)",
    )
    parser.add_argument("--seed", type=int, help="seed for --permutations")
    parser.add_argument("--include-partial", action="store_true")  # help: pipelines.cli._HELP
    parser.add_argument("--json", action="store_true", help="print one JSON object with a `cells` list")


def run(args: argparse.Namespace, store) -> int:
    """Run ``areasafe hotspots`` against ``store``; print the result; return the exit code (0)."""
    from pipelines.hotspots.recipe import hotspots_for_neighbourhood
    from pipelines.privacy import operator

    result = hotspots_for_neighbourhood(
        store,
        args.neighbourhood,
        viewer=operator(),
        months=args.months,
        until=args.until,
        category=args.category,
        resolution=args.resolution,
        permutations=args.permutations,
        seed=args.seed,
        include_partial=args.include_partial,
    )
    if args.json:
        print(json.dumps(result.to_json(), allow_nan=False))
    else:
        print(format_table(result))
    return 0


def format_table(result) -> str:
    """The readable report: a header, caveats, then the significant or emerging cells."""
    from pipelines.hotspots._columns import CELL_ID, COUNT, EMERGING, GI_BIN, GI_P, GI_Z, LAT, LON

    months = result.months
    window = f"{months[0]} to {months[-1]} ({len(months)} months)" if len(months) else "no months"
    gi = result.hotspots.gi
    inference = f"{gi.permutations} permutations, seed {gi.seed}" if gi.permutations else "analytical"
    lines = [
        f"Hot spots in {result.name} ({result.code}), {window}, {result.category or 'all categories'}",
        f"H3 resolution {result.grid.spec.resolution}: {len(result.cells)} cells, {result.n_incidents:,} incidents; "
        f"Gi* {inference}{', FDR-corrected' if gi.fdr else ''}.",
    ]
    lines += [f"Note: {m}" for m in result.messages]
    cells = result.cells
    shown = cells[(cells[GI_BIN] != 0) | (cells[EMERGING] != "no_pattern")]
    shown = shown.sort_values([GI_BIN, GI_Z], ascending=False)
    lines.append("")
    if shown.empty:
        lines.append("No significant hot or cold spots and no emerging pattern in this window.")
    else:
        header = f"{'cell_id':<16} {'lat':>10} {'lon':>10} {'count':>6} {'gi_z':>7} {'gi_p':>9} {'bin':<9} emerging"
        lines += [header, "-" * len(header)]
        for row in shown.itertuples(index=False):
            lines.append(
                f"{getattr(row, CELL_ID):<16} {getattr(row, LAT):>10.5f} {getattr(row, LON):>10.5f} "
                f"{getattr(row, COUNT):>6d} {getattr(row, GI_Z):>7.2f} {getattr(row, GI_P):>9.2g} "
                f"{_BIN_LABELS[int(getattr(row, GI_BIN))]:<9} {getattr(row, EMERGING)}"
            )
    summary = result.summary()
    emerging = ", ".join(f"{n} {c}" for c, n in summary["emerging"].items() if c != "no_pattern") or "none"
    lines += [
        "",
        f"{summary['hot']} hot, {summary['cold']} cold, {summary['not_significant']} not significant. "
        f"Emerging: {emerging}.",
    ]
    return "\n".join(lines)


def _resolution(text: str) -> int | None:
    if text.strip().lower() == "auto":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to 15 or 'auto'; got {text!r}") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of months, e.g. 12; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 month; got {value}")
    return value
