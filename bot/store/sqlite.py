"""The audit store in one SQLite file (WAL mode), written through aiosqlite: the default, embedded.

    store = await SQLiteStore.open("storybot.db")
    audit_id = await store.record_answer(answer, Asker(guild_id="1", user_id="2", source="slash"))
    entry = await store.get(Scope.guild("1"), audit_id)

Every SQLite-ism (PRAGMA user_version, BEGIN IMMEDIATE, the busy retries, `IS` for NULL-safe
equality) stays in this file; bot/store/postgres.py is the same contract in PostgreSQL's words.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import aiosqlite

from bot.audit_store import Asker, Scope
from bot.store import rows as R
from bot.store.sqlite_community import MIGRATION as SQLITE_COMMUNITY_MIGRATION, SQLiteCommunity
from bot.store.backlog import Backlog, BacklogPolicy
from bot.store.posts import POST_COLUMNS, SQLITE_MIGRATION as POSTS_MIGRATION, Post, to_edit
from bot.store.errors import (AuditSchemaTooNew, AuditUnavailable, AuditWriteFailed, ReportLimitReached,
                              SpanAlreadyHidden, SpanNotHidden, UnknownAuditId)
from bot.store.values import (MOST_ASKED, REPORT_WINDOW_HOURS, REPORTS_PER_MEMBER_PER_DAY, AuditEntry, AuditStats,
                              Forgotten, GuildHide, GuildSettings, MemberData, Moderation, as_json, clamp, fold, now,
                              since, storable, text_id, trimmed)

if TYPE_CHECKING:
    from retrieval.answer import Answer
    from retrieval.index import HiddenSpan

log = logging.getLogger(__name__)

T = TypeVar("T")

# MIGRATIONS[n - 1] takes a log from schema version n - 1 to n; PRAGMA user_version records the
# version reached. Never edit a released migration: append a new one. bot/store/postgres.py has
# the same versions in PostgreSQL's dialect.
MIGRATIONS: tuple[str, ...] = (
    """
    -- AUTOINCREMENT so an id is never reused: Discord buttons and moderators' notes point at it.
    CREATE TABLE answers (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,
        guild_id TEXT,
        channel_id TEXT,
        user_id TEXT,
        user_name TEXT,
        question TEXT NOT NULL,
        mode TEXT NOT NULL,
        abstained INTEGER NOT NULL CHECK (abstained IN (0, 1)),
        corpus_version TEXT NOT NULL,
        model TEXT,
        latency_ms REAL NOT NULL
    );
    CREATE TABLE quotes (
        answer_id INTEGER NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
        rank INTEGER NOT NULL CHECK (rank >= 1),
        doc_id TEXT NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        text_sha256 TEXT NOT NULL,
        text TEXT NOT NULL,
        score REAL NOT NULL,
        PRIMARY KEY (answer_id, rank)
    );
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        answer_id INTEGER NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        user_id TEXT,
        user_name TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('helpful', 'not_helpful', 'report')),
        reason TEXT
    );
    -- get(), recent() and export() fetch the feedback of given answers.
    CREATE INDEX feedback_by_answer ON feedback(answer_id);
    -- reported() and stats() go through the feedback of one kind (covering: the rowid is the id).
    CREATE INDEX feedback_by_kind ON feedback(kind, answer_id);
    """,
    """
    -- Moderators hiding and unhiding passages: who, what, why. The hidden list itself lives in
    -- the corpus folder (hidden.yaml); this is the record of each decision.
    CREATE TABLE moderation (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('hide', 'unhide')),
        doc_id TEXT NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        reason TEXT,
        answer_id INTEGER REFERENCES answers(id),
        user_id TEXT,
        user_name TEXT
    );
    """,
    """
    -- What the engine decided and why, and where the question came from.
    ALTER TABLE answers ADD COLUMN status TEXT NOT NULL DEFAULT 'answered'
        CHECK (status IN ('answered', 'uncertain', 'not_covered'));
    UPDATE answers SET status = 'not_covered' WHERE abstained = 1;
    ALTER TABLE answers ADD COLUMN reason TEXT;
    ALTER TABLE answers ADD COLUMN source TEXT NOT NULL DEFAULT 'slash' CHECK (source IN ('slash', 'message', 'cli'));
    UPDATE answers SET source = 'cli' WHERE channel_id = 'cli';
    ALTER TABLE answers ADD COLUMN message_id TEXT;
    ALTER TABLE answers ADD COLUMN message_author_id TEXT;
    -- Every moderator's view is one server's answers, newest first, sometimes of one status.
    CREATE INDEX answers_by_guild ON answers(guild_id, id);
    CREATE INDEX answers_by_guild_status ON answers(guild_id, status, id);
    CREATE INDEX answers_by_status ON answers(status, id);

    -- A server's hides are its own; NULL is the operator's global hide (hidden.yaml).
    ALTER TABLE moderation ADD COLUMN guild_id TEXT;
    CREATE INDEX moderation_by_guild ON moderation(guild_id, id);
    CREATE TABLE guild_hidden (
        guild_id TEXT NOT NULL,
        doc_id TEXT NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        user_id TEXT,
        user_name TEXT,
        reason TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (guild_id, doc_id, start, "end"),
        CHECK (0 <= start AND start < "end")
    );

    -- One vote per member per answer, the last press standing. Earlier presses of the same
    -- member counted again and again; they move aside, kept, so the upgrade loses no row.
    CREATE TABLE superseded_votes AS SELECT * FROM feedback WHERE 0;
    INSERT INTO superseded_votes SELECT * FROM feedback
        WHERE kind IN ('helpful', 'not_helpful') AND user_id IS NOT NULL AND id NOT IN (
            SELECT max(id) FROM feedback WHERE kind IN ('helpful', 'not_helpful') AND user_id IS NOT NULL
            GROUP BY answer_id, user_id);
    DELETE FROM feedback WHERE id IN (SELECT id FROM superseded_votes);
    CREATE UNIQUE INDEX one_vote_per_member ON feedback(answer_id, user_id) WHERE kind IN ('helpful', 'not_helpful');
    -- The per-member report limit counts one member's recent reports.
    CREATE INDEX reports_by_member ON feedback(user_id, created_at) WHERE kind = 'report';

    -- Repeats of a question are counted under one key, folded in Python when the answer is stored
    -- (casefold() knows every script; SQL's lower() does not, in either backend).
    ALTER TABLE answers ADD COLUMN question_key TEXT;
    UPDATE answers SET question_key = audit_fold(question);
    CREATE INDEX answers_by_guild_question ON answers(guild_id, question_key);
    """,
    """
    -- Each server's settings (/settings), shared by every shard. public_channels is a JSON list of ids.
    CREATE TABLE guild_settings (
        guild_id TEXT PRIMARY KEY,
        public_channels TEXT NOT NULL DEFAULT '[]',
        cooldown_seconds REAL,
        mod_log_channel TEXT,
        find_sources_public INTEGER NOT NULL DEFAULT 0 CHECK (find_sources_public IN (0, 1)),
        updated_at TEXT NOT NULL,
        updated_by TEXT
    );
    -- A member's data is found by who they are (/mydata, /forget-me) and by age (retention).
    CREATE INDEX answers_by_user ON answers(user_id);
    CREATE INDEX answers_by_message_author ON answers(message_author_id);
    CREATE INDEX answers_by_time ON answers(created_at);
    CREATE INDEX feedback_by_user ON feedback(user_id);
    CREATE INDEX feedback_by_time ON feedback(created_at);
    """,
    SQLITE_COMMUNITY_MIGRATION,
    POSTS_MIGRATION,
)

_ANSWER_COLUMNS = ", ".join(f"answers.{name}" for name in R.ANSWER_COLUMNS)
_VOTES = "('helpful', 'not_helpful')"


def _scoped(scope: Scope, table: str = "answers") -> tuple[str, tuple]:
    """The WHERE clause that keeps a query inside the scope: every query goes through it."""
    if scope.everything:
        return "1 = 1", ()
    if scope.guild_id is None:  # the DMs: not the command line, which only the operator sees
        return f"{table}.guild_id IS NULL AND {table}.source != 'cli'", ()
    return f"{table}.guild_id = ?", (scope.guild_id,)


class SQLiteStore(SQLiteCommunity):
    """An open SQLite audit store. `await SQLiteStore.open(path)`, then `close()` or `async with`."""

    backend = "sqlite"

    def __init__(self, db: aiosqlite.Connection, path: Path, *, attempts: int = 3, busy_timeout: float = 1.0,
                 backoff: float = 0.1, backlog: BacklogPolicy = BacklogPolicy()) -> None:
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {attempts}")
        self.path = path
        self._db: aiosqlite.Connection | None = db
        self._attempts = attempts
        self._busy_timeout = busy_timeout
        self._backoff = backoff
        # One connection serves every coroutine; its transactions must not interleave.
        self._lock = asyncio.Lock()
        self._backlog = Backlog(self._insert_answer, path, backlog)

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
            await _prepare(db, path, busy_timeout)
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                await db.close()
            if isinstance(exc, sqlite3.Error):
                raise AuditUnavailable(path, _reason(exc, path)) from None
            raise
        return cls(db, path, attempts=attempts, busy_timeout=busy_timeout, backoff=backoff, backlog=backlog)

    async def close(self) -> None:
        """Write what waits in the backlog (or log it as lost), then close."""
        if self._db is not None:
            await self._backlog.close()
            db, self._db = self._db, None
            await db.close()

    async def check_writable(self) -> None:
        """AuditUnavailable naming the file when a write cannot be committed to it (a read-only file,
        or a folder where SQLite cannot keep its -wal file): a store that can be read but not written
        would lose every answer's record."""

        async def rewrite_version(db: aiosqlite.Connection) -> None:
            ((version,),) = await db.execute_fetchall("PRAGMA user_version")
            await db.execute(f"PRAGMA user_version = {int(version)}")

        try:
            await self._write(rewrite_version)
        except AuditWriteFailed as exc:
            raise AuditUnavailable(self.path, "storybot cannot write to it (" + _reason(exc.error, self.path)
                                   + "); make the file and its folder writable, or point STORYBOT_DB at one "
                                   "that is") from None

    async def __aenter__(self) -> "SQLiteStore":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- answers ---------------------------------------------------------------------------

    async def record_answer(self, answer: "Answer", asker: Asker) -> int | None:
        """Store the answer and its quotes in one transaction; its audit id, or None while the log
        refuses writes and the answer waits in the backlog."""
        row = R.answer_values(answer, asker)
        row["abstained"] = int(row["abstained"])
        return await self._backlog.submit((row, R.quote_values(answer)), answer.question)

    async def _insert_answer(self, prepared: tuple[dict[str, Any], list[tuple]], *, retrying: bool = False) -> int:
        # The backlog's retries, every second while a lock lasts, would repeat the same warning.
        row, quotes = prepared

        async def insert(db: aiosqlite.Connection) -> int:
            names = ", ".join(row)
            (audit_id,) = await db.execute_insert(
                f"INSERT INTO answers ({names}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))
            await db.executemany(
                'INSERT INTO quotes (answer_id, rank, doc_id, start, "end", text_sha256, text, score)'
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(audit_id, *quote) for quote in quotes],
            )
            return audit_id

        return await self._write(insert, quiet=retrying)

    async def get(self, scope: Scope, audit_id: int) -> AuditEntry:
        """The entry; UnknownAuditId when it does not exist or is outside the scope."""
        key = R.audit_key(audit_id)
        where, params = _scoped(scope)
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                f"SELECT {_ANSWER_COLUMNS} FROM answers WHERE answers.id = ? AND {where}", (key, *params))
            if not rows:
                raise UnknownAuditId(audit_id)
            return (await _entries(db, rows))[0]

    async def recent(self, scope: Scope, limit: int = 10, *, status: str | None = None) -> list[AuditEntry]:
        """The latest answers in the scope, newest first; `limit` is clamped to 1..100."""
        where, params = _scoped(scope)
        wanted = R.status_filter(status)
        if wanted is not None:
            where, params = f"{where} AND answers.status = ?", (*params, wanted)
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                f"SELECT {_ANSWER_COLUMNS} FROM answers WHERE {where} ORDER BY answers.id DESC LIMIT ?",
                (*params, clamp(limit)))
            return await _entries(db, rows)

    async def reported(self, scope: Scope, limit: int = 20) -> list[AuditEntry]:
        """Answers someone reported, the most recently reported first; `limit` is clamped to 1..100."""
        where, params = _scoped(scope)
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                f"SELECT {_ANSWER_COLUMNS}, max(feedback.id) AS last_report FROM answers"
                " JOIN feedback ON feedback.answer_id = answers.id AND feedback.kind = 'report'"
                f" WHERE {where} GROUP BY answers.id ORDER BY last_report DESC LIMIT ?",
                (*params, clamp(limit)),
            )
            return await _entries(db, rows)

    async def stats(self, scope: Scope) -> AuditStats:
        where, params = _scoped(scope)
        async with self._reading() as db:
            ((questions, abstained),) = await db.execute_fetchall(
                f"SELECT count(*), coalesce(sum(abstained), 0) FROM answers WHERE {where}", params)
            kinds = dict(await db.execute_fetchall(
                "SELECT feedback.kind, count(*) FROM feedback JOIN answers ON answers.id = feedback.answer_id"
                f" WHERE {where} GROUP BY feedback.kind", params))
            by_mode = await db.execute_fetchall(
                f"SELECT mode, count(*) AS n FROM answers WHERE {where} GROUP BY mode ORDER BY n DESC, mode", params)
            by_status = await db.execute_fetchall(
                f"SELECT status, count(*) AS n FROM answers WHERE {where} GROUP BY status ORDER BY n DESC, status",
                params)
            # SQLite takes the bare `question` from the row holding max(id): the latest wording.
            asked = await db.execute_fetchall(
                f"SELECT question, count(*) AS n, max(id) AS latest FROM answers WHERE {where}"
                " GROUP BY question_key ORDER BY n DESC, latest DESC LIMIT ?",
                (*params, MOST_ASKED),
            )
        return AuditStats(
            questions=questions,
            abstained=abstained,
            abstention_rate=abstained / questions if questions else 0.0,
            helpful=kinds.get("helpful", 0),
            not_helpful=kinds.get("not_helpful", 0),
            reports=kinds.get("report", 0),
            by_mode={mode: n for mode, n in by_mode},
            by_status={status: n for status, n in by_status},
            most_asked=[(question.strip(), n) for question, n, _ in asked],
        )

    async def export(self, scope: Scope) -> list[dict]:
        """Every answer in the scope with its quotes and feedback, oldest first, as JSON-ready dicts."""
        where, params = _scoped(scope)
        async with self._reading() as db:
            rows = await db.execute_fetchall(f"SELECT {_ANSWER_COLUMNS} FROM answers WHERE {where} ORDER BY id",
                                             params)
            found = await _entries(db, rows, scope=scope)
        return [as_json(entry) for entry in found]

    # -- feedback --------------------------------------------------------------------------

    async def record_vote(self, scope: Scope, audit_id: int, *, kind: str, user_id: int | str,
                          user_name: str | None) -> int:
        """Helpful / not helpful: one vote per member per answer, the last press stands. The vote's id."""
        kind = R.vote_kind(kind)
        key = R.audit_key(audit_id)

        async def upsert(db: aiosqlite.Connection) -> int:
            await _answer_in(db, scope, key, audit_id)
            (vote_id,) = (await db.execute_fetchall(
                "INSERT INTO feedback (answer_id, created_at, user_id, user_name, kind) VALUES (?, ?, ?, ?, ?)"
                f" ON CONFLICT (answer_id, user_id) WHERE kind IN {_VOTES} DO UPDATE SET kind = excluded.kind,"
                " created_at = excluded.created_at, user_name = excluded.user_name RETURNING id",
                (key, now(), text_id(user_id), storable(user_name), kind)))[0]
            return vote_id

        return await self._write(upsert)

    async def record_report(self, scope: Scope, audit_id: int, *, user_id: int | str, user_name: str | None,
                            reason: str | None) -> int:
        """Store a report; ReportLimitReached past the per-member limit. Returns the report's id."""
        key = R.audit_key(audit_id)
        member = text_id(user_id)

        async def insert(db: aiosqlite.Connection) -> int:
            guild_id = await _answer_in(db, scope, key, audit_id)
            ((filed,),) = await db.execute_fetchall(
                "SELECT count(*) FROM feedback JOIN answers ON answers.id = feedback.answer_id"
                " WHERE feedback.kind = 'report' AND feedback.user_id = ? AND feedback.created_at >= ?"
                " AND answers.guild_id IS ?",
                (member, since(REPORT_WINDOW_HOURS), guild_id))
            if filed >= REPORTS_PER_MEMBER_PER_DAY:
                raise ReportLimitReached(member, REPORTS_PER_MEMBER_PER_DAY, REPORT_WINDOW_HOURS)
            (report_id,) = await db.execute_insert(
                "INSERT INTO feedback (answer_id, created_at, user_id, user_name, kind, reason)"
                " VALUES (?, ?, ?, ?, 'report', ?)",
                (key, now(), member, storable(user_name), trimmed(reason)))
            return report_id

        return await self._write(insert)

    # -- moderation ------------------------------------------------------------------------

    async def hide(self, scope: Scope, span: "HiddenSpan", *, reason: str, answer_id: int | None = None,
                   user_id: int | str | None = None, user_name: str | None = None) -> int:
        """Hide a span in one server's answers, with its moderation record, in one transaction.
        The record's id; SpanAlreadyHidden when that server hides it already."""
        guild_id = R.guild_of(scope, "hiding a passage for one server")
        doc_id, start, end = R.span_of(span)

        async def insert(db: aiosqlite.Connection) -> int:
            if answer_id is not None:
                await _answer_in(db, scope, R.audit_key(answer_id), answer_id)
            cursor = await db.execute(
                'INSERT INTO guild_hidden (guild_id, doc_id, start, "end", user_id, user_name, reason, created_at)'
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (guild_id, doc_id, start, end, text_id(user_id), storable(user_name), trimmed(reason), now()))
            if cursor.rowcount == 0:
                raise SpanAlreadyHidden(guild_id, doc_id, start, end)
            return await _moderation_record(db, "hide", guild_id, doc_id, start, end, reason, answer_id, user_id,
                                            user_name)

        return await self._write(insert)

    async def unhide(self, scope: Scope, span: "HiddenSpan", *, reason: str, answer_id: int | None = None,
                     user_id: int | str | None = None, user_name: str | None = None) -> int:
        """Let a server quote a span it hid again; SpanNotHidden when it does not hide it."""
        guild_id = R.guild_of(scope, "unhiding a passage for one server")
        doc_id, start, end = R.span_of(span)

        async def delete(db: aiosqlite.Connection) -> int:
            if answer_id is not None:
                await _answer_in(db, scope, R.audit_key(answer_id), answer_id)
            cursor = await db.execute(
                'DELETE FROM guild_hidden WHERE guild_id = ? AND doc_id = ? AND start = ? AND "end" = ?',
                (guild_id, doc_id, start, end))
            if cursor.rowcount == 0:
                raise SpanNotHidden(guild_id, doc_id, start, end)
            return await _moderation_record(db, "unhide", guild_id, doc_id, start, end, reason, answer_id, user_id,
                                            user_name)

        return await self._write(delete)

    async def moderate_globally(self, action: str, span: "HiddenSpan", *, reason: str | None,
                                apply: Callable[[], bool], undo: Callable[[], None] | None = None,
                                user_id: int | str | None = None, user_name: str | None = None) -> int | None:
        """The operator's hide or unhide for every server (corpus/hidden.yaml) and its record, together
        or not at all, one at a time across processes.

        Inside one write transaction (which holds the database's write lock, so a second process's
        call waits here): the record is inserted, then `apply()` changes the file. `apply` returns
        False when there was nothing to change (already hidden; not hidden): the record is rolled back
        and None returned. If `apply` raises, the record is rolled back and the error raised. If the
        commit itself fails, `undo()` puts the file back and AuditWriteFailed is raised. The record's id.
        """
        action = R.moderation_action(action)
        doc_id, start, end = R.span_of(span)

        async def insert(db: aiosqlite.Connection) -> int | None:
            record_id = await _moderation_record(db, action, None, doc_id, start, end, reason, None, user_id, user_name)
            try:
                changed = await asyncio.to_thread(apply)
            except Exception as exc:
                raise _ApplyFailed(exc) from exc  # the caller's error, not the database's: no retry
            if not changed:
                raise _NothingChanged
            return record_id

        try:
            return await self._write(insert, undo=undo)
        except _NothingChanged:
            return None
        except _ApplyFailed as failed:
            raise failed.error from None

    async def hidden_spans(self, guild_id: int | str | None) -> frozenset["HiddenSpan"]:
        """The spans hidden in that server (empty for None: DMs and the CLI get the global hides only)."""
        from retrieval.index import HiddenSpan

        return frozenset(HiddenSpan(h.doc_id, h.start, h.end) for h in await self.guild_hides(guild_id))

    async def guild_hides(self, guild_id: int | str | None) -> list[GuildHide]:
        """That server's hides with who, why and when, oldest first."""
        if guild_id is None:
            return []
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                f"SELECT {', '.join(_quoted(R.HIDE_COLUMNS))} FROM guild_hidden WHERE guild_id = ?"
                " ORDER BY created_at, doc_id, start", (text_id(guild_id),))
        return [R.guild_hide(row) for row in rows]

    async def moderation(self, scope: Scope, limit: int = 20) -> list[Moderation]:
        """Hide and unhide decisions in the scope, newest first (the operator's global ones included
        in the operator's scope only)."""
        where, params = _moderation_scoped(scope)
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                f"SELECT {', '.join(_quoted(R.MODERATION_COLUMNS))} FROM moderation WHERE {where}"
                " ORDER BY id DESC LIMIT ?", (*params, clamp(limit)))
        return [R.moderation(row) for row in rows]

    # -- per-server settings ---------------------------------------------------------------

    async def guild_settings(self, guild_id: int | str) -> GuildSettings:
        """That server's settings; the defaults until it saves some."""
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                "SELECT public_channels, cooldown_seconds, mod_log_channel, find_sources_public FROM guild_settings"
                " WHERE guild_id = ?", (text_id(guild_id),))
        return R.guild_settings(rows[0], text_id(guild_id)) if rows else GuildSettings()

    async def save_guild_settings(self, scope: Scope, settings: GuildSettings, *, user_id: int | str | None = None,
                                  user_name: str | None = None) -> GuildSettings:
        """Check and store a server's settings (all of them at once); the settings as stored."""
        guild_id = R.guild_of(scope, "a server's settings")
        checked = settings.checked()
        values = R.settings_values(checked)

        async def upsert(db: aiosqlite.Connection) -> None:
            await db.execute(
                "INSERT INTO guild_settings (guild_id, public_channels, cooldown_seconds, mod_log_channel,"
                " find_sources_public, updated_at, updated_by, updated_by_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (guild_id) DO UPDATE SET public_channels = excluded.public_channels,"
                " cooldown_seconds = excluded.cooldown_seconds, mod_log_channel = excluded.mod_log_channel,"
                " find_sources_public = excluded.find_sources_public, updated_at = excluded.updated_at,"
                " updated_by = excluded.updated_by, updated_by_id = excluded.updated_by_id",
                (guild_id, values["public_channels"], values["cooldown_seconds"], values["mod_log_channel"],
                 int(values["find_sources_public"]), now(), text_id(user_id), text_id(user_id)))

        await self._write(upsert)
        return checked

    # -- members' data --------------------------------------------------------------------

    async def mydata(self, scope: Scope, user_id: int | str) -> MemberData:
        """Everything the store holds about one member in the scope (/mydata)."""
        member = text_id(user_id)
        where, params = _scoped(scope)
        async with self._reading() as db:
            asked = await db.execute_fetchall(
                f"SELECT {_ANSWER_COLUMNS} FROM answers WHERE answers.user_id = ? AND {where} ORDER BY id",
                (member, *params))
            theirs = await db.execute_fetchall(
                f"SELECT {_ANSWER_COLUMNS} FROM answers WHERE answers.message_author_id = ? AND {where} ORDER BY id",
                (member, *params))
            feedback = await db.execute_fetchall(
                "SELECT feedback.answer_id, feedback.id, feedback.created_at, feedback.kind, feedback.reason"
                f" FROM feedback JOIN answers ON answers.id = feedback.answer_id WHERE feedback.user_id = ? AND {where}"
                " ORDER BY feedback.id", (member, *params))
            mod_where, mod_params = _moderation_scoped(scope)
            moderation = await db.execute_fetchall(
                f"SELECT {', '.join(_quoted(R.MODERATION_COLUMNS))} FROM moderation WHERE user_id = ? AND {mod_where}"
                " ORDER BY id", (member, *mod_params))
            return R.member_data(member, await _entries(db, asked), await _entries(db, theirs), feedback,
                                 [R.moderation(row) for row in moderation])

    async def forget(self, scope: Scope, user_id: int | str) -> Forgotten:
        """Remove one member's questions, votes and reports in the scope (/forget-me; `storybot audit
        forget`). The answers' quotes stay, under a pseudonym; so do their moderation actions."""
        member = text_id(user_id)
        pseudonym = R.pseudonym()
        where, params = _scoped(scope)
        mod_where, mod_params = _moderation_scoped(scope)

        async def forget(db: aiosqlite.Connection) -> Forgotten:
            # First, the bot's posts that show what is about to go, for the bot to edit.
            theirs = f"SELECT id FROM answers WHERE (answers.user_id = ? OR answers.message_author_id = ?) AND {where}"
            reports = ("SELECT feedback.id FROM feedback JOIN answers ON answers.id = feedback.answer_id"
                       f" WHERE feedback.user_id = ? AND feedback.kind = 'report' AND {where}")
            their_answers = {row[0] for row in await db.execute_fetchall(theirs, (member, member, *params))}
            their_reports = {row[0] for row in await db.execute_fetchall(reports, (member, *params))}
            posts = await db.execute_fetchall(
                f"SELECT {', '.join(POST_COLUMNS)} FROM posts WHERE answer_id IN ({theirs}) OR report_id IN ({reports})",
                (member, member, *params, member, *params))
            asked = await db.execute(
                "UPDATE answers SET question = '', question_key = NULL, reason = NULL, user_id = NULL, user_name = ?"
                f" WHERE answers.user_id = ? AND {where}", (pseudonym, member, *params))
            # Their message's id with its channel and server is a link to it: it goes with its author.
            of_theirs = await db.execute(
                "UPDATE answers SET question = '', question_key = NULL, reason = NULL, message_author_id = NULL,"
                f" message_id = NULL WHERE answers.message_author_id = ? AND {where}", (member, *params))
            in_scope = f"answer_id IN (SELECT id FROM answers WHERE {where})"
            feedback = await db.execute(f"DELETE FROM feedback WHERE user_id = ? AND {in_scope}", (member, *params))
            await db.execute(f"DELETE FROM superseded_votes WHERE user_id = ? AND {in_scope}", (member, *params))
            moderation = await db.execute(
                f"UPDATE moderation SET user_id = NULL, user_name = ? WHERE user_id = ? AND {mod_where}",
                (pseudonym, member, *mod_params))
            hides = await db.execute(
                f"UPDATE guild_hidden SET user_id = NULL, user_name = ? WHERE user_id = ? AND {mod_where}",
                (pseudonym, member, *mod_params))
            decided = await db.execute(  # their decisions on reports in the mod-log channel
                f"UPDATE report_actions SET user_id = NULL, user_name = ? WHERE user_id = ? AND {mod_where}",
                (pseudonym, member, *mod_params))
            settings = await db.execute(  # the server settings they saved last
                f"UPDATE guild_settings SET updated_by = ?, updated_by_id = NULL WHERE updated_by_id = ? AND {mod_where}",
                (pseudonym, member, *mod_params))
            return Forgotten(asked.rowcount + of_theirs.rowcount, feedback.rowcount,
                             moderation.rowcount + hides.rowcount + decided.rowcount + settings.rowcount,
                             to_edit(posts, their_answers, their_reports))

        forgotten = await self._write(forget)
        await self._erase_traces()
        return forgotten

    async def delete_older_than(self, days: float) -> Forgotten:
        """Retention (STORYBOT_RETENTION_DAYS): every member's questions and feedback older than `days`
        are removed, in every server; the answers' quotes and the moderation records stay."""
        cutoff = since(R.retention_hours(days))

        async def expire(db: aiosqlite.Connection) -> Forgotten:
            asked = await db.execute(
                "UPDATE answers SET question = '', question_key = NULL, reason = NULL, user_id = NULL,"
                " user_name = NULL, message_author_id = NULL WHERE created_at < ?"
                " AND (question != '' OR user_id IS NOT NULL OR user_name IS NOT NULL OR message_author_id IS NOT NULL)",
                (cutoff,))
            feedback = await db.execute("DELETE FROM feedback WHERE created_at < ?", (cutoff,))
            await db.execute("DELETE FROM superseded_votes WHERE created_at < ?", (cutoff,))
            return Forgotten(asked.rowcount, feedback.rowcount, 0)

        expired = await self._write(expire)
        if expired.questions or expired.feedback:
            await self._erase_traces()
        return expired

    async def _erase_traces(self) -> None:
        """After a forget: the old rows' bytes are gone from the files, not only from the tables.
        secure_delete (set at open) zeroes what a change frees in the pages it touches; the
        checkpoint copies those pages into the main file and empties the -wal, which still held
        every earlier version of them. With another reader in the file (another process) the
        checkpoint cannot finish: logged, and the next forget, or SQLite's own checkpoints, finish it."""
        async with self._lock:
            db = self._connection()
            try:
                ((busy, _, _),) = await db.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                busy, reason = 1, str(exc)
            else:
                reason = "another connection is reading the file"
            if busy:
                log.warning("audit log %s: the forgotten rows are gone from the tables, but the -wal file could "
                            "not be emptied yet (%s)", self.path, reason)

    async def record_post(self, post: Post) -> None:
        """Remember a message the bot posted about an answer (bot/store/posts.py)."""

        async def insert(db: aiosqlite.Connection) -> None:
            await db.execute(
                "INSERT OR IGNORE INTO posts (message_id, kind, guild_id, channel_id, answer_id, report_id, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)", (post.message_id, post.kind, post.guild_id, post.channel_id,
                                                  R.audit_key(post.answer_id), post.report_id, now()))

        await self._write(insert)

    # -- plumbing --------------------------------------------------------------------------

    def _connection(self) -> aiosqlite.Connection:
        if self._db is None:
            raise AuditUnavailable(self.path, "it has been closed")
        return self._db

    @contextlib.asynccontextmanager
    async def _reading(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            db = self._connection()
            try:
                # One read transaction, so an entry's quotes and feedback come from the same snapshot.
                await db.execute("BEGIN")
                try:
                    yield db
                finally:
                    await _rollback(db)
            except sqlite3.Error as exc:
                raise AuditUnavailable(self.path, _reason(exc, self.path)) from None

    async def _write(self, work: Callable[[aiosqlite.Connection], Awaitable[T]], *,
                     undo: Callable[[], None] | None = None, quiet: bool = False) -> T:
        """`work` in one write transaction, retried while the database is busy. `undo` reverses what
        `work` did outside the database, if the commit fails after it."""
        async with self._lock:
            db = self._connection()
            for attempt in range(1, self._attempts + 1):
                try:
                    # IMMEDIATE takes the write lock up front, so a busy database fails here, before any
                    # work, and never half way through (where SQLite could not wait for the lock).
                    await db.execute("BEGIN IMMEDIATE")
                    try:
                        result = await work(db)
                    except BaseException:
                        await _rollback(db)
                        raise
                    try:
                        await db.execute("COMMIT")
                    except BaseException:
                        await _rollback(db)
                        if undo is not None:
                            await asyncio.to_thread(undo)
                        raise
                    return result
                except sqlite3.Error as exc:
                    if not _is_busy(exc) or attempt == self._attempts:
                        raise AuditWriteFailed(self.path, exc, attempt) from None
                    delay = self._backoff * 2 ** (attempt - 1)
                    log.log(logging.DEBUG if quiet else logging.WARNING,
                            "audit log %s is busy (%s); retrying in %.2f s (attempt %d of %d)",
                            self.path, exc, delay, attempt + 1, self._attempts)
                    await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")


class _NothingChanged(Exception):
    """`apply` found nothing to change: roll the record back."""


class _ApplyFailed(Exception):
    """`apply` raised: roll the record back and raise its error as it was."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error


def _moderation_scoped(scope: Scope) -> tuple[str, tuple]:
    """Moderation records and hides of the scope: a server's own; the DMs have none."""
    if scope.everything:
        return "1 = 1", ()
    if scope.guild_id is None:
        return "0 = 1", ()
    return "guild_id = ?", (scope.guild_id,)


def _quoted(columns: Sequence[str]) -> list[str]:
    return [f'"{name}"' if name == "end" else name for name in columns]


async def _answer_in(db: aiosqlite.Connection, scope: Scope, key: int, shown: object) -> str | None:
    """The answer's guild id, once it is known to exist inside the scope; else UnknownAuditId."""
    where, params = _scoped(scope)
    rows = await db.execute_fetchall(f"SELECT guild_id FROM answers WHERE id = ? AND {where}", (key, *params))
    if not rows:
        raise UnknownAuditId(shown)
    return rows[0][0]


async def _moderation_record(db: aiosqlite.Connection, action: str, guild_id: str | None, doc_id: str, start: int,
                             end: int, reason: str | None, answer_id: int | None, user_id: int | str | None,
                             user_name: str | None) -> int:
    (record_id,) = await db.execute_insert(
        'INSERT INTO moderation (created_at, action, doc_id, start, "end", reason, answer_id, user_id, user_name,'
        " guild_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (now(), R.moderation_action(action), doc_id, start, end, trimmed(reason),
         None if answer_id is None else R.audit_key(answer_id), text_id(user_id), storable(user_name), guild_id))
    return record_id


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
    # left readable in the file's free space (bot/store/sqlite.py's _erase_traces).
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


async def _entries(db: aiosqlite.Connection, rows: Sequence[sqlite3.Row], *,
                   scope: Scope | None = None) -> list[AuditEntry]:
    """The entries of `rows` with their quotes and feedback; given a scope, of every answer in it."""
    if not rows:
        return []
    if scope is not None:
        where, params = _scoped(scope)
        where = f"WHERE answer_id IN (SELECT id FROM answers WHERE {where})"
    else:
        # Callers pass at most MAX_LIMIT rows, far below SQLite's limit on bound parameters.
        params = tuple(row["id"] for row in rows)
        where = f"WHERE answer_id IN ({', '.join('?' * len(params))})"
    quotes = await db.execute_fetchall(
        f'SELECT answer_id, rank, doc_id, start, "end", text_sha256, text, score FROM quotes {where}'
        " ORDER BY answer_id, rank", params)
    feedback = await db.execute_fetchall(
        f"SELECT id, answer_id, created_at, kind, user_id, user_name, reason FROM feedback {where} ORDER BY id",
        params)
    return R.entries(rows, quotes, feedback)


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
