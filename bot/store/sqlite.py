"""The audit store in one SQLite file (WAL mode), written through aiosqlite: the default, embedded.

    store = await SQLiteStore.open("storybot.db")
    audit_id = await store.record_answer(answer, Asker(guild_id="1", user_id="2", source="slash"))
    entry = await store.get(Scope.guild("1"), audit_id)

The queries are bot/store/core.py's; this file is SQLite's dialect of running them: one connection
behind a lock, BEGIN IMMEDIATE and the busy retries, PRAGMA user_version, secure_delete.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from bot.store.backlog import BacklogPolicy
from bot.store.core import Store
from bot.store.errors import AuditSchemaTooNew, AuditUnavailable
from bot.store.schema import SQLITE, migrations
from bot.store.values import fold

log = logging.getLogger(__name__)

# MIGRATIONS[n - 1] takes a log from schema version n - 1 to n (bot/store/schema.py); PRAGMA
# user_version records the version reached.
MIGRATIONS: tuple[str, ...] = migrations(SQLITE)


class _Connection:
    """aiosqlite's connection as bot/store/sql.py's `Connection`."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def fetch(self, sql: str, *args: Any) -> Sequence[sqlite3.Row]:
        return await self._db.execute_fetchall(sql, args)

    async def fetchone(self, sql: str, *args: Any) -> sqlite3.Row | None:
        rows = await self._db.execute_fetchall(sql, args)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = await self.fetchone(sql, *args)
        return None if row is None else row[0]

    async def execute(self, sql: str, *args: Any) -> int:
        return (await self._db.execute(sql, args)).rowcount

    async def executemany(self, sql: str, rows: Sequence[tuple]) -> None:
        await self._db.executemany(sql, rows)

    async def take_turns(self, *key: str) -> None:
        """Nothing to take: BEGIN IMMEDIATE holds the file's one write lock already."""

    async def begin(self) -> None:
        # IMMEDIATE takes the write lock up front, so a busy database fails here, before any work,
        # and never half way through (where SQLite could not wait for the lock).
        await self._db.execute("BEGIN IMMEDIATE")

    async def commit(self) -> None:
        await self._db.execute("COMMIT")

    async def rollback(self) -> None:
        await _rollback(self._db)


class SQLiteStore(Store):
    """An open SQLite audit store. `await SQLiteStore.open(path)`, then `close()` or `async with`."""

    backend = "sqlite"
    _FAILURES = (sqlite3.Error,)
    _UNWRITABLE_HINT = "make the file and its folder writable, or point STORYBOT_DB at one that is"

    def __init__(self, db: aiosqlite.Connection, path: Path, *, attempts: int = 3, busy_timeout: float = 1.0,
                 backoff: float = 0.1, backlog: BacklogPolicy = BacklogPolicy()) -> None:
        super().__init__(db, path, attempts=attempts, backoff=backoff, backlog=backlog)
        self._busy_timeout = busy_timeout
        # One connection serves every coroutine; its transactions must not interleave.
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | os.PathLike[str], *, attempts: int = 3, busy_timeout: float = 1.0,
                   backoff: float = 0.1, backlog: BacklogPolicy = BacklogPolicy()) -> "SQLiteStore":
        """Open (creating if needed) and migrate the log at `path`.

        A locked write waits up to `busy_timeout` seconds inside SQLite, then is tried again after
        `backoff`, 2 * `backoff`, ... seconds, `attempts` times in all: at most about 3.3 s by default.
        """
        path = Path(path)
        if path.is_dir():
            raise AuditUnavailable(path, "it is a folder, not a database file")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise AuditUnavailable(path, f"{path.parent} is a file, not a folder") from None
        except OSError as exc:
            raise AuditUnavailable(path, f"cannot create the folder {path.parent} ({exc.strerror or exc})") from None
        try:
            db = await aiosqlite.connect(path, isolation_level=None, timeout=busy_timeout)
        except sqlite3.Error as exc:
            raise AuditUnavailable(path, _reason(exc, path)) from None
        try:
            await _prepare_patiently(db, path, busy_timeout, backoff)
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                await db.close()
            if isinstance(exc, sqlite3.Error):
                raise AuditUnavailable(path, _reason(exc, path)) from None
            raise
        return cls(db, path, attempts=attempts, busy_timeout=busy_timeout, backoff=backoff, backlog=backlog)

    def _retryable(self, exc: BaseException, *, effects_outside: bool) -> bool:
        # A busy database fails at BEGIN IMMEDIATE, before the work ran: a retry never repeats
        # effects outside the database.
        return isinstance(exc, sqlite3.Error) and _is_busy(exc)

    def _reason(self, exc: BaseException) -> str:
        return _reason(exc, self.path)

    async def _rewrite_version(self, db: _Connection) -> None:
        version = await db.fetchval("PRAGMA user_version")
        await db.execute(f"PRAGMA user_version = {int(version)}")

    async def _erase_traces(self) -> None:
        """After a forget: the old rows' bytes are gone from the files, not only from the tables.
        secure_delete (set at open) zeroes what a change frees in the pages it touches; the
        checkpoint copies those pages into the main file and empties the -wal, which still held
        every earlier version of them. With another reader in the file (another process) the
        checkpoint cannot finish: logged, and the next forget, or SQLite's own checkpoints, finish it."""
        async with self._lock:
            db = self._connected()
            try:
                ((busy, _, _),) = await db.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                busy, reason = 1, str(exc)
            else:
                reason = "another connection is reading the file"
            if busy:
                log.warning("audit log %s: the forgotten rows are gone from the tables, but the -wal file could "
                            "not be emptied yet (%s)", self.path, reason)

    @contextlib.asynccontextmanager
    async def _reading(self) -> AsyncIterator[_Connection]:
        async with self._lock:
            db = self._connected()
            try:
                # One read transaction, so an entry's quotes and feedback come from the same snapshot.
                await db.execute("BEGIN")
                try:
                    yield _Connection(db)
                finally:
                    await _rollback(db)
            except sqlite3.Error as exc:
                raise AuditUnavailable(self.path, _reason(exc, self.path)) from None

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[_Connection]:
        async with self._lock:
            yield _Connection(self._connected())


