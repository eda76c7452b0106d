"""``areasafe pack`` and ``areasafe actions``: thin argument handling over :mod:`pipelines.act`.

``areasafe pack --neighbourhood CODE --month YYYY-MM --out FILE.pdf`` writes the meeting pack (``.html``
for the self-contained HTML file; ``--public`` for the public variant). ``areasafe actions list|history|
add|update|import`` reads and edits the actions register. Errors are :class:`~pipelines.errors.AreaSafeError`
subclasses: the main CLI prints them on one line and exits 2.
"""

from __future__ import annotations

import argparse
import json

from pipelines.plural import counted
from pipelines.schemas import ACTION_STATUSES, COLUMNS, FUNDING_SPHERES

_FIELDS = (
    ("decision", "what was decided"),
    ("owner-org", "department or organisation that does it"),
    ("owner-person", "person responsible"),
    ("due", "due date YYYY-MM-DD"),
    ("blocked-by", "what blocks it (required with --status blocked)"),
    ("unblocker", "who can unblock it (required with --status blocked)"),
    ("financial-year", "budget year, e.g. 2026/27 (needs --funding-sphere)"),
    ("intervention", "linked intervention id"),
    ("hotspot-cell", "linked H3 cell"),
    ("asset", "linked asset id"),
)
_RECORD_KEYS = {"owner-org": "owner_org", "owner-person": "owner_person", "blocked-by": "blocked_by"}
_RECORD_KEYS |= {"financial-year": "financial_year", "intervention": "intervention_id", "hotspot-cell": "hotspot_cell"}
_RECORD_KEYS |= {"asset": "asset_id"}


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """Add ``pack`` and ``actions`` to the main parser's subcommands."""
    pack = commands.add_parser("pack", help="write the ACT meeting pack (PDF or self-contained HTML)")
    pack.add_argument("--neighbourhood", required=True, metavar="CODE", help="Safe Neighbourhood code")
    pack.add_argument("--month", required=True, metavar="YYYY-MM", help="meeting month")
    pack.add_argument(
        "--out", required=True, metavar="FILE", help="FILE.pdf or FILE.html (the suffix picks the format)"
    )
    pack.add_argument("--public", action="store_true", help="public variant: no names, no report text, <5 for 1-4")
    pack.add_argument(
        "--stale-weeks", type=int, default=None, help="weeks without news that make an intervention stale"
    )

    actions = commands.add_parser("actions", help="the ACT actions register")
    verbs = actions.add_subparsers(dest="verb", required=True)
    listing = verbs.add_parser("list", help="current actions, overdue first")
    listing.add_argument("--neighbourhood", metavar="CODE")
    listing.add_argument("--status", choices=ACTION_STATUSES)
    listing.add_argument("--json", action="store_true")
    history = verbs.add_parser("history", help="every version of an action (or of a neighbourhood's actions)")
    history.add_argument("action_id", nargs="?")
    history.add_argument("--neighbourhood", metavar="CODE")
    history.add_argument("--json", action="store_true")
    add = verbs.add_parser("add", help="record a new action")
    add.add_argument("--neighbourhood", required=True, metavar="CODE")
    add.add_argument("--month", metavar="YYYY-MM", help="the meeting it came from (created if not stored)")
    update = verbs.add_parser("update", help="change an action (only the fields given)")
    update.add_argument("action_id")
    for sub in (add, update):
        for name, text in _FIELDS:
            sub.add_argument(f"--{name}", help=text, required=sub is add and name in ("decision", "owner-org"))
        sub.add_argument("--status", choices=ACTION_STATUSES, default="open" if sub is add else None)
        sub.add_argument("--funding-sphere", choices=FUNDING_SPHERES)
        sub.add_argument("--note", help="why it changed (kept in the history)")
        sub.add_argument("--user", help="who is recording it")
    load = verbs.add_parser("import", help="load an actions file (one row per version) and a meetings file")
    load.add_argument("file")
    load.add_argument("--meetings", metavar="FILE")


def run(args: argparse.Namespace, store) -> int:
    """Run ``pack`` or ``actions`` against ``store``."""
    if args.command == "pack":
        from pipelines.act.pack import pack_format, write_pack
        from pipelines.privacy import operator

        pack_format(args.out)  # a wrong suffix fails before any work
        out = write_pack(
            store,
            args.neighbourhood,
            args.month,
            args.out,
            viewer=operator(),
            public=args.public,
            stale_weeks=args.stale_weeks,
        )
        print(f"wrote the {'public ' if args.public else ''}meeting pack to {out}")
        return 0
    return _actions(args, store)


def _actions(args: argparse.Namespace, store) -> int:
    import datetime as dt

    from pipelines import access, privacy
    from pipelines.act import actions as register

    if args.verb == "list":
        table = register.read_actions(store, args.neighbourhood)
        if args.status:
            table = table[table[COLUMNS.status] == args.status]
        late = register.overdue(table, as_of=dt.date.today())
        table = table.assign(overdue=late).sort_values(["overdue", COLUMNS.due], ascending=[False, True])
        if args.json:
            print(table.to_json(orient="records", date_format="iso"))
        elif table.empty:
            print("no actions; record one with 'areasafe actions add ...' or in the dashboard's meeting mode")
        else:
            print(
                table[
                    [COLUMNS.action_id, COLUMNS.status, "overdue", COLUMNS.due, COLUMNS.owner_org, COLUMNS.decision]
                ].to_string(index=False)
            )
        return 0
    if args.verb == "history":
        log = register.read_history(store, action_id=args.action_id, neighbourhood_code=args.neighbourhood)
        if args.action_id and log.empty:
            raise register.ActionError(
                f"action_id {args.action_id!r} has no history; list actions with 'areasafe actions list'."
            )
        table = register.history_table(log)
        print(json.dumps(table.to_dict(orient="records"), default=str) if args.json else table.to_string(index=False))
        return 0
    if args.verb == "import":
        meetings, versions = register.import_actions(store, args.file, meetings=args.meetings)
        print(f"imported {counted(meetings, 'meeting')} and {counted(versions, 'new action version')}")
        return 0
    record = {_RECORD_KEYS.get(name, name): getattr(args, name.replace("-", "_")) for name, _ in _FIELDS}
    record = {k: v for k, v in record.items() if v is not None}
    record |= {k: getattr(args, k) for k in ("status", "funding_sphere") if getattr(args, k) is not None}
    if args.verb == "add":
        record |= {"neighbourhood_code": args.neighbourhood, "month": args.month}
    else:
        record[COLUMNS.action_id] = args.action_id
    # The dashboard's save: checked, stored with its history entry, and audited (as the command line's operator).
    saved = access.save_action(store, privacy.operator(args.user), record, note=args.note, user=args.user)
    print(f"saved {saved['action_id']}: {saved['status']}, due {saved['due'] or 'not set'}")
    return 0
