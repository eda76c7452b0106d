"""Benchmark: the dashboard in headless Chromium on the demo store plus generated incidents.

Times, from navigation start until the page is idle (Streamlit's running indicator gone and, on the map,
the map iframe rendered), median of 3 runs: the first public visit on a freshly started server, the map
explorer logged in as a planner (warm), changing a sidebar filter on it, and the ACT review and
neighbourhood profile pages. The dashboard runs from this checkout and from a baseline commit (checked
out with ``git worktree add --detach``), on copies of the same store file, one after the other.

The store is the demo (:func:`pipelines.demo.build_demo`) plus ``--extra`` municipal incidents made by
resampling the demo's municipal records (their places jittered by up to ~300 m, their times spread over
the demo's two years), ingested as one batch through the ordinary pipeline.

    python bench/bench_dashboard.py [--extra 1000000] [--baseline c8d2d8e] [--runs 3]
    python bench/bench_dashboard.py --postgis --extra 5000000

Writes ``bench/RESULTS-dashboard.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

OUT = Path(__file__).resolve().parent / "RESULTS-dashboard.md"
DEMO_INCIDENTS = ROOT / "data" / "demo" / "incidents_municipal.csv"
GENERATED_ORG = "City of Cape Town (generated benchmark records)"


def make_csv(path: Path, rows: int, *, seed: int = 0) -> Path:
    """``rows`` municipal incidents in the demo's CSV layout, resampled from the demo's own records."""
    demo = pd.read_csv(DEMO_INCIDENTS)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(demo), rows)
    base = demo.iloc[pick].reset_index(drop=True)
    start = pd.Timestamp("2024-11-01")
    seconds = rng.integers(0, int((pd.Timestamp("2026-10-31") - start).total_seconds()), rows)
    frame = pd.DataFrame(
        {
            "case_number": [f"GEN/CAS/{i:07d}" for i in range(rows)],
            "date_time": (start + pd.to_timedelta(seconds, "s")).strftime("%Y-%m-%d %H:%M"),
            "crime_type": base["crime_type"],
            "latitude": (base["latitude"] + rng.uniform(-0.0027, 0.0027, rows)).round(6),
            "longitude": (base["longitude"] + rng.uniform(-0.0032, 0.0032, rows)).round(6),
            "description": base["description"],
            "station": base["station"],
        }
    )
    frame.to_csv(path, index=False)
    return path


def make_store(url: str, extra: int, *, work: Path) -> None:
    """The demo plus ``extra`` generated incidents in the store at ``url`` (a GeoPackage path or a PostGIS URL)."""
    from pipelines.demo import build_demo
    from pipelines.ingest.incidents import ingest_incidents
    from pipelines.store import open_store

    store = open_store(url)
    store.initialise()
    build_demo(store)
    if extra:
        csv = make_csv(work / f"generated-{extra}.csv", extra)
        ingest_incidents(store, csv, source="municipal", org=GENERATED_ORG, user="bench", snap_m=500)
    store.close()


# --------------------------------------------------------------------------------------------------
# Serving and driving the browser
# --------------------------------------------------------------------------------------------------
#: Idle: the script has finished (``data-test-script-state`` of the app, what Streamlit's running indicator
#: shows), the page has its title and, with a map on the page, the map's Leaflet container has drawn inside
#: its iframe a shape or marker that was not there before the click (:data:`_MARK_JS` marks those: a map
#: whose layers are replaced in the frame it has is drawn when its new layers are); held for HOLD_MS so a
#: rerun that starts late is seen.
_IDLE_JS = """async ([since, needMap, holdMs]) => {
  const frameReady = () => {
    const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
    if (!f) return false;
    try {
      const d = f.contentDocument;
      const drawn = '.leaflet-container .leaflet-pane path:not([data-bench-old]), '
        + '.leaflet-container .leaflet-marker-icon:not([data-bench-old])';
      return !!(d && d.querySelector(drawn));
    } catch (e) { return true; }
  };
  const ready = () => !!document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    && !!document.querySelector('[data-testid="stMainBlockContainer"] h1')
    && (!needMap || frameReady());
  let first = null;
  for (;;) {
    const now = performance.now();
    if (now - since > 180000) throw new Error('the page was not idle within 180 s');
    if (ready()) { if (first === null) first = now; if (now - first >= holdMs) return first - since; }
    else first = null;
    await new Promise(r => setTimeout(r, 20));
  }
}"""
HOLD_MS = 1500
#: Marks what the map has drawn so far, before a click (see :data:`_IDLE_JS`).
_MARK_JS = """() => {
  const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
  const d = f && f.contentDocument;
  if (d) d.querySelectorAll('.leaflet-pane path, .leaflet-marker-icon').forEach(e => e.setAttribute('data-bench-old', ''));
}"""


def _serve(checkout: Path, store_url: str, port: int, log: Path) -> subprocess.Popen:
    """``areasafe serve``'s command line of ``checkout`` on ``port`` (started the way that checkout starts it)."""
    code = f"import json; from dashboard.launch import command; print(json.dumps(command(port={port})))"
    args = subprocess.run([sys.executable, "-c", code], cwd=checkout, capture_output=True, text=True, check=True)
    import json

    env = {**os.environ, "AREASAFE_STORE": store_url, "PYTHONPATH": str(checkout)}
    return subprocess.Popen(
        json.loads(args.stdout), cwd=checkout, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


def _wait_ready(port: int, timeout: float = 180) -> None:
    """Until the server says it is ready: ``/api/ready`` answers 200 once its start-up work is done
    (:mod:`dashboard.readiness`); a checkout without that route (the baseline) is ready when Streamlit's
    ``/_stcore/health`` answers."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    path = "/api/ready"
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1)
            return
        except urllib.error.HTTPError as error:
            if error.code == 404:  # no readiness route in this checkout
                path = "/_stcore/health"
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the server on port {port} was not ready within {timeout:.0f} s")
        time.sleep(0.1)


def _idle_after(page, since: float, *, map_page: bool) -> float:
    return page.evaluate(_IDLE_JS, [since, map_page, HOLD_MS]) / 1000


def _click_timed(page, locator, *, map_page: bool, new_layers: bool = False) -> float:
    """Seconds from the click until idle; with ``new_layers`` (a filter change) the map counts as drawn only
    once shapes that were not there before the click appear (:data:`_MARK_JS`)."""
    if new_layers:
        page.evaluate(_MARK_JS)
    since = page.evaluate("performance.now()")
    if "stSidebarNav" in str(locator):  # a page link: the long page list may hold it outside the viewport
        locator.evaluate("e => e.click()")
    else:
        locator.click()
    return _idle_after(page, since, map_page=map_page)


def _nav(page, title: str):
    return page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first


def _login(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    _idle_after(page, 0, map_page=False)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    # a login lands on the map now (on the Account page before)
    landed = page.get_by_role("heading", name="Map explorer").or_(page.get_by_role("heading", name="Account"))
    landed.first.wait_for(timeout=120_000)
    _idle_after(page, page.evaluate("performance.now()"), map_page=False)


def measure(checkout: Path, store_url: str, *, runs: int, username: str, password: str, work: Path) -> dict:
    """The four timings (lists of ``runs`` seconds each) of the dashboard in ``checkout`` on ``store_url``."""
    from playwright.sync_api import sync_playwright

    from tests._dashboard import CHROMIUM, FLAGS
    from tests._pgcluster import free_port

    times: dict[str, list[float]] = {k: [] for k in ("ready", "first", "map", "filter", "act", "profile")}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        for run in range(runs):  # a fresh server each run: the first visit
            port = free_port()
            started = time.monotonic()
            server = _serve(checkout, store_url, port, work / f"server-{checkout.name}-{run}.log")
            try:
                _wait_ready(port)
                times["ready"].append(time.monotonic() - started)
                base = f"http://127.0.0.1:{port}"
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(base)
                times["first"].append(_idle_after(page, 0, map_page=True))
                page.close()
                if run:
                    continue
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                _login(page, base, username, password)
                _click_timed(page, _nav(page, "Map explorer"), map_page=True)  # fills the caches: not timed
                for _ in range(runs):
                    _click_timed(page, _nav(page, "What the words mean"), map_page=False)
                    times["map"].append(_click_timed(page, _nav(page, "Map explorer"), map_page=True))
                sidebar = page.locator('[data-testid="stSidebar"]')
                for choice in ("Municipal", "Community", "Both")[:runs]:
                    times["filter"].append(
                        _click_timed(page, sidebar.get_by_text(choice, exact=True), map_page=True, new_layers=True)
                    )
                for title, key in (("ACT meeting review", "act"), ("Neighbourhood profile", "profile")):
                    _click_timed(page, _nav(page, title), map_page=False)  # fills the caches: not timed
                    for _ in range(runs):
                        _click_timed(page, _nav(page, "What the words mean"), map_page=False)
                        times[key].append(_click_timed(page, _nav(page, title), map_page=False))
                page.close()
            finally:
                server.terminate()
                try:
                    server.wait(30)
                except subprocess.TimeoutExpired:
                    server.kill()
    return times


# --------------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------------
GOALS = {  # issue 18's table (and how long a fresh server takes to be ready, which has no goal)
    "ready": ("Server start until ready (no goal)", None),
    "first": ("First public visit, fresh server", 3.0),
    "map": ("Map explorer, logged in (planner), warm", 1.0),
    "filter": ("Changing a sidebar filter (Source)", 0.7),
    "act": ("ACT meeting review (planner), warm", 0.7),
    "profile": ("Neighbourhood profile (planner), warm", 0.7),
}
PASSWORD = "bench-password-123"
NOTES = "## Where the time went"
TITLE = "# Dashboard in the browser"


def _baseline_checkout(commit: str, work: Path) -> Path:
    target = work / f"baseline-{commit}"
    if not target.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(target), commit], cwd=ROOT, check=True)
    return target


def _make_store_with(checkout: Path, store_url: str, extra: int, *, work: Path) -> None:
    """:func:`make_store` and the bench's planner, run by ``checkout``'s code (the generated file by this one's)."""
    csv = make_csv(work / f"generated-{extra}.csv", extra) if extra else ""
    code = (
        "import sys\n"
        "from pipelines import auth, privacy\n"
        "if sys.argv[1].startswith('postgresql'):\n"
        "    from pipelines.store._pg_migrate import upgrade\n"
        "    upgrade(sys.argv[1])\n"
        "from pipelines.demo import build_demo\n"
        "from pipelines.ingest.incidents import ingest_incidents\n"
        "from pipelines.store import open_store\n"
        "store = open_store(sys.argv[1])\n"
        "store.initialise()\n"
        "build_demo(store)\n"
        "if sys.argv[2]:\n"
        f"    ingest_incidents(store, sys.argv[2], source='municipal', org={GENERATED_ORG!r}, user='bench', snap_m=500)\n"
        f"auth.add_user(store, 'bench-planner', role='planner', password={PASSWORD!r}, actor=privacy.operator('bench'))\n"
        "store.close()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    subprocess.run([sys.executable, "-c", code, store_url, str(csv)], cwd=checkout, env=env, check=True)


def _count_incidents(store_url: str | Path) -> int:
    """The incidents in a store, read without opening it as a store (which would upgrade a GeoPackage)."""
    if str(store_url).startswith("postgresql"):
        import psycopg

        with psycopg.connect(str(store_url)) as conn:
            return conn.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]
    import sqlite3

    with contextlib.closing(sqlite3.connect(store_url)) as conn:
        return conn.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]


def _copy(store_file: Path, target: Path) -> Path:
    import sqlite3

    target.unlink(missing_ok=True)
    source, copy = sqlite3.connect(store_file), sqlite3.connect(target)
    with copy:
        source.backup(copy)
    source.close()
    copy.close()
    return target


def _table(rows: list[tuple], *, header: str) -> str:
    lines = [
        header,
        "",
        "| where | baseline (s) | now (s) | baseline / now | goal (s) | met? |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, before, now, goal in rows:
        ratio = f"{before / now:.1f}x" if now and before is not None and goal is not None else ""
        was = "not run" if before is None else f"{before:.2f}"
        aim, met = ("", "") if goal is None else (f"≤ {goal}", "yes" if now <= goal else "no")
        lines.append(f"| {name} | {was} | {now:.2f} | {ratio} | {aim} | {met} |")
    return "\n".join(lines)


def _run(args, store_url: str, work: Path, *, cluster=None) -> tuple[dict, int]:
    """Build the store at ``store_url`` unless it exists, then measure the baseline and this checkout on it,
    each on its own copy (a GeoPackage: a file copy; PostGIS: a database made from it as a template). With a
    baseline the store is built by the baseline's code; this checkout's copy is upgraded to its own schema
    (a GeoPackage on opening, PostGIS by the migrations), as an older checkout refuses a newer store."""
    from pipelines import auth, privacy
    from pipelines.store import open_store

    started = time.perf_counter()
    postgis = cluster is not None
    baseline = None if args.now_only else _baseline_checkout(args.baseline, work)
    if baseline is not None:
        if postgis or not Path(store_url).exists():
            _make_store_with(baseline, store_url, args.extra, work=work)
        incidents = _count_incidents(store_url)
    else:
        if postgis or not Path(store_url).exists():
            if postgis:
                from pipelines.store._pg_migrate import upgrade

                upgrade(store_url)
            make_store(store_url, args.extra, work=work)
        with open_store(store_url) as store:
            if not len(store.read_table("users", where={"username": "bench-planner"})):
                auth.add_user(
                    store, "bench-planner", role="planner", password=PASSWORD, actor=privacy.operator("bench")
                )
        incidents = _count_incidents(store_url)
    print(f"store {store_url} ready in {time.perf_counter() - started:.0f} s", flush=True)
    results = {}
    sides = [("now", ROOT)] if baseline is None else [("baseline", baseline), ("now", ROOT)]
    for label, checkout in sides:
        url = _copy_store(store_url, label, work=work, cluster=cluster)
        results[label] = measure(checkout, url, runs=args.runs, username="bench-planner", password=PASSWORD, work=work)
        print(label, {k: [round(v, 2) for v in vals] for k, vals in results[label].items()}, flush=True)
    return results, incidents


def _copy_store(store_url: str, label: str, *, work: Path, cluster) -> str:
    """``label``'s own copy of the store; this checkout's (``now``) upgraded to its schema."""
    if cluster is None:
        return str(_copy(Path(store_url), work / f"store-{label}.gpkg"))
    template = store_url.rsplit("/", 1)[1]
    cluster.drop_database(f"bench_{label}")
    url = cluster.create_database(template=template, name=f"bench_{label}")
    if label == "now":
        from pipelines.store._pg_migrate import upgrade

        upgrade(url)
    return url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra", type=int, default=1_000_000, help="generated incidents on top of the demo")
    parser.add_argument("--baseline", default="c8d2d8e", help="commit to compare with")
    parser.add_argument("--runs", type=int, default=3, help="runs per timing (the median is reported)")
    parser.add_argument(
        "--store", type=Path, help="reuse this GeoPackage (made by an earlier run) instead of building one"
    )
    parser.add_argument("--work", type=Path, help="folder for the stores, logs and the baseline checkout")
    parser.add_argument("--postgis", action="store_true", help="a throwaway PostGIS cluster instead of a GeoPackage")
    parser.add_argument("--now-only", action="store_true", help="measure this checkout only (no baseline)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    work.mkdir(parents=True, exist_ok=True)
    cluster = None
    if args.postgis:
        sys.path.insert(0, str(ROOT))
        from tests._pgcluster import TempCluster

        cluster = TempCluster().start()
        store_url = cluster.create_database(name="bench_store")
    else:
        store_url = str(args.store or work / f"demo-plus-{args.extra}.gpkg")
    try:
        results, incidents = _run(args, store_url, work, cluster=cluster)
    finally:
        if cluster is not None:
            cluster.stop()
    rows = [
        (
            name,
            statistics.median(results["baseline"][key]) if "baseline" in results else None,
            statistics.median(results["now"][key]),
            goal,
        )
        for key, (name, goal) in GOALS.items()
    ]
    kind = "PostGIS" if args.postgis else "GeoPackage"
    command = f"python bench/bench_dashboard.py{' --postgis' if args.postgis else ''} --extra {args.extra}"
    header = (
        f"{TITLE}, {kind} store (`{command}`)\n\n"
        f"{dt.date.today()}, {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
        f"headless Chromium (/usr/bin/chromium), {'PostGIS' if args.postgis else 'GeoPackage'} store: the demo plus {args.extra:,} generated "
        f"incidents ({incidents:,} in all). Median of {args.runs} runs; seconds from navigation (or the click) "
        "until the page is idle: Streamlit's running indicator gone and, on the map, the map drawn in its frame "
        f"(held {HOLD_MS / 1000:.1f} s, not counted). "
        + (
            "No baseline in this run; "
            if args.now_only
            else f"Baseline: commit {args.baseline}, on a copy of the same store, run first; "
        )
        + "each first visit is on a freshly started server, once it is ready (`/api/ready` answers 200: its "
        "start-up work done; Streamlit's `/_stcore/health` for a checkout without that route)."
    )
    table = _table(rows, header=header)
    print(table)
    args.out.write_text(_results(args.out.read_text() if args.out.exists() else "", table, kind))
    return 0


def _results(previous: str, table: str, kind: str) -> str:
    """The results file with ``table`` for the ``kind`` of store: the other kind's table and the written
    sections (the profile of a page run, what changed) are kept as they were; GeoPackage first."""
    tables, _, notes = previous.partition(NOTES)
    kept = [t for t in tables.split(TITLE) if t.strip() and not t.startswith(f", {kind} store")]
    sections = sorted([table, *(TITLE + t.rstrip() + "\n" for t in kept)], key=lambda t: "PostGIS" in t.split("\n")[0])
    return "\n".join(t.rstrip() + "\n" for t in sections) + (f"\n{NOTES}{notes}" if notes else "")


if __name__ == "__main__":
    raise SystemExit(main())
