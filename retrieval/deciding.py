"""Steps 4-6 of an answer (retrieval/answer.py): score the candidates, check the rules that make an
answer uncertain or not covered, choose the quotes; and the status an answer ends with."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Sequence

import numpy as np

from retrieval.checks import (
    NO_ANSWER,
    Check,
    evidence_check,
    kind_check,
    noun_held,
    premise_check,
    related_check,
    request_check,
    unknown_name_check,
    word_check,
)
from retrieval.evidence import ANSWER_FEATURES, PASSAGE_FEATURES, by_name, question_word_set
from retrieval.gathering import Evidence
from retrieval.index import Index
from retrieval.passage_facts import calendar_words
from retrieval.policy import Policy
from retrieval.question_analysis import Kind
from retrieval.quotes import Candidate, choose_quotes
from retrieval.reason_words import nameable
from retrieval.scorer import Scorer, load_scorer
from retrieval.story import Story
from retrieval.tokenize import words


class Status(str, Enum):
    """What an answer amounts to. `abstained` is true exactly for NOT_COVERED."""

    ANSWERED = "answered"  # the quotes speak to what was asked
    UNCERTAIN = "uncertain"  # related passages are shown, but none gives what was asked
    NOT_COVERED = "not_covered"  # nothing in the articles is related: no passages

    @classmethod
    def from_str(cls, value: str) -> "Status":
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown status {value!r}; expected one of: {', '.join(s.value for s in cls)}") from None


@dataclass(frozen=True)
class Scored:
    """Step 4: the scorer's probabilities."""

    evidence: Evidence
    answers: np.ndarray  # P(candidate answers), per candidate
    related: float  # P(the question is about the story)
    order: tuple[int, ...] = field(default=())  # candidate positions, in the order shown (`shown_order`)
    answerable: float = 0.0  # P(some candidate answers the question)
    bar: float = 0.0  # what `answerable` must reach to answer
    # The best candidate is of an article no precedent was labelled against (added since).
    new_article: bool = False


def score(index: Index, evidence: Evidence, policy: Policy, scorer: Scorer | None = None) -> Scored:
    """The probability that each candidate answers and that the question is about the story.
    Without a model, BM25's share of the question's weight stands in for both."""
    if index.dense is None:
        answers = evidence.features[:, PASSAGE_FEATURES.index("bm25")]
        order = tuple(int(k) for k in np.argsort(-answers, kind="stable"))
        related = 1.0 if evidence.best_sparse >= policy.min_related_bm25 else 0.0
        best = float(answers[order[0]]) if order else 0.0
        return Scored(evidence, answers, related, order, best, policy.min_relevance_bm25)
    scorer = scorer or index.scorer or load_scorer()
    if index.memory is None:
        scorer = scorer.without_precedents()
    answers = scorer.passage.probability(evidence.features) if evidence.candidates else np.zeros(0)
    probable = tuple(int(k) for k in np.argsort(-answers, kind="stable"))
    related = float(scorer.related.probability(evidence.summary)[0])
    features = answer_features(evidence, answers, probable) if probable else None
    answerable = float(scorer.answer_head(features).probability(features)[0]) if probable else 0.0
    new = features is not None and bool(features[ANSWER_FEATURES.index("top_unlabelled")] > 0.5)
    bar = policy.min_answer_new if new else policy.min_answer
    return Scored(evidence, answers, related, shown_order(evidence, answers, policy), answerable, bar, new)


def shown_order(evidence: Evidence, answers: np.ndarray, policy: Policy) -> tuple[int, ...]:
    """The order passages are shown in: the re-rank of the engine before the scorer (its
    fused score, as the `gap` feature) plus `policy.probability_weight` of the scorer's
    probability (policy.py has the figures it was chosen by). The status is decided from the
    scorer's own most probable candidates."""
    key = evidence.features[:, PASSAGE_FEATURES.index("gap")] + policy.probability_weight * answers
    return tuple(int(k) for k in np.argsort(-key, kind="stable"))


