""""Find sources": a message command (right-click a message, Apps) that asks the message's text.

Discord sends the target message with the interaction, so no privileged message-content intent
is needed. The answer goes through the same `Asking.ask` as /ask (same engine call, status,
reason, audit record), with the message's id and author recorded; only the asker sees it unless
the server made "Find sources" answers public.
"""
from __future__ import annotations

import re
from functools import lru_cache

import discord
from discord import app_commands

from retrieval.answer import MAX_QUESTION_CHARS

from bot.discord_asking import Asking
from bot.discord_replies import reply

NAME = "Find sources"
NO_TEXT = ("That message has no text to look up (only an image, an embed or an attachment). "
           "Use /ask with the claim in your own words.")
# Mentions and custom emoji are markup, not words of the claim.
_MARKUP = re.compile(r"<(?:@[!&]?|#)\d+>|<a?:(\w+):\d+>")


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def question_from(text: str, limit: int = MAX_QUESTION_CHARS) -> str:
    """The message's words as a question: markup dropped, and a long message cut to `limit`
    characters at the end of a sentence (at a word when the first sentence alone is longer)."""
    words = " ".join(_MARKUP.sub(lambda m: m.group(1) or "", text).split())
    if len(words) <= limit:
        return words
    kept = ""
    for sentence in _segmenter().segment(words):
        candidate = f"{kept} {sentence.strip()}".strip()
        if len(candidate) > limit:
            break
        kept = candidate
    if kept:
        return kept
    cut = words[:limit]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


def find_sources_command(asking: Asking) -> app_commands.ContextMenu:
    @app_commands.context_menu(name=NAME)
    async def find_sources(interaction: discord.Interaction, message: discord.Message) -> None:
        question = question_from(message.content or "")
        if not question:
            await reply(interaction, NO_TEXT)
            return
        await asking.ask(interaction, question, message=message)

    return find_sources
