"""Sparse retrieval: rank-bm25's Okapi BM25 over passages, scored as a sparse matrix."""
from __future__ import annotations

import difflib
from collections import defaultdict
from functools import cached_property
from typing import Callable, Sequence

import numpy as np
from rank_bm25 import BM25Okapi
from scipy import sparse

from retrieval.chunking import Passage
from retrieval.thesaurus import Expansion
from retrieval.tokenize import STOPWORDS, tokenize, words

# Ratio alone cannot tell a typo from a real word (sentance/sentence and restored/resorted
# both score 0.875), so words of the dictionary passed in are never "corrected". A thesaurus
# equivalent's credit: 0.5 and 1.0 measured; 0.5 ranked better on dev.
from retrieval.policy import SYNONYM_CREDIT, TYPO_CUTOFF


class BM25Retriever:
    """Build once over the passages; `scores` gives one score per passage, in passage order.

    rank-bm25 fits the statistics (IDF, lengths). Its get_scores walks every document in
    Python for every query term, ~0.1 s per question at 100k passages, so each
    (passage, term) weight is computed once with the same Okapi formula and a question
    becomes a sum of a few sparse columns.
    """

    def __init__(
        self,
        passages: Sequence[Passage],
        *,
        tokenizer: Callable[[str], list[str]] = tokenize,
        dictionary: frozenset[str] = frozenset(),
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        self.passages = tuple(passages)
        self.tokenizer = tokenizer
        self.dictionary = dictionary
        corpus_words = {w for p in self.passages for w in words(p.text)}
        self._word_set = frozenset(corpus_words)
        self._words_by_initial: dict[str, list[str]] = defaultdict(list)
        for word in sorted(corpus_words):
            self._words_by_initial[word[0]].append(word)
        # rank-bm25 divides by zero on an empty corpus; an empty index simply finds nothing.
        self.model = BM25Okapi([tokenizer(p.text) or ["\0"] for p in self.passages], k1=k1, b=b) if self.passages else None
        self._columns: dict[str, int] = {}
        self._weights = sparse.csc_matrix((len(self.passages), 0))
        if self.model is not None:
            self._columns = {term: i for i, term in enumerate(self.model.idf)}
            self._weights = self._weight_matrix(k1, b)

    def _weight_matrix(self, k1: float, b: float) -> sparse.csc_matrix:
        model = self.model
        rows, cols, values = [], [], []
        for doc, freqs in enumerate(model.doc_freqs):
            norm = k1 * (1 - b + b * model.doc_len[doc] / model.avgdl)
            for term, tf in freqs.items():
                rows.append(doc)
                cols.append(self._columns[term])
                values.append(model.idf[term] * tf * (k1 + 1) / (tf + norm))
        return sparse.csc_matrix((values, (rows, cols)), shape=(len(self.passages), len(self._columns)))

    def passages_with(self, term: str) -> np.ndarray:
        """The indices of the passages holding a tokenized term, ascending."""
        column = self._columns.get(term)
        if column is None:
            return np.zeros(0, dtype=np.int64)
        indptr = self._weights.indptr
        return np.sort(self._weights.indices[indptr[column] : indptr[column + 1]])

    @property
    def vocabulary(self) -> frozenset[str]:
        """Every words() word of the passages."""
        return self._word_set

    def spell(self, query: str) -> str:
        """The query with each word the corpus never uses replaced by the corpus word it is
        most likely a typo of ("strke" -> "strike"); words with no close match stay."""
        fixed = []
        for word in words(query):
            if len(word) >= 4 and word not in STOPWORDS and word not in self._word_set and word not in self.dictionary:
                # Same first letter and nearly the same length: cuts the comparisons ~50-fold.
                near = [w for w in self._words_by_initial.get(word[0], ()) if abs(len(w) - len(word)) <= 2]
                match = difflib.get_close_matches(word, near, n=1, cutoff=TYPO_CUTOFF)
                word = match[0] if match else word
            fixed.append(word)
        return " ".join(fixed)

    def query_tokens(self, query: str) -> list[str]:
        return self.tokenizer(self.spell(query))

    def _scores(self, tokens: list[str]) -> np.ndarray:
        # Each term's column added straight from the sparse matrix's arrays: scipy's column
        # slicing cost more than the sums (a question scores 5-10 token lists).
        scores = np.zeros(len(self.passages))
        weights = self._weights
        for term in tokens:
            column = self._columns.get(term)
            if column is not None:
                start, end = weights.indptr[column], weights.indptr[column + 1]
                scores[weights.indices[start:end]] += weights.data[start:end]
        return scores

    def scores(self, query: str) -> np.ndarray:
        """Okapi BM25 of every passage, equal to rank-bm25's get_scores for the corrected query."""
        return self._scores(self.query_tokens(query))

    def idf(self, token: str) -> float:
        if self.model is None:
            return 0.0
        # Terms the corpus never uses weigh as much as its rarest ones.
        return float(self.model.idf.get(token, self._rarest))

    @cached_property
    def _rarest(self) -> float:
        return max(self.model.idf.values(), default=1.0)

    def _weight(self, tokens: Sequence[str]) -> float:
        return sum(max(self.idf(t), 0.05) for t in tokens)

    def relative_scores(self, query: str, expansions: Sequence[Expansion] = ()) -> np.ndarray:
        """Scores divided by what one occurrence of every query term would earn (about 0 to 1).

        Dividing by this query's own best score instead would give a match on "Amnesty" alone
        full weight when the question's informative words are not in the corpus.

        Each expansion's term also earns, in a passage holding one of its alternatives,
        SYNONYM_CREDIT of the term's weight (a synonym is good evidence, not as good as the word)."""
        tokens = self.query_tokens(query)
        if not tokens:
            return np.zeros(len(self.passages))
        scores = self._scores(tokens)
        for expansion in expansions:
            term = self.tokenizer(expansion.term)
            best = np.zeros(len(self.passages))
            for alternative in expansion.alternatives:
                words_of = self.tokenizer(alternative)
                if words_of:
                    best = np.maximum(best, self._scores(words_of) / self._weight(words_of))
            scores = scores + SYNONYM_CREDIT * self._weight(term) * best
        return np.clip(scores / self._weight(tokens), 0.0, 1.0)
