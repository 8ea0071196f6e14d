"""A server's moderators' labels, as the engine reads them: lessons for that server's answers only.

A moderator labels an answer from the audit log (bot/store/labels.py): its quote N is the right
passage, its quote N is a wrong one, or the articles don't answer the question. The engine reads
a server's labels the way it reads the corpus's bank (retrieval/precedents.py), so a label
teaches what the bank teaches and nothing else:

- "right passage": an answerable precedent whose gold phrase is that passage's text: "a passage
  that answered a question much like this one";
- "not in the articles": a story_unanswered precedent: "a question much like this one that the
  articles don't answer";
- and for the question labelled and its close paraphrases (likeness at least LABEL_LIKENESS)
  the label decides (Ruling): a "right passage" is quoted first and the answer is answered; a
  question "not in the articles" is at most uncertain, its nearest passages shown. One label
  among the bank's 1,910 precedents moves the labelled question itself but not a paraphrase
  (measured: "when did amnesty give the status back" stayed answered under a "none" label on
  "when was the status restored"): a moderator who labels expects its like to change too.
- "wrong passage": the passage is not quoted for questions much like the labelled one (likeness
  at least LABEL_LIKENESS), as if that server had hidden it for those questions only. Not a
  precedent: the bank has no "this passage does not answer" kind, so the scorer's weights say
  nothing about one, and a demotion by a hand-set amount would be a guess at the scale of
  features fitted for other things. Hiding it for like questions reuses what a server's hide
  already does, precedents included (a precedent only it answered counts, there, as unanswered),
  and the next passage stands or falls on its own evidence.

Lessons are joined to the bank's memory once per server and version of its labels
(Index.taught keeps the last few); another server's answers read the bank alone.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

import numpy as np

from retrieval.precedents import Memory, Precedent, article_key, build_memory, joined
from retrieval.question_text import normalise_question

RIGHT, WRONG, NONE = "right", "wrong", "none"
VERDICTS = (RIGHT, WRONG, NONE)

# How much like a label's question a question must be (Memory.similarities: the cosine of
# sentence vectors times that of the weighted words) for the label to decide its answer. Chosen
# on holdout2 with the bank's precedents standing in for labels (`python -m bench.label_bar
# tests/data/holdout2.jsonl`): of its 105 questions about the story, 89 have a precedent at least
# 0.45 alike, whose verdict (the same answering passage, or none) agrees with the question's gold
# for 88; at 0.35, 98 with 4 disagreeing; at 0.55, 79 with 1. Close paraphrases: "when did amnesty
# give the status back" is 0.76 like "when was the status restored".
LABEL_LIKENESS = 0.45


@dataclass(frozen=True)
class Lesson:
    """One label as the engine reads it."""

    question: str
    verdict: str  # RIGHT, WRONG or NONE
    passage: str = ""  # the labelled passage's text (RIGHT and WRONG)
    # The articles the answer was labelled against (precedents.article_key): "not in the
    # articles" speaks of those only. Empty: of every article.
    against: tuple[tuple[str, str], ...] = ()
    name: str = ""  # which label ("server 42, label 7"): its group among the precedents

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}; expected one of: {', '.join(VERDICTS)}")
        if self.verdict in (RIGHT, WRONG) and not self.passage.strip():
            raise ValueError(f"a {self.verdict!r} lesson needs the passage's text")

    def to_json(self) -> dict:
        data = {"question": self.question, "verdict": self.verdict, "passage": self.passage, "name": self.name}
        if self.against:
            data["against"] = [list(a) for a in self.against]
        return data

    @classmethod
    def from_json(cls, row: dict) -> "Lesson":
        return cls(str(row["question"]), str(row["verdict"]), str(row.get("passage", "")),
                   tuple((str(i), str(h)) for i, h in row.get("against", ())), str(row.get("name", "")))

    def precedent(self) -> Precedent:
        """The precedent a RIGHT or NONE lesson adds (promotion writes the same one into the bank)."""
        if self.verdict == RIGHT:
            return Precedent(self.question, "answerable", (self.passage,), self.name, self.against)
        if self.verdict == NONE:
            return Precedent(self.question, "story_unanswered", (), self.name, self.against)
        raise ValueError("a 'wrong' lesson is not a precedent")


@dataclass(frozen=True)
class Lessons:
    """One server's lessons; empty for a server without labels."""

    items: tuple[Lesson, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.items)

    @cached_property
    def key(self) -> str:
        """Changes with any label: what caches of a server's answers are keyed by."""
        text = json.dumps([[x.question, x.verdict, x.passage, x.against] for x in self.items], ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def __hash__(self) -> int:
        return hash(self.key)

    def __add__(self, other: "Lessons") -> "Lessons":
        if not other:
            return self
        if not self:
            return other
        return Lessons(self.items + other.items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lessons) and other.key == self.key


NO_LESSONS = Lessons()


@dataclass(frozen=True)
class Ruling:
    """A label deciding one answer: the engine's decision, as a value with its reason."""

    verdict: str  # RIGHT or NONE
    likeness: float  # how much like the label's question this one is
    name: str  # which label
    passages: tuple[int, ...] = ()  # RIGHT: the passages holding the labelled passage

    @property
    def detail(self) -> str:
        return f"{self.name}: {self.verdict}, likeness {self.likeness:.2f}"


@dataclass(frozen=True)
class Taught:
    """What one server's lessons add to the index: the bank's memory joined with its RIGHT and
    NONE lessons, and its WRONG lessons as a memory of their own."""

    memory: Memory | None
    wrong: Memory | None
    own: Memory | None = None  # the RIGHT and NONE lessons alone: which one is most like a question

    def ruling(self, vector: np.ndarray | None, read: str) -> "Ruling | None":
        """The RIGHT or NONE lesson most like this question, when it is like enough to decide."""
        if self.own is None or vector is None or not len(self.own.precedents):
            return None
        sims = self.own.similarities(vector, read)
        j = int(np.argmax(sims))
        if sims[j] < LABEL_LIKENESS:
            return None
        precedent = self.own.precedents[j]
        verdict = RIGHT if precedent.category == "answerable" else NONE
        return Ruling(verdict, float(sims[j]), precedent.group, tuple(int(i) for i in self.own.passages_answering(j)))

    def kept_out(self, vector: np.ndarray | None, read: str) -> list[int]:
        """The passages a WRONG lesson keeps out of this question's answer."""
        if self.wrong is None or vector is None:
            return []
        sims = self.wrong.similarities(vector, read)
        return sorted({int(i) for j in np.flatnonzero(sims >= LABEL_LIKENESS) for i in self.wrong.passages_answering(j)})


def teach(index, lessons: Lessons) -> Taught:
    """The lessons read against this index (embedded with its model, in the articles' words).
    Without a model there is nothing to compare questions by: the index's own memory."""
    if not lessons or index.dense is None:
        return Taught(index.memory, None)
    from retrieval.index import precedent_weight

    passages = index.passages
    articles = {a.id: article_key(a) for a in index.corpus.articles}
    weight = index.memory.weight if index.memory is not None else precedent_weight(index.bm25)

    def memory_of(items: Sequence[Lesson], precedents: Sequence[Precedent], vocabulary) -> Memory | None:
        if not items:
            return None
        read = [index.thesaurus.in_story_words(normalise_question(x.question)) for x in items]
        return build_memory(precedents, read, index.dense.encoder.encode(read), passages, weight, index.bm25.passages_with,
                            articles, vocabulary)

    # A RIGHT lesson whose passage is no longer in the articles (an article changed since) says
    # nothing: kept, it would read as "nothing answered this".
    taught = [x for x in lessons.items if x.verdict == NONE or (x.verdict == RIGHT and _held(index, x.passage))]
    memory = index.memory
    extra = memory_of(taught, [x.precedent() for x in taught], memory.vocabulary if memory is not None else None)
    if extra is not None and memory is not None:
        memory = joined(memory, extra, passages, articles)
    wrong = [x for x in lessons.items if x.verdict == WRONG]
    return Taught(memory, memory_of(wrong, [Precedent(x.question, "answerable", (x.passage,), x.name) for x in wrong], None),
                  extra)


def _held(index, text: str) -> bool:
    folded = " ".join(text.split()).casefold()
    return any(folded in " ".join(p.text.split()).casefold() for p in index.passages)


__all__ = ["Lesson", "Lessons", "NO_LESSONS", "Taught", "Ruling", "teach", "RIGHT", "WRONG", "NONE", "VERDICTS", "LABEL_LIKENESS"]
