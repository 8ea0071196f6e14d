"""Deterministic synthetic corpora for the scale part, and stand-in passage vectors.

A corpus of about `target` passages = the five real articles plus synthetic news articles
drawn with random.Random(42): a headline and 6-14 paragraphs of 1-3 sentences. One paragraph
in ten is a real sentence of the corpus (so the dev questions keep their answers, now among
many copies, as when several outlets carry one statement); the rest are template sentences
("Officials in Geneva rejected the appeal on Tuesday, according to state media.") filled
from the phrase lists below and from 4,000 seeded made-up surnames (a long-tail vocabulary,
as real news has). Every sentence is made so pysbd splits it where it was joined, so the
generator knows each passage's sentences.

Stand-in vectors: running MiniLM over 200,000 texts takes hours on two cores, so corpora
past the real-model limit get a vector per text made from real MiniLM vectors of its parts:
a real sentence has its own vector; a template sentence the normalised sum of the vectors of
its phrases (a surname: a seeded random unit vector); a text of several sentences, or a
headline over a passage, the normalised sum of theirs. Cosine then behaves roughly as with
the model (real sentences score exactly as they would), so abstention and quote choice run
as they would; the time the model would have taken is measured on a sample and extrapolated.
"""
from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from retrieval.articles import Article, Corpus
from retrieval.chunking import MAX_WINDOW_CHARS, MIN_SINGLE_CHARS, sentence_spans
from retrieval.embeddings import EmbeddingCache, Encoder

SUBJECTS = ["Officials", "The ministry", "The court", "Activists", "Lawyers for the defence", "Observers",
            "The commission", "Protesters", "A spokesperson", "Human rights groups", "The prosecutor",
            "Opposition leaders", "Diplomats", "The foreign minister", "Election monitors", "Local journalists",
            "The central bank", "Regional authorities", "The parliament", "Union representatives"]
PLACES = ["in Moscow", "in Brussels", "in Geneva", "in London", "in Kyiv", "in Minsk", "in Washington",
          "in Strasbourg", "in Berlin", "in Paris", "in Warsaw", "in Tbilisi", "in Vilnius", "in Riga",
          "in the capital", "in the regions", "abroad", "in Saint Petersburg"]
VERBS = ["rejected", "welcomed", "criticised", "postponed", "confirmed", "denied", "reviewed", "announced",
         "questioned", "challenged", "supported", "condemned", "delayed", "published", "defended", "appealed"]
OBJECTS = ["the ruling", "the decision", "the report", "the sanctions", "the statement", "the election results",
           "the investigation", "the appeal", "the new law", "the budget", "the verdict", "the proposal",
           "the agreement", "the protest ban", "the inquiry", "the detention order", "the treaty",
           "the court hearing", "the travel restrictions", "the media licence"]
TIMES = ["on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday", "last week", "earlier this month",
         "in March", "in April", "after the hearing", "late on Sunday", "this morning", "within hours"]
SOURCES = ["according to state media", "a statement said", "local reports said", "the agency reported",
           "officials told reporters", "according to court documents", "two sources said"]
ROLES = ["a spokesperson for the ministry", "a senior lawyer", "a regional governor", "an opposition politician",
         "a human rights researcher", "a former diplomat", "a court official", "an election observer"]
REASONS = ["the decision was politically motivated", "the evidence had not been disclosed",
           "the vote had been free and fair", "the protesters had broken no law", "further talks were needed",
           "the charges would be dropped", "the deadline could not be met", "the report was incomplete"]
HEADLINE_NOUNS = ["court", "ministry", "protest", "sanctions", "election", "appeal", "inquiry", "verdict",
                  "talks", "budget", "treaty", "detention"]
SYLLABLES = ["ka", "lo", "vin", "mar", "sko", "rov", "len", "da", "tis", "bel", "nor", "vic", "sha", "pe",
             "ko", "ra", "mi", "zen", "tov", "ly", "an", "dre", "hol", "gu"]


@dataclass(frozen=True)
class Synthetic:
    corpus: Corpus
    parts: dict[str, tuple[str, ...]]  # every sentence and headline -> the phrases its vector is made of
    names: frozenset[str]  # made-up surnames: random vectors, not run through the model


def real_sentences(corpus: Corpus) -> list[str]:
    return list(dict.fromkeys(
        p[s.start : s.end] for a in corpus.articles for p in a.paragraphs for s in sentence_spans(p)
        if s.end - s.start >= MIN_SINGLE_CHARS
    ))


