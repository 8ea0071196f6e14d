"""Factoid questions about something the articles never mention.

"who founded amnesty international" matches the articles on "amnesty international" as well
as any question about the story does: only "founded" shows that they can't answer it, and a
mean-pooled vector or a mean over words lets the two well-matched words outvote it. A question
that asks for one fact (who, when, where, which, how many, a name) is answered only if the
quotes speak to each word that decides what it asks:

- a word decides when leaving it out moves the question's sentence vector
  (`min_shift`): "founded" in "who founded amnesty international" does, "objected" in
  "how old were the remarks amnesty objected to" hardly does;
- a quote speaks to it when the quote holds the word (stemmed, spelling corrected, or as the
  thesaurus's article word, since the question arrives rewritten in the articles' words) or
  a word piece the model reads as near it in context (`min_similarity`).

Open questions ("why", "how did", "what did ... say") are left alone: members ask them in
their own words, which the quotes rarely share. Measured on tests/data/dev.jsonl (README,
"Quality, measured").
"""
from __future__ import annotations

import re
from typing import Callable, Sequence

import numpy as np

from retrieval.embeddings import SpanEncode
from retrieval.tokenize import STOPWORDS, about_the_source, fold, tokenize

_FILLER = r"(?:(?:ok|okay|so|and|but|hey|hi|yo|bot|quick one)[\s,:;!.-]+)*"
_ASKS = re.compile(
    rf"^{_FILLER}(?P<phrase>who|whom|whose|when|where|which|how (?:many|much|old|long|far)"
    r"|what (?:year|date|day|month)|what's|whats|what is|what was)\b"
)
_WHAT_IS = frozenset({"what's", "whats", "what is", "what was"})
_NAME = re.compile(r"\bnames?\b")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def _asked(question: str) -> int | None:
    """Where the question phrase of a factoid question ends; None for an open question.
    "what is/was" asks for one fact only when it asks for a name ("whats his wifes name")."""
    # Lower case only, which keeps every offset (fold() may not: "ﬁ" becomes "fi").
    folded = question.lower().replace("’", "'")
    match = _ASKS.search(folded)
    if match is None:
        return None
    if match.group("phrase") in _WHAT_IS and not _NAME.search(folded, match.end()):
        return None
    return match.end()


def is_factoid(question: str) -> bool:
    """Does the question ask for one fact: a person, a time, a place, a number, a name?"""
    return _asked(question) is not None


def _content_words(question: str) -> list[tuple[int, int, str]]:
    """(start, end, folded word) of each word after the question phrase ("how many") that is
    neither a function word nor about the source ("according to the articles")."""
    found = []
    for match in _WORD.finditer(question, _asked(question) or 0):
        word = fold(match.group())
        if len(word) > 1 and word not in STOPWORDS and tokenize(word) and not about_the_source(word):
            found.append((match.start(), match.end(), word))
    return found


def unanswered_words(
    question: str,
    quotes: Sequence[str],
    quote_pieces: np.ndarray,
    encode_spans: SpanEncode,
    spell: Callable[[str], str],
    *,
    min_shift: float,
    min_similarity: float,
) -> tuple[str, ...]:
    """The words deciding what a factoid question asks that none of the quotes speaks to;
    empty for an open question or one the quotes answer. `quote_pieces` are the quotes'
    word-piece vectors (unit rows), `spell` corrects a word's typos."""
    if not quotes or not is_factoid(question):
        return ()
    quoted = {t for text in quotes for t in tokenize(text)}
    unmatched = [
        (start, end, word)
        for start, end, word in _content_words(question)
        if not (set(tokenize(word)) | set(tokenize(spell(word)))) & quoted
    ]
    if not unmatched:
        return ()
    # One forward pass: the question, then the question without each unmatched word.
    without = [re.sub(r"\s+", " ", question[:start] + question[end:]).strip() for start, end, _ in unmatched]
    sentences, located = encode_spans([question, *without])
    pieces, spans = located[0]
    quote_pieces = quote_pieces.astype(np.float32)
    missing = []
    for n, (start, end, word) in enumerate(unmatched, start=1):
        shift = 1.0 - float(sentences[0] @ sentences[n])
        own = (spans[:, 0] < end) & (spans[:, 1] > start)
        if shift < min_shift or not own.any() or not len(quote_pieces):
            continue
        similarity = float((pieces[own] @ quote_pieces.T).max(axis=1).mean())
        if similarity < min_similarity:
            missing.append(word)
    return tuple(missing)


__all__ = ["is_factoid", "unanswered_words"]
