"""The ``areasafe`` command line: thin argument handling over the ingest, export and demo recipes.

Exit codes: 0 when the command ran (an ingest with rejected rows still exits 0); 2 with a one-line
message on stderr when the input or the store cannot be used. No traceback is shown for those.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from pipelines.errors import AreaSafeError
from pipelines.schemas import AREA_KINDS, SOURCES
from pipelines.settings import default_store_url
from pipelines.store import StoreError, open_store
from pipelines.taxonomy import TaxonomyError

_COLUMN_OVERRIDES = ("lat", "lon", "geopoint", "x", "y", "date", "category", "id", "description")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="areasafe", description="AreaSafe: safety data for Safe Neighbourhoods.")
    parser.add_argument(
        "--store",
        default=None,
        help="GeoPackage path or postgresql:// URL (default: $AREASAFE_STORE or data/areasafe.gpkg)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="load a file into the store")
    kinds = ingest.add_subparsers(dest="kind", required=True)

    boundaries = kinds.add_parser("boundaries", help="precinct or Safe Neighbourhood polygons")
    boundaries.add_argument("file")
    boundaries.add_argument("--kind", required=True, choices=AREA_KINDS, dest="area_kind")
    boundaries.add_argument("--code-field")
    boundaries.add_argument("--name-field")
    boundaries.add_argument("--layer")
    boundaries.add_argument("--municipality")

    incidents = kinds.add_parser("incidents", help="incident records (CSV, Excel, GeoJSON; Kobo/ODK/police.uk)")
    incidents.add_argument("file")
    incidents.add_argument("--source", required=True, choices=SOURCES)
    incidents.add_argument("--org")
    incidents.add_argument("--format", default="auto", choices=("auto", "kobo", "odk", "police-uk", "plain"))
    for role in _COLUMN_OVERRIDES:
        incidents.add_argument(f"--{role}-col", dest=f"{role}_col", metavar="COLUMN")
    incidents.add_argument("--crs", help="CRS of --x-col/--y-col, e.g. EPSG:32734")
    incidents.add_argument("--mapping", help="YAML column mapping file")

    counts = kinds.add_parser("counts", help="counts per station/precinct, category and period (SAPS layout)")
    counts.add_argument("file")
    counts.add_argument("--source", default="municipal", choices=SOURCES)
    counts.add_argument("--org")
    counts.add_argument("--area-kind", default="precinct", choices=AREA_KINDS)
    counts.add_argument("--area-field", help="column naming the station/area (default: detected)")

    assets = kinds.add_parser("assets", help="ABCD community assets")
    assets.add_argument("file")
    assets.add_argument("--abcd-category", help="category for files without an abcd_category column")
    assets.add_argument("--type", dest="asset_type")
    assets.add_argument("--name-field")

    interventions = kinds.add_parser("interventions", help="interventions with status, lead and budget")
    interventions.add_argument("file")

    for sub in (boundaries, incidents, counts, assets, interventions):
        sub.add_argument("--user", help="who is loading the file (recorded in the batch)")
        sub.add_argument("--json", action="store_true", help="print one JSON object")

    commands.add_parser("demo", help="build the demo Safe Neighbourhood into the store")

    batches = commands.add_parser("batches", help="list ingest batches")
    batches.add_argument("--json", action="store_true")

    export = commands.add_parser("export", help="write a layer to a file")
    export.add_argument("format", choices=("geojson", "csv", "gpkg"))
    export.add_argument("out")
    export.add_argument("--layer", default="incidents", choices=("incidents", "assets", "interventions", "areas"))

    db = commands.add_parser("db", help="the store's schema: create or upgrade a PostGIS database (Alembic)")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="create or upgrade the schema to this version's (alembic upgrade)")
    upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    upgrade.add_argument("--sql", action="store_true", help="print the SQL instead of running it (for a DBA)")
    current = db_commands.add_parser("current", help="print the schema revision of the store")
    for sub in (upgrade, current):
        sub.add_argument("--store", dest="db_store", default=None, help="the store (same as the global --store)")

    serve = commands.add_parser("serve", help="run the dashboard (builds the demo first when the store is empty)")
    serve.add_argument("--port", type=int, default=8501)
    serve.add_argument("--address", default="127.0.0.1")

    try:
        from pipelines.hotspots import cli as hotspots_cli
    except ImportError:
        hotspots_cli = None
    if hotspots_cli is not None:
        hotspots_cli.add_parser(commands)
    return parser


def _progress():
    """A tqdm progress callback on a terminal, else a no-op."""
    if not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=100, unit="%", leave=False, bar_format="{desc:<22}{bar}| {n_fmt}%")

    def update(step: str, fraction: float) -> None:
        bar.set_description(step)
        bar.update(max(0, int(fraction * 100) - bar.n))

    return update, bar.close


def _print_batch(batch, *, as_json: bool) -> None:
    summary = batch.summary()
    if as_json:
        print(json.dumps(summary, sort_keys=True))
        return
    print(
        f"batch {summary['batch_id']}: {summary['rows_read']} rows read, {summary['accepted']} accepted, "
        f"{summary['rejected']} rejected, {summary['duplicates']} duplicates, "
        f"{summary['outside_areas']} outside every area"
    )
    for label, counts in (("rejections", summary["rejections"]), ("warnings", summary["warnings"])):
        if counts:
            print(f"  {label}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))


def _ingest(store, args) -> int:
    from pipelines import ingest, registers

    if args.kind == "boundaries":
        batch = ingest.ingest_boundaries(
            store,
            args.file,
            kind=args.area_kind,
            user=args.user,
            code_field=args.code_field,
            name_field=args.name_field,
            layer=args.layer,
            municipality=args.municipality,
        )
    elif args.kind == "incidents":
        overrides = {role: getattr(args, f"{role}_col") for role in _COLUMN_OVERRIDES}
        overrides["crs"] = args.crs
        update, close = _progress()
        try:
            batch = ingest.ingest_incidents(
                store,
                args.file,
                source=args.source,
                org=args.org,
                user=args.user,
                format=args.format,
                mapping_file=args.mapping,
                overrides=overrides,
                progress=update,
            )
        finally:
            close()
    elif args.kind == "counts":
        batch = ingest.ingest_counts(
            store,
            args.file,
            source=args.source,
            org=args.org,
            user=args.user,
            area_kind=args.area_kind,
            area_field=args.area_field,
        )
    elif args.kind == "assets":
        batch = registers.ingest_assets(
            store,
            args.file,
            abcd_category=args.abcd_category,
            asset_type=args.asset_type,
            name_field=args.name_field,
            user=args.user,
        )
    else:
        batch = registers.ingest_interventions(store, args.file, user=args.user)
    _print_batch(batch, as_json=args.json)
    return 0


def _batches(store, args) -> int:
    batches = store.read_batches()
    if args.json:
        records = batches.assign(created_at=batches["created_at"].astype(str)).to_dict(orient="records")
        for record in records:
            for key in ("warnings", "rejections"):
                record[key] = json.loads(record[key] or "{}")
        print(json.dumps(records, default=str))
        return 0
    if batches.empty:
        print("no batches yet; load data with 'areasafe ingest ...' or 'areasafe demo'")
        return 0
    columns = ["created_at", "kind", "file_name", "org", "rows_read", "accepted", "rejected", "duplicates"]
    print(batches[columns].to_string(index=False))
    return 0


def _db(args, url: str) -> int:
    """``areasafe db upgrade|current``: migrations run here, never when a store is opened."""
    from pipelines.store import _pg_conn, _pg_migrate

    url = args.db_store or url
    if not _pg_conn.is_postgres_url(url):
        if getattr(args, "sql", False):
            raise StoreError(
                f"--sql prints PostGIS migrations; {url!r} is a GeoPackage (it upgrades itself when opened)"
            )
        with open_store(url):
            pass
        print(f"{url} is a GeoPackage at the current schema (GeoPackages are created and upgraded when opened)")
        return 0
    where = _pg_conn.redact(url)
    if args.db_command == "upgrade" and args.sql:
        print(_pg_migrate.upgrade_sql(revision=args.revision))
        return 0
    with _pg_conn.connect(url) as conn:  # a clear message when the server cannot be reached
        revision = _pg_migrate.current_revision(conn)
    if args.db_command == "current":
        print(
            f"{where}: schema revision {revision or 'none (run areasafe db upgrade)'}; "
            f"this AreaSafe needs {_pg_migrate.HEAD_REVISION}"
        )
        return 0
    from alembic.util import CommandError
    from sqlalchemy.exc import DBAPIError

    try:
        applied = _pg_migrate.upgrade(url, revision=args.revision)
    except DBAPIError as exc:
        reason = " ".join(str(exc.orig).split())
        raise StoreError(
            f"upgrading {where} failed and changed nothing: {reason}. Run it as the database owner "
            "(the first upgrade also needs the right to CREATE EXTENSION postgis, or a DBA who created it)."
        ) from exc
    except CommandError as exc:
        raise StoreError(
            f"cannot upgrade {where} to --revision {args.revision!r}: {exc}; revisions are "
            f"{', '.join(_pg_migrate.REVISIONS)} (default: head)"
        ) from exc
    if applied:
        print(f"{where}: applied schema revisions {', '.join(map(str, applied))}; now at {applied[-1]}")
    else:
        print(f"{where}: already at schema revision {revision}")
    return 0


def _run(args) -> int:
    url = args.store or default_store_url()
    if args.command == "db":
        return _db(args, url)
    if args.command == "serve":
        from dashboard.launch import serve
        from pipelines.demo import build_demo

        with open_store(url) as store:
            if store.is_empty():
                print(f"building the demo store in {url} ...", file=sys.stderr)
                build_demo(store)
        return serve(url, port=args.port, address=args.address)
    with open_store(url) as store:
        if args.command == "ingest":
            return _ingest(store, args)
        if args.command == "demo":
            from pipelines.demo import build_demo

            for batch in build_demo(store):
                print(
                    f"{batch.kind:<14} {batch.file_name:<28} accepted {batch.accepted:>6}  rejected "
                    f"{batch.rejected:>4}  duplicates {batch.duplicates:>4}"
                )
            print(f"demo store ready: {url}")
            return 0
        if args.command == "batches":
            return _batches(store, args)
        if args.command == "export":
            from pipelines.export import export_layer

            n = export_layer(store, args.format, args.out, layer=args.layer)
            print(f"wrote {n} {args.layer} to {args.out}")
            return 0
        if args.command == "hotspots":
            from pipelines.hotspots import cli as hotspots_cli

            return hotspots_cli.run(args, store)
    raise AssertionError(f"unhandled command {args.command}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (AreaSafeError, StoreError, TaxonomyError, FileNotFoundError, ValueError) as exc:
        if os.environ.get("AREASAFE_DEBUG"):
            raise
        message = " ".join(str(exc).split())
        print(f"areasafe: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("areasafe: interrupted; nothing from the unfinished batch was stored", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
