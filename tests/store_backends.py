"""The audit store's backends for tests: a fresh SQLite file, or a fresh database on one
PostgreSQL server per session; and the tiny answers they record."""
from __future__ import annotations

import pytest
import pytest_asyncio

from bot.audit_store import Asker, Scope
from bot.store import open_store
from retrieval.answer import Answer, Quote, Status

BODY = "Navalny returned to Moscow in January.\n\nHe was detained at passport control."
FIRST, SECOND = (0, 38), (40, 75)
A, B = Scope.guild("111"), Scope.guild("222")
OPERATOR, DMS = Scope.operator(), Scope.direct_messages()


def quote(span: tuple[int, int], score: float, doc_id: str = "bbc-2021-01-17", body: str = BODY) -> Quote:
    start, end = span
    return Quote(quote=body[start:end], doc_id=doc_id, title="Navalny arrested", outlet="BBC",
                 published="2021-01-17", url="https://bbc.example/navalny", kind="news", start=start, end=end,
                 score=score)


def answer(question: str = "What happened at the airport?", *, mode: str = "hybrid", abstained: bool = False,
           status: Status | None = None, reason: str | None = None,
           passages: tuple[Quote, ...] | None = None) -> Answer:
    if passages is None:
        passages = () if abstained else (quote(FIRST, 0.91), quote(SECOND, 0.62))
    if status is None:
        status = Status.NOT_COVERED if abstained else Status.ANSWERED
    return Answer(question=question, abstained=abstained, mode=mode, passages=passages, corpus_version="c0ffee",
                  model="all-MiniLM-L6-v2" if mode == "hybrid" else None, latency_ms=12.5, status=status,
                  reason=reason)


def in_guild(guild_id: str = "111", user_id: str = "333", **more) -> Asker:
    return Asker(guild_id=guild_id, channel_id="999", user_id=user_id, user_name=f"member{user_id}",
                 source=more.pop("source", "slash"), **more)


def in_dm(user_id: str = "444") -> Asker:
    return Asker(guild_id=None, channel_id="888", user_id=user_id, user_name="dm-user", source="slash")


CLI = Asker(user_name="operator")

BACKENDS = ["sqlite"]


async def open_backend(kind: str, tmp_path, request):
    if kind == "sqlite":
        return await open_store(tmp_path / "audit.db")
    raise AssertionError(kind)


@pytest_asyncio.fixture(params=BACKENDS)
async def store(request, tmp_path):
    opened = await open_backend(request.param, tmp_path, request)
    try:
        yield opened
    finally:
        await opened.close()
