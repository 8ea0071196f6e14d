"""Tokens for BM25: case and diacritics folded, possessives and hyphens handled, stemmed."""
from __future__ import annotations

import difflib
import re
import unicodedata
from functools import lru_cache

import snowballstemmer

from retrieval.chat_words import CHAT_WORDS

# Question words and function words carry no evidence about which passage answers; nor do
# contractions typed without their apostrophe (words() drops it); nor chat's slang
# (retrieval/chat_words.py).
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves also get got tell please ok hey hi bot quick one know say said says whats whos
    did does anyone someone thing things mean means
    isnt wasnt werent arent dont doesnt didnt cant wont wouldnt couldnt shouldnt hasnt havent
    hadnt im ive youre youve theyre theyve theyd hes shes thats theres""".split()
) | CHAT_WORDS

# Words about where an answer comes from, not what it says: "how old is he according to the
# articles" asks his age.
SOURCE_WORDS = frozenset(
    """article articles story stories news report reports reported reporting according source
    sources outlet outlets media press piece pieces coverage""".split()
)
# Only words of 7+ letters are read as typos of a source word: shorter ones are too often
# other words ("stork", "history").
from retrieval.policy import SOURCE_WORD_CUTOFF

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})
_WORD = re.compile(r"[a-z0-9]+(?:[.'-][a-z0-9]+)*")
_POSSESSIVE = re.compile(r"'s$")


@lru_cache(maxsize=1)
def _stemmer():
    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer().stemWord(word)


def fold(text: str) -> str:
    """Lower case without diacritics: 'Alexeï' and 'Alexei' fold alike."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def words(text: str) -> list[str]:
    """Folded words with possessives removed; a hyphenated word gives its parts and the whole."""
    out: list[str] = []
    for word in _WORD.findall(fold(text)):
        word = _POSSESSIVE.sub("", word).replace("'", "")
        if "-" in word:
            parts = [p for p in word.split("-") if p]
            out.extend(parts)
            out.append("".join(parts))  # "de-list" also matches "delisting"
        else:
            out.append(word.rstrip("."))
    return out


@lru_cache(maxsize=4096)
def about_the_source(word: str) -> bool:
    """Is the folded `word` (or its typo) one of SOURCE_WORDS?"""
    if word in SOURCE_WORDS:
        return True
    return len(word) >= 7 and bool(difflib.get_close_matches(word, SOURCE_WORDS, n=1, cutoff=SOURCE_WORD_CUTOFF))


def tokenize(text: str) -> list[str]:
    return [stem(w) for w in words(text) if w and w not in STOPWORDS]
