"""``loket records``: list calls, show one (audited), ``purge`` by retention, ``export``."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from datetime import date, datetime
from pathlib import Path

from config.settings import Settings
from records.store import Records, open_records

ACTIONS = ("purge", "export")
"""Words taken as a subcommand rather than a call id (call ids are UUIDs)."""


def _show(store: Records, settings: Settings, args: argparse.Namespace) -> int:
    call = store.call(args.call_id)
    if call is None:
        print(f"no call {args.call_id!r} in {store.where}", file=sys.stderr)
        return 1
    store.audit(getpass.getuser(), "read", args.call_id, args.why)
    record = {"call": call, "events": store.events(args.call_id)}
    print(json.dumps(record, indent=2, ensure_ascii=False))
    return 0


def _purge(store: Records, settings: Settings, args: argparse.Namespace) -> int:
    from records.retention import purge

    rs = settings.records
    report = store.run(
        lambda db: purge(
            db,
            time.time(),
            raw_retention_days=rs.raw_retention_days,
            retention_days=rs.retention_days,
            aggregate_retention_days=rs.aggregate_retention_days,
            dry_run=args.dry_run,
        )
    )
    if not args.dry_run:
        store.audit(getpass.getuser(), "purge", None, report.summary())
    print(report.summary())
    return 0


def _day(text: str | None, flag: str) -> date:
    if not text:
        raise SystemExit(f"loket records export: {flag} DATE (YYYY-MM-DD) is required")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"loket records export: {flag} {text!r} is not YYYY-MM-DD") from None


def _export(store: Records, settings: Settings, args: argparse.Namespace) -> int:
    from records.export import export

    start, end = _day(args.date_from, "--from"), _day(args.date_to, "--to")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(args.out) if args.out else settings.records.path.parent / "exports" / stamp
    try:
        result = store.run(lambda db: export(db, start, end, args.format, out))
    except ValueError as err:
        print(f"loket records export: {err}", file=sys.stderr)
        return 2
    store.audit(getpass.getuser(), "export", None, result.parameters(start, end, args.format))
    print(f"{result.calls} calls, {result.events} events -> {out}")
    return 0


def cmd_records(args: argparse.Namespace) -> int:
    from loket.cli import _settings_or_exit

    settings = _settings_or_exit()
    store = open_records(settings.records)
    try:
        if args.call_id == "purge":
            return _purge(store, settings, args)
        if args.call_id == "export":
            return _export(store, settings, args)
        if args.call_id:
            return _show(store, settings, args)
        for call in store.recent_calls(args.limit):
            print(json.dumps(call, ensure_ascii=False))
        return 0
    finally:
        store.close()


def add_records_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from records.export import FORMATS

    records = subparsers.add_parser(
        "records",
        help="show call records; `records purge`, `records export`",
        description="`loket records` lists calls; `loket records ID` shows one (the read is"
        " audited); `loket records purge [--dry-run]` applies records.raw_retention_days,"
        " records.retention_days and records.aggregate_retention_days;"
        " `loket records export --from DATE --to DATE --format F`"
        " writes an anonymised research export.",
    )
    records.add_argument("call_id", nargs="?", help="a call id, or purge / export")
    records.add_argument("--limit", type=int, default=20)
    records.add_argument("--why", help="reason for reading the record (audit log)")
    records.add_argument("--dry-run", action="store_true", help="purge: count only")
    records.add_argument("--from", dest="date_from", help="export: first day (YYYY-MM-DD)")
    records.add_argument("--to", dest="date_to", help="export: last day (YYYY-MM-DD)")
    records.add_argument("--format", choices=FORMATS, default="jsonl")
    records.add_argument("--out", help="export: directory (default var/exports/<time>)")
    records.set_defaults(func=cmd_records)
