"""Sentence-aligned passages with character offsets into an article's body.

Passages are windows of one or two consecutive sentences of the same paragraph, so a quote
can be a single sentence or a sentence with the one that explains it. Windows overlap;
the quote chooser never shows two overlapping spans. A window never crosses a paragraph
break: cleaning drops captions, headings and "Read more" blocks between paragraphs, so two
paragraphs side by side in the curated body may not be side by side in the article as
received (RFI: "...in favor of the Russian opponent." then a heading, then "Despite these
statements...").
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import pysbd

from retrieval.articles import Article
from retrieval.atomic_files import replacing

log = logging.getLogger(__name__)

from retrieval.policy import MAX_WINDOW_CHARS, MIN_SINGLE_CHARS

_WORDLESS = re.compile(r"^\W*$")


@dataclass(frozen=True)
class Passage:
    doc_id: str
    start: int  # offsets into Article.body: the text is body[start:end]
    end: int
    text: str
    sentences: int


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def sentence_spans(paragraph: str) -> list[Span]:
    """Sentences of one paragraph as spans without surrounding whitespace."""
    spans: list[Span] = []
    for piece in _segmenter().segment(paragraph):
        start, end = piece.start, piece.end
        while start < end and paragraph[start].isspace():
            start += 1
        while end > start and paragraph[end - 1].isspace():
            end -= 1
        if start == end:
            continue
        if spans and _WORDLESS.match(paragraph[start:end]):
            # pysbd sometimes leaves a closing quotation mark as a sentence of its own.
            spans[-1] = Span(spans[-1].start, end)
        else:
            spans.append(Span(start, end))
    return spans


class SentenceStore:
    """Sentence spans of paragraphs already split, kept on disk by paragraph text.

    pysbd is the slowest step of re-indexing a large corpus (about 24 s of a 38 s rebuild
    at 100k passages); a paragraph that has not changed is never split twice."""

    def __init__(self, path: Path | str | None) -> None:
        self.path = Path(path) if path else None
        self._spans: dict[str, list[list[int]]] = {}
        self._dirty = False
        self._distrusted = False
        if self.path is not None and self.path.exists():
            try:
                self._spans = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self._spans = {}  # a damaged store is rebuilt, never trusted
            if not isinstance(self._spans, dict):
                self._distrust("does not hold a mapping of paragraphs to sentences")
                self._spans = {}

    def problem(self, paragraphs: Iterable[str]) -> str | None:
        """Why this cache would not be trusted for these paragraphs (for `corpus check`)."""
        if self._distrusted:
            return "does not hold a mapping of paragraphs to sentences"
        for paragraph in paragraphs:
            stored = self._spans.get(hashlib.sha1(paragraph.encode("utf-8")).hexdigest())
            if stored is not None and not valid_sentence_spans(paragraph, stored):
                return f"holds sentences that do not fit the paragraph {paragraph[:40]!r}"
        return None

    def _distrust(self, why: str) -> None:
        if not self._distrusted:  # said once per load, not once per paragraph
            log.warning("sentence cache %s %s; those paragraphs are split again", self.path, why)
        self._distrusted = self._dirty = True

    def spans(self, paragraph: str) -> list[Span]:
        key = hashlib.sha1(paragraph.encode("utf-8")).hexdigest()
        stored = self._spans.get(key)
        if stored is not None and not valid_sentence_spans(paragraph, stored):
            self._distrust("holds sentences that do not fit their paragraph")
            stored = None
        if stored is None:
            stored = [[s.start, s.end] for s in sentence_spans(paragraph)]
            self._spans[key] = stored
            self._dirty = True
        return [Span(start, end) for start, end in stored]

    def save(self) -> None:
        if self.path is None or not self._dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with replacing(self.path, "w", encoding="utf-8") as handle:
                json.dump(self._spans, handle)
            self._dirty = False
        except OSError:
            pass  # costs time at the next start, never an answer


def valid_sentence_spans(paragraph: str, stored: object) -> bool:
    """Do cached spans cut the paragraph into its sentences: [start, end] pairs in order,
    each starting and ending on a word's edge, with only whitespace between them?"""
    if not isinstance(stored, list) or (paragraph.strip() and not stored):
        return False
    previous = 0
    for pair in stored:
        if (not isinstance(pair, list) or len(pair) != 2 or not all(type(n) is int for n in pair)
                or not previous <= pair[0] < pair[1] <= len(paragraph) or paragraph[previous : pair[0]].strip()):
            return False
        if 0 < pair[0] and paragraph[pair[0] - 1].isalnum() and paragraph[pair[0]].isalnum():
            return False  # two sentences meeting inside a word
        previous = pair[1]
    return not paragraph[previous:].strip()


def _paragraph_offsets(body: str) -> Iterable[tuple[int, str]]:
    offset = 0
    for paragraph in body.split("\n\n"):
        yield offset, paragraph
        offset += len(paragraph) + 2


def chunk_article(article: Article, store: SentenceStore | None = None) -> list[Passage]:
    paragraphs = [
        [Span(offset + s.start, offset + s.end) for s in (store.spans(paragraph) if store is not None else sentence_spans(paragraph))]
        for offset, paragraph in _paragraph_offsets(article.body)
    ]
    alone = sum(len(spans) for spans in paragraphs) == 1
    passages: list[Passage] = []
    for spans in paragraphs:
        for i, span in enumerate(spans):
            if span.end - span.start >= MIN_SINGLE_CHARS or alone:
                passages.append(_passage(article, span.start, span.end, 1))
            if i + 1 < len(spans) and spans[i + 1].end - span.start <= MAX_WINDOW_CHARS:
                passages.append(_passage(article, span.start, spans[i + 1].end, 2))
    return passages


def _passage(article: Article, start: int, end: int, sentences: int) -> Passage:
    return Passage(article.id, start, end, article.body[start:end], sentences)


def chunk_corpus(articles: Iterable[Article], store: SentenceStore | None = None) -> tuple[Passage, ...]:
    passages = tuple(p for article in articles for p in chunk_article(article, store))
    if store is not None:
        store.save()
    return passages