# How long opening waits for other processes holding the file's lock (another process migrating
# a new file, a checkpoint, eight `storybot corpus hide` started at once on a loaded machine):
# opening happens once a process, so it may wait longer than a write an answer waits on.
OPEN_PATIENCE_SECONDS = 15.0


async def _prepare_patiently(db: aiosqlite.Connection, path: Path, busy_timeout: float, backoff: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + OPEN_PATIENCE_SECONDS
    pause = backoff
    while True:
        try:
            await _prepare(db, path, busy_timeout)
            return
        except sqlite3.Error as exc:
            if not _is_busy(exc) or loop.time() + pause > deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, 1.0)


async def _prepare(db: aiosqlite.Connection, path: Path, busy_timeout: float) -> None:
    db.row_factory = sqlite3.Row
    await db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    # Checked before anything else touches the file: a newer schema is not ours to change.
    found = await _user_version(db)
    if found > len(MIGRATIONS):
        raise AuditSchemaTooNew(path, found, len(MIGRATIONS))
    ((journal,),) = await db.execute_fetchall("PRAGMA journal_mode = WAL")
    if journal.lower() != "wal":
        raise AuditUnavailable(path, f"SQLite would not put it in WAL mode (journal_mode is {journal})")
    # In WAL mode a commit is a write() to the -wal file; NORMAL only skips the fsync, which waits for
    # the next checkpoint. Data handed to write() lives in the kernel's page cache, which outlives the
    # process, so a kill -9 or a crash of the bot loses no committed answer. Only a power cut or an OS
    # crash can drop the last few commits, and even then the file stays consistent (the WAL is checksummed).
    await db.execute("PRAGMA synchronous = NORMAL")
    await db.execute("PRAGMA foreign_keys = ON")
    # What a change frees (a forgotten question, a deleted report) is overwritten with zeros, not
    # left readable in the file's free space (SQLiteStore._erase_traces).
    await db.execute("PRAGMA secure_delete = ON")
    await db.create_function("audit_fold", 1, fold, deterministic=True)
    if found < len(MIGRATIONS):
        await _migrate(db)


async def _migrate(db: aiosqlite.Connection) -> None:
    for version, script in enumerate(MIGRATIONS, start=1):
        await db.execute("BEGIN IMMEDIATE")
        try:
            # Read again under the write lock: another process may have migrated since we looked.
            if await _user_version(db) < version:
                for statement in _statements(script):
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {version}")
            await db.execute("COMMIT")
        except BaseException:
            await _rollback(db)
            raise


def _statements(script: str) -> Iterator[str]:
    # Not executescript(): it COMMITs first, which would split a migration from its user_version bump.
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer
            buffer = ""
    if buffer.strip():
        yield buffer


async def _user_version(db: aiosqlite.Connection) -> int:
    ((version,),) = await db.execute_fetchall("PRAGMA user_version")
    return version


async def _rollback(db: aiosqlite.Connection) -> None:
    # A failed COMMIT may already have ended the transaction; then there is nothing to undo.
    with contextlib.suppress(sqlite3.Error):
        if db.in_transaction:
            await db.execute("ROLLBACK")


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def _reason(exc: sqlite3.Error, path: Path) -> str:
    reason = str(exc)
    folder = path.parent
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        reason += f"; the folder {folder} is not writable"
    return reason
