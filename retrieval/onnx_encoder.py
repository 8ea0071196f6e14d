"""The encoder on ONNX Runtime: the answer path's one forward pass, with no torch.

The transformer runs from the ONNX file exported from the model's weights
(retrieval/onnx_export.py, kept by retrieval/model_files.py); the word pieces come from the
`tokenizers` library reading the model's own tokenizer.json; the pooling and normalising the
model's modules.json names (mean over the attention mask, then unit length) are done here in
numpy, as sentence-transformers does them in torch. The same pass gives the word-piece vectors
(the transformer's last hidden state) for alignment and for placing the question's words.
Vectors agree with sentence-transformers' to within 1e-4 cosine on every passage and question
of tests/data (tests/test_onnx_encoder.py).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from retrieval.encoder import Encoder, meaningful_pieces, unit_rows

BATCH = 64  # as sentence-transformers batches; texts are sorted by length so a batch pads little
# The modules the numpy side reproduces; any other model runs on torch (retrieval/torch_encoder.py).
TRANSFORMER = "sentence_transformers.models.Transformer"
POOLING = "sentence_transformers.models.Pooling"
NORMALIZE = "sentence_transformers.models.Normalize"


class Unsupported(ValueError):
    """A model whose modules the ONNX path does not reproduce (another pooling, a dense layer)."""


def model_layout(model_dir: Path) -> tuple[int, bool]:
    """The longest input in word pieces and whether the vectors are normalised, from the
    model's sentence-transformers files; Unsupported for anything but Transformer, mean
    Pooling and an optional Normalize."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
        kinds = [m["type"] for m in modules]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise Unsupported(f"{model_dir}/modules.json cannot be read: {exc}") from None
    if kinds not in ([TRANSFORMER, POOLING], [TRANSFORMER, POOLING, NORMALIZE]):
        raise Unsupported(f"{model_dir} has modules {kinds}; the ONNX path runs Transformer, mean Pooling, Normalize")
    pooling_dir = model_dir / next(m["path"] for m in modules if m["type"] == POOLING)
    try:
        pooling = json.loads((pooling_dir / "config.json").read_text(encoding="utf-8"))
        config = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Unsupported(f"{model_dir}'s pooling or sentence_bert_config cannot be read: {exc}") from None
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v is True}
    if modes != {"pooling_mode_mean_tokens"}:
        raise Unsupported(f"{model_dir} pools with {sorted(modes)}; the ONNX path pools by the mean only")
    return int(config.get("max_seq_length") or 512), kinds[-1] == NORMALIZE


class OnnxModel:
    """One ONNX Runtime session and the tokenizer: texts in, each text's encoding and its
    word pieces' vectors out."""

    def __init__(self, onnx_path: Path, model_dir: Path, *, threads: int = 1) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.max_length, self.normalised = model_layout(model_dir)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # The shipped tokenizer.json pads every input to 128 pieces and cuts at 128;
        # sentence-transformers cuts at its max_seq_length and pads a batch to its longest.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_length)
        self.special = frozenset(_special_tokens(model_dir / "tokenizer.json"))
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Idle pool threads would spin on the core the next question's pass, or the bot's event
        # loop, needs (the same reason numpy's BLAS is held to one thread: bot/engine.py).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def run(self, texts: Sequence[str]) -> tuple[list, list[np.ndarray]]:
        """Each text's tokenizers Encoding and its pieces' hidden states (pieces x dimension)."""
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=True)
        hidden: list[np.ndarray] = [np.zeros(0)] * len(encodings)
        order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids))
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            longest = len(encodings[batch[0]].ids)
            ids = np.zeros((len(batch), longest), np.int64)
            mask = np.zeros_like(ids)
            types = np.zeros_like(ids)
            for row, i in enumerate(batch):
                n = len(encodings[i].ids)
                ids[row, :n], mask[row, :n], types[row, :n] = encodings[i].ids, 1, encodings[i].type_ids
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            (states,) = self.session.run(["last_hidden_state"], {k: v for k, v in feed.items() if k in self.inputs})
            for row, i in enumerate(batch):
                hidden[i] = states[row, : len(encodings[i].ids)]
        return encodings, hidden

    def sentence_vectors(self, hidden: list[np.ndarray]) -> np.ndarray:
        # Mean over the attention mask ([CLS] and [SEP] included, as sentence-transformers
        # pools); unit length whether or not the model normalises: encode() is asked for unit rows.
        return unit_rows(np.stack([h.mean(axis=0) for h in hidden]))


def _special_tokens(tokenizer_json: Path) -> list[str]:
    added = json.loads(tokenizer_json.read_text(encoding="utf-8")).get("added_tokens", [])
    return [t["content"] for t in added if t.get("special")]


def onnx_encoder(name: str, model: OnnxModel, *, weights: str) -> Encoder:
    """The Encoder the engine uses, every function one pass of `model`."""

    def encode(texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), np.float32)
        return model.sentence_vectors(model.run(texts)[1])

    def encode_tokens(texts: Sequence[str], skip: frozenset[str] = frozenset()) -> tuple[np.ndarray, list[np.ndarray]]:
        if not texts:
            return np.zeros((0, 0), np.float32), []
        encodings, hidden = model.run(texts)
        pieces = [unit_rows(h[meaningful_pieces(e.tokens, model.special, skip)]) for e, h in zip(encodings, hidden)]
        return model.sentence_vectors(hidden), pieces

    def encode_spans(texts: Sequence[str]) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        if not texts:
            return np.zeros((0, 0), np.float32), []
        encodings, hidden = model.run(texts)
        located = []
        for encoding, states in zip(encodings, hidden):
            offsets = np.asarray(encoding.offsets, dtype=np.int64).reshape(-1, 2)
            keep = np.flatnonzero(offsets[:, 1] > offsets[:, 0])  # special tokens span nothing
            located.append((unit_rows(states[keep]), offsets[keep]))
        return model.sentence_vectors(hidden), located

    dimension = int(model.session.get_outputs()[0].shape[-1]) if isinstance(
        model.session.get_outputs()[0].shape[-1], int) else None
    if dimension is None:
        dimension = int(encode(["probe"]).shape[1])
    return Encoder(name, encode, encode_tokens, encode_spans, dimension=dimension, token_dimension=dimension,
                   weights=weights, runtime="onnx")
