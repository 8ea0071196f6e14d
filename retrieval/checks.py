"""The rules that make an answer uncertain or not covered, each a small unit returning its decision.

Deciding rules set the status: a request that is not a question about the story, a question
not about the story at all, and evidence too weak to answer (the fitted scorer's
probability under the policy's bar). Explaining rules say what is missing when the evidence
is weak: a name the articles never use, the kind of fact asked (a date, a number, a name),
a word of the question no passage speaks to. Every unit's result is recorded in the answer
(`Answer.checks`) and counted by `storybot eval`.

A reason is a fixed template filled only with words of the question (those a reason may name:
retrieval/reason_words.py), the kind of fact asked, or a month of the story's events.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from enum import Enum
from typing import Sequence

from retrieval.passage_facts import new_names
from retrieval.question_analysis import Kind, Question, Request, names_of_month
from retrieval.reason_words import nameable
from retrieval.story import Story, StoryEvent
from retrieval.tokenize import tokenize, words

NO_ANSWER = "The articles don't cover that, so there is nothing to quote."
NEAREST_LABEL = "Nearest passages; they may not answer this"
# A server's moderators labelled a question much like this one "not in the articles" (retrieval/lessons.py).
LABELLED_UNANSWERED = "This server's moderators marked a question much like this one as not answered by the articles."
# The same, from a label the operator promoted to every server (retrieval/promoted.py).
PROMOTED_UNANSWERED = "storybot's moderators marked a question much like this one as not answered by the articles."


def request_reason(request: Request, story: Story) -> str:
    """What storybot does instead, with an example question of the corpus's story."""
    if request is Request.CHAT:
        return (f"storybot doesn't chat: it answers questions about {story.about} by quoting the articles. "
                f"Try: “{story.example}”")
    if request is Request.WRITING:
        return ("storybot doesn't write, translate or role-play: it only quotes what the articles say. "
                f"Ask a question about the story instead, e.g. “{story.example}”")
    if request is Request.INSTRUCTIONS:
        return "storybot has no instructions to change: it only quotes what the articles say about the story."
    return f"storybot has no opinions: it quotes what the articles report. Try: “{story.example_opinion}”"


class Rule(str, Enum):
    REQUEST = "request"  # deciding: not a question about the story -> not_covered
    UNRELATED = "unrelated"  # deciding: nothing in the articles is about it -> not_covered
    WEAK = "weak_evidence"  # deciding: no passage probably answers -> uncertain
    UNKNOWN_NAME = "unknown_name"  # explaining: a name the articles never use
    KIND_MISSING = "kind_missing"  # explaining: no near passage holds the kind of fact asked
    WORD_MISSING = "word_missing"  # explaining: a word of the question no near passage speaks to
    PREMISE = "premise"  # deciding: the question dates an event of the story to a month the articles don't -> uncertain
    LABEL = "label"  # deciding: this server's moderators labelled a question much like it (retrieval/lessons.py)


@dataclass(frozen=True)
class Check:
    rule: Rule
    fired: bool
    detail: str  # what the unit measured, for the audit and eval
    reason: str | None = None  # the sentence shown when this unit explains the answer

    def to_json(self) -> dict:
        return {"rule": self.rule.value, "fired": self.fired, "detail": self.detail}


def request_check(question: Question, story: Story = Story()) -> Check:
    if question.request is None:
        return Check(Rule.REQUEST, False, "a question")
    return Check(Rule.REQUEST, True, f"request: {question.request.value}", request_reason(question.request, story))


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


def noun_held(noun: str, text: str, question_words: frozenset[str]) -> bool:
    """Does the passage name something and say it is a `noun` ("which hospital": a name and
    the word "hospital")?"""
    return bool(set(tokenize(noun)) & set(tokenize(text))) and bool(new_names(text, question_words))


