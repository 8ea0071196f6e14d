"""The story's arc: articles by date, each with its first sentence quoted verbatim. The story's
events (the months a question naming one is about) are the corpus's own: retrieval/story.py."""
from __future__ import annotations

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
