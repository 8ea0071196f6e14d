"""Members' commands: /ask, /sources, /timeline, /help. They work in servers and in DMs."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import AsyncIterator

import discord
from discord import app_commands

from retrieval.answer import Answer, MAX_QUESTION_CHARS, normalise_question
from retrieval.errors import BadQuestion

from bot import embeds
from bot.store import AuditError
from bot.audit_store import Asker, AuditStore
from bot.discord_feedback import Feedback
from bot.discord_replies import SHUTTING_DOWN, defer_private, defer_public, reply
from bot.discord_settings import ServerSettings, answers_public_in
from bot.last_good import LastGood
from bot.store.posts import Post
from bot.paging import Pager
from bot.service import AnswerService

log = logging.getLogger(__name__)


class Cooldown:
    """Per-member pause between questions in one server (or in DMs), so one member cannot flood a
    channel; each server sets its own, so a pause in one server never holds a member up in another.
    Kept in the process: a member's questions reach the shard of the server they ask in."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._last: dict[tuple[int | None, int], float] = {}

    def remaining(self, guild_id: int | None, user_id: int, seconds: float | None = None) -> float:
        """`guild_id` None: DMs. `seconds`: the server's own cooldown, when it set one."""
        wait = self.seconds if seconds is None else seconds
        return max(0.0, self._last.get((guild_id, user_id), -1e9) + wait - time.monotonic())

    def start(self, guild_id: int | None, user_id: int) -> None:
        self._last[(guild_id, user_id)] = time.monotonic()


class InFlight:
    """Answers being made, so a stop can refuse new questions and let these finish."""

    def __init__(self) -> None:
        self.draining = False
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.asynccontextmanager
    async def answering(self) -> AsyncIterator[None]:
        self._busy += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._busy -= 1
            if not self._busy:
                self._idle.set()

    async def drain(self, timeout: float) -> None:
        self.draining = True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except asyncio.TimeoutError:
            log.warning("stopping with %d answers unfinished after %.0f s", self._busy, timeout)


def asker_of(interaction: discord.Interaction, source: str = "slash", message: discord.Message | None = None) -> Asker:
    return Asker(
        guild_id=str(interaction.guild_id) if interaction.guild_id else None,
        channel_id=str(interaction.channel_id) if interaction.channel_id else None,
        user_id=str(interaction.user.id),
        user_name=str(interaction.user),
        source=source,
        message_id=str(message.id) if message is not None else None,
        message_author_id=str(message.author.id) if message is not None else None,
    )


@dataclass(frozen=True)
class Asking:
    service: AnswerService
    store: AuditStore
    feedback: Feedback
    cooldown: Cooldown
    in_flight: InFlight
    servers: ServerSettings | None = None  # per-server settings; None: public everywhere, one cooldown
    pager: Pager = field(init=False)
    hides: LastGood[frozenset] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pager", Pager(lambda: self.service.index.corpus))
        object.__setattr__(self, "hides", LastGood("hidden passages"))

    async def hidden_in(self, guild_id: int | None) -> frozenset:
        """A server's own hidden passages; a DM gets the operator's global hides only (those are out
        of the index already). With the store unreadable, the last good read: answers never wait."""
        if guild_id is None:
            return frozenset()
        guild = str(guild_id)
        return (await self.hides.read(guild, lambda: self.store.hidden_spans(guild), frozenset())).value

    async def ask(self, interaction: discord.Interaction, question: str, *, message: discord.Message | None = None,
                  note: str | None = None) -> None:
        """Answer `question` (a "Find sources" passes the message it came from, and a note when it was
        cut). Public where the server's settings say so, else only the asker sees it."""
        if self.in_flight.draining:
            await reply(interaction, SHUTTING_DOWN)
            return
        settings = await self.servers.before_acknowledging(interaction.guild_id) if self.servers else None
        public = settings is None or answers_public_in(settings, interaction.channel_id)
        if message is not None:
            public = public and settings is not None and settings.find_sources_public
        server_cooldown = settings.cooldown_seconds if settings is not None else None
        wait = self.cooldown.remaining(interaction.guild_id, interaction.user.id, server_cooldown)
        if wait > 0:
            await reply(interaction, f"Easy there: you can ask again in {wait:.0f} s.")
            return
        try:
            normalise_question(question)
        except BadQuestion as exc:
            await reply(interaction, f"I can't ask that: {exc}.")
            return
        self.cooldown.start(interaction.guild_id, interaction.user.id)
        if public:
            await defer_public(interaction)
        else:  # the follow-up replaces the private "thinking...", so the answer is private too
            await defer_private(interaction)
        async with self.in_flight.answering():
            result = await self.service.ask(question, await self.hidden_in(interaction.guild_id))
            audit_id = await self._record(interaction, result, asker_of(interaction, "message" if message else "slash", message))
            view = self.feedback.view(audit_id) if audit_id is not None else discord.utils.MISSING
            sent = await interaction.followup.send(content=note or discord.utils.MISSING,
                                                   embed=embeds.answer_embed(result), view=view, wait=True)
            if public and audit_id is not None and interaction.guild_id is not None:
                await self._remember_post(Post("answer", str(interaction.guild_id), str(interaction.channel_id), str(sent.id),
                                               audit_id))

    async def _remember_post(self, post: Post) -> None:
        """A public answer shows its question in its title: kept, so /forget-me can edit it."""
        try:
            await self.store.record_post(post)
        except Exception as exc:  # noqa: BLE001 - the answer is out; only the later edit is at stake
            log.warning("answer %s: the id of its public message %s was not kept (%s); /forget-me will not be "
                        "able to edit its title", post.answer_id, post.message_id, exc,
                        exc_info=not isinstance(exc, AuditError))

    async def _record(self, interaction: discord.Interaction, result: Answer, asker: Asker) -> int | None:
        """The audit id, or None when the store cannot take it: the member still gets the answer."""
        try:
            return await self.store.record_answer(result, asker)
        except AuditError:
            log.critical("AUDIT RECORD LOST for %r asked by %s", result.question, interaction.user.id, exc_info=True)
            return None

    def commands(self) -> list[app_commands.Command]:
        # The story's own words (the corpus's story.yaml), as loaded at start-up.
        @app_commands.command(name="ask", description=self.service.index.corpus.story.ask_description)
        @app_commands.describe(question="Your question, e.g. why was the status withdrawn?")
        async def ask(interaction: discord.Interaction, question: app_commands.Range[str, 1, MAX_QUESTION_CHARS]) -> None:
            await self.ask(interaction, question)

        @app_commands.command(name="sources", description="The articles storybot quotes from, by date")
        async def sources(interaction: discord.Interaction) -> None:
            await self.pager.send_first_page(interaction, "sources")

        @app_commands.command(name="help", description="What storybot does and doesn't do, and how to report an answer")
        async def help(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(embed=embeds.help_embed(self.service.index.corpus.story), ephemeral=True)

        @app_commands.command(name="timeline", description="The story's articles by date, each with its first sentence")
        async def timeline(interaction: discord.Interaction) -> None:
            await self.pager.send_first_page(interaction, "timeline")

        return [ask, sources, help, timeline]
