"""What a loaded model offers the engine, whichever runtime runs it (ONNX Runtime or torch)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

# texts, words to skip -> (unit sentence vectors, per text the unit vectors of its word pieces)
TokenEncode = Callable[[Sequence[str], frozenset[str]], tuple[np.ndarray, list[np.ndarray]]]
# texts -> (unit sentence vectors, per text the unit vectors of all its word pieces and, for
# each, its (start, end) in the text)
SpanEncode = Callable[[Sequence[str]], tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]]


@dataclass(frozen=True)
class Encoder:
    """A loaded model: `encode(texts)` gives unit-length float32 rows.

    `encode_tokens` gives the sentence vectors and, from the same forward pass, each text's
    word-piece vectors (punctuation, special tokens and the `skip` words left out), for
    word-by-word alignment. None when the model offers no token vectors.

    `encode_spans` gives the sentence vectors and every word piece's vector with where it
    sits in the text, for asking which of a question's words a quote speaks to. None when
    the model's tokenizer cannot say where its pieces are."""

    name: str
    encode: Callable[[Sequence[str]], np.ndarray]
    encode_tokens: TokenEncode | None = None
    encode_spans: SpanEncode | None = None
    # The length of its sentence and word-piece vectors, when the model says: a cached
    # vector of another length is from another model and is never used.
    dimension: int | None = None
    token_dimension: int | None = None
    # The hash of the weights the vectors come from, when known: the embedding cache keeps
    # the vectors of retrained weights apart from those of the weights before.
    weights: str = ""
    runtime: str = ""  # "onnx" or "torch", for the benchmarks and the logs

    @property
    def cache_key(self) -> str:
        return f"{self.name}@{self.weights}" if self.weights else self.name


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def meaningful_pieces(pieces: Sequence[str], special: frozenset[str] | set[str], skip: frozenset[str]) -> list[int]:
    """The positions of the word pieces that carry meaning: not [CLS]/[SEP]/[UNK]/padding, not
    punctuation, not a whole word in `skip`."""
    keep = []
    for i, piece in enumerate(pieces):
        bare = piece[2:] if piece.startswith("##") else piece
        if piece in special or not bare.isalnum():
            continue
        whole_word = not piece.startswith("##") and not (i + 1 < len(pieces) and pieces[i + 1].startswith("##"))
        if whole_word and piece in skip:
            continue
        keep.append(i)
    return keep
