"""One factory for the bot's persistent buttons: buttons that keep working after a restart,
because everything they need is in their custom id (discord.py's DynamicItem).

    Vote = persistent_button("storybot:{kind}:{audit_id}", {"kind": "helpful|not_helpful", "audit_id": int},
                             look=lambda kind, audit_id: ("Helpful", discord.ButtonStyle.success),
                             press=feedback.vote, doing=lambda kind, audit_id: f"{kind} on answer {audit_id}")
    view.add_item(Vote("helpful", 12))
    bot.add_dynamic_items(Vote)   # then a press of any such button, before or after a restart, calls press()
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import discord
from discord.ext import commands

from bot.discord.replies import report_failure

Look = Callable[..., "tuple[str, discord.ButtonStyle]"]


def persistent_button(custom_id: str, fields: Mapping[str, "str | type[int]"], *, look: Look,
                      press: Callable[..., Awaitable[None]],
                      doing: Callable[..., str] | None = None) -> type[discord.ui.DynamicItem[discord.ui.Button]]:
    """A button class whose values (`fields`, in order: a regex of the allowed text, or `int`) are
    written into `custom_id`'s `{name}` fields. `look(*values)` gives its label and style; a press
    calls `press(interaction, *values)`. With `doing(*values)`, a failure of `press` is reported to
    whoever pressed (and logged with what was being done) instead of reaching discord.py."""
    names = tuple(fields)
    template = custom_id.format(**{name: f"(?P<{name}>{'[0-9]+' if kind is int else kind})"
                                   for name, kind in fields.items()})

    class PersistentButton(discord.ui.DynamicItem[discord.ui.Button], template=template):
        def __init__(self, *values: Any, disabled: bool = False) -> None:
            label, style = look(*values)
            super().__init__(discord.ui.Button(label=label, style=style, disabled=disabled,
                                               custom_id=custom_id.format(**dict(zip(names, values)))))
            self.values = values

        @classmethod
        async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                                 match: Any) -> "PersistentButton":
            return cls(*(int(match[name]) if fields[name] is int else match[name] for name in names))

        async def callback(self, interaction: discord.Interaction) -> None:
            if doing is None:
                await press(interaction, *self.values)
                return
            try:
                await press(interaction, *self.values)
            except Exception as exc:  # noqa: BLE001 - whoever pressed gets a reply, the admin the traceback
                await report_failure(interaction, doing(*self.values), exc)

    return PersistentButton


class ButtonCog(commands.Cog):
    """A cog whose persistent button (`self.button`, made by `persistent_button`) answers presses
    while the cog is loaded."""

    bot: commands.Bot
    button: type[discord.ui.DynamicItem[discord.ui.Button]]

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(self.button)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(self.button)