def kind_check(question: Question, held: Sequence[bool | None]) -> Check:
    """`held`: for the nearest passages, whether each holds the kind of fact asked (for
    "which hospital", a hospital: noun_held). A generic noun ("which particular", "what
    service") names nothing the member asked for: no reason is made of it."""
    asked = [h for h in held if h is not None]
    if question.kind not in (Kind.DATE, Kind.NUMBER, Kind.PERSON, Kind.PLACE, Kind.INSTANCE) or not asked:
        return Check(Rule.KIND_MISSING, False, f"asks: {question.kind.value}")
    if question.kind is Kind.INSTANCE and not (question.noun and nameable(question.noun)):
        return Check(Rule.KIND_MISSING, False, f"asks which {question.noun}: a generic word")
    if any(asked):
        return Check(Rule.KIND_MISSING, False, f"asks {question.kind.value}; a near passage holds one")
    if question.kind is Kind.DATE:
        reason = "No passage gives a date for this."
    elif question.kind is Kind.NUMBER:
        reason = "No passage gives a number for this."
    elif question.kind in (Kind.INSTANCE, Kind.PLACE) and question.noun:
        reason = f"The articles don't name {_any(question.noun)}."
    elif question.kind is Kind.PLACE:
        reason = "The articles don't name a place for this."
    else:
        reason = "The articles don't name anyone for this."
    return Check(Rule.KIND_MISSING, True, f"asks {question.kind.value}; no near passage holds one", reason)


def _any(noun: str) -> str:
    """"a hospital", "an airport", "any officials"."""
    from lemminflect import getLemma

    if getLemma(noun, upos="NOUN")[0] != noun:
        return f"any {noun}"
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


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


def premise_check(question: Question, shown: Sequence[tuple[str, str | None]]) -> Check:
    """Does the question date an event of the story to a month the articles don't, and does
    a passage shown say otherwise? `shown`: (text, its article's date) of the passages that
    would be shown, best first. "why did Amnesty strip him of the status in May?": the
    story.yaml dates the withdrawal to February 2021, and the first passage about it is from
    an article of February 2021 (or names February): the premise is contradicted, and that
    passage is what the member needs to see, under a reason saying so."""
    event, named = question.event, question.named_months
    if event is None or not named:
        return Check(Rule.PREMISE, False, "dates no event of the story")
    if any(event.month.startswith(m) or m.startswith(event.month) for m in named):
        return Check(Rule.PREMISE, False, f"{event.name} in {event.month}, as the question says")
    if not _dated_after(question.text, event, named):
        # "in May what did amnesty admit about stripping him": May is when it was said, not
        # when the event happened. Only a month after the event's words dates the event.
        return Check(Rule.PREMISE, False, f"{event.name}: the month named stands before it, not dating it")
    month = calendar.month_name[int(event.month[5:7])].lower()
    refuting = next((n for n, (text, published) in enumerate(shown)
                     if (published or "").startswith(event.month) or month in set(words(text))), None)
    if refuting is None:
        return Check(Rule.PREMISE, False, f"{event.name} in {event.month}, not {', '.join(sorted(named))}; no passage shown says so")
    said = ", ".join(_month_said(m, event.month) for m in sorted(named))
    return Check(Rule.PREMISE, True,
                 f"{event.name} in {event.month}, not {', '.join(sorted(named))}: passage {refuting + 1} shown",
                 f"The articles date this to {event.month_name}, not {said}.")


def _dated_after(text: str, event: StoryEvent, named: frozenset[str]) -> bool:
    """Does a month (or year) of `named` stand after the event's words in the question?"""
    folded = text.lower()
    found = event.pattern.search(folded)
    if found is None:
        return False
    after = set(words(folded[found.end():]))
    for month in named:
        if len(month) == 4:
            spoken = {month}
        else:
            spoken = names_of_month(int(month[5:7]))
        if after & spoken:
            return True
    return False


def _month_said(month: str, event_month: str) -> str:
    """"May" (the event's year) or "May 2020", or a year alone."""
    if len(month) == 4:
        return month
    name = calendar.month_name[int(month[5:7])]
    return name if month[:4] == event_month[:4] else f"{name} {month[:4]}"


__all__ = ["Rule", "Check", "NO_ANSWER", "NEAREST_LABEL", "request_check", "request_reason", "related_check",
           "evidence_check", "unknown_name_check", "kind_check", "noun_held", "word_check", "premise_check"]
