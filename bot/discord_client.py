"""The Discord client: a sharded client holding the command tree and what the commands need.

Each concern gets its dependencies when its commands are made (asking, moderation, feedback);
nothing reaches them by casting `interaction.client`.
"""
from __future__ import annotations

import logging
from pathlib import Path

import discord
from discord import app_commands

from bot import command_sync, logs
from bot.audit_store import AuditStore
from bot.discord_asking import Asking, Cooldown, InFlight
from bot.discord_feedback import Feedback
from bot.discord_moderation import AuditGroup, Operators, reload_command
from bot.discord_members import Members
from bot.discord_replies import report_failure, reply
from bot.discord_settings import ServerSettings, SettingsGroup
from bot.discord_sources import find_sources_command
from bot.modlog import ModLog
from bot.live import Reloader
from bot.service import AnswerService

log = logging.getLogger(__name__)

DRAIN_SECONDS = 15.0


class StoryBot(discord.AutoShardedClient):
    def __init__(
        self,
        *,
        service: AnswerService,
        store: AuditStore,
        reloader: Reloader,
        guild_ids: tuple[int, ...] = (),
        cooldown_seconds: float = 10.0,
        shard_count: int | None = None,
        shard_ids: tuple[int, ...] | None = None,
        owner_ids: tuple[int, ...] = (),
        operator_guild_ids: tuple[int, ...] = (),
        sync_record: Path | None = None,
        sync_commands: bool = True,
        force_sync: bool = False,
        retention_days: float | None = None,
    ) -> None:
        logs.quiet_voice()  # before the client is made: that is when discord.py warns
        super().__init__(
            intents=discord.Intents(guilds=True),
            # Nothing the bot sends may ping anyone: not a question's @everyone, not an
            # article's @amnesty. Set once here so no reply can forget it.
            allowed_mentions=discord.AllowedMentions.none(),
            shard_count=shard_count,
            shard_ids=list(shard_ids) if shard_ids is not None else None,
        )
        self.service = service
        self.store = store
        self.reloader = reloader
        self.guild_ids = guild_ids
        self.operator_guild_ids = operator_guild_ids
        self.sync_record = sync_record
        self.sync_commands = sync_commands
        self.force_sync = force_sync
        self.sync_outcomes: list[command_sync.ScopeSync] = []
        self.in_flight = InFlight()
        self.cooldown = Cooldown(cooldown_seconds)
        self.servers = ServerSettings(store, cooldown_seconds)
        self.modlog = ModLog(store, self.servers)
        self.feedback = Feedback(store, on_report=self.modlog.report_filed)
        self.asking = Asking(service, store, self.feedback, self.cooldown, self.in_flight, self.servers)
        self.members = Members(store, retention_days)
        self.tree = app_commands.CommandTree(self)
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]
        for command in (*self.asking.commands(), *self.members.commands(), find_sources_command(self.asking),
                        SettingsGroup(self.servers)):
            self.tree.add_command(command)
        self.tree.add_command(AuditGroup(store, reloader.settings.corpus))
        operators = Operators(frozenset(owner_ids), frozenset(operator_guild_ids))
        # /reload lives only in the operators' guilds when there are any, so other servers
        # never see it; otherwise it is everywhere and refused to all but the owners.
        operator_guilds = [discord.Object(g) for g in operator_guild_ids]
        self.tree.add_command(reload_command(reloader, operators), guilds=operator_guilds or discord.utils.MISSING)

    @property
    def draining(self) -> bool:
        return self.in_flight.draining

    async def setup_hook(self) -> None:
        self.add_dynamic_items(self.feedback.button, self.asking.pager.button, self.modlog.button, self.members.button)
        if not self.sync_commands:
            return
        extra = tuple(g for g in self.operator_guild_ids if g not in self.guild_ids)
        scopes = command_sync.plan(self.tree, guild_ids=self.guild_ids, extra_guilds=extra)
        self.sync_outcomes = await command_sync.sync(self, scopes, self.sync_record, force=self.force_sync)

    async def drain(self, timeout: float = DRAIN_SECONDS) -> None:
        """Refuse new questions and let the ones being answered finish."""
        await self.in_flight.drain(timeout)

    async def on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        if isinstance(error, app_commands.CheckFailure):
            if not interaction.response.is_done():
                await reply(interaction, "You can't use that command here.")
            return
        command = interaction.command.qualified_name if interaction.command else "?"
        await report_failure(interaction, f"/{command}", error)
