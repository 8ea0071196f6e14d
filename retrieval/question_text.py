"""A question as typed made into the text that is searched, and refused when it cannot be.

Moved out of answer.py so the edges (the CLI's standard input, the bot) share the same
cleaning and limits (retrieval/limits.py).
"""
from __future__ import annotations

import re

from retrieval.errors import BadQuestion
from retrieval.limits import MAX_QUESTION_CHARS, MAX_QUESTION_WORDS

# Invisible characters that sit *inside* words (zero-width space and joiners, the word
# joiner, the soft hyphen, the byte-order mark): removed, so "st\u200batus" is "status".
_INVISIBLE = re.compile(r"[\u00ad\u180e\u200b-\u200d\u2060-\u2064\ufeff]")
# Controls and direction marks: removed as a space (a tab, a newline separate words), and
# the bidirectional isolates and overrides U+202A-202E, U+2066-2069 with them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
# Discord's mentions as the bot receives them (a member, a role, a channel, a custom emoji)
# and handles typed as text ("@storybot", "@everyone"): who is addressed, never what is asked.
_MENTION = re.compile(r"<(?:@[!&]?|#)\d+>|<a?:\w+:\d+>|(?<![\w.])@\w+")
# The bot addressed by name before the question: "storybot, when...", "hey bot what...".
BOT_NAMES = ("storybot", "story bot", "bot")
_ADDRESS = re.compile(
    r"^(?:(?:hey|hi|hello|yo|ok|okay|oi|dear)[\s,]+)?(?:" + "|".join(n.replace(" ", r"\s?") for n in BOT_NAMES) + r")\b[\s,:;!.-]*",
    re.IGNORECASE,
)


def valid_text(text: str) -> str:
    """The text with lone surrogates (what undecodable bytes become, or a broken client
    sends) replaced by U+FFFD, so it can be encoded, printed and stored."""
    return _SURROGATE.sub("\ufffd", text)


def clean_question(question: str) -> str:
    """The question's words, invisible characters and controls removed, spaces squashed."""
    text = _INVISIBLE.sub("", valid_text(question))
    return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()


def word_count(text: str) -> int:
    """The words the question limit counts (MAX_QUESTION_WORDS), after cleaning."""
    return len(_WORD.findall(clean_question(text)))


def without_address(text: str) -> str:
    """The question without mentions and without the bot's name before it ("@storybot why...",
    "storybot, when..."), so neither is read as a word of the question. A message that is
    nothing but a greeting to the bot ("hey bot") stays as it is: a greeting is answered as one."""
    text = _SPACES.sub(" ", _MENTION.sub(" ", text)).strip()
    rest = _ADDRESS.sub("", text, count=1).strip()
    return rest if _WORD.search(rest) else text


def normalise_question(question: str) -> str:
    """The question as it will be searched; BadQuestion when there is nothing to search or too much."""
    if not isinstance(question, str):
        raise BadQuestion(f"the question must be text, not {type(question).__name__}")
    if len(question) > MAX_QUESTION_CHARS:
        raise BadQuestion(f"the question is {len(question):,} characters long; the limit is {MAX_QUESTION_CHARS:,}")
    text = without_address(clean_question(question))
    if not text:
        raise BadQuestion("the question is empty")
    words = len(_WORD.findall(text))
    if words > MAX_QUESTION_WORDS:
        raise BadQuestion(f"the question has {words} words; the limit is {MAX_QUESTION_WORDS}")
    return text
