"""Part 3: N simultaneous /ask through the loopback fake of Discord, against a real StoryBot.

For each N a fresh FakeDiscord (heartbeat every 500 ms), StoryBot (cooldown 0), AnswerService
(empty cache) and audit log; N members (distinct user ids) ask at once, questions drawn from
the dev set with repeats (Zipf-like: a few questions are asked by many, as on a real server).
Per interaction the fake records the acknowledgement (the POST .../callback) and the final
answer (the follow-up), each with `latency` = seconds since its INTERACTION_CREATE was written.

The fake runs in this process and event loop, as in tests/test_discord_bot.py: its own HTTP
and JSON work is counted in the latencies (a real Discord would not add it).
"""
from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import time
import dataclasses
from dataclasses import dataclass, field
from typing import Iterator

from bench.common import CORPUS, ROOT, WORK, Dist, Engine, say

# tests/ is not a package (pytest puts it on sys.path through its rootdir/conftest), and the
# fake is a test double that belongs with the tests; the bench reuses it rather than copying
# 600 lines, so it must put that folder on sys.path itself.
sys.path.insert(0, str(ROOT / "tests"))
from fake_discord import GUILD_ID, FakeDiscord, Recorded  # noqa: E402

ACK_TARGET_S = 3.0  # Discord drops an interaction not acknowledged within 3 s
FINAL_TARGET_S = 3.0  # p95 of the final answer
HEARTBEAT_MS = 500


@dataclass(frozen=True)
class Burst:
    n: int
    distinct_questions: int
    acked: int
    answered: int  # final answers with an embed
    errors: int  # callbacks or follow-ups Discord would have refused (status >= 300)
    ack: Dist  # milliseconds
    final: Dist
    max_heartbeat_gap_s: float
    batches: int  # forward passes run by AnswerService
    dispatch_s: float  # time the fake took to write all N INTERACTION_CREATE
    ack_samples: tuple[float, ...]
    final_samples: tuple[float, ...]
    probe: "Probe"

    @property
    def all_acked_in_time(self) -> bool:
        return self.acked == self.n and self.ack.max <= ACK_TARGET_S * 1000

    @property
    def final_p95_met(self) -> bool:
        return self.answered == self.n and self.final.p95 <= FINAL_TARGET_S * 1000


@dataclass
class Probe:
    """Where a burst's time went, measured by wrapping product functions for its length."""

    span_s: float = 0.0  # first INTERACTION_CREATE written -> last final answer received
    batches: list[tuple[int, float]] = field(default_factory=list)  # answer_many: (questions, ms)
    encode_ms: list[float] = field(default_factory=list)  # the model's forward passes inside them
    audit_ms: list[float] = field(default_factory=list)  # SQLiteStore.record_answer, each await
    lag_ms: list[float] = field(default_factory=list)  # event-loop lag, sampled every 10 ms

    @property
    def answer_many_s(self) -> float:
        return sum(ms for _, ms in self.batches) / 1000

    @property
    def blocked_s(self) -> float:
        return sum(self.lag_ms) / 1000


