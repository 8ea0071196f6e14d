"""Moderators' /audit, scoped to the server it runs in (the operators' /reload is in operators.py).

A server's moderators (Manage Messages *in that server*) see and change that server's records
only: every call names `Scope.guild(interaction.guild_id)` and the store enforces it, so a
record of another server is "not found". Their hides apply to their server's answers only.
"""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from retrieval.articles import load_corpus
from retrieval.index import HiddenSpan

from bot import audit_views
from bot.discord import embeds
from bot.store import AuditEntry, AuditQuote, SpanAlreadyHidden, SpanNotHidden, UnknownAuditId, verify
from bot.audit_store import Scope
from bot.lessons import labelled_against
from bot.store.community import UnknownQuote
from bot.store.labels import VERDICT_NAMES, VERDICTS, BadLabel, UnknownLabel
from bot.discord.replies import defer_private, reply

if TYPE_CHECKING:
    from bot.discord.bot import StoryBot

log = logging.getLogger(__name__)



def is_moderator(interaction: discord.Interaction) -> bool:
    """Manage Messages where the command runs: the permissions Discord resolved for this
    member in this server's channel, never in another server."""
    return interaction.guild_id is not None and interaction.permissions.manage_messages


def _block(view, *args: object) -> discord.Embed:
    """A view of the log in an embed, every value in it rendered `for_discord`. No code block:
    a member's backticks could close it (and text inside one cannot be escaped)."""
    text = audit_views.for_discord_view(view, *args)
    if len(text) > embeds.DESCRIPTION_LIMIT:  # whole lines only: a cut line could split an escape
        text = text[: embeds.DESCRIPTION_LIMIT - 1].rsplit("\n", 1)[0] + "\n" + embeds.ELLIPSIS
    return discord.Embed(description=text)


