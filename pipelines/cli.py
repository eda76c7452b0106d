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

import pandas as pd

from pipelines import periods, settings
from pipelines.errors import AreaSafeError
from pipelines.schemas import ALIAS_CHANGES, AREA_KINDS, AUDIT_EVENTS, COLUMNS, PLACED_KINDS, SOURCES, USER_ROLES
from pipelines.settings import default_store_url
from pipelines.store import StoreError, open_store
from pipelines.taxonomy import TaxonomyError

_COLUMN_OVERRIDES = ("lat", "lon", "geopoint", "x", "y", "date", "category", "id", "description", "area")
#: One line of help for an argument that means the same in every command it appears in (by its dest);
#: arguments declared with their own help keep it. A test checks every argument has one.
_HELP = {
    "file": "the file to load (CSV, Excel, GeoJSON, GeoPackage, zipped Shapefile ...)",
    "area_kind": "which kind of area the file holds: precinct, neighbourhood (Safe Neighbourhood) or ward",
    "boundary_version": (
        "the boundary version in words, e.g. 'CCT wards 2021 demarcation' (default: the kind, municipality and "
        "the demarcation year the file names); figures on wards say which version they used"
    ),
    "code_field": "the column holding each area's code (default: detected)",
    "name_field": "the column holding each feature's name (default: detected)",
    "layer": "the layer to read from a file with several (GeoPackage layer, File Geodatabase feature class, "
    "TopoJSON object, KML folder); without it such a file is refused with its layers listed",
    "municipality": "the municipality the areas belong to (recorded with them)",
    "source": "municipal (official records) or community (CSO surveys)",
    "org": "the organisation the records come from (recorded with every row)",
    "format": "the file's layout: auto (detected), kobo, odk, police-uk or plain",
    "lat_col": "the column holding latitudes (default: detected)",
    "lon_col": "the column holding longitudes (default: detected)",
    "geopoint_col": "the column holding 'lat lon [alt acc]' points, as Kobo/ODK write them (default: detected)",
    "x_col": "the column holding projected x coordinates (with --crs)",
    "y_col": "the column holding projected y coordinates (with --crs)",
    "date_col": "the column holding when the incident happened (default: detected)",
    "category_col": "the column holding the incident's category (default: detected)",
    "id_col": "the column holding the source's record id (default: detected; repeats are duplicates)",
    "description_col": "the column holding the free-text description (default: detected)",
    "date_format": (
        "how the dates are written: auto (the file's own dates decide; when every date reads both ways, day "
        "first), dmy (day first, 25/10/2015), mdy (month first, 10/25/2015), ymd (year first), or a pattern "
        "such as '%%m/%%d/%%y %%H:%%M' (%%d day, %%m month, %%Y or %%y year); default auto"
    ),
    "area_col": (
        "the column naming each row's area (ward, suburb or police station, by code or name): rows without a "
        "usable point are placed there, with no point (never guessed)"
    ),
    "dry_run": "read and check the file and print what would be stored and rejected, in words; store nothing",
    "asset_type": "asset type for rows without one, e.g. school",
    "json": "print JSON instead of a table",
    "batch_id": "the batch's id (listed by 'areasafe batches')",
    "format_out": "geojson, csv or gpkg",
    "out": "the file to write",
    "export_layer": "which stored layer to write (analysts and admins; audited)",
    "name": "the account's username",
    "password_stdin": "read the password from standard input (never from an argument)",
    "event": "only entries of this event",
    "user": "only entries by this user",
    "limit": "at most this many entries (default 50)",
    "port": "the port to serve on (default 8501)",
    "address": "the address to serve on (default 127.0.0.1: put a TLS proxy in front, docs/deploy.md)",
    "neighbourhood": "the Safe Neighbourhood's code",
    "status": "the action's status",
    "funding_sphere": "whose budget pays: municipal, provincial or national",
    "action_id": "the action's id (listed by 'areasafe actions list')",
    "meetings": "a meetings file to load with the actions",
    "sheet": "the Excel sheet to read (default: the sheet holding the submissions, not a repeat group's); "
    "a wrong name lists the sheets",
    "ward": "the ward: its number (99), 'Ward 99' or its code (2021-099)",
    "ward_month": "the month the report is for, YYYY-MM (local calendar month)",
    "ward_out": "FILE.pdf, FILE.html or FILE.png (the suffix picks the format); a PDF or HTML report also writes "
    "FILE-summary.png, the WhatsApp-sized summary",
    "ward_version": "the ward boundary version to use, by name or year (default: the version loaded last); "
    "'areasafe ward-report --list-versions' lists them",
    "list_versions": "list the stored ward boundary versions and exit",
    "report_role": "make the report as this role sees the data (default: the public rules)",
    "report_org": "the organisation, with --role cso",
    "no_summary": "do not write the WhatsApp-sized PNG summary beside a PDF or HTML report",
    "include_partial": (
        "keep the last month in trends even when it looks incomplete (a source has not uploaded since it "
        "ended, or it has far fewer reports than usual); by default it is left out and named"
    ),
}


