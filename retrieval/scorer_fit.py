"""Fitting the scorer (retrieval/scorer.py) on question sets: `storybot fit tests/data/dev*.jsonl`.

Every question of the sets except requests is answered up to the evidence step; a candidate
is a positive for the `passage` head when it holds one of the question's gold phrases, and a
question is a positive for the `related` head when it is about the story (answerable or not),
and for the `answerable` head when the articles answer it (fitted on questions about the
story only, after the passage head).

The questions are also kept as precedents (retrieval/precedents.py), written beside the
weights in the corpus folder (retrieval/bank.py). While fitting, each question reads the precedents of the other writers only, as a
question a member asks reads precedents none of which is its own.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from retrieval.answer import normalise_question
from retrieval.deciding import answer_features
from retrieval.gathering import encode, gather, read_question
from retrieval.evaluation import EvalQuestion, holds_gold
from retrieval.evidence import ANSWER_FEATURES, PASSAGE_FEATURES, QUESTION_FEATURES
from retrieval.errors import ModelUnavailable
from retrieval.index import Index, precedent_memory
from retrieval.policy import DEFAULT_POLICY, REGULARISATION, Policy
from retrieval.bank import write_bank
from retrieval.precedents import Precedent, article_key, group_of
from retrieval.scorer import Scorer, fit_head

_BATCH = 32
# Rows of each kind needed to fit the answer head for new articles apart (a few dozen
# questions: fewer and one head for both is steadier).
_SEPARATE_ROWS = 50


def precedents_of(sets: Mapping[str, Sequence[EvalQuestion]]) -> tuple[Precedent, ...]:
    return tuple(
        Precedent(q.question, q.category, q.gold, group_of(source, q.id)) for source, questions in sets.items() for q in questions
    )


def with_precedents(index: Index, precedents: Sequence[Precedent]) -> Index:
    """The index reading these precedents, as build_index would (it needs the model)."""
    if index.dense is None:
        raise ModelUnavailable("reading precedents needs the model; this index answers from BM25 alone")
    memory = precedent_memory(precedents, index.passages, index.bm25, index.thesaurus, index.dense.encoder.encode, index.corpus)
    return index.reading(memory)


def about(index: Index, question: EvalQuestion) -> frozenset[str]:
    """The articles a question is about: for an answerable one, every article one of whose
    passages holds a gold phrase; for a story question the articles don't answer, the article
    of the passage BM25 ranks first for it (lexical, the same for every encoder: the article a
    member asking it would most likely be sent to); none for other news and requests."""
    if question.category == "answerable":
        return frozenset(p.doc_id for p in index.passages if holds_gold(p.text, question.gold))
    if question.category == "story_unanswered":
        scores = index.bm25.relative_scores(question.question, index.thesaurus.expansions(question.question))
        return frozenset({index.passages[int(np.argmax(scores))].doc_id}) if len(scores) and scores.max() > 0 else frozenset()
    return frozenset()


def new_article_memories(index: Index, asked: Mapping[tuple, frozenset[str]]) -> dict[str, object]:
    """For each article, the index's memory as if that article had just been added: without
    the precedents about it, the others labelled against every other article. `asked`: each
    question's articles, by (question, category, gold)."""
    memory = index.memory
    if memory is None:
        return {}
    numbers = {a.id: n for n, a in enumerate(index.corpus.articles)}
    passage_articles = np.array([numbers[p.doc_id] for p in index.passages], dtype=np.int64)
    topics = [asked.get((p.question, p.category, p.gold), frozenset()) for p in memory.precedents]
    return {doc_id: memory.forgetting(np.array([doc_id not in t for t in topics], dtype=bool), n, passage_articles, len(numbers))
            for doc_id, n in numbers.items()}