@app_commands.default_permissions(manage_messages=True)
@app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)
@app_commands.allowed_installs(guilds=True, users=False)
class Moderation(commands.GroupCog, group_name="audit",
                 group_description="Moderators: review storybot's answers and reports in this server"):
    """Moderators' views of their server's answers. Discord hides the group from members
    without Manage Messages; every call checks again here, since a server can change that."""

    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if not is_moderator(interaction):
            await reply(interaction, "Only moderators (Manage Messages) can use /audit.")
            return False
        # Every /audit call reads the store, and hide/unhide and verify do more: acknowledge
        # before any of it, privately.
        await defer_private(interaction)
        return True

    @staticmethod
    def scope(interaction: discord.Interaction) -> Scope:
        return Scope.guild(interaction.guild_id)

    @app_commands.command(name="recent", description="The latest answers in this server")
    async def recent(self, interaction: discord.Interaction, limit: app_commands.Range[int, 1, 25] = 10) -> None:
        entries = await self.bot.store.recent(self.scope(interaction), limit)
        await reply(interaction, embed=_block(audit_views.entries_text, entries))

    async def _entry(self, interaction: discord.Interaction, id: int) -> AuditEntry | None:
        """The audited answer, or None once the moderator has been told there is none here."""
        try:
            return await self.bot.store.get(self.scope(interaction), id)
        except UnknownAuditId:
            # The same words whether it never existed or belongs to another server.
            await reply(interaction, f"There is no answer #{id} in this server's log.")
            return None

    @app_commands.command(name="show", description="One answer in full: question, quotes, scores, feedback")
    async def show(self, interaction: discord.Interaction, id: int) -> None:
        entry = await self._entry(interaction, id)
        if entry is None:
            return
        from bot.discord.labelling import Labelling  # a sibling feature; absent when it failed to load

        labelling = self.bot.feature(Labelling)
        shown = _block(audit_views.entry_with_labels_text, entry,
                       await self.bot.store.labels(self.scope(interaction), audit_id=id))
        if labelling is None:
            await reply(interaction, embed=shown)
        else:
            await reply(interaction, embed=shown, view=labelling.buttons(entry))

    @app_commands.command(name="reported", description="Answers members reported in this server, newest first")
    async def reported(self, interaction: discord.Interaction) -> None:
        entries = await self.bot.store.reported(self.scope(interaction))
        await reply(interaction, embed=_block(audit_views.reported_text, entries))

    @app_commands.command(name="stats", description="Questions, abstention rate, feedback, most asked in this server")
    async def stats(self, interaction: discord.Interaction) -> None:
        await reply(interaction, embed=_block(audit_views.stats_text, await self.bot.store.stats(self.scope(interaction))))

    @app_commands.command(name="verify", description="Re-check that an answer's quotes are still verbatim in today's corpus")
    async def verify(self, interaction: discord.Interaction, id: int) -> None:
        entry = await self._entry(interaction, id)
        if entry is None:
            return
        corpus = await asyncio.to_thread(load_corpus, self.bot.reloader.settings.corpus)
        await reply(interaction, embed=_block(audit_views.verify_text, entry, verify(entry, corpus)))

    async def _span(self, interaction: discord.Interaction, id: int, quote_number: int) -> HiddenSpan | None:
        entry = await self._entry(interaction, id)
        if entry is None:
            return None
        if not 1 <= quote_number <= len(entry.quotes):
            await reply(interaction, f"Answer #{id} has {len(entry.quotes)} quotes; there is no quote {quote_number}.")
            return None
        quote: AuditQuote = entry.quotes[quote_number - 1]
        return HiddenSpan(quote.doc_id, quote.start, quote.end)

    @app_commands.command(name="hide", description="Never quote this passage of an answer again in this server")
    @app_commands.describe(id="The answer's audit id", quote_number="Which quote of it (1-3)", reason="Why (recorded)")
    async def hide(self, interaction: discord.Interaction, id: int, quote_number: app_commands.Range[int, 1, 3],
                   reason: app_commands.Range[str, 1, 500]) -> None:
        await self._moderate(interaction, "hide", id, quote_number, reason)

    @app_commands.command(name="unhide", description="Allow a passage hidden in this server to be quoted again")
    @app_commands.describe(id="The answer's audit id", quote_number="Which quote of it (1-3)", reason="Why (recorded)")
    async def unhide(self, interaction: discord.Interaction, id: int, quote_number: app_commands.Range[int, 1, 3],
                     reason: app_commands.Range[str, 1, 500]) -> None:
        await self._moderate(interaction, "unhide", id, quote_number, reason)

    async def _moderate(self, interaction: discord.Interaction, action: str, id: int, quote_number: int,
                        reason: str) -> None:
        span = await self._span(interaction, id, quote_number)
        if span is None:
            return
        change = self.bot.store.hide if action == "hide" else self.bot.store.unhide
        try:
            await change(self.scope(interaction), span, reason=reason, answer_id=id,
                         user_id=str(interaction.user.id), user_name=str(interaction.user))
        except SpanAlreadyHidden:
            await reply(interaction, f"{_name(span)} was already hidden in this server.")
        except SpanNotHidden:
            await reply(interaction, f"{_name(span)} was not hidden in this server.")
        else:
            done = ("is now hidden and will not be quoted again" if action == "hide" else "may be quoted again")
            await reply(interaction, f"{_name(span)} {done} in this server.")


    @app_commands.command(name="label", description="Teach this server's answers: a quote was right or wrong, "
                                                    "or the articles don't answer it")
    @app_commands.describe(id="The answer's audit id", verdict="Right passage, wrong passage, or not in the articles",
                           quote_number="Which quote (right / wrong)", note="Why (recorded, shown to moderators)")
    @app_commands.choices(verdict=[app_commands.Choice(name=VERDICT_NAMES[v], value=v) for v in VERDICTS])
    async def label(self, interaction: discord.Interaction, id: int, verdict: str,
                    quote_number: app_commands.Range[int, 1, 3] | None = None,
                    note: app_commands.Range[str, 1, 500] | None = None) -> None:
        await label_answer(self.bot, interaction, id, verdict, quote_number, note)

    @app_commands.command(name="labels", description="This server's labels on answers, newest last")
    async def labels(self, interaction: discord.Interaction) -> None:
        found = await self.bot.store.labels(self.scope(interaction))
        await reply(interaction, embed=_block(audit_views.labels_text, found[-20:]))

    @app_commands.command(name="unlabel", description="Remove a label given in this server (undo a mistake)")
    @app_commands.describe(label_id="The label's id (/audit labels)")
    async def unlabel(self, interaction: discord.Interaction, label_id: int) -> None:
        try:
            gone = await self.bot.store.unlabel(self.scope(interaction), label_id)
        except UnknownLabel:
            await reply(interaction, f"There is no label {label_id} in this server.")
        else:
            await reply(interaction, embed=_block(lambda x: "Removed " + audit_views.label_line(x), gone))


async def label_answer(bot: StoryBot, interaction: discord.Interaction, id: int, verdict: str, quote_number: int | None,
                       note: str | None) -> None:
    """A moderator's label on one answer of their server (the /audit command and the buttons
    share it); the interaction is acknowledged already. Bad input changes nothing and says why."""
    try:
        label = await bot.store.label(Scope.guild(interaction.guild_id), id, verdict, quote_rank=quote_number, note=note,
                                      against=labelled_against(bot.service.index.corpus),
                                      user_id=str(interaction.user.id), user_name=str(interaction.user))
    except UnknownAuditId:
        await reply(interaction, f"There is no answer #{id} in this server's log.")
    except UnknownQuote as exc:
        await reply(interaction, f"Nothing was labelled: {exc}.")
    except BadLabel as exc:
        await reply(interaction, f"Nothing was labelled: {exc}.")
    else:
        await reply(interaction, embed=_block(
            lambda x: "Labelled " + audit_views.label_line(x) + "\nThis server's answers to questions much like it "
                      "follow it from now on.", label))


def _name(span: HiddenSpan) -> str:
    return f"{span.doc_id}[{span.start}:{span.end}]"


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(Moderation(bot))
