"""The audit store in PostgreSQL, through an asyncpg pool: for several shard processes, on
several machines, sharing one store.

    store = await PostgresStore.open("postgresql://storybot@db.example/storybot")

The queries are bot/store/core.py's; this file is PostgreSQL's dialect of running them: `$n`
parameters, a pool, advisory locks where SQLite has its one write lock, the errors worth a
retry, the storybot_schema table, VACUUM. Timestamps are the same ISO-8601 text as in SQLite,
so an export reads the same from both.
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bot.store.backlog import BacklogPolicy
from bot.store.core import Store
from bot.store.errors import AuditSchemaTooNew, AuditUnavailable
from bot.store.posts import TOUCHED_BY_FORGET
from bot.store.schema import POSTGRES, migrations

log = logging.getLogger(__name__)

# Keys of pg_advisory_xact_lock: one for migrations, one for the operator's global hides (the
# file they change is one for every shard), and a namespace for each member's reports.
MIGRATION_LOCK = 0x5709_0001
GLOBAL_HIDE_LOCK = 0x5709_0002
REPORT_LOCK_SPACE = 0x5709

# MIGRATIONS[n - 1] takes a store from version n - 1 to n (bot/store/schema.py); the
# storybot_schema table records the version reached.
MIGRATIONS: tuple[str, ...] = migrations(POSTGRES)

# Lost connections and the conflicts PostgreSQL asks the client to retry.
_RETRYABLE = (asyncpg.SerializationError, asyncpg.DeadlockDetectedError, asyncpg.CannotConnectNowError,
              asyncpg.ConnectionDoesNotExistError, asyncpg.TooManyConnectionsError, ConnectionError, OSError,
              asyncio.TimeoutError)
_FAILURES = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


def shown_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


@functools.lru_cache(maxsize=512)
def numbered(sql: str) -> str:
    """The core's `?` placeholders as asyncpg's `$1`, `$2`, ... (the core's SQL has no `?` in a literal)."""
    count = iter(range(1, sql.count("?") + 1))
    return re.sub(r"\?", lambda _: f"${next(count)}", sql)


class _Connection:
    """asyncpg's connection as bot/store/sql.py's `Connection`."""

    def __init__(self, db: asyncpg.Connection) -> None:
        self._db = db
        self._transaction: Any = None

    async def fetch(self, sql: str, *args: Any) -> Sequence[asyncpg.Record]:
        return await self._db.fetch(numbered(sql), *args)

    async def fetchone(self, sql: str, *args: Any) -> asyncpg.Record | None:
        return await self._db.fetchrow(numbered(sql), *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._db.fetchval(numbered(sql), *args)

    async def execute(self, sql: str, *args: Any) -> int:
        status = await self._db.execute(numbered(sql), *args)
        return int(status.rsplit(" ", 1)[-1])  # the command tag: "UPDATE 3", "INSERT 0 1"

    async def executemany(self, sql: str, rows: Sequence[tuple]) -> None:
        await self._db.executemany(numbered(sql), rows)

    async def take_turns(self, *key: str) -> None:
        if key == ("global hides",):
            await self._db.execute("SELECT pg_advisory_xact_lock($1)", GLOBAL_HIDE_LOCK)
        elif key[0] == "reports":
            await self._db.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", REPORT_LOCK_SPACE, key[1])
        else:
            raise ValueError(f"no advisory lock for {key!r}")

    async def begin(self) -> None:
        self._transaction = self._db.transaction()
        await self._transaction.start()

    async def commit(self) -> None:
        await self._transaction.commit()

    async def rollback(self) -> None:
        # A lost connection has ended the transaction already; there is nothing left to undo.
        with contextlib.suppress(*_FAILURES):
            await self._transaction.rollback()


class PostgresStore(Store):
    """An open PostgreSQL audit store. `await PostgresStore.open(url)`, then `close()`."""

    backend = "postgresql"
    _FAILURES = (*_FAILURES, asyncio.TimeoutError)
    _UNWRITABLE_HINT = "give its role write access, or point STORYBOT_DB at a store it can write"

    def __init__(self, pool: asyncpg.Pool, url: str, *, attempts: int = 3, backoff: float = 0.1,
                 backlog: BacklogPolicy = BacklogPolicy()) -> None:
        # `path` as in SQLiteStore: what errors and logs show
        super().__init__(pool, shown_url(url), attempts=attempts, backoff=backoff, backlog=backlog)

    @classmethod
    async def open(cls, url: str, *, attempts: int = 3, backoff: float = 0.1, min_size: int = 1,
                   max_size: int = 10, timeout: float = 10.0,
                   backlog: BacklogPolicy = BacklogPolicy()) -> "PostgresStore":
        """Connect and migrate. A write that fails on a lost connection or a conflict is tried
        `attempts` times, after `backoff`, 2 * `backoff`, ... seconds."""
        where = shown_url(url)
        try:
            pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size, timeout=timeout,
                                             command_timeout=timeout)
        except (*_FAILURES, asyncio.TimeoutError, ValueError) as exc:
            raise AuditUnavailable(where, _reason(exc)) from None
        try:
            await _migrate(pool, where)
        except BaseException as exc:
            await pool.close()
            if isinstance(exc, _FAILURES):
                raise AuditUnavailable(where, _reason(exc)) from None
            raise
        return cls(pool, url, attempts=attempts, backoff=backoff, backlog=backlog)

    def _retryable(self, exc: BaseException, *, effects_outside: bool) -> bool:
        # A conflict or a lost connection can come after the work ran: work with effects outside
        # the database (a global hide's file) is not done twice.
        return isinstance(exc, _RETRYABLE) and not effects_outside

    def _reason(self, exc: BaseException) -> str:
        return _reason(exc)

    async def _rewrite_version(self, db: _Connection) -> None:
        await db.execute("UPDATE storybot_schema SET version = version")

    async def _erase_traces(self) -> None:
        """After a forget: an UPDATE or DELETE leaves the old row version in the table's pages until
        a vacuum reclaims it (autovacuum waits for many changes), so the touched tables are vacuumed
        now. VACUUM cannot run inside a transaction: it has a connection of its own. FULL rewrites each
        table into new files and drops the old ones: a plain VACUUM marks the space free but leaves the
        bytes in the page. What PostgreSQL's own WAL holds is recycled at its checkpoints (README)."""
        try:
            async with self._connected().acquire() as db:
                await db.execute(f"VACUUM (FULL) {', '.join(TOUCHED_BY_FORGET)}")
        except _FAILURES as exc:
            log.warning("audit store %s: the forgotten rows are gone from the tables, but VACUUM failed (%s); "
                        "their old versions stay in the files until the next vacuum", self.path, _reason(exc))

    @contextlib.asynccontextmanager
    async def _reading(self) -> AsyncIterator[_Connection]:
        pool = self._connected()
        try:
            async with pool.acquire() as db:
                # One snapshot, so an entry's quotes and feedback agree with it.
                async with db.transaction(isolation="repeatable_read", readonly=True):
                    yield _Connection(db)
        except _FAILURES as exc:
            raise AuditUnavailable(self.path, _reason(exc)) from None

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[_Connection]:
        async with self._connected().acquire() as db:
            yield _Connection(db)


async def _schema_version(db: asyncpg.Connection) -> int:
    exists = await db.fetchval("SELECT to_regclass('storybot_schema') IS NOT NULL")
    if not exists:
        return 0
    return await db.fetchval("SELECT coalesce(max(version), 0) FROM storybot_schema")


async def _migrate(pool: asyncpg.Pool, where: str) -> None:
    async with pool.acquire() as db:
        # Checked before anything is changed: a newer schema is not ours to touch.
        found = await _schema_version(db)
        if found > len(MIGRATIONS):
            raise AuditSchemaTooNew(where, found, len(MIGRATIONS))
        if found == len(MIGRATIONS):
            return
        for version, script in enumerate(MIGRATIONS, start=1):
            # Each version commits with its record, under a lock: shards starting together take turns.
            async with db.transaction():
                await db.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
                await db.execute("CREATE TABLE IF NOT EXISTS storybot_schema (version INTEGER NOT NULL)")
                current = await _schema_version(db)
                if current > len(MIGRATIONS):
                    raise AuditSchemaTooNew(where, current, len(MIGRATIONS))
                if current < version:
                    await db.execute(script)
                    await db.execute("DELETE FROM storybot_schema")
                    await db.execute("INSERT INTO storybot_schema (version) VALUES ($1)", version)


def _reason(exc: BaseException) -> str:
    return str(exc) or exc.__class__.__name__
