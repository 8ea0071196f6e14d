"""Choosing which passages to quote: best first, no overlaps, no repeats, distinct sources."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from retrieval.chunking import Passage
from retrieval.tokenize import tokenize

# Two passages sharing this much of their vocabulary say the same thing (the same Amnesty
# statement carried by two outlets).
DUPLICATE_JACCARD = 0.6
# A passage from a source not yet quoted wins over a better one from a quoted source when
# it scores at least this share of it.
NEW_SOURCE_RATIO = 0.95
# A sentence is shown with its neighbour when the two together score at least this share.
CONTEXT_RATIO = 0.85
# Two passages sharing a run of this many words (stopwords aside) carry the same sentence,
# even when each has a different neighbour around it.
SHARED_RUN = 6


@dataclass(frozen=True)
class Candidate:
    index: int
    passage: Passage
    score: float  # fused score
    dense: float  # cosine similarity, 0 when there is no model


def _overlaps(a: Passage, b: Passage) -> bool:
    return a.doc_id == b.doc_id and a.start < b.end and b.start < a.end


@lru_cache(maxsize=65536)
def _token_set(text: str) -> frozenset[str]:
    return frozenset(tokenize(text))


@lru_cache(maxsize=65536)
def _runs(text: str) -> frozenset[tuple[str, ...]]:
    tokens = tokenize(text)
    return frozenset(tuple(tokens[i : i + SHARED_RUN]) for i in range(len(tokens) - SHARED_RUN + 1))


def _same_words(a: Passage, b: Passage) -> bool:
    ta, tb = _token_set(a.text), _token_set(b.text)
    if not ta or not tb:
        return a.text == b.text
    shared = len(ta & tb)
    # Containment as well as Jaccard: a one-sentence quote inside another outlet's longer one.
    if shared / len(ta | tb) >= DUPLICATE_JACCARD or shared / min(len(ta), len(tb)) >= 0.8:
        return True
    return bool(_runs(a.text) & _runs(b.text))


def choose_quotes(candidates: Sequence[Candidate], *, max_quotes: int = 3, keep_ratio: float = 0.75) -> tuple[Candidate, ...]:
    """Up to `max_quotes` candidates, best first; the rest must be close to the best."""
    if not candidates:
        return ()
    floor = candidates[0].score * keep_ratio
    pool = [c for c in candidates if c.score >= floor]
    chosen: list[Candidate] = []
    while pool and len(chosen) < max_quotes:
        pool = [c for c in pool if not any(_overlaps(c.passage, k.passage) or _same_words(c.passage, k.passage) for k in chosen)]
        if not pool:
            break
        pick = pool[0]
        used = {k.passage.doc_id for k in chosen}
        if pick.passage.doc_id in used:
            fresh = next((c for c in pool if c.passage.doc_id not in used), None)
            if fresh is not None and fresh.score >= pick.score * NEW_SOURCE_RATIO:
                pick = fresh
        chosen.append(_with_context(pick, pool))
        pool.remove(pick)
    return tuple(chosen)


def _with_context(pick: Candidate, pool: Sequence[Candidate]) -> Candidate:
    """The two-sentence window around a chosen sentence, when it scores nearly as well:
    the neighbouring sentence usually says who said it, or why."""
    if pick.passage.sentences > 1:
        return pick
    wider = [
        c
        for c in pool
        if c.passage.doc_id == pick.passage.doc_id
        and c.passage.start <= pick.passage.start
        and c.passage.end >= pick.passage.end
        and c is not pick
        and c.score >= pick.score * CONTEXT_RATIO
    ]
    return max(wider, key=lambda c: c.score, default=pick)
