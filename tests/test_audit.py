"""The moderators' audit log, shown through real SQLite files in tmp_path."""
from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import pytest_asyncio

from bot import audit
from bot.audit import (AuditEntry, AuditLog, AuditQuote, AuditSchemaTooNew, AuditUnavailable, AuditWriteFailed,
                       Feedback, QuoteCheck, UnknownAuditId, sha256_text, verify)
from retrieval.answer import Answer, Quote
from retrieval.articles import Article, Corpus

REPO = Path(__file__).resolve().parents[1]
BODY = "Navalny returned to Moscow in January.\n\nHe was detained at passport control."
FIRST, SECOND = (0, 38), (40, 75)


def quote(span: tuple[int, int], score: float, doc_id: str = "bbc-2021-01-17", body: str = BODY) -> Quote:
    start, end = span
    return Quote(quote=body[start:end], doc_id=doc_id, title="Navalny arrested", outlet="BBC",
                 published="2021-01-17", url="https://bbc.example/navalny", kind="news", start=start, end=end,
                 score=score)


def answer(question: str = "What happened at the airport?", *, mode: str = "hybrid", abstained: bool = False,
           passages: tuple[Quote, ...] | None = None) -> Answer:
    if passages is None:
        passages = () if abstained else (quote(FIRST, 0.91), quote(SECOND, 0.62))
    return Answer(question=question, abstained=abstained, mode=mode, passages=passages, corpus_version="c0ffee",
                  model="all-MiniLM-L6-v2" if mode == "hybrid" else None, latency_ms=12.5)


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
    assert pragma(path, "user_version") == len(audit.MIGRATIONS) == 2
    with sqlite3.connect(path) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"answers", "quotes", "feedback", "moderation"} <= tables


@pytest.mark.asyncio
async def test_reopening_keeps_the_records_and_runs_no_migration_twice(tmp_path, monkeypatch):
    path = tmp_path / "audit.db"
    async with await AuditLog.open(path) as log:
        audit_id = await log.record_answer(answer())
    # A second migration that would fail if it ran twice (the table would exist already).
    monkeypatch.setattr(audit, "MIGRATIONS", (*audit.MIGRATIONS, "CREATE TABLE upgraded (n INTEGER);\n"
                                                                 "INSERT INTO upgraded VALUES (1);"))
    for _ in range(2):
        async with await AuditLog.open(path) as log:
            assert (await log.get(audit_id)).question == "What happened at the airport?"

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
        db.execute("PRAGMA user_version = 7")

    with pytest.raises(AuditSchemaTooNew, match=rf"{re.escape(str(path))}.*version 7 .* up to {len(audit.MIGRATIONS)}\b"):
        await AuditLog.open(path)
    assert pragma(path, "journal_mode") == "delete"  # not switched to WAL either


@pytest.mark.asyncio
async def test_a_log_of_the_first_version_is_upgraded_keeping_its_records(tmp_path, monkeypatch):
    path = tmp_path / "audit.db"
    with monkeypatch.context() as m:
        m.setattr(audit, "MIGRATIONS", audit.MIGRATIONS[:1])
        async with await AuditLog.open(path) as log:
            audit_id = await log.record_answer(answer())
    assert pragma(path, "user_version") == 1
    async with await AuditLog.open(path) as log:
        assert (await log.get(audit_id)).question == "What happened at the airport?"
        await log.record_moderation("hide", doc_id="a", start=0, end=5, reason="legal", answer_id=audit_id, user_name="mod")
    assert pragma(path, "user_version") == len(audit.MIGRATIONS)


@pytest.mark.asyncio
async def test_hiding_and_unhiding_are_recorded_with_who_and_why(tmp_path):
    async with await AuditLog.open(tmp_path / "audit.db") as log:
        await log.record_moderation("hide", doc_id="lbc", start=10, end=50, reason="  misattributed  ", user_id=9, user_name="mod")
        await log.record_moderation("unhide", doc_id="lbc", start=10, end=50, reason="checked", user_name="mod2")
        with pytest.raises(ValueError, match="unknown moderation action 'delete'"):
            await log.record_moderation("delete", doc_id="lbc", start=1, end=2, reason="x")
        latest, first = await log.moderation()
    assert (first.action, first.doc_id, first.start, first.end, first.reason, first.user_id) == ("hide", "lbc", 10, 50, "misattributed", "9")
    assert (latest.action, latest.user_name) == ("unhide", "mod2")


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
        await log.recent()


# Recording answers


