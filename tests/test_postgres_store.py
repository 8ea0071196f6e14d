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
    assert await version_of(postgres_url) == len(postgres.MIGRATIONS) == 7  # 7: labels (bot/store/labels.py)


async def test_a_store_from_a_newer_storybot_is_refused_untouched(postgres_url):
    await (await open_store(postgres_url)).close()
    db = await asyncpg.connect(postgres_url)
    await db.execute("UPDATE storybot_schema SET version = 9")
    await db.close()
    with pytest.raises(AuditSchemaTooNew, match="version 9 .* up to 7"):
        await open_store(postgres_url)
    assert await version_of(postgres_url) == 9


async def test_a_failing_migration_leaves_the_store_as_it_was(postgres_url, monkeypatch):
    await (await open_store(postgres_url)).close()
    monkeypatch.setattr(postgres, "MIGRATIONS", (*postgres.MIGRATIONS, "CREATE TABLE half (n INTEGER);"
                                                                       "INSERT INTO no_such_table VALUES (1);"))
    with pytest.raises(AuditUnavailable, match='relation "no_such_table" does not exist'):
        await open_store(postgres_url)
    assert await version_of(postgres_url) == 7
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


async def test_answers_wait_while_a_table_lock_times_writes_out_and_land_after(postgres_url, caplog):
    from bot.store.backlog import BacklogPolicy

    store = await open_store(postgres_url, attempts=1, timeout=0.5,
                             backlog=BacklogPolicy(capacity=10, retry_seconds=0.2, flush_seconds=5))
    blocker = await asyncpg.connect(postgres_url)
    try:
        locked = blocker.transaction()
        await locked.start()
        await blocker.execute("LOCK TABLE answers IN ACCESS EXCLUSIVE MODE")
        ids = [await store.record_answer(answer(f"asked while locked {n}"), in_guild()) for n in range(3)]
        assert ids == [None, None, None]
        await locked.rollback()
        for _ in range(100):
            if len(await store.recent(A, 10)) == 3:
                break
            await asyncio.sleep(0.1)
        assert [e.question for e in await store.recent(A, 10)][::-1] == [f"asked while locked {n}" for n in range(3)]
    finally:
        await blocker.close()
        await store.close()
    assert "AUDIT RECORD LOST" not in caplog.text


V2_ROWS = """
INSERT INTO answers (id, created_at, guild_id, channel_id, user_id, user_name, question, mode, abstained,
                     corpus_version, model, latency_ms) OVERRIDING SYSTEM VALUE VALUES
    (1, '2021-02-25T10:00:00.000+00:00', '111', '999', '7', 'ada', '  Why was it  REVOKED?', 'hybrid', false, 'v1',
     'all-MiniLM-L6-v2', 20.0),
    (2, '2021-02-25T10:01:00.000+00:00', NULL, 'cli', NULL, 'op', 'who won the cup?', 'bm25', true, 'v1', NULL, 5.0);
INSERT INTO feedback (id, answer_id, created_at, user_id, user_name, kind, reason) OVERRIDING SYSTEM VALUE VALUES
    (1, 1, '2021-02-25T10:02:00.000+00:00', '8', 'bea', 'helpful', NULL),
    (2, 1, '2021-02-25T10:02:01.000+00:00', '8', 'bea', 'helpful', NULL),
    (3, 1, '2021-02-25T10:02:02.000+00:00', '8', 'bea', 'not_helpful', NULL),
    (4, 1, '2021-02-25T10:02:03.000+00:00', '8', 'bea', 'report', 'one');
SELECT setval(pg_get_serial_sequence('answers', 'id'), 2);
SELECT setval(pg_get_serial_sequence('feedback', 'id'), 4);
CREATE TABLE storybot_schema (version INTEGER NOT NULL);
INSERT INTO storybot_schema VALUES (2);
"""


async def test_a_version_2_store_is_upgraded_keeping_its_records(postgres_url):
    from bot.audit_store import Scope

    db = await asyncpg.connect(postgres_url)
    try:
        for script in postgres.MIGRATIONS[:2]:
            await db.execute(script)
        await db.execute(V2_ROWS)
    finally:
        await db.close()
    store = await open_store(postgres_url)
    try:
        asked, cli = await store.get(A, 1), await store.get(Scope.operator(), 2)
        assert (asked.status, asked.source, cli.status, cli.source) == ("answered", "slash", "not_covered", "cli")
        assert [(f.id, f.kind) for f in asked.feedback] == [(3, "not_helpful"), (4, "report")]
        assert await store.record_answer(answer("why was it revoked?"), in_guild()) == 3
        assert (await store.stats(A)).most_asked == [("why was it revoked?", 2)]
    finally:
        await store.close()
    assert await version_of(postgres_url) == len(postgres.MIGRATIONS)
    db = await asyncpg.connect(postgres_url)
    try:
        assert [r["id"] for r in await db.fetch("SELECT id FROM superseded_votes ORDER BY id")] == [1, 2]
    finally:
        await db.close()
