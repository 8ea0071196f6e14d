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

from retrieval.answer import Answer, answer_many, normalise_question
from retrieval.index import Index

log = logging.getLogger(__name__)


class AnswerService:
    def __init__(self, index: Index, *, max_batch: int = 64, cache_size: int = 1024) -> None:
        self._index = index
        self.max_batch = max_batch
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str, str], Answer] = OrderedDict()
        self._queue: asyncio.Queue[tuple[str, asyncio.Future[Answer]]] | None = None
        # Questions queued or being answered, by cache key: a server asks the same thing many
        # times at once, and each copy should wait for one answer, not compute its own.
        self._pending: dict[tuple[str, str, str], asyncio.Future[Answer]] = {}
        self._worker: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="storybot-answer")
        self.batches = 0  # forward passes run, for benchmarks and tests

    @property
    def index(self) -> Index:
        return self._index

    def swap(self, index: Index) -> None:
        """Answer from a new index from now on; questions already in a batch finish on the old one."""
        self._index = index

    def _key(self, text: str) -> tuple[str, str, str]:
        return (self._index.corpus.version, self._index.mode, text.casefold())

    async def ask(self, question: str) -> Answer:
        """The answer to one question; BadQuestion (raised at once, before any queueing) for
        empty or over-long input."""
        text = normalise_question(question)
        key = self._key(text)
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
        await self._queue.put((question, future))
        return await asyncio.shield(future)

    async def _work(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            index = self._index
            questions = [q for q, _ in batch]
            try:
                answers = await loop.run_in_executor(self._executor, answer_many, index, questions)
            except Exception as exc:  # noqa: BLE001 - handed to every waiting caller, never stranding one
                log.exception("answering a batch of %d failed", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self.batches += 1
            for (question, future), result in zip(batch, answers):
                self._remember(index, result)
                if not future.done():
                    future.set_result(result)

    def _remember(self, index: Index, result: Answer) -> None:
        key = (index.corpus.version, index.mode, normalise_question(result.question).casefold())
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
