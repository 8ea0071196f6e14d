"""Choosing which passages to quote: best first, no overlaps, no repeats, only above the bar."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from retrieval.chunking import Passage
from retrieval.tokenize import tokenize

# Containment as well as Jaccard: a one-sentence quote inside another outlet's longer one; a
# shared run of words: the same sentence with a different neighbour around it.
from retrieval.policy import DUPLICATE_CONTAINMENT, DUPLICATE_JACCARD, SHARED_RUN


@dataclass(frozen=True)
class Candidate:
    index: int
    passage: Passage
    score: float  # the probability that it answers (or BM25's share without a model)
    dense: float  # cosine similarity, 0 when there is no model


def _overlaps(a: Passage, b: Passage) -> bool:
    return a.doc_id == b.doc_id and a.start < b.end and b.start < a.end


@lru_cache(maxsize=65536)
def token_set(text: str) -> frozenset[str]:
    return frozenset(tokenize(text))


@lru_cache(maxsize=65536)
def _runs(text: str) -> frozenset[tuple[str, ...]]:
    tokens = tokenize(text)
    return frozenset(tuple(tokens[i : i + SHARED_RUN]) for i in range(len(tokens) - SHARED_RUN + 1))


def _same_words(a: Passage, b: Passage) -> bool:
    ta, tb = token_set(a.text), token_set(b.text)
    if not ta or not tb:
        return a.text == b.text
    shared = len(ta & tb)
    if shared / len(ta | tb) >= DUPLICATE_JACCARD or shared / min(len(ta), len(tb)) >= DUPLICATE_CONTAINMENT:
        return True
    return bool(_runs(a.text) & _runs(b.text))


def choose_quotes(candidates: Sequence[Candidate], *, max_quotes: int = 3, min_score: float = 0.0) -> tuple[Candidate, ...]:
    """Up to `max_quotes` of `candidates` (in the order given, best first), each scoring at
    least `min_score` (the first is always kept), none overlapping or repeating one already
    chosen. The order need not be by score: one below the bar is passed over, not an end."""
    chosen: list[Candidate] = []
    for candidate in candidates:
        if len(chosen) >= max_quotes:
            break
        if chosen and candidate.score < min_score:
            continue
        if any(_overlaps(candidate.passage, k.passage) or _same_words(candidate.passage, k.passage) for k in chosen):
            continue
        chosen.append(candidate)
    return tuple(chosen)
