"""Questions answered before: the labelled question sets as a memory the scorer reads.

Members ask about the same few facts of the story in many words: "why was the status
revoked", "what made amnesty drop him", "amnesty took away his prisoner thing why". The
sentence vectors of MiniLM put such paraphrases of each other close together more reliably
than they put a question close to the passage that answers it. So the questions of the sets
the scorer is fitted on are kept, each with what answered it (the passages holding its gold
phrases) or that nothing did (a question about the story the articles don't answer, a
request, other news). A new question's cosine with each of them is evidence the scorer
weighs like any other (retrieval/evidence.py): "a passage that answered a question much like
this one", "a question much like this one that the articles don't answer".

"Much like" is the product of two cosines: of the sentence vectors, and of the questions'
stemmed words weighted by how rare each is in the articles, with the kind of fact asked (a
reason, a date, a name: retrieval/question_analysis.py) counted as one more word, as rare as
the rarest. The sentence vectors alone put
"when did navalny die in prison" nearer "what happened to navalny in prison" (answered) than
"when did navalny die" (not answered): MiniLM reads the topic, the words say what is asked.
Measured on the held-out sets (holdout, holdout2, blind1, blind2; README), the product ranked
better and told answered from unanswered better than either alone.

The memory is written by `storybot fit` beside the fitted weights, in the corpus folder
(corpus/precedents.jsonl and corpus/scorer.json: retrieval/bank.py),
and embedded with the index, through the same cache as the passages. Which passages answer a
precedent is decided by its gold phrases against the passages of the corpus as loaded, so a
new article carrying the same statement is found too, and a hidden passage is not.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, Collection, Mapping, Sequence

import numpy as np
from scipy import sparse

from retrieval.chunking import Passage
from retrieval.cleaning import squash
from retrieval.errors import StorybotError
from retrieval.question_analysis import Kind, kind_of
from retrieval.tokenize import tokenize

CATEGORIES = ("answerable", "story_unanswered", "off_topic", "request")


class BadPrecedents(StorybotError, ValueError):
    """The precedents file is not what `storybot fit` writes."""


@dataclass(frozen=True)
class Precedent:
    question: str
    category: str  # one of CATEGORIES
    gold: tuple[str, ...]  # phrases a passage answering it holds (answerable only)
    # Who wrote it (the set file and the letters of its id): when fitting, a question is
    # never its own evidence, nor are the questions its writer wrote alongside it.
    group: str
    # The articles it was labelled against, each as (id, content hash: article_key()): "nothing
    # answered this" was said of those and of no other. Empty: of every article (a bank
    # written before articles were recorded).
    against: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict:
        data = {"question": self.question, "category": self.category, "gold": list(self.gold), "group": self.group}
        if self.against:
            data["against"] = [list(a) for a in self.against]
        return data


def article_key(article) -> tuple[str, str]:
    """An article as a precedent records it: its id and a hash of its text, so an article
    changed since the precedent was labelled is not one it was labelled against."""
    return article.id, hashlib.sha256(article.body.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Memory:
    """The precedents embedded, and which passage answers which."""

    precedents: tuple[Precedent, ...]
    vectors: np.ndarray  # (precedents, dim), unit rows
    answers: sparse.csr_matrix  # (precedents, passages) bool: the passage holds one of its gold phrases
    story: np.ndarray  # (precedents,) bool: about the story (answerable or not)
    answered: np.ndarray  # (precedents,) bool: answerable and some passage holds its gold
    unanswered: np.ndarray  # (precedents,) bool: about the story, and the articles don't answer it
    groups: np.ndarray  # (precedents,) str: each one's writer
    terms: sparse.csr_matrix  # (precedents, vocabulary): weighted stems, unit rows
    vocabulary: dict[str, int]
    weight: Callable[[str], float]  # a stem's weight: its IDF in the articles
    # covers[n, d]: precedent n was labelled against article d (passage_articles' numbering):
    # its "nothing answered this" speaks of that article's passages, and of no other's.
    covers: np.ndarray | None = None  # (precedents, articles) bool; None: every article
    passage_articles: np.ndarray | None = None  # (passages,) each passage's article number

    def unanswered_near(self, sims: np.ndarray, unanswered: np.ndarray, passages: Sequence[int]) -> np.ndarray:
        """For each of these passages, how much like the question is the most like precedent
        about the story that nothing answered, among those labelled against its article: an
        article added or changed since a precedent was labelled is not one it says anything of."""
        near = np.where(unanswered, sims, 0.0)
        if self.covers is None or not len(passages):
            return np.full(len(passages), float(near.max()) if len(near) else 0.0)
        per_article = (near[:, None] * self.covers).max(axis=0) if len(near) else np.zeros(self.covers.shape[1])
        return per_article[self.passage_articles[list(passages)]]

    def unlabelled(self, passages: Sequence[int]) -> np.ndarray:
        """1.0 for each of these passages whose article no precedent was labelled against."""
        if self.covers is None:
            return np.zeros(len(passages))
        return (~self.covers.any(axis=0)).astype(float)[self.passage_articles[list(passages)]]

    def forgetting(self, keep: np.ndarray, article: int, passage_articles: np.ndarray, articles: int) -> "Memory":
        """This memory as it would be had only the precedents `keep` been labelled, and against
        every article but `article` (passage_articles' numbering): the bank of a corpus to
        which that article has just been added (retrieval/scorer_fit.py fits on both)."""
        covers = self.covers if self.covers is not None else np.ones((len(self.precedents), articles), dtype=bool)
        covers = covers[keep].copy()
        covers[:, article] = False
        kept = np.flatnonzero(keep)
        return dataclasses.replace(
            self, precedents=tuple(self.precedents[i] for i in kept), vectors=self.vectors[kept], answers=self.answers[kept],
            story=self.story[kept], answered=self.answered[kept], unanswered=self.unanswered[kept], groups=self.groups[kept],
            terms=self.terms[kept], covers=covers, passage_articles=passage_articles)

    def speaks_of(self, passages: Sequence[int]) -> np.ndarray:
        """(precedents, passages) bool: the precedent was labelled against the passage's article."""
        if self.covers is None:
            return np.ones((len(self.precedents), len(passages)), dtype=bool)
        return self.covers[:, self.passage_articles[list(passages)]]

    def similarities(self, vector: np.ndarray, text: str, leave_out: str | None = None) -> np.ndarray:
        """How much like each precedent the question is (0-1): the cosine of the sentence
        vectors times the cosine of the weighted words. 0 for precedents of group `leave_out`."""
        dense = np.clip(self.vectors @ vector.astype(np.float32), 0.0, 1.0)
        sims = dense * self.word_similarities(text)
        if leave_out is not None:
            sims = np.where(self.groups == leave_out, 0.0, sims)
        return sims

    def answered_without(self, hidden: Collection[int]) -> tuple[np.ndarray, np.ndarray]:
        """The answered and unanswered masks when the passages `hidden` may not be quoted: a
        precedent only hidden passages answered is, for this answer, one the articles don't."""
        hidden = [i for i in hidden if i in self.answering]
        if not hidden:
            return self.answered, self.unanswered
        left = np.asarray(self.answers.sum(axis=1)).ravel() - np.asarray(self.answers[:, hidden].sum(axis=1)).ravel()
        answered = self.answered & (left > 0)
        return answered, self.unanswered | (self.answered & ~answered)

    @cached_property
    def answering(self) -> frozenset[int]:
        """The passages that answer some precedent."""
        return frozenset(int(i) for i in self.answers.indices)

    def passages_answering(self, precedent: int) -> np.ndarray:
        """The passages that answered one precedent: its row of `answers`, read from the
        matrix's arrays (scipy's row slicing costs more than the rest of the lookup)."""
        indptr = self.answers.indptr
        return self.answers.indices[indptr[precedent] : indptr[precedent + 1]]

    def held(self, passages: Sequence[int]) -> np.ndarray:
        """(precedents, passages) bool: which precedent each of these passages answered."""
        return self._by_passage[:, list(passages)].toarray()

    @cached_property
    def _by_passage(self) -> sparse.csc_matrix:
        return self.answers.tocsc()  # columns cut cheaply

    def word_similarities(self, text: str) -> np.ndarray:
        weights = {t: self.weight(t) for t in _terms(text)}
        norm = float(np.sqrt(sum(w * w for w in weights.values())))
        if not norm:
            return np.zeros(len(self.precedents))
        question = np.zeros(self.terms.shape[1])
        for t, w in weights.items():
            if t in self.vocabulary:
                question[self.vocabulary[t]] = w
        return np.asarray(self.terms @ question).ravel() / norm


def group_of(source: str, question_id: str) -> str:
    """The writer of a question: its set's file name and the part of its id before a dash
    ("dev.jsonl" "d2-017" -> "dev:d2", "dev3.jsonl" "b3-004" -> "dev3:b3"); a set whose ids
    have no dash is one writer's ("dev.jsonl" "a01" and "o07" -> "dev")."""
    prefix, dash, _ = question_id.partition("-")
    return f"{Path(source).stem}:{prefix}" if dash else Path(source).stem


def precedents_text(precedents: Sequence[Precedent]) -> str:
    """The precedents file's content: one JSON object per line."""
    return "".join(json.dumps(p.to_json(), ensure_ascii=False) + "\n" for p in precedents)


def write_precedents(path: Path, precedents: Sequence[Precedent]) -> None:
    Path(path).write_text(precedents_text(precedents), encoding="utf-8")


def load_precedents(path: Path) -> tuple[Precedent, ...]:
    """The precedents `storybot fit` wrote; none when the file is absent."""
    path = Path(path)
    if not path.exists():
        return ()
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            against = tuple((str(i), str(h)) for i, h in row.get("against", ()))
            precedent = Precedent(str(row["question"]), str(row["category"]), tuple(str(g) for g in row["gold"]), str(row["group"]),
                                  against)
        except (ValueError, KeyError, TypeError) as exc:
            raise BadPrecedents(f"{path}:{number}: not a precedent ({exc.__class__.__name__}: {exc})") from None
        if precedent.category not in CATEGORIES:
            raise BadPrecedents(f"{path}:{number}: unknown category {precedent.category!r}; expected one of: {', '.join(CATEGORIES)}")
        if precedent.category == "answerable" and not any(g.strip() for g in precedent.gold):
            raise BadPrecedents(f"{path}:{number}: an answerable precedent with no gold phrase: {precedent.question!r}")
        found.append(precedent)
    return tuple(found)


def build_memory(precedents: Sequence[Precedent], read: Sequence[str], vectors: np.ndarray, passages: Sequence[Passage],
                 weight: Callable[[str], float], holding: Callable[[str], np.ndarray],
                 articles: Mapping[str, tuple[str, str]] | None = None,
                 vocabulary: Mapping[str, int] | None = None) -> Memory:
    """`read`: the precedents' questions as answer() reads a question (in the articles'
    words); `vectors`: those embedded; `weight`: a stem's weight (the articles' IDF);
    `holding`: the passages holding a stem (BM25's postings), so a gold phrase is looked for
    only where its words are, not in every passage of a large corpus. `articles`: each
    article id of the corpus with its article_key(), to tell which articles each precedent
    was labelled against (None: every precedent speaks of every article). `vocabulary`: stems
    already numbered (another memory's, so this one can be joined to it: joined())."""
    rows, columns = [], []
    for n, precedent in enumerate(precedents):
        for phrase in (g for g in precedent.gold if g.strip()):  # a blank phrase is in every passage
            for passage in _passages_holding(phrase, passages, holding):
                rows.append(n)
                columns.append(passage)
    answers = sparse.csr_matrix((np.ones(len(rows), dtype=bool), (rows, columns)), shape=(len(precedents), len(passages)), dtype=bool)
    answered_any = np.asarray(answers.sum(axis=1)).ravel() > 0
    story = np.array([p.category in ("answerable", "story_unanswered") for p in precedents], dtype=bool)
    answered = np.array([p.category == "answerable" for p in precedents], dtype=bool) & answered_any
    unanswered = story & ~answered  # an answerable one no passage here answers counts as unanswered
    vectors = np.asarray(vectors, dtype=np.float32).reshape(len(precedents), -1)
    groups = np.array([p.group for p in precedents], dtype=object)
    vocabulary = dict(vocabulary or {})
    rows, columns, values = [], [], []
    for n, text in enumerate(read):
        stems = _terms(text)
        norm = float(np.sqrt(sum(weight(t) ** 2 for t in stems))) or 1.0
        for t in stems:
            rows.append(n)
            columns.append(vocabulary.setdefault(t, len(vocabulary)))
            values.append(weight(t) / norm)
    terms = sparse.csr_matrix((values, (rows, columns)), shape=(len(precedents), max(len(vocabulary), 1)))
    covers, passage_articles = _coverage(precedents, passages, articles)
    return Memory(tuple(precedents), vectors, answers, story, answered, unanswered, groups, terms, vocabulary, weight,
                  covers, passage_articles)


def joined(base: Memory, extra: Memory, passages: Sequence[Passage],
           articles: Mapping[str, tuple[str, str]] | None) -> Memory:
    """One memory holding both: `extra` built with `base`'s vocabulary (build_memory's
    `vocabulary`), over the same passages. A server's labels joined to the corpus's bank this
    way are read exactly like the bank's own precedents (retrieval/lessons.py)."""
    width = max(len(extra.vocabulary), base.terms.shape[1])
    base_terms = sparse.csr_matrix((base.terms.data, base.terms.indices, base.terms.indptr), shape=(base.terms.shape[0], width))
    extra_terms = sparse.csr_matrix((extra.terms.data, extra.terms.indices, extra.terms.indptr),
                                    shape=(extra.terms.shape[0], width))
    precedents = base.precedents + extra.precedents
    covers, passage_articles = _coverage(precedents, passages, articles)
    return Memory(precedents, np.vstack([base.vectors, extra.vectors]), sparse.vstack([base.answers, extra.answers]).tocsr(),
                  np.concatenate([base.story, extra.story]), np.concatenate([base.answered, extra.answered]),
                  np.concatenate([base.unanswered, extra.unanswered]), np.concatenate([base.groups, extra.groups]),
                  sparse.vstack([base_terms, extra_terms]).tocsr(), extra.vocabulary, base.weight, covers, passage_articles)


def _coverage(precedents: Sequence[Precedent], passages: Sequence[Passage],
              articles: Mapping[str, tuple[str, str]] | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Which articles each precedent was labelled against; (None, None) when all were against all."""
    if articles is None or all(not p.against for p in precedents):
        return None, None
    numbers = {doc_id: n for n, doc_id in enumerate(articles)}
    keys = [articles[d] for d in articles]
    covers = np.ones((len(precedents), len(numbers)), dtype=bool)
    for n, precedent in enumerate(precedents):
        if precedent.against:
            labelled = set(precedent.against)
            covers[n] = [key in labelled for key in keys]
    passage_articles = np.array([numbers[p.doc_id] for p in passages], dtype=np.int64)
    return covers, passage_articles


# --- what the precedents say about a new question (read by retrieval/answer.py's gather) ---

# How many of the most like precedents vote for the passages that answered them: the
# value of the first trial on the held-out sets (3 and 10 were not tried).
PRECEDENT_VOTERS = 5


@dataclass(frozen=True)
class PrecedentEvidence:
    """What the questions the scorer was fitted on say about this one (retrieval/precedents.py)."""

    passages: np.ndarray  # (candidates, 3): precedent, precedent_gap, precedent_vote
    story: float = 0.0  # like the most like precedent about the story
    elsewhere: float = 0.0  # like the most like one not about it
    answered: float = 0.0  # like the most like one the articles answer
    unanswered: float = 0.0  # like the most like one about the story they don't answer
    # Per candidate: like the most like one about the story that nothing answered among the
    # articles it was labelled against, when the candidate's article is one of them.
    unanswered_near: np.ndarray | None = None
    unlabelled: np.ndarray | float = 0.0  # per candidate: no precedent was labelled against its article


def likeness(memory: Memory | None, vector: np.ndarray | None, text: str, leave_out: str | None = None) -> np.ndarray | None:
    """How much like each precedent the question is (retrieval/precedents.py), or None when
    there are none to read (no model, or no precedents). `text`: the question as read."""
    if memory is None or vector is None or not len(memory.precedents):
        return None
    return memory.similarities(vector, text, leave_out)


def precedent_passages(memory: Memory | None, sims: np.ndarray | None, hidden: Collection[int] = ()) -> list[int]:
    """The passages that answered the PRECEDENT_VOTERS most like answered precedents: made
    candidates even when BM25 and the cosine miss them ("what happened to navalny in court
    just before amnesty dropped him" is answered by "Days after losing an appeal ...").
    `hidden`: passages this answer may not quote (one server's hidden passages)."""
    if memory is None or sims is None:
        return []
    answered, _ = memory.answered_without(hidden)
    ranked = np.argsort(-np.where(answered, sims, -1.0), kind="stable")[:PRECEDENT_VOTERS]
    voters = [int(j) for j in ranked if answered[j] and sims[j] > 0]
    return sorted({int(i) for j in voters for i in memory.passages_answering(j) if int(i) not in hidden})


def precedent_evidence(memory: Memory | None, sims: np.ndarray | None, candidates: Sequence[int],
                       hidden: Collection[int] = ()) -> PrecedentEvidence:
    """`sims`: likeness() of the question, or None: all zero. `hidden`: passages this answer
    may not quote; a precedent only they answered counts as one the articles don't answer."""
    if memory is None or sims is None:
        return PrecedentEvidence(np.zeros((len(candidates), 3)))
    answered_mask, unanswered_mask = memory.answered_without(hidden)

    def nearest(mask: np.ndarray) -> float:
        return float(sims[mask].max()) if mask.any() else 0.0

    answered = nearest(answered_mask)
    rows = np.zeros((len(candidates), 3))
    near = memory.unanswered_near(sims, unanswered_mask, candidates)
    if len(candidates):
        held = memory.held(candidates) & answered_mask[:, None]
        rows[:, 0] = np.where(held, sims[:, None], 0.0).max(axis=0)
        rows[:, 1] = rows[:, 0] - answered
        voters = np.argsort(-np.where(memory.story, sims, -1.0), kind="stable")[:PRECEDENT_VOTERS]
        # A voter nothing answered votes against a candidate only if it was labelled
        # against the candidate's article.
        counted = memory.speaks_of(candidates)[voters] | answered_mask[voters][:, None]
        weights = sims[voters][:, None] * counted
        rows[:, 2] = (held[voters] * weights).sum(axis=0) / np.maximum(weights.sum(axis=0), 1e-9)
    return PrecedentEvidence(rows, nearest(memory.story), nearest(~memory.story), answered, nearest(unanswered_mask), near,
                             memory.unlabelled(candidates))


def _terms(text: str) -> set[str]:
    """The stems of a question's words, and the kind of fact it asks as one more term: "why"
    and "in which month" are function words to BM25 but decide which passage answers."""
    kind, _ = kind_of(text)
    return set(tokenize(text)) | ({f"kind:{kind.value}"} if kind is not Kind.OTHER else set())


def _passages_holding(phrase: str, passages: Sequence[Passage], holding: Callable[[str], np.ndarray]) -> list[int]:
    """The passages holding `phrase` (whitespace and case aside). A phrase may begin or end
    inside a word ("…ed the status"), so only its inner words narrow the search."""
    folded = squash(phrase).casefold()
    inner = re.findall(r"\S+", phrase)[1:-1]
    stems = set(tokenize(" ".join(inner)))
    if stems:
        found = None
        for stem in stems:
            found = holding(stem) if found is None else np.intersect1d(found, holding(stem), assume_unique=True)
        candidates = [int(i) for i in found]
    else:
        candidates = range(len(passages))
    return [i for i in candidates if folded in squash(passages[i].text).casefold()]


__all__ = ["Precedent", "Memory", "article_key", "PrecedentEvidence", "likeness", "precedent_passages", "precedent_evidence",
           "PRECEDENT_VOTERS", "BadPrecedents", "group_of", "precedents_text", "write_precedents",
           "load_precedents", "build_memory", "joined"]
