"""Answering an interaction: in time, privately where the reply is private, and never an error
in public.

Discord drops an interaction not acknowledged within 3 seconds (10062 Unknown interaction), so
a handler that may take time defers first and does its work after. After a *public* defer
("storybot is thinking..."), the first follow-up replaces that public placeholder whatever
its ephemeral flag says; an error is therefore sent only once the placeholder is deleted.
"""
from __future__ import annotations

import logging

import discord

log = logging.getLogger(__name__)

ERROR_MESSAGE = "Sorry, something went wrong on my side. The admins have the details; please try again later."
SHUTTING_DOWN = "storybot is restarting; please ask again in a minute."
LOG_UNAVAILABLE = ("storybot's log is unavailable right now, so nothing was recorded or changed; "
                   "try again in a minute.")

_PUBLIC_DEFER = "storybot.public_defer"


async def defer_public(interaction: discord.Interaction) -> None:
    """Acknowledge with a public "thinking..." that the answer will replace."""
    await interaction.response.defer(thinking=True)
    interaction.extras[_PUBLIC_DEFER] = True


async def defer_private(interaction: discord.Interaction) -> None:
    """Acknowledge with an ephemeral "thinking..." that only the member sees."""
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)


async def reply(interaction: discord.Interaction, content: str | None = None, **kwargs) -> None:
    """An ephemeral reply whether or not the interaction was already acknowledged.

    After a public defer the placeholder is deleted first, so the reply is private."""
    if not interaction.response.is_done():
        await interaction.response.send_message(content, ephemeral=True, **kwargs)
        return
    if interaction.extras.pop(_PUBLIC_DEFER, False):
        try:
            await interaction.delete_original_response()
        except discord.HTTPException:
            log.warning("could not delete the public placeholder of interaction %s", interaction.id, exc_info=True)
    await interaction.followup.send(content, ephemeral=True, **kwargs)


def failure_message(error: BaseException) -> str:
    """What a member is told when their command failed: that the log is unavailable (votes, reports,
    /mydata, /forget-me, /settings, /audit while the store is down or locked), else that it failed."""
    from bot.store import AuditError

    original = getattr(error, "original", None)  # app commands wrap the error the command raised
    return LOG_UNAVAILABLE if isinstance(error, AuditError) or isinstance(original, AuditError) else ERROR_MESSAGE


async def report_failure(interaction: discord.Interaction, what: str, error: BaseException) -> None:
    """The traceback to the log (a warning when only the log was unavailable), a short private
    message to the member."""
    message = failure_message(error)
    if message is LOG_UNAVAILABLE:
        log.warning("%s for user %s: the audit log is unavailable (%s)", what, interaction.user.id,
                    getattr(error, "original", None) or error)
    else:
        log.error("%s failed for user %s", what, interaction.user.id, exc_info=error)
    try:
        await reply(interaction, message)
    except discord.HTTPException:
        log.exception("could not tell the member that %s failed", what)
