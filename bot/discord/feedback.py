"""Helpful / Not helpful / Report under every answer, and the Report form.

The audit id lives in each button's custom id, so buttons keep working after a restart. A
vote counts once per member and answer (the last press stands); reports are limited per
member by the store. Each Report press opens its own form (a custom id per interaction):
discord.py keeps one form per custom id, so a shared one would drop all but one of two
members reporting the same answer at once.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.store import ReportLimitReached, UnknownAuditId
from bot.audit_store import Scope
from bot.discord.buttons import ButtonCog, persistent_button
from bot.discord.modlog import ModLog
from bot.discord.replies import defer_private, report_failure, reply

if TYPE_CHECKING:
    from bot.discord.bot import StoryBot

log = logging.getLogger(__name__)

LABELS = {
    "helpful": ("Helpful", discord.ButtonStyle.success),
    "not_helpful": ("Not helpful", discord.ButtonStyle.secondary),
    "report": ("Report", discord.ButtonStyle.danger),
}
# A member writing why an answer is wrong gets ten minutes; the interaction's token lasts 15.
REPORT_FORM_SECONDS = 600.0


class Feedback(ButtonCog):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot
        self.button = persistent_button(
            "storybot:{kind}:{audit_id}", {"kind": "|".join(LABELS), "audit_id": int},
            look=lambda kind, audit_id: LABELS[kind], press=self.pressed,
            doing=lambda kind, audit_id: f"{kind} on answer {audit_id}")

    def view(self, audit_id: int) -> discord.ui.View:
        view = discord.ui.View(timeout=None)
        for kind in LABELS:
            view.add_item(self.button(kind, audit_id))
        return view

    async def pressed(self, interaction: discord.Interaction, kind: str, audit_id: int) -> None:
        if kind == "report":
            await self.open_report(interaction, audit_id)
        else:
            await self.vote(interaction, audit_id, kind)

    async def vote(self, interaction: discord.Interaction, audit_id: int, kind: str) -> None:
        await defer_private(interaction)
        try:
            await self.bot.store.record_vote(Scope.of_place(interaction.guild_id), audit_id, kind=kind,
                                             user_id=str(interaction.user.id), user_name=str(interaction.user))
        except UnknownAuditId:
            await reply(interaction, "That answer is no longer in the log.")
            return
        await reply(interaction, "Thanks, your feedback is recorded (one vote per answer; your last press counts).")

    async def open_report(self, interaction: discord.Interaction, audit_id: int) -> None:
        await interaction.response.send_modal(ReportForm(self, audit_id, interaction.id))

    async def report(self, interaction: discord.Interaction, audit_id: int, reason: str | None) -> None:
        await defer_private(interaction)
        try:
            report_id = await self.bot.store.record_report(Scope.of_place(interaction.guild_id), audit_id,
                                                           user_id=str(interaction.user.id),
                                                           user_name=str(interaction.user), reason=reason)
        except UnknownAuditId:
            await reply(interaction, "That answer is no longer in the log.")
            return
        except ReportLimitReached as exc:
            await reply(interaction, f"Not recorded: you have already sent {exc.limit} reports in the last "
                                     f"{exc.hours} hours. The moderators have them; thank you.")
            return
        await reply(interaction, "Reported to the moderators. Thank you.")
        modlog = self.bot.feature(ModLog)  # posts it in the server's mod-log channel
        if modlog is not None:
            try:
                await modlog.report_filed(interaction, audit_id, report_id, reason)
            except Exception:  # noqa: BLE001 - the report is recorded; /audit reported still shows it
                log.exception("report %s on answer %s was recorded but not posted to the moderators", report_id, audit_id)


class ReportForm(discord.ui.Modal, title="Report this answer"):
    reason = discord.ui.TextInput(
        label="What is wrong with it? (optional)",
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=1000,
    )

    def __init__(self, feedback: Feedback, audit_id: int, interaction_id: int) -> None:
        super().__init__(custom_id=f"storybot:report-form:{audit_id}:{interaction_id}", timeout=REPORT_FORM_SECONDS)
        self.feedback = feedback
        self.audit_id = audit_id

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.feedback.report(interaction, self.audit_id, self.reason.value or None)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await report_failure(interaction, f"recording a report on answer {self.audit_id}", error)


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(Feedback(bot))
