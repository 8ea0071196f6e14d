"""Questions that name an outlet ("what does the spectator think of amnesty's decision").

An article's outlet is in its metadata, not in its passages: only one line of The Spectator's
piece says "The Spectator" (an Amnesty official "told The Spectator"), so a question naming
the outlet finds that line and misses the piece's own opinion. A member who names an outlet
wants that outlet's words, so the answer is drawn from its articles only.
"""
from __future__ import annotations

from typing import Iterable

from retrieval.tokenize import STOPWORDS, words


def _phrase(outlet: str) -> tuple[str, ...]:
    return tuple(w for w in words(outlet) if w not in STOPWORDS)


def named_outlets(question: str, outlets: Iterable[str]) -> frozenset[str]:
    """The outlets whose names stand in the question, word for word and in order ("moscow
    times", not "times ... in moscow"); case, accents and "the" don't matter."""
    asked = tuple(words(question))
    named = set()
    for outlet in outlets:
        phrase = _phrase(outlet)
        if phrase and any(asked[i : i + len(phrase)] == phrase for i in range(len(asked) - len(phrase) + 1)):
            named.add(outlet)
    return frozenset(named)


__all__ = ["named_outlets"]