@contextlib.contextmanager
def _probing(engine: Engine, probe: Probe) -> Iterator[None]:
    import bot.service as service_module
    from bot.store.sqlite import SQLiteStore as AuditLog
    from retrieval.embeddings import Encoder

    answer_many, record_answer, dense = service_module.answer_many, AuditLog.record_answer, engine.hybrid.dense
    encoder = dense.encoder

    def timed_batch(index, questions, *args, **kwargs):
        started = time.perf_counter()
        try:
            return answer_many(index, questions, *args, **kwargs)
        finally:
            probe.batches.append((len(questions), (time.perf_counter() - started) * 1000))

    def timed(encode):
        def timed_encode(*args, **kwargs):
            started = time.perf_counter()
            try:
                return encode(*args, **kwargs)
            finally:
                probe.encode_ms.append((time.perf_counter() - started) * 1000)

        return timed_encode

    async def timed_record(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return await record_answer(self, *args, **kwargs)
        finally:
            probe.audit_ms.append((time.perf_counter() - started) * 1000)

    service_module.answer_many, AuditLog.record_answer = timed_batch, timed_record
    # answer() runs the question through encode_spans (one pass for vectors and word pieces).
    tokens = timed(encoder.encode_tokens) if encoder.encode_tokens else None
    spans = timed(encoder.encode_spans) if encoder.encode_spans else None
    dense.encoder = dataclasses.replace(encoder, encode=timed(encoder.encode), encode_tokens=tokens, encode_spans=spans)
    try:
        yield
    finally:
        service_module.answer_many, AuditLog.record_answer, dense.encoder = answer_many, record_answer, encoder


async def _sample_lag(probe: Probe) -> None:
    while True:
        started = time.perf_counter()
        await asyncio.sleep(0.01)
        probe.lag_ms.append(max(0.0, (time.perf_counter() - started - 0.01) * 1000))


@dataclass(frozen=True)
class DiscordLoadResult:
    bursts: tuple[Burst, ...]


def question_mix(questions: list[str], n: int, seed: int = 42) -> list[str]:
    """n questions with repeats: weight 1/rank^1.1 over a seeded shuffle of the dev questions."""
    rng = random.Random(seed)
    pool = questions[:]
    rng.shuffle(pool)
    weights = [1 / (rank ** 1.1) for rank in range(1, len(pool) + 1)]
    return rng.choices(pool, weights=weights, k=n)


def _is_final(r: Recorded) -> bool:
    # As FakeDiscord.wait_for_response(kind="final"): a visible answer, not the "thinking" defer.
    deferred = r.kind == "callback" and (r.json or {}).get("type") in (5, 6)
    return r.status < 300 and not deferred and r.kind in ("callback", "followup", "edit_original")


def _story_bot(engine: Engine, service, audit):
    """A StoryBot as serve() makes one, from whatever its constructor takes now (it grew a
    `reloader` and lost `corpus_folder` while this bench was being written)."""
    import inspect

    from bot.discord_bot import StoryBot

    accepted = inspect.signature(StoryBot.__init__).parameters
    options = {"service": service, "guild_ids": (GUILD_ID,), "cooldown_seconds": 0}
    options["store" if "store" in accepted else "audit"] = audit
    if "reloader" in accepted:
        from bot.live import Reloader

        options["reloader"] = Reloader(engine.settings, service, engine.encoder)
    if "corpus_folder" in accepted:
        options["corpus_folder"] = engine.settings.corpus
    return StoryBot(**options)


async def _burst(engine: Engine, n: int, timeout: float) -> Burst:
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    from bot.store.sqlite import SQLiteStore as AuditLog
    from bot.discord_bot import use_endpoints
    from bot.service import AnswerService

    db = WORK / "discord" / f"audit-{n}.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    for old in db.parent.glob(f"{db.name}*"):
        old.unlink()
    saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    async with FakeDiscord(heartbeat_interval_ms=HEARTBEAT_MS) as fake:
        use_endpoints(fake.api_base, fake.gateway_url)
        audit = await AuditLog.open(db)
        service = AnswerService(engine.hybrid)
        task = None
        try:
            bot = _story_bot(engine, service, audit)
            task = asyncio.create_task(bot.start(fake.token))
            await fake.wait_until(lambda: fake.command_bodies.get(GUILD_ID), 30, "command sync")
            await fake.wait_until(bot.is_ready, 30, "READY")
            await fake.wait_heartbeats(2, timeout=10)
            mix = question_mix([q.question for q in engine.questions], n)
            probe = Probe()
            sampler = asyncio.create_task(_sample_lag(probe))
            with _probing(engine, probe):
                started = time.perf_counter()
                sent = await asyncio.gather(*(fake.slash("ask", {"question": q}, user_id=10_000 + i) for i, q in enumerate(mix)))
                dispatch = time.perf_counter() - started
                ids = {s.id for s in sent}
                acks, finals = await _collect(fake, ids, timeout)
            sampler.cancel()
            probe.span_s = max((r.time for r in finals.values()), default=started) - min(s.sent_at or started for s in sent)
            # One more heartbeat interval after the last answer, so a stall at the end shows too.
            await fake.wait_heartbeats(len(fake.heartbeats) + 1, timeout=10)
            return Burst(
                n=n,
                distinct_questions=len(set(mix)),
                acked=sum(r.status < 300 for r in acks.values()),
                answered=sum(bool((r.json or {}).get("embeds")) for r in finals.values()),
                errors=sum(r.status >= 300 for r in fake.requests if r.interaction_id in ids),
                ack=Dist.of([r.latency * 1000 for r in acks.values()]),
                final=Dist.of([r.latency * 1000 for r in finals.values()]),
                max_heartbeat_gap_s=fake.max_heartbeat_gap(),
                batches=service.batches,
                dispatch_s=dispatch,
                ack_samples=tuple(r.latency * 1000 for r in acks.values()),
                final_samples=tuple(r.latency * 1000 for r in finals.values()),
                probe=probe,
            )
        finally:
            if task is not None:
                await bot.close()
                await asyncio.wait_for(task, 10)
            await service.close()
            await audit.close()  # its worker thread would otherwise keep the process alive
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


async def _collect(fake: FakeDiscord, ids: set[int], timeout: float) -> tuple[dict[int, Recorded], dict[int, Recorded]]:
    """Acks and finals by interaction id. One waiter reading only new requests: 500 calls of
    wait_for_response would each rescan every request on every notification (quadratic), and
    that work runs on the same event loop as the bot being measured."""
    acks: dict[int, Recorded] = {}
    finals: dict[int, Recorded] = {}
    seen = 0

    def progress() -> bool:
        nonlocal seen
        for r in fake.requests[seen:]:
            if r.interaction_id in ids:
                if r.kind == "callback":
                    acks.setdefault(r.interaction_id, r)
                if _is_final(r):
                    finals.setdefault(r.interaction_id, r)
        seen = len(fake.requests)
        return len(finals) >= len(ids)

    try:
        await fake.wait_until(progress, timeout, f"{len(ids)} final answers")
    except TimeoutError as exc:
        say(f"discord_load: {exc} ({len(finals)} answered)")
    return acks, finals


def run(engine: Engine, *, quick: bool = False) -> DiscordLoadResult:
    # Issue 19: 100 / 500 / 1,000 at once, every one acknowledged within 3 s; --quick keeps the
    # smallest and the largest.
    sizes = (100, 1000) if quick else (100, 500, 1000)
    engine.hybrid  # noqa: B018 - load before the clock starts
    bursts = []
    for n in sizes:
        say(f"discord_load: {n} simultaneous /ask")
        bursts.append(asyncio.run(_burst(engine, n, timeout=60 + n * 0.5)))
    return DiscordLoadResult(tuple(bursts))
