"""Names the articles never mention.

"What did Kremlin spokesman Dmitry Peskov say about Amnesty's decision?" matches the story on
"Kremlin", "Amnesty" and "decision" as well as any real question does; only "Dmitry Peskov"
shows that the articles can't answer it, and the articles never name him. Unlike the
ordinary words of a question, which members put in their own words, a name is not
paraphrased: a question that turns on a name the articles never use is about something else.

A word is taken for such a name when the articles (text, titles, outlets, authors, the
thesaurus, and the initials of their capitalised names: "AFP" for "Agence France-Presse")
never use it, spelling correction finds no article word it is a typo of, and the
English lexicon of lemminflect does not hold it (the lexicon has no proper nouns, so this also
passes "Peskov" typed in lower case). Chat abbreviations ("lol", "ppl") are stopwords, so they
are never names. A run of such words ("Dmitry Peskov") is one name. It decides the question
when leaving it out moves the question's sentence vector as much as a word must to decide a
factoid question (retrieval/focus.py): "according to CNN, was it restored?" hardly moves.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from lemminflect import getAllLemmas

from retrieval.passage_facts import calendar_words
from retrieval.tokenize import STOPWORDS, about_the_source, words

# Letters only: "2018" or "60s" is a number, not a name.
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
# A capitalised word, its parts split at hyphens: "France-Presse".
_CAPITALISED = re.compile(r"\b[A-Z][a-z]*(?:-[A-Z][a-z]*)*\b")
from retrieval.policy import MIN_NAME_LENGTH


@dataclass(frozen=True)
class Name:
    start: int
    end: int
    text: str


@lru_cache(maxsize=65536)
def in_english_lexicon(word: str) -> bool:
    return bool(getAllLemmas(word))


def acronyms(text: str) -> dict[str, str]:
    """The lower-case initials of every run of two or more capitalised words in `text` (and of
    its stretches), as people type them, with the words as written: "Agence France-Presse"
    gives "afp" (and "fp"); the first name with given initials keeps them."""
    found: dict[str, str] = {}
    run: list[tuple[str, int]] = []  # (initial, where its word starts)
    previous_end = None
    for match in _CAPITALISED.finditer(text):
        parts = [(p[0].lower(), match.start()) for p in match.group().split("-")]
        if previous_end is not None and text[previous_end : match.start()] == " ":
            run.extend(parts)
        else:
            run = parts
        previous_end = match.end()
        for i in range(len(run) - 1):
            # The stretch from run[i] to here; a hyphenated word's parts share its start.
            found.setdefault("".join(letter for letter, _ in run[i:]), text[run[i][1] : match.end()])
    return found


def unknown_names(question: str, known: Callable[[str], bool]) -> tuple[Name, ...]:
    """Each run of words that `known` (the articles' words, typos of them) rejects and no
    English dictionary holds, with its character span in `question`."""
    runs: list[list[int]] = []
    previous_end = None
    for match in _WORD.finditer(question):
        found = words(match.group())
        if not found or not all(_unknown(w, known) for w in found):
            previous_end = None
            continue
        # Only spaces between: "Dmitry Peskov" is one name, "Tyson, Paul" two.
        if previous_end is not None and not question[previous_end : match.start()].strip():
            runs[-1][1] = match.end()
        else:
            runs.append([match.start(), match.end()])
        previous_end = match.end()
    return tuple(Name(start, end, question[start:end]) for start, end in runs)


def _unknown(word: str, known: Callable[[str], bool]) -> bool:
    return (
        len(word) >= MIN_NAME_LENGTH
        and word not in STOPWORDS
        and not in_english_lexicon(word)
        and not about_the_source(word)
        and word not in calendar_words()  # "feb", "sept": a date, not a name
        and not known(word)
    )


__all__ = ["Name", "acronyms", "unknown_names", "in_english_lexicon", "MIN_NAME_LENGTH"]
