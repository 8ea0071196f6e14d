"""The SQLite backend's own behaviour, through real files in tmp_path: migrations and the upgrade of
old logs, WAL, locks, crashes. What every backend shares is in test_store_contract.py."""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import pytest_asyncio

from bot.store import sqlite as audit
from bot.store.backlog import BacklogPolicy
from bot.store.errors import AuditBacklogFull
from bot.store import AuditSchemaTooNew, AuditUnavailable, AuditWriteFailed, QuoteCheck, sha256_text, verify
from bot.store.sqlite import SQLiteStore as AuditLog
from retrieval.articles import Article, Corpus
from store_backends import A, BODY, CLI, FIRST, OPERATOR, SECOND, answer, in_guild

REPO = Path(__file__).resolve().parents[1]


@pytest_asyncio.fixture
async def log(tmp_path):
    async with await AuditLog.open(tmp_path / "audit.db") as opened:
        yield opened


def pragma(path: Path, name: str):
    with sqlite3.connect(path) as db:
        return db.execute(f"PRAGMA {name}").fetchone()[0]


# Opening and migrating


@pytest.mark.asyncio
async def test_open_creates_the_folder_and_a_wal_database_at_the_latest_version(tmp_path):
    path = tmp_path / "nested" / "deeper" / "audit.db"
    log = await AuditLog.open(path)
    await log.close()

    assert path.is_file()
    assert pragma(path, "journal_mode") == "wal"
    assert pragma(path, "user_version") == len(audit.MIGRATIONS) == 7  # 7: labels (bot/store/labels.py)
    with sqlite3.connect(path) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"answers", "quotes", "feedback", "moderation", "guild_hidden"} <= tables


@pytest.mark.asyncio
async def test_reopening_keeps_the_records_and_runs_no_migration_twice(tmp_path, monkeypatch):
    path = tmp_path / "audit.db"
    async with await AuditLog.open(path) as log:
        audit_id = await log.record_answer(answer(), CLI)
    # A second migration that would fail if it ran twice (the table would exist already).
    monkeypatch.setattr(audit, "MIGRATIONS", (*audit.MIGRATIONS, "CREATE TABLE upgraded (n INTEGER);\n"
                                                                 "INSERT INTO upgraded VALUES (1);"))
    for _ in range(2):
        async with await AuditLog.open(path) as log:
            assert (await log.get(OPERATOR, audit_id)).question == "What happened at the airport?"

    assert pragma(path, "user_version") == len(audit.MIGRATIONS)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM upgraded").fetchone() == (1,)


@pytest.mark.asyncio
async def test_a_failing_migration_leaves_the_log_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "audit.db"
    await (await AuditLog.open(path)).close()
    monkeypatch.setattr(audit, "MIGRATIONS", (*audit.MIGRATIONS, "CREATE TABLE half (n INTEGER);\n"
                                                                 "INSERT INTO no_such_table VALUES (1);"))

    with pytest.raises(AuditUnavailable, match="no such table: no_such_table"):
        await AuditLog.open(path)

    assert pragma(path, "user_version") == len(audit.MIGRATIONS) - 1
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'half'").fetchall() == []


@pytest.mark.asyncio
async def test_a_log_from_a_newer_storybot_is_refused_untouched(tmp_path):
    path = tmp_path / "audit.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 8")

    with pytest.raises(AuditSchemaTooNew, match=rf"{re.escape(str(path))}.*version 8 .* up to {len(audit.MIGRATIONS)}\b"):
        await AuditLog.open(path)
    assert pragma(path, "journal_mode") == "delete"  # not switched to WAL either


V2_ROWS = """
INSERT INTO answers VALUES (1, '2021-02-25T10:00:00.000+00:00', '111', '999', '7', 'ada', 'why was it revoked?',
                            'hybrid', 0, 'v1', 'all-MiniLM-L6-v2', 20.0);
INSERT INTO answers VALUES (2, '2021-02-25T10:01:00.000+00:00', NULL, 'cli', NULL, 'op', 'who won the cup?',
                            'bm25', 1, 'v1', NULL, 5.0);
INSERT INTO quotes VALUES (1, 1, 'lbc', 0, 10, 'abc', 'Amnesty sa', 0.8);
-- One member pressed Helpful three times, then Not helpful: the bug that inflated feedback.
INSERT INTO feedback VALUES (1, 1, '2021-02-25T10:02:00.000+00:00', '8', 'bea', 'helpful', NULL);
INSERT INTO feedback VALUES (2, 1, '2021-02-25T10:02:01.000+00:00', '8', 'bea', 'helpful', NULL);
INSERT INTO feedback VALUES (3, 1, '2021-02-25T10:02:02.000+00:00', '9', 'cy', 'helpful', NULL);
INSERT INTO feedback VALUES (4, 1, '2021-02-25T10:02:03.000+00:00', '8', 'bea', 'not_helpful', NULL);
INSERT INTO feedback VALUES (5, 1, '2021-02-25T10:02:04.000+00:00', '8', 'bea', 'report', 'one');
INSERT INTO feedback VALUES (6, 1, '2021-02-25T10:02:05.000+00:00', '8', 'bea', 'report', 'two');
INSERT INTO moderation VALUES (1, '2021-02-25T11:00:00.000+00:00', 'hide', 'lbc', 0, 10, 'legal', 1, NULL, 'op');
"""


