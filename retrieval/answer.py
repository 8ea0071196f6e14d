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
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from enum import Enum
from typing import Collection, Sequence

import numpy as np

from retrieval.checks import NEAREST_LABEL, NO_ANSWER, Check
from retrieval.checks import evidence_check, kind_check, noun_held, premise_check, related_check, request_check
from retrieval.checks import unknown_name_check, word_check
from retrieval.reason_words import nameable
from retrieval.story import Story
from retrieval.evidence import (
    ANSWER_FEATURES,
    PASSAGE_FEATURES,
    QUESTION_FEATURES,
    by_name,
    QuestionPieces,
    alignment_pieces,
    content_words,
    kind_held,
    question_word_set,
    time_match,
    word_coverage,
)
from retrieval.fusion import fuse
from retrieval.precedents import likeness, precedent_evidence, precedent_passages
from retrieval.index import HiddenSpan, Index, Mode
from retrieval.names import unknown_names
from retrieval.outlets import named_outlets
from retrieval.passage_facts import calendar_words
from retrieval.tokenize import words
from retrieval.question_text import normalise_question, valid_text
from retrieval.policy import DEFAULT_POLICY, Policy
from retrieval.question_analysis import Kind, Question, analyse
from retrieval.quotes import Candidate, choose_quotes, token_set
from retrieval.scorer import Scorer, load_scorer
from retrieval.limits import MAX_QUESTION_CHARS
from retrieval.thesaurus import Thesaurus



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




@dataclass(frozen=True)
class Evidence:
    """One question's candidates and the evidence for each (step 3, `gather`)."""

    question: Question
    read: str  # the question in the articles' words
    candidates: tuple[int, ...]  # passage indices, fused order
    features: np.ndarray  # (candidates, PASSAGE_FEATURES)
    summary: np.ndarray  # (QUESTION_FEATURES,)
    words: tuple[str, ...]  # the question's content words
    coverage: np.ndarray  # (words, candidates): how well each candidate speaks to each word
    kinds: tuple[bool | None, ...]  # per candidate: holds the kind of fact asked
    unknown: tuple[str, ...]  # names the articles never use
    best_sparse: float = 0.0
    absent: int = 0  # content words the articles never use, nor a typo of one
    precedent_answered: float = 0.0  # how much like the most like fitted-on question the articles answer
    precedent_unanswered: float = 0.0  # like the most like one about the story that they don't
    # Per candidate: the same, among the precedents labelled against the candidate's article
    # (retrieval/precedents.py): what the `precedent_unanswered` answer feature reads.
    unanswered_near: np.ndarray | None = None


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


def answer(index: Index, question: str, policy: Policy = DEFAULT_POLICY, *,
           exclude: Collection[HiddenSpan] = ()) -> Answer:
    """Answer one question from the index; raises BadQuestion for empty or over-long input.

    `exclude`: spans never to quote in this answer (one server's hidden passages)."""
    return answer_many(index, [question], policy, exclude=exclude)[0]


def answer_many(index: Index, questions: Sequence[str], policy: Policy = DEFAULT_POLICY, *,
                exclude: Collection[HiddenSpan] = (), scored_out: list | None = None) -> list[Answer]:
    """Answer several questions with one forward pass of the model (the bot batches
    simultaneous questions this way). Raises BadQuestion for the first bad one.

    `exclude`: spans never to quote in these answers (one server's hidden passages).
    `scored_out`: a list each question's Scored is appended to (for measuring)."""
    started = time.perf_counter()
    texts = [normalise_question(q) for q in questions]
    read = [read_question(index, t, policy) for t in texts]
    vectors, pieces = encode(index, [r for _, r in read], policy)
    encoded = time.perf_counter()
    answers = []
    for n, (question, text) in enumerate(zip(questions, texts)):
        own_start = time.perf_counter()
        analysed, in_story_words = read[n]
        evidence = gather(index, text, analysed, in_story_words, vectors, pieces, n, policy, exclude)
        scored = score(index, evidence, policy)
        if scored_out is not None:
            scored_out.append(scored)
        status, reason, checks = check(scored, policy, index)
        chosen = choose(index, scored, status, policy)
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


# --- 1. read -------------------------------------------------------------------------------

def read_question(index: Index, text: str, policy: Policy) -> tuple[Question, str]:
    """What the question asks, and the question in the articles' own words ("restore" ->
    "re-designate"), which is what the model and BM25 read."""
    thesaurus = index.thesaurus if policy.use_thesaurus else Thesaurus()
    return analyse(text, index.corpus.story), thesaurus.in_story_words(text)


# --- 2. encode -----------------------------------------------------------------------------

