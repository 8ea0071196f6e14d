"""The moderators' audit log: every answer the bot gave, the quotes in it, and what users said about it.

One SQLite file in WAL mode, written through aiosqlite::

    async with await AuditLog.open("data/audit.db") as log:
        audit_id = await log.record_answer(answer, guild_id=guild.id, user_id=user.id, user_name=user.name)
        await log.record_feedback(audit_id, kind="report", user_id=other.id, reason="misquoted")
        for check in verify(await log.get(audit_id), corpus):
            ...

Quotes are stored with the SHA-256 of their text, so `verify` can later tell whether the corpus
still says, at the same offsets, exactly what the bot quoted.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

import aiosqlite

from retrieval.errors import StorybotError

if TYPE_CHECKING:
    from retrieval.answer import Answer
    from retrieval.articles import Article

log = logging.getLogger(__name__)

FEEDBACK_KINDS = ("helpful", "not_helpful", "report")
MODERATION_ACTIONS = ("hide", "unhide")
MAX_REASON_CHARS = 1000
MAX_LIMIT = 100
MOST_ASKED = 5

# MIGRATIONS[n - 1] takes a log from schema version n - 1 to n; PRAGMA user_version records the
# version reached. Never edit a released migration: append a new one.
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
)

T = TypeVar("T")


class AuditError(StorybotError):
    """Base of the audit log's errors."""


