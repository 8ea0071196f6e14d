"""The fitted scorer: a small committed file, refused when it does not fit the code."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import CORPUS

from retrieval.evidence import ANSWER_FEATURES, PASSAGE_FEATURES, QUESTION_FEATURES
from retrieval.bank import load_bank
from retrieval.scorer import MODEL_FILE, ScorerMismatch, fit_head, load_scorer


def test_the_committed_scorer_reads_exactly_the_features_the_code_computes():
    # The corpus's scorer, fitted with its bank (retrieval/bank.py); the package ships its plain twin.
    scorer = load_bank(CORPUS).scorer
    assert load_scorer(MODEL_FILE).to_json() == scorer.plain.to_json()
    assert scorer.passage.features == PASSAGE_FEATURES
    assert scorer.related.features == QUESTION_FEATURES
    assert scorer.answerable.features == ANSWER_FEATURES
    # Fitted on the dev sets only (tests/data/dev*.jsonl): the other sets stay held out.
    assert "tests/data/dev.jsonl" in scorer.fitted_on
    assert all(path.split("/")[-1].startswith("dev") for path in scorer.fitted_on)
    assert scorer.plain is not None and scorer.plain.fitted_on == ()


def test_a_scorer_fitted_for_other_features_is_refused_by_name(tmp_path):
    data = json.loads((CORPUS / "scorer.json").read_text(encoding="utf-8"))
    data["passage"]["features"] = data["passage"]["features"][:-1]
    path = tmp_path / "scorer.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ScorerMismatch, match="refit"):
        load_scorer(path)
    path.write_text("not json", encoding="utf-8")
    with pytest.raises(ScorerMismatch, match="not a fitted scorer"):
        load_scorer(path)


def test_a_fitted_head_gives_probabilities_that_follow_the_evidence():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] + 0.1 * rng.normal(size=400) > 0).astype(int)
    head = fit_head(x, y, ("signal", "noise"))
    low, high = head.probability(np.array([[-2.0, 0.0], [2.0, 0.0]]))
    assert low < 0.1 < 0.9 < high
    assert abs(head.coef[0]) > 5 * abs(head.coef[1])
    assert head.to_json()["features"] == ["signal", "noise"]


def test_features_are_placed_by_name_and_a_missing_or_unknown_one_fails():
    from retrieval.evidence import MisplacedFeature, by_name

    names = ("cosine", "bm25")
    assert by_name(names, None, {"bm25": 0.5, "cosine": 0.9}).tolist() == [0.9, 0.5]
    assert by_name(names, 2, {"bm25": [0.1, 0.2], "cosine": 1.0}).tolist() == [[1.0, 0.1], [1.0, 0.2]]
    with pytest.raises(MisplacedFeature, match=r"missing \['bm25'\], unknown \['bm52'\]"):
        by_name(names, None, {"cosine": 0.9, "bm52": 0.5})
