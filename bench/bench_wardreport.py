"""Benchmark: the ward councillor's report for ward 98 of the demo, October 2026 (target: under 10 s).

Baseline, measured in the same run: the meeting pack of the neighbourhood the ward overlaps most
(``write_pack``, public), the document the report's rendering comes from. Then the report's stages (reading the
ward view, the map, the PDF, the HTML, the PNG summary), the whole report in-process (``write_report``: PDF and
summary PNG, public and planner) and ``areasafe ward-report`` as a fresh process, imports included. Medians of
``--runs`` runs. Run from the repository root: ``python bench/bench_wardreport.py [--runs 3] [--store PATH]``;
writes ``bench/RESULTS-wardreport.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "RESULTS-wardreport.md"
WARD, MONTH, HOOD = "98", "2026-10", "KHA-HARARE-HOLOMISA"
TARGET_S = 10.0


def _median(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--store", help="an existing demo store (default: build one in a temporary folder)")
    args = parser.parse_args(argv)

    from pipelines import privacy
    from pipelines.act import figures
    from pipelines.act.pack import write_pack
    from pipelines.demo import build_demo
    from pipelines.store import open_store
    from pipelines.ward import ward_view
    from pipelines.wardreport import build_report, render_html, render_pdf, render_png, report_viewer, write_report

    folder = Path(tempfile.mkdtemp(prefix="bench-ward-"))
    store_path = Path(args.store) if args.store else folder / "demo.gpkg"
    store = open_store(store_path)
    if not args.store:
        build_demo(store)
    write_report(store, WARD, MONTH, folder / "warm.pdf")  # imports, fonts, the first figure

    rows = []
    base, _ = _median(
        lambda: write_pack(store, HOOD, MONTH, folder / "pack.pdf", viewer=privacy.operator(), public=True), args.runs
    )
    rows.append(("baseline: public meeting pack (PDF) of the neighbourhood", base))
    t, view = _median(lambda: ward_view(store, WARD, MONTH, viewer=privacy.PUBLIC), args.runs)
    rows.append(("ward view (store reads, counts, rates, hot spots), public", t))
    t, _ = _median(lambda: figures.neighbourhood_map(view.map_input), args.runs)
    rows.append(("map", t))
    report = build_report(store, WARD, MONTH)
    for label, fn in (("PDF", render_pdf), ("HTML", render_html), ("PNG summary", render_png)):
        t, _ = _median(lambda fn=fn: fn(report), args.runs)
        rows.append((f"render {label}", t))
    t, _ = _median(lambda: write_report(store, WARD, MONTH, folder / "r.pdf"), args.runs)
    rows.append(("write_report: PDF + PNG, public", t))
    whole = t
    t, _ = _median(
        lambda: write_report(store, WARD, MONTH, folder / "p.pdf", viewer=report_viewer("planner")), args.runs
    )
    rows.append(("write_report: PDF + PNG, planner", t))
    command = [sys.executable, "-m", "pipelines.cli", "--store", str(store_path), "ward-report", "--ward", WARD]
    command += ["--month", MONTH, "--out", str(folder / "cli.pdf")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t, _ = _median(lambda: subprocess.run(command, check=True, capture_output=True, env=env, cwd=ROOT), args.runs)
    rows.append(("areasafe ward-report (fresh process)", t))

    lines = [
        "# Ward councillor's report benchmark",
        "",
        f"`python bench/bench_wardreport.py`, Python {platform.python_version()}, {os.cpu_count()} CPUs; load "
        f"average {os.getloadavg()[0]:.1f} at the end (other work may run on the machine). Median of {args.runs} "
        f"runs after one warm-up; demo store, ward {WARD}, {MONTH}.",
        "",
        "| step | seconds |",
        "|---|---:|",
        *[f"| {label} | {seconds:.2f} |" for label, seconds in rows],
        "",
        f"Target: the whole report under {TARGET_S:.0f} s ({'met' if whole < TARGET_S else 'NOT met'}: "
        f"{whole:.2f} s, {whole / base:.1f}x the public meeting pack).",
    ]
    text = "\n".join(lines) + "\n"
    OUT.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
