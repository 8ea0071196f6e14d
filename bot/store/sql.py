"""The pieces of SQL every store query shares, written once in the SQL both backends speak.

Queries take `?` placeholders; bot/store/postgres.py numbers them (`$1`, `$2`, ...) for asyncpg.
A query runs on a `Connection`: the one surface each backend gives the core (bot/store/core.py).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from bot.audit_store import Scope
from bot.store import rows as R
from bot.store.errors import UnknownAuditId
from bot.store.values import AuditEntry, now, storable, text_id, trimmed

ANSWER_COLUMNS = ", ".join(f"answers.{name}" for name in R.ANSWER_COLUMNS)
VOTES = "('helpful', 'not_helpful')"


class Connection(Protocol):
    """One transaction's connection, as each backend wraps its driver's."""

    async def fetch(self, sql: str, *args: Any) -> Sequence[Any]: ...

    async def fetchone(self, sql: str, *args: Any) -> Any | None: ...

    async def fetchval(self, sql: str, *args: Any) -> Any: ...

    async def execute(self, sql: str, *args: Any) -> int:
        """The number of rows the statement changed."""

    async def executemany(self, sql: str, rows: Sequence[tuple]) -> None: ...

    async def take_turns(self, *key: str) -> None:
        """Until the transaction ends, every other transaction taking turns on `key` waits (SQLite's
        one write lock does this already; PostgreSQL takes an advisory lock)."""

    # A connection for writing also has begin(), commit() and rollback() (bot/store/core.py's _transaction).


def scoped(scope: Scope, table: str = "answers") -> tuple[str, tuple]:
    """The WHERE clause that keeps a query inside the scope: every query of answers goes through it."""
    if scope.everything:
        return "1 = 1", ()
    if scope.guild_id is None:  # the DMs: not the command line, which only the operator sees
        return f"{table}.guild_id IS NULL AND {table}.source <> 'cli'", ()
    return f"{table}.guild_id = ?", (scope.guild_id,)


def moderation_scoped(scope: Scope, table: str | None = None) -> tuple[str, tuple]:
    """Moderation records, hides and report actions of the scope: a server's own; the DMs have none."""
    if scope.everything:
        return "1 = 1", ()
    if scope.guild_id is None:
        return "0 = 1", ()
    return f"{table + '.' if table else ''}guild_id = ?", (scope.guild_id,)


def quoted(columns: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' if name == "end" else name for name in columns)


def marks(n: int) -> str:
    return ", ".join("?" * n)


async def answer_in(db: Connection, scope: Scope, key: int, shown: object) -> str | None:
    """The answer's guild id, once it is known to exist inside the scope; else UnknownAuditId."""
    where, params = scoped(scope)
    row = await db.fetchone(f"SELECT guild_id FROM answers WHERE id = ? AND {where}", key, *params)
    if row is None:
        raise UnknownAuditId(shown)
    return row["guild_id"]


async def moderation_record(db: Connection, action: str, guild_id: str | None, doc_id: str, start: int, end: int,
                            reason: str | None, answer_id: int | None, user_id: int | str | None,
                            user_name: str | None) -> int:
    return await db.fetchval(
        'INSERT INTO moderation (created_at, action, doc_id, start, "end", reason, answer_id, user_id, user_name,'
        f" guild_id) VALUES ({marks(10)}) RETURNING id",
        now(), R.moderation_action(action), doc_id, start, end, trimmed(reason),
        None if answer_id is None else R.audit_key(answer_id), text_id(user_id), storable(user_name), guild_id)


async def add_hide(db: Connection, guild_id: str, doc_id: str, start: int, end: int, *, reason: str | None,
                   user_id: int | str | None, user_name: str | None) -> bool:
    """Hide the span in the server; False when the server hides it already."""
    added = await db.execute(
        'INSERT INTO guild_hidden (guild_id, doc_id, start, "end", user_id, user_name, reason, created_at)'
        f" VALUES ({marks(8)}) ON CONFLICT DO NOTHING",
        guild_id, doc_id, start, end, text_id(user_id), storable(user_name), trimmed(reason), now())
    return added > 0


async def entries(db: Connection, rows: Sequence[Any], *, scope: Scope | None = None) -> list[AuditEntry]:
    """The entries of `rows` with their quotes and feedback; given a scope, of every answer in it."""
    if not rows:
        return []
    if scope is not None:
        where, params = scoped(scope)
        where = f"WHERE answer_id IN (SELECT id FROM answers WHERE {where})"
    else:
        # Callers pass at most MAX_LIMIT rows, far below either backend's limit on bound parameters.
        params = tuple(row["id"] for row in rows)
        where = f"WHERE answer_id IN ({marks(len(params))})"
    quotes = await db.fetch(
        f'SELECT answer_id, rank, doc_id, start, "end", text_sha256, text, score FROM quotes {where}'
        " ORDER BY answer_id, rank", *params)
    feedback = await db.fetch(
        f"SELECT id, answer_id, created_at, kind, user_id, user_name, reason FROM feedback {where} ORDER BY id",
        *params)
    return R.entries(rows, quotes, feedback)
