""""Find sources": a message command (right-click a message, Apps) that asks the message's text.

Discord sends the target message with the interaction, so no privileged message-content intent
is needed. The answer goes through the same `Asking.ask` as /ask (same engine call, status,
reason, audit record), with the message's id and author recorded; only the asker sees it unless
the server made "Find sources" answers public.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Callable

import discord
from discord import app_commands
from discord.ext import commands

from retrieval.answer import MAX_QUESTION_CHARS
from retrieval.limits import MAX_QUESTION_WORDS
from retrieval.question_text import word_count

from bot.discord.asking import Asking
from bot.discord.replies import ERROR_MESSAGE, reply

if TYPE_CHECKING:
    from bot.discord.bot import StoryBot

NAME = "Find sources"
NO_TEXT = ("That message has no text to look up (only an image, an embed or an attachment). "
           "Use /ask with the claim in your own words.")
# Mentions and custom emoji are markup, not words of the claim.
_MARKUP = re.compile(r"<(?:@[!&]?|#)\d+>|<a?:(\w+):\d+>")


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


# Where a long message was cut, as the asker is told it.
SENTENCE, WORD, CHARACTER = "sentence", "word", "character"
_CUT_AT = {SENTENCE: "up to a sentence end", WORD: "up to a word's end (its first sentence alone is too long)",
           CHARACTER: "cut inside its first word, which alone is too long"}


@dataclass(frozen=True)
class Claim:
    """A message's text as the question asked, and whether (and where: SENTENCE, WORD or
    CHARACTER) it had to be cut to the question limit."""

    question: str
    cut: bool
    cut_at: str | None = None


def _words_of(text: str) -> str:
    return " ".join(_MARKUP.sub(lambda m: m.group(1) or "", text).split())


def _longest_start(pieces: list[str], fits: Callable[[str], bool]) -> str:
    """The most of `pieces`, from the first, that fit joined by spaces ("" when the first does not)."""
    kept = ""
    for piece in pieces:
        candidate = f"{kept} {piece.strip()}".strip()
        if not fits(candidate):
            break
        kept = candidate
    return kept


def _first_that_fits(words: str, fits: Callable[[str], bool]) -> tuple[str, str | None]:
    """The first sentences of `words` that fit together; when the first sentence alone does not,
    its first words that do (one endless word: its first characters that do); and where it was
    cut (None: not at all)."""
    if fits(words):
        return words, None
    kept = _longest_start(_segmenter().segment(words), fits)
    if kept:
        return kept, SENTENCE
    kept = _longest_start(words.split(" "), fits)
    if kept:
        return kept, WORD
    first = words.split(" ", 1)[0]
    while first and not fits(first):
        first = first[:-1]
    return first, CHARACTER


def question_from(text: str, limit: int = MAX_QUESTION_CHARS) -> str:
    """The message's words as a question: markup dropped, and a long message cut to `limit`
    characters at the end of a sentence (at a word when the first sentence alone is longer)."""
    return _first_that_fits(_words_of(text), lambda candidate: len(candidate) <= limit)[0]


def claim_from(text: str, *, chars: int = MAX_QUESTION_CHARS, words: int = MAX_QUESTION_WORDS) -> Claim:
    """The message as a question within both question limits (retrieval/limits.py: characters and
    words), cut at a sentence end as `question_from` cuts, and whether it was cut."""
    whole = _words_of(text)
    question, cut_at = _first_that_fits(whole, lambda candidate: len(candidate) <= chars and word_count(candidate) <= words)
    return Claim(question, cut_at is not None, cut_at)


def cut_note(claim: Claim) -> str | None:
    """What the asker is told when their message was cut, or None."""
    if not claim.cut:
        return None
    return (f"That message is longer than a question may be ({MAX_QUESTION_WORDS} words, {MAX_QUESTION_CHARS:,} "
            f"characters), so I looked up its first {word_count(claim.question)} words, {_CUT_AT[claim.cut_at]}.")


class FindSources(commands.Cog):
    """A message command cannot be a cog's method in discord.py: it is made here and added to the
    tree while the cog is loaded."""

    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name=NAME, callback=self.find_sources)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    async def find_sources(self, interaction: discord.Interaction, message: discord.Message) -> None:
        asking = self.bot.feature(Asking)
        if asking is None:
            await reply(interaction, ERROR_MESSAGE)
            return
        claim = claim_from(message.content or "")
        if not claim.question:
            await reply(interaction, NO_TEXT)
            return
        await asking.ask(interaction, claim.question, message=message, note=cut_note(claim))


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(FindSources(bot))
