"""Answers, sources and audit views as Discord embeds, inside Discord's size limits.

One embed per answer holds every quote and every citation: Discord collapses several embeds
that share a URL into the first, so splitting an answer would lose sources.
"""
from __future__ import annotations

import urllib.parse

import discord

from retrieval.answer import Answer, Quote, Status
from retrieval.timeline import timeline
from retrieval.articles import Article, Corpus
from retrieval.story import Story

from bot.inert_text import cut, for_discord

DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
TOTAL_LIMIT = 6000
ELLIPSIS = "…"
QUESTION_ECHO_CHARS = 200
COLOUR = discord.Colour.from_rgb(255, 204, 0)
# Each outcome its own colour and word, so a member tells them apart at a glance: green for
# quotes that answer, amber for the nearest passages under a warning, grey for nothing quoted.
STATUS_LOOKS: dict[Status, tuple[discord.Colour, str]] = {
    Status.ANSWERED: (discord.Colour.from_rgb(46, 160, 67), "✅ Answered"),
    Status.UNCERTAIN: (discord.Colour.from_rgb(230, 145, 0), "⚠️ Not clearly answered"),
    Status.NOT_COVERED: (discord.Colour.from_rgb(128, 134, 142), "⛔ Not in the articles"),
}


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters; a cut is marked with an ellipsis, never silent, and never
    leaves half of an escape."""
    return cut(text, limit, ELLIPSIS)


def safe(text: str | None) -> str:
    """User or article text made inert (bot/inert_text.py's `for_discord`): no markdown, no link,
    no mention, no control or direction character (allowed_mentions also forbids pings)."""
    return for_discord(text)


# What may stand unescaped in a link's address: RFC 3986's reserved and unreserved
# characters, except the parentheses and brackets that would end Discord's masked link
# `[text](url)` early and let the rest of the address start a link of its own.
_URL_SAFE = "-._~:/?#@!$&'*+,;=%"


def link_target(url: str | None) -> str | None:
    """The article's address as a masked link's target, or None when it is no web address.
    Parentheses, brackets, spaces and anything else that could end the link are
    percent-encoded, so the address stays one link to where it says."""
    if not url:
        return None
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return urllib.parse.quote(url.strip(), safe=_URL_SAFE)


def link_text(text: str) -> str:
    """Text inside `[...]`: escaped like any text (its brackets too)."""
    return safe(text)


def source_line(n: int, quote: Quote | Article, *, with_link: bool = True) -> str:
    outlet = quote.outlet or "Unknown outlet"
    title = link_text(quote.title)
    link = link_target(getattr(quote, "url", None))
    parts = [f"**{link_text(outlet)}**", f"[{title}]({link})" if (link and with_link) else f"*{title}*", quote.published or "undated"]
    if quote.kind != "news":
        parts.append(f"**{quote.kind.upper()}**")
    return f"[{n}] " + " · ".join(parts)


def _block_quote(text: str, n: int, budget: int) -> str:
    marker = f" [{n}]"
    body = shorten(safe(text), max(budget - len(marker) - 2, 20))
    return f"> {body}{marker}"


def answer_embed(result: Answer) -> discord.Embed:
    colour, status = STATUS_LOOKS[result.status]
    embed = discord.Embed(colour=colour, title=shorten("Q: " + safe(result.question), QUESTION_ECHO_CHARS))
    embed.set_author(name=status)
    if result.status is Status.NOT_COVERED:
        embed.description = shorten(safe(result.message), DESCRIPTION_LIMIT)
        embed.set_footer(text="storybot quotes the articles and never writes its own answer · not covered")
        return embed
    dates = {q.published for q in result.passages}
    budget = (DESCRIPTION_LIMIT - 10) // max(len(result.passages), 1)
    quotes = []
    for n, quote in enumerate(result.passages, 1):
        dated = f" ({quote.published or 'undated'})" if len(dates) > 1 else ""
        quotes.append(_block_quote(quote.quote, n, budget - len(dated)) + dated)
    head = ""
    if result.status is Status.UNCERTAIN:
        # The reason says what is missing; the label warns the passages may not answer.
        head = f"**{safe(result.reason)}**\n*{result.message}:*\n\n"
    embed.description = shorten(head + "\n\n".join(quotes), DESCRIPTION_LIMIT)
    sources = "\n".join(source_line(n, q) for n, q in enumerate(result.passages, 1))
    if len(sources) > FIELD_LIMIT:  # long links: drop them before cutting text
        sources = "\n".join(source_line(n, q, with_link=False) for n, q in enumerate(result.passages, 1))
    embed.add_field(name="Sources", value=shorten(sources, FIELD_LIMIT), inline=False)
    embed.set_footer(text=f"Quoted verbatim · {result.status.value.replace('_', ' ')} · mode {result.mode}")
    _fit_total(embed)
    return embed


def _fit_total(embed: discord.Embed) -> None:
    excess = len(embed) - TOTAL_LIMIT
    if excess > 0 and embed.description:
        embed.description = shorten(embed.description, len(embed.description) - excess)


SOURCES_TITLE = "The articles storybot quotes from"
TIMELINE_TITLE = "The story so far, by date"


def sources_lines(corpus: Corpus) -> list[str]:
    return [source_line(n, article) for n, article in enumerate(corpus.by_date(), 1)]


def timeline_lines(corpus: Corpus) -> list[str]:
    lines = []
    for entry in timeline(corpus):
        article = entry.article
        head = f"**{entry.article.published or 'undated'}** · {safe(article.outlet or 'Unknown outlet')} · *{safe(article.title)}*"
        if article.kind != "news":
            head += f" · **{article.kind.upper()}**"
        lines.append(f"{head}\n> {shorten(safe(entry.quote), 400)}")
    return lines


HELP_TEXT = (
    "**storybot** answers questions about one story: {summary} "
    "It answers by **quoting news articles word for word**, with the outlet, title, date and link.\n\n"
    "**What you can do**\n"
    "• `/ask` — ask in your own words; you get the quoted passages that answer it; when none clearly does, "
    "the nearest ones under a warning and what the articles don't say; when nothing in them is related, "
    "a plain \"the articles don't cover that\".\n"
    "• **Find sources** — right-click (or long-press) any message, choose *Apps* → *Find sources*: "
    "storybot looks up what the articles say about that claim. Only you see the answer unless this server chose otherwise.\n"
    "• `/sources` — the articles it quotes; `/timeline` — the story by date.\n"
    "• Under every answer: **Helpful**, **Not helpful**, and **Report** to tell the moderators it is wrong.\n"
    "• `/mydata` — what storybot keeps about you here; `/forget-me` — remove it.\n\n"
    "**What it can't do**\n"
    "It never writes text of its own, gives opinions or knows anything the articles don't say, "
    "so it can't tell you what happened after them or judge who is right. "
    "It can't read images or links in a message, only its text."
)


def help_embed(story: Story = Story()) -> discord.Embed:
    """/help, with the story told as the corpus's story.yaml tells it."""
    text = HELP_TEXT.replace("{summary}", for_discord(story.summary))
    return discord.Embed(colour=COLOUR, title="What storybot does", description=shorten(text, DESCRIPTION_LIMIT))
