"""After /forget-me, the bot's own posts that showed the member's words are edited: a public
answer's title (their question), a mod-log report (the question, the reason, the reporter's name).

The store keeps the ids of the posts it made (bot/store/posts.py) and hands back the ones about
the member; the text itself is only in Discord, so each post is read back and edited in place.
Discord's own copies (its logs, notifications, what members quoted or saw) are out of reach.
"""
from __future__ import annotations

import logging

import discord

from bot.store.posts import PostToEdit

log = logging.getLogger(__name__)

REMOVED_QUESTION = "(question removed at the member's request)"
REMOVED_REASON = "(removed at the member's request)"
FORGOTTEN_REPORTER = "a member who asked to be forgotten"


def answer_without_question(embed: discord.Embed) -> discord.Embed:
    edited = embed.copy()
    edited.title = "Q: " + REMOVED_QUESTION
    return edited


def report_without(embed: discord.Embed, *, question: bool, report: bool) -> discord.Embed:
    """The mod-log report with the member's question and/or their reason and name taken out."""
    edited = embed.copy()
    if question:
        edited.description = "**Question:** " + REMOVED_QUESTION
    if report:
        for index, field in enumerate(edited.fields):
            if field.name == "Reason given":
                edited.set_field_at(index, name=field.name, value=REMOVED_REASON, inline=field.inline)
        footer = edited.footer.text or ""
        rest = footer.split(" · ", 1)[1] if " · " in footer else ""
        edited.set_footer(text=f"Reported by {FORGOTTEN_REPORTER}" + (f" · {rest}" if rest else ""))
    return edited


async def edit_posts(client: discord.Client, posts: tuple[PostToEdit, ...]) -> int:
    """Edit each post; the number edited. A post deleted meanwhile, or a channel the bot lost, is
    logged and skipped: nothing of the member is left there to edit, or nothing the bot can reach."""
    edited = 0
    for item in posts:
        post = item.post
        try:
            channel = client.get_partial_messageable(int(post.channel_id), guild_id=int(post.guild_id))
            message = await channel.fetch_message(int(post.message_id))
            if not message.embeds:
                continue
            embed = message.embeds[0]
            if post.kind == "answer":
                embed = answer_without_question(embed) if item.question else embed
            else:
                embed = report_without(embed, question=item.question, report=item.report)
            await message.edit(embed=embed)
            edited += 1
        except discord.NotFound:
            log.info("post %s about answer %s was already deleted", post.message_id, post.answer_id)
        except discord.HTTPException as exc:
            log.warning("post %s about answer %s in channel %s could not be edited after a forget (%s): "
                        "it still shows what the member asked to remove", post.message_id, post.answer_id,
                        post.channel_id, exc)
    return edited
