"""The on-disk embedding cache: vectors keyed by model and text, so a restart or a new article
embeds only what it has never seen."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np

from retrieval.alignment import TokenMatrix
from retrieval.encoder import Encoder

log = logging.getLogger(__name__)


def _matrix_problem(keys: object, vectors: np.ndarray, *, rows: bool = True) -> str | None:
    """Why a cache file's keys and vectors cannot be used as they are; None when they can."""
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        return "has keys that are not a list of text"
    if vectors.ndim != 2 or not np.issubdtype(vectors.dtype, np.floating):
        return "does not hold a matrix of numbers"
    if rows and len(vectors) != len(keys):
        return f"has {len(vectors)} vectors for {len(keys)} keys"
    if not np.isfinite(vectors).all():
        return "holds numbers that are not finite"
    return None


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Vectors on disk keyed by model and passage text, so a restart or a new article
    embeds only passages it has never seen."""

    def __init__(self, folder: Path | str | None) -> None:
        self.folder = Path(folder) if folder else None
        self.encoded_last = 0  # how many texts the last `embed` call had to run through the model
        # What was read from or written to disk, per model: one build embeds three sets of
        # texts (passages, passages under headlines, sidebars) and reads the file once.
        self._vectors: dict[str, dict[str, np.ndarray]] = {}
        self._tokens: dict[str, dict[str, np.ndarray]] = {}

    def _file(self, model: str, kind: str = "") -> Path:
        # Without a folder (vectors kept in memory only) the path is never opened (_read and
        # _write check the folder first); it may still name the cache in a message.
        folder = self.folder if self.folder is not None else Path()
        return folder / f"{hashlib.sha1(model.encode()).hexdigest()[:16]}{kind}.npz"

    def _distrusted(self, path: Path, why: str) -> dict:
        log.warning("embedding cache %s %s; it is rebuilt", path, why)
        return {}

    def _read(self, model: str) -> dict[str, np.ndarray]:
        if self.folder is None or not self._file(model).exists():
            return {}
        path = self._file(model)
        try:
            with np.load(path, allow_pickle=False) as data:
                keys, vectors = json.loads(str(data["keys"])), data["vectors"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return self._distrusted(path, "cannot be read")  # a damaged cache is rebuilt, never trusted
        problem = _matrix_problem(keys, vectors)
        if problem:
            return self._distrusted(path, problem)
        return dict(zip(keys, vectors))

    def file_problems(self) -> list[tuple[Path, str]]:
        """Each cache file that would be rebuilt rather than trusted, and why (for `corpus check`)."""
        found = []
        for path in sorted(self.folder.glob("*.npz")) if self.folder is not None and self.folder.is_dir() else []:
            try:
                with np.load(path, allow_pickle=False) as data:
                    keys, vectors = json.loads(str(data["keys"])), data["vectors"]
                    offsets = data["offsets"] if path.name.endswith(".tokens.npz") else None
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
                found.append((path, "cannot be read"))
                continue
            if offsets is not None and (offsets.ndim != 1 or len(offsets) != len(keys) + 1 or
                                        (len(offsets) and offsets[-1] != len(vectors))):
                found.append((path, "has offsets that do not fit its vectors"))
            elif problem := _matrix_problem(keys, vectors, rows=offsets is None):
                found.append((path, problem))
        return found

    def _fitting(self, vectors: dict[str, np.ndarray], dimension: int | None, path: Path) -> dict[str, np.ndarray]:
        """The cached vectors, or none when their length is not the model's (another model's file)."""
        found = next((v.shape[-1] for v in vectors.values()), None)
        if dimension and found is not None and found != dimension:
            return self._distrusted(path, f"holds vectors of {found} numbers; the model's have {dimension}")
        return vectors

    def _write(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            keys = list(vectors)
            matrix = np.stack([vectors[k] for k in keys]) if keys else np.zeros((0, 0), np.float32)
            # Written aside and renamed, so a reader never sees half a file.
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, keys=np.array(json.dumps(keys)), vectors=matrix)
            os.replace(tmp, self._file(model))
        except OSError:
            pass  # an unwritable cache costs time at the next start, not an answer

    def _read_tokens(self, model: str) -> dict[str, np.ndarray]:
        if self.folder is None or not self._file(model, ".tokens").exists():
            return {}
        path = self._file(model, ".tokens")
        try:
            with np.load(path, allow_pickle=False) as data:
                keys, offsets, vectors = json.loads(str(data["keys"])), data["offsets"], data["vectors"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return self._distrusted(path, "cannot be read")
        if (offsets.ndim != 1 or len(offsets) != len(keys) + 1 or offsets[0] != 0 or offsets[-1] != len(vectors)
                or (np.diff(offsets) < 0).any()):
            return self._distrusted(path, "has offsets that do not fit its vectors")  # rebuilt, never trusted
        problem = _matrix_problem(keys, vectors, rows=False)
        if problem:
            return self._distrusted(path, problem)
        return {k: vectors[offsets[i] : offsets[i + 1]] for i, k in enumerate(keys)}

    def _write_tokens(self, model: str, tokens: dict[str, np.ndarray]) -> None:
        if self.folder is None:
            return
        keys = list(tokens)
        dimension = next((t.shape[1] for t in tokens.values() if t.ndim == 2), 0)
        packed = TokenMatrix.stack([tokens[k] for k in keys], dimension)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, keys=np.array(json.dumps(keys)), offsets=packed.offsets, vectors=packed.vectors)
            os.replace(tmp, self._file(model, ".tokens"))
        except OSError:
            pass

    def embed_tokens(self, encoder: Encoder, texts: Sequence[str]) -> list[np.ndarray]:
        """Each text's word-piece vectors (float16), run through the model only when new.
        The same pass stores the texts' sentence vectors, so `embed` then finds them."""
        assert encoder.encode_tokens is not None
        if encoder.cache_key not in self._tokens:
            self._tokens[encoder.cache_key] = self._fitting(self._read_tokens(encoder.cache_key), encoder.token_dimension,
                                                       self._file(encoder.cache_key, ".tokens"))
        if encoder.cache_key not in self._vectors:
            self._vectors[encoder.cache_key] = self._fitting(self._read(encoder.cache_key), encoder.dimension, self._file(encoder.cache_key))
        stored, vectors = self._tokens[encoder.cache_key], self._vectors[encoder.cache_key]
        keys = [text_key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in stored}.items())
        self.encoded_last = len(missing)
        if missing:
            sentence, pieces = encoder.encode_tokens([t for _, t in missing], frozenset())
            stored.update((k, p.astype(np.float16)) for (k, _), p in zip(missing, pieces))
            fresh = {k: v for (k, _), v in zip(missing, sentence) if k not in vectors}
            self._write_tokens(encoder.cache_key, stored)
            if fresh:
                vectors.update(fresh)
                self._write(encoder.cache_key, vectors)
        return [stored[k] for k in keys]

    def embed(self, encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
        if encoder.cache_key not in self._vectors:
            self._vectors[encoder.cache_key] = self._fitting(self._read(encoder.cache_key), encoder.dimension, self._file(encoder.cache_key))
        stored = self._vectors[encoder.cache_key]
        keys = [text_key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in stored}.items())
        self.encoded_last = len(missing)
        if missing:
            fresh = encoder.encode([t for _, t in missing])
            stored.update(zip([k for k, _ in missing], fresh))
            self._write(encoder.cache_key, stored)
        if not keys:
            return np.zeros((0, 0), np.float32)
        return np.stack([stored[k] for k in keys]).astype(np.float32)
