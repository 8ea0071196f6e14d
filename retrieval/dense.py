"""Dense retrieval: cosine similarity between the question and every passage."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from retrieval.alignment import TokenMatrix
from retrieval.bm25 import Hit
from retrieval.chunking import Passage
from retrieval.embedding_cache import EmbeddingCache
from retrieval.encoder import Encoder


class DenseRetriever:
    """Cosine similarity between the question and every passage."""

    def __init__(
        self,
        passages: Sequence[Passage],
        encoder: Encoder,
        cache: EmbeddingCache,
        *,
        contexts: Sequence[str] | None = None,
        top_k: int = 30,
    ) -> None:
        self.passages = tuple(passages)
        self.encoder = encoder
        self.top_k = top_k
        texts = [p.text for p in self.passages]
        # Word-piece vectors for alignment; their forward pass also yields the plain vectors.
        self.tokens: TokenMatrix | None = None
        self.embedded = 0
        if encoder.encode_tokens is not None:
            pieces = cache.embed_tokens(encoder, texts)
            self.embedded = cache.encoded_last
            self.tokens = TokenMatrix.stack(pieces, pieces[0].shape[1] if pieces else 0)
        plain = cache.embed(encoder, texts)
        self.embedded += cache.encoded_last
        if contexts is None or not len(self.passages):
            self.matrix = plain
        else:
            # A passage alone ("re-designated ... Friday") may not say what the article is
            # about; its headline does. The mean of both views ranked best on the dev set.
            titled = cache.embed(encoder, [f"{c}\n{p.text}" for c, p in zip(contexts, self.passages)])
            self.embedded += cache.encoded_last
            both = plain + titled
            self.matrix = both / np.linalg.norm(both, axis=1, keepdims=True)

    def scores(self, query_vector: np.ndarray) -> np.ndarray:
        if not len(self.passages):
            return np.zeros(0)
        return self.matrix @ query_vector

    def search(self, query: str, top_k: int | None = None) -> list[Hit]:
        top_k = self.top_k if top_k is None else top_k
        scores = self.scores(self.encoder.encode([query])[0])
        order = np.argsort(-scores, kind="stable")[:top_k]
        return [Hit(int(i), float(scores[i])) for i in order]
