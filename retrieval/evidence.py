"""The evidence for each candidate passage, as the numbers the scorer reads.

Everything comes from one forward pass of the model over the question: its sentence vector
(cosine with every passage) and its word-piece vectors with where each sits in the question
(word-by-word alignment with a candidate, and whether a candidate speaks to each word that
matters). No word is encoded twice.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from retrieval.articles import Article
from retrieval.passage_facts import facts, new_names
from retrieval.question_analysis import Kind, Question
from retrieval.tokenize import STOPWORDS, about_the_source, fold, tokenize, words

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")

# The scorer's inputs, in order (retrieval/scorer.json names them too, so a file fitted for
# other features is refused rather than misread).
PASSAGE_FEATURES = (
    "cosine",  # the question's sentence vector with the passage's
    "alignment",  # mean over the question's words of the best cosine with a passage word piece
    "bm25",  # BM25 relative to the question's own IDF weight (0-1)
    "gap",  # the passage's fused score minus the best candidate's (0 for the best)
    "article_gap",  # the best fused score in the passage's article minus the best overall
    "words_min",  # the least-spoken-to question word: 1 held, else best piece cosine
    "words_mean",  # the mean of the same over the question's words
    "kind_held",  # the question asks a date/number/name/place and the passage holds one
    "kind_missing",  # it asks one and the passage holds none
    "time_match",  # the question's month or event matches the article's date (+1), not (-1)
    "unknown_names",  # names in the question the articles never use
    "sidebar",  # the question's cosine with the nearest sidebar headline minus the best passage's
    "sentences",  # 2 for a two-sentence window
    "neighbour",  # the best fused score of a candidate right before or after it, minus the best:
    # a one-sentence paragraph is often explained by the next, which may not be quoted with it
    "lead",  # 1 for the article's first paragraph, falling to 0 for its last
    # What the questions the scorer was fitted on say (retrieval/precedents.py), by how much
    # like each of them this question is (0-1):
    "precedent",  # like the most like one this passage answered; 0 when it answered none
    "precedent_gap",  # that minus like the most like one any passage answered
    "precedent_vote",  # of the PRECEDENT_VOTERS most like ones about the story, the share
    # (weighted by likeness) this passage answered
    "article_unlabelled",  # 1 when no precedent was labelled against the passage's article
    # (an article added or changed since the bank was labelled): its precedent features are
    # silent, not evidence against it
)
QUESTION_FEATURES = (
    "best_cosine", "best_alignment", "best_bm25", "best_words_mean", "sidebar", "unknown_names",
    "precedent_story",  # how much like the most like fitted-on question about the story
    "precedent_elsewhere",  # like the most like one that was not (other news, a request)
)
# The question-level decision "some passage answers", read from the best candidates' scores.
ANSWER_FEATURES = (
    "p_best",  # the passage head's probability for the best candidate
    "p_second",  # for the second
    "words_min",  # of the best candidate
    "words_mean",
    "kind_missing",
    "unknown_names",
    "content_words",  # how many words carry what the question asks
    "absent_words",  # how many of them the articles never use (nor a typo of one)
    "words_min_any",  # the least-spoken-to word, by the candidate that speaks to it best
    "asks_date",
    "asks_number",
    "asks_name",  # who, where, which X
    "asks_reason",  # why, how
    "asks_yes_no",
    "precedent_answered",  # how much like the most like fitted-on question the articles answer
    "precedent_unanswered",  # like the most like one about the story that they don't
    "top_unlabelled",  # the best candidate's article_unlabelled
)


class MisplacedFeature(ValueError):
    """A feature computed under a name the scorer does not read, or one it reads left out."""


def by_name(names: tuple[str, ...], count: int | None, values: dict) -> np.ndarray:
    """The features in the scorer's order, from a mapping of each by its name: a name missing
    or unknown fails here rather than shifting a column. `count`: rows (None: one vector)."""
    if set(values) != set(names) or len(values) != len(names):
        missing, unknown = sorted(set(names) - set(values)), sorted(set(values) - set(names))
        raise MisplacedFeature(f"features missing {missing}, unknown {unknown}")
    if count is None:
        return np.array([float(values[n]) for n in names])
    if not count:
        return np.zeros((0, len(names)))
    return np.column_stack([np.broadcast_to(np.asarray(values[n], dtype=float), (count,)) for n in names])


@dataclass(frozen=True)
class Word:
    text: str  # as written in the question
    folded: str
    pieces: np.ndarray  # indices of its word pieces among the question's pieces


@dataclass(frozen=True)
class QuestionPieces:
    """The question's word pieces from the forward pass: unit vectors and character spans."""

    vectors: np.ndarray  # (pieces, dim)
    spans: np.ndarray  # (pieces, 2)


