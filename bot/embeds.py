"""Answers, sources and audit views as Discord embeds, inside Discord's size limits.

One embed per answer holds every quote and every citation: Discord collapses several embeds
that share a URL into the first, so splitting an answer would lose sources.
"""
from __future__ import annotations

import discord
from discord.utils import escape_markdown, escape_mentions

from retrieval.answer import Answer, Quote, Status
from retrieval.timeline import timeline
from retrieval.articles import Article, Corpus

DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
TOTAL_LIMIT = 6000
ELLIPSIS = "…"
QUESTION_ECHO_CHARS = 200
COLOUR = discord.Colour.from_rgb(255, 204, 0)


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters; a cut is marked with an ellipsis, never silent."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def safe(text: str) -> str:
    """User or article text made inert: no markdown, no mentions (allowed_mentions also
    forbids pings; this keeps `@everyone` from even looking like one)."""
    return escape_mentions(escape_markdown(" ".join(text.split())))


def source_line(n: int, quote: Quote | Article, *, with_link: bool = True) -> str:
    outlet = quote.outlet or "Unknown outlet"
    title = safe(quote.title)
    link = getattr(quote, "url", None)
    parts = [f"**{safe(outlet)}**", f"[{title}]({link})" if (link and with_link) else f"*{title}*", quote.published or "undated"]
    if quote.kind != "news":
        parts.append(f"**{quote.kind.upper()}**")
    return f"[{n}] " + " · ".join(parts)


def _block_quote(text: str, n: int, budget: int) -> str:
    marker = f" [{n}]"
    body = shorten(escape_mentions(escape_markdown(" ".join(text.split()))), max(budget - len(marker) - 2, 20))
    return f"> {body}{marker}"


def answer_embed(result: Answer) -> discord.Embed:
    embed = discord.Embed(colour=COLOUR, title=shorten("Q: " + safe(result.question), QUESTION_ECHO_CHARS))
    if result.status is Status.NOT_COVERED:
        embed.description = shorten(escape_mentions(result.message or ""), DESCRIPTION_LIMIT)
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
        head = f"**{escape_mentions(result.reason or '')}**\n*{result.message}:*\n\n"
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


def sources_embed(corpus: Corpus) -> discord.Embed:
    lines = [source_line(n, article) for n, article in enumerate(corpus.by_date(), 1)]
    embed = discord.Embed(colour=COLOUR, title="The articles storybot quotes from")
    embed.description = shorten("\n".join(lines), DESCRIPTION_LIMIT)
    return embed


def timeline_embed(corpus: Corpus) -> discord.Embed:
    lines = []
    for entry in timeline(corpus):
        article = entry.article
        head = f"**{entry.article.published or 'undated'}** · {safe(article.outlet or 'Unknown outlet')} · *{safe(article.title)}*"
        if article.kind != "news":
            head += f" · **{article.kind.upper()}**"
        lines.append(f"{head}\n> {shorten(safe(entry.quote), 400)}")
    embed = discord.Embed(colour=COLOUR, title="The story so far, by date")
    embed.description = shorten("\n\n".join(lines), DESCRIPTION_LIMIT)
    return embed


HELP_TEXT = (
    "**storybot** answers questions about Amnesty International's \"prisoner of conscience\" "
    "designation of Alexei Navalny (named in January 2021, withdrawn in February, restored in May) "
    "by **quoting the news articles word for word**, with outlet, title, date and link.\n\n"
    "• `/ask question:` — the quoted passages that answer it; when none clearly does, the nearest ones "
    "under a warning and what the articles don't say; when nothing in them is related, a plain \"the articles don't cover that\".\n"
    "• `/sources` — the articles it quotes from; `/timeline` — the story by date.\n\n"
    "It never writes text of its own and does not know anything the articles don't say. "
    "Under every answer, **Helpful** / **Not helpful** tell us how it did, and **Report** "
    "(with an optional reason) sends the answer to the moderators."
)


def help_embed() -> discord.Embed:
    return discord.Embed(colour=COLOUR, title="What storybot does", description=HELP_TEXT)
