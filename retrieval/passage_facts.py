"""What kinds of fact a passage holds: a date, a number, names.

A question asking "when" is answered only by a passage that gives a time; "how many" by one
with a number; "who" or "which hospital" by one that names someone or something the question
does not already name. These are cheap tests run on each candidate (cached by text), fed to
the scorer (retrieval/scorer.py) and used to say what is missing ("No passage gives a date
for this.").

Month and weekday names come from dateparser's English data, so "Jan." and "Sept" count.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from lemminflect import getAllLemmas

from retrieval.tokenize import fold

_YEAR = re.compile(r"\b(?:19|20)\d\d\b|\b\d0s\b|\b(?:19|20)\d0s\b")
_DIGITS = re.compile(r"\d")
# Written-out numbers and amounts ("three months", "a dozen", "hundreds").
_NUMBER_WORDS = frozenset(
    """one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
    sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety
    hundred hundreds thousand thousands million millions billion dozen dozens half twice once
    several""".split()
)
_RELATIVE_TIMES = re.compile(
    r"\b(?:yesterday|today|tomorrow|last (?:week|month|year)|this (?:week|month|year)|ago|earlier this|later that"
    r"|in the (?:\d0s|(?:nineteen|two thousand)\w*)|decades?|years? (?:ago|earlier|later))\b",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(r"\b[A-Z][\w’'-]*(?:\s+(?:of |de |von |the )?[A-Z][\w’'-]*)*")


@lru_cache(maxsize=1)
def calendar_words() -> frozenset[str]:
    """Month and weekday names and their abbreviations, lower case, from dateparser's English data."""
    from dateparser.languages.loader import LocaleDataLoader

    info = LocaleDataLoader().get_locale("en").info
    keys = "january february march april may june july august september october november december monday tuesday wednesday thursday friday saturday sunday"
    return frozenset(name.lower() for key in keys.split() for name in info[key] if len(name) >= 3)


@dataclass(frozen=True)
class Facts:
    has_date: bool
    has_number: bool
    names: frozenset[str]  # folded capitalised words that are not common English words


@lru_cache(maxsize=65536)
def facts(text: str) -> Facts:
    calendar = calendar_words()
    # "May" is a month only capitalised, and not at a sentence's start ("May they...").
    capital_words = re.findall(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-z]+)\b", text)
    has_date = bool(
        _YEAR.search(text)
        or _RELATIVE_TIMES.search(text)
        or any(w.lower() in calendar for w in capital_words)
    )
    folded_words = re.findall(r"[a-z]+", fold(text))
    has_number = bool(_DIGITS.search(text)) or any(w in _NUMBER_WORDS for w in folded_words)
    return Facts(has_date, has_number, frozenset(_proper_names(text)))


def _proper_names(text: str) -> set[str]:
    """Capitalised words that are not sentence openers of common English: names of people,
    places, organisations ("Verhaar", "Germany", "Amnesty")."""
    found = set()
    for match in re.finditer(r"\b[A-Z][\w’'-]+", text):
        word = match.group()
        before = text[: match.start()].rstrip()
        sentence_start = not before or before[-1] in ".!?“\"‘:"
        lemmas = getAllLemmas(word.lower())
        if sentence_start and lemmas:
            continue
        if not lemmas or "PROPN" in lemmas or word.isupper():
            found.add(fold(word).strip("’'"))
    return found


def new_names(text: str, question_words: frozenset[str]) -> frozenset[str]:
    """The passage's names that the question does not already use."""
    return frozenset(n for n in facts(text).names if n not in question_words and not any(part in question_words for part in n.split("-")))


__all__ = ["Facts", "facts", "new_names", "calendar_words"]
