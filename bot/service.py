"""Answering from async code: off the event loop, batched, cached, and swappable.

The model runs on one worker thread. Questions that arrive while it is busy wait and are
answered together in the next batch, so a burst of 500 `/ask` costs a few forward passes
instead of 500, and the event loop (heartbeats, other interactions) is never blocked.
"""
from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial

from retrieval.answer import Answer, answer_many, normalise_question
from retrieval.index import HiddenSpan, Index
from retrieval.lessons import NO_LESSONS, Lessons

log = logging.getLogger(__name__)

Spans = frozenset[HiddenSpan]
# (corpus version, mode, spans excluded, the version of the server's labels, folded question):
# one server's hides and labels give that server its own answers, never another's.
_Key = tuple[str, str, Spans, str, str]
# What one batch shares besides the index: a server's hides and its lessons.
_Group = tuple[Spans, Lessons]


class AnswerService:
    def __init__(self, index: Index, *, max_batch: int = 64, cache_size: int = 1024) -> None:
        self._index = index
        self.max_batch = max_batch
        self.cache_size = cache_size
        self._cache: OrderedDict[_Key, Answer] = OrderedDict()
        self._queue: asyncio.Queue[tuple[str, _Group, asyncio.Future[Answer]]] | None = None
        # Questions queued or being answered, by cache key: a server asks the same thing many
        # times at once, and each copy should wait for one answer, not compute its own.
        self._pending: dict[_Key, asyncio.Future[Answer]] = {}
        self._worker: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="storybot-answer")
        self.batches = 0  # forward passes run, for benchmarks and tests

    @property
    def index(self) -> Index:
        return self._index

    def swap(self, index: Index) -> None:
        """Answer from a new index from now on; questions already in a batch finish on the old one."""
        self._index = index

    @staticmethod
    def _key(index: Index, group: _Group, text: str) -> _Key:
        exclude, lessons = group
        return (index.corpus.version, index.mode, exclude, lessons.key, text.casefold())

    async def ask(self, question: str, exclude: frozenset[HiddenSpan] = frozenset(),
                  lessons: Lessons = NO_LESSONS) -> Answer:
        """The answer to one question, never quoting a span of `exclude` (one server's hidden
        passages), taught by `lessons` (that server's labels); BadQuestion (raised at once,
        before any queueing) for empty or over-long input."""
        text = normalise_question(question)
        group = (frozenset(exclude), lessons)
        key = self._key(self._index, group, text)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return replace(cached, question=question.strip(), latency_ms=0.0)
        pending = self._pending.get(key)
        if pending is not None:
            return replace(await asyncio.shield(pending), question=question.strip())
        if self._worker is None or self._worker.done():
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._work(), name="storybot-answer-batches")
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        future.add_done_callback(lambda _: self._pending.pop(key, None))
        await self._queue.put((question, group, future))
        return await asyncio.shield(future)

    async def _work(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            index = self._index
            # One forward pass per set of excluded spans and lessons: most servers hide and label
            # nothing, so a burst from many servers is still one or two batches.
            groups: dict[_Group, list[tuple[str, asyncio.Future[Answer]]]] = {}
            for question, shared, future in batch:
                groups.setdefault(shared, []).append((question, future))
            for shared, group in groups.items():
                await self._answer_group(loop, index, shared, group)

    async def _answer_group(self, loop: asyncio.AbstractEventLoop, index: Index, shared: _Group,
                            group: list[tuple[str, asyncio.Future[Answer]]]) -> None:
        questions = [q for q, _ in group]
        exclude, lessons = shared
        try:
            answers = await loop.run_in_executor(self._executor, partial(answer_many, index, questions, exclude=exclude,
                                                                         lessons=lessons))
        except Exception as exc:  # noqa: BLE001 - handed to every waiting caller, never stranding one
            log.exception("answering a batch of %d failed", len(group))
            for _, future in group:
                if not future.done():
                    future.set_exception(exc)
            return
        self.batches += 1
        for (_, future), result in zip(group, answers):
            self._remember(index, shared, result)
            if not future.done():
                future.set_result(result)

    def _remember(self, index: Index, shared: _Group, result: Answer) -> None:
        key = self._key(index, shared, normalise_question(result.question))
        self._cache[key] = result
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
        self._executor.shutdown(wait=True)