def training_rows(index: Index, sets: Mapping[str, Sequence[EvalQuestion]], policy: Policy = DEFAULT_POLICY):
    """(passage rows, passage labels, question rows, question labels, evidence per question
    about the story with whether it is answerable).

    With precedents, each question about an article is read twice: with the precedents of
    other writers (as a member's question about an article the bank knows), and as if its
    article had just been added (new_article_memories): the precedents about it gone, the
    others silent on its passages. So the scorer learns what the precedent features say when
    they are silent, as they are for an article an operator adds."""
    x, y, qx, qy, story = [], [], [], [], []
    topics = {(q.question, q.category, q.gold): about(index, q) for questions in sets.values() for q in questions}
    fresh = {d: index.reading(m) for d, m in new_article_memories(index, topics).items()}
    asked = [(group_of(source, q.id), q) for source, questions in sets.items() for q in questions if q.category != "request"]
    for start in range(0, len(asked), _BATCH):
        batch = asked[start : start + _BATCH]
        texts = [normalise_question(q.question) for _, q in batch]
        read = [read_question(index, t, policy) for t in texts]
        vectors, pieces = encode(index, [r for _, r in read], policy)
        for n, (group, q) in enumerate(batch):
            readings = [index]
            if fresh:
                readings += [fresh[d] for d in sorted(topics[(q.question, q.category, q.gold)])[:1]]
            for reading in readings:
                evidence = gather(reading, texts[n], read[n][0], read[n][1], vectors, pieces, n, policy, leave_out=group)
                for k, i in enumerate(evidence.candidates):
                    x.append(evidence.features[k])
                    y.append(q.answerable and holds_gold(index.passages[i].text, q.gold))
                qx.append(evidence.summary)
                qy.append(q.category in ("answerable", "story_unanswered"))
                if q.category in ("answerable", "story_unanswered") and evidence.candidates:
                    story.append((evidence, q.answerable))
    return np.array(x), np.array(y, dtype=int), np.array(qx), np.array(qy, dtype=int), story


def fit(index: Index, sets: Mapping[str, Sequence[EvalQuestion]], folder: Path) -> Scorer:
    """Fit on the question sets (file name -> its questions) and write the weights and the
    questions, as precedents labelled against the corpus's articles as they are now, into
    `folder` (the corpus's: retrieval/bank.py), both or neither."""
    against = tuple(article_key(a) for a in index.corpus.articles)
    precedents = tuple(dataclasses.replace(p, against=against) for p in precedents_of(sets))
    return write_bank(folder, fitted(index, sets, precedents), precedents)


def fitted(index: Index, sets: Mapping[str, Sequence[EvalQuestion]], precedents: Sequence[Precedent]) -> Scorer:
    """The scorer fitted on the sets, reading `precedents`, with its plain heads; nothing written."""
    plain = _fit_heads(index.reading(None), sets, ())
    return dataclasses.replace(_fit_heads(with_precedents(index, precedents), sets, tuple(sets)), plain=plain)


def _fit_heads(index: Index, sets: Mapping[str, Sequence[EvalQuestion]], sources: tuple[str, ...]) -> Scorer:
    x, y, qx, qy, story = training_rows(index, sets)
    passage = fit_head(x, y, PASSAGE_FEATURES, c=REGULARISATION)
    ax, ay = [], []
    for evidence, answerable in story:
        answers = passage.probability(evidence.features)
        order = tuple(int(k) for k in np.argsort(-answers, kind="stable"))
        ax.append(answer_features(evidence, answers, order))
        ay.append(int(answerable))
    ax, ay = np.array(ax), np.array(ay)
    # Whether some passage answers is read by its own head when the best candidate is of an
    # article the bank was not labelled against: there the precedent features are silent, and
    # one linear head for both cases weighs them as if they had spoken.
    new = ax[:, ANSWER_FEATURES.index("top_unlabelled")] > 0.5 if len(ax) else np.zeros(0, dtype=bool)
    separate = min(int(new.sum()), int((~new).sum())) >= _SEPARATE_ROWS and len(set(ay[new])) == 2
    return Scorer(
        passage,
        fit_head(qx, qy, QUESTION_FEATURES, c=REGULARISATION),
        fit_head(ax[~new] if separate else ax, ay[~new] if separate else ay, ANSWER_FEATURES, c=REGULARISATION),
        sources,
        answerable_new=fit_head(ax[new], ay[new], ANSWER_FEATURES, c=REGULARISATION) if separate else None,
    )


__all__ = ["training_rows", "fit", "fitted", "precedents_of", "with_precedents"]