def encode(index: Index, texts: list[str], policy: Policy) -> tuple[np.ndarray | None, list[QuestionPieces] | None]:
    """Sentence vectors and located word-piece vectors of every question: one forward pass."""
    if index.dense is None or not texts:
        return None, None
    encoder = index.dense.encoder
    if encoder.encode_spans is not None:
        vectors, located = encoder.encode_spans(texts)
        return vectors, [QuestionPieces(p, s) for p, s in located]
    return encoder.encode(texts), None


# --- 3. gather -----------------------------------------------------------------------------

def gather(index: Index, text: str, question: Question, read: str, vectors: np.ndarray | None,
           pieces: list[QuestionPieces] | None, n: int, policy: Policy,
           exclude: Collection[HiddenSpan] = (), *, leave_out: str | None = None) -> Evidence:
    """The candidates and the evidence for each.

    `leave_out`: a group of precedents not to read (when fitting, the question's own writer's)."""
    thesaurus = index.thesaurus if policy.use_thesaurus else Thesaurus()
    sparse = index.bm25.relative_scores(text, thesaurus.expansions(index.bm25.spell(text)))
    vector = vectors[n] if vectors is not None else None
    dense = index.dense.scores(vector) if vector is not None else None
    sidebar = 0.0
    if vector is not None and index.off_topic is not None and len(index.off_topic) and len(dense):
        sidebar = float((index.off_topic @ vector).max() - dense.max())
    allowed = _allowed(index, text, policy)
    among = np.flatnonzero(allowed) if allowed is not None else np.arange(len(index.passages))
    ranked = fuse(sparse[among], dense[among] if dense is not None else None, policy.fusion,
                  dense_weight=policy.dense_weight, limit=policy.candidates)
    ids = [int(among[i]) for i, _ in ranked]
    sims = likeness(index.memory, vector, read, leave_out)
    hidden = _hidden_answers(index, exclude)
    ids += [i for i in precedent_passages(index.memory, sims, hidden) if i not in ids and (allowed is None or allowed[i])]
    ids = [i for i in ids if not any(h.overlaps(index.passages[i]) for h in exclude)]
    own = pieces[n] if pieces is not None else None
    words = content_words(read, own)
    known, spell = _word_lookups(index)
    unknown = tuple(name.text for name in unknown_names(text, known))
    count = len(ids)
    cos = dense[ids] if dense is not None and count else np.zeros(count)
    bm25 = sparse[ids] if count else np.zeros(0)
    similarity = _piece_similarity(index, own, ids) if policy.align else None
    aligned = np.zeros(count)
    if similarity is not None and own is not None:
        keep = alignment_pieces(read, own)
        if len(keep):
            aligned = similarity[keep].mean(axis=0)
    texts = [index.passages[i].text for i in ids]
    coverage = word_coverage(words, [token_set(t) for t in texts], similarity, spell)
    asked_words = question_word_set(text)
    kinds = tuple(kind_held(question, t, asked_words) for t in texts)
    w_dense, w_aligned, w_sparse = policy.rerank_weights
    fused = w_dense * cos + w_aligned * aligned + w_sparse * bm25
    best = float(fused.max()) if count else 0.0
    doc_ids = [index.passages[i].doc_id for i in ids]
    best_in_article = {d: max(float(f) for f, dd in zip(fused, doc_ids) if dd == d) for d in set(doc_ids)}
    precedent = precedent_evidence(index.memory, sims, ids, hidden)
    passages = [index.passages[i] for i in ids]
    articles = {d: index.article(d) for d in set(doc_ids)}
    timing = {d: time_match(question, a) for d, a in articles.items()}
    neighbours = _neighbours(passages)
    # One column at a time, each by its name (by_name checks every feature is there once): a
    # row at a time in Python cost more than the rest of the step.
    rows = by_name(PASSAGE_FEATURES, count, {
        "cosine": cos, "alignment": aligned, "bm25": bm25, "gap": fused - best,
        "article_gap": [best_in_article[d] - best for d in doc_ids],
        "words_min": coverage.min(axis=0) if len(words) else np.ones(count),
        "words_mean": coverage.mean(axis=0) if len(words) else np.ones(count),
        "kind_held": [float(h is True) for h in kinds], "kind_missing": [float(h is False) for h in kinds],
        "time_match": [timing[d] for d in doc_ids], "unknown_names": np.full(count, len(unknown)),
        "sidebar": np.full(count, sidebar), "sentences": [p.sentences for p in passages],
        "neighbour": [max(float(fused[j]) for j in around) - best if around else -1.0 for around in neighbours],
        "lead": [_lead(articles[p.doc_id].body, p.start) for p in passages],
        "precedent": precedent.passages[:, 0], "precedent_gap": precedent.passages[:, 1],
        "precedent_vote": precedent.passages[:, 2], "article_unlabelled": precedent.unlabelled,
    })
    summary = by_name(QUESTION_FEATURES, None, {
        "best_cosine": float(cos.max()) if count else 0.0,
        "best_alignment": float(aligned.max()) if count else 0.0,
        "best_bm25": float(bm25.max()) if count else 0.0,
        "best_words_mean": float(coverage.mean(axis=0).max()) if count and len(words) else (1.0 if count else 0.0),
        "sidebar": sidebar, "unknown_names": len(unknown),
        "precedent_story": precedent.story, "precedent_elsewhere": precedent.elsewhere,
    })
    absent = sum(not known(w.folded) for w in words)
    return Evidence(question, read, tuple(ids), rows, summary, tuple(w.text for w in words), coverage, kinds, unknown,
                    float(sparse.max()) if len(sparse) else 0.0, absent, precedent.answered, precedent.unanswered,
                    precedent.unanswered_near)


