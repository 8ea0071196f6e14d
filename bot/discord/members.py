"""Members' own data: `/mydata` shows what storybot keeps about you in this server (or in your
DMs with it), `/forget-me` removes it after a confirming press.

Forgetting removes your questions (and the questions made of your messages with "Find
sources"), your votes and your reports, in this server only. The answers' quotes stay, and so
do moderators' actions, under a pseudonym: they are the record of what the bot said.
"""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.discord import embeds
from bot.audit_store import AuditStore, Scope
from bot.discord.forgotten_posts import edit_posts
from bot.discord.buttons import ButtonCog, persistent_button
from bot.discord.replies import defer_private, reply
from bot.store.values import MemberData

if TYPE_CHECKING:
    from bot.discord.bot import StoryBot

log = logging.getLogger(__name__)

SHOWN_QUESTIONS = 10



def where(interaction: discord.Interaction) -> str:
    return "this server" if interaction.guild_id else "your DMs with storybot"


def retention_text(days: float | None) -> str:
    if days is None:
        return "It is kept until you use /forget-me (or the bot's operator removes it)."
    return f"It is removed automatically after {days:g} days, or at once with /forget-me."


def member_text(data: MemberData, place: str, retention_days: float | None) -> str:
    if not (data.questions or data.from_their_messages or data.feedback or data.moderation or data.labels):
        return f"storybot keeps nothing about you in {place}."
    lines = [f"In {place}, storybot keeps:"]
    lines.append(f"• {len(data.questions)} question(s) you asked, with the answers' quotes")
    if data.from_their_messages:
        lines.append(f"• {len(data.from_their_messages)} question(s) others made of your messages with \"Find sources\"")
    kinds = [f.kind for f in data.feedback]
    lines.append(f"• {kinds.count('helpful')} Helpful and {kinds.count('not_helpful')} Not helpful vote(s), "
                 f"{kinds.count('report')} report(s)")
    if data.moderation:
        lines.append(f"• {len(data.moderation)} moderation action(s) you took (these stay, under a pseudonym)")
    if data.labels:
        lines.append(f"• {data.labels} answer(s) you labelled as a moderator (these stay, under a pseudonym)")
    shown = sorted((*data.questions, *data.from_their_messages), key=lambda e: e.id)[-SHOWN_QUESTIONS:]
    if shown:
        lines.append("\nLatest questions:")
        for entry in shown:
            lines.append(f"#{entry.id} · {entry.created_at[:10]} · {embeds.shorten(embeds.safe(entry.question), 120)}")
    lines.append("\n" + retention_text(retention_days))
    return embeds.shorten("\n".join(lines), embeds.DESCRIPTION_LIMIT)


class Members(ButtonCog):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot
        self.retention_days = bot.config.retention_days
        self.button = persistent_button(
            "storybot:forget:{user_id}", {"user_id": int},
            look=lambda user_id: ("Forget me", discord.ButtonStyle.danger), press=self.forget,
            doing=lambda user_id: f"forgetting member {user_id}")

    @app_commands.command(name="mydata", description="See what storybot keeps about you here")
    async def mydata(self, interaction: discord.Interaction) -> None:
        await defer_private(interaction)
        data = await self.bot.store.mydata(Scope.of_place(interaction.guild_id), str(interaction.user.id))
        embed = discord.Embed(colour=embeds.COLOUR, title="What storybot keeps about you",
                              description=member_text(data, where(interaction), self.retention_days))
        await reply(interaction, embed=embed)

    @app_commands.command(name="forget-me", description="Remove your questions, votes and reports here")
    async def ask_to_forget(self, interaction: discord.Interaction) -> None:
        confirm = discord.ui.View(timeout=None)
        confirm.add_item(self.button(interaction.user.id))
        await reply(interaction, f"This removes your questions, votes and reports in {where(interaction)}; the "
                    "answers' quotes and moderators' actions stay, without your name. It cannot be undone.",
                    view=confirm)

    async def forget(self, interaction: discord.Interaction, user_id: int) -> None:
        if interaction.user.id != user_id:
            await reply(interaction, "Only the member who asked can confirm this.")
            return
        await interaction.response.defer()
        forgotten = await self.bot.store.forget(Scope.of_place(interaction.guild_id), str(interaction.user.id))
        edited = await edit_posts(self.bot, forgotten.posts)
        text = (f"Done: {forgotten.questions} question(s) and {forgotten.feedback} vote(s) or report(s) removed "
                f"in {where(interaction)}" + (f", and {edited} of storybot's posts that showed them edited" if edited
                                              else "") + ".")
        await interaction.edit_original_response(content=text, view=None)


# The sweep runs at start and then hourly: a retention is counted in days, so an hour late is
# within its meaning, and each sweep is one indexed UPDATE and DELETE.
SWEEP_SECONDS = 3600.0


async def expire_periodically(store: AuditStore, days: float, every: float = SWEEP_SECONDS) -> None:
    """Remove member data older than `days`, now and every `every` seconds, until cancelled."""
    while True:
        try:
            done = await store.delete_older_than(days)
            if done.questions or done.feedback:
                log.info("retention (%g days): removed %d question(s), %d vote(s)/report(s)", days, done.questions,
                         done.feedback)
        except Exception:  # noqa: BLE001 - the next sweep tries again; the bot keeps answering
            log.exception("the retention sweep failed; trying again in %.0f s", every)
        await asyncio.sleep(every)


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(Members(bot))
