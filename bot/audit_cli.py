"""`storybot audit ...`: the moderators' views from the command line."""
from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys

from retrieval.articles import load_corpus

from bot import audit_views
from bot.inert_text import for_csv_cell
from bot.audit import AuditLog, verify
from bot.settings import Settings

CSV_COLUMNS = [
    "id", "created_at", "guild_id", "channel_id", "user_id", "user_name", "question", "mode", "abstained",
    "corpus_version", "model", "latency_ms", "helpful", "not_helpful", "reports", "quotes_json", "feedback_json",
]


class NoAuditLog(Exception):
    pass


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.db.exists():
        # Reading must not create an empty log where the admin expected one.
        raise NoAuditLog(f"there is no audit log at {settings.db} yet (STORYBOT_DB sets where it is)")
    async with await AuditLog.open(settings.db) as audit:
        if args.view == "list":
            print(audit_views.entries_text(await audit.recent(args.limit)))
        elif args.view == "show":
            print(audit_views.entry_text(await audit.get(args.id)))
        elif args.view == "reported":
            print(audit_views.reported_text(await audit.reported(args.limit)))
        elif args.view == "stats":
            print(audit_views.stats_text(await audit.stats()))
        elif args.view == "verify":
            entry = await audit.get(args.id)
            checks = verify(entry, load_corpus(settings.corpus))
            print(audit_views.verify_text(entry, checks))
            return 0 if all(c.ok for c in checks) else 1
        elif args.view == "export":
            rows = await audit.export()
            if args.format == "jsonl":
                for row in rows:
                    sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
                writer = csv.DictWriter(sys.stdout, fieldnames=CSV_COLUMNS, extrasaction="ignore")
                writer.writeheader()
                for row in rows:
                    kinds = [f["kind"] for f in row.get("feedback", [])]
                    cells = {
                        **row,
                        "helpful": kinds.count("helpful"),
                        "not_helpful": kinds.count("not_helpful"),
                        "reports": kinds.count("report"),
                        "quotes_json": json.dumps(row.get("quotes", []), ensure_ascii=False),
                        "feedback_json": json.dumps(row.get("feedback", []), ensure_ascii=False),
                    }
                    # A question "=HYPERLINK(...)" must stay text when the file is opened in a spreadsheet.
                    writer.writerow({key: for_csv_cell(value) for key, value in cells.items()})
    return 0


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    try:
        return asyncio.run(_run(args, settings))
    except NoAuditLog as exc:
        print(f"storybot: {exc}", file=sys.stderr)
        return 1


def add_parser(sub: argparse._SubParsersAction) -> None:
    audit = sub.add_parser("audit", help="the moderators' audit log: list, show, reported, stats, verify, export")
    views = audit.add_subparsers(dest="view", metavar="VIEW", required=True)
    listing = views.add_parser("list", help="the latest answers")
    listing.add_argument("--limit", type=int, default=20)
    show = views.add_parser("show", help="one answer in full")
    show.add_argument("id", type=int)
    reported = views.add_parser("reported", help="answers members reported")
    reported.add_argument("--limit", type=int, default=20)
    views.add_parser("stats", help="questions, abstention rate, feedback, most asked")
    check = views.add_parser("verify", help="re-check that an answer's quotes are still verbatim (exit 1 if not)")
    check.add_argument("id", type=int)
    export = views.add_parser("export", help="every question with its quotes and feedback")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    audit.set_defaults(func=cmd_audit)
