"""A settings row no /settings could have written (edited by hand, a broken script) never locks a
server out: it is checked when read, logged once, and the server gets the defaults until a member
with Manage Server saves new ones. Through the real client, the loopback fake, both backends."""
from __future__ import annotations

import logging
import sqlite3

import pytest

from bot.discord import server_settings as discord_settings
from bot.store import rows
from bot_world import ADMIN, GUILD_A, bot_world
from store_backends import postgres_server, postgres_url, store_location  # noqa: F401 - the fixtures

BAD_ROWS = [("public_channels", "oops"), ("public_channels", '{"not": "a list"}'), ("cooldown_seconds", "abc"),
            ("mod_log_channel", "not-an-id"),
            # json's decoder recurses: a list nested this deep raised RecursionError, not ValueError.
            pytest.param("public_channels", "[" * 100_000 + "]" * 100_000, id="public_channels-nested"),
            # str.isdigit() takes other scripts' digits; Discord ids are ASCII.
            ("mod_log_channel", "\u0663\u0660\u0660\u0660")]


async def corrupt(location: str, column: str, value: str) -> None:
    """What an operator's hand edit or a broken script leaves in the row of GUILD_A."""
    if location.startswith("postgresql://"):
        import asyncpg

        db = await asyncpg.connect(location)
        try:
            await db.execute(f"UPDATE guild_settings SET {column} = $1 WHERE guild_id = $2", value, str(GUILD_A))
        finally:
            await db.close()
        return
    with sqlite3.connect(location) as db:
        db.execute(f"UPDATE guild_settings SET {column} = ? WHERE guild_id = ?", (value, str(GUILD_A)))


@pytest.mark.asyncio
@pytest.mark.parametrize("column, value", BAD_ROWS)
async def test_a_bad_settings_row_gets_the_defaults_logged_once_until_a_manager_saves(bm25_index, tmp_path, caplog,
                                                                                     monkeypatch, store_location,
                                                                                     column, value):
    if column == "cooldown_seconds" and store_location.startswith("postgresql://"):
        pytest.skip("PostgreSQL's DOUBLE PRECISION column cannot hold text")
    monkeypatch.setattr(rows, "_logged_bad_rows", set())  # "once" is once per process: a fresh one
    monkeypatch.setattr(discord_settings, "CACHE_SECONDS", 0.0)  # every question reads the row again
    async with bot_world(bm25_index, tmp_path, store_location) as world:
        await world.set_modlog()
        await corrupt(store_location, column, value)
        with caplog.at_level(logging.ERROR, logger="bot.store.rows"):
            for user in (31, 32):
                body, shown = await world.ask("who is julie verhaar", user_id=user)
                assert body.get("embeds"), body  # answered, with the defaults: public everywhere
            shown_settings = await world.command("settings show", permissions=ADMIN)
        assert "every channel" in shown_settings and "none" in shown_settings  # the defaults
        bad = [r for r in caplog.records if str(GUILD_A) in r.getMessage() and "not valid" in r.getMessage()]
        assert len(bad) == 1 and column in bad[0].getMessage()  # logged once, naming what is wrong

        saved = await world.command("settings cooldown", {"seconds": 5.0}, permissions=ADMIN)
        assert "Cooldown changed" in saved
        assert "5 s" in await world.command("settings show", permissions=ADMIN)  # the row is good again
