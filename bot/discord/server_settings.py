"""Per-server settings: `/settings` for members with Manage Server, and the cache the other
commands read them through.

Settings live in the audit store, so every shard and process sees the same, and a restart
keeps them. A channel is accepted only where the bot can post (and embed): a refusal says which
permission is missing, so the server's admins know what to change.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord import embeds
from bot.audit_store import AuditStore, Scope
from bot.discord.replies import defer_private, reply
from bot.last_good import LastGood
from bot.store.errors import BadGuildSetting
from bot.store.values import MAX_COOLDOWN_SECONDS, GuildSettings

if TYPE_CHECKING:
    from bot.discord.bot import StoryBot

log = logging.getLogger(__name__)

# A server's interactions all reach the shard that holds it, which updates its cache on a change;
# the expiry only bounds how long an edit made in the store by another process (an operator's
# script) takes to be seen.
CACHE_SECONDS = 60.0
# Of Discord's 3 seconds to acknowledge, what reading a server's settings may take; the defer
# itself is a round trip of well under a second.
ACK_BUDGET = 1.5
# A channel id no channel has: "public only there" makes every answer private.
NO_CHANNEL = "0"
PRIVATE_EVERYWHERE = GuildSettings(public_channels=frozenset({NO_CHANNEL}))
# What the bot needs in a channel to post an answer or a report there.
POSTING = {"view_channel": "View Channel", "send_messages": "Send Messages", "embed_links": "Embed Links"}


class ServerSettings:
    """One server's settings, read through a small cache."""

    def __init__(self, store: AuditStore, default_cooldown: float) -> None:
        self.store = store
        self.default_cooldown = default_cooldown
        self._cache: LastGood[GuildSettings] = LastGood("settings")

    async def get(self, guild_id: int | str | None) -> GuildSettings | None:
        """None in DMs: no server, no settings. With the store unreadable, the last good read (or,
        never read, private everywhere: a private answer cannot show what a server kept out of its
        channels)."""
        if guild_id is None:
            return None
        key = str(guild_id)
        cached = self._cache.last(key)
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        return (await self._cache.read(key, lambda: self.store.guild_settings(key), PRIVATE_EVERYWHERE)).value

    async def fresh(self, guild_id: int) -> GuildSettings:
        """The settings read from the store now, for a manager who views or changes them: never the
        last good read or the outage's placeholder shown as if it were the server's (AuditError,
        answered "the log is unavailable", when the store cannot be read)."""
        key = str(guild_id)
        settings = await self.store.guild_settings(key)
        self._cache.remember(key, settings)
        return settings

    async def before_acknowledging(self, guild_id: int | None, within: float = ACK_BUDGET) -> GuildSettings | None:
        """The settings, for a handler that must still acknowledge within Discord's 3 seconds: if the
        store is slow (a busy SQLite file retries writes for up to 3.3 s), the last known settings,
        or, never read yet, private everywhere: a private answer cannot show what a server wanted
        kept out of its channels. The read goes on and fills the cache for the next question."""
        if guild_id is None:
            return None
        reading = asyncio.ensure_future(self.get(guild_id))
        try:
            return await asyncio.wait_for(asyncio.shield(reading), within)
        except asyncio.TimeoutError:
            log.warning("settings of guild %s not read within %.1f s; answering with the last known", guild_id, within)
            cached = self._cache.last(str(guild_id))
            return cached[1] if cached else PRIVATE_EVERYWHERE

    async def save(self, guild_id: int, settings: GuildSettings, user: discord.abc.User) -> GuildSettings:
        saved = await self.store.save_guild_settings(Scope.guild(guild_id), settings, user_id=str(user.id),
                                                     user_name=str(user))
        self._cache.remember(str(guild_id), saved)
        return saved

    async def cooldown(self, guild_id: int | None) -> float:
        settings = await self.get(guild_id)
        if settings is None or settings.cooldown_seconds is None:
            return self.default_cooldown
        return settings.cooldown_seconds


def answers_public_in(settings: GuildSettings, channel_id: int | str | None) -> bool:
    """No public channel listed: public everywhere (the default); else only in those listed."""
    return not settings.public_channels or (channel_id is not None and str(channel_id) in settings.public_channels)


def cannot_post(channel: discord.abc.GuildChannel) -> str | None:
    """Why the bot cannot post answers in `channel`, or None when it can."""
    if not isinstance(channel, (discord.TextChannel, discord.Thread, discord.VoiceChannel)):
        return f"#{channel.name} is not a text channel"
    allowed = channel.permissions_for(channel.guild.me)
    # The first one missing: without View Channel Discord denies sending too, and without Send
    # Messages embedding, so naming the others would send admins after the wrong switch.
    missing = next((label for name, label in POSTING.items() if not getattr(allowed, name)), None)
    return f"storybot lacks {missing} in #{channel.name}" if missing else None


