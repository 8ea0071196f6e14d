"""The shipped encoder delta is what `storybot train tests/data/dev*.jsonl` makes today: its file
records the recipe (the training pairs' hash, seed, base weights), and the pairs the committed
sets give with today's code must be those. Training is deterministic (same recipe, same bytes:
two runs of ~2 min compared); this test costs no training. The delta committed before it
existed had been trained on pairs today's question reading no longer makes."""
from __future__ import annotations

from pathlib import Path

from retrieval.evaluation import load_questions
from retrieval.finetune import DELTA_FILE, SEED, base_folder, delta_metadata, recipe_of, training_pairs

from conftest import DATA


def test_the_shipped_delta_was_trained_on_the_pairs_the_committed_sets_give_today(bm25_index):
    sets = {str(path): load_questions(path) for path in sorted(DATA.glob("dev*.jsonl"))}
    today = recipe_of(training_pairs(bm25_index, sets), SEED, base_folder())
    shipped = delta_metadata(Path(DELTA_FILE))
    assert {key: shipped.get(key) for key in today} == today
