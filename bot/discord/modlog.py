"""Reports reach moderators: each report is posted at once to the server's mod-log channel, with
the question, the quotes, the reason given, and buttons to hide a quote in that server or to
dismiss the report. What the moderator does is recorded (the store's report actions; a hide
also as a moderation record, exactly as `/audit hide`).

The answer, the report and the quote live in each button's custom id, so the buttons work after
a restart. Only moderators (Manage Messages in that server) may press them, and the store scopes
every action to the server the button was pressed in.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.discord import embeds
from bot.audit_store import Scope
from bot.discord.moderation import is_moderator
from bot.discord.replies import reply
from bot.discord.buttons import ButtonCog, persistent_button
from bot.discord.server_settings import cannot_post
from bot.inert_text import for_discord
from bot.store.posts import Post
from bot.store import AuditEntry, UnknownAuditId

if TYPE_CHECKING:
    from bot.discord.bot import StoryBot

log = logging.getLogger(__name__)

QUOTE_CHARS = 300  # three quotes and the question stay well inside one embed


def report_embed(entry: AuditEntry, reason: str | None, reporter: str) -> discord.Embed:
    """Every value in it rendered `for_discord`: the question, the quotes and the reason as markdown
    made inert, the reporter's name (a footer reads no markdown) with its control characters shown."""
    embed = discord.Embed(colour=discord.Colour.red(), title=f"Answer #{entry.id} was reported",
                          description=embeds.shorten("**Question:** " + embeds.safe(entry.question), 1000))
    for quote in entry.quotes:
        embed.add_field(name=f"Quote {quote.rank} · {for_discord(quote.doc_id, markdown=False)}[{quote.start}:{quote.end}]",
                        value="> " + embeds.shorten(embeds.safe(quote.text), QUOTE_CHARS), inline=False)
    if not entry.quotes:
        embed.add_field(name="Quotes", value=f"none ({entry.status.replace('_', ' ')})", inline=False)
    embed.add_field(name="Reason given", value=embeds.shorten(embeds.safe(reason or "(none)"), embeds.FIELD_LIMIT),
                    inline=False)
    embed.set_footer(text=f"Reported by {for_discord(reporter, markdown=False)} · status {entry.status} · /audit show id:{entry.id}")
    return embed


class ModLog(ButtonCog):
    """Posts reports in the server's mod-log channel, and acts on its buttons."""

    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot
        self.button = persistent_button(
            "storybot:modlog:{action}:{audit_id}:{report_id}:{rank}",
            {"action": "hide|dismiss", "audit_id": int, "report_id": int, "rank": int},
            look=lambda action, audit_id, report_id, rank: (
                (f"Hide quote {rank} here", discord.ButtonStyle.danger) if action == "hide"
                else ("Dismiss", discord.ButtonStyle.secondary)),
            press=self.act, doing=lambda action, audit_id, report_id, rank: f"{action} on reported answer {audit_id}")

    def view(self, entry: AuditEntry, report_id: int) -> discord.ui.View:
        buttons = discord.ui.View(timeout=None)
        for quote in entry.quotes:
            buttons.add_item(self.button("hide", entry.id, report_id, quote.rank))
        buttons.add_item(self.button("dismiss", entry.id, report_id, 0))
        from bot.discord.labelling import Labelling  # a sibling feature; absent when it failed to load

        labelling = self.bot.feature(Labelling)
        return labelling.buttons(entry, buttons) if labelling is not None else buttons

    async def report_filed(self, interaction: discord.Interaction, audit_id: int, report_id: int,
                           reason: str | None) -> None:
        """Post the report in the server's mod-log channel, if it has one the bot can post in."""
        guild = interaction.guild
        settings = await self.bot.servers.get(interaction.guild_id)
        if guild is None or settings is None or settings.mod_log_channel is None:
            return
        channel = guild.get_channel(int(settings.mod_log_channel))
        problem = "it no longer exists" if channel is None else cannot_post(channel)
        if problem:
            log.warning("report on answer %s not posted in guild %s's mod-log channel %s: %s", audit_id, guild.id,
                        settings.mod_log_channel, problem)
            return
        entry = await self.bot.store.get(Scope.guild(guild.id), audit_id)
        posted = await channel.send(embed=report_embed(entry, reason, str(interaction.user)),
                                    view=self.view(entry, report_id))
        # Kept so a /forget-me of the asker or the reporter can edit the post.
        await self.bot.store.record_post(Post("modlog", str(guild.id), str(channel.id), str(posted.id), audit_id, report_id))

    async def act(self, interaction: discord.Interaction, action: str, audit_id: int, report_id: int, rank: int) -> None:
        if not is_moderator(interaction):
            await reply(interaction, "Only moderators (Manage Messages) can act on reports.")
            return
        await interaction.response.defer()  # the mod-log message itself is updated below
        try:
            done = await self.bot.store.resolve_report(
                Scope.guild(interaction.guild_id), audit_id, action=action, report_id=report_id or None,
                quote_rank=rank if action == "hide" else None, reason=f"report #{report_id} in the mod-log channel",
                user_id=str(interaction.user.id), user_name=str(interaction.user))
        except UnknownAuditId:
            await reply(interaction, f"There is no answer #{audit_id} in this server's log.")
            return
        if action == "hide":
            outcome = (f"Quote {rank} hidden in this server by {interaction.user}" if done.moderation_id is not None
                       else f"Quote {rank} was already hidden in this server ({interaction.user} looked)")
        else:
            outcome = f"Dismissed by {interaction.user}"
        if interaction.message is not None and interaction.message.embeds:
            embed = interaction.message.embeds[0].copy()
            embed.colour = discord.Colour.dark_grey()
            embed.add_field(name="Outcome", value=embeds.safe(outcome), inline=False)
            await interaction.edit_original_response(embed=embed, view=None)
        await interaction.followup.send(f"{embeds.safe(outcome)}. Recorded.", ephemeral=True)


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(ModLog(bot))
