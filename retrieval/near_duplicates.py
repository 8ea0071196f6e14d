"""Is an article another one again, give or take a few characters?

Comparing paragraphs as strings lets a copy through with one invisible character (a
zero-width space) or one changed word in each paragraph. So articles are compared as sets
of word five-grams ("shingles", Broder 1997) of their text with case, accents' composition
and invisible format characters (Unicode category Cf) set aside: one changed word costs at
most five shingles of its paragraph, an invisible character none.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from retrieval.articles import Article

SHINGLE_WORDS = 5
# Share of the smaller article's shingles found in the other that makes it a copy. The five
# seed articles, all about the same events, share at most 0.7 % with each other; a copy with
# one word changed in every paragraph of 40 words keeps about 85 %.
DUPLICATE_SHARE = 0.5
_WORD = re.compile(r"\w+")
# Unicode's format characters (category Cf, Unicode 14 as Python 3.11's unicodedata has it),
# written out: asking unicodedata for each character of a megabyte took 2 s.
_FORMAT = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def comparable_words(text: str) -> list[str]:
    """The text's words, case-folded, with invisible format characters removed, not split on."""
    visible = _FORMAT.sub("", unicodedata.normalize("NFKC", text))
    return _WORD.findall(visible.casefold())


@lru_cache(maxsize=256)
def shingles(text: str) -> frozenset[int]:
    words = comparable_words(text)
    if len(words) < SHINGLE_WORDS:
        return frozenset({hash(tuple(words))}) if words else frozenset()
    return frozenset(hash(tuple(words[i : i + SHINGLE_WORDS])) for i in range(len(words) - SHINGLE_WORDS + 1))


def shared_share(a: str, b: str) -> float:
    """The share of the smaller text's shingles that the other text has too."""
    first, second = shingles(a), shingles(b)
    if not first or not second:
        return 0.0
    return len(first & second) / min(len(first), len(second))


def duplicate_of(article: Article, others: tuple[Article, ...]) -> Article | None:
    """The first other article that says the same as this one, near enough."""
    for other in others:
        if other.id != article.id and shared_share(article.body, other.body) >= DUPLICATE_SHARE:
            return other
    return None
