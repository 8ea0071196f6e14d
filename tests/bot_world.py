"""The real discord.py client, running StoryBot, against the loopback fake of Discord, on either
real store backend (a SQLite file, or a database on the suite's PostgreSQL server): what the
tests of members' data, moderators' views and outages drive."""
from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.discord.bot import BotConfig
from bot.discord.run import StoryBot, use_endpoints
from bot.live import Reloader
from bot.service import AnswerService
from bot.settings import from_env
from bot.store import open_store
from conftest import CORPUS
from fake_discord import BASIC_PERMISSIONS, GUILD_ID, MANAGE_MESSAGES, FakeDiscord, text_input_ids

GUILD_A, GUILD_B = GUILD_ID, 2100000000000000021
MANAGE_GUILD = 1 << 5
ADMIN = BASIC_PERMISSIONS | MANAGE_GUILD | MANAGE_MESSAGES
MODERATOR = BASIC_PERMISSIONS | MANAGE_MESSAGES
MODLOG = 3000000000000000032


@dataclass
class World:
    fake: FakeDiscord
    bot: StoryBot
    store: object
    location: str  # STORYBOT_DB: a SQLite file's path or a postgresql:// URL

    # -- what a member or a moderator does ----------------------------------------------------

    async def final(self, sent, timeout: float = 30):
        ack = await self.fake.wait_for_response(sent.id, "callback", timeout=10)
        assert ack.latency < 3.0, ack
        final = await self.fake.wait_for_response(sent.id, "final", timeout=timeout)
        return final.json.get("data", final.json), self.fake.messages.get(sent.original or "", {})

    async def ask(self, question: str, **who):
        """(what the bot sent, the message as the channel shows it)."""
        return await self.final(await self.fake.slash("ask", {"question": question}, **who))

    async def command(self, path: str, options=None, **who) -> str:
        """The text of a command's reply (its content, else its embed's description)."""
        body, _ = await self.final(await self.fake.slash(path, options or {}, **who))
        return body.get("content") or body["embeds"][0]["description"]

    async def set_modlog(self, **who) -> None:
        await self.final(await self.fake.slash("settings modlog", [{"name": "channel", "type": 7, "value": str(MODLOG)}],
                                               permissions=ADMIN, data_extra=self.fake.resolved_channels(MODLOG),
                                               **who))

    async def report(self, answer_message: dict, audit_id: int, reason: str, **who) -> dict:
        pressed = await self.fake.press_button(f"storybot:report:{audit_id}", message=answer_message, **who)
        form = (await self.fake.wait_for_response(pressed.id)).json["data"]
        submitted = await self.fake.submit_modal(form["custom_id"], {text_input_ids(form)[0]: reason}, **who)
        final = await self.fake.wait_for_response(submitted.id, "final", timeout=20)
        return final.json.get("data", final.json)

    async def vote(self, audit_id: int, **who) -> str:
        pressed = await self.fake.press_button(f"storybot:helpful:{audit_id}", **who)
        final = await self.fake.wait_for_response(pressed.id, "final", timeout=20)
        return final.json.get("data", final.json)["content"]

    async def forget_me(self, **who) -> str:
        sent = await self.fake.slash("forget-me", **who)
        prompt = (await self.fake.wait_for_response(sent.id)).json["data"]
        [button] = [c["custom_id"] for row in prompt["components"] for c in row["components"]]
        pressed = await self.fake.press_button(button, message=self.fake.messages[sent.original], **who)
        edited = await self.fake.wait_for_response(pressed.id, "edit_original", timeout=60)
        return edited.json["content"]

    def modlog_posts(self) -> list[dict]:
        return [m for m in self.fake.messages.values() if m.get("channel_id") == str(MODLOG)]


@contextlib.asynccontextmanager
async def bot_world(index, tmp_path: Path, location: str, *, cooldown_seconds: float = 0):
    saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    shutil.copytree(CORPUS, tmp_path / "corpus", ignore=shutil.ignore_patterns(".cache"))
    settings = from_env({"STORYBOT_CACHE": str(tmp_path / "cache")}, tmp_path)
    async with FakeDiscord(heartbeat_interval_ms=500, guild_ids=(GUILD_A, GUILD_B), ack_deadline=3.0) as fake:
        fake.add_text_channel(GUILD_A, MODLOG, "mod-log")
        use_endpoints(fake.api_base, fake.gateway_url)
        store = await open_store(location)
        service = AnswerService(index)
        bot = StoryBot(service=service, store=store, reloader=Reloader(settings, service),
                       config=BotConfig(guild_ids=(GUILD_A, GUILD_B), cooldown_seconds=cooldown_seconds))
        task = asyncio.create_task(bot.start(fake.token))
        ready = asyncio.create_task(bot.wait_until_ready())
        await asyncio.wait({task, ready}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            ready.cancel()
            task.result()
        try:
            yield World(fake, bot, store, location)
        finally:
            await bot.close()
            await asyncio.wait_for(task, 5)
            await store.close()
            await service.close()
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


# -- what "inert" means on Discord ------------------------------------------------------------------

_UNESCAPED = r"(?<!\\)(?:\\\\)*"


def inert_problems(text: str) -> list[str]:
    """Why `text`, as Discord renders markdown, is not inert: a link it would make, a code fence
    member text could close, a masked link, a mention, a bidirectional override."""
    problems = []
    if re.search(r"https?://", text):
        problems.append("a URL Discord would link")
    if re.search(_UNESCAPED + r"`", text):
        problems.append("an unescaped backtick (a code span or fence)")
    if re.search(_UNESCAPED + r"\]" + r"\(", text) or re.search(_UNESCAPED + r"\[[^\]]*" + _UNESCAPED + r"\]\(", text):
        problems.append("a masked link")
    if "@everyone" in text or "@here" in text:
        problems.append("a mention")
    if re.search("[\u202a-\u202e\u2066-\u2069\u200e\u200f]", text):
        problems.append("a direction override")
    return problems


