"""Start-up against the loopback fake: a server that refuses the command sync, syncing only
what changed, stale scopes emptied, `storybot sync`."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.audit_store import Scope
from bot.store import open_store
from bot.discord.bot import BotConfig
from bot.discord.run import StoryBot, serve, use_endpoints
from bot.live import Reloader
from bot.service import AnswerService
from bot.settings import from_env
from conftest import CORPUS
from fake_discord import BASIC_PERMISSIONS, GUILD_ID, MANAGE_MESSAGES, FakeDiscord

FORBIDDEN = 2200000000000000022
OTHER = 2300000000000000023
MODERATOR = BASIC_PERMISSIONS | MANAGE_MESSAGES


@pytest.fixture(autouse=True)
def restore_endpoints():
    saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    yield
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


def bot_env(tmp_path, fake: FakeDiscord, guild_ids: str) -> dict[str, str]:
    return {
        "STORYBOT_CORPUS": str(CORPUS), "STORYBOT_CACHE": str(tmp_path / "cache"), "STORYBOT_DB": str(tmp_path / "audit.db"),
        "STORYBOT_MODEL": "none", "DISCORD_TOKEN": fake.token, "DISCORD_GUILD_IDS": guild_ids,
        "DISCORD_API_BASE_URL": fake.api_base, "DISCORD_GATEWAY_URL": fake.gateway_url,
    }


def puts(fake: FakeDiscord) -> list:
    return [r.path for r in fake.requests if r.kind == "commands" and r.method == "PUT"]


@pytest.mark.asyncio
async def test_a_guild_that_refuses_the_sync_is_skipped_and_the_bot_answers_in_the_other(tmp_path, caplog):
    async with FakeDiscord(forbidden_guilds=(FORBIDDEN,)) as fake:
        settings = from_env(bot_env(tmp_path, fake, f"{FORBIDDEN},{GUILD_ID}"), tmp_path)
        stop = asyncio.Event()
        with caplog.at_level(logging.WARNING):
            running = asyncio.create_task(serve(settings, stop=stop))
            try:
                await fake.wait_until(lambda: fake.command_bodies.get(GUILD_ID) or running.done(), 60, "command sync")
                await fake.wait_ready(timeout=30)
                sent = await fake.slash("ask", {"question": "why did Mandela lose the status?"})
                final = await fake.wait_for_response(sent.id, "final", timeout=30)
            finally:
                stop.set()
                code = await asyncio.wait_for(running, 30)
    assert code == 0 and "Mandela" in final.json["embeds"][0]["description"]
    assert {c["name"] for c in fake.command_bodies[GUILD_ID]} >= {"ask", "audit"}
    [refused] = [r for r in fake.requests if r.kind == "commands" and str(FORBIDDEN) in r.path]
    assert refused.status == 403
    warning = next(r.getMessage() for r in caplog.records if str(FORBIDDEN) in r.getMessage())
    assert "403" in warning and "applications.commands" in warning and "could not reach Discord" not in caplog.text


@contextlib.asynccontextmanager
async def started(fake: FakeDiscord, tmp_path, bm25_index, **options):
    use_endpoints(fake.api_base, fake.gateway_url)
    settings = from_env({"STORYBOT_CORPUS": str(CORPUS), "STORYBOT_CACHE": str(tmp_path / "cache")}, tmp_path)
    store = await open_store(tmp_path / "audit.db")
    service = AnswerService(bm25_index)
    bot = StoryBot(service=service, store=store, reloader=Reloader(settings, service),
                   config=BotConfig(cooldown_seconds=0, sync_record=tmp_path / "command-sync.json", **options))
    task = asyncio.create_task(bot.start(fake.token))
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 20)
        yield bot
    finally:
        await bot.close()
        await asyncio.wait_for(task, 5)
        await service.close()
        await store.close()


@pytest.mark.asyncio
async def test_commands_are_synced_only_when_they_changed_and_stale_scopes_are_emptied(tmp_path, bm25_index):
    async with FakeDiscord(guild_ids=(GUILD_ID, OTHER)) as fake:
        fake_paths = lambda: sorted(puts(fake))  # noqa: E731
        async with started(fake, tmp_path, bm25_index, guild_ids=(GUILD_ID,)) as bot:
            assert [o.action for o in bot.sync_outcomes] == ["synced", "synced"]  # global (emptied) and the guild
        first = fake_paths()
        assert len(first) == 2 and fake.command_bodies[None] == [] and len(fake.command_bodies[GUILD_ID]) == 10

        async with started(fake, tmp_path, bm25_index, guild_ids=(GUILD_ID,)) as bot:
            assert {o.action for o in bot.sync_outcomes} == {"unchanged"}
        assert fake_paths() == first  # a restart registers nothing

        # /reload moves to the operators' guild: that guild gets it, the other loses it.
        async with started(fake, tmp_path, bm25_index, guild_ids=(GUILD_ID,), operator_guild_ids=(OTHER,)) as bot:
            assert {o.scope: o.action for o in bot.sync_outcomes} == {"global": "unchanged", str(GUILD_ID): "synced", str(OTHER): "synced"}
        assert [c["name"] for c in fake.command_bodies[OTHER]] == ["reload"]
        assert "reload" not in {c["name"] for c in fake.command_bodies[GUILD_ID]}

        # From guild mode to global: the guild's copies are removed, or members would see each command twice.
        async with started(fake, tmp_path, bm25_index, operator_guild_ids=(OTHER,)) as bot:
            actions = {o.scope: o.action for o in bot.sync_outcomes}
        assert actions == {"global": "synced", str(OTHER): "unchanged", str(GUILD_ID): "cleared"}
        assert fake.command_bodies[GUILD_ID] == [] and {c["name"] for c in fake.command_bodies[None]} == {
            "ask", "sources", "help", "timeline", "audit", "settings", "mydata", "forget-me", "Find sources"}
        audit = next(c for c in fake.command_bodies[None] if c["name"] == "audit")
        assert audit["contexts"] == [0] and audit["integration_types"] == [0]  # in servers only, never in DMs


def test_storybot_sync_registers_every_scope_now(tmp_path):
    async def scenario():
        async with FakeDiscord() as fake:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "STORYBOT_"))}
            env.update(bot_env(tmp_path, fake, str(GUILD_ID)))
            results = []
            for _ in range(2):  # the second time nothing changed, and `sync` sends it anyway
                process = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "sync", env=env, cwd=tmp_path,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
                out, err = await asyncio.wait_for(process.communicate(), 120)
                results.append((process.returncode, out.decode(), err.decode()))
            return results, puts(fake), fake.identify_payloads

    results, sent, identified = asyncio.run(scenario())
    for code, out, err in results:
        assert code == 0, err
        assert f"{GUILD_ID}: synced (forced)" in out and "global: synced (forced)" in out
    assert len(sent) == 4 and identified == []  # REST only: no gateway session


@pytest.mark.asyncio
async def test_a_dm_answer_is_recorded_for_the_operator_only(tmp_path, bm25_index):
    async with FakeDiscord() as fake:
        async with started(fake, tmp_path, bm25_index, guild_ids=(GUILD_ID,)) as bot:
            sent = await fake.slash("ask", {"question": "who is julie verhaar"}, dm=True)
            await fake.wait_for_response(sent.id, "final", timeout=20)
            [entry] = await bot.store.recent(Scope.operator())
            assert entry.guild_id is None and await bot.store.recent(Scope.guild(GUILD_ID)) == []
            pressed = await fake.press_button(f"storybot:helpful:{entry.id}", dm=True)
            await fake.wait_for_response(pressed.id, "final")
            [vote] = (await bot.store.get(Scope.direct_messages(), entry.id)).feedback
            assert vote.kind == "helpful"


@pytest.mark.asyncio
async def test_moderators_of_an_operator_guild_may_reload(tmp_path, bm25_index):
    async with FakeDiscord(guild_ids=(GUILD_ID, OTHER)) as fake:
        async with started(fake, tmp_path, bm25_index, guild_ids=(GUILD_ID, OTHER), operator_guild_ids=(OTHER,)):
            sent = await fake.slash("reload", guild_id=OTHER, permissions=MODERATOR)
            reply = await fake.wait_for_response(sent.id, "final", timeout=60)
            assert reply.json["content"].startswith(("No change", "Reloaded"))
            sent = await fake.slash("reload", guild_id=OTHER, permissions=BASIC_PERMISSIONS)
            assert "Only the bot's operators" in (await fake.wait_for_response(sent.id)).json["data"]["content"]
        assert "reload" not in {c["name"] for c in fake.command_bodies[GUILD_ID]}  # other servers never see it
