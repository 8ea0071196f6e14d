"""The audit store's queries, written once: `Store` is the contract of bot/audit_store.py, and a
backend (bot/store/sqlite.py, bot/store/postgres.py) gives it connections and transactions.

A backend provides connections (bot/store/sql.py's `Connection`) for reading and writing, says
which failures are worth a retry, and how to erase a forgotten member's traces from its files.
The transactions, retries and every query are here, in the SQL both speak.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from bot.audit_store import Asker, Scope
from bot.store import rows as R
from bot.store.backlog import Backlog, BacklogPolicy
from bot.store.errors import AuditUnavailable, AuditWriteFailed, ReportLimitReached, UnknownAuditId
from bot.store.labels import LabelQueries
from bot.store.members import MemberQueries
from bot.store.moderation import ModerationQueries
from bot.store.posts import Post
from bot.store.sql import ANSWER_COLUMNS, VOTES, Connection, answer_in, entries, marks, scoped
from bot.store.values import (MOST_ASKED, REPORT_WINDOW_HOURS, REPORTS_PER_MEMBER_PER_DAY, AuditEntry, AuditStats,
                              GuildSettings, as_json, clamp, now, since, storable, text_id, trimmed)

if TYPE_CHECKING:
    from retrieval.answer import Answer

T = TypeVar("T")


class Store(ModerationQueries, MemberQueries, LabelQueries):
    """An open audit store; `close()` it, or use it with `async with`."""

    backend: str
    path: Any  # what errors and logs name: a file's path, a URL without its password

    def __init__(self, handle: Any, where: Any, *, attempts: int, backoff: float, backlog: BacklogPolicy) -> None:
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {attempts}")
        self.path = where
        self._handle = handle  # the driver's connection or pool; None once closed
        self._attempts = attempts
        self._backoff = backoff
        self._backlog = Backlog(self._insert_answer, where, backlog)

    # -- what a backend provides -------------------------------------------------------------

    _FAILURES: tuple[type[BaseException], ...]  # the driver's errors a write can fail with
    _UNWRITABLE_HINT: str  # how to fix a store that can be read but not written

    def _reading(self) -> contextlib.AbstractAsyncContextManager[Connection]:
        """One read transaction: a consistent snapshot."""
        raise NotImplementedError

    def _writing(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """A connection to run one write transaction on: `begin()`, `commit()`, `rollback()`."""
        raise NotImplementedError

    def _retryable(self, exc: BaseException, *, effects_outside: bool) -> bool:
        raise NotImplementedError

    def _reason(self, exc: BaseException) -> str:
        raise NotImplementedError

    async def _rewrite_version(self, db: Connection) -> None:
        """A write that changes nothing: can a transaction be committed here?"""
        raise NotImplementedError

    async def _erase_traces(self) -> None:
        raise NotImplementedError

    # -- transactions ------------------------------------------------------------------------

    async def _write(self, work: Callable[[Connection], Awaitable[T]], *, undo: Callable[[], None] | None = None,
                     effects_outside: bool = False, quiet: bool = False) -> T:
        """`work` in one write transaction, tried again after `backoff`, 2 * `backoff`, ... seconds
        while the backend says the failure is worth it. `undo` reverses what `work` did outside the
        database if the commit fails after it; `effects_outside` says it did something that must not
        be done twice."""
        for attempt in range(1, self._attempts + 1):
            try:
                return await self._transaction(work, undo)
            except self._FAILURES as exc:
                if attempt == self._attempts or not self._retryable(exc, effects_outside=effects_outside):
                    raise AuditWriteFailed(self.path, exc, attempt) from None
                delay = self._backoff * 2 ** (attempt - 1)
                logging.getLogger(type(self).__module__).log(
                    logging.DEBUG if quiet else logging.WARNING,
                    "audit store %s is busy or unreachable (%s); retrying in %.2f s (attempt %d of %d)",
                    self.path, self._reason(exc), delay, attempt + 1, self._attempts)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _transaction(self, work: Callable[[Connection], Awaitable[T]], undo: Callable[[], None] | None) -> T:
        async with self._writing() as db:
            await db.begin()
            try:
                result = await work(db)
            except BaseException:
                await db.rollback()
                raise
            try:
                await db.commit()
            except BaseException:
                await db.rollback()
                if undo is not None:
                    await asyncio.to_thread(undo)
                raise
            return result

    # -- life --------------------------------------------------------------------------------

    def _connected(self) -> Any:
        if self._handle is None:
            raise AuditUnavailable(self.path, "it has been closed")
        return self._handle

    async def close(self) -> None:
        """Write what waits in the backlog (or log it as lost), then close."""
        if self._handle is not None:
            await self._backlog.close()
            handle, self._handle = self._handle, None
            await handle.close()

    async def check_writable(self) -> None:
        """AuditUnavailable naming the store when a write cannot be committed to it: a store that can be
        read but not written would lose every answer's record."""
        try:
            await self._write(self._rewrite_version)
        except AuditWriteFailed as exc:
            raise AuditUnavailable(self.path, f"storybot cannot write to it ({self._reason(exc.error)}); "
                                              f"{self._UNWRITABLE_HINT}") from None

    async def __aenter__(self) -> "Store":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- answers -----------------------------------------------------------------------------

    async def record_answer(self, answer: "Answer", asker: Asker) -> int | None:
        """Store the answer and its quotes in one transaction; its audit id, or None while the store
        refuses writes and the answer waits in the backlog."""
        return await self._backlog.submit((R.answer_values(answer, asker), R.quote_values(answer)), answer.question)

    async def _insert_answer(self, prepared: tuple[dict[str, Any], list[tuple]], *, retrying: bool = False) -> int:
        # The backlog's retries, every second while a lock lasts, would repeat the same warning.
        row, quotes = prepared

        async def insert(db: Connection) -> int:
            audit_id = await db.fetchval(
                f"INSERT INTO answers ({', '.join(row)}) VALUES ({marks(len(row))}) RETURNING id", *row.values())
            if quotes:
                await db.executemany(
                    f'INSERT INTO quotes (answer_id, rank, doc_id, start, "end", text_sha256, text, score)'
                    f" VALUES ({marks(8)})", [(audit_id, *quote) for quote in quotes])
            return audit_id

        return await self._write(insert, quiet=retrying)

    async def get(self, scope: Scope, audit_id: int) -> AuditEntry:
        """The entry; UnknownAuditId when it does not exist or is outside the scope."""
        key = R.audit_key(audit_id)
        where, params = scoped(scope)
        async with self._reading() as db:
            rows = await db.fetch(f"SELECT {ANSWER_COLUMNS} FROM answers WHERE answers.id = ? AND {where}",
                                  key, *params)
            if not rows:
                raise UnknownAuditId(audit_id)
            return (await entries(db, rows))[0]

    async def recent(self, scope: Scope, limit: int = 10, *, status: str | None = None) -> list[AuditEntry]:
        """The latest answers in the scope, newest first; `limit` is clamped to 1..100."""
        where, params = scoped(scope)
        wanted = R.status_filter(status)
        if wanted is not None:
            where, params = f"{where} AND answers.status = ?", (*params, wanted)
        async with self._reading() as db:
            rows = await db.fetch(
                f"SELECT {ANSWER_COLUMNS} FROM answers WHERE {where} ORDER BY answers.id DESC LIMIT ?",
                *params, clamp(limit))
            return await entries(db, rows)

    async def reported(self, scope: Scope, limit: int = 20) -> list[AuditEntry]:
        """Answers someone reported, the most recently reported first; `limit` is clamped to 1..100."""
        where, params = scoped(scope)
        async with self._reading() as db:
            rows = await db.fetch(
                f"SELECT {ANSWER_COLUMNS}, max(feedback.id) AS last_report FROM answers"
                " JOIN feedback ON feedback.answer_id = answers.id AND feedback.kind = 'report'"
                f" WHERE {where} GROUP BY answers.id ORDER BY last_report DESC LIMIT ?", *params, clamp(limit))
            return await entries(db, rows)

    async def stats(self, scope: Scope) -> AuditStats:
        where, params = scoped(scope)
        async with self._reading() as db:
            questions, abstained = await db.fetchone(
                f"SELECT count(*), count(*) FILTER (WHERE abstained) FROM answers WHERE {where}", *params)
            kinds = dict(await db.fetch(
                "SELECT feedback.kind, count(*) FROM feedback JOIN answers ON answers.id = feedback.answer_id"
                f" WHERE {where} GROUP BY feedback.kind", *params))
            by_mode = await db.fetch(
                f"SELECT mode, count(*) AS n FROM answers WHERE {where} GROUP BY mode ORDER BY n DESC, mode", *params)
            by_status = await db.fetch(
                f"SELECT status, count(*) AS n FROM answers WHERE {where} GROUP BY status ORDER BY n DESC, status",
                *params)
            # Each repeated question shown in its latest wording: the row holding the group's max(id).
            asked = await db.fetch(
                "SELECT answers.question, top.n FROM answers JOIN ("
                f" SELECT count(*) AS n, max(id) AS latest FROM answers WHERE {where}"
                " GROUP BY question_key ORDER BY n DESC, latest DESC LIMIT ?"
                ") AS top ON answers.id = top.latest ORDER BY top.n DESC, top.latest DESC", *params, MOST_ASKED)
        return AuditStats(
            questions=questions,
            abstained=abstained,
            abstention_rate=abstained / questions if questions else 0.0,
            helpful=kinds.get("helpful", 0),
            not_helpful=kinds.get("not_helpful", 0),
            reports=kinds.get("report", 0),
            by_mode={mode: n for mode, n in by_mode},
            by_status={status: n for status, n in by_status},
            most_asked=[(question.strip(), n) for question, n in asked],
        )

    async def export(self, scope: Scope) -> list[dict]:
        """Every answer in the scope with its quotes and feedback, oldest first, as JSON-ready dicts."""
        where, params = scoped(scope)
        async with self._reading() as db:
            rows = await db.fetch(f"SELECT {ANSWER_COLUMNS} FROM answers WHERE {where} ORDER BY id", *params)
            found = await entries(db, rows, scope=scope)
        labelled = {label.answer_id: label for label in await self.labels(scope)}
        return [{**as_json(entry), "label": _label_json(labelled.get(entry.id))} for entry in found]

    # -- feedback ----------------------------------------------------------------------------

    async def record_vote(self, scope: Scope, audit_id: int, *, kind: str, user_id: int | str,
                          user_name: str | None) -> int:
        """Helpful / not helpful: one vote per member per answer, the last press stands. The vote's id."""
        kind = R.vote_kind(kind)
        key = R.audit_key(audit_id)

        async def upsert(db: Connection) -> int:
            await answer_in(db, scope, key, audit_id)
            return await db.fetchval(
                f"INSERT INTO feedback (answer_id, created_at, user_id, user_name, kind) VALUES ({marks(5)})"
                f" ON CONFLICT (answer_id, user_id) WHERE kind IN {VOTES} DO UPDATE SET kind = excluded.kind,"
                " created_at = excluded.created_at, user_name = excluded.user_name RETURNING id",
                key, now(), text_id(user_id), storable(user_name), kind)

        return await self._write(upsert)

    async def record_report(self, scope: Scope, audit_id: int, *, user_id: int | str, user_name: str | None,
                            reason: str | None) -> int:
        """Store a report; ReportLimitReached past the per-member limit. Returns the report's id."""
        key = R.audit_key(audit_id)
        member = text_id(user_id)

        async def insert(db: Connection) -> int:
            guild_id = await answer_in(db, scope, key, audit_id)
            # One member's reports are counted and added one at a time, whichever shard takes them.
            await db.take_turns("reports", member or "")
            filed = await db.fetchval(
                "SELECT count(*) FROM feedback JOIN answers ON answers.id = feedback.answer_id"
                " WHERE feedback.kind = 'report' AND feedback.user_id = ? AND feedback.created_at >= ?"
                " AND answers.guild_id IS NOT DISTINCT FROM ?", member, since(REPORT_WINDOW_HOURS), guild_id)
            if filed >= REPORTS_PER_MEMBER_PER_DAY:
                raise ReportLimitReached(member, REPORTS_PER_MEMBER_PER_DAY, REPORT_WINDOW_HOURS)
            return await db.fetchval(
                "INSERT INTO feedback (answer_id, created_at, user_id, user_name, kind, reason)"
                f" VALUES ({marks(4)}, 'report', ?) RETURNING id",
                key, now(), member, storable(user_name), trimmed(reason))

        return await self._write(insert)

    async def record_post(self, post: Post) -> None:
        """Remember a message the bot posted about an answer (bot/store/posts.py)."""

        async def insert(db: Connection) -> None:
            await db.execute(
                "INSERT INTO posts (message_id, kind, guild_id, channel_id, answer_id, report_id, created_at)"
                f" VALUES ({marks(7)}) ON CONFLICT (message_id) DO NOTHING", post.message_id, post.kind,
                post.guild_id, post.channel_id, R.audit_key(post.answer_id), post.report_id, now())

        await self._write(insert)

    # -- per-server settings -----------------------------------------------------------------

    async def guild_settings(self, guild_id: int | str) -> GuildSettings:
        """That server's settings; the defaults until it saves some."""
        async with self._reading() as db:
            row = await db.fetchone(
                "SELECT public_channels, cooldown_seconds, mod_log_channel, find_sources_public FROM guild_settings"
                " WHERE guild_id = ?", text_id(guild_id))
        return R.guild_settings(row, text_id(guild_id)) if row is not None else GuildSettings()

    async def save_guild_settings(self, scope: Scope, settings: GuildSettings, *, user_id: int | str | None = None,
                                  user_name: str | None = None) -> GuildSettings:
        """Check and store a server's settings (all of them at once); the settings as stored."""
        guild_id = R.guild_of(scope, "a server's settings")
        checked = settings.checked()
        values = R.settings_values(checked)

        async def upsert(db: Connection) -> None:
            await db.execute(
                "INSERT INTO guild_settings (guild_id, public_channels, cooldown_seconds, mod_log_channel,"
                f" find_sources_public, updated_at, updated_by, updated_by_id) VALUES ({marks(8)})"
                " ON CONFLICT (guild_id) DO UPDATE SET public_channels = excluded.public_channels,"
                " cooldown_seconds = excluded.cooldown_seconds, mod_log_channel = excluded.mod_log_channel,"
                " find_sources_public = excluded.find_sources_public, updated_at = excluded.updated_at,"
                " updated_by = excluded.updated_by, updated_by_id = excluded.updated_by_id",
                guild_id, values["public_channels"], values["cooldown_seconds"], values["mod_log_channel"],
                bool(values["find_sources_public"]), now(), text_id(user_id), text_id(user_id))

        await self._write(upsert)
        return checked


def _label_json(label) -> dict | None:
    """A moderator's label on an exported answer (bot/store/labels.py): no question or quote of
    its own, so only what the label adds."""
    if label is None:
        return None
    return {"id": label.id, "verdict": label.verdict, "quote_rank": label.quote_rank, "note": label.note,
            "user_id": label.user_id, "user_name": label.user_name, "created_at": label.created_at}