#: Batch warnings that change how the file should be read, said with the option that changes it.
_IN_WORDS = {
    "identical_row": "{n} rows were identical to an earlier row (no record id) and were kept as separate events; "
    "--drop-identical-rows drops them as copies.",
    "identical_row_dropped": "{n} rows were identical to an earlier row (no record id) and were dropped as copies; "
    "--keep-identical-rows keeps them as separate events.",
    "ambiguous_date_order": "{n} dates read both ways (day/month or month/day) and no date settled it: they were "
    "read day first; --date-format mdy reads them month first.",
}


def _describe(parser: argparse.ArgumentParser) -> None:
    """Give every argument of ``parser`` and its sub-commands without help its line from :data:`_HELP`."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _describe(sub)
        elif action.help is None:
            action.help = _HELP.get(action.dest)


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

    boundaries = kinds.add_parser("boundaries", help="precinct, Safe Neighbourhood or ward polygons")
    boundaries.add_argument("file")
    boundaries.add_argument("--kind", required=True, choices=AREA_KINDS, dest="area_kind")
    boundaries.add_argument("--code-field")
    boundaries.add_argument("--name-field")
    boundaries.add_argument("--layer")
    boundaries.add_argument("--municipality")
    boundaries.add_argument("--version", dest="boundary_version", metavar="LABEL")

    incidents = kinds.add_parser("incidents", help="incident records (CSV, Excel, GeoJSON; Kobo/ODK/police.uk)")
    incidents.add_argument("file")
    incidents.add_argument("--source", required=True, choices=SOURCES)
    incidents.add_argument("--org")
    incidents.add_argument("--format", default="auto", choices=("auto", "kobo", "odk", "police-uk", "plain"))
    for role in _COLUMN_OVERRIDES:
        incidents.add_argument(f"--{role}-col", dest=f"{role}_col", metavar="COLUMN")
    incidents.add_argument("--crs", help="CRS of --x-col/--y-col, e.g. EPSG:32734")
    incidents.add_argument("--mapping", help="YAML column mapping file")
    incidents.add_argument("--sheet", metavar="NAME")
    incidents.add_argument("--date-format", default="auto", metavar="{auto,dmy,mdy,ymd,PATTERN}")
    identical = incidents.add_mutually_exclusive_group()
    identical.add_argument(
        "--keep-identical-rows",
        dest="keep_identical_rows",
        action="store_const",
        const=True,
        default=None,
        help="keep rows identical to an earlier row (and without a record id) as separate events, e.g. people "
        "searched together (default: kept for police.uk files, dropped as copies otherwise)",
    )
    identical.add_argument(
        "--drop-identical-rows",
        dest="keep_identical_rows",
        action="store_const",
        const=False,
        help="drop rows identical to an earlier row (and without a record id) as copies; the count is reported",
    )
    incidents.add_argument(
        "--area-kind",
        default=settings.SETTINGS.area_kind,
        choices=PLACED_KINDS,
        help="which stored areas --area-col names: neighbourhood (Safe Neighbourhoods, the default) or precinct "
        "(police stations)",
    )
    incidents.add_argument(
        "--snap-m",
        type=float,
        metavar="METRES",
        help="points outside every area but within this many metres of one are placed in the nearest "
        f"(default: {settings.SETTINGS.edge_tolerance_m:g}; 0 turns it off)",
    )
    incidents.add_argument("--dry-run", action="store_true")

    counts = kinds.add_parser("counts", help="counts per station/precinct, category and period (SAPS layout)")
    counts.add_argument("file")
    counts.add_argument("--source", default="municipal", choices=SOURCES)
    counts.add_argument("--org")
    counts.add_argument("--area-kind", default="precinct", choices=AREA_KINDS)
    counts.add_argument("--area-field", help="column naming the station/area (default: detected)")
    counts.add_argument(
        "--category-col",
        metavar="COLUMN",
        help="the column holding the crime category (default: detected: category, crime_category, crime_type, crime)",
    )

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

    batches = commands.add_parser("batches", help="list ingest batches, or delete one ('batches delete ID')")
    batches.add_argument("--json", action="store_true")
    batch_commands = batches.add_subparsers(dest="batch_command")
    delete = batch_commands.add_parser(
        "delete", help="erase a batch's rows (incidents, rejections, raw copies); the record stays as a tombstone"
    )
    delete.add_argument("batch_id")
    delete.add_argument("--reason", help="why, e.g. 'CSO withdrew consent' (recorded with the tombstone)")

    export = commands.add_parser("export", help="write a layer to a file, or the public view with --public")
    export.add_argument("format", choices=("geojson", "csv", "gpkg"), help=_HELP["format_out"])
    export.add_argument("out", help=_HELP["out"])
    export.add_argument(
        "--layer",
        default="incidents",
        choices=("incidents", "assets", "interventions", "areas"),
        help=_HELP["export_layer"],
    )
    export.add_argument(
        "--public",
        action="store_true",
        help="write exactly the public view: counts per area and H3 hexagon, counts below 5 as '<5', "
        "no points, no free text (geojson or csv)",
    )
    export.add_argument("--start", metavar="YYYY-MM", help="with --public: first local month counted")
    export.add_argument("--end", metavar="YYYY-MM", help="with --public: last local month counted")
    export.add_argument("--category", action="append", help="with --public: count only this category (repeatable)")

    users = commands.add_parser("users", help="manage dashboard accounts")
    user_commands = users.add_subparsers(dest="user_command", required=True)
    add = user_commands.add_parser("add", help="create an account (the password is read from standard input)")
    add.add_argument("name")
    add.add_argument("--role", required=True, help=f"one of {', '.join(USER_ROLES)}")
    add.add_argument("--org", help="organisation (required for cso)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--sso-only", action="store_true", help="no password: the account logs in through SSO only")
    listing = user_commands.add_parser("list", help="list accounts (never their passwords)")
    listing.add_argument("--json", action="store_true")
    for verb, text in (("disable", "stop an account logging in"), ("enable", "let a disabled account log in")):
        user_commands.add_parser(verb, help=text).add_argument("name")
    set_role = user_commands.add_parser("set-role", help="change an account's role")
    set_role.add_argument("name")
    set_role.add_argument("role", help=f"one of {', '.join(USER_ROLES)}")
    set_role.add_argument("--org", help="organisation (required when the new role is cso)")
    set_password = user_commands.add_parser("set-password", help="set a new password (read from standard input)")
    set_password.add_argument("name")
    set_password.add_argument("--password-stdin", action="store_true", required=True)

    audit_log = commands.add_parser("audit", help="show the audit log, newest first")
    audit_log.add_argument("--event", choices=AUDIT_EVENTS)
    audit_log.add_argument("--user")
    audit_log.add_argument("--limit", type=int, default=50)
    audit_log.add_argument("--json", action="store_true")

    taxonomy = commands.add_parser("taxonomy", help="raw category terms the taxonomy cannot place, and mapping them")
    taxonomy_commands = taxonomy.add_subparsers(dest="taxonomy_command", required=True)
    unmapped = taxonomy_commands.add_parser(
        "unmapped", help="list stored terms that match no category (sensitive until mapped), with counts"
    )
    unmapped.add_argument("--json", action="store_true")
    map_term = taxonomy_commands.add_parser(
        "map", help="map a raw term to a category code and re-classify the stored incidents (analyst, admin)"
    )
    map_term.add_argument("term", help="the raw category as delivered (case and punctuation are ignored)")
    map_term.add_argument("category", help="a taxonomy code, e.g. anti_social_behaviour (see data/taxonomy.yaml)")
    map_term.add_argument("--user", help="who is mapping it (recorded in the audit log)")
    taxonomy_commands.add_parser(
        "reclassify", help="apply the current taxonomy and sensitive-wording rule to stored incidents"
    )

    areas = commands.add_parser("areas", help="other names of areas: station renames, merges and spellings")
    area_commands = areas.add_subparsers(dest="areas_command", required=True)
    alias = area_commands.add_parser(
        "alias", help="record that a name used in files means a stored area (used by every later upload)"
    )
    alias.add_argument("alias_name", metavar="NAME", help="the name as the file spells it, e.g. 'Kwa Mashu E'")
    alias.add_argument("alias_area", metavar="AREA", help="the stored area's name or code, e.g. 'Kwamashu E'")
    alias.add_argument("--kind", required=True, choices=AREA_KINDS, dest="area_kind")
    alias.add_argument(
        "--change", default="renamed", choices=ALIAS_CHANGES, help="how the other name came about (default: renamed)"
    )
    alias.add_argument("--note", help="why, e.g. when the station was renamed (recorded with the alias)")
    alias.add_argument("--user", help="who is adding it (recorded with the alias)")
    listed = area_commands.add_parser("aliases", help="list the other names the matching uses (shipped and added)")
    listed.add_argument("--kind", default="precinct", choices=AREA_KINDS, dest="area_kind")
    listed.add_argument("--json", action="store_true")

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

    ward = commands.add_parser("ward-report", help="write a ward councillor's report (2 A4 pages) for one month")
    ward.add_argument("--ward", metavar="CODE")
    ward.add_argument("--month", dest="ward_month", metavar="YYYY-MM")
    ward.add_argument("--out", dest="ward_out", metavar="FILE")
    ward.add_argument("--boundary-version", dest="ward_version", metavar="NAME")
    ward.add_argument("--list-versions", action="store_true")
    ward.add_argument("--role", dest="report_role", choices=USER_ROLES)
    ward.add_argument("--org", dest="report_org")
    ward.add_argument("--no-summary", action="store_true")

    try:
        from pipelines.hotspots import cli as hotspots_cli
    except ImportError:
        hotspots_cli = None
    if hotspots_cli is not None:
        hotspots_cli.add_parser(commands)
    from pipelines.act import cli as act_cli

    act_cli.add_parsers(commands)
    _describe(parser)
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
    for label, counts in (("rejections", summary[COLUMNS.rejections]), ("warnings", summary[COLUMNS.warnings])):
        if counts:
            print(f"  {label}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    for note in summary[COLUMNS.notes]:
        print(f"  note: {note}")
    for code, sentence in _IN_WORDS.items():
        if summary[COLUMNS.warnings].get(code):
            print(f"  {sentence.format(n=summary['warnings'][code])}")


def _ingest(store, args) -> int:
    from pipelines import access, privacy
    from pipelines.ingest import assets, boundaries, counts, incidents, interventions

    if args.kind == "boundaries":
        batch = boundaries.ingest_boundaries(
            store,
            args.file,
            kind=args.area_kind,
            user=args.user,
            code_field=args.code_field,
            name_field=args.name_field,
            layer=args.layer,
            municipality=args.municipality,
            version=args.boundary_version,
        )
    elif args.kind == "incidents":
        overrides = {role: getattr(args, f"{role}_col") for role in _COLUMN_OVERRIDES}
        overrides["crs"] = args.crs
        options = dict(
            source=args.source,
            org=args.org,
            user=args.user,
            format=args.format,
            mapping_file=args.mapping,
            overrides=overrides,
            sheet=args.sheet,
            date_format=args.date_format,
            keep_identical_rows=args.keep_identical_rows,
            area_kind=args.area_kind,
            snap_m=args.snap_m,
        )
        if args.dry_run:
            return _dry_run(store, args, options)
        update, close = _progress()
        try:
            batch = incidents.ingest_incidents(store, args.file, **options, progress=update)
        finally:
            close()
    elif args.kind == "counts":
        batch = counts.ingest_counts(
            store,
            args.file,
            source=args.source,
            org=args.org,
            user=args.user,
            area_kind=args.area_kind,
            area_field=args.area_field,
            category_col=args.category_col,
        )
    elif args.kind == "assets":
        batch = assets.ingest_assets(
            store,
            args.file,
            abcd_category=args.abcd_category,
            asset_type=args.asset_type,
            name_field=args.name_field,
            user=args.user,
        )
    else:
        batch = interventions.ingest_interventions(store, args.file, user=args.user)
    access.record_upload(store, privacy.operator(args.user), batch)  # the same audit entry as the dashboard's
    _print_batch(batch, as_json=args.json)
    return 0


def _dry_run(store, args, options: dict) -> int:
    """``ingest incidents --dry-run``: the upload page's dry run (:func:`pipelines.ingest.report.dry_run_report`),
    printed; nothing is written, not even an audit entry."""
    from pipelines.ingest import incidents, report

    prepared = incidents.prepare_incidents(store, args.file, **options)
    found = report.dry_run_report(prepared)
    if args.json:
        summary = {key: value for key, value in prepared.batch.summary().items() if key != "batch_id"}
        words = {
            "headline": found.headline,
            "warnings": found.warnings,
            "rejections": found.rejections,
            "duplicates": found.duplicate_reasons,
            "notes": found.notes,
        }
        print(json.dumps({**summary, "in_words": words, "stored": False}))
        return 0
    columns = ["Columns used:", *(f"  {line}" for line in report.mapping_lines(prepared.mapping))]
    columns += [f"  {note}" for note in report.mapping_notes(prepared.mapping)]
    columns.append("  (Choose a column with --lat-col, --date-col, --category-col, --description-col and the like.)")
    print("\n".join([*columns, "", *found.lines()]))
    print("\nDry run: nothing was stored. Run the same command without --dry-run to store the file.")
    return 0


def _batches(store, args) -> int:
    from pipelines import access, privacy

    if args.batch_command == "delete":
        removed = access.delete_batch(store, privacy.operator(), args.batch_id, reason=args.reason)
        print(f"deleted batch {args.batch_id}: {removed} rows removed; its record is kept as withdrawn")
        return 0
    batches = store.read_batches()
    if args.json:
        records = batches.assign(created_at=batches[COLUMNS.created_at].astype(str)).to_dict(orient="records")
        for record in records:
            for key in ("warnings", "rejections"):
                record[key] = json.loads(record[key] or "{}")
            record[COLUMNS.notes] = json.loads(record.get(COLUMNS.notes) or "[]")
        print(json.dumps(records, default=str))
        return 0
    if batches.empty:
        print("no batches yet; load data with 'areasafe ingest ...' or 'areasafe demo'")
        return 0
    columns = [
        COLUMNS.created_at,
        COLUMNS.batch_id,
        COLUMNS.kind,
        COLUMNS.file_name,
        COLUMNS.org,
        COLUMNS.rows_read,
        COLUMNS.accepted,
        COLUMNS.rejected,
        COLUMNS.duplicates,
    ]
    shown = batches[columns].astype(object)
    shown["withdrawn"] = batches[COLUMNS.withdrawn_at].map(lambda t: "" if pd.isna(t) else f"{t:%Y-%m-%d}")
    print(shown.to_string(index=False))
    return 0


def _read_password(*, required: bool) -> str | None:
    """The password from standard input (first line, without its newline)."""
    if not required:
        return None
    if sys.stdin is None or sys.stdin.isatty():
        raise AreaSafeError("--password-stdin reads the password from standard input; pipe it in, don't type it")
    return sys.stdin.readline().rstrip("\r\n")


def _users(store, args) -> int:
    from pipelines import auth, privacy

    actor = privacy.operator()
    name = getattr(args, "name", None)
    if args.user_command == "add":
        if not args.password_stdin and not args.sso_only:
            raise AreaSafeError("give the password with --password-stdin (piped in), or create an --sso-only account")
        password = _read_password(required=args.password_stdin)
        auth.add_user(store, name, role=args.role, org=args.org, password=password, sso_only=args.sso_only, actor=actor)
        print(f"added {name} ({args.role}{', ' + args.org if args.org else ''})")
    elif args.user_command == "list":
        users = auth.list_users(store, actor)
        if args.json:
            print(users.to_json(orient="records", date_format="iso"))
        elif users.empty:
            print(
                "no accounts yet; create the first admin with 'areasafe users add admin --role admin --password-stdin'"
            )
        else:
            print(users.to_string(index=False))
    elif args.user_command in ("disable", "enable"):
        auth.set_disabled(store, name, args.user_command == "disable", actor=actor)
        print(f"{args.user_command}d {name}")
    elif args.user_command == "set-role":
        auth.set_role(store, name, args.role, org=args.org, actor=actor)
        print(f"{name} is now {args.role}")
    else:
        auth.set_password(store, name, _read_password(required=True), actor=actor)
        print(f"password of {name} changed")
    return 0


def _audit(store, args) -> int:
    from pipelines import audit, privacy

    log = audit.read_log(store, privacy.operator(), event=args.event, user=args.user, limit=args.limit)
    if args.json:
        print(log.to_json(orient="records", date_format="iso"))
    elif log.empty:
        print("the audit log is empty")
    else:
        print(log.to_string(index=False, max_colwidth=80))
    return 0


def _taxonomy(store, args) -> int:
    from pipelines import privacy, terms

    if args.taxonomy_command == "unmapped":
        unmapped = terms.unmapped_terms(store)
        if args.json:
            print(unmapped.to_json(orient="records"))
        elif unmapped.empty:
            print("every stored category term is mapped")
        else:
            print(unmapped.to_string(index=False, max_colwidth=60))
            print(
                f"{int(unmapped['incidents'].sum())} incidents under these terms are treated as sensitive until "
                f"an {' or '.join(terms.MAPPER_ROLES)} maps them: {terms.MAP_COMMAND}"
            )
        return 0
    if args.taxonomy_command == "map":
        result = terms.map_term(store, privacy.operator(args.user), args.term, args.category)
        was = f" (was {result.previous})" if result.previous else ""
        print(f"{result.term!r} -> {result.category}{was}: {result.incidents} stored incidents re-classified")
        return 0
    changed = terms.reclassify_stored(store, privacy.operator())
    print(f"{changed} stored incidents re-classified")
    return 0


def _areas(store, args) -> int:
    from pipelines import areanames

    if args.areas_command == "alias":
        alias = areanames.add_alias(
            store, args.area_kind, args.alias_name, args.alias_area, change=args.change, note=args.note, user=args.user
        )
        print(f"{alias.name!r} now means the stored {args.area_kind} {alias.area!r} ({alias.change})")
        return 0
    shipped = areanames.shipped_aliases(args.area_kind)
    added = areanames.stored_aliases(store, args.area_kind)
    records = [{**vars(a), "where": "shipped"} for a in shipped] + [{**vars(a), "where": "added"} for a in added]
    if args.json:
        print(json.dumps(records))
        return 0
    for r in records:
        print(
            f"{r['name']!r} -> {r['area']!r}  ({r['change']}, {r['where']})"
            + (f": {r['note']}" if r[COLUMNS.note] else "")
        )
    return 0


def _export(store, args) -> int:
    from pipelines import export, privacy

    if not args.public:
        if args.start or args.end or args.category:
            raise AreaSafeError("--start, --end and --category go with --public")
        n = export.export_layer(store, args.format, args.out, layer=args.layer, viewer=privacy.operator())
        print(f"wrote {n} {args.layer} to {args.out}")
        return 0
    from pipelines.periods import month_bounds
    from pipelines.store import IncidentQuery

    start = end = None
    try:
        if args.start:
            start = month_bounds(pd.Period(args.start, "M"))[0]
        if args.end:
            end = month_bounds(pd.Period(args.end, "M"))[1]
    except ValueError:
        raise AreaSafeError(f"--start/--end must be months like 2025-06; got {args.start!r}, {args.end!r}") from None
    period = f"{args.start or 'first'} to {args.end or 'last'}" if (args.start or args.end) else "all"
    query = IncidentQuery(start=start, end=end, categories=args.category)
    n = export.export_public(store, args.format, args.out, query=query, period=period, viewer=privacy.operator())
    print(f"wrote the public view ({n} areas and hexagons, counts below 5 as '<5') to {args.out}")
    return 0


def _db(args, url: str) -> int:
    """``areasafe db upgrade|current``: migrations run here, never when a store is opened."""
    from pipelines.store import _pg_conn, _pg_migrate, is_postgres_url

    url = args.db_store or url
    if not is_postgres_url(url):
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
    else:  # read again: another upgrade may have run while this one waited for the migration lock
        with _pg_conn.connect(url) as conn:
            print(f"{where}: already at schema revision {_pg_migrate.current_revision(conn)}")
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
            return _export(store, args)
        if args.command == "users":
            return _users(store, args)
        if args.command == "audit":
            return _audit(store, args)
        if args.command == "taxonomy":
            return _taxonomy(store, args)
        if args.command == "areas":
            return _areas(store, args)
        if args.command == "ward-report":
            return _ward_report(store, args)
        if args.command == "hotspots":
            from pipelines.hotspots import cli as hotspots_cli

            return hotspots_cli.run(args, store)
        if args.command in ("pack", "actions"):
            from pipelines.act import cli as act_cli

            return act_cli.run(args, store)
    raise AssertionError(f"unhandled command {args.command}")


def _ward_report(store, args: argparse.Namespace) -> int:
    from pipelines import crosswalk, wardreport

    if args.list_versions:
        versions = crosswalk.boundary_versions(store, "ward")
        if versions.empty:
            print("no ward boundaries are stored; load them with 'areasafe ingest boundaries --kind ward FILE'")
        for row in versions.itertuples():
            loaded = "" if pd.isna(row.loaded_at) else f", loaded {periods.to_local(row.loaded_at):%Y-%m-%d}"
            print(f"{row.version}: {row.areas} wards from {row.file_name}{loaded}")
        return 0
    missing = [
        f"--{name}"
        for name, value in (("ward", args.ward), ("month", args.ward_month), ("out", args.ward_out))
        if not value
    ]
    if missing:
        raise crosswalk.WardError(f"ward-report needs {', '.join(missing)} (or --list-versions).")
    wardreport.report_format(args.ward_out)  # a wrong suffix fails before any work
    viewer = wardreport.report_viewer(args.report_role, args.report_org)
    written = wardreport.write_report(
        store,
        args.ward,
        args.ward_month,
        args.ward_out,
        viewer=viewer,
        version=args.ward_version,
        summary_png=not args.no_summary,
    )
    who = "the public rules" if viewer.is_public else f"the {viewer.role} role"
    print(f"wrote the ward report ({who}) to {', '.join(str(p) for p in written)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (AreaSafeError, TaxonomyError, FileNotFoundError, ValueError) as exc:
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
