"""The PostgreSQL backend's own behaviour, on a real server: opening, migrating, refusing."""
from __future__ import annotations

import asyncio

import asyncpg
import pytest

from bot.store import AuditSchemaTooNew, AuditUnavailable, open_store
from bot.store import postgres
from store_backends import A, answer, in_guild, postgres_server, postgres_url  # noqa: F401 - fixtures

pytestmark = pytest.mark.asyncio


async def version_of(url: str) -> int:
    db = await asyncpg.connect(url)
    try:
        return await db.fetchval("SELECT version FROM storybot_schema")
    finally:
        await db.close()


async def test_shards_opening_together_migrate_once(postgres_url):
    stores = await asyncio.gather(*(open_store(postgres_url) for _ in range(4)))
    try:
        ids = await asyncio.gather(*(s.record_answer(answer(f"q{n}"), in_guild()) for n, s in enumerate(stores)))
        assert sorted(ids) == [1, 2, 3, 4]
        assert len(await stores[0].recent(A, 10)) == 4
    finally:
        await asyncio.gather(*(s.close() for s in stores))
    assert await version_of(postgres_url) == len(postgres.MIGRATIONS) == 5


async def test_a_store_from_a_newer_storybot_is_refused_untouched(postgres_url):
    await (await open_store(postgres_url)).close()
    db = await asyncpg.connect(postgres_url)
    await db.execute("UPDATE storybot_schema SET version = 9")
    await db.close()
    with pytest.raises(AuditSchemaTooNew, match="version 9 .* up to 5"):
        await open_store(postgres_url)
    assert await version_of(postgres_url) == 9


async def test_a_failing_migration_leaves_the_store_as_it_was(postgres_url, monkeypatch):
    await (await open_store(postgres_url)).close()
    monkeypatch.setattr(postgres, "MIGRATIONS", (*postgres.MIGRATIONS, "CREATE TABLE half (n INTEGER);"
                                                                       "INSERT INTO no_such_table VALUES (1);"))
    with pytest.raises(AuditUnavailable, match='relation "no_such_table" does not exist'):
        await open_store(postgres_url)
    assert await version_of(postgres_url) == 5
    db = await asyncpg.connect(postgres_url)
    assert await db.fetchval("SELECT to_regclass('half')") is None
    await db.close()


async def test_an_unreachable_server_is_named_without_its_password(tmp_path):
    url = f"postgresql://storybot:s3cret@/storybot?host={tmp_path}"
    with pytest.raises(AuditUnavailable) as raised:
        await open_store(url)
    assert "s3cret" not in str(raised.value) and "storybot:***@" in str(raised.value)


async def test_a_closed_store_says_so(postgres_url):
    store = await open_store(postgres_url)
    await store.close()
    await store.close()
    with pytest.raises(AuditUnavailable, match="has been closed"):
        await store.recent(A)
