"""The tuned encoder: training batches, and the shipped delta merged into a model folder with numpy."""
from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from retrieval.embeddings import BASE_MODEL, resolve_model
from retrieval.finetune import DELTA_FILE, WEIGHTS, BadDelta, batches, delta_metadata, file_hash, tuned_model

KEY = "encoder.layer.5.output.dense.bias"


def test_a_batch_never_holds_a_question_or_a_passage_twice_and_every_pair_is_trained_at_most_once():
    pairs = [("q1", "p1"), ("q2", "p1"), ("q3", "p2"), ("q1", "p3"), ("q4", "p4"), ("q5", "p5")]
    found = batches(pairs, 3, np.random.default_rng(0))
    for batch in found:
        texts = [t for pair in batch for t in pair]
        assert len(texts) == len(set(texts))
    trained = [p for b in found for p in b]
    assert len(trained) == len(set(trained)) and set(trained) <= set(pairs)
    # Only a pair left alone in the last batch is not trained: it would have no negatives.
    assert all(len(b) > 1 for b in found) and len(trained) >= len(pairs) - 1
    assert batches(pairs, 3, np.random.default_rng(0)) == found  # seeded: the same order


def test_the_delta_is_added_to_the_base_weights_into_a_folder_reused_after(tmp_path):
    base = resolve_model(BASE_MODEL)
    change = np.full(384, 2.0, dtype=np.float16)
    delta = tmp_path / "delta.safetensors"
    meta = {"base": file_hash(f"{base}/{WEIGHTS}")[:16], "scales": {KEY: 0.001}}
    save_file({KEY: change}, str(delta), metadata={"storybot": json.dumps(meta)})
    merged = tuned_model(delta, tmp_path / "models")
    assert merged.name.startswith("minilm-storybot-") and (merged / "tokenizer.json").is_file()
    before, after = load_file(f"{base}/{WEIGHTS}"), load_file(str(merged / WEIGHTS))
    assert np.allclose(after[KEY], before[KEY] + 0.002, atol=1e-6)
    assert np.array_equal(after["encoder.layer.0.output.dense.bias"], before["encoder.layer.0.output.dense.bias"])
    assert tuned_model(delta, tmp_path / "models") == merged
    # A delta trained on other base weights is refused, naming both.
    meta["base"] = "0123456789abcdef"
    save_file({KEY: change}, str(delta), metadata={"storybot": json.dumps(meta)})
    with pytest.raises(BadDelta, match="0123456789abcdef"):
        tuned_model(delta, tmp_path / "models")


def test_the_shipped_delta_records_how_it_was_trained_and_fits_the_installed_base():
    meta = delta_metadata(DELTA_FILE)
    assert meta["base"] == file_hash(f"{resolve_model(BASE_MODEL)}/{WEIGHTS}")[:16]
    assert meta["seed"] == 18 and meta["epochs"] == 1 and meta["pairs"] > 500
    assert DELTA_FILE.stat().st_size <= 25_000_000
    assert all(key.startswith("encoder.layer.") for key in load_file(str(DELTA_FILE)))


def test_a_start_after_the_merge_reads_the_files_hashes_instead_of_hashing_110_mb(tmp_path, monkeypatch):
    from retrieval import finetune

    base = resolve_model(BASE_MODEL)
    delta = tmp_path / "delta.safetensors"
    meta = {"base": file_hash(f"{base}/{WEIGHTS}")[:16], "scales": {KEY: 0.001}}
    save_file({KEY: np.full(384, 2.0, dtype=np.float16)}, str(delta), metadata={"storybot": json.dumps(meta)})
    merged = tuned_model(delta, tmp_path / "models")
    hashed = []
    monkeypatch.setattr(finetune, "file_hash", lambda path: hashed.append(path) or file_hash(path))
    assert tuned_model(delta, tmp_path / "models") == merged and hashed == []
    save_file({KEY: np.full(384, 3.0, dtype=np.float16)}, str(delta), metadata={"storybot": json.dumps(meta)})
    assert tuned_model(delta, tmp_path / "models") != merged and hashed == [delta]  # changed: hashed again
