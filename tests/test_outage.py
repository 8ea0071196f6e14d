"""A store outage never stops answers: PostgreSQL stopped mid-run, or a SQLite file locked by another
process. Answers keep the server's hidden passages and settings from the last good read and are
recorded from the backlog when the store returns; votes and reports are refused with a clear
message. Through the real client and the loopback fake."""
from __future__ import annotations

import asyncio
import contextlib
import sqlite3

import pytest

from bot.discord import server_settings as discord_settings
from bot.audit_store import Scope
from bot.discord.replies import LOG_UNAVAILABLE
from bot_world import ADMIN, GUILD_A, MODERATOR, bot_world
from store_backends import postgres_server, postgres_stopped, postgres_url  # noqa: F401 - the fixtures

QUESTION = "why did amnesty withdraw navalny's prisoner of conscience status"


@contextlib.asynccontextmanager
async def sqlite_locked(path: str):
    """Another process's connection holding the write lock (a long transaction, a backup): every write
    waits, then fails; in WAL mode reads still go on. (In a thread: it waits for the bot's own writes.)"""
    other = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
    try:
        await asyncio.to_thread(other.execute, "BEGIN EXCLUSIVE")
        await asyncio.to_thread(other.execute, "UPDATE guild_settings SET updated_at = updated_at")
        yield
    finally:
        await asyncio.to_thread(other.execute, "ROLLBACK")
        other.close()


@contextlib.asynccontextmanager
async def postgres_down(server):
    stopped = postgres_stopped(server)
    await asyncio.to_thread(stopped.__enter__)
    try:
        yield
    finally:
        await asyncio.to_thread(stopped.__exit__, None, None, None)


@pytest.fixture(params=["postgresql", "sqlite"])
def store_and_outage(request, tmp_path):
    """STORYBOT_DB, and how that store goes away: PostgreSQL stopped, SQLite locked by another process."""
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        return request.getfixturevalue("postgres_url"), lambda: postgres_down(server)
    location = str(tmp_path / "audit.db")
    return location, lambda: sqlite_locked(location)


@pytest.mark.asyncio
async def test_answers_go_on_through_an_outage_and_are_recorded_when_the_store_returns(bm25_index, tmp_path,
                                                                                        monkeypatch, store_and_outage):
    location, outage = store_and_outage
    async with bot_world(bm25_index, tmp_path, location) as world:
        await world.set_modlog(user_id=11)  # a settings row, read again after the cache expires
        body, first = await world.ask(QUESTION, user_id=21)
        [entry] = await world.store.recent(Scope.guild(GUILD_A), 1)
        assert entry.quotes, body
        hidden = entry.quotes[0].text
        await world.command("audit hide", {"id": entry.id, "quote_number": 1, "reason": "legal request"},
                            permissions=MODERATOR)
        body, _ = await world.ask(QUESTION, user_id=22)
        assert hidden[:60] not in body["embeds"][0]["description"]  # the hide holds while the store is up

        monkeypatch.setattr(discord_settings, "CACHE_SECONDS", 0.0)  # the settings are read again, and fail
        async with outage():
            body, shown = await world.ask(QUESTION, user_id=23)
            assert body.get("embeds"), body  # answered, not "Sorry, something went wrong"
            assert hidden[:60] not in body["embeds"][0]["description"]  # the last good read of the hides
            assert not body.get("components")  # no audit id yet: no buttons to press
            assert LOG_UNAVAILABLE in await world.vote(entry.id, user_id=24)
            refused = await world.report(first, entry.id, "wrong", user_id=25)
            assert LOG_UNAVAILABLE in refused["content"]
            if location.startswith("postgresql://"):  # a locked SQLite file in WAL mode is still read
                assert LOG_UNAVAILABLE in await world.command("mydata", user_id=21)

        async def recorded():
            try:
                return [e for e in await world.store.recent(Scope.guild(GUILD_A), 5) if e.user_id == str(23)]
            except Exception:  # noqa: BLE001 - the pool reconnects on its own
                return []

        for _ in range(100):  # the backlog retries every second
            if await recorded():
                break
            await asyncio.sleep(0.1)
        [late] = await recorded()
        assert late.question == QUESTION and late.quotes


@pytest.mark.asyncio
async def test_a_restarted_bot_quotes_nothing_where_it_cannot_read_the_servers_hides(bm25_index, tmp_path, postgres_url,
                                                                                      postgres_server):
    """A quote hidden for a legal request stays hidden through a restart followed by an outage: with
    no read of that server's hides since the start there is no last good read to stand in, so the
    bot says why it quotes nothing; a manager's /settings says the log is unavailable instead of
    showing the outage's placeholder as the server's settings."""
    (tmp_path / "before").mkdir()
    (tmp_path / "after").mkdir()
    async with bot_world(bm25_index, tmp_path / "before", postgres_url) as world:
        await world.ask(QUESTION, user_id=21)
        [entry] = await world.store.recent(Scope.guild(GUILD_A), 1)
        hidden = entry.quotes[0].text
        await world.command("audit hide", {"id": entry.id, "quote_number": 1, "reason": "legal request"},
                            permissions=MODERATOR)
    async with bot_world(bm25_index, tmp_path / "after", postgres_url) as world:
        async with postgres_down(postgres_server):
            body, _ = await world.ask(QUESTION, user_id=23)
            assert hidden[:60] not in str(body)
            assert "cannot check which passages this server hid" in body["content"] and not body.get("embeds")
            assert LOG_UNAVAILABLE in await world.command("settings show", permissions=ADMIN)
            assert LOG_UNAVAILABLE in await world.command("settings cooldown", {"seconds": 5.0}, permissions=ADMIN)
            dm, _ = await world.ask(QUESTION, user_id=26, dm=True)
            assert dm.get("embeds"), dm  # a DM has no server's hides to read: answered
