"""`storybot ask --guild ID`: the answer one server's members would get, from the command line.

A server's answers differ from the command line's by what its moderators did: the passages they
hid and the answers they labelled (bot/lessons.py). An operator checking a hide or a label reads
both from the audit store, as the bot does before each question in that server."""
from __future__ import annotations

from retrieval.index import HiddenSpan
from retrieval.lessons import Lessons

from bot.audit_store import Scope
from bot.cli.audit import require_log
from bot.lessons import lessons_of
from bot.store import open_store


async def server_view(db: str, guild: str) -> tuple[frozenset[HiddenSpan], Lessons]:
    """The spans server `guild` hides and what its labels teach, read from the audit store at `db`."""
    require_log(db, ", so no server has hidden or labelled anything")
    store = await open_store(db)
    try:
        return await store.hidden_spans(guild), lessons_of(await store.labels(Scope.guild(guild)))
    finally:
        await store.close()
