"""Benchmark: the PostGIS store next to the GeoPackage store and plain geopandas, at 1M and 5M rows.

Ingest: the same Kobo-style CSV (``bench_ingest.make_csv``: points around the 1,143 real SAPS police
stations) goes through the plain geopandas baseline (``read_csv -> sjoin -> to_file``, from
``bench_ingest``), AreaSafe into a GeoPackage, and AreaSafe into PostGIS (COPY, placement inside the
database). Each run is a fresh process (wall time, peak RSS of the client). Areas: the 1,143 real
precincts plus 200 synthetic Safe Neighbourhoods (6.6 km squares around randomly chosen stations).

Join: the in-database spatial join on all stored points, looping over polygons
(``CROSS JOIN LATERAL ... ST_Intersects ... OFFSET 0``, what the store runs) against looping over
points, the planner's own choice for a plain ``JOIN ... ON ST_Intersects``, and the Python placement
(:func:`pipelines.place.place_points`).

Reads: at the largest size, the store calls one map-page load makes for one neighbourhood with cold
dashboard caches (batch count, areas, the month summary behind the filters, the neighbourhood's
incidents over the last 12 months, its hot spots, assets, interventions), with ``EXPLAIN (ANALYZE,
BUFFERS)`` of the incident and summary queries. The cluster runs with full durability (fsync on).

    python bench/bench_postgis.py --sizes 1000000 5000000 --out bench/RESULTS-postgis.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from bench_ingest import AREASAFE, BASELINE, PRECINCTS, STATIONS, _machine, _run_with_rss, make_csv  # noqa: E402

from tests._pgcluster import TempCluster  # noqa: E402

#: Production-like durability; memory for a machine with a few GB to spare.
SERVER = {
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "shared_buffers": "2GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "1GB",
    "max_wal_size": "16GB",
    "checkpoint_timeout": "30min",
    "effective_cache_size": "8GB",
}
HOODS = 200


def _neighbourhoods(path: Path) -> None:
    import geopandas as gpd
    import shapely

    stations = gpd.read_file(STATIONS)
    rng = np.random.default_rng(7)
    pick = rng.choice(len(stations), HOODS, replace=False)
    x, y = stations.geometry.x.to_numpy()[pick], stations.geometry.y.to_numpy()[pick]
    boxes = [shapely.box(a - 0.03, b - 0.03, a + 0.03, b + 0.03) for a, b in zip(x, y, strict=True)]
    names = [f"SN-{i:03d}" for i in range(HOODS)]
    gpd.GeoDataFrame({"code": names, "name": names, "population": 20_000}, geometry=boxes, crs=4326).to_file(path)


def _templates(tmp: Path, cluster: TempCluster) -> tuple[Path, str]:
    """A GeoPackage and a PostGIS database holding the precincts and neighbourhoods."""
    from pipelines.ingest.boundaries import ingest_boundaries
    from pipelines.store import open_store

    hoods = tmp / "neighbourhoods.geojson"
    _neighbourhoods(hoods)
    gpkg = tmp / "template.gpkg"
    name = cluster.migrated_template("bench_template")
    for url in (gpkg, cluster.url(name)):
        with open_store(url) as store:
            ingest_boundaries(store, PRECINCTS, kind="precinct")
            ingest_boundaries(store, hoods, kind="neighbourhood")
    return gpkg, name


def _ingest(size: int, csv: Path, tmp: Path, cluster: TempCluster, templates, *, gpkg_limit: int) -> dict:
    gpkg_template, db_template = templates
    legs: dict[str, dict] = {}
    s, rss, _ = _run_with_rss(BASELINE, str(csv), str(tmp / f"baseline{size}.gpkg"), str(PRECINCTS))
    legs["geopandas baseline (sjoin, to_file)"] = {"s": s, "rss": rss}
    print(f"  baseline {s:.1f} s", file=sys.stderr)
    if size <= gpkg_limit:
        target = tmp / f"store{size}.gpkg"
        target.write_bytes(gpkg_template.read_bytes())
        s, rss, accepted = _run_with_rss(AREASAFE, str(csv), str(target))
        legs["AreaSafe -> GeoPackage"] = {"s": s, "rss": rss, "accepted": int(accepted), "store": str(target)}
        print(f"  gpkg {s:.1f} s", file=sys.stderr)
    url = cluster.create_database(template=db_template, name=f"bench_{size}")
    s, rss, accepted = _run_with_rss(AREASAFE, str(csv), url)
    legs["AreaSafe -> PostGIS"] = {"s": s, "rss": rss, "accepted": int(accepted), "store": url}
    print(f"  postgis {s:.1f} s", file=sys.stderr)
    return legs


def _timed(conn, statement: str) -> float:
    t = time.perf_counter()
    conn.execute(statement)
    return time.perf_counter() - t


def _joins(url: str) -> dict:
    """The spatial join on every stored point, three ways; plus the plans."""
    import psycopg

    from pipelines.place import AreaIndex, place_points
    from pipelines.store import IncidentQuery, open_store

    out = {}
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute("SET work_mem = '256MB'")
        out["stage points + GiST index"] = _timed(
            conn, "CREATE TEMP TABLE pts AS SELECT fid, geometry FROM incidents"
        ) + _timed(conn, "CREATE INDEX ON pts USING gist (geometry)")
        unanalysed = (
            "SELECT count(*) FROM pts AS p JOIN areas AS a ON ST_Intersects(a.geometry, p.geometry)"
            " WHERE a.kind = 'precinct'"
        )
        # The staged points of a batch have no statistics: what the planner does with a plain join then.
        out["_plans"] = {
            "plain JOIN, points table without statistics": "\n".join(
                r[0] for r in conn.execute("EXPLAIN (COSTS OFF) " + unanalysed).fetchall()
            )
        }
        out["plain JOIN, points table without statistics"] = _timed(conn, unanalysed)
        conn.execute("ANALYZE pts")
        polygon_loop = (
            "SELECT count(*) FROM areas AS a CROSS JOIN LATERAL ("
            " SELECT p.fid FROM pts AS p WHERE ST_Intersects(a.geometry, p.geometry) OFFSET 0) AS s"
            " WHERE a.kind = 'precinct'"
        )
        point_loop = (
            "SELECT count(*) FROM pts AS p CROSS JOIN LATERAL ("
            " SELECT a.code FROM areas AS a WHERE a.kind = 'precinct' AND ST_Intersects(a.geometry, p.geometry)"
            " OFFSET 0) AS s"
        )
        plain = (
            "SELECT count(*) FROM pts AS p JOIN areas AS a ON ST_Intersects(a.geometry, p.geometry)"
            " WHERE a.kind = 'precinct'"
        )
        out["loop over polygons (the store's join)"] = _timed(conn, polygon_loop)
        out["loop over points (area index per point)"] = _timed(conn, point_loop)
        out["plain JOIN ON ST_Intersects, with statistics (planner's choice)"] = _timed(conn, plain)
        out["_plans"].update(
            {
                name: "\n".join(r[0] for r in conn.execute("EXPLAIN (COSTS OFF) " + q).fetchall())
                for name, q in (("loop over polygons", polygon_loop), ("plain JOIN (planner's choice)", plain))
            }
        )
    with open_store(url) as store:
        points = store.read_incidents(IncidentQuery(columns=["category"])).geometry.to_numpy()
        index = AreaIndex.build(store.read_areas())
    t = time.perf_counter()
    place_points(points, index)
    out["Python place_points (GeoPackage path)"] = time.perf_counter() - t
    return out


def _page_load(store, code: str, months) -> dict[str, float]:
    """The store calls of one map-page load for ``code`` with cold dashboard caches, timed."""
    from pipelines.hotspots.recipe import hotspots_for_neighbourhood
    from pipelines.periods import month_bounds
    from pipelines.store import IncidentQuery

    times = {}

    def timed(name, call):
        t = time.perf_counter()
        result = call()
        times[name] = time.perf_counter() - t
        return result

    timed("data version (cache key)", store.data_version)
    timed("areas", store.read_areas)
    summary = timed("month summary (filters)", store.incident_months)
    period = sorted(summary["month"].dropna().unique())[-12:]
    start, end = month_bounds(period[0])[0], month_bounds(period[-1])[1]
    incidents = timed(
        "neighbourhood incidents, 12 months",
        lambda: store.read_incidents(IncidentQuery(neighbourhood=code, start=start, end=end)),
    )
    times["_rows"] = len(incidents)
    from pipelines.privacy import operator

    timed(
        "hot spots (read + Gi*)",
        lambda: hotspots_for_neighbourhood(store, code, viewer=operator(), months=12, until=period[-1]),
    )
    timed("assets", lambda: store.read_table("assets"))
    timed("interventions", lambda: store.read_table("interventions"))
    return times


def _reads(url_or_path: str, *, repeat: int, explain: bool) -> dict:
    from pipelines.periods import month_bounds
    from pipelines.store import IncidentQuery, open_store

    with open_store(url_or_path) as store:
        summary = store.incident_months()
        counts = summary.groupby("neighbourhood_code")["incidents"].sum().sort_values()
        picks = list(counts.index[np.linspace(len(counts) // 4, len(counts) - 1, 5).astype(int)])
        runs = [_page_load(store, code, None) for _ in range(repeat) for code in picks]
        out = {"neighbourhoods": {c: int(counts[c]) for c in picks}, "runs": runs}
        t = time.perf_counter()
        store.read_incidents(IncidentQuery(columns=["occurred_at"]))
        store.read_incidents(IncidentQuery(columns=["category"]))
        out["filters from every incident (before the summary)"] = time.perf_counter() - t
        if explain:
            period = sorted(summary["month"].dropna().unique())[-12:]
            start, end = month_bounds(period[0])[0], month_bounds(period[-1])[1]
            out["_explain_incidents"] = store.explain_incidents(
                IncidentQuery(neighbourhood=picks[-1], start=start, end=end)
            )
            with store._pool.connection() as conn:
                plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM incident_months").fetchall()
                out["_explain_summary"] = "\n".join(r[0] for r in plan)
                out["_sizes"] = conn.execute(
                    "SELECT pg_size_pretty(pg_total_relation_size('incidents')), "
                    "pg_size_pretty(pg_indexes_size('incidents')), (SELECT count(*) FROM incident_months)"
                ).fetchone()
    return out


def _summarise_reads(reads: dict) -> list[tuple[str, float, float]]:
    names = [k for k in reads["runs"][0] if not k.startswith("_")]
    rows = [(n, statistics.median(r[n] for r in reads["runs"]), max(r[n] for r in reads["runs"])) for n in names]
    queries = [sum(r[n] for n in names if not n.startswith("hot spots")) for r in reads["runs"]]
    totals = [sum(r[n] for n in names) for r in reads["runs"]]
    rows.append(
        ("**store queries per page load** (without the Gi* computation)", statistics.median(queries), max(queries))
    )
    rows.append(("**everything incl. hot spots**", statistics.median(totals), max(totals)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--gpkg-limit", type=int, default=10_000_000, help="skip the GeoPackage leg above this size")
    parser.add_argument("--read-repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not PRECINCTS.exists():
        sys.exit(f"needs the real precincts at {PRECINCTS}")
    results: dict = {"ingest": {}, "joins": {}, "reads": {}}
    cluster = TempCluster(settings=SERVER).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            templates = _templates(tmp, cluster)
            for size in args.sizes:
                print(f"{size:,} rows", file=sys.stderr)
                csv = tmp / f"community{size}.csv"
                make_csv(csv, size)
                legs = _ingest(size, csv, tmp, cluster, templates, gpkg_limit=args.gpkg_limit)
                results["ingest"][size] = legs
                url = legs["AreaSafe -> PostGIS"]["store"]
                import psycopg

                with psycopg.connect(url, autocommit=True) as conn:
                    results["ingest"][size]["_vacuum_analyze_s"] = _timed(conn, "VACUUM ANALYZE")
                results["joins"][size] = _joins(url)
                if size == max(args.sizes):
                    results["reads"]["PostGIS"] = _reads(url, repeat=args.read_repeat, explain=True)
                    gpkg = legs.get("AreaSafe -> GeoPackage")
                    if gpkg:
                        results["reads"]["GeoPackage"] = _reads(gpkg["store"], repeat=1, explain=False)
                csv.unlink()
    finally:
        cluster.stop()
    report = _report(results, args)
    print(report)
    if args.out:
        args.out.write_text(report)
        args.out.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str))


def _report(results: dict, args) -> str:
    sizes = sorted(results["ingest"])
    lines = [
        "# PostGIS benchmark (`python bench/bench_postgis.py`)",
        "",
        f"{dt.date.today()}, {_machine()}, PostgreSQL {_pg_version()} with PostGIS, full durability (fsync on); "
        "one run per cell (5M rows take minutes), on a machine shared with other work: treat the figures "
        "as +/-30 %. Community rows in the Kobo layout around the 1,143 real SAPS stations; areas: 1,143 "
        f"real precincts and {HOODS} synthetic 6.6 km neighbourhoods.",
        "",
        "## Ingest (CSV to committed store, fresh process each)",
        "",
        "| rows | pipeline | s | rows/s | peak client RSS MB | vs baseline |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for size in sizes:
        legs = {k: v for k, v in results["ingest"][size].items() if not k.startswith("_")}
        base = legs["geopandas baseline (sjoin, to_file)"]["s"]
        for name, leg in legs.items():
            lines.append(
                f"| {size:,} | {name} | {leg['s']:.1f} | {size / leg['s']:,.0f} | {leg['rss']:,.0f} | {leg['s'] / base:.2f}x |"
            )
    if len(sizes) > 1:
        small, big = sizes[0], sizes[-1]
        lines += [
            "",
            f"Growth from {small:,} to {big:,} rows ({big / small:.0f}x the rows): time ratio per pipeline.",
            "",
        ]
        lines += ["| pipeline | time ratio |", "|---|---:|"]
        for name in results["ingest"][big]:
            if name.startswith("_") or name not in results["ingest"][small]:
                continue
            lines.append(f"| {name} | {results['ingest'][big][name]['s'] / results['ingest'][small][name]['s']:.2f}x |")
    lines += ["", "## Spatial join on every stored point (precincts)", "", "| rows | join | s |", "|---:|---|---:|"]
    for size in sizes:
        for name, s in results["joins"][size].items():
            if not name.startswith("_"):
                lines.append(f"| {size:,} | {name} | {s:.1f} |")
    big = sizes[-1]
    for name, plan in results["joins"][big]["_plans"].items():
        lines += ["", f"Plan, {name}:", "", "```", plan, "```"]
    for backend, reads in results["reads"].items():
        lines += [
            "",
            f"## Map page, one neighbourhood, {big:,} stored incidents: {backend}",
            "",
            f"Neighbourhoods (incidents stored): {', '.join(f'{k} ({v:,})' for k, v in reads['neighbourhoods'].items())}; "
            f"{len(reads['runs'])} page loads with cold dashboard caches; rows read per load: "
            f"{statistics.median(r['_rows'] for r in reads['runs']):,.0f} (median).",
            "",
            "| store call | median s | max s |",
            "|---|---:|---:|",
        ]
        lines += [f"| {name} | {m:.3f} | {x:.3f} |" for name, m, x in _summarise_reads(reads)]
        lines += [
            "",
            f"For comparison, the filters read from every incident (what the sidebar did before the summary): "
            f"{reads['filters from every incident (before the summary)']:.1f} s.",
        ]
        if "_explain_incidents" in reads:
            size, index_size, summary_rows = reads["_sizes"]
            lines += [
                "",
                f"incidents table {size} (indexes {index_size}); incident_months: {summary_rows:,} rows.",
                "",
                "```",
                reads["_explain_incidents"],
                "```",
                "",
                "```",
                reads["_explain_summary"],
                "```",
            ]
    return "\n".join(lines) + "\n"


def _pg_version() -> str:
    from tests._pgcluster import find_bin_dir

    return find_bin_dir().parent.name


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