def content_words(text: str, pieces: QuestionPieces | None) -> tuple[Word, ...]:
    """The question's words that carry what it asks: not function words, not words about the
    source ("according to the articles"), each with its word pieces."""
    found = []
    for match in _WORD.finditer(text):
        word = fold(match.group())
        if len(word) <= 1 or word in STOPWORDS or not tokenize(word) or about_the_source(word):
            continue
        own = np.zeros(0, dtype=np.int64)
        if pieces is not None and len(pieces.spans):
            own = np.flatnonzero((pieces.spans[:, 0] < match.end()) & (pieces.spans[:, 1] > match.start()))
        found.append(Word(match.group(), word, own))
    return tuple(found)


def alignment_pieces(text: str, pieces: QuestionPieces) -> np.ndarray:
    """Indices of the pieces that align: not punctuation, not part of a function word."""
    keep = []
    for n, (start, end) in enumerate(pieces.spans.tolist()):
        piece = text[start:end]
        if not piece.isalnum():
            continue
        match = next((m for m in _WORD.finditer(text) if m.start() <= start < m.end()), None)
        if match is not None and fold(match.group()) in STOPWORDS:
            continue
        keep.append(n)
    return np.asarray(keep, dtype=np.int64)


def word_coverage(
    words_: Sequence[Word],
    passage_tokens: Sequence[set[str]],
    similarity: np.ndarray | None,
    spell,
) -> np.ndarray:
    """(words, candidates): 1 where the candidate holds the word (stemmed, or its typo's
    correction), else the mean over the word's pieces of their best cosine with the passage's
    pieces (`similarity`: (question pieces, candidates), already maxed per candidate)."""
    coverage = np.zeros((len(words_), len(passage_tokens)))
    for w, word in enumerate(words_):
        stems = set(tokenize(word.folded)) | set(tokenize(spell(word.folded)))
        held = np.array([bool(stems & tokens) for tokens in passage_tokens])
        if similarity is not None and len(word.pieces):
            near = similarity[word.pieces].mean(axis=0)
        else:
            near = np.zeros(len(passage_tokens))
        coverage[w] = np.where(held, 1.0, np.clip(near, 0.0, 1.0))
    return coverage


def kind_held(question: Question, text: str, question_words: frozenset[str]) -> bool | None:
    """Does the passage hold the kind of fact asked? None when the question asks no such kind."""
    kind = question.kind
    if kind is Kind.DATE:
        return facts(text).has_date
    if kind is Kind.NUMBER:
        return facts(text).has_number
    if kind is Kind.INSTANCE and question.noun and not about_the_source(question.noun):
        # "which hospital": a passage naming something, and saying it is a hospital.
        return bool(set(tokenize(question.noun)) & set(tokenize(text))) and bool(new_names(text, question_words))
    if kind in (Kind.PERSON, Kind.PLACE, Kind.INSTANCE):
        return bool(new_names(text, question_words))
    return None


def time_match(question: Question, article: Article) -> float:
    """+1 when the article's date falls in a month the question confines itself to, -1 when
    it doesn't, 0 when either is unknown."""
    if not question.months or not article.published:
        return 0.0
    published = article.published
    return 1.0 if any(published.startswith(m) or m.startswith(published) for m in question.months) else -1.0


def question_word_set(text: str) -> frozenset[str]:
    return frozenset(words(text))


__all__ = [
    "PASSAGE_FEATURES",
    "QUESTION_FEATURES",
    "Word",
    "QuestionPieces",
    "content_words",
    "alignment_pieces",
    "word_coverage",
    "kind_held",
    "time_match",
    "question_word_set",
    "by_name",
    "MisplacedFeature",
]
