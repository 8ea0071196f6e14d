"""Drive a real discord.py commands.Bot through tests/fake_discord.py."""
from __future__ import annotations

import asyncio
import contextlib
import io
from typing import AsyncIterator, Optional

import discord
import pytest
import pytest_asyncio
from discord import app_commands
from discord.ext import commands

from fake_discord import (BASIC_PERMISSIONS, CHANNEL_ID, EPHEMERAL, GUILD_ID, MANAGE_MESSAGES, FakeDiscord,
                          point_discord_at, text_input_ids)


class PersistentView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Go", custom_id="t:1")
    async def go(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_message("clicked", ephemeral=True)


class Feedback(discord.ui.Modal, title="Feedback"):
    text = discord.ui.TextInput(label="Text", custom_id="fb:text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"got {self.text.value}", ephemeral=True)


class TinyBot(commands.Bot):
    def __init__(self, sync_guild: Optional[int] = None) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=discord.Intents.default(),
                         guild_ready_timeout=0.05)
        self.sync_guild = sync_guild

        @self.tree.command(description="replies pong")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong")

        @self.tree.command(description="defers, then follows up")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await asyncio.sleep(0.05)
            await interaction.followup.send("done")

        @self.tree.command(description="opens a modal")
        async def feedback(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(Feedback(custom_id="fb"))

        @self.tree.command(description="needs Manage Messages")
        @app_commands.checks.has_permissions(manage_messages=True)
        async def purge(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("purged", ephemeral=True)

        @self.tree.command(description="uploads a file, then edits its reply")
        async def report(interaction: discord.Interaction) -> None:
            file = discord.File(io.BytesIO(b"a,b\n1,2\n"), filename="report.csv")
            await interaction.response.send_message("report", file=file)
            msg = await interaction.original_response()
            await msg.edit(content=f"report {msg.id}")

        audit = app_commands.Group(name="audit", description="audit log")

        @audit.command(description="recent entries")
        async def recent(interaction: discord.Interaction, limit: int = 10) -> None:
            await interaction.response.send_message(f"recent {limit}", ephemeral=True)

        self.tree.add_command(audit)

        @self.tree.error
        async def on_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
            await interaction.response.send_message("denied", ephemeral=True)

    async def setup_hook(self) -> None:
        self.add_view(PersistentView())
        if self.sync_guild:
            guild = discord.Object(self.sync_guild)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    async with FakeDiscord(heartbeat_interval_ms=200) as f:
        point_discord_at(f.api_base, f.gateway_url)
        yield f
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


@contextlib.asynccontextmanager
async def running(fake: FakeDiscord, bot: commands.Bot) -> AsyncIterator[commands.Bot]:
    """Start the bot against the fake, wait for on_ready, and always close it."""
    task = asyncio.create_task(bot.start(fake.token))
    try:
        ready = asyncio.create_task(fake.wait_ready())
        await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            ready.cancel()
            task.result()  # raises the start-up error
            raise RuntimeError("bot stopped before READY")
        ready.result()
        await asyncio.wait_for(bot.wait_until_ready(), 5)
        yield bot
    finally:
        await bot.close()
        await asyncio.wait_for(task, 5)


def content(rec) -> str:
    return rec.json["data"]["content"]


@pytest.mark.asyncio
async def test_login_identify_global_sync_and_heartbeats(fake: FakeDiscord) -> None:
    async with running(fake, TinyBot()) as bot:
        await fake.wait_heartbeats(4)
    assert bot.user.id == fake.bot_id and bot.application_id == fake.app_id
    [ident] = fake.identify_payloads
    assert ident["token"] == fake.token and ident["intents"] == discord.Intents.default().value
    assert fake.gateway_connections[0]["v"] == "10" and fake.gateway_connections[0]["encoding"] == "json"
    paths = [(r.method, r.path) for r in fake.requests]
    assert paths[:2] == [("GET", "/users/@me"), ("GET", "/oauth2/applications/@me")]
    assert ("PUT", f"/applications/{fake.app_id}/commands") in paths
    assert {c["name"] for c in fake.command_bodies[None]} == {"ping", "slow", "feedback", "purge", "report", "audit"}
    assert 0 < fake.max_heartbeat_gap() < 1.0  # interval is 0.2 s
    assert fake.unknown_requests == []


@pytest.mark.asyncio
async def test_guild_sync_and_slash_ping(fake: FakeDiscord) -> None:
    async with running(fake, TinyBot(sync_guild=GUILD_ID)):
        assert {c["name"] for c in fake.command_bodies[GUILD_ID]} >= {"ping", "audit"}
        sent = await fake.slash("ping")
        assert sent.payload["data"]["guild_id"] == str(GUILD_ID)  # taken from the guild-scope sync
        rec = await fake.wait_for_response(sent.id)
        assert rec.json["type"] == 4 and content(rec) == "pong"
        assert rec.query.get("with_response") == "1" and 0 <= rec.latency < 2
        assert (await fake.wait_for_response(sent.id, "final")) is rec


@pytest.mark.asyncio
async def test_deferred_followup(fake: FakeDiscord) -> None:
    async with running(fake, TinyBot()):
        sent = await fake.slash("slow")
        final = await fake.wait_for_response(sent.id, "final")
        log = fake.interaction_log(sent.id)
        assert [r.kind for r in log] == ["callback", "followup"]
        assert log[0].json["type"] == 5 and final.json["content"] == "done"
        assert final.latency >= log[0].latency >= 0
        # As on Discord, the first follow-up replaces the "thinking" placeholder (same message).
        assert fake.messages[sent.original]["content"] == "done" and not fake.messages[sent.original]["flags"] & (1 << 7)
        assert sent.followups == []


@pytest.mark.asyncio
async def test_the_first_followup_after_a_public_defer_stays_public_whatever_its_flag(fake: FakeDiscord) -> None:
    bot = TinyBot()

    @bot.tree.command(description="defers publicly, then tries a private follow-up")
    async def leaky(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("first", ephemeral=True)
        await interaction.followup.send("second", ephemeral=True)

    async with running(fake, bot):
        sent = await fake.slash("leaky")
        await fake.wait_until(lambda: len(fake.interaction_log(sent.id)) == 3, what="two follow-ups")
    first, [second] = fake.messages[sent.original], [fake.messages[m] for m in sent.followups]
    assert first["content"] == "first" and not first["flags"] & EPHEMERAL  # Discord ignores the flag here
    assert second["content"] == "second" and second["flags"] & EPHEMERAL


@pytest.mark.asyncio
async def test_a_forbidden_guild_refuses_command_sync_and_two_guilds_have_their_own_channels() -> None:
    other = GUILD_ID + 1000
    async with FakeDiscord(guild_ids=(GUILD_ID, other), forbidden_guilds=(other,)) as f:
        point_discord_at(f.api_base, f.gateway_url)
        async with running(f, TinyBot(sync_guild=GUILD_ID)) as bot:
            with pytest.raises(discord.Forbidden):
                await bot.tree.sync(guild=discord.Object(other))
            sent = await f.slash("ping", guild_id=other)
            assert content(await f.wait_for_response(sent.id)) == "pong"
            assert bot.get_channel(f.channel_of(other)).guild.id == other != bot.get_channel(CHANNEL_ID).guild.id
    assert sent.payload["channel_id"] == str(f.channel_of(other)) != str(CHANNEL_ID)


@pytest.mark.asyncio
async def test_multipart_file_then_get_and_edit_original(fake: FakeDiscord) -> None:
    async with running(fake, TinyBot()):
        sent = await fake.slash("report")
        edit = await fake.wait_for_response(sent.id, "edit_original")
    callback, get, _ = fake.interaction_log(sent.id)
    assert [callback.kind, get.kind] == ["callback", "get_original"]
    assert callback.files == ["report.csv"] and content(callback) == "report"  # parsed from payload_json
    assert edit.json["content"] == f"report {sent.original}" and edit.latency > callback.latency
    assert fake.messages[sent.original]["content"] == f"report {sent.original}"


@pytest.mark.asyncio
async def test_subcommand_options_and_permissions(fake: FakeDiscord) -> None:
    async with running(fake, TinyBot()):
        sent = await fake.slash("audit recent", {"limit": 5})
        rec = await fake.wait_for_response(sent.id)
        assert content(rec) == "recent 5" and rec.json["data"]["flags"] == EPHEMERAL

        denied = await fake.slash("purge", permissions=BASIC_PERMISSIONS)
        allowed = await fake.slash("purge", permissions=BASIC_PERMISSIONS | MANAGE_MESSAGES, user_id=42, username="mod")
        assert content(await fake.wait_for_response(denied.id)) == "denied"
        assert content(await fake.wait_for_response(allowed.id)) == "purged"

        dm = await fake.slash("ping", dm=True)
        assert "member" not in dm.payload and content(await fake.wait_for_response(dm.id)) == "pong"


@pytest.mark.asyncio
async def test_button_and_modal(fake: FakeDiscord) -> None:
    async with running(fake, TinyBot()):
        press = await fake.press_button("t:1")
        rec = await fake.wait_for_response(press.id)
        assert content(rec) == "clicked" and rec.json["data"]["flags"] == EPHEMERAL

        opened = await fake.slash("feedback")
        modal = await fake.wait_for_response(opened.id)
        assert modal.json["type"] == 9 and modal.json["data"]["custom_id"] == "fb"
        [field_id] = text_input_ids(modal.json["data"])
        submit = await fake.submit_modal("fb", {field_id: "hello"})
        assert content(await fake.wait_for_response(submit.id)) == "got hello"


@pytest.mark.asyncio
async def test_reconnect_resume_then_still_answers(fake: FakeDiscord) -> None:
    async with running(fake, TinyBot()) as bot:
        resumed = asyncio.Event()

        async def on_resumed() -> None:
            resumed.set()

        bot.add_listener(on_resumed)
        await fake.request_reconnect(wait=False)
        during = await fake.slash("ping")  # queued while the client reconnects, delivered after RESUMED
        await fake.wait_resumed()
        after = await fake.slash("ping")
        assert content(await fake.wait_for_response(during.id)) == "pong"
        assert content(await fake.wait_for_response(after.id)) == "pong"
        await asyncio.wait_for(resumed.wait(), 2)
    assert len(fake.identify_payloads) == 1 and len(fake.gateway_connections) == 2
    assert fake.resume_payloads[0]["session_id"] == fake.session_id


@pytest.mark.asyncio
async def test_hundred_interactions_at_once(fake: FakeDiscord) -> None:
    async with running(fake, TinyBot()):
        sent = await asyncio.gather(*(fake.slash("ping", user_id=1000 + i) for i in range(100)))
        recs = await asyncio.gather(*(fake.wait_for_response(s.id, timeout=10) for s in sent))
    assert all(content(r) == "pong" for r in recs)
    assert len({r.interaction_id for r in recs}) == 100
    assert sum(r.kind == "callback" for r in fake.requests) == 100


@pytest.mark.asyncio
async def test_channel_message_and_unknown_route(fake: FakeDiscord) -> None:
    async with running(fake, TinyBot()) as bot:
        await bot.get_channel(CHANNEL_ID).send("hello channel")  # channel came from GUILD_CREATE
        with pytest.raises(discord.NotFound):
            await bot.http.request(discord.http.Route("GET", "/guilds/{guild_id}/bans", guild_id=GUILD_ID))
    [msg] = fake.channel_messages
    assert msg.path == f"/channels/{CHANNEL_ID}/messages" and msg.json["content"] == "hello channel"
    [unknown] = fake.unknown_requests
    assert unknown.status == 404 and unknown.path == f"/guilds/{GUILD_ID}/bans"


class ShardedPing(discord.AutoShardedClient):
    def __init__(self, shard_ids: list) -> None:
        super().__init__(intents=discord.Intents(guilds=True), shard_count=2, shard_ids=shard_ids)
        self.tree = app_commands.CommandTree(self)

        @self.tree.command(description="says which shard answered")
        async def shard(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(f"shard {interaction.guild.shard_id}")


@pytest.mark.asyncio
async def test_two_shard_processes_each_get_their_own_guilds_events() -> None:
    on_shard_0 = GUILD_ID + (1 << 22)  # (guild_id >> 22) % 2 == 0; GUILD_ID itself is on shard 1
    async with FakeDiscord(guild_ids=(GUILD_ID, on_shard_0)) as f:
        point_discord_at(f.api_base, f.gateway_url)
        bots = [ShardedPing([0]), ShardedPing([1])]
        tasks = [asyncio.create_task(b.start(f.token)) for b in bots]
        try:
            await asyncio.wait_for(asyncio.gather(*(b.wait_until_ready() for b in bots)), 10)
            assert [sorted(g.id for g in b.guilds) for b in bots] == [[on_shard_0], [GUILD_ID]]
            sent = [await f.slash("shard", guild_id=g) for g in (on_shard_0, GUILD_ID)]
            assert [content(await f.wait_for_response(s.id)) for s in sent] == ["shard 0", "shard 1"]
            dm = await f.slash("shard", dm=True)
            [first] = [s for s in f.sessions.values() if s.shard == (0, 2)]
            await f.wait_until(lambda: first.log[-1]["d"].get("id") == str(dm.id), what="the DM on shard 0")
        finally:
            for b in bots:
                await b.close()
            await asyncio.gather(*tasks, return_exceptions=True)
    assert sorted(tuple(p["shard"]) for p in f.identify_payloads) == [(0, 2), (1, 2)]
