"""The operators' /reload: it changes what every server sees, so it is for operators, configured
owner user ids or moderators of an operator guild. It lives only in the operators' guilds when
there are any, so other servers never see it; otherwise it is everywhere and refused to all but
the owners."""
from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from retrieval.errors import StorybotError

from bot.discord.moderation import is_moderator
from bot.discord.replies import defer_private, reply

if TYPE_CHECKING:
    from bot.discord.bot import StoryBot


class Operators(commands.Cog):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot

    def allow(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id in self.bot.config.owner_ids:
            return True
        return interaction.guild_id in self.bot.config.operator_guild_ids and is_moderator(interaction)

    @app_commands.command(name="reload", description="Operators: re-read the articles now and say what changed")
    @app_commands.default_permissions(manage_messages=True)
    @app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)
    @app_commands.allowed_installs(guilds=True, users=False)
    async def reload(self, interaction: discord.Interaction) -> None:
        if not self.allow(interaction):
            await reply(interaction, "Only the bot's operators can use /reload: it changes the articles for every server.")
            return
        await defer_private(interaction)
        try:
            report = await self.bot.reloader.reload()
        except StorybotError as exc:
            await reply(interaction, f"The corpus could not be loaded, so answers still come from the old one: {exc}")
            return
        await reply(interaction, report.text())


async def setup(bot: StoryBot) -> None:
    guilds = [discord.Object(g) for g in bot.config.operator_guild_ids]
    await bot.add_cog(Operators(bot), guilds=guilds or discord.utils.MISSING)
