"""Fitting the scorer (retrieval/scorer.py) on question sets: `storybot fit tests/data/dev.jsonl`.

Every question of the sets except requests is answered up to the evidence step; a candidate
is a positive for the `passage` head when it holds one of the question's gold phrases, and a
question is a positive for the `related` head when it is about the story (answerable or not),
and for the `answerable` head when the articles answer it (fitted on questions about the
story only, after the passage head).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from retrieval.answer import answer_features, encode, gather, normalise_question, read_question
from retrieval.evaluation import EvalQuestion, holds_gold
from retrieval.evidence import ANSWER_FEATURES, PASSAGE_FEATURES, QUESTION_FEATURES
from retrieval.index import Index
from retrieval.policy import DEFAULT_POLICY, REGULARISATION, Policy
from retrieval.scorer import MODEL_FILE, Scorer, fit_head

_BATCH = 32


def training_rows(index: Index, questions: Sequence[EvalQuestion], policy: Policy = DEFAULT_POLICY):
    """(passage rows, passage labels, question rows, question labels, evidence per question
    about the story with whether it is answerable)."""
    x, y, qx, qy, story = [], [], [], [], []
    asked = [q for q in questions if q.category != "request"]
    for start in range(0, len(asked), _BATCH):
        batch = asked[start : start + _BATCH]
        texts = [normalise_question(q.question) for q in batch]
        read = [read_question(index, t, policy) for t in texts]
        vectors, pieces = encode(index, [r for _, r in read], policy)
        for n, q in enumerate(batch):
            evidence = gather(index, texts[n], read[n][0], read[n][1], vectors, pieces, n, policy)
            for k, i in enumerate(evidence.candidates):
                x.append(evidence.features[k])
                y.append(q.answerable and holds_gold(index.passages[i].text, q.gold))
            qx.append(evidence.summary)
            qy.append(q.category in ("answerable", "story_unanswered"))
            if q.category in ("answerable", "story_unanswered") and evidence.candidates:
                story.append((evidence, q.answerable))
    return np.array(x), np.array(y, dtype=int), np.array(qx), np.array(qy, dtype=int), story


def fit(index: Index, questions: Sequence[EvalQuestion], sources: Sequence[str], path: Path = MODEL_FILE) -> Scorer:
    x, y, qx, qy, story = training_rows(index, questions)
    passage = fit_head(x, y, PASSAGE_FEATURES, c=REGULARISATION)
    ax, ay = [], []
    for evidence, answerable in story:
        answers = passage.probability(evidence.features)
        order = tuple(int(k) for k in np.argsort(-answers, kind="stable"))
        ax.append(answer_features(evidence, answers, order))
        ay.append(int(answerable))
    scorer = Scorer(
        passage,
        fit_head(qx, qy, QUESTION_FEATURES, c=REGULARISATION),
        fit_head(np.array(ax), np.array(ay), ANSWER_FEATURES, c=REGULARISATION),
        tuple(sources),
    )
    Path(path).write_text(json.dumps(scorer.to_json(), indent=1) + "\n", encoding="utf-8")
    return scorer


__all__ = ["training_rows", "fit"]
