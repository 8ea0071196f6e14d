"""answer(): a question in; verbatim quotes with citations, a status and its reason out.

The only words in an answer that are not quoted are fixed templates: nothing is generated.
The stages, each a named step of `answer_many` (README, "How an answer is made"):

1. read: clean the question, read what it asks (retrieval/question_analysis.py), put it in
   the articles' words (retrieval/thesaurus.py);
2. encode: one forward pass of the model for all questions at once;
3. gather: BM25 and cosine over every passage, the best candidates fused, and for each the
   evidence the scorer reads (retrieval/evidence.py);
4. score: the fitted probability that each candidate answers, and that the question is about
   the story (retrieval/scorer.py);
5. check: the rules that make an answer uncertain or not covered (retrieval/checks.py);
6. choose: the quotes, best first, only those above the bar (retrieval/quotes.py).

Steps 1-3 live in retrieval/gathering.py, steps 4-6 in retrieval/deciding.py.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Collection, Sequence

from retrieval.checks import LABELLED_UNANSWERED, NEAREST_LABEL, PROMOTED_UNANSWERED, NO_ANSWER, Check, Rule
from retrieval.deciding import Scored, Status, check, choose, score
from retrieval.gathering import Evidence, encode, gather, read_question
from retrieval.index import HiddenSpan, Index, Mode
from retrieval.lessons import NO_LESSONS, RIGHT, Lessons, Ruling
from retrieval.limits import MAX_QUESTION_CHARS
from retrieval.policy import DEFAULT_POLICY, Policy
from retrieval.question_text import normalise_question, valid_text
from retrieval.quotes import Candidate


@dataclass(frozen=True)
class Quote:
    quote: str
    doc_id: str
    title: str
    outlet: str | None
    published: str | None
    url: str | None
    kind: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Answer:
    question: str
    mode: str
    passages: tuple[Quote, ...]
    corpus_version: str
    model: str | None
    latency_ms: float
    status: Status = Status.ANSWERED
    # A fixed template filled only with words of the question or the kind of fact asked.
    reason: str | None = None
    # Each rule's decision and what it measured (retrieval/checks.py).
    checks: tuple[Check, ...] = ()

    @property
    def abstained(self) -> bool:
        """Nothing in the articles is related: no passages (the audit log keeps it as a column)."""
        return self.status is Status.NOT_COVERED

    @property
    def message(self) -> str | None:
        """What is said instead of (not_covered) or above (uncertain) the quotes."""
        if self.status is Status.NOT_COVERED:
            return self.reason or NO_ANSWER
        if self.status is Status.UNCERTAIN:
            return NEAREST_LABEL
        return None

    @property
    def fired(self) -> tuple[str, ...]:
        """The rules that fired, by name."""
        return tuple(c.rule.value for c in self.checks if c.fired)

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "status": self.status.value,
            "reason": self.reason,
            "abstained": self.abstained,
            "mode": self.mode,
            "passages": [asdict(q) for q in self.passages],
            "message": self.message,
            "corpus_version": self.corpus_version,
            "model": self.model,
            "latency_ms": round(self.latency_ms, 2),
            "checks": [c.to_json() for c in self.checks],
        }


def answer(index: Index, question: str, policy: Policy = DEFAULT_POLICY, *,
           exclude: Collection[HiddenSpan] = (), lessons: Lessons = NO_LESSONS) -> Answer:
    """Answer one question from the index; raises BadQuestion for empty or over-long input.

    `exclude`: spans never to quote in this answer (one server's hidden passages).
    `lessons`: what that server's moderators' labels teach (retrieval/lessons.py)."""
    return answer_many(index, [question], policy, exclude=exclude, lessons=lessons)[0]


def answer_many(index: Index, questions: Sequence[str], policy: Policy = DEFAULT_POLICY, *,
                exclude: Collection[HiddenSpan] = (), lessons: Lessons = NO_LESSONS,
                scored_out: list | None = None) -> list[Answer]:
    """Answer several questions with one forward pass of the model (the bot batches
    simultaneous questions this way). Raises BadQuestion for the first bad one.

    `exclude`: spans never to quote in these answers (one server's hidden passages).
    `lessons`: what that server's moderators' labels teach (retrieval/lessons.py).
    `scored_out`: a list each question's Scored is appended to (for measuring)."""
    started = time.perf_counter()
    texts = [normalise_question(q) for q in questions]
    read = [read_question(index, t, policy) for t in texts]
    vectors, pieces = encode(index, [r for _, r in read], policy)
    own = {lesson.name for lesson in lessons.items}
    lessons = index.promoted + lessons  # the operator's promoted labels, for every server, and this server's
    taught = index.taught(lessons) if lessons else None
    encoded = time.perf_counter()
    answers = []
    for n, (question, text) in enumerate(zip(questions, texts)):
        own_start = time.perf_counter()
        analysed, in_story_words = read[n]
        evidence = gather(index, text, analysed, in_story_words, vectors, pieces, n, policy, exclude, taught=taught)
        scored = score(index, evidence, policy)
        if scored_out is not None:
            scored_out.append(scored)
        status, reason, checks = check(scored, policy, index)
        chosen = choose(index, scored, status, policy)
        vector = vectors[n] if vectors is not None else None
        ruling = taught.ruling(vector, in_story_words) if taught is not None else None
        if ruling is None:
            checks = (*checks, Check(Rule.LABEL, False, "no label like it" if taught is not None else "no labels"))
        else:
            kept_out = [HiddenSpan(p.doc_id, p.start, p.end) for p in
                        (index.passages[i] for i in taught.kept_out(vector, in_story_words))]
            status, reason, checks, chosen = _ruled(index, scored, policy, ruling, (status, reason, checks, chosen),
                                                    [*exclude, *kept_out], own=ruling.name in own)
        latency = (encoded - started) + (time.perf_counter() - own_start)
        answers.append(
            Answer(
                question=valid_text(question).strip(),  # storable and printable: no lone surrogates
                mode=index.mode,
                passages=tuple(_quote(index, c) for c in chosen),
                corpus_version=index.corpus.version,
                model=index.model,
                latency_ms=latency * 1000,
                status=status,
                reason=reason,
                checks=checks,
            )
        )
    return answers


# Decisions a label never overrides: a request is not a question about the story, and a question
# whose premise the articles contradict must show the passage that says otherwise.
UNDER_NO_LABEL = frozenset({Rule.REQUEST, Rule.PREMISE})


def _ruled(index: Index, scored: Scored, policy: Policy, ruling: Ruling, decided: tuple, exclude: Sequence[HiddenSpan],
           *, own: bool):
    """The answer as a server's label decides it (retrieval/lessons.py): its right passage
    first, answered; or, for a question it says the articles don't answer, at most uncertain.
    A passage the server hid (or a "wrong passage" label kept out) is never quoted for it.
    `own`: the label is the server's own, not one the operator promoted to every server."""
    status, reason, checks, chosen = decided
    stronger = [c.rule.value for c in checks if c.fired and c.rule in UNDER_NO_LABEL]
    if stronger:  # a request stays a request, a premise the articles contradict stays refuted
        return status, reason, (*checks, Check(Rule.LABEL, False, f"{ruling.detail}; not applied: {', '.join(stronger)}")), chosen
    if ruling.verdict == RIGHT:
        allowed = [i for i in ruling.passages if not any(h.overlaps(index.passages[i]) for h in exclude)]
        if not allowed:
            return decided
        first = min(allowed, key=lambda i: len(index.passages[i].text))  # the labelled passage itself, not a window round it
        passage = index.passages[first]
        apart = HiddenSpan(passage.doc_id, passage.start, passage.end)
        others = [c for c in chosen if not apart.overlaps(c.passage)] if status is Status.ANSWERED else []
        picked = (Candidate(first, passage, 1.0, 0.0), *others[: policy.max_quotes - 1])
        return Status.ANSWERED, None, (*checks, Check(Rule.LABEL, True, ruling.detail)), picked
    said = LABELLED_UNANSWERED if own else PROMOTED_UNANSWERED
    labelled = (*checks, Check(Rule.LABEL, True, ruling.detail, said))
    if status is Status.ANSWERED:
        return Status.UNCERTAIN, said, labelled, choose(index, scored, Status.UNCERTAIN, policy)
    if status is Status.UNCERTAIN:  # the label says more than "no passage clearly answers this"
        return status, said, labelled, chosen
    return status, reason, labelled, chosen


def _quote(index: Index, candidate: Candidate) -> Quote:
    passage = candidate.passage
    article = index.article(passage.doc_id)
    return Quote(
        quote=article.body[passage.start : passage.end],
        doc_id=article.id,
        title=article.title,
        outlet=article.outlet,
        published=article.published,
        url=article.url,
        kind=article.kind,
        start=passage.start,
        end=passage.end,
        score=round(candidate.score, 4),
    )


__all__ = ["Answer", "Quote", "Status", "Policy", "DEFAULT_POLICY", "Evidence", "Scored", "answer",
           "answer_many", "normalise_question", "read_question", "encode", "gather", "score", "check",
           "choose", "NO_ANSWER", "MAX_QUESTION_CHARS", "Mode", "Lessons", "NO_LESSONS"]