@pytest.mark.asyncio
async def test_an_answer_comes_back_field_for_field(log):
    before = datetime.now(timezone.utc)
    audit_id = await log.record_answer(answer(), guild_id=111, channel_id=222, user_id=333, user_name="ada")
    entry = await log.get(audit_id)

    created = datetime.fromisoformat(entry.created_at)
    assert created.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= created <= datetime.now(timezone.utc)
    first, second = BODY[slice(*FIRST)], BODY[slice(*SECOND)]
    assert entry == AuditEntry(
        id=audit_id, created_at=entry.created_at, guild_id="111", channel_id="222", user_id="333",
        user_name="ada", question="What happened at the airport?", mode="hybrid", abstained=False,
        corpus_version="c0ffee", model="all-MiniLM-L6-v2", latency_ms=12.5,
        quotes=(
            AuditQuote(1, "bbc-2021-01-17", *FIRST, hashlib.sha256(first.encode()).hexdigest(), first, 0.91),
            AuditQuote(2, "bbc-2021-01-17", *SECOND, hashlib.sha256(second.encode()).hexdigest(), second, 0.62),
        ),
        feedback=(),
    )


@pytest.mark.asyncio
async def test_an_abstention_is_recorded_without_quotes_and_defaults_to_the_cli(log):
    audit_id = await log.record_answer(answer("Who won the 2030 World Cup?", mode="bm25", abstained=True))
    entry = await log.get(audit_id)
    assert (entry.abstained, entry.quotes, entry.model) == (True, (), None)
    assert (entry.guild_id, entry.channel_id, entry.user_id, entry.user_name) == (None, "cli", None, None)


@pytest.mark.asyncio
async def test_unknown_ids_are_named(log):
    with pytest.raises(UnknownAuditId, match="12345"):
        await log.get(12345)


@pytest.mark.asyncio
async def test_concurrent_writers_on_one_log_and_on_two_logs_all_land(log):
    async with await AuditLog.open(log.path) as other:
        ids = await asyncio.gather(*(
            (log if n % 2 else other).record_answer(answer(f"question {n}")) for n in range(20)
        ))
    assert sorted(ids) == list(range(1, 21))
    assert {entry.question for entry in await log.recent(100)} == {f"question {n}" for n in range(20)}


# Feedback


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["helpful", "not_helpful", "report"])
async def test_each_kind_of_feedback_is_kept(log, kind):
    audit_id = await log.record_answer(answer())
    feedback_id = await log.record_feedback(audit_id, kind=kind, user_id=42, user_name="bea", reason="why not")

    (feedback,) = (await log.get(audit_id)).feedback
    assert feedback == Feedback(feedback_id, feedback.created_at, kind, "42", "bea", "why not")
    assert datetime.fromisoformat(feedback.created_at).utcoffset() == timedelta(0)


@pytest.mark.asyncio
@pytest.mark.parametrize("given, kept", [
    ("  misquotes the court  ", "misquotes the court"),
    ("   ", None),
    (None, None),
    ("x" * 1500, "x" * audit.MAX_REASON_CHARS),
])
async def test_a_reason_is_trimmed_and_capped(log, given, kept):
    audit_id = await log.record_answer(answer())
    await log.record_feedback(audit_id, kind="report", reason=given)
    assert (await log.get(audit_id)).feedback[0].reason == kept


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["Helpful", "spam", "", "reported"])
async def test_an_unknown_kind_is_refused(log, kind):
    audit_id = await log.record_answer(answer())
    with pytest.raises(ValueError, match=f"unknown feedback kind {kind!r}"):
        await log.record_feedback(audit_id, kind=kind)
    assert (await log.get(audit_id)).feedback == ()


@pytest.mark.asyncio
async def test_feedback_on_an_unknown_answer_is_refused(log):
    with pytest.raises(UnknownAuditId, match="404"):
        await log.record_feedback(404, kind="helpful")
    assert (await log.stats()).helpful == 0


# Read views


@pytest.mark.asyncio
async def test_recent_is_newest_first(log):
    ids = [await log.record_answer(answer(f"q{n}")) for n in range(3)]
    assert [entry.id for entry in await log.recent()] == ids[::-1]
    assert [entry.question for entry in await log.recent(2)] == ["q2", "q1"]


@pytest.mark.asyncio
@pytest.mark.parametrize("limit, count", [(0, 1), (-5, 1), (3, 3), (101, 100), (10_000, 100)])
async def test_recent_clamps_its_limit(log, limit, count):
    for n in range(102):
        await log.record_answer(answer(f"q{n}", abstained=True))
    assert len(await log.recent(limit)) == count


@pytest.mark.asyncio
async def test_reported_lists_the_most_recently_reported_first_with_the_reports(log):
    a, b, c = [await log.record_answer(answer(q)) for q in ("a", "b", "c")]
    await log.record_feedback(a, kind="report", reason="first")
    await log.record_feedback(c, kind="report", reason="second")
    await log.record_feedback(b, kind="helpful")
    await log.record_feedback(a, kind="report", reason="third")

    reported = await log.reported()
    assert [entry.id for entry in reported] == [a, c]
    assert [(f.kind, f.reason) for f in reported[0].feedback] == [("report", "first"), ("report", "third")]
    assert [entry.id for entry in await log.reported(limit=1)] == [a]


