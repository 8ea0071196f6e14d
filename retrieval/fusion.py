"""Fusing sparse and dense scores into one ranking of passages."""
from __future__ import annotations

import numpy as np

# RRF_K keeps one retriever's first place from drowning the other's second and third.
from retrieval.policy import RRF_K, Fusion


def _ranks(scores: np.ndarray) -> np.ndarray:
    ranks = np.empty(len(scores), dtype=float)
    ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    return ranks


def fuse(
    sparse: np.ndarray, dense: np.ndarray | None, mode: Fusion, *, dense_weight: float = 0.7, limit: int | None = None
) -> list[tuple[int, float]]:
    """(passage index, fused score) best first. `sparse` is BM25 relative to the query's
    weight (0 to 1, see BM25Retriever.relative_scores); with no dense scores it decides alone."""
    if dense is None:
        fused = sparse
    elif mode is Fusion.DENSE:
        fused = dense
    elif mode is Fusion.RRF:
        fused = 1.0 / (RRF_K + _ranks(dense)) + np.where(sparse > 0, 1.0 / (RRF_K + _ranks(sparse)), 0.0)
    else:
        fused = dense_weight * dense + (1.0 - dense_weight) * sparse
    if limit is not None and limit < len(fused):
        # Only the best `limit` are wanted: partition first, so a big corpus is not sorted whole.
        top = np.argpartition(-fused, limit - 1)[:limit]
        order = top[np.argsort(-fused[top], kind="stable")]
    else:
        order = np.argsort(-fused, kind="stable")
    return [(int(i), float(fused[i])) for i in order]
