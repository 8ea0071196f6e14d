"""Word-by-word alignment of a question with passages (late interaction, as in ColBERT).

A mean-pooled sentence vector blurs direction and detail: "did amnesty give the status back"
lands as near "Navalny has been downgraded" as "Amnesty has re-designated Navalny". Matching
each of the question's words to its most similar word of the passage, using the same model's
contextual token vectors, keeps the words that decide. Measured on tests/data/dev.jsonl
(README, "Quality, measured").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class TokenMatrix:
    """The token vectors of many passages in one float16 array: passage i owns the rows
    offsets[i]:offsets[i + 1]. One array instead of many keeps memory and scoring compact."""

    vectors: np.ndarray  # (total tokens, dimension), unit rows
    offsets: np.ndarray  # (passages + 1,)

    @classmethod
    def stack(cls, per_passage: Sequence[np.ndarray], dimension: int) -> "TokenMatrix":
        lengths = [len(t) for t in per_passage]
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        rows = [t for t in per_passage if len(t)]
        vectors = np.concatenate(rows).astype(np.float16) if rows else np.zeros((0, dimension), np.float16)
        return cls(vectors, offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1


def alignment_scores(question: np.ndarray, passages: TokenMatrix, indices: Sequence[int]) -> np.ndarray:
    """For each passage in `indices`: the mean over the question's tokens of the cosine with
    the passage's most similar token (0 for a question or passage with no tokens)."""
    scores = np.zeros(len(indices))
    if not len(question) or not len(indices):
        return scores
    spans = [(int(passages.offsets[i]), int(passages.offsets[i + 1])) for i in indices]
    present = [n for n, (start, end) in enumerate(spans) if end > start]
    if not present:
        return scores
    rows = np.concatenate([np.arange(*spans[n]) for n in present])
    similarity = question.astype(np.float32) @ passages.vectors[rows].astype(np.float32).T
    starts = np.concatenate([[0], np.cumsum([spans[n][1] - spans[n][0] for n in present])[:-1]])
    best = np.maximum.reduceat(similarity, starts, axis=1)  # (question tokens, passages)
    scores[present] = best.mean(axis=0)
    return scores