@pytest.mark.asyncio
async def test_stats_of_an_empty_log(log):
    stats = await log.stats()
    assert (stats.questions, stats.abstained, stats.abstention_rate) == (0, 0, 0.0)
    assert (stats.by_mode, stats.most_asked) == ({}, [])


@pytest.mark.asyncio
async def test_stats_count_questions_feedback_modes_and_repeats(log):
    first = await log.record_answer(answer("Who is Navalny?"))
    second = await log.record_answer(answer("  WHO IS  NAVALNY?\n"))
    third = await log.record_answer(answer("What did Amnesty say?", mode="bm25"))
    await log.record_answer(answer("Is it raining in Moscow?", abstained=True))
    await log.record_feedback(first, kind="helpful")
    await log.record_feedback(third, kind="helpful")
    await log.record_feedback(second, kind="not_helpful")
    await log.record_feedback(second, kind="report", reason="out of context")

    stats = await log.stats()
    assert stats == audit.AuditStats(
        questions=4, abstained=1, abstention_rate=0.25, helpful=2, not_helpful=1, reports=1,
        by_mode={"hybrid": 3, "bm25": 1},
        # Ties go to the most recently asked; a group shows its latest wording, trimmed.
        most_asked=[("WHO IS  NAVALNY?", 2), ("Is it raining in Moscow?", 1), ("What did Amnesty say?", 1)],
    )


@pytest.mark.asyncio
async def test_most_asked_keeps_the_top_five_and_folds_non_ascii_case(log):
    for question in ["Кто такой Навальный?", "кто такой навальный?", *(f"q{n}" for n in range(6))]:
        await log.record_answer(answer(question))
    most_asked = (await log.stats()).most_asked
    assert most_asked == [("кто такой навальный?", 2), ("q5", 1), ("q4", 1), ("q3", 1), ("q2", 1)]


@pytest.mark.asyncio
async def test_export_is_json_with_quotes_and_feedback_oldest_first(log):
    first = await log.record_answer(answer("first"), guild_id=1, user_name="ada")
    await log.record_answer(answer("second", abstained=True))
    await log.record_feedback(first, kind="report", user_name="bea", reason="wrong date")

    exported = json.loads(json.dumps(await log.export()))
    assert [row["question"] for row in exported] == ["first", "second"]
    row = exported[0]
    assert (row["id"], row["guild_id"], row["user_name"], row["abstained"]) == (first, "1", "ada", False)
    assert [(q["rank"], q["start"], q["end"], q["text"]) for q in row["quotes"]] == [
        (1, *FIRST, BODY[slice(*FIRST)]), (2, *SECOND, BODY[slice(*SECOND)])]
    assert [(f["kind"], f["user_name"], f["reason"]) for f in row["feedback"]] == [("report", "bea", "wrong date")]
    assert (exported[1]["quotes"], exported[1]["feedback"]) == ([], [])
    assert set(row) == {field.name for field in dataclasses.fields(AuditEntry)}


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
    entry = await log.get(await log.record_answer(answer()))
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
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            with caplog.at_level(logging.WARNING, logger="bot.audit"):
                with pytest.raises(AuditWriteFailed, match=rf"{re.escape(str(path))} after 3 attempts: .*locked"):
                    await log.record_answer(answer())
                with pytest.raises(AuditWriteFailed, match="locked"):
                    await log.record_feedback(1, kind="helpful")
        finally:
            blocker.rollback()
            blocker.close()
        assert len([r for r in caplog.records if r.levelno == logging.WARNING and "busy" in r.message]) == 4
        assert await log.recent() == []
        assert await log.record_answer(answer()) == 1  # the log is still usable once the lock goes


@pytest.mark.asyncio
async def test_a_lock_released_during_the_retries_lets_the_write_through(tmp_path, caplog):
    path = tmp_path / "audit.db"
    async with await AuditLog.open(path, attempts=6, busy_timeout=0.05, backoff=0.05) as log:
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        asyncio.get_running_loop().call_later(0.2, blocker.close)  # closing ends its transaction
        with caplog.at_level(logging.WARNING, logger="bot.audit"):
            audit_id = await log.record_answer(answer())
        assert (await log.get(audit_id)).question == "What happened at the airport?"
        assert any("busy" in r.message for r in caplog.records if r.levelno == logging.WARNING)


CHILD = textwrap.dedent("""
    import asyncio, os, signal, sys
    from bot.audit import AuditLog
    from retrieval.answer import Answer

    async def main():
        log = await AuditLog.open(sys.argv[1])
        audit_id = await log.record_answer(Answer("Was it kill -9 proof?", False, "bm25", (), "v1", None, 3.0))
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
        entry = await log.get(audit_id)
    assert (entry.question, entry.mode, entry.corpus_version) == ("Was it kill -9 proof?", "bm25", "v1")
