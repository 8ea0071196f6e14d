"""The story's arc: articles by date, each with its first sentence quoted verbatim."""
from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval.articles import Article, Corpus
from retrieval.chunking import sentence_spans


@dataclass(frozen=True)
class TimelineEntry:
    article: Article
    quote: str  # article.body[start:end]
    start: int
    end: int


def timeline(corpus: Corpus) -> tuple[TimelineEntry, ...]:
    entries = []
    for article in corpus.by_date():
        first = article.paragraphs[0]
        spans = sentence_spans(first)
        end = spans[0].end if spans else len(first)
        start = spans[0].start if spans else 0
        entries.append(TimelineEntry(article, article.body[start:end], start, end))
    return tuple(entries)


# The story's three events, each with the words members use for it and the month it happened
# in (the articles' own dates: named on 17 January 2021, stripped around 23 February 2021,
# re-designated 7 May 2021). A question naming the event ("what did Bryant say when the status
# was restored") belongs with articles of that month.
STORY_EVENTS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("restored", "2021-05", re.compile(r"\b(restor\w*|re-?designat\w*|reinstat\w*|gave (?:it |him |the \w+ )?back|give (?:it |him |the \w+ )?back|given (?:it |him |the \w+ )?back|u-?turn\w*|reversed?|reversal|apologi[sz]\w*)\b")),
    ("withdrawn", "2021-02", re.compile(r"\b(strip\w*|withdr[ae]w\w*|revok\w*|rescind\w*|remov\w*|drop\w*|took (?:it )?away|taken away|de-?list\w*|downgrad\w*|lost|lose|pulled)\b")),
)


def event_months(question: str) -> frozenset[str]:
    """The months of the story's events a question names (YYYY-MM); the first event named wins
    ("restored after being stripped" is about the restoration)."""
    folded = question.lower()
    named = [(m.start(), month) for _, month, pattern in STORY_EVENTS for m in [pattern.search(folded)] if m]
    return frozenset({min(named)[1]}) if named else frozenset()
