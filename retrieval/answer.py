"""answer(): a question in, verbatim quotes with citations (or a plain abstention) out.

The only words in an answer that are not quoted are fixed templates: nothing is generated.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from enum import Enum
from typing import Collection, Sequence

import numpy as np

from retrieval.alignment import alignment_scores
from retrieval.focus import unanswered_words
from retrieval.fusion import Fusion, fuse
from retrieval.index import HiddenSpan, Index, Mode
from retrieval.names import deciding_names, unknown_names
from retrieval.outlets import named_outlets
from retrieval.question_text import normalise_question, valid_text
from retrieval.quotes import Candidate, choose_quotes
from retrieval.limits import MAX_QUESTION_CHARS
from retrieval.thesaurus import Thesaurus
from retrieval.tokenize import STOPWORDS

NO_ANSWER = "The articles don't cover that, so there is nothing to quote."


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
    abstained: bool
    mode: str
    passages: tuple[Quote, ...]
    corpus_version: str
    model: str | None
    latency_ms: float
    status: Status = Status.ANSWERED
    # A fixed template filled only with words of the question or the kind of fact asked.
    reason: str | None = None

    @property
    def message(self) -> str | None:
        return NO_ANSWER if self.abstained else None

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
        }


@dataclass(frozen=True)
class Policy:
    """How relevant is relevant enough. Values measured on tests/data/dev.jsonl (see README)."""

    fusion: Fusion = Fusion.BLEND
    dense_weight: float = 0.7
    # Hybrid: answer when the best cosine plus `lexical_weight` times the best relative BM25
    # score reaches `min_relevance`. Either signal alone misleads: typos and names have low
    # cosine but exact words; paraphrases share no words but are close in meaning.
    lexical_weight: float = 0.5
    min_relevance: float = 0.46
    # BM25 alone: answer when some passage earns this share of the question's IDF weight.
    min_relevance_bm25: float = 0.36
    # A question nearer a sidebar headline than any passage is abstained on unless its
    # relative BM25 score reaches this.
    off_topic_max_lexical: float = 0.5
    max_quotes: int = 3
    # A further quote must score at least this share of the best one.
    keep_ratio: float = 0.6
    candidates: int = 30
    # Word-by-word alignment (retrieval/alignment.py) re-ranks the fused candidates as
    # dense, alignment and lexical in these shares; relevance is then the mean of the best
    # cosine and the best alignment, plus `lexical_weight` times the best BM25 share, and
    # must reach `min_relevance_aligned`.
    align: bool = True
    rerank_weights: tuple[float, float, float] = (0.2, 0.5, 0.3)
    min_relevance_aligned: float = 0.50
    # Search the thesaurus's equivalents of the question's words (retrieval/thesaurus.py).
    use_thesaurus: bool = True
    # A question naming an outlet ("what does the spectator think") is answered from that
    # outlet's articles (retrieval/outlets.py).
    prefer_named_outlet: bool = True
    # Abstain on a factoid question when a word that decides what it asks (leaving it out
    # moves the question's vector by `min_focus_shift`) is in no quote and near no quoted
    # word (`min_focus_similarity`): retrieval/focus.py.
    check_focus: bool = True
    min_focus_shift: float = 0.1
    min_focus_similarity: float = 0.5
    # Abstain on any question that turns on a name the articles never use: one whose leaving
    # out moves the question's vector by `min_focus_shift` too (retrieval/names.py).
    check_names: bool = True


DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class Signals:
    """One question's scores: relative BM25 and cosine for every passage, cosine with the
    off-topic anchors, and alignment for the candidates (by passage index)."""

    sparse: np.ndarray
    dense: np.ndarray | None = None
    off_topic: np.ndarray | None = None
    aligned: dict[int, float] | None = None

    def relevance(self, policy: Policy) -> float:
        """How well the best passages match the question, on the scale the thresholds use."""
        lexical = float(self.sparse.max()) if len(self.sparse) else 0.0
        if self.dense is None:
            return lexical
        dense = float(self.dense.max()) if len(self.dense) else 0.0
        if self.aligned:
            dense = (dense + max(self.aligned.values())) / 2
        return dense + policy.lexical_weight * lexical

    def threshold(self, policy: Policy) -> float:
        if self.dense is None:
            return policy.min_relevance_bm25
        return policy.min_relevance_aligned if self.aligned else policy.min_relevance

    def abstains(self, policy: Policy) -> bool:
        sparse, dense, off_topic = self.sparse, self.dense, self.off_topic
        if dense is not None and off_topic is not None and len(off_topic) and len(dense):
            # Closer to a headline that stood beside the story than to the story itself, and
            # without the story's own words (one-word questions like "poisoning" sit near some
            # headline too, but match the articles word for word).
            closer_elsewhere = float(off_topic.max()) > float(dense.max())
            if closer_elsewhere and float(sparse.max()) < policy.off_topic_max_lexical:
                return True
        return self.relevance(policy) < self.threshold(policy)


def answer(index: Index, question: str, policy: Policy = DEFAULT_POLICY, *,
           exclude: Collection[HiddenSpan] = ()) -> Answer:
    """Answer one question from the index; raises BadQuestion for empty or over-long input.

    `exclude`: spans never to quote in this answer (one server's hidden passages)."""
    return answer_many(index, [question], policy, exclude=exclude)[0]


def _encode(index: Index, texts: list[str], policy: Policy) -> tuple[np.ndarray | None, list[np.ndarray] | None]:
    """Sentence vectors and, when alignment is on, word-piece vectors: one forward pass."""
    if index.dense is None or not texts:
        return None, None
    encoder = index.dense.encoder
    if policy.align and policy.fusion is Fusion.BLEND and index.dense.tokens is not None and encoder.encode_tokens:
        return encoder.encode_tokens(texts, STOPWORDS)
    return encoder.encode(texts), None


def answer_many(index: Index, questions: Sequence[str], policy: Policy = DEFAULT_POLICY, *,
                exclude: Collection[HiddenSpan] = ()) -> list[Answer]:
    """Answer several questions with one forward pass of the model (the bot batches
    simultaneous questions this way). Raises BadQuestion for the first bad one.

    `exclude`: spans never to quote in these answers (one server's hidden passages)."""
    started = time.perf_counter()
    texts = [normalise_question(q) for q in questions]
    thesaurus = index.thesaurus if policy.use_thesaurus else Thesaurus()
    # The model reads the question in the articles' own words ("restore" -> "re-designate").
    read = [thesaurus.in_story_words(t) for t in texts]
    vectors, pieces = _encode(index, read, policy)
    encoded = time.perf_counter()
    answers = []
    for n, (question, text) in enumerate(zip(questions, texts)):
        own_start = time.perf_counter()
        signals = Signals(index.bm25.relative_scores(text, thesaurus.expansions(index.bm25.spell(text))))
        vector = vectors[n] if vectors is not None else None
        if vector is not None:
            off_topic = index.off_topic @ vector if index.off_topic is not None else None
            signals = replace(signals, dense=index.dense.scores(vector), off_topic=off_topic)
        ranked = _ranked(index, text, signals, policy)
        if pieces is not None and ranked and len(pieces[n]):  # a question of stopwords only has nothing to align
            ids = [i for i, _ in ranked]
            aligned = alignment_scores(pieces[n], index.dense.tokens, ids)
            signals = replace(signals, aligned=dict(zip(ids, aligned.tolist())))
            ranked = _rerank(signals, ids, policy)
        dense = signals.dense
        candidates = [
            Candidate(i, index.passages[i], float(score), float(dense[i]) if dense is not None else 0.0)
            for i, score in ranked
            if score > 0 and not any(h.overlaps(index.passages[i]) for h in exclude)
        ]
        abstained = not candidates or signals.abstains(policy)
        chosen = () if abstained else choose_quotes(candidates, max_quotes=policy.max_quotes, keep_ratio=policy.keep_ratio)
        if chosen and (_unanswered(index, read[n], chosen, policy) or _unknown_names(index, read[n], vector, policy)):
            abstained, chosen = True, ()
        # Each answer's latency: the shared forward pass plus its own work.
        latency = (encoded - started) + (time.perf_counter() - own_start)
        answers.append(
            Answer(
                question=valid_text(question).strip(),  # storable and printable: no lone surrogates
                abstained=abstained,
                mode=index.mode,
                passages=tuple(_quote(index, c) for c in chosen),
                corpus_version=index.corpus.version,
                model=index.model,
                latency_ms=latency * 1000,
                status=Status.NOT_COVERED if abstained else Status.ANSWERED,
                reason=NO_ANSWER if abstained else None,
            )
        )
    return answers


def _ranked(index: Index, question: str, signals: Signals, policy: Policy) -> list[tuple[int, float]]:
    """The fused candidates, from the articles of the outlets the question names if it names any."""
    named = named_outlets(question, index.outlets) if policy.prefer_named_outlet else frozenset()
    if not named:
        return fuse(signals.sparse, signals.dense, policy.fusion, dense_weight=policy.dense_weight, limit=policy.candidates)
    among = np.flatnonzero([outlet in named for outlet in index.passage_outlets])
    dense = signals.dense[among] if signals.dense is not None else None
    ranked = fuse(signals.sparse[among], dense, policy.fusion, dense_weight=policy.dense_weight, limit=policy.candidates)
    return [(int(among[i]), score) for i, score in ranked]


def _unanswered(index: Index, question: str, chosen: Sequence[Candidate], policy: Policy) -> tuple[str, ...]:
    """The words of a factoid question that the chosen quotes don't speak to (retrieval/focus.py)."""
    dense = index.dense
    if not policy.check_focus or dense is None or dense.tokens is None or dense.encoder.encode_spans is None:
        return ()
    tokens = dense.tokens
    rows = [tokens.vectors[tokens.offsets[c.index] : tokens.offsets[c.index + 1]] for c in chosen]
    return unanswered_words(
        question,
        [c.passage.text for c in chosen],
        np.concatenate(rows),
        dense.encoder.encode_spans,
        index.bm25.spell,
        min_shift=policy.min_focus_shift,
        min_similarity=policy.min_focus_similarity,
    )


def _unknown_names(index: Index, question: str, vector: np.ndarray | None, policy: Policy) -> tuple[str, ...]:
    """The names the question turns on that the articles never use (retrieval/names.py)."""
    if not policy.check_names or index.dense is None or vector is None:
        return ()
    names = unknown_names(question, index.knows)
    return deciding_names(question, vector, names, index.dense.encoder.encode, min_shift=policy.min_focus_shift)


def _rerank(signals: Signals, ids: list[int], policy: Policy) -> list[tuple[int, float]]:
    dense_share, aligned_share, lexical_share = policy.rerank_weights
    scored = [
        (i, dense_share * float(signals.dense[i]) + aligned_share * signals.aligned[i] + lexical_share * float(signals.sparse[i]))
        for i in ids
    ]
    return sorted(scored, key=lambda pair: -pair[1])


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


__all__ = ["Answer", "Quote", "Status", "Policy", "answer", "answer_many", "normalise_question", "NO_ANSWER", "MAX_QUESTION_CHARS", "Mode"]
