"""The encoder on torch through sentence-transformers: what the ONNX file is checked against
(tests/test_onnx_encoder.py), what the benchmarks compare with, and the runtime of a model
whose modules the ONNX path does not reproduce. A process that answers with the shipped model
never loads this."""
from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from retrieval.encoder import Encoder, meaningful_pieces, unit_rows
from retrieval.errors import ModelUnavailable

log = logging.getLogger(__name__)


def load_torch_encoder(name: str, path: str, *, device: str = "cpu", weights: str = "") -> Encoder:
    """The sentence-transformers model at `path` on torch, with no network; ModelUnavailable says
    why not. `name` is what STORYBOT_MODEL called it."""
    try:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(path, device=device, local_files_only=True)
    except Exception as exc:  # any load failure means: answer from BM25 instead
        raise ModelUnavailable(f"could not load model {name!r}: {exc}") from exc

    def encode(texts: Sequence[str]) -> np.ndarray:
        vectors = model.encode(list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)

    def encode_tokens(texts: Sequence[str], skip: frozenset[str] = frozenset()) -> tuple[np.ndarray, list[np.ndarray]]:
        if not texts:
            return np.zeros((0, 0), np.float32), []
        outputs = model.encode(list(texts), batch_size=64, output_value=None)
        return _sentence_vectors(outputs), [_word_pieces(model.tokenizer, o, skip) for o in outputs]

    def encode_spans(texts: Sequence[str]) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        if not texts:
            return np.zeros((0, 0), np.float32), []
        outputs = model.encode(list(texts), batch_size=64, output_value=None)
        return _sentence_vectors(outputs), [_located_pieces(model, text, o) for text, o in zip(texts, outputs)]

    full_name = name
    sizes = _dimensions(model)
    tagged = {"weights": weights, "runtime": "torch"}
    try:
        encode_tokens(["probe"])
    except Exception as exc:  # a model without token vectors still answers, unaligned
        log.info("model %r gives no token vectors (%s); answers rank without alignment", name, exc)
        return Encoder(full_name, encode, dimension=sizes[0], **tagged)
    try:
        encode_spans(["probe"])
    except Exception as exc:  # e.g. a slow tokenizer, which keeps no offsets
        log.info("model %r cannot place its word pieces (%s); factoid questions are not checked word by word", name, exc)
        return Encoder(full_name, encode, encode_tokens, dimension=sizes[0], token_dimension=sizes[1], **tagged)
    return Encoder(full_name, encode, encode_tokens, encode_spans, dimension=sizes[0], token_dimension=sizes[1],
                   **tagged)


def _dimensions(model) -> tuple[int | None, int | None]:
    """The model's sentence and word-piece vector lengths, as its configuration gives them."""
    def asked(owner, *names: str) -> int | None:
        for name in names:  # sentence-transformers renamed these; either answers
            if hasattr(owner, name):
                try:
                    return getattr(owner, name)()
                except Exception:  # noqa: BLE001 - a model that does not say is only checked for consistency
                    return None
        return None

    sentence = asked(model, "get_embedding_dimension", "get_sentence_embedding_dimension")
    try:
        token = asked(model[0], "get_embedding_dimension", "get_word_embedding_dimension")
    except Exception:  # noqa: BLE001 - no first module
        token = None
    return (int(sentence) if sentence else None), (int(token) if token else None)


def _sentence_vectors(outputs: list[dict]) -> np.ndarray:
    # output_value=None leaves normalize_embeddings unapplied; a model without a Normalize
    # layer would otherwise give other cosines here than encode() does.
    return unit_rows(np.stack([o["sentence_embedding"].float().cpu().numpy() for o in outputs]))


def _located_pieces(model, text: str, output: dict) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors of the text's word pieces (special tokens left out) and each piece's
    (start, end) in the text, from the tokenizer's offsets for the same input."""
    length = int(output["attention_mask"].sum())
    encoded = model.tokenizer(text, return_offsets_mapping=True, truncation=True, max_length=model.max_seq_length)
    ids = output["input_ids"][:length].tolist()
    if encoded["input_ids"][:length] != ids:
        raise ValueError("the tokenizer's pieces differ from the model's input")
    offsets = np.asarray(encoded["offset_mapping"][:length], dtype=np.int64).reshape(-1, 2)
    keep = np.flatnonzero(offsets[:, 1] > offsets[:, 0])  # special tokens span nothing
    return unit_rows(output["token_embeddings"][:length].float().cpu().numpy()[keep]), offsets[keep]


def _word_pieces(tokenizer, output: dict, skip: frozenset[str]) -> np.ndarray:
    """Unit vectors of the word pieces that carry meaning (retrieval/encoder.py's rule)."""
    length = int(output["attention_mask"].sum())
    pieces = tokenizer.convert_ids_to_tokens(output["input_ids"][:length].tolist())
    keep = meaningful_pieces(pieces, set(tokenizer.all_special_tokens), skip)
    return unit_rows(output["token_embeddings"][:length].float().cpu().numpy()[keep])