def version_2_log(path: Path) -> Path:
    """A log as storybot wrote it before servers had their own data (schema version 2)."""
    with sqlite3.connect(path) as db:
        for script in audit.MIGRATIONS[:2]:
            db.executescript(script)
        db.executescript(V2_ROWS)
        db.execute("PRAGMA user_version = 2")
    db.close()
    return path


@pytest.mark.asyncio
async def test_a_version_2_log_is_upgraded_keeping_its_records(tmp_path):
    path = version_2_log(tmp_path / "audit.db")
    async with await AuditLog.open(path) as log:
        asked, cli = await log.get(A, 1), await log.get(OPERATOR, 2)
        [record] = await log.moderation(OPERATOR)
        assert await log.moderation(A) == []  # a hide before servers had their own was the operator's
        new_id = await log.record_answer(answer(), in_guild())
    assert pragma(path, "user_version") == len(audit.MIGRATIONS)

    assert (asked.status, asked.source, asked.reason, asked.message_id) == ("answered", "slash", None, None)
    assert (cli.status, cli.source, cli.abstained) == ("not_covered", "cli", True)
    assert [q.text for q in asked.quotes] == ["Amnesty sa"]
    # Each member's last vote stands; the earlier presses are kept aside, not counted.
    assert [(f.id, f.user_id, f.kind) for f in asked.feedback] == [
        (3, "9", "helpful"), (4, "8", "not_helpful"), (5, "8", "report"), (6, "8", "report")]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT id FROM superseded_votes ORDER BY id").fetchall() == [(1,), (2,)]
    assert (record.action, record.guild_id, record.answer_id) == ("hide", None, 1)
    assert new_id == 3


@pytest.mark.asyncio
async def test_a_log_of_the_first_version_is_upgraded_too(tmp_path, monkeypatch):
    path = tmp_path / "audit.db"
    with monkeypatch.context() as m:
        m.setattr(audit, "MIGRATIONS", audit.MIGRATIONS[:1])
        await (await AuditLog.open(path)).close()
    assert pragma(path, "user_version") == 1
    async with await AuditLog.open(path) as log:
        audit_id = await log.record_answer(answer(), in_guild())
        assert (await log.get(A, audit_id)).question == "What happened at the airport?"
    assert pragma(path, "user_version") == len(audit.MIGRATIONS)


def parent_is_a_file(tmp_path: Path) -> Path:
    (tmp_path / "notes.txt").write_text("not a folder")
    return tmp_path / "notes.txt" / "audit.db"


def path_is_a_folder(tmp_path: Path) -> Path:
    (tmp_path / "audit.db").mkdir()
    return tmp_path / "audit.db"


def not_a_database(tmp_path: Path) -> Path:
    (tmp_path / "audit.db").write_bytes(b"these are moderators' notes, not SQLite " * 100)
    return tmp_path / "audit.db"