def _word_lookups(index: Index):
    """`index.knows` and the typo correction of single words, remembered on the index: each
    runs difflib over the corpus's words, a few milliseconds for a word it does not know."""
    return index.word_lookups


def _hidden_answers(index: Index, exclude: Collection[HiddenSpan]) -> frozenset[int]:
    """The passages answering some precedent that this answer may not quote."""
    if not exclude or index.memory is None:
        return frozenset()
    return frozenset(i for i in index.memory.answering if any(h.overlaps(index.passages[i]) for h in exclude))


def _neighbours(passages: Sequence) -> list[list[int]]:
    """For each passage, the positions of those ending just before it starts or starting
    just after it ends (a space or a paragraph break between), in the same article."""
    ends: dict[tuple[str, int], list[int]] = {}
    starts: dict[tuple[str, int], list[int]] = {}
    for k, p in enumerate(passages):
        ends.setdefault((p.doc_id, p.end), []).append(k)
        starts.setdefault((p.doc_id, p.start), []).append(k)
    found = []
    for p in passages:
        before = [k for gap in (1, 2) for k in ends.get((p.doc_id, p.start - gap), ())]
        after = [k for gap in (1, 2) for k in starts.get((p.doc_id, p.end + gap), ())]
        found.append(before + after)
    return found


@lru_cache(maxsize=65536)
def _lead(body: str, start: int) -> float:
    """1.0 in the article's first paragraph, falling to 0.0 in its last."""
    paragraphs = body.count("\n\n")
    return 1.0 - body.count("\n\n", 0, start) / paragraphs if paragraphs else 1.0


def _allowed(index: Index, text: str, policy: Policy) -> np.ndarray | None:
    """Passages of the outlets the question names ("what does the spectator think"), if any."""
    named = named_outlets(text, index.outlets) if policy.prefer_named_outlet else frozenset()
    if not named:
        return None
    return np.array([outlet in named for outlet in index.passage_outlets])


def _piece_similarity(index: Index, pieces: QuestionPieces | None, ids: Sequence[int]) -> np.ndarray | None:
    """(question pieces, candidates): each piece's best cosine with a piece of the candidate,
    one matrix product for all (late interaction, as in ColBERT: retrieval/alignment.py)."""
    dense = index.dense
    if pieces is None or dense is None or dense.tokens is None or not len(pieces.vectors) or not ids:
        return None
    tokens = dense.tokens
    spans = [(int(tokens.offsets[i]), int(tokens.offsets[i + 1])) for i in ids]
    result = np.zeros((len(pieces.vectors), len(ids)))
    present = [k for k, (a, b) in enumerate(spans) if b > a]
    if not present:
        return result
    rows = np.concatenate([np.arange(*spans[k]) for k in present])
    similarity = pieces.vectors.astype(np.float32) @ index.token_vectors[rows].T
    starts = np.concatenate([[0], np.cumsum([spans[k][1] - spans[k][0] for k in present])[:-1]])
    result[:, present] = np.maximum.reduceat(similarity, starts, axis=1)
    return result


# --- 4. score ------------------------------------------------------------------------------

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


# --- 5. check ------------------------------------------------------------------------------

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


# --- 6. choose -----------------------------------------------------------------------------

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


__all__ = ["Answer", "Quote", "Status", "Policy", "DEFAULT_POLICY", "Evidence", "Scored", "answer", "answer_many",
           "normalise_question", "read_question", "encode", "gather", "score", "check", "choose",
           "NO_ANSWER", "MAX_QUESTION_CHARS", "Mode"]
