"""`storybot audit ...`: the moderators' views from the command line."""
from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys

from retrieval.answer import Status
from retrieval.articles import load_corpus

from pathlib import Path

from bot import audit_views
from bot.audit_store import Scope
from bot.inert_text import for_csv_cell, json_line
from bot.store import UnknownAuditId, is_postgres, open_store, verify
from bot.store.community import UnknownQuote
from bot.store.labels import VERDICTS, BadLabel, UnknownLabel
from bot.lessons import labelled_against
from bot.settings import Settings

CSV_COLUMNS = [
    "id", "created_at", "guild_id", "channel_id", "user_id", "user_name", "question", "mode", "abstained",
    "status", "reason", "source", "corpus_version", "model", "latency_ms", "helpful", "not_helpful", "reports", "quotes_json", "feedback_json",
    "label_json",
]


class NoAuditLog(Exception):
    pass


def _scope(args: argparse.Namespace) -> Scope:
    # The operator sees every server and the DMs; --guild shows what that server's moderators see.
    return Scope.guild(args.guild) if getattr(args, "guild", None) else Scope.operator()


def require_log(db: str, consequence: str = "") -> None:
    """NoAuditLog unless the audit log at `db` exists: reading must not create an empty log where
    the admin expected one. `consequence`: what its absence means for the command."""
    if not is_postgres(db) and not Path(db).exists():
        raise NoAuditLog(f"there is no audit log at {db} yet{consequence} (STORYBOT_DB sets where it is)")


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    require_log(settings.db)
    scope = _scope(args)
    audit = await open_store(settings.db)
    try:
        if args.view == "list":
            print(audit_views.entries_text(await audit.recent(scope, args.limit, status=args.status)))
        elif args.view == "show":
            print(audit_views.entry_with_labels_text(await audit.get(scope, args.id),
                                                     await audit.labels(scope, audit_id=args.id)))
        elif args.view == "reported":
            print(audit_views.reported_text(await audit.reported(scope, args.limit)))
        elif args.view == "stats":
            print(audit_views.stats_text(await audit.stats(scope)))
        elif args.view == "verify":
            entry = await audit.get(scope, args.id)
            checks = verify(entry, load_corpus(settings.corpus))
            print(audit_views.verify_text(entry, checks))
            return 0 if all(c.ok for c in checks) else 1
        elif args.view == "forget":
            gone = await audit.forget(scope, args.user_id)
            where = f"server {args.guild}" if args.guild else "every server and the DMs"
            print(f"forgot member {args.user_id} in {where}: {gone.questions} questions removed, "
                  f"{gone.feedback} votes and reports deleted, {gone.moderation} moderation records pseudonymised")
            if gone.posts:  # the command line has no Discord connection: the operator edits or deletes them
                print(f"{len(gone.posts)} of the bot's Discord posts still show what was removed; delete them in "
                      "Discord (a member's own /forget-me edits them):")
                for item in gone.posts:
                    post = item.post
                    print(f"  https://discord.com/channels/{post.guild_id}/{post.channel_id}/{post.message_id}")
        elif args.view == "expire":
            gone = await audit.delete_older_than(args.days)
            print(f"removed what members left before {args.days:g} days ago: {gone.questions} questions, "
                  f"{gone.feedback} votes and reports")
        elif args.view == "label":
            label = await audit.label(scope, args.id, args.verdict, quote_rank=args.quote, note=args.note,
                                      against=labelled_against(load_corpus(settings.corpus)), user_name="command line")
            print(f"labelled: {audit_views.label_line(label)}")
        elif args.view == "labels":
            print(audit_views.labels_text(await audit.labels(scope, audit_id=args.answer)))
        elif args.view == "unlabel":
            label = await audit.unlabel(scope, args.label_id)
            print(f"removed: {audit_views.label_line(label)}")
        elif args.view == "export":
            rows = await audit.export(scope)
            if args.format == "jsonl":
                for row in rows:
                    sys.stdout.write(json_line(row) + "\n")
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
                        "label_json": json.dumps(row.get("label"), ensure_ascii=False) if row.get("label") else "",
                    }
                    # A question "=HYPERLINK(...)" must stay text when the file is opened in a spreadsheet.
                    writer.writerow({key: for_csv_cell(value) for key, value in cells.items()})
    finally:
        await audit.close()
    return 0


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    try:
        return asyncio.run(_run(args, settings))
    except (NoAuditLog, UnknownAuditId, UnknownLabel, UnknownQuote, BadLabel) as exc:
        print(f"storybot: {exc}", file=sys.stderr)
        return 1


def _days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days") from None
    if not days > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: keep at least some days (a number above 0)")
    return days


def add_parser(sub: argparse._SubParsersAction) -> None:
    audit = sub.add_parser("audit", help="the moderators' audit log: list, show, reported, stats, verify, export, "
                                         "forget, expire, label, labels, unlabel")
    views = audit.add_subparsers(dest="view", metavar="VIEW", required=True)
    listing = views.add_parser("list", help="the latest answers")
    listing.add_argument("--limit", type=int, default=20)
    listing.add_argument("--status", choices=[s.value for s in Status], help="only answers of that status")
    show = views.add_parser("show", help="one answer in full")
    show.add_argument("id", type=int)
    reported = views.add_parser("reported", help="answers members reported")
    reported.add_argument("--limit", type=int, default=20)
    stats = views.add_parser("stats", help="questions, abstention rate, statuses, feedback, most asked")
    check = views.add_parser("verify", help="re-check that an answer's quotes are still verbatim (exit 1 if not)")
    check.add_argument("id", type=int)
    export = views.add_parser("export", help="every question with its quotes and feedback")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    forget = views.add_parser("forget", help="remove a member's questions, votes and reports (quotes and "
                                             "moderation stay, pseudonymised)")
    forget.add_argument("user_id", help="the member's Discord id")
    expire = views.add_parser("expire", help="remove every member's questions and feedback older than DAYS")
    expire.add_argument("days", type=_days, help="how many days to keep")
    label = views.add_parser("label", help="teach that answer's server: quote N is the right passage, a wrong one, "
                                           "or the articles don't answer it (none)")
    label.add_argument("id", type=int, help="the answer's audit id")
    label.add_argument("verdict", choices=VERDICTS, help="right | wrong (with --quote N) | none (not in the articles)")
    label.add_argument("--quote", type=int, metavar="N", help="which quote of the answer (1 = the first shown)")
    label.add_argument("--note", help="why, for the other moderators")
    labels = views.add_parser("labels", help="the labels moderators gave answers, with their ids")
    labels.add_argument("--answer", type=int, metavar="ID", help="only that answer's label")
    unlabel = views.add_parser("unlabel", help="remove a label (undo a mistake)")
    unlabel.add_argument("label_id", type=int)
    for view in (listing, show, reported, stats, check, export, forget, label, labels, unlabel):
        view.add_argument("--guild", metavar="ID", help="only what that server's moderators see (default: everything)")
    audit.set_defaults(func=cmd_audit)
