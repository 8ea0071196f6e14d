"""A server's labels (bot/store/labels.py) as the lessons the engine reads (retrieval/lessons.py).

A label whose question was removed (the asker forgotten, the question expired) teaches nothing:
the label holds no copy of it. A "right" or "wrong" label carries the quote it was about, as the
answer showed it.
"""
from __future__ import annotations

from typing import Iterable

from retrieval.lessons import NONE, NO_LESSONS, Lesson, Lessons
from retrieval.precedents import article_key

from bot.store.labels import Label


def lesson_of(label: Label) -> Lesson | None:
    if not label.question.strip():
        return None
    if label.verdict != NONE and not (label.passage or "").strip():
        return None
    return Lesson(label.question, label.verdict, label.passage or "", label.against, label_name(label))


def label_name(label: Label) -> str:
    """The group a label's precedent carries, here and in the bank once promoted."""
    return f"label:{label.guild_id or 'dm'}:{label.id}"


def lessons_of(labels: Iterable[Label]) -> Lessons:
    found = tuple(x for x in (lesson_of(label) for label in labels) if x is not None)
    return Lessons(found) if found else NO_LESSONS


def labelled_against(corpus) -> tuple[tuple[str, str], ...]:
    """The articles a label made now speaks of (precedents.article_key of each)."""
    return tuple(article_key(a) for a in corpus.articles)


__all__ = ["lesson_of", "lessons_of", "labelled_against", "label_name"]
