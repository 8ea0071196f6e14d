"""/forget-me is erasure: after the confirm, while the bot runs, the store's files hold none of the
member's question, report reason, name or id; the settings they saved, the export, the mod-log
report about them and their public answer's title no longer show them. Through the real client,
the loopback fake, and both backends' real files (SQLite's main file and -wal; PostgreSQL's data
directory after a CHECKPOINT)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.audit_store import Scope
from bot_world import ADMIN, GUILD_A, MODLOG, bot_world
from store_backends import postgres_server, postgres_url, store_location  # noqa: F401 - the fixtures

MEMBER, OTHER = 6010000000000000601, 6020000000000000602
NAME = "zedquillerasable"
QUESTION = "why did quixoticzanzibar amnesty withdraw the status"
REASON = "yodelingplatypus says this quote is wrong"
CLAIM = "Platypusclaimant says Amnesty withdrew the status in February."
TRACES = ("quixoticzanzibar", "yodelingplatypus", NAME, "platypusclaimant", str(MEMBER))


def traces_in(files: list[Path]) -> dict[str, list[str]]:
    """Which of the member's words each file still holds (case folded, as question_key stores them)."""
    found = {}
    for path in files:
        data = path.read_bytes().lower()
        hits = [t for t in TRACES if t.lower().encode() in data]
        if hits:
            found[str(path)] = hits
    return found


async def store_files(location: str, postgres_server) -> list[Path]:
    if not location.startswith("postgresql://"):
        return [p for p in (Path(location), Path(location + "-wal")) if p.exists()]
    import asyncpg

    db = await asyncpg.connect(location)
    try:
        await db.execute("CHECKPOINT")  # what is in shared buffers reaches the files
        oid = await db.fetchval("SELECT oid FROM pg_database WHERE datname = current_database()")
    finally:
        await db.close()
    return [p for p in (Path(postgres_server.pgdata) / "base" / str(oid)).iterdir() if p.is_file()]


@pytest.mark.asyncio
async def test_forget_me_leaves_nothing_of_the_member_in_the_files_posts_settings_or_export(
        bm25_index, tmp_path, store_location, request):
    server = request.getfixturevalue("postgres_server") if store_location.startswith("postgresql://") else None
    me = {"user_id": MEMBER, "username": NAME}
    async with bot_world(bm25_index, tmp_path, store_location) as world:
        await world.set_modlog(**me)  # the settings remember who saved them
        body, answer_message = await world.ask(QUESTION, **me)  # public: its title shows the question
        [entry] = await world.store.recent(Scope.guild(GUILD_A), 1)
        await world.report(answer_message, entry.id, REASON, **me)
        [post] = await world.fake.wait_until(world.modlog_posts, 5, "the report in the mod-log channel")
        claim = world.fake.member_message(CLAIM, author_id=MEMBER, author_name=NAME)
        await world.final(await world.fake.message_command("Find sources", claim, user_id=OTHER))
        await world.vote(entry.id, **me)
        # A moderator's label on their answer: it holds no copy of the question, so it keeps none.
        await world.store.label(Scope.guild(GUILD_A), entry.id, "none", user_id="77", user_name="a-moderator")
        before = traces_in(await store_files(store_location, server))
        assert before and set(TRACES) <= {t for hits in before.values() for t in hits}  # the probe can see them

        done = await world.forget_me(**me)
        assert traces_in(await store_files(store_location, server)) == {}
        [label] = await world.store.labels(Scope.guild(GUILD_A))
        assert label.answer_id == entry.id and label.question == ""  # the label stays, with nothing to teach
        assert "2 question(s)" in done and "edited" in done
        exported = json.dumps(await world.store.export(Scope.operator()))
        assert claim["id"] not in exported and QUESTION not in exported and NAME not in exported
        report = json.dumps(post["embeds"])  # the fake keeps the message as last edited
        assert "quixoticzanzibar" not in report and "yodelingplatypus" not in report and NAME not in report
        assert "removed at the member's request" in report and "a member who asked to be forgotten" in report
        title = answer_message["embeds"][0]["title"]
        assert "quixoticzanzibar" not in title and "removed" in title
        settings = await world.command("settings show", permissions=ADMIN)
        assert f"<#{MODLOG}>" in settings  # the server keeps its settings; only who saved them is gone
