"""Labels the operator promoted to every server: `corpus/promoted.jsonl`, one lesson a line
(retrieval/lessons.py), written by `storybot precedents promote|retire` (bot/cli/precedents.py).

Why a file of its own, not lines added to `corpus/precedents.jsonl`: the bank and the scorer
are fitted together and checked against each other (retrieval/bank.py); a line added to the
bank would stop the next start until a refit, and a refit needs the labelled sets, which is
developer work. A promoted label is read exactly as a server's own label is (a precedent joined
to the bank's memory, a ruling for close paraphrases, a wrong passage kept out of like
questions), which needs no refit: so promotion writes this file only, in the corpus folder,
never in the installed package, and a running bot picks it up like any corpus change (it
counts in the corpus version: retrieval/articles.py's VERSIONED_EXTRAS).

The file holds each promoted question's text: that is the operator's decision to copy a
member's words into the corpus (README, "What stays after a forget").
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from retrieval.atomic_files import write_atomic
from retrieval.errors import StorybotError
from retrieval.lessons import NO_LESSONS, Lesson, Lessons

PROMOTED_FILE = "promoted.jsonl"


class BadPromoted(StorybotError, ValueError):
    """The promoted labels file is not what `storybot precedents promote` writes."""

    def __init__(self, path: Path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path, self.line, self.problem = path, line, problem


def load_promoted(folder: Path | str) -> Lessons:
    """The corpus's promoted labels; none when the file is absent."""
    path = Path(folder) / PROMOTED_FILE
    if not path.exists():
        return NO_LESSONS
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            found.append(Lesson.from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BadPromoted(path, number, f"not a promoted label ({exc.__class__.__name__}: {exc})") from None
    return Lessons(tuple(found)) if found else NO_LESSONS


def promoted_text(lessons: Iterable[Lesson]) -> str:
    return "".join(json.dumps(x.to_json(), ensure_ascii=False) + "\n" for x in lessons)


def write_promoted(folder: Path | str, lessons: Iterable[Lesson]) -> None:
    """Replace the file (atomic: written aside, flushed, renamed); the caller holds the corpus lock."""
    write_atomic(Path(folder) / PROMOTED_FILE, promoted_text(lessons))


__all__ = ["PROMOTED_FILE", "BadPromoted", "load_promoted", "write_promoted", "promoted_text"]
