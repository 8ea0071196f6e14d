"""Cost of recording one /ask answer (answers row + 2 quotes, one transaction) on SQLite:
storybot's own store (bot/store, aiosqlite) vs SQLAlchemy 2 Core over sqlite+aiosqlite on the same
schema (made by storybot's migrations, reflected) and PRAGMAs. Sequential calls (the layer's own
cost) and a burst of N at once, each twice, interleaved. Issue 20 asked to weigh Core before
writing our own store core; this is the figure it was weighed with.

    .venv/bin/pip install 'sqlalchemy[asyncio]>=2'    # not a dependency of storybot
    .venv/bin/python -m bench.store_layers 1000
"""
import asyncio, statistics, sys, time, tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from store_backends import answer, in_guild  # noqa: E402
from bot.store import open_store  # noqa: E402
from bot.store import rows as R  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000


def summary(name, samples, total):
    s = sorted(samples)
    print(f"{name:42s} p50 {statistics.median(s)*1000:6.2f} ms  p95 {s[int(len(s)*0.95)]*1000:6.2f} ms  total {total:6.2f} s")


async def ours(path: Path):
    store = await open_store(str(path))
    a, who = answer(), in_guild()
    seq = []
    start = time.perf_counter()
    for _ in range(N):
        t = time.perf_counter(); await store.record_answer(a, who); seq.append(time.perf_counter() - t)
    summary("storybot store, sequential", seq, time.perf_counter() - start)
    burst = []
    async def one():
        t = time.perf_counter(); await store.record_answer(a, who); burst.append(time.perf_counter() - t)
    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(N)))
    summary(f"storybot store, {N} at once", burst, time.perf_counter() - start)
    await store.close()


async def core(path: Path):
    from sqlalchemy import MetaData, event, insert
    from sqlalchemy.ext.asyncio import create_async_engine
    await (await open_store(str(path))).close()  # the same schema, made by storybot's migrations
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}", connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def pragmas(dbapi, _):
        cur = dbapi.cursor()
        for p in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON", "secure_delete = ON"):
            cur.execute(f"PRAGMA {p}")
        cur.close()

    meta = MetaData()
    async with engine.connect() as conn:
        await conn.run_sync(meta.reflect, only=["answers", "quotes"])
    answers, quotes = meta.tables["answers"], meta.tables["quotes"]
    a, who = answer(), in_guild()
    cols = ("answer_id", "rank", "doc_id", "start", "end", "text_sha256", "text", "score")

    async def record():
        row, qs = R.answer_values(a, who), R.quote_values(a)
        async with engine.begin() as conn:
            audit_id = (await conn.execute(insert(answers).values(row).returning(answers.c.id))).scalar_one()
            await conn.execute(insert(quotes), [dict(zip(cols, (audit_id, *q))) for q in qs])
        return audit_id

    seq = []
    start = time.perf_counter()
    for _ in range(N):
        t = time.perf_counter(); await record(); seq.append(time.perf_counter() - t)
    summary("SQLAlchemy Core, sequential", seq, time.perf_counter() - start)
    burst = []
    async def one():
        t = time.perf_counter(); await record(); burst.append(time.perf_counter() - t)
    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(N)))
    summary(f"SQLAlchemy Core, {N} at once", burst, time.perf_counter() - start)
    await engine.dispose()


async def main():
    with tempfile.TemporaryDirectory() as d:
        await ours(Path(d) / "ours.db")
        await core(Path(d) / "core.db")
        await ours(Path(d) / "ours2.db")
        await core(Path(d) / "core2.db")

asyncio.run(main())