def answer_features(evidence: Evidence, answers: np.ndarray, order: Sequence[int]) -> np.ndarray:
    """The question-level evidence that some candidate answers (ANSWER_FEATURES)."""
    top = order[0] if len(order) else None
    row = evidence.features[top] if top is not None else np.zeros(len(PASSAGE_FEATURES))
    kind = evidence.question.kind
    return by_name(ANSWER_FEATURES, None, {
        "p_best": float(answers[order[0]]) if len(order) else 0.0,
        "p_second": float(answers[order[1]]) if len(order) > 1 else 0.0,
        "words_min": row[PASSAGE_FEATURES.index("words_min")],
        "words_mean": row[PASSAGE_FEATURES.index("words_mean")],
        "kind_missing": row[PASSAGE_FEATURES.index("kind_missing")],
        "unknown_names": len(evidence.unknown),
        "content_words": len(evidence.words),
        "absent_words": evidence.absent,
        "words_min_any": float(evidence.coverage.max(axis=1).min()) if evidence.coverage.size else 1.0,
        "asks_date": float(kind is Kind.DATE),
        "asks_number": float(kind is Kind.NUMBER),
        "asks_name": float(kind in (Kind.PERSON, Kind.PLACE, Kind.INSTANCE)),
        "asks_reason": float(kind in (Kind.REASON, Kind.DESCRIPTION)),
        "asks_yes_no": float(kind is Kind.YES_NO),
        "precedent_answered": evidence.precedent_answered,
        # Like the most like story question nothing answered, among those labelled against
        # the best candidate's article: a new article's passage is not held against.
        "precedent_unanswered": float(evidence.unanswered_near[top]) if top is not None and evidence.unanswered_near is not None
        else evidence.precedent_unanswered,
        "top_unlabelled": row[PASSAGE_FEATURES.index("article_unlabelled")],
    })


def check(scored: Scored, policy: Policy, index: Index | None = None) -> tuple[Status, str | None, tuple[Check, ...]]:
    """The status, its reason, and every rule's decision. `index`: what the reasons and the
    premise rule read besides the evidence (the story, the thesaurus, the passages shown)."""
    evidence = scored.evidence
    story = index.corpus.story if index is not None else Story()
    known = index.known_terms if index is not None else frozenset()
    request = request_check(evidence.question, story)
    related = related_check(scored.related, policy.min_related)
    weak = evidence_check(scored.answerable, scored.bar)
    near = scored.order[: policy.max_quotes]
    # A reason names only what the member wrote and a reason may name (retrieval/reason_words.py).
    names = unknown_name_check([n for n in evidence.unknown if nameable(n, known)])
    held = [evidence.kinds[k] for k in near]
    if evidence.question.noun and index is not None:
        asked_words = question_word_set(evidence.question.text)
        held = [noun_held(evidence.question.noun, index.passages[evidence.candidates[k]].text, asked_words) for k in near]
    kind = kind_check(evidence.question, held)
    coverage = [float(evidence.coverage[w, list(near)].max()) if near else 0.0 for w in range(len(evidence.words))]
    # A reason names only words the member wrote (not the thesaurus's "status" for their
    # "label"), and not a month the question is confined to: the articles' dates speak to
    # those (time_match).
    asked = question_word_set(evidence.question.text)
    dated = bool(evidence.question.months)
    said = [n for n, w in enumerate(evidence.words)
            if set(words(w)) <= asked and not (dated and set(words(w)) & calendar_words()) and nameable(w, known)]
    word = word_check([evidence.words[n] for n in said], [coverage[n] for n in said], policy.min_word_similarity)
    dates_event = index is not None and evidence.question.event is not None and evidence.question.named_months
    premise = premise_check(evidence.question, _shown(index, scored, policy) if dates_event else ())
    checks = (request, related, weak, names, kind, word, premise)
    if request.fired:
        return Status.NOT_COVERED, request.reason, checks
    if related.fired or not scored.order:
        return Status.NOT_COVERED, NO_ANSWER, checks
    if premise.fired:
        return Status.UNCERTAIN, premise.reason, checks
    if not weak.fired:
        return Status.ANSWERED, None, checks
    explained = next((c for c in (kind, names, word) if c.fired), weak)
    return Status.UNCERTAIN, explained.reason, checks


def _shown(index: Index, scored: Scored, policy: Policy) -> list[tuple[str, str | None]]:
    """(text, article date) of the passages an uncertain answer shows, in order."""
    shown = choose(index, scored, Status.UNCERTAIN, policy)
    return [(c.passage.text, index.article(c.passage.doc_id).published) for c in shown]


def choose(index: Index, scored: Scored, status: Status, policy: Policy) -> tuple[Candidate, ...]:
    """Answered: up to `max_quotes` quotes in the order shown, each after the first above
    the bar. Uncertain: the nearest passages. Not covered: none."""
    if status is Status.NOT_COVERED:
        return ()
    evidence = scored.evidence
    candidates = [
        Candidate(evidence.candidates[k], index.passages[evidence.candidates[k]], float(scored.answers[k]),
                  float(evidence.features[k, 0]))
        for k in scored.order
    ]
    if status is Status.UNCERTAIN:
        return choose_quotes(candidates, max_quotes=policy.nearest_shown, min_score=0.0)
    return choose_quotes(candidates, max_quotes=policy.max_quotes, min_score=min(policy.min_quote, scored.bar))
