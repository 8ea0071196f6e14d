"""The rules that make an answer uncertain or not covered, each a small unit returning its decision.

Deciding rules set the status: a request that is not a question about the story, a question
not about the story at all, and evidence too weak to answer (the fitted scorer's
probability under the policy's bar). Explaining rules say what is missing when the evidence
is weak: a name the articles never use, the kind of fact asked (a date, a number, a name),
a word of the question no passage speaks to. Every unit's result is recorded in the answer
(`Answer.checks`) and counted by `storybot eval`.

A reason is a fixed template filled only with words of the question or the kind of fact asked.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Sequence

from retrieval.question_analysis import Kind, Question, Request

NO_ANSWER = "The articles don't cover that, so there is nothing to quote."
NEAREST_LABEL = "Nearest passages; they may not answer this"
_REQUEST_REASONS = {
    Request.CHAT: "storybot doesn't chat: it answers questions about Amnesty International and Alexei Navalny's "
    "“prisoner of conscience” status by quoting the articles. Try: “why was the status withdrawn?”",
    Request.WRITING: "storybot doesn't write, translate or role-play: it only quotes what the articles say. "
    "Ask a question about the story instead, e.g. “when was the status restored?”",
    Request.INSTRUCTIONS: "storybot has no instructions to change: it only quotes what the articles say about the story.",
    Request.OPINION: "storybot has no opinions: it quotes what the articles report. "
    "Try: “what did critics say about Amnesty's decision?”",
}


class Rule(str, Enum):
    REQUEST = "request"  # deciding: not a question about the story -> not_covered
    UNRELATED = "unrelated"  # deciding: nothing in the articles is about it -> not_covered
    WEAK = "weak_evidence"  # deciding: no passage probably answers -> uncertain
    UNKNOWN_NAME = "unknown_name"  # explaining: a name the articles never use
    KIND_MISSING = "kind_missing"  # explaining: no near passage holds the kind of fact asked
    WORD_MISSING = "word_missing"  # explaining: a word of the question no near passage speaks to


@dataclass(frozen=True)
class Check:
    rule: Rule
    fired: bool
    detail: str  # what the unit measured, for the audit and eval
    reason: str | None = None  # the sentence shown when this unit explains the answer

    def to_json(self) -> dict:
        return {"rule": self.rule.value, "fired": self.fired, "detail": self.detail}


def request_check(question: Question) -> Check:
    if question.request is None:
        return Check(Rule.REQUEST, False, "a question")
    return Check(Rule.REQUEST, True, f"request: {question.request.value}", _REQUEST_REASONS[question.request])


def related_check(probability: float, bar: float) -> Check:
    fired = probability < bar
    return Check(Rule.UNRELATED, fired, f"P(about the story) {probability:.2f}, bar {bar:.2f}", NO_ANSWER if fired else None)


def evidence_check(probability: float, bar: float) -> Check:
    fired = probability < bar
    reason = "No passage clearly answers this; the nearest are shown." if fired else None
    return Check(Rule.WEAK, fired, f"P(some passage answers) {probability:.2f}, bar {bar:.2f}", reason)


def unknown_name_check(names: Sequence[str]) -> Check:
    if not names:
        return Check(Rule.UNKNOWN_NAME, False, "every name is in the articles")
    return Check(Rule.UNKNOWN_NAME, True, f"never used: {', '.join(names)}", f"The articles never mention {names[0]}.")


def kind_check(question: Question, held: Sequence[bool | None]) -> Check:
    """`held`: for the nearest passages, whether each holds the kind of fact asked."""
    asked = [h for h in held if h is not None]
    if question.kind not in (Kind.DATE, Kind.NUMBER, Kind.PERSON, Kind.PLACE, Kind.INSTANCE) or not asked:
        return Check(Rule.KIND_MISSING, False, f"asks: {question.kind.value}")
    if any(asked):
        return Check(Rule.KIND_MISSING, False, f"asks {question.kind.value}; a near passage holds one")
    if question.kind is Kind.DATE:
        reason = "No passage gives a date for this."
    elif question.kind is Kind.NUMBER:
        reason = "No passage gives a number for this."
    elif question.kind is Kind.INSTANCE and question.noun:
        article = "an" if question.noun[:1] in "aeiou" else "a"
        reason = f"The articles don't name {article} {question.noun}."
    elif question.kind is Kind.PLACE:
        reason = "The articles don't name a place for this."
    else:
        reason = "The articles don't name anyone for this."
    return Check(Rule.KIND_MISSING, True, f"asks {question.kind.value}; no near passage holds one", reason)


def word_check(words: Sequence[str], coverage: Sequence[float], bar: float) -> Check:
    """`coverage`: per question word, how well the best near passage speaks to it (0-1)."""
    if not words:
        return Check(Rule.WORD_MISSING, False, "no content words")
    worst = min(range(len(words)), key=lambda n: coverage[n])
    if coverage[worst] >= bar:
        return Check(Rule.WORD_MISSING, False, f"least spoken-to word {words[worst]!r} at {coverage[worst]:.2f}")
    return Check(
        Rule.WORD_MISSING, True, f"{words[worst]!r} at {coverage[worst]:.2f}, bar {bar:.2f}",
        f"No passage speaks of “{words[worst]}”.",
    )


__all__ = ["Rule", "Check", "NO_ANSWER", "NEAREST_LABEL", "request_check", "related_check", "evidence_check",
           "unknown_name_check", "kind_check", "word_check"]