@pytest.mark.asyncio
@pytest.mark.parametrize("make, reason", [
    (parent_is_a_file, "is a file, not a folder"),
    (path_is_a_folder, "it is a folder"),
    (not_a_database, "file is not a database"),
])
async def test_an_unusable_path_is_named_in_the_error(tmp_path, make, reason):
    path = make(tmp_path)
    with pytest.raises(AuditUnavailable, match=rf"{re.escape(str(path))}: .*{reason}") as raised:
        await AuditLog.open(path)
    assert raised.value.path == path
    shown = raised.value.__cause__ or (None if raised.value.__suppress_context__ else raised.value.__context__)
    assert shown is None  # no sqlite3 traceback underneath


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes through chmod")
@pytest.mark.asyncio
async def test_a_read_only_folder_is_reported(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(AuditUnavailable, match=rf"{re.escape(str(folder))} is not writable"):
            await AuditLog.open(folder / "audit.db")
    finally:
        folder.chmod(0o700)


@pytest.mark.asyncio
async def test_a_closed_log_says_so(tmp_path):
    log = await AuditLog.open(tmp_path / "audit.db")
    await log.close()
    await log.close()  # closing twice is harmless
    with pytest.raises(AuditUnavailable, match="has been closed"):
        await log.recent(OPERATOR)


@pytest.mark.asyncio
async def test_two_connections_to_one_file_write_alongside(log):
    async with await AuditLog.open(log.path) as other:
        ids = await asyncio.gather(*(
            (log if n % 2 else other).record_answer(answer(f"question {n}"), in_guild()) for n in range(20)
        ))
    assert sorted(ids) == list(range(1, 21))
    assert {entry.question for entry in await log.recent(A, 100)} == {f"question {n}" for n in range(20)}


# Verifying quotes against the corpus


def make_corpus(*articles: Article) -> Corpus:
    return Corpus(articles, "v2")


CHANGED = BODY.replace("passport control", "the border")


@pytest.mark.asyncio
@pytest.mark.parametrize("current, problems", [
    (make_corpus(Article("bbc-2021-01-17", "Navalny arrested", BODY)), [None, None]),
    (make_corpus(Article("bbc-2021-01-17", "Navalny arrested", CHANGED)),
     [None, "the text at bbc-2021-01-17[40:75] has changed"]),
    (make_corpus(Article("other", "Other", BODY)),
     ["article bbc-2021-01-17 is no longer in the corpus"] * 2),
])
async def test_verify_compares_each_quote_with_the_corpus(log, current, problems):
    entry = await log.get(A, await log.record_answer(answer(), in_guild()))
    assert verify(entry, current) == tuple(
        QuoteCheck(rank, "bbc-2021-01-17", *span, problem is None, problem)
        for rank, span, problem in zip((1, 2), (FIRST, SECOND), problems)
    )


def test_sha256_text_hashes_the_utf8_text():
    assert sha256_text(" Навальный\n") == hashlib.sha256(" Навальный\n".encode("utf-8")).hexdigest()
    assert sha256_text("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


# Locks and crashes


@pytest.mark.asyncio
async def test_a_locked_log_is_retried_then_gives_up(tmp_path, caplog):
    path = tmp_path / "audit.db"
    async with await AuditLog.open(path, attempts=3, busy_timeout=0.02, backoff=0.01) as log:
        audit_id = await log.record_answer(answer(), in_guild())
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            with caplog.at_level(logging.WARNING, logger="bot.store.sqlite"):
                with pytest.raises(AuditWriteFailed, match=rf"{re.escape(str(path))} after 3 attempts: .*locked"):
                    await log.record_vote(A, audit_id, kind="helpful", user_id="1", user_name=None)
                with pytest.raises(AuditWriteFailed, match="locked"):
                    await log.record_report(A, audit_id, user_id="1", user_name=None, reason="x")
        finally:
            blocker.rollback()
            blocker.close()
        assert len([r for r in caplog.records if r.levelno == logging.WARNING and "busy" in r.message]) == 4
        assert (await log.get(A, audit_id)).feedback == ()
        await log.record_vote(A, audit_id, kind="helpful", user_id="1", user_name=None)  # usable once the lock goes
        assert (await log.stats(A)).helpful == 1


@pytest.mark.asyncio
async def test_a_lock_released_during_the_retries_lets_the_write_through(tmp_path, caplog):
    path = tmp_path / "audit.db"
    async with await AuditLog.open(path, attempts=6, busy_timeout=0.05, backoff=0.05) as log:
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        asyncio.get_running_loop().call_later(0.2, blocker.close)  # closing ends its transaction
        with caplog.at_level(logging.WARNING, logger="bot.store.sqlite"):
            audit_id = await log.record_answer(answer(), in_guild())
        assert (await log.get(A, audit_id)).question == "What happened at the airport?"
        assert any("busy" in r.message for r in caplog.records if r.levelno == logging.WARNING)


CHILD = textwrap.dedent("""
    import asyncio, os, signal, sys
    from bot.audit_store import Asker
    from bot.store import open_store
    from retrieval.answer import Answer

    async def main():
        log = await open_store(sys.argv[1])
        audit_id = await log.record_answer(Answer("Was it kill -9 proof?", "bm25", (), "v1", None, 3.0), Asker())
        sys.stdout.write(f"{audit_id}\\n")
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    asyncio.run(main())
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.asyncio
async def test_a_committed_answer_survives_kill_9(tmp_path):
    path = tmp_path / "audit.db"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    child = subprocess.run([sys.executable, "-c", CHILD, str(path)], cwd=REPO, env=env, capture_output=True,
                           text=True, timeout=60)

    assert child.returncode == -signal.SIGKILL, child.stderr
    audit_id = int(child.stdout)
    assert Path(f"{path}-wal").stat().st_size > 0  # the record lived only in the WAL when the process died
    async with await AuditLog.open(path) as log:
        entry = await log.get(OPERATOR, audit_id)
    assert (entry.question, entry.mode, entry.corpus_version) == ("Was it kill -9 proof?", "bm25", "v1")


# Answers wait while another process holds the write lock

HOLDER = textwrap.dedent("""
    import sqlite3, sys, time
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    db.rollback()
""")


def hold_write_lock(path: Path, seconds: float) -> subprocess.Popen:
    """Another process that holds the log's write lock for `seconds`, then lets go."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


# Short waits so the test takes seconds; `storybot` uses values.BACKLOG_* and 3 tries over ~3.3 s.
QUICK = dict(attempts=2, busy_timeout=0.05, backoff=0.05,
             backlog=BacklogPolicy(capacity=50, retry_seconds=0.2, flush_seconds=0.5))
LOCK_SECONDS = 3.0


@pytest.mark.asyncio
async def test_answers_wait_while_another_process_holds_the_lock_and_land_in_order(tmp_path, caplog):
    path = tmp_path / "audit.db"
    async with await AuditLog.open(path, **QUICK) as log:
        holder = hold_write_lock(path, LOCK_SECONDS)
        with caplog.at_level(logging.INFO, logger="bot.store"):
            ids = [await log.record_answer(answer(f"asked while locked {n}"), in_guild()) for n in range(20)]
            assert ids == [None] * 20  # waiting, not lost, and the askers were not kept waiting for it
            await asyncio.to_thread(holder.wait, 30)
            for _ in range(100):
                if len(await log.recent(A, 100)) == 20:
                    break
                await asyncio.sleep(0.1)
        later = await log.record_answer(answer("asked after"), in_guild())
        entries = await log.recent(A, 100)
    assert [e.question for e in entries[::-1]] == [f"asked while locked {n}" for n in range(20)] + ["asked after"]
    assert later == 21
    assert "refuses writes" in caplog.text and "LOST" not in caplog.text


@pytest.mark.asyncio
async def test_closing_flushes_the_backlog(tmp_path):
    path = tmp_path / "audit.db"
    log = await AuditLog.open(path, **{**QUICK, "backlog": BacklogPolicy(retry_seconds=60, flush_seconds=20)})
    holder = hold_write_lock(path, 1.0)
    assert await log.record_answer(answer("asked just before closing"), in_guild()) is None
    await log.close()  # the retry task sleeps 60 s; close tries at once, and again until the lock goes
    holder.wait(10)
    async with await AuditLog.open(path) as reopened:
        assert [e.question for e in await reopened.recent(A)] == ["asked just before closing"]


@pytest.mark.asyncio
async def test_what_cannot_be_written_at_close_is_logged_with_its_question(tmp_path, caplog):
    path = tmp_path / "audit.db"
    log = await AuditLog.open(path, **QUICK)
    holder = hold_write_lock(path, 30)
    try:
        for question in ("who jailed him?", "why was it revoked?"):
            assert await log.record_answer(answer(question), in_guild()) is None
        with caplog.at_level(logging.ERROR, logger="bot.store"):
            await log.close()
    finally:
        holder.kill()
        holder.wait()
    lost = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(lost) == 2 and all("AUDIT RECORD LOST" in m for m in lost)
    assert "'who jailed him?'" in lost[0] and "'why was it revoked?'" in lost[1]


@pytest.mark.asyncio
async def test_a_full_backlog_refuses_the_next_answer_by_name(tmp_path):
    path = tmp_path / "audit.db"
    log = await AuditLog.open(path, **{**QUICK, "backlog": BacklogPolicy(capacity=2, retry_seconds=0.2,
                                                                          flush_seconds=5)})
    holder = hold_write_lock(path, 1.0)
    for n in range(2):
        assert await log.record_answer(answer(f"q{n}"), in_guild()) is None
    with pytest.raises(AuditBacklogFull, match="2 answers already wait"):
        await log.record_answer(answer("one too many"), in_guild())
    holder.wait(10)
    await log.close()
    async with await AuditLog.open(path) as reopened:
        assert [e.question for e in await reopened.recent(A)] == ["q1", "q0"]
