"""The Discord bot: a sharded `commands.Bot` holding the services every feature shares, each
feature a cog loaded as an extension in `setup_hook` (as discord.py's extensions and RoboDanny do).

Cogs reach what they share through the typed bot (`self.bot: StoryBot`): the answer service, the
store, the reloader, the per-server settings, the answers in flight and the members' cooldown.
A feature that fails to load is logged and left out; the others run (a cog asking for a missing
one with `bot.feature(...)` gets None and does without it).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot import logs
from bot.audit_store import AuditStore
from bot.discord import sync
from bot.discord.cooldown import Cooldown
from bot.discord.in_flight import InFlight
from bot.discord.replies import report_failure, reply
from bot.discord.server_settings import ServerSettings
from bot.live import Reloader
from bot.service import AnswerService
from bot.settings import Settings

log = logging.getLogger(__name__)

DRAIN_SECONDS = 15.0
# Each feature's cog, in load order; `bot.feature(...)` finds one from another.
EXTENSIONS = (
    "bot.discord.feedback",
    "bot.discord.modlog",
    "bot.discord.paging",
    "bot.discord.asking",
    "bot.discord.find_sources",
    "bot.discord.moderation",
    "bot.discord.labelling",
    "bot.discord.operators",
    "bot.discord.server_settings",
    "bot.discord.members",
)
CogT = TypeVar("CogT", bound=commands.Cog)


@dataclass(frozen=True)
class BotConfig:
    """How this bot process runs: where commands go, who operates it, its shards and defaults."""

    guild_ids: tuple[int, ...] = ()
    cooldown_seconds: float = 10.0
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    owner_ids: tuple[int, ...] = ()
    operator_guild_ids: tuple[int, ...] = ()
    retention_days: float | None = None
    sync_record: Path | None = None
    sync_commands: bool = True
    force_sync: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, **overrides) -> "BotConfig":
        return cls(guild_ids=settings.guild_ids, cooldown_seconds=settings.cooldown_seconds,
                   shard_count=settings.shard_count, shard_ids=settings.shard_ids, owner_ids=settings.owner_ids,
                   operator_guild_ids=settings.operator_guild_ids, retention_days=settings.retention_days,
                   sync_record=settings.command_sync_file, **overrides)


class StoryBot(commands.AutoShardedBot):
    def __init__(self, *, service: AnswerService, store: AuditStore, reloader: Reloader,
                 config: BotConfig = BotConfig()) -> None:
        logs.quiet_voice()  # before the client is made: that is when discord.py warns
        super().__init__(
            # Slash commands, buttons and a message command only: no text prefix is read.
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=discord.Intents(guilds=True),
            # Nothing the bot sends may ping anyone: not a question's @everyone, not an
            # article's @amnesty. Set once here so no reply can forget it.
            allowed_mentions=discord.AllowedMentions.none(),
            shard_count=config.shard_count,
            shard_ids=list(config.shard_ids) if config.shard_ids is not None else None,
        )
        self.service = service
        self.store = store
        self.reloader = reloader
        self.config = config
        self.sync_outcomes: list[sync.ScopeSync] = []
        self.in_flight = InFlight()
        self.cooldown = Cooldown(config.cooldown_seconds)
        self.servers = ServerSettings(store, config.cooldown_seconds)
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    @property
    def draining(self) -> bool:
        return self.in_flight.draining

    def feature(self, kind: type[CogT]) -> CogT | None:
        """The loaded cog of that class, or None when it is not loaded (it failed to)."""
        # By name, not isinstance: load_extension executes a feature's module anew (and again on a
        # reload), so the class another module imported is not the loaded cog's class.
        return cast("CogT | None", self.get_cog(kind.__cog_name__))

    async def setup_hook(self) -> None:
        for extension in EXTENSIONS:
            try:
                await self.load_extension(extension)
            except Exception:  # noqa: BLE001 - one broken feature must not stop the others
                log.exception("the feature %s failed to load; the bot runs without it", extension)
        if not self.config.sync_commands:
            return
        extra = tuple(g for g in self.config.operator_guild_ids if g not in self.config.guild_ids)
        scopes = sync.plan(self.tree, guild_ids=self.config.guild_ids, extra_guilds=extra)
        self.sync_outcomes = await sync.sync(self, scopes, self.config.sync_record, force=self.config.force_sync)

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