def _surnames(rng: random.Random, count: int) -> list[str]:
    names: dict[str, None] = {}
    while len(names) < count:
        names["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()] = None
    return list(names)


def _template(rng: random.Random, surnames: list[str]) -> tuple[str, tuple[str, ...]]:
    """One template sentence and its phrases."""
    kind = rng.randrange(4)
    if kind == 0:
        parts = (rng.choice(SUBJECTS), rng.choice(PLACES), rng.choice(VERBS), rng.choice(OBJECTS), rng.choice(TIMES), rng.choice(SOURCES))
        return f"{parts[0]} {parts[1]} {parts[2]} {parts[3]} {parts[4]}, {parts[5]}.", parts
    if kind == 1:
        name, role, reason = rng.choice(surnames), rng.choice(ROLES), rng.choice(REASONS)
        return f"Mr {name}, {role}, said {reason}.", (name, role, reason)
    if kind == 2:
        parts = (rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(OBJECTS), rng.choice(REASONS))
        return f"{parts[0]} {parts[1]} {parts[2]}, arguing that {parts[3]}.", parts
    name, place, obj, time_ = rng.choice(surnames), rng.choice(PLACES), rng.choice(OBJECTS), rng.choice(TIMES)
    return f"Speaking {place} {time_}, {name} described {obj} as a turning point.", (place, time_, name, obj)


def generate(base: Corpus, target: int, *, seed: int = 42) -> Synthetic:
    """The real articles plus synthetic ones until about `target` passages (counted with the
    chunker's own rules: a sentence of 40+ characters alone, and each two-sentence window)."""
    rng = random.Random(seed)
    surnames = _surnames(rng, 4000)
    reals = real_sentences(base)
    parts: dict[str, tuple[str, ...]] = {s: (s,) for s in reals}
    articles = list(base.articles)
    passages = 0
    while passages < target:
        n = len(articles)
        headline = (rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(HEADLINE_NOUNS), rng.choice(PLACES))
        title = "{} {} {} decision {}".format(*headline)
        parts[title] = headline
        paragraphs, sentences = [], []
        for _ in range(rng.randint(6, 14)):
            if rng.random() < 0.1:
                chosen = [rng.choice(reals)]
            else:
                chosen = []
                for _ in range(rng.randint(1, 3)):
                    text, phrases = _template(rng, surnames)
                    parts[text] = phrases
                    chosen.append(text)
            paragraphs.append(" ".join(chosen))
            sentences.extend(chosen)
        passages += sum(len(s) >= MIN_SINGLE_CHARS for s in sentences)
        passages += sum(len(a) + 1 + len(b) <= MAX_WINDOW_CHARS for a, b in zip(sentences, sentences[1:]))
        articles.append(Article(id=f"synthetic-{n:06d}", title=title, body="\n\n".join(paragraphs),
                                outlet=f"Synthetic Wire {n % 50}", published=f"2021-{1 + n % 12:02d}-{1 + n % 28:02d}"))
    return Synthetic(Corpus(tuple(articles), f"synthetic-{target}-{seed}"), parts, frozenset(surnames))


class StandIn:
    """Vectors for texts of a synthetic corpus without running the model on each (see above).

    `encode` is an Encoder's callable. Texts it cannot take apart (a sidebar headline, a
    sentence pysbd split differently) go through the real model, and are counted."""

    def __init__(self, synthetic: Synthetic, real: Encoder, cache: EmbeddingCache) -> None:
        self.real = real
        self.names = synthetic.names
        phrases = sorted({p for ps in synthetic.parts.values() for p in ps if p not in self.names})
        table = dict(zip(phrases, cache.embed(real, phrases)))
        self.vectors = {text: self._unit(sum(self._phrase(p, table) for p in ps)) for text, ps in synthetic.parts.items()}
        self.fallbacks = 0

    def _phrase(self, phrase: str, table: dict[str, np.ndarray]) -> np.ndarray:
        if phrase in table:
            return table[phrase]
        seeded = np.random.default_rng(zlib.crc32(phrase.encode())).standard_normal(384).astype(np.float32)
        return self._unit(seeded)

    @staticmethod
    def _unit(v: np.ndarray) -> np.ndarray:
        return (v / np.linalg.norm(v)).astype(np.float32)

    def _split(self, segment: str) -> list[str] | None:
        if segment in self.vectors:
            return [segment]
        for k, ch in enumerate(segment):
            if ch == " " and segment[:k] in self.vectors:
                rest = self._split(segment[k + 1 :])
                if rest is not None:
                    return [segment[:k], *rest]
        return None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 384), np.float32)
        unknown = []
        for i, text in enumerate(texts):
            pieces = [self._split(s) for s in text.split("\n") if s]
            if any(p is None for p in pieces) or not pieces:
                unknown.append(i)
                continue
            out[i] = self._unit(sum(self.vectors[s] for p in pieces for s in p))
        if unknown:
            self.fallbacks += len(unknown)
            out[unknown] = self.real.encode([texts[i] for i in unknown])
        return out
