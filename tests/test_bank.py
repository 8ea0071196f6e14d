"""The corpus's bank: its precedents and the scorer fitted with them, loaded and checked together."""
from __future__ import annotations

import shutil

import pytest

from retrieval.bank import BANK_FILE, SCORER_FILE, BankMismatch, load_bank, write_bank
from retrieval.precedents import Precedent
from retrieval.scorer import MODEL_FILE, load_scorer

from conftest import CORPUS


@pytest.fixture
def folder(tmp_path):
    for name in (BANK_FILE, SCORER_FILE):
        shutil.copy(CORPUS / name, tmp_path / name)
    return tmp_path


def test_the_story_keeps_its_bank_and_a_new_story_starts_with_the_plain_scorer(folder, tmp_path_factory):
    bank = load_bank(folder)
    assert len(bank.precedents) >= 500 and bank.scorer.plain is not None and bank.scorer.precedents_hash
    new_story = load_bank(tmp_path_factory.mktemp("new-story"))
    assert new_story.precedents == () and new_story.scorer == load_scorer(MODEL_FILE) and new_story.scorer.plain is None


@pytest.mark.parametrize("missing", [BANK_FILE, SCORER_FILE])
def test_a_missing_part_stops_the_load_naming_it(folder, missing):
    (folder / missing).unlink()
    with pytest.raises(BankMismatch, match=rf"{missing}.* is not"):
        load_bank(folder)


def test_a_bank_changed_since_the_fit_stops_the_load(folder):
    path = folder / BANK_FILE
    path.write_text(path.read_text(encoding="utf-8") + '{"question": "hi", "category": "request", "gold": [], "group": "x"}\n',
                    encoding="utf-8")
    with pytest.raises(BankMismatch, match=r"precedents.jsonl \(hash \w+\) is not the bank .*scorer.json was fitted with"):
        load_bank(folder)


def test_written_together_the_pair_loads(folder, tmp_path_factory):
    scorer = load_bank(folder).scorer
    out = tmp_path_factory.mktemp("refit")
    precedents = [Precedent("why?", "answerable", ("a b c",), "x:a", (("lbc-2021-02-25", "0123456789abcdef"),))]
    write_bank(out, scorer, precedents)
    assert load_bank(out).precedents == tuple(precedents)
    assert sorted(p.name for p in out.iterdir()) == [BANK_FILE, SCORER_FILE]  # nothing left aside
