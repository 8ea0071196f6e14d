"""`storybot audit ...` over a store the bot filled: scopes, statuses, ids that name nothing."""
from __future__ import annotations

import asyncio
import json
import re

import pytest

from bot.audit_store import Scope
from bot.cli import main
from bot.store import open_store
from retrieval.answer import Status
from bot.settings import from_env
from store_backends import (CLI, answer, in_dm, in_guild, postgres_server, postgres_url,  # noqa: F401 - fixtures
                            store_location)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def fill(location) -> None:
    """Three answers in server 111 (one uncertain), one in server 222, one DM, one from the CLI."""
    store = await open_store(location)
    try:
        await store.record_answer(answer("answered in 111"), in_guild("111"))
        await store.record_answer(answer("hedged in 111", status=Status.UNCERTAIN, reason="says nothing of when"),
                                  in_guild("111"))
        await store.record_answer(answer("off topic in 111", abstained=True), in_guild("111"))
        await store.record_answer(answer("hedged in 222", status=Status.UNCERTAIN), in_guild("222"))
        await store.record_answer(answer("asked in a DM"), in_dm())
        await store.record_answer(answer("asked on the command line"), CLI)
        await store.record_report(Scope.guild("111"), 2, user_id="5", user_name="bea", reason="=HYPERLINK(1)")
        await store.record_vote(Scope.guild("111"), 1, kind="helpful", user_id="5", user_name="bea")
    finally:
        await store.close()


@pytest.fixture
def filled(workdir, store_location, monkeypatch):
    """The same answers in a SQLite file and in a PostgreSQL database: every view below runs on both."""
    monkeypatch.setenv("STORYBOT_DB", store_location)
    asyncio.run(fill(store_location))
    return workdir


def questions(out: str) -> list[str]:
    return [line.rsplit(": ", 1)[1] for line in out.splitlines()]


def test_list_by_status_across_servers_and_in_one(filled, capsys):
    code, out, _ = run(capsys, "audit", "list", "--status", "uncertain")
    assert code == 0 and questions(out) == ["hedged in 222", "hedged in 111"]
    assert "uncertain" in out
    code, out, _ = run(capsys, "audit", "list", "--status", "uncertain", "--guild", "111")
    assert questions(out) == ["hedged in 111"]


def test_the_operator_sees_every_server_and_the_dms_a_server_its_own(filled, capsys):
    assert len(questions(run(capsys, "audit", "list")[1])) == 6
    assert questions(run(capsys, "audit", "list", "--guild", "222")[1]) == ["hedged in 222"]
    rows = [json.loads(line) for line in run(capsys, "audit", "export", "--guild", "111")[1].splitlines()]
    assert [row["question"] for row in rows] == ["answered in 111", "hedged in 111", "off topic in 111"]
    assert rows[1]["status"] == "uncertain" and rows[1]["reason"] == "says nothing of when"
    stats = run(capsys, "audit", "stats", "--guild", "111")[1]
    assert "questions: 3" in stats and "statuses: answered 1, not_covered 1, uncertain 1" in stats


@pytest.mark.parametrize("audit_id, guild", [("99999999999999999999", None), ("0", None), ("6", "111"),
                                             ("777", None)])
def test_show_of_an_id_that_names_nothing_there_is_a_clean_message(filled, capsys, audit_id, guild):
    code, out, err = run(capsys, "audit", "show", audit_id, *(["--guild", guild] if guild else []))
    assert (code, out) == (1, "")
    assert err == f"storybot: there is no audit entry with id {int(audit_id)}\n"


def test_show_gives_the_status_and_its_reason(filled, capsys):
    code, out, _ = run(capsys, "audit", "show", "2")
    assert code == 0 and "status: uncertain (says nothing of when), from slash" in out


def test_every_view_reads_the_same_from_sqlite_and_postgresql(workdir, postgres_url, capsys, monkeypatch):
    sqlite_file = str(workdir / "storybot.db")
    outputs = {}
    for location in (sqlite_file, postgres_url):
        asyncio.run(fill(location))
        monkeypatch.setenv("STORYBOT_DB", location)
        views = [("list",), ("list", "--guild", "111"), ("show", "2"), ("stats",), ("reported",),
                 ("export", "--format", "jsonl"), ("export", "--format", "csv")]
        outputs[location] = {view: run(capsys, "audit", *view) for view in views}
    timestamps = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+\+00:00)?")
    for view, (code, out, err) in outputs[sqlite_file].items():
        assert code == 0 and out, (view, err)
        other = outputs[postgres_url][view]
        assert (other[0], timestamps.sub("T", other[1]), other[2]) == (code, timestamps.sub("T", out), err), view


def test_a_postgresql_url_in_storybot_db_is_passed_on_unchanged(tmp_path):
    url = "postgresql://storybot:s3cret@db.example:5432/storybot?sslmode=require"
    assert from_env({"STORYBOT_DB": url}, tmp_path).db == url
    assert from_env({"STORYBOT_DB": "logs/audit.db"}, tmp_path).db == tmp_path / "logs" / "audit.db"


def test_forget_a_member_from_the_command_line(workdir, store_location, capsys, monkeypatch):
    monkeypatch.setenv("STORYBOT_DB", store_location)

    async def asked():
        store = await open_store(store_location)
        try:
            first = await store.record_answer(answer("my private question"), in_guild("111", "13"))
            await store.record_answer(answer("asked in 222"), in_guild("222", "13"))
            await store.record_report(Scope.guild("111"), first, user_id="13", user_name="m13", reason="mine")
        finally:
            await store.close()

    asyncio.run(asked())
    code, out, _ = run(capsys, "audit", "forget", "13", "--guild", "111")
    assert code == 0 and "1 questions removed, 1 votes and reports deleted" in out
    exported = run(capsys, "audit", "export")[1]
    assert "my private question" not in exported and "asked in 222" in exported
    assert run(capsys, "audit", "forget", "13")[0] == 0
    assert "asked in 222" not in run(capsys, "audit", "export")[1]


@pytest.mark.parametrize("days", ["0", "-3", "soon"])
def test_expire_wants_a_number_of_days(filled, capsys, days):
    with pytest.raises(SystemExit):
        main(["audit", "expire", days])
    assert "days" in capsys.readouterr().err
    assert run(capsys, "audit", "expire", "30")[1] == "removed what members left before 30 days ago: 0 questions, 0 votes and reports\n"
