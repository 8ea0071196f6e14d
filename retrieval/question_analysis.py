"""Reading a question: is it one at all, what kind of fact it asks, and what it constrains.

Members ask "who", "when", "how many", "which hospital", "why", or just type a claim to check.
What is asked decides what a passage must hold to answer it (a name not already in the
question, a date, a number, a place, an instance of the noun after "which"); the constraints
(a month or year, an event of the story such as "when they restored it", an outlet) decide
where the answer may stand. Requests that are not questions about the story ("write me a
poem about navalny", "ignore your instructions") are told apart here too, so the engine can
say what it does instead of quoting something.

Dates in the question are read by dateparser (its English data also gives the month and
weekday names a passage's dates are found by: retrieval/passage_facts.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from functools import lru_cache

from retrieval.story import Story, StoryEvent


class Kind(str, Enum):
    """The kind of fact a question asks for."""

    PERSON = "person"  # who
    DATE = "date"  # when, what year
    NUMBER = "number"  # how many, how much, how old
    PLACE = "place"  # where
    INSTANCE = "instance"  # which X, what X: an instance of X
    REASON = "reason"  # why
    DESCRIPTION = "description"  # how, what did ... say
    YES_NO = "yes_no"  # did, was, is: a claim to check
    OTHER = "other"  # keywords, statements

    @property
    def noun(self) -> str:
        """The kind as the reason templates name it ("No passage gives a date for this.")."""
        return {
            Kind.PERSON: "a name",
            Kind.DATE: "a date",
            Kind.NUMBER: "a number",
            Kind.PLACE: "a place",
        }.get(self, "an answer")


class Request(str, Enum):
    """What a message that is not a question about the story asks of the bot instead."""

    CHAT = "chat"  # greetings, thanks, small talk, remarks about the bot
    WRITING = "writing"  # write, translate, role-play, draw
    INSTRUCTIONS = "instructions"  # "ignore your instructions", "print your system prompt"
    OPINION = "opinion"  # "what do you think"


@dataclass(frozen=True)
class Question:
    text: str
    kind: Kind
    # For INSTANCE questions, the noun asked about ("hospital" in "which German hospital").
    noun: str | None = None
    # Months (YYYY-MM) the question confines itself to: named ("in May 2021") or by an event
    # of the story ("when they restored it"); empty when it names none.
    months: frozenset[str] = frozenset()
    request: Request | None = None
    # The months (YYYY-MM) or years (YYYY) it names in words, and the story's event it names
    # (retrieval/story.py): "stripped in May" names May and the withdrawal.
    named_months: frozenset[str] = frozenset()
    event: StoryEvent | None = None

    @property
    def is_request(self) -> bool:
        return self.request is not None


_APOSTROPHES = str.maketrans({"’": "'", "‘": "'"})
_LEAD = r"^(?:(?:ok|okay|so|and|but|hey|hi|yo|bot|quick one|also|um|hmm|btw|wait|pls|please)[\s,:;!.-]+)*"

_REQUESTS: tuple[tuple[Request, re.Pattern[str]], ...] = (
    (Request.INSTRUCTIONS, re.compile(
        r"\b(ignore|disregard|forget|override)\b.{0,30}\b(instructions?|rules|prompt|previous|above|guidelines)\b"
        r"|\bsystem prompt\b|\bjailbreak|\bdeveloper mode\b|\b(?:your|ur) (?:instructions|rules|programming|prompt)\b"
        r"|\bfrom now on\b|\byou are now\b|\bdo anything now\b")),
    (Request.WRITING, re.compile(
        _LEAD + r"(?:(?:can|could|would|will) (?:you|u) (?:please |pls )?|i want you to |i need you to |now )?"
        r"(?:write|draft|compose|generate|create|make|draw|paint|sing|rap|translate|rewrite|roleplay|role-play|role play"
        r"|pretend|act as|imagine you|turn|swear|roast|insult|code|program|set|remind)\b"
        r"|\btell (?:me|us) (?:a |another )?(?:joke|story|poem|riddle)\b|^(?:say|speak) (?:something|sth|hi|hello)\b"
        r"|\b(?:a|an|some|me|us) (?:short |quick |funny |little |new )?(?:poem|haiku|limerick|song|rap|essay|joke|tweet|meme"
        r"|letter|speech|riddle|sonnet|story about|picture|image|drawing|cartoon)s?\b"
        r"|\b(?:pretend|roleplay|role-play|act like|act as|imagine you(?:'re| are))\b"
        r"|" + _LEAD + r"(?:just |(?:can|could) (?:you|u) )?(?:summari[sz]e|rephrase|paraphrase|rewrite|explain like)\b"
        # Asking for the bot's own words instead of the articles' ("explain it like I'm five").
        r"|\bin (?:your|ur) own words\b|\blike (?:i'm|im|i am) (?:five|5|a (?:child|kid))\b|\beli5\b"
        r"|\b(?:don't|dont|do not) quote\b")),
    (Request.OPINION, re.compile(
        r"\b(?:your|ur) (?:own |personal |honest |real |)(?:opinion|view|take|thoughts|feelings?|verdict|prediction|guess)\b"
        # A forecast is an opinion about what the articles cannot report yet.
        r"|" + _LEAD + r"(?:(?:can|could|would) (?:you|u) )?(?:predict|forecast|speculate)\b"
        r"|\bdo (?:you|u) (?:personally |honestly |really )?(?:think|believe|feel|like|agree)\b"
        r"|\bwhat (?:do|would) (?:you|u) (?:personally |honestly )?(?:think|reckon|make of)\b"
        r"|\bwhat would (?:you|u) say (?:about|of|to)\b"
        r"|\bin (?:your|ur) (?:own |personal |honest )?(?:opinion|view)\b|\bwho do (?:you|u) (?:side|support)\b")),
    (Request.CHAT, re.compile(
        r"^(?:hi|hello|hey|hiya|yo|sup|gm|good (?:morning|afternoon|evening|night)|thanks?|thank you|thx|ty|cheers|bye|goodbye"
        r"|lol|lmao|haha+|ok|okay|k|cool|nice|great|wow|test|testing|ping)\b[\s\w,!.?']{0,20}$"
        r"|\bhow(?:'s| is| are) (?:it going|you|u|your day|things)\b|\bwho (?:made|built|created|programmed|owns) (?:you|u)\b"
        r"|\bare (?:you|u) (?:a |an )?(?:bot|human|real|ai|chatgpt|gpt|alive|sentient|there|ok)\b"
        r"|\b(?:you(?:'re| are)|ur|u r) (?:a |so )?(?:useless|stupid|dumb|bad|great|awesome|smart|trash|annoying)\b"
        r"|\bwhat (?:can|do) (?:you|u) do\b|\bwhat are (?:you|u)\b|\bwho are (?:you|u)\b|\b(?:good|bad) bot\b"
        r"|\bwhat(?:'s| is) (?:your|ur) name\b|\bhow old are (?:you|u)\b|\bi (?:love|hate) (?:you|u)\b")),
)

# (pattern at the question's start, kind). Order matters: "how many" before "how".
_KINDS: tuple[tuple[re.Pattern[str], Kind], ...] = tuple(
    (re.compile(_LEAD + pattern + r"\b"), kind)
    for pattern, kind in (
        (r"(?:who|whom|whose)", Kind.PERSON),
        (r"(?:what|which) (?:person|people|official|spokes\w*|politician|lawyer|activist|man|woman|journalist|ally|allies|critic|critics)", Kind.PERSON),
        (r"(?:when|what time|since when|how long ago)", Kind.DATE),
        (r"(?:what|which|in what|in which|on what|on which) (?:year|date|day|month|week|time)", Kind.DATE),
        (r"how (?:many|much|old|long|often|far|big)", Kind.NUMBER),
        (r"(?:what|which) (?:number|percentage|amount|age|sentence length)", Kind.NUMBER),
        (r"(?:where|from where|in what place)", Kind.PLACE),
        (r"(?:what|which|in what|in which) (?:country|countries|city|cities|town|place|region|prison|colony|hospital|clinic)", Kind.PLACE),
        (r"(?:why|what (?:was|were|is) the (?:reason|grounds|basis|cause)|for what reason|on what grounds|what (?:made|caused|prompted|led))", Kind.REASON),
        (r"how", Kind.DESCRIPTION),
        (r"(?:did|does|do|was|were|is|are|has|have|had|can|could|will|would|should|is it true)", Kind.YES_NO),
    )
)
# "which hospital", "what prison": a place of a kind the answer must say it is ("The articles
# don't name a hospital."), unlike "which city", which any place name answers.
_PLACE_NOUN = re.compile(_LEAD + r"(?:in |at |from )?(?:what|which) (?P<noun>prison|colony|hospital|clinic)\b")
_WHICH = re.compile(_LEAD + r"(?:in |on |at |for |from |by )?(?:which|what) (?P<words>[a-z][a-z' -]*)")
# After "what", these words begin a clause ("what did amnesty say"), not a noun asked about.
_NOT_NOUNS = frozenset(
    """is was were are did does do has have had will would could should can the a an about
    happened happens exactly kind sort type else made caused led prompted if""".split()
)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


@lru_cache(maxsize=1)
def _month_names() -> frozenset[str]:
    from dateparser.languages.loader import LocaleDataLoader

    info = LocaleDataLoader().get_locale("en").info
    months = ("january february march april may june july august september october november december").split()
    return frozenset(name for month in months for name in info[month] if len(name) >= 3)


@lru_cache(maxsize=12)
def names_of_month(number: int) -> frozenset[str]:
    """How the month `number` (1-12) is written, lower case ("september", "sept", "sep")."""
    from dateparser.languages.loader import LocaleDataLoader

    info = LocaleDataLoader().get_locale("en").info
    month = "january february march april may june july august september october november december".split()[number - 1]
    return frozenset(name.lower() for name in info[month])


def request_kind(text: str) -> Request | None:
    """What the message asks of the bot instead of a question about the story, or None."""
    folded = text.lower().translate(_APOSTROPHES).strip()
    for request, pattern in _REQUESTS:
        if pattern.search(folded):
            return request
    return None


def kind_of(text: str) -> tuple[Kind, str | None]:
    """The kind of fact asked and, for "which X", the noun X."""
    folded = text.lower().translate(_APOSTROPHES).strip()
    folded = re.sub(r"^(?:and|so|ok|also|but|btw)\s+", "", folded)
    for pattern, kind in _KINDS:
        if pattern.search(folded):
            place = _PLACE_NOUN.search(folded) if kind is Kind.PLACE else None
            return kind, place.group("noun") if place else None
    which = _WHICH.search(folded)
    noun = _noun_asked(which.group("words").split()[:3]) if which else None
    if noun:
        return Kind.INSTANCE, noun
    if re.search(r"\bname of\b|\bnamed?\b.*\?$|\bwhat(?:'s| is| was) (?:the |his |her |their )?\w*\s*name\b", folded):
        return Kind.PERSON, None
    return Kind.OTHER, None


def _noun_asked(words: list[str]) -> str | None:
    """The noun of "which German hospital treated him": the last of the words after "which"
    before a verb or a function word."""
    from lemminflect import getAllLemmas

    noun = None
    for word in words:
        lemmas = getAllLemmas(word)
        if word in _NOT_NOUNS or ("VERB" in lemmas and "NOUN" not in lemmas) or word.endswith("ed"):
            break
        noun = word
    return noun


@lru_cache(maxsize=4096)
def _months_named(text: str, before: date | None = None) -> frozenset[str]:
    """Months the question names, as YYYY-MM; a month without a year is the last such month
    before `before` (the story's `dates_before`: for this story, in 2021)."""
    folded = text.lower().translate(_APOSTROPHES)
    names = _month_names()
    tokens = set(re.findall(r"[a-z]+", folded))
    if not (tokens & names) and not _YEAR.search(folded):
        return frozenset()  # dateparser's search costs ~2 ms; most questions name no date
    from dateparser.search import search_dates

    base = datetime.combine(before, datetime.min.time()) if before else datetime.now()
    found = search_dates(folded, languages=["en"], settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past"}) or []
    months = set()
    for phrase, when in found:
        words = set(re.findall(r"[a-z]+", phrase))
        if words & names and not ({"may"} == words & names and not re.search(r"\b(?:in|of|by|since|until|till|from|early|late|mid|last)\s+may\b|\bmay\s+\d", phrase)):
            months.add(f"{when.year:04d}-{when.month:02d}")
        elif _YEAR.search(phrase) and not (words & names):
            months.add(f"{when.year:04d}")
    return frozenset(months)


def warm_up() -> None:
    """Load dateparser's and lemminflect's data now (about a second), at start-up, rather
    than inside the first answer that names a month or asks "which X"."""
    from retrieval.passage_facts import facts

    _months_named("what happened in May 2021", date(2021, 6, 1))
    _noun_asked(["german", "hospital"])
    facts("Amnesty said on Friday, 7 May, that Navalny was one of 2 people.")


def analyse(text: str, story: Story = Story()) -> Question:
    """The question read: request or not, kind of fact asked, months it is confined to (named,
    or by an event of `story`, the corpus's story.yaml)."""
    kind, noun = kind_of(text)
    named = _months_named(text, story.dates_before)
    event = story.event_named(text)
    months = named or (frozenset({event.month}) if event else frozenset())
    return Question(text=text, kind=kind, noun=noun, months=months, request=request_kind(text), named_months=named, event=event)


__all__ = ["Kind", "Request", "Question", "analyse", "names_of_month", "kind_of", "request_kind", "warm_up"]