def settings_text(settings: GuildSettings, default_cooldown: float) -> str:
    public = ", ".join(f"<#{c}>" for c in sorted(settings.public_channels)) or "every channel"
    cooldown = (f"{settings.cooldown_seconds:g} s" if settings.cooldown_seconds is not None
                else f"{default_cooldown:g} s (the bot's default)")
    modlog = f"<#{settings.mod_log_channel}>" if settings.mod_log_channel else "none (reports wait in /audit reported)"
    lines = [
        f"**Answers are public in:** {public} (elsewhere only the asker sees them)",
        f"**Member cooldown:** {cooldown} between questions",
        f"**Mod-log channel:** {modlog}",
        f"**\"Find sources\" answers:** {'public' if settings.find_sources_public else 'only the asker sees them'}",
    ]
    return "\n".join(lines)


@app_commands.default_permissions(manage_guild=True)
@app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)
@app_commands.allowed_installs(guilds=True, users=False)
class Settings(commands.GroupCog, group_name="settings",
               group_description="Server admins: where storybot answers in public, cooldown, mod-log channel"):
    """`/settings ...`: Discord shows it to Manage Server only; every call checks again."""

    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot
        self.servers = bot.servers

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.guild_id is None or not interaction.permissions.manage_guild:
            await reply(interaction, "Only members with Manage Server can change storybot's settings.")
            return False
        await defer_private(interaction)
        return True

    async def _change(self, interaction: discord.Interaction, done: str, **changes) -> None:
        await defer_private(interaction)  # the read and the save may wait on a busy store: acknowledged first
        current = await self.servers.fresh(interaction.guild_id)
        try:
            saved = await self.servers.save(interaction.guild_id, dataclasses.replace(current, **changes), interaction.user)
        except BadGuildSetting as exc:
            await reply(interaction, f"Not changed: {exc}.")
            return
        await reply(interaction, f"{done}\n\n{settings_text(saved, self.servers.default_cooldown)}")

    async def _postable(self, interaction: discord.Interaction, channel: discord.abc.GuildChannel) -> bool:
        # Discord offers this server's channels only; a forged id of another server's is refused too.
        problem = cannot_post(channel) if channel.guild.id == interaction.guild_id else "that channel is not in this server"
        if problem:
            await reply(interaction, f"Not changed: {problem}. Give storybot those permissions there, or pick another channel.")
            return False
        return True

    @app_commands.command(name="show", description="This server's storybot settings")
    async def show(self, interaction: discord.Interaction) -> None:
        await defer_private(interaction)
        settings = await self.servers.fresh(interaction.guild_id)
        embed = discord.Embed(colour=embeds.COLOUR, title="storybot settings for this server",
                              description=settings_text(settings, self.servers.default_cooldown))
        await reply(interaction, embed=embed)

    @app_commands.command(name="public-add", description="Answer in public in this channel (elsewhere only the asker sees answers)")
    async def public_add(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        if not await self._postable(interaction, channel):
            return
        current = await self.servers.get(interaction.guild_id)
        channels = current.public_channels | {str(channel.id)}
        await self._change(interaction, f"Answers are now public in {channel.mention}.", public_channels=channels)

    @app_commands.command(name="public-remove", description="Stop answering in public in this channel")
    async def public_remove(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        current = await self.servers.get(interaction.guild_id)
        if str(channel.id) not in current.public_channels:
            await reply(interaction, f"{channel.mention} was not one of the public channels; nothing changed.")
            return
        channels = current.public_channels - {str(channel.id)}
        note = "" if channels else " No channel is listed now, so answers are public everywhere again."
        await self._change(interaction, f"{channel.mention} is no longer a public channel.{note}", public_channels=channels)

    @app_commands.command(name="public-everywhere", description="Answer in public in every channel (the default)")
    async def public_everywhere(self, interaction: discord.Interaction) -> None:
        await self._change(interaction, "Answers are public in every channel.", public_channels=frozenset())

    @app_commands.command(name="cooldown", description="Seconds a member waits between questions")
    @app_commands.describe(seconds="0 to 3600; leave out to use the bot's default")
    async def cooldown(self, interaction: discord.Interaction,
                       seconds: app_commands.Range[float, 0.0, MAX_COOLDOWN_SECONDS] | None = None) -> None:
        await self._change(interaction, "Cooldown changed.", cooldown_seconds=seconds)

    @app_commands.command(name="modlog", description="Where reports are posted for moderators; leave out to turn off")
    async def modlog(self, interaction: discord.Interaction, channel: discord.TextChannel | None = None) -> None:
        if channel is None:
            await self._change(interaction, "Reports are no longer posted; they wait in /audit reported.",
                               mod_log_channel=None)
            return
        if not await self._postable(interaction, channel):
            return
        await self._change(interaction, f"Reports will be posted in {channel.mention}.", mod_log_channel=str(channel.id))

    @app_commands.command(name="find-sources", description="Whether \"Find sources\" answers are public or only for the asker")
    async def find_sources(self, interaction: discord.Interaction, public: bool) -> None:
        await self._change(interaction, f"\"Find sources\" answers are now {'public' if public else 'private'}.",
                           find_sources_public=public)


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(Settings(bot))
