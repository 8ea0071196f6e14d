"""Asking: /ask and /help, and the one `Asking.ask` that "Find sources" answers through too. They work
in servers and in DMs."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from retrieval.answer import Answer, MAX_QUESTION_CHARS, normalise_question
from retrieval.errors import BadQuestion
from retrieval.lessons import NO_LESSONS, Lessons

from bot.discord import embeds
from bot.store import AuditError
from bot.audit_store import Asker, Scope
from bot.discord.feedback import Feedback
from bot.discord.replies import SHUTTING_DOWN, defer_private, defer_public, reply
from bot.discord.server_settings import answers_public_in
from bot.last_good import LastGood
from bot.lessons import lessons_of
from bot.store.posts import Post

if TYPE_CHECKING:
    from bot.discord.bot import StoryBot

log = logging.getLogger(__name__)


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


# The store is down and this server's hidden passages were never read since the start.
HIDES_UNKNOWN = ("storybot's log is unavailable right now and it cannot check which passages this server hid, "
                 "so it quotes nothing here until it can; try again in a minute.")


class Asking(commands.Cog):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot
        self.hides: LastGood[frozenset] = LastGood("hidden passages")
        self.labels: LastGood[Lessons] = LastGood("labels")
        # /ask says what it is about in the story's own words (the corpus's story.yaml), as loaded
        # at start-up.
        self.ask_command.description = bot.service.index.corpus.story.ask_description

    async def hidden_in(self, guild_id: int | None) -> frozenset | None:
        """A server's own hidden passages; a DM gets the operator's global hides only (those are out
        of the index already). With the store unreadable, the last good read: answers never wait.
        None when the store cannot be read and this server's hides never were since the start: a
        passage hidden for a legal request must not come back because the store is down."""
        if guild_id is None:
            return frozenset()
        guild = str(guild_id)
        return (await self.hides.read(guild, lambda: self.bot.store.hidden_spans(guild), None)).value

    async def lessons_in(self, guild_id: int | None) -> Lessons:
        """What a server's moderators' labels teach its answers (bot/lessons.py); none in a DM. With
        the store unreadable, the last good read, else none: labels improve answers, they never
        keep a passage from being quoted for a legal reason (that is a hide)."""
        if guild_id is None:
            return NO_LESSONS
        guild = str(guild_id)

        async def fetch() -> Lessons:
            return lessons_of(await self.bot.store.labels(Scope.guild(guild)))

        return (await self.labels.read(guild, fetch, NO_LESSONS)).value

    async def ask(self, interaction: discord.Interaction, question: str, *, message: discord.Message | None = None,
                  note: str | None = None) -> None:
        """Answer `question` (a "Find sources" passes the message it came from, and a note when it was
        cut). Public where the server's settings say so, else only the asker sees it."""
        if self.bot.in_flight.draining:
            await reply(interaction, SHUTTING_DOWN)
            return
        settings = await self.bot.servers.before_acknowledging(interaction.guild_id)
        public = settings is None or answers_public_in(settings, interaction.channel_id)
        if message is not None:
            public = public and settings is not None and settings.find_sources_public
        server_cooldown = settings.cooldown_seconds if settings is not None else None
        wait = self.bot.cooldown.remaining(interaction.guild_id, interaction.user.id, server_cooldown)
        if wait > 0:
            await reply(interaction, f"Easy there: you can ask again in {wait:.0f} s.")
            return
        try:
            normalise_question(question)
        except BadQuestion as exc:
            await reply(interaction, f"I can't ask that: {exc}.")
            return
        self.bot.cooldown.start(interaction.guild_id, interaction.user.id)
        if public:
            await defer_public(interaction)
        else:  # the follow-up replaces the private "thinking...", so the answer is private too
            await defer_private(interaction)
        async with self.bot.in_flight.answering():
            hidden = await self.hidden_in(interaction.guild_id)
            if hidden is None:
                self.bot.cooldown.forget(interaction.guild_id, interaction.user.id)
                await interaction.followup.send(HIDES_UNKNOWN, ephemeral=True)
                return
            result = await self.bot.service.ask(question, hidden, await self.lessons_in(interaction.guild_id))
            audit_id = await self._record(interaction, result, asker_of(interaction, "message" if message else "slash", message))
            feedback = self.bot.feature(Feedback)
            view = feedback.view(audit_id) if audit_id is not None and feedback else discord.utils.MISSING
            sent = await interaction.followup.send(content=note or discord.utils.MISSING,
                                                   embed=embeds.answer_embed(result), view=view, wait=True)
            if public and audit_id is not None and interaction.guild_id is not None:
                await self._remember_post(Post("answer", str(interaction.guild_id), str(interaction.channel_id), str(sent.id),
                                               audit_id))

    async def _remember_post(self, post: Post) -> None:
        """A public answer shows its question in its title: kept, so /forget-me can edit it."""
        try:
            await self.bot.store.record_post(post)
        except Exception as exc:  # noqa: BLE001 - the answer is out; only the later edit is at stake
            log.warning("answer %s: the id of its public message %s was not kept (%s); /forget-me will not be "
                        "able to edit its title", post.answer_id, post.message_id, exc,
                        exc_info=not isinstance(exc, AuditError))

    async def _record(self, interaction: discord.Interaction, result: Answer, asker: Asker) -> int | None:
        """The audit id, or None when the store cannot take it: the member still gets the answer."""
        try:
            return await self.bot.store.record_answer(result, asker)
        except AuditError:
            log.critical("AUDIT RECORD LOST for %r asked by %s", result.question, interaction.user.id, exc_info=True)
            return None

    @app_commands.command(name="ask", description="Ask about the story; get quotes")  # the story's words: __init__
    @app_commands.describe(question="Your question, e.g. why was the status withdrawn?")
    async def ask_command(self, interaction: discord.Interaction,
                          question: app_commands.Range[str, 1, MAX_QUESTION_CHARS]) -> None:
        await self.ask(interaction, question)

    @app_commands.command(name="help", description="What storybot does and doesn't do, and how to report an answer")
    async def help(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(embed=embeds.help_embed(self.bot.service.index.corpus.story), ephemeral=True)


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(Asking(bot))