class AuditUnavailable(AuditError, RuntimeError):
    """The audit log cannot be opened or read."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"cannot use the audit log {path}: {reason}")
        self.path = path
        self.reason = reason


class AuditSchemaTooNew(AuditUnavailable):
    """The file was written by a newer storybot; opening it with this code could damage it."""

    def __init__(self, path: object, found: int, known: int) -> None:
        super().__init__(path, f"its schema is version {found} but this code knows versions up to {known}; "
                               "upgrade storybot to use it")
        self.found = found
        self.known = known


class AuditWriteFailed(AuditError, RuntimeError):
    """A write did not reach the audit log (still locked after the retries, or the disk refused it)."""

    def __init__(self, path: object, error: BaseException, attempts: int) -> None:
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        super().__init__(f"could not write to the audit log {path} after {tries}: {error}")
        self.path = path
        self.error = error
        self.attempts = attempts


class UnknownAuditId(AuditError, LookupError):
    """No answer with that audit id."""

    def __init__(self, audit_id: object) -> None:
        super().__init__(f"there is no audit entry with id {audit_id!r}")
        self.audit_id = audit_id


@dataclass(frozen=True)
class AuditQuote:
    rank: int  # 1-based, in the order the answer showed them
    doc_id: str
    start: int
    end: int
    text_sha256: str
    text: str
    score: float


@dataclass(frozen=True)
class Feedback:
    id: int
    created_at: str
    kind: str
    user_id: str | None
    user_name: str | None
    reason: str | None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    created_at: str  # ISO-8601, UTC
    guild_id: str | None
    channel_id: str | None
    user_id: str | None
    user_name: str | None
    question: str
    mode: str
    abstained: bool
    corpus_version: str
    model: str | None
    latency_ms: float
    quotes: tuple[AuditQuote, ...]
    feedback: tuple[Feedback, ...]  # oldest first


@dataclass(frozen=True)
class Moderation:
    id: int
    created_at: str
    action: str
    doc_id: str
    start: int
    end: int
    reason: str | None
    answer_id: int | None
    user_id: str | None
    user_name: str | None


@dataclass(frozen=True)
class AuditStats:
    questions: int
    abstained: int
    abstention_rate: float  # 0.0 when nothing was asked yet
    helpful: int
    not_helpful: int
    reports: int
    by_mode: dict[str, int]
    most_asked: list[tuple[str, int]]  # (latest wording, count), most asked first


@dataclass(frozen=True)
class QuoteCheck:
    rank: int
    doc_id: str
    start: int
    end: int
    ok: bool
    problem: str | None


class _Corpus(Protocol):
    def article(self, doc_id: str) -> "Article": ...


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def verify(entry: AuditEntry, corpus: _Corpus) -> tuple[QuoteCheck, ...]:
    """Whether the corpus still holds each quoted text at the offsets the answer cited."""
    checks = []
    for quote in entry.quotes:
        try:
            body = corpus.article(quote.doc_id).body
        except KeyError:
            problem: str | None = f"article {quote.doc_id} is no longer in the corpus"
        else:
            changed = sha256_text(body[quote.start : quote.end]) != quote.text_sha256
            problem = f"the text at {quote.doc_id}[{quote.start}:{quote.end}] has changed" if changed else None
        checks.append(QuoteCheck(quote.rank, quote.doc_id, quote.start, quote.end, problem is None, problem))
    return tuple(checks)


class AuditLog:
    """An open audit log. Use `await AuditLog.open(path)`, then `close()` or `async with`."""

    def __init__(self, db: aiosqlite.Connection, path: Path, *, attempts: int = 3, busy_timeout: float = 1.0,
                 backoff: float = 0.1) -> None:
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {attempts}")
        self.path = path
        self._db: aiosqlite.Connection | None = db
        self._attempts = attempts
        self._busy_timeout = busy_timeout
        self._backoff = backoff
        # One connection serves every coroutine; its transactions must not interleave.
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | os.PathLike[str], *, attempts: int = 3, busy_timeout: float = 1.0,
                   backoff: float = 0.1) -> "AuditLog":
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
        return cls(db, path, attempts=attempts, busy_timeout=busy_timeout, backoff=backoff)

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    async def __aenter__(self) -> "AuditLog":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def record_answer(self, answer: "Answer", *, guild_id: int | str | None = None,
                            channel_id: int | str | None = "cli", user_id: int | str | None = None,
                            user_name: str | None = None) -> int:
        """Store the answer and its quotes in one transaction; return its audit id."""
        row = (
            _now(), _text_id(guild_id), _text_id(channel_id), _text_id(user_id), user_name, answer.question,
            answer.mode, int(bool(answer.abstained)), answer.corpus_version, answer.model, float(answer.latency_ms),
        )

        async def insert(db: aiosqlite.Connection) -> int:
            (audit_id,) = await db.execute_insert(
                "INSERT INTO answers (created_at, guild_id, channel_id, user_id, user_name, question, mode,"
                " abstained, corpus_version, model, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            await db.executemany(
                'INSERT INTO quotes (answer_id, rank, doc_id, start, "end", text_sha256, text, score)'
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (audit_id, rank, q.doc_id, q.start, q.end, sha256_text(q.quote), q.quote, float(q.score))
                    for rank, q in enumerate(answer.passages, start=1)
                ],
            )
            return audit_id

        return await self._write(insert)

    async def record_feedback(self, audit_id: int, *, kind: str, user_id: int | str | None = None,
                              user_name: str | None = None, reason: str | None = None) -> int:
        """Store one user's verdict on an answer; return the feedback id."""
        if kind not in FEEDBACK_KINDS:
            raise ValueError(f"unknown feedback kind {kind!r}; expected one of: {', '.join(FEEDBACK_KINDS)}")
        reason = (reason or "").strip()[:MAX_REASON_CHARS] or None

        async def insert(db: aiosqlite.Connection) -> int:
            # Checked here rather than left to the foreign key, whose error cannot say which id.
            if not await db.execute_fetchall("SELECT 1 FROM answers WHERE id = ?", (audit_id,)):
                raise UnknownAuditId(audit_id)
            (feedback_id,) = await db.execute_insert(
                "INSERT INTO feedback (answer_id, created_at, user_id, user_name, kind, reason)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (audit_id, _now(), _text_id(user_id), user_name, kind, reason),
            )
            return feedback_id

        return await self._write(insert)

    async def record_moderation(self, action: str, *, doc_id: str, start: int, end: int, reason: str | None,
                                answer_id: int | None = None, user_id: int | str | None = None,
                                user_name: str | None = None) -> int:
        """Record that a moderator hid or unhid a span; return the record's id."""
        if action not in MODERATION_ACTIONS:
            raise ValueError(f"unknown moderation action {action!r}; expected one of: {', '.join(MODERATION_ACTIONS)}")

        async def insert(db: aiosqlite.Connection) -> int:
            (record_id,) = await db.execute_insert(
                'INSERT INTO moderation (created_at, action, doc_id, start, "end", reason, answer_id, user_id, user_name)'
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (_now(), action, doc_id, start, end, (reason or "").strip()[:MAX_REASON_CHARS] or None, answer_id,
                 _text_id(user_id), user_name),
            )
            return record_id

        return await self._write(insert)

    async def moderation(self, limit: int = 20) -> list[Moderation]:
        """Hide and unhide decisions, newest first."""
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                'SELECT id, created_at, action, doc_id, start, "end", reason, answer_id, user_id, user_name'
                " FROM moderation ORDER BY id DESC LIMIT ?",
                (_clamp(limit),),
            )
        return [Moderation(*row) for row in rows]

    async def recent(self, limit: int = 10) -> list[AuditEntry]:
        """The latest answers, newest first; `limit` is clamped to 1..100."""
        async with self._reading() as db:
            rows = await db.execute_fetchall(f"SELECT {_COLUMNS} FROM answers ORDER BY id DESC LIMIT ?",
                                             (_clamp(limit),))
            return await _entries(db, rows)

    async def get(self, audit_id: int) -> AuditEntry:
        async with self._reading() as db:
            rows = await db.execute_fetchall(f"SELECT {_COLUMNS} FROM answers WHERE id = ?", (audit_id,))
            if not rows:
                raise UnknownAuditId(audit_id)
            return (await _entries(db, rows))[0]

    async def reported(self, limit: int = 20) -> list[AuditEntry]:
        """Answers someone reported, the most recently reported first; `limit` is clamped to 1..100."""
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                f"SELECT {_COLUMNS}, max(feedback.id) AS last_report FROM answers"
                " JOIN feedback ON feedback.answer_id = answers.id AND feedback.kind = 'report'"
                " GROUP BY answers.id ORDER BY last_report DESC LIMIT ?",
                (_clamp(limit),),
            )
            return await _entries(db, rows)

    async def stats(self) -> AuditStats:
        async with self._reading() as db:
            ((questions, abstained),) = await db.execute_fetchall(
                "SELECT count(*), coalesce(sum(abstained), 0) FROM answers")
            kinds = dict(await db.execute_fetchall("SELECT kind, count(*) FROM feedback GROUP BY kind"))
            by_mode = await db.execute_fetchall(
                "SELECT mode, count(*) AS n FROM answers GROUP BY mode ORDER BY n DESC, mode")
            # SQLite takes the bare `question` from the row holding max(id): the latest wording.
            asked = await db.execute_fetchall(
                "SELECT question, count(*) AS n, max(id) AS latest FROM answers"
                " GROUP BY audit_fold(question) ORDER BY n DESC, latest DESC LIMIT ?",
                (MOST_ASKED,),
            )
        return AuditStats(
            questions=questions,
            abstained=abstained,
            abstention_rate=abstained / questions if questions else 0.0,
            helpful=kinds.get("helpful", 0),
            not_helpful=kinds.get("not_helpful", 0),
            reports=kinds.get("report", 0),
            by_mode={mode: n for mode, n in by_mode},
            most_asked=[(question.strip(), n) for question, n, _ in asked],
        )

    async def export(self) -> list[dict]:
        """Every answer with its quotes and feedback, oldest first, as plain JSON-ready dicts."""
        async with self._reading() as db:
            rows = await db.execute_fetchall(f"SELECT {_COLUMNS} FROM answers ORDER BY id")
            entries = await _entries(db, rows, everything=True)
        return [_as_json(entry) for entry in entries]

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

    async def _write(self, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        async with self._lock:
            db = self._connection()
            for attempt in range(1, self._attempts + 1):
                try:
                    # IMMEDIATE takes the write lock up front, so a busy database fails here, before any
                    # work, and never half way through (where SQLite could not wait for the lock).
                    await db.execute("BEGIN IMMEDIATE")
                    try:
                        result = await work(db)
                        await db.execute("COMMIT")
                    except BaseException:
                        await _rollback(db)
                        raise
                    return result
                except sqlite3.Error as exc:
                    if not _is_busy(exc) or attempt == self._attempts:
                        raise AuditWriteFailed(self.path, exc, attempt) from None
                    delay = self._backoff * 2 ** (attempt - 1)
                    log.warning("audit log %s is busy (%s); retrying in %.2f s (attempt %d of %d)",
                                self.path, exc, delay, attempt + 1, self._attempts)
                    await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")


_COLUMNS = ", ".join(
    f"answers.{name}"
    for name in ("id", "created_at", "guild_id", "channel_id", "user_id", "user_name", "question", "mode",
                 "abstained", "corpus_version", "model", "latency_ms")
)


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
    await db.create_function("audit_fold", 1, _fold, deterministic=True)
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
                   everything: bool = False) -> list[AuditEntry]:
    if not rows:
        return []
    if everything:
        where, params = "", ()
    else:
        # Callers pass at most MAX_LIMIT rows, far below SQLite's limit on bound parameters.
        params = tuple(row["id"] for row in rows)
        where = f"WHERE answer_id IN ({', '.join('?' * len(params))})"
    quotes: dict[int, list[AuditQuote]] = {}
    for q in await db.execute_fetchall(
        f'SELECT answer_id, rank, doc_id, start, "end", text_sha256, text, score FROM quotes {where}'
        " ORDER BY answer_id, rank",
        params,
    ):
        quotes.setdefault(q["answer_id"], []).append(
            AuditQuote(q["rank"], q["doc_id"], q["start"], q["end"], q["text_sha256"], q["text"], q["score"]))
    feedback: dict[int, list[Feedback]] = {}
    for f in await db.execute_fetchall(
        f"SELECT id, answer_id, created_at, kind, user_id, user_name, reason FROM feedback {where} ORDER BY id",
        params,
    ):
        feedback.setdefault(f["answer_id"], []).append(
            Feedback(f["id"], f["created_at"], f["kind"], f["user_id"], f["user_name"], f["reason"]))
    return [
        AuditEntry(
            id=row["id"],
            created_at=row["created_at"],
            guild_id=row["guild_id"],
            channel_id=row["channel_id"],
            user_id=row["user_id"],
            user_name=row["user_name"],
            question=row["question"],
            mode=row["mode"],
            abstained=bool(row["abstained"]),
            corpus_version=row["corpus_version"],
            model=row["model"],
            latency_ms=row["latency_ms"],
            quotes=tuple(quotes.get(row["id"], ())),
            feedback=tuple(feedback.get(row["id"], ())),
        )
        for row in rows
    ]


def _as_json(entry: AuditEntry) -> dict:
    data = asdict(entry)
    data["quotes"] = list(data["quotes"])
    data["feedback"] = list(data["feedback"])
    return data


def _fold(question: str | None) -> str | None:
    # SQLite's lower() only folds ASCII; questions about this story are often not ASCII.
    return None if question is None else " ".join(question.split()).casefold()


def _clamp(limit: int) -> int:
    return max(1, min(MAX_LIMIT, int(limit)))


def _text_id(value: int | str | None) -> str | None:
    # Discord snowflakes exceed what JavaScript and some JSON readers hold exactly: keep them as text.
    return None if value is None else str(value)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


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


__all__ = [
    "AuditLog", "AuditEntry", "AuditQuote", "AuditStats", "Feedback", "QuoteCheck", "verify", "sha256_text",
    "AuditError", "AuditUnavailable", "AuditSchemaTooNew", "AuditWriteFailed", "UnknownAuditId",
    "MIGRATIONS", "FEEDBACK_KINDS", "MAX_REASON_CHARS", "Moderation", "MODERATION_ACTIONS",
]
