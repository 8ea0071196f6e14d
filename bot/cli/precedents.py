"""`storybot precedents ...`: the operator promotes moderators' labels to every server.

    storybot precedents list                 # the labels promoted so far (corpus/promoted.jsonl)
    storybot precedents promote 12 15        # copy labels 12 and 15 (storybot audit labels) to every server
    storybot precedents retire label:111:12  # stop one (by name, or by label id)

Promotion writes `corpus/promoted.jsonl` only (retrieval/promoted.py: why not the fitted bank),
under the corpus lock, atomically; a running bot reloads it like any corpus change.
"""
from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from retrieval.corpus_files import corpus_lock
from retrieval.errors import StorybotError
from retrieval.promoted import PROMOTED_FILE, load_promoted, write_promoted

from bot.audit_store import Scope
from bot.lessons import label_name, lesson_of
from bot.store import is_postgres, open_store
from bot.settings import Settings


class NothingToPromote(StorybotError, ValueError):
    """A label that cannot be promoted (its question was removed), or a name that was never promoted."""


async def _labels(settings: Settings, ids: list[int]):
    if not is_postgres(settings.db) and not Path(settings.db).exists():
        raise NothingToPromote(f"there is no audit log at {settings.db} yet (STORYBOT_DB sets where it is)")
    store = await open_store(settings.db)
    try:
        return [await store.label_of(Scope.operator(), i) for i in ids]
    finally:
        await store.close()


def _line(lesson) -> str:
    which = {"right": "right passage", "wrong": "wrong passage", "none": "not in the articles"}[lesson.verdict]
    passage = f" -> {lesson.passage[:60]!r}" if lesson.passage else ""
    return f"{lesson.name}: {which}: {lesson.question!r}{passage}"


def cmd_precedents(args: argparse.Namespace, settings: Settings) -> int:
    folder = Path(settings.corpus)
    if args.action == "list":
        promoted = load_promoted(folder)
        print("\n".join(_line(x) for x in promoted.items) or f"No labels promoted yet ({folder / PROMOTED_FILE}).")
        return 0
    if args.action == "promote":
        labels = asyncio.run(_labels(settings, args.ids))
        lessons = []
        for label in labels:
            lesson = lesson_of(label)
            if lesson is None:
                raise NothingToPromote(f"label {label.id} cannot be promoted: the question of answer #{label.answer_id} "
                                       "was removed (a forget or an expiry), so it teaches nothing")
            lessons.append(lesson)
        with corpus_lock(folder):
            kept = [x for x in load_promoted(folder).items if x.name not in {y.name for y in lessons}]
            write_promoted(folder, [*kept, *lessons])
        for lesson in lessons:
            print(f"promoted {_line(lesson)}")
        print(f"every server reads them from {folder / PROMOTED_FILE} (a running bot on its next reload)")
        return 0
    with corpus_lock(folder):
        current = load_promoted(folder).items
        names = {n if not n.isdigit() else None for n in args.names} - {None}
        ids = {n for n in args.names if n.isdigit()}
        gone = [x for x in current if x.name in names or x.name.rsplit(":", 1)[-1] in ids]
        missing = [n for n in args.names if not any(x.name == n or x.name.rsplit(":", 1)[-1] == n for x in gone)]
        if missing:
            raise NothingToPromote(f"not promoted: {', '.join(missing)} (storybot precedents list shows what is); "
                                   "nothing was changed")
        write_promoted(folder, [x for x in current if x not in gone])
    for lesson in gone:
        print(f"retired {_line(lesson)}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("precedents", help="promote moderators' labels to every server: list, promote, retire")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="the labels promoted to every server")
    promote = actions.add_parser("promote", help="copy labels (ids from storybot audit labels) to every server")
    promote.add_argument("ids", type=int, nargs="+", metavar="LABEL_ID")
    retire = actions.add_parser("retire", help="stop promoted labels (by name, e.g. label:111:12, or label id)")
    retire.add_argument("names", nargs="+", metavar="NAME")
    parser.set_defaults(func=cmd_precedents)


__all__ = ["add_parser", "cmd_precedents", "label_name"]
