"""Sparse retrieval: rank-bm25's Okapi BM25 over passages, with a coverage measure for abstention."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from rank_bm25 import BM25Okapi

from retrieval.chunking import Passage
from retrieval.tokenize import STOPWORDS, tokenize, words

# How alike a misspelt word must be to a corpus word (difflib's ratio) to be read as it.
# Ratio alone cannot tell a typo from a real word (sentance/sentence and restored/resorted
# both score 0.875), so words of the dictionary passed in are never "corrected".
TYPO_CUTOFF = 0.8


@dataclass(frozen=True)
class Hit:
    index: int  # position of the passage in the retriever's passage list
    score: float


class BM25Retriever:
    """Build once over the passages; `search` returns hits best first."""

    def __init__(
        self,
        passages: Sequence[Passage],
        *,
        tokenizer: Callable[[str], list[str]] = tokenize,
        dictionary: frozenset[str] = frozenset(),
        top_k: int = 30,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        self.passages = tuple(passages)
        self.tokenizer = tokenizer
        self.top_k = top_k
        self._docs = [set(tokenizer(p.text)) for p in self.passages]
        self._words = sorted({w for p in self.passages for w in words(p.text)})
        self._word_set = frozenset(self._words)
        self.dictionary = dictionary
        # rank-bm25 divides by zero on an empty corpus; an empty index simply finds nothing.
        self._bm25 = BM25Okapi([tokenizer(p.text) or ["\0"] for p in self.passages], k1=k1, b=b) if self.passages else None

    def spell(self, query: str) -> str:
        """The query with each word the corpus never uses replaced by the corpus word it is
        most likely a typo of ("strke" -> "strike"); words with no close match stay."""
        fixed = []
        for word in words(query):
            if len(word) >= 4 and word not in STOPWORDS and word not in self._word_set and word not in self.dictionary:
                match = difflib.get_close_matches(word, self._words, n=1, cutoff=TYPO_CUTOFF)
                word = match[0] if match else word
            fixed.append(word)
        return " ".join(fixed)

    def scores(self, query: str) -> np.ndarray:
        tokens = self.tokenizer(self.spell(query))
        if not tokens or self._bm25 is None:
            return np.zeros(len(self.passages))
        return np.asarray(self._bm25.get_scores(tokens), dtype=float)

    def relative_scores(self, query: str) -> np.ndarray:
        """Scores divided by what one occurrence of every query term would earn (about 0 to 1).

        Dividing by this query's own best score instead would give a match on "Amnesty" alone
        full weight when the question's informative words are not in the corpus."""
        tokens = self.tokenizer(self.spell(query))
        if not tokens:
            return np.zeros(len(self.passages))
        scale = sum(max(self.idf(t), 0.05) for t in tokens)
        return np.clip(self.scores(query) / scale, 0.0, 1.0)

    def search(self, query: str, top_k: int | None = None) -> list[Hit]:
        top_k = self.top_k if top_k is None else top_k
        scores = self.scores(query)
        order = np.argsort(-scores, kind="stable")[:top_k]
        return [Hit(int(i), float(scores[i])) for i in order if scores[i] > 0]

    def idf(self, token: str) -> float:
        if self._bm25 is None:
            return 0.0
        # Terms the corpus never uses weigh as much as its rarest ones.
        return float(self._bm25.idf.get(token, max(self._bm25.idf.values(), default=1.0)))

    def coverage(self, query: str, index: int) -> float:
        """Share of the query's IDF weight whose terms occur in passage `index` (0 to 1)."""
        tokens = set(self.tokenizer(query))
        if not tokens:
            return 0.0
        total = sum(max(self.idf(t), 0.05) for t in tokens)
        found = sum(max(self.idf(t), 0.05) for t in tokens if t in self._docs[index])
        return found / total

    def known_share(self, query: str) -> float:
        """Share of the query's terms that occur anywhere in the corpus."""
        tokens = set(self.tokenizer(query))
        if not tokens or self._bm25 is None:
            return 0.0
        return sum(1 for t in tokens if t in self._bm25.idf) / len(tokens)
