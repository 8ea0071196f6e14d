"""`/sources` and `/timeline` in pages, with Previous / Next buttons, once the corpus outgrows
one embed (4,096 characters: about 34 sources or 16 timeline entries).

A page is worked out from the corpus when a button is pressed: the list and the page number
live in the button's custom id, so the buttons keep working after a restart and need no state.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import discord
from discord import app_commands

from retrieval.articles import Corpus

from bot.discord import embeds
from bot.discord.buttons import ButtonCog, persistent_button

if TYPE_CHECKING:
    from bot.discord.bot import StoryBot

# Ten sources or six timeline entries a page: a page reads at a glance on a phone, and six
# entries of at most ~600 characters stay well inside the 4,096-character description.
PER_PAGE = {"sources": 10, "timeline": 6}
TITLES = {"sources": embeds.SOURCES_TITLE, "timeline": embeds.TIMELINE_TITLE}
SEPARATORS = {"sources": "\n", "timeline": "\n\n"}
LINES: dict[str, Callable[[Corpus], list[str]]] = {"sources": embeds.sources_lines, "timeline": embeds.timeline_lines}


@dataclass(frozen=True)
class Page:
    kind: str
    number: int  # 0-based
    count: int
    text: str
    items: int


def pages(lines: list[str], per_page: int, separator: str, limit: int = embeds.DESCRIPTION_LIMIT) -> list[list[str]]:
    """Lines grouped at most `per_page` to a page and within `limit` characters once joined."""
    grouped: list[list[str]] = [[]]
    for line in lines:
        line = embeds.shorten(line, limit)
        current = grouped[-1]
        if current and (len(current) >= per_page or len(separator.join([*current, line])) > limit):
            grouped.append([line])
        else:
            current.append(line)
    return grouped


def page(kind: str, corpus: Corpus, number: int) -> Page:
    """Page `number` of that list (clamped to the pages there are: the corpus may have shrunk)."""
    lines = LINES[kind](corpus)
    grouped = pages(lines, PER_PAGE[kind], SEPARATORS[kind])
    number = max(0, min(number, len(grouped) - 1))
    return Page(kind, number, len(grouped), SEPARATORS[kind].join(grouped[number]), len(lines))


def embed(shown: Page) -> discord.Embed:
    out = discord.Embed(colour=embeds.COLOUR, title=TITLES[shown.kind], description=shown.text)
    if shown.count > 1:
        out.set_footer(text=f"Page {shown.number + 1} of {shown.count} · {shown.items} articles")
    return out


class Paging(ButtonCog):
    """/sources and /timeline: sends a list's first page and turns pages when a button is pressed,
    from the corpus being answered from at that moment (it changes on a reload)."""

    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot
        self.button = persistent_button(
            "storybot:page:{kind}:{page}:{way}", {"kind": "sources|timeline", "page": int, "way": "prev|next"},
            look=lambda kind, page, way: ("◀ Previous" if way == "prev" else "Next ▶", discord.ButtonStyle.secondary),
            press=lambda interaction, kind, page, way: self.turn(interaction, kind, page + (1 if way == "next" else -1)))

    def corpus(self) -> Corpus:
        return self.bot.service.index.corpus

    def view(self, shown: Page) -> discord.ui.View | None:
        if shown.count <= 1:
            return None
        buttons = discord.ui.View(timeout=None)
        buttons.add_item(self.button(shown.kind, shown.number, "prev", disabled=shown.number == 0))
        buttons.add_item(self.button(shown.kind, shown.number, "next", disabled=shown.number == shown.count - 1))
        return buttons

    async def send_first_page(self, interaction: discord.Interaction, kind: str) -> None:
        shown = page(kind, self.corpus(), 0)
        buttons = self.view(shown)
        await interaction.response.send_message(embed=embed(shown), **({"view": buttons} if buttons else {}))

    async def turn(self, interaction: discord.Interaction, kind: str, number: int) -> None:
        shown = page(kind, self.corpus(), number)
        await interaction.response.edit_message(embed=embed(shown), view=self.view(shown))

    @app_commands.command(name="sources", description="The articles storybot quotes from, by date")
    async def sources(self, interaction: discord.Interaction) -> None:
        await self.send_first_page(interaction, "sources")

    @app_commands.command(name="timeline", description="The story's articles by date, each with its first sentence")
    async def timeline(self, interaction: discord.Interaction) -> None:
        await self.send_first_page(interaction, "timeline")


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(Paging(bot))
