"""Fitting the scorer (retrieval/scorer.py) on question sets: `storybot fit tests/data/dev*.jsonl`.

Every question of the sets except requests is answered up to the evidence step; a candidate
is a positive for the `passage` head when it holds one of the question's gold phrases, and a
question is a positive for the `related` head when it is about the story (answerable or not),
and for the `answerable` head when the articles answer it (fitted on questions about the
story only, after the passage head).

The questions are also kept as precedents (retrieval/precedents.py), written beside the
weights. While fitting, each question reads the precedents of the other writers only, as a
question a member asks reads precedents none of which is its own.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from retrieval.answer import answer_features, encode, gather, normalise_question, read_question
from retrieval.atomic_files import write_together
from retrieval.evaluation import EvalQuestion, holds_gold
from retrieval.evidence import ANSWER_FEATURES, PASSAGE_FEATURES, QUESTION_FEATURES
from retrieval.errors import ModelUnavailable
from retrieval.index import Index, precedent_memory
from retrieval.policy import DEFAULT_POLICY, REGULARISATION, Policy
from retrieval.precedents import PRECEDENTS_FILE, Precedent, group_of, precedents_text
from retrieval.scorer import MODEL_FILE, Scorer, fit_head

_BATCH = 32


def precedents_of(sets: Mapping[str, Sequence[EvalQuestion]]) -> tuple[Precedent, ...]:
    return tuple(
        Precedent(q.question, q.category, q.gold, group_of(source, q.id)) for source, questions in sets.items() for q in questions
    )


def with_precedents(index: Index, precedents: Sequence[Precedent]) -> Index:
    """The index reading these precedents, as build_index would (it needs the model)."""
    if index.dense is None:
        raise ModelUnavailable("reading precedents needs the model; this index answers from BM25 alone")
    memory = precedent_memory(precedents, index.passages, index.bm25, index.thesaurus, index.dense.encoder.encode)
    return dataclasses.replace(index, memory=memory)


def training_rows(index: Index, sets: Mapping[str, Sequence[EvalQuestion]], policy: Policy = DEFAULT_POLICY):
    """(passage rows, passage labels, question rows, question labels, evidence per question
    about the story with whether it is answerable)."""
    x, y, qx, qy, story = [], [], [], [], []
    asked = [(group_of(source, q.id), q) for source, questions in sets.items() for q in questions if q.category != "request"]
    for start in range(0, len(asked), _BATCH):
        batch = asked[start : start + _BATCH]
        texts = [normalise_question(q.question) for _, q in batch]
        read = [read_question(index, t, policy) for t in texts]
        vectors, pieces = encode(index, [r for _, r in read], policy)
        for n, (group, q) in enumerate(batch):
            evidence = gather(index, texts[n], read[n][0], read[n][1], vectors, pieces, n, policy, leave_out=group)
            for k, i in enumerate(evidence.candidates):
                x.append(evidence.features[k])
                y.append(q.answerable and holds_gold(index.passages[i].text, q.gold))
            qx.append(evidence.summary)
            qy.append(q.category in ("answerable", "story_unanswered"))
            if q.category in ("answerable", "story_unanswered") and evidence.candidates:
                story.append((evidence, q.answerable))
    return np.array(x), np.array(y, dtype=int), np.array(qx), np.array(qy, dtype=int), story


def fit(index: Index, sets: Mapping[str, Sequence[EvalQuestion]], path: Path = MODEL_FILE,
        precedents_path: Path = PRECEDENTS_FILE) -> Scorer:
    """Fit on the question sets (file name -> its questions); write the weights to `path`
    and the questions, as precedents, to `precedents_path`."""
    precedents = precedents_of(sets)
    plain = _fit_heads(dataclasses.replace(index, memory=None), sets, ())
    scorer = dataclasses.replace(_fit_heads(with_precedents(index, precedents), sets, tuple(sets)), plain=plain)
    # The weights read the precedents they were fitted with: both files change, or neither.
    write_together({Path(path): json.dumps(scorer.to_json(), indent=1) + "\n",
                     Path(precedents_path): precedents_text(precedents)})
    return scorer


def _fit_heads(index: Index, sets: Mapping[str, Sequence[EvalQuestion]], sources: tuple[str, ...]) -> Scorer:
    x, y, qx, qy, story = training_rows(index, sets)
    passage = fit_head(x, y, PASSAGE_FEATURES, c=REGULARISATION)
    ax, ay = [], []
    for evidence, answerable in story:
        answers = passage.probability(evidence.features)
        order = tuple(int(k) for k in np.argsort(-answers, kind="stable"))
        ax.append(answer_features(evidence, answers, order))
        ay.append(int(answerable))
    return Scorer(
        passage,
        fit_head(qx, qy, QUESTION_FEATURES, c=REGULARISATION),
        fit_head(np.array(ax), np.array(ay), ANSWER_FEATURES, c=REGULARISATION),
        sources,
    )


__all__ = ["training_rows", "fit", "precedents_of", "with_precedents"]
