"""Label buttons: under `/audit show` and on mod-log reports, a moderator presses "Quote N right",
"Quote N wrong" or "Not in the articles", and that server's answers follow the label at once
(bot/lessons.py). The buttons keep working after a restart (bot/discord/buttons.py); a press is
checked like /audit: only someone with Manage Messages in that server, about that server's answers.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.discord.buttons import ButtonCog, persistent_button
from bot.discord.moderation import is_moderator, label_answer
from bot.discord.replies import defer_private, reply
from bot.store import AuditEntry

if TYPE_CHECKING:
    from bot.discord.bot import StoryBot

LOOKS = {"right": ("Quote {rank} right", discord.ButtonStyle.success),
         "wrong": ("Quote {rank} wrong", discord.ButtonStyle.secondary),
         "none": ("Not in the articles", discord.ButtonStyle.secondary)}


class Labelling(ButtonCog):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot
        self.button = persistent_button(
            "storybot:label:{verdict}:{audit_id}:{rank}", {"verdict": "right|wrong|none", "audit_id": int, "rank": int},
            look=lambda verdict, audit_id, rank: (LOOKS[verdict][0].format(rank=rank), LOOKS[verdict][1]),
            press=self.press, doing=lambda verdict, audit_id, rank: f"labelling answer {audit_id} {verdict}")

    def buttons(self, entry: AuditEntry, view: discord.ui.View | None = None) -> discord.ui.View:
        """The label buttons of one answer (added to `view`, or a new one): right and wrong per
        quote, and "not in the articles"."""
        view = view if view is not None else discord.ui.View(timeout=None)
        for quote in entry.quotes[:3]:
            view.add_item(self.button("right", entry.id, quote.rank))
            view.add_item(self.button("wrong", entry.id, quote.rank))
        view.add_item(self.button("none", entry.id, 0))
        return view

    async def press(self, interaction: discord.Interaction, verdict: str, audit_id: int, rank: int) -> None:
        if not is_moderator(interaction):
            await reply(interaction, "Only moderators (Manage Messages) can label answers.")
            return
        await defer_private(interaction)
        await label_answer(self.bot, interaction, audit_id, verdict, rank if verdict != "none" else None, None)


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(Labelling(bot))
