"""The Discord bot: /ask, /sources, /help, the moderators' /audit, and feedback buttons."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from typing import AsyncIterator

import discord
import yarl
from discord import app_commands

from retrieval.answer import Answer, MAX_QUESTION_CHARS, normalise_question
from retrieval.articles import load_corpus
from retrieval.errors import BadQuestion, StorybotError

from retrieval.hiding import HiddenEntry, hide, unhide
from retrieval.index import HiddenSpan

from bot import audit_views, embeds, engine
from bot.audit_store import Asker, AuditStore, Scope
from bot.store import AuditError, UnknownAuditId, open_store, verify
from bot.live import Reloader
from bot.service import AnswerService
from bot.settings import Settings

log = logging.getLogger(__name__)

ERROR_MESSAGE = "Sorry, something went wrong on my side. The admins have the details; please try again later."
SHUTTING_DOWN = "storybot is restarting; please ask again in a minute."


class BotStartFailed(StorybotError):
    """The bot could not connect or log in; the message says what to fix."""


def use_endpoints(api_base_url: str | None, gateway_url: str | None) -> None:
    """Point discord.py at another REST base and gateway (a proxy, or the tests' fake).

    Every REST URL, webhooks and interaction callbacks included, is built from Route.BASE
    when the request is made; a plain Client dials DEFAULT_GATEWAY first and after a session
    that cannot resume. Resumes follow READY's resume_gateway_url, which that server sends.
    """
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    if api_base_url:
        Route.BASE = api_base_url.rstrip("/")
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


class Cooldown:
    """Per-user pause between questions, so one member cannot flood the channel."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._last: dict[int, float] = {}

    def remaining(self, user_id: int) -> float:
        return max(0.0, self._last.get(user_id, -1e9) + self.seconds - time.monotonic())

    def start(self, user_id: int) -> None:
        self._last[user_id] = time.monotonic()


class FeedbackButton(discord.ui.DynamicItem[discord.ui.Button], template=r"storybot:(?P<kind>helpful|not_helpful|report):(?P<audit_id>[0-9]+)"):
    """Helpful / Not helpful / Report under an answer. The audit id lives in the custom id,
    so buttons keep working after a restart."""

    LABELS = {"helpful": ("Helpful", discord.ButtonStyle.success), "not_helpful": ("Not helpful", discord.ButtonStyle.secondary), "report": ("Report", discord.ButtonStyle.danger)}

    def __init__(self, kind: str, audit_id: int) -> None:
        label, style = self.LABELS[kind]
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=f"storybot:{kind}:{audit_id}"))
        self.kind = kind
        self.audit_id = audit_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match) -> "FeedbackButton":
        return cls(match["kind"], int(match["audit_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: StoryBot = interaction.client  # type: ignore[assignment]
        if self.kind == "report":
            await interaction.response.send_modal(ReportModal(self.audit_id))
            return
        try:
            await bot.record_feedback(interaction, self.audit_id, self.kind)
        except Exception:  # noqa: BLE001 - the member gets a reply, the admin the traceback
            log.exception("recording %s feedback on answer %s failed", self.kind, self.audit_id)
            await interaction.response.send_message(ERROR_MESSAGE, ephemeral=True)
            return
        await interaction.response.send_message("Thanks, your feedback is recorded.", ephemeral=True)


def feedback_view(audit_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for kind in FeedbackButton.LABELS:
        view.add_item(FeedbackButton(kind, audit_id))
    return view


class ReportModal(discord.ui.Modal, title="Report this answer"):
    reason = discord.ui.TextInput(
        label="What is wrong with it? (optional)",
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=1000,
    )

    def __init__(self, audit_id: int) -> None:
        super().__init__(custom_id=f"storybot:report-modal:{audit_id}")
        self.audit_id = audit_id

    async def on_submit(self, interaction: discord.Interaction) -> None:
        bot: StoryBot = interaction.client  # type: ignore[assignment]
        await bot.record_feedback(interaction, self.audit_id, "report", self.reason.value or None)
        await interaction.response.send_message("Reported to the moderators. Thank you.", ephemeral=True)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        log.error("recording a report on answer %s failed", self.audit_id, exc_info=error)
        await _reply(interaction, ERROR_MESSAGE)


async def _reply(interaction: discord.Interaction, content: str | None = None, **kwargs) -> None:
    """An ephemeral reply whether or not the interaction was already acknowledged."""
    if interaction.response.is_done():
        await interaction.followup.send(content, ephemeral=True, **kwargs)
    else:
        await interaction.response.send_message(content, ephemeral=True, **kwargs)


# ---- member commands -------------------------------------------------------------------


@app_commands.command(name="ask", description="Ask about Amnesty and Navalny's 'prisoner of conscience' status; get quotes")
@app_commands.describe(question="Your question, e.g. why was the status withdrawn?")
async def ask_command(interaction: discord.Interaction, question: app_commands.Range[str, 1, MAX_QUESTION_CHARS]) -> None:
    bot: StoryBot = interaction.client  # type: ignore[assignment]
    if bot.draining:
        await _reply(interaction, SHUTTING_DOWN)
        return
    wait = bot.cooldown.remaining(interaction.user.id)
    if wait > 0:
        await _reply(interaction, f"Easy there: you can ask again in {wait:.0f} s.")
        return
    try:
        normalise_question(question)
    except BadQuestion as exc:
        await _reply(interaction, f"I can't ask that: {exc}.")
        return
    bot.cooldown.start(interaction.user.id)
    await interaction.response.defer(thinking=True)
    async with bot.in_flight():
        result = await bot.service.ask(question)
        audit_id = await bot.record_answer(interaction, result)
        view = feedback_view(audit_id) if audit_id is not None else discord.utils.MISSING
        await interaction.followup.send(embed=embeds.answer_embed(result), view=view)


@app_commands.command(name="sources", description="The articles storybot quotes from, by date")
async def sources_command(interaction: discord.Interaction) -> None:
    bot: StoryBot = interaction.client  # type: ignore[assignment]
    await interaction.response.send_message(embed=embeds.sources_embed(bot.service.index.corpus))


@app_commands.command(name="help", description="What storybot does and doesn't do, and how to report an answer")
async def help_command(interaction: discord.Interaction) -> None:
    await interaction.response.send_message(embed=embeds.help_embed(), ephemeral=True)


@app_commands.command(name="timeline", description="The story's articles by date, each with its first sentence")
async def timeline_command(interaction: discord.Interaction) -> None:
    bot: StoryBot = interaction.client  # type: ignore[assignment]
    await interaction.response.send_message(embed=embeds.timeline_embed(bot.service.index.corpus))


# ---- moderators ------------------------------------------------------------------------


def _text(value: int | None) -> str | None:
    return None if value is None else str(value)


def _scope(interaction: discord.Interaction) -> Scope:
    """The records this interaction may see: its server's, or the DMs' for a DM answer's buttons."""
    return Scope.guild(interaction.guild_id) if interaction.guild_id is not None else Scope.direct_messages()


def _is_moderator(interaction: discord.Interaction) -> bool:
    return interaction.guild_id is not None and interaction.permissions.manage_messages


@app_commands.command(name="reload", description="Moderators: re-read the articles now and say what changed")
@app_commands.default_permissions(manage_messages=True)
@app_commands.guild_only()
async def reload_command(interaction: discord.Interaction) -> None:
    bot: StoryBot = interaction.client  # type: ignore[assignment]
    if not _is_moderator(interaction):
        await _reply(interaction, "Only moderators (Manage Messages) can use /reload.")
        return
    await interaction.response.defer(ephemeral=True, thinking=True)
    try:
        report = await bot.reloader.reload()
    except StorybotError as exc:
        await _reply(interaction, f"The corpus could not be loaded, so answers still come from the old one: {exc}")
        return
    await _reply(interaction, report.text())


class AuditGroup(app_commands.Group):
    """Moderators' views of every answer. Discord hides the group from members without
    Manage Messages, and every call checks again here: a server can change that default."""

    def __init__(self) -> None:
        super().__init__(
            name="audit",
            description="Moderators: review storybot's answers and reports",
            default_permissions=discord.Permissions(manage_messages=True),
            guild_only=True,
        )

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if not _is_moderator(interaction):
            await _reply(interaction, "Only moderators (Manage Messages) can use /audit.")
            return False
        return True

    @staticmethod
    async def _show(interaction: discord.Interaction, text: str) -> None:
        body = embeds.shorten(discord.utils.escape_markdown(text), embeds.DESCRIPTION_LIMIT - 8)
        await _reply(interaction, embed=discord.Embed(description=f"```\n{body}\n```"[: embeds.DESCRIPTION_LIMIT]))

    @app_commands.command(name="recent", description="The latest answers")
    async def recent(self, interaction: discord.Interaction, limit: app_commands.Range[int, 1, 25] = 10) -> None:
        bot: StoryBot = interaction.client  # type: ignore[assignment]
        await self._show(interaction, audit_views.entries_text(await bot.audit.recent(_scope(interaction), limit)))

    @staticmethod
    async def _entry(interaction: discord.Interaction, id: int):
        """The audited answer, or None once the moderator has been told there is none."""
        bot: StoryBot = interaction.client  # type: ignore[assignment]
        try:
            return await bot.audit.get(_scope(interaction), id)
        except UnknownAuditId as exc:
            await _reply(interaction, str(exc))
            return None

    @app_commands.command(name="show", description="One answer in full: question, quotes, scores, feedback")
    async def show(self, interaction: discord.Interaction, id: int) -> None:
        entry = await self._entry(interaction, id)
        if entry is not None:
            await self._show(interaction, audit_views.entry_text(entry))

    @app_commands.command(name="reported", description="Answers members reported, newest first")
    async def reported(self, interaction: discord.Interaction) -> None:
        bot: StoryBot = interaction.client  # type: ignore[assignment]
        await self._show(interaction, audit_views.reported_text(await bot.audit.reported(_scope(interaction))))

    @app_commands.command(name="stats", description="Questions, abstention rate, feedback, most asked")
    async def stats(self, interaction: discord.Interaction) -> None:
        bot: StoryBot = interaction.client  # type: ignore[assignment]
        await self._show(interaction, audit_views.stats_text(await bot.audit.stats(_scope(interaction))))

    @app_commands.command(name="verify", description="Re-check that an answer's quotes are still verbatim in today's corpus")
    async def verify(self, interaction: discord.Interaction, id: int) -> None:
        bot: StoryBot = interaction.client  # type: ignore[assignment]
        entry = await self._entry(interaction, id)
        if entry is None:
            return
        corpus = await asyncio.to_thread(load_corpus, bot.settings_corpus)
        await self._show(interaction, audit_views.verify_text(entry, verify(entry, corpus)))

    async def _quote_of(self, interaction: discord.Interaction, id: int, quote_number: int):
        entry = await self._entry(interaction, id)
        if entry is None:
            return None
        if not 1 <= quote_number <= len(entry.quotes):
            await _reply(interaction, f"Answer #{id} has {len(entry.quotes)} quotes; there is no quote {quote_number}.")
            return None
        return entry.quotes[quote_number - 1]

    @app_commands.command(name="hide", description="Never quote this passage of an answer again")
    @app_commands.describe(id="The answer's audit id", quote_number="Which quote of it (1-3)", reason="Why (recorded)")
    async def hide(self, interaction: discord.Interaction, id: int, quote_number: app_commands.Range[int, 1, 3], reason: app_commands.Range[str, 1, 500]) -> None:
        bot: StoryBot = interaction.client  # type: ignore[assignment]
        quote = await self._quote_of(interaction, id, quote_number)
        if quote is None:
            return
        entry = HiddenEntry(quote.doc_id, quote.start, quote.end, reason, by=str(interaction.user), at=discord.utils.utcnow().isoformat())
        try:
            # The hidden list and its audit record change together (as on the command line).
            added = await bot.audit.moderate_globally(
                "hide", entry.span, reason=reason, apply=lambda: hide(bot.settings_corpus, bot.service.index.corpus, entry),
                user_id=interaction.user.id, user_name=str(interaction.user))
        except StorybotError as exc:
            await _reply(interaction, f"Cannot hide that passage: {exc}")
            return
        if added is not None:
            await bot.reloader.reload()
        state = "is now hidden" if added is not None else "was already hidden"
        await _reply(interaction, f"{quote.doc_id}[{quote.start}:{quote.end}] {state} and will not be quoted again.")

    @app_commands.command(name="unhide", description="Allow a hidden passage of an answer to be quoted again")
    @app_commands.describe(id="The answer's audit id", quote_number="Which quote of it (1-3)", reason="Why (recorded)")
    async def unhide(self, interaction: discord.Interaction, id: int, quote_number: app_commands.Range[int, 1, 3], reason: app_commands.Range[str, 1, 500]) -> None:
        bot: StoryBot = interaction.client  # type: ignore[assignment]
        quote = await self._quote_of(interaction, id, quote_number)
        if quote is None:
            return
        removed = await bot.audit.moderate_globally(
            "unhide", HiddenSpan(quote.doc_id, quote.start, quote.end), reason=reason,
            apply=lambda: unhide(bot.settings_corpus, quote.doc_id, quote.start, quote.end) is not None,
            user_id=interaction.user.id, user_name=str(interaction.user))
        if removed is None:
            await _reply(interaction, f"{quote.doc_id}[{quote.start}:{quote.end}] was not hidden.")
            return
        await bot.reloader.reload()
        await _reply(interaction, f"{quote.doc_id}[{quote.start}:{quote.end}] may be quoted again.")


# ---- the client ------------------------------------------------------------------------


class StoryBot(discord.Client):
    def __init__(
        self,
        *,
        service: AnswerService,
        audit: AuditStore,
        reloader: Reloader,
        guild_ids: tuple[int, ...] = (),
        cooldown_seconds: float = 10.0,
    ) -> None:
        super().__init__(
            intents=discord.Intents(guilds=True),
            # Nothing the bot sends may ping anyone: not a question's @everyone, not an
            # article's @amnesty. Set once here so no reply can forget it.
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.service = service
        self.audit = audit
        self.guild_ids = guild_ids
        self.cooldown = Cooldown(cooldown_seconds)
        self.reloader = reloader
        self.tree = app_commands.CommandTree(self)
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]
        self.draining = False
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def setup_hook(self) -> None:
        for command in (ask_command, sources_command, help_command, timeline_command, reload_command, AuditGroup()):
            self.tree.add_command(command)
        self.add_dynamic_items(FeedbackButton)
        if self.guild_ids:
            for guild_id in self.guild_ids:
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
            log.info("commands synced to guilds %s", ", ".join(map(str, self.guild_ids)))
        else:
            await self.tree.sync()
            log.info("commands synced globally (they can take up to an hour to appear)")

    @contextlib.asynccontextmanager
    async def in_flight(self) -> AsyncIterator[None]:
        self._busy += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._busy -= 1
            if not self._busy:
                self._idle.set()

    async def drain(self, timeout: float = 15.0) -> None:
        """Refuse new questions and let the ones being answered finish."""
        self.draining = True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except asyncio.TimeoutError:
            log.warning("stopping with %d answers unfinished after %.0f s", self._busy, timeout)

    @property
    def settings_corpus(self):
        return self.reloader.settings.corpus

    async def record_answer(self, interaction: discord.Interaction, result: Answer) -> int | None:
        """The audit id, or None when the log cannot take it: the member still gets the answer."""
        try:
            return await self.audit.record_answer(
                result,
                Asker(
                    guild_id=_text(interaction.guild_id),
                    channel_id=_text(interaction.channel_id),
                    user_id=str(interaction.user.id),
                    user_name=str(interaction.user),
                    source="slash",
                ),
            )
        except AuditError:
            log.critical("AUDIT RECORD LOST for %r asked by %s", result.question, interaction.user.id, exc_info=True)
            return None

    async def record_feedback(self, interaction: discord.Interaction, audit_id: int, kind: str, reason: str | None = None) -> None:
        if kind == "report":
            await self.audit.record_report(_scope(interaction), audit_id, user_id=str(interaction.user.id),
                                           user_name=str(interaction.user), reason=reason)
        else:
            await self.audit.record_vote(_scope(interaction), audit_id, kind=kind, user_id=str(interaction.user.id),
                                         user_name=str(interaction.user))

    async def on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        if isinstance(error, app_commands.CheckFailure):
            if not interaction.response.is_done():
                await _reply(interaction, "You can't use that command here.")
            return
        command = interaction.command.qualified_name if interaction.command else "?"
        log.error("/%s failed for user %s", command, interaction.user.id, exc_info=error)
        try:
            await _reply(interaction, ERROR_MESSAGE)
        except discord.HTTPException:
            log.exception("could not tell the member that /%s failed", command)


async def serve(settings: Settings, *, stop: asyncio.Event | None = None) -> int:
    """Run the bot until `stop` is set (SIGTERM, Ctrl-C); then finish answers, close the log."""
    use_endpoints(settings.api_base_url, settings.gateway_url)
    audit = await open_store(settings.db)
    service = None
    background: list[asyncio.Task] = []
    try:
        # BM25 is ready in a fraction of a second; the model takes seconds to load. Answer
        # from BM25 at once (answers say mode "bm25") and switch to hybrid when it is ready.
        service = AnswerService(await asyncio.to_thread(engine.build, settings, None))
        reloader = Reloader(settings, service)
        background += [
            asyncio.create_task(reloader.load_model(), name="load-model"),
            asyncio.create_task(reloader.watch(), name="watch-corpus"),
        ]
        bot = StoryBot(
            service=service,
            audit=audit,
            reloader=reloader,
            guild_ids=settings.guild_ids,
            cooldown_seconds=settings.cooldown_seconds,
        )
        stop = stop or asyncio.Event()
        runner = asyncio.create_task(bot.start(settings.discord_token or ""), name="discord")
        stopper = asyncio.create_task(stop.wait(), name="stop")
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        try:
            if runner in done:
                runner.result()
        except discord.LoginFailure:
            raise BotStartFailed("Discord refused DISCORD_TOKEN: check the token in .env (see .env.example)") from None
        except (discord.HTTPException, discord.GatewayNotFound, OSError) as exc:
            raise BotStartFailed(f"could not reach Discord: {exc}") from None
        finally:
            stopper.cancel()
            log.info("stopping: finishing answers in flight")
            await bot.drain()
            await bot.close()
            if not runner.done():
                runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
        return 0
    finally:
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        if service is not None:
            await service.close()
        await audit.close()


def run_bot(settings: Settings) -> int:
    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):  # Windows has no add_signal_handler
                loop.add_signal_handler(sig, stop.set)
        return await serve(settings, stop=stop)

    return asyncio.run(main())
