"""A model folder's weights, hashed, and the ONNX file exported from them, kept in the cache.

The ONNX file is named by the hash of the weights it came from (`<cache>/onnx/<hash>/model.onnx`),
so a model retrained in place (a fine-tuned folder written again) gets a new file, and the
embedding cache, keyed by the same hash, new vectors. Hashing 90 MB costs about 0.2 s, so the
hash is kept beside, keyed by each weight file's size and modification time: a start reads it
with a few stat calls.
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Callable

from filelock import FileLock

from retrieval.atomic_files import write_atomic

log = logging.getLogger(__name__)

# What makes the exported graph what it is: the weights and the architecture they fill.
WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin", "config.json")
HASHES_FILE = "weights-hashes.json"


class NoWeights(ValueError):
    """A model folder with no weight file to export from."""


def weight_files(model_dir: Path) -> list[Path]:
    found = sorted({p for pattern in WEIGHT_PATTERNS for p in model_dir.glob(pattern) if p.is_file()})
    if not any(p.name != "config.json" for p in found):
        raise NoWeights(f"no weight file (*.safetensors, pytorch_model*.bin) in {model_dir}")
    return found


def _signature(files: list[Path]) -> list[list]:
    return [[p.name, (st := p.stat()).st_size, st.st_mtime_ns] for p in files]


def _hashed(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()[:16]


def weights_hash(model_dir: Path, cache: Path | None) -> str:
    """The hash of the model's weight files (16 hex digits), recomputed only when one of them
    changed size or modification time since it was kept in `cache`."""
    files = weight_files(model_dir)
    return remembered_hash(str(model_dir.resolve()), files, cache, lambda: _hashed(files))


def remembered_hash(key: str, files: list[Path], cache: Path | None, compute: Callable[[], str]) -> str:
    """`compute()`, a hash of `files`, kept under `key` in `cache` with each file's size and
    modification time, and read back while none of them changed."""
    signature = _signature(files)
    record = cache / HASHES_FILE if cache is not None else None
    kept: dict = {}
    if record is not None and record.exists():
        try:
            kept = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            kept = {}  # a damaged record is recomputed, never trusted
    entry = kept.get(key) if isinstance(kept, dict) else None
    if isinstance(entry, dict) and entry.get("files") == signature and isinstance(entry.get("hash"), str):
        return entry["hash"]
    found = compute()
    if record is not None:
        kept = kept if isinstance(kept, dict) else {}
        kept[key] = {"files": signature, "hash": found}
        _write_atomically(record, json.dumps(kept, indent=1))
    return found


def _write_atomically(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text)
    except OSError:
        pass  # an unwritable cache costs a hash at the next start, not an answer


def onnx_file(model_dir: Path, cache: Path, weights: str, export: Callable[[Path, Path], None]) -> Path:
    """The ONNX file of the weights `weights` of `model_dir`, exported by `export(model_dir, out)`
    the first time. Two processes starting at once export it once (a lock file beside)."""
    out = cache / "onnx" / weights / "model.onnx"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out.parent / ".export.lock")):
        if not out.exists():
            log.warning("exporting the model %s to ONNX once (about 15 s; kept in %s)", model_dir, out.parent)
            export(model_dir, out)
            out.chmod(0o644)
    return out
