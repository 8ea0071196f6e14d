"""The operator's view: logs with time, level and logger name and no voice warnings; progress on a
terminal and silence when piped; `storybot index`, `storybot audit forget`, retention."""
from __future__ import annotations

import asyncio
import io
import json
import logging

import numpy as np
import pytest

from bot import logs, progress
from bot.audit_store import Asker, Scope
from bot.cli import main
from bot.discord.members import expire_periodically
from bot.settings import BadSetting, from_env
from bot.store import open_store
from retrieval.embeddings import Encoder
from store_backends import answer

from conftest import DATA

PAGES = DATA / "pages"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def numbering_encoder(calls: list[int]) -> Encoder:
    def encode(texts):
        calls.append(len(texts))
        return np.array([[float(t.split()[-1])] for t in texts], dtype=np.float32)

    return Encoder("numbers", encode)


def test_a_long_encode_shows_progress_on_a_terminal_and_gives_the_same_rows(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    calls: list[int] = []
    texts = [f"passage {n}" for n in range(600)]
    vectors = progress.with_progress(numbering_encoder(calls), "embedding passages").encode(texts)
    assert vectors[:, 0].tolist() == list(range(600)) and calls == [256, 256, 88]
    shown = terminal.getvalue()
    assert "embedding passages" in shown and "600/600" in shown


def test_progress_is_silent_when_piped(capsys):
    calls: list[int] = []
    progress.with_progress(numbering_encoder(calls)).encode([f"passage {n}" for n in range(600)])
    list(progress.iterate(["a", "b"], "adding articles"))
    step, shown = progress.counted(lambda q: q, 3, "eval")
    with shown:
        assert [step(n) for n in range(3)] == [0, 1, 2]
    assert capsys.readouterr().err == "" and calls == [256, 256, 88]


def test_storybot_index_builds_and_warms_the_caches(workdir, capsys):
    code = main(["index"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("index ready: 5 articles, bm25") and "%|" not in err and "\x1b[" not in err
    assert "] [WARNING ] bot.engine: answering from BM25 alone" in err  # time, level, logger name
    assert (workdir / "corpus" / ".cache" / "sentences.json").exists()


def test_corpus_add_of_many_files_adds_each_and_names_the_refused(workdir, capsys):
    code = main(["corpus", "add", str(PAGES / "test-gazette-kestrel-review.html"),
                 str(PAGES / "test-gazette-boilerplate-only.html")])
    out, err = capsys.readouterr()
    assert code == 1 and "1 of 2 files added; 1 refused" in out and "boilerplate-only" in err
    assert (workdir / "corpus" / "test-gazette-2021-06-03.md").exists()
    assert main(["corpus", "add", "a.html", "b.html", "--outlet", "X"]) == 2
    assert "--outlet: can only be given with one file, not 2" in capsys.readouterr().err


def test_logs_carry_time_level_and_logger_name_and_no_voice_warnings(caplog):
    import discord

    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        logs.configure("INFO")
        [handler] = [h for h in root.handlers if h not in saved[0]]
        record = logging.LogRecord("bot.discord.modlog", logging.WARNING, __file__, 1, "posted", None, None)
        line = handler.formatter.format(record)
        assert "WARNING" in line and "bot.discord.modlog" in line and line[:5].strip("[").startswith("20")
    finally:
        root.handlers[:], root.level = saved
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = True  # as a fresh process has them
    with caplog.at_level(logging.WARNING, logger="discord"):
        from bot.discord.bot import StoryBot

        # Made only: the features (and /ask's description from the corpus's story) load in setup_hook.
        StoryBot(service=None, store=None, reloader=None)
    assert not [r for r in caplog.records if "voice" in r.getMessage()]


def test_retention_days_are_read_and_checked(tmp_path):
    assert from_env({}, tmp_path).retention_days is None
    assert from_env({"STORYBOT_RETENTION_DAYS": "30"}, tmp_path).retention_days == 30.0
    for bad in ("0", "-3", "a month"):
        with pytest.raises(BadSetting, match="STORYBOT_RETENTION_DAYS"):
            from_env({"STORYBOT_RETENTION_DAYS": bad}, tmp_path)


async def _recorded(db, *askers: Asker) -> None:
    store = await open_store(db)
    try:
        for n, asker in enumerate(askers):
            await store.record_answer(answer(f"question {n} from {asker.user_id}"), asker)
    finally:
        await store.close()


def test_audit_forget_removes_a_member_everywhere_from_the_export(tmp_path, monkeypatch, capsys):
    db = tmp_path / "audit.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STORYBOT_DB", str(db))
    asyncio.run(_recorded(db, Asker("1", "9", "333", "leaver", "slash"), Asker(None, "8", "333", "leaver", "slash"),
                          Asker("2", "7", "444", "stayer", "slash")))
    assert main(["audit", "forget", "333"]) == 0
    out = capsys.readouterr().out
    assert "forgot member 333 in every server and the DMs: 2 questions removed" in out
    assert main(["audit", "export"]) == 0
    questions = [json.loads(line)["question"] for line in capsys.readouterr().out.splitlines()]
    assert questions[2] == "question 2 from 444" and not any("333" in q for q in questions)


@pytest.mark.asyncio
async def test_the_bot_sweeps_old_member_data_at_start(tmp_path):
    store = await open_store(tmp_path / "audit.db")
    try:
        audit_id = await store.record_answer(answer("an old question"), Asker("1", "9", "333", "m", "slash"))
        await asyncio.sleep(0.05)
        sweep = asyncio.create_task(expire_periodically(store, 0.01 / 86400, every=3600))
        for _ in range(50):
            await asyncio.sleep(0.02)
            if (await store.get(Scope.guild("1"), audit_id)).user_id is None:
                break
        sweep.cancel()
        entry = await store.get(Scope.guild("1"), audit_id)
        assert entry.user_id is None and entry.question != "an old question" and entry.quotes
    finally:
        await store.close()
