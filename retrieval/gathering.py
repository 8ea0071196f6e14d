"""Steps 1-3 of an answer (retrieval/answer.py): read the question, encode it, and gather the
candidates with the evidence for each (README, "How an answer is made")."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Collection, Sequence

import numpy as np

from retrieval.evidence import (
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
from retrieval.index import HiddenSpan, Index
from retrieval.names import unknown_names
from retrieval.outlets import named_outlets
from retrieval.policy import Policy
from retrieval.lessons import Taught
from retrieval.precedents import Memory, likeness, precedent_evidence, precedent_passages
from retrieval.question_analysis import Question, analyse
from retrieval.quotes import token_set
from retrieval.thesaurus import Thesaurus


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


def read_question(index: Index, text: str, policy: Policy) -> tuple[Question, str]:
    """What the question asks, and the question in the articles' own words ("restore" ->
    "re-designate"), which is what the model and BM25 read."""
    thesaurus = index.thesaurus if policy.use_thesaurus else Thesaurus()
    return analyse(text, index.corpus.story), thesaurus.in_story_words(text)


def encode(index: Index, texts: list[str], policy: Policy) -> tuple[np.ndarray | None, list[QuestionPieces] | None]:
    """Sentence vectors and located word-piece vectors of every question: one forward pass."""
    if index.dense is None or not texts:
        return None, None
    encoder = index.dense.encoder
    if encoder.encode_spans is not None:
        vectors, located = encoder.encode_spans(texts)
        return vectors, [QuestionPieces(p, s) for p, s in located]
    return encoder.encode(texts), None


def gather(index: Index, text: str, question: Question, read: str, vectors: np.ndarray | None,
           pieces: list[QuestionPieces] | None, n: int, policy: Policy,
           exclude: Collection[HiddenSpan] = (), *, leave_out: str | None = None, taught: Taught | None = None) -> Evidence:
    """The candidates and the evidence for each.

    `leave_out`: a group of precedents not to read (when fitting, the question's own writer's).
    `taught`: one server's lessons (retrieval/lessons.py): its memory is read instead of the
    bank's, and the passages its "wrong passage" labels keep out of this question are excluded."""
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
    memory = taught.memory if taught is not None else index.memory
    if taught is not None:
        exclude = [*exclude, *(HiddenSpan(p.doc_id, p.start, p.end) for p in
                               (index.passages[i] for i in taught.kept_out(vector, read)))]
    sims = likeness(memory, vector, read, leave_out)
    hidden = _hidden_answers(index, exclude, memory)
    ids += [i for i in precedent_passages(memory, sims, hidden) if i not in ids and (allowed is None or allowed[i])]
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
    precedent = precedent_evidence(memory, sims, ids, hidden)
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


def _hidden_answers(index: Index, exclude: Collection[HiddenSpan], memory: Memory | None) -> frozenset[int]:
    """The passages answering some precedent that this answer may not quote."""
    if not exclude or memory is None:
        return frozenset()
    return frozenset(i for i in memory.answering if any(h.overlaps(index.passages[i]) for h in exclude))


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
