"""Answers the store could not take yet, kept in order and retried while the process lives.

Both backends write every answer through one Backlog: the first try is immediate; while the
store refuses (another process holds SQLite's write lock for half a minute; PostgreSQL is
restarting), answers wait here and a background task retries the oldest every second. On
close, what is left gets a few more seconds, then each answer still unwritten is logged at
ERROR with its question, so the operator can tell which were lost.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.store.errors import AuditBacklogFull, AuditWriteFailed
from bot.store.values import BACKLOG_CAPACITY, BACKLOG_FLUSH_SECONDS, BACKLOG_RETRY_SECONDS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BacklogPolicy:
    capacity: int = BACKLOG_CAPACITY
    retry_seconds: float = BACKLOG_RETRY_SECONDS
    flush_seconds: float = BACKLOG_FLUSH_SECONDS


class Backlog:
    def __init__(self, write: Callable[..., Awaitable[int]], where: object,
                 policy: BacklogPolicy = BacklogPolicy()) -> None:
        if policy.capacity < 0:
            raise ValueError(f"a backlog's capacity cannot be negative ({policy.capacity})")
        self._write = write
        self._where = where
        self._capacity = policy.capacity
        self._retry_seconds = policy.retry_seconds
        self._flush_seconds = policy.flush_seconds
        self._waiting: deque[tuple[Any, str]] = deque()  # (row, question), oldest first
        self._task: asyncio.Task | None = None
        self._stop = asyncio.Event()

    def __len__(self) -> int:
        return len(self._waiting)

    async def submit(self, row: Any, question: str) -> int | None:
        """The audit id, or None when the answer waits in the backlog (its id is not known yet)."""
        if not self._waiting:
            try:
                return await self._write(row, retrying=False)
            except AuditWriteFailed as exc:
                error = exc
                log.warning("audit log %s refuses writes (%s); answers wait in memory and are retried every "
                            "%.0f s", self._where, exc.error, self._retry_seconds)
        else:
            error = AuditWriteFailed(self._where, RuntimeError("earlier answers are still waiting"), 0)
        if len(self._waiting) >= self._capacity:
            raise AuditBacklogFull(self._where, getattr(error, "error", error), self._capacity)
        self._waiting.append((row, question))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._retry(), name="audit-backlog")
        return None

    async def _retry(self) -> None:
        while self._waiting and not self._stop.is_set():
            if not await self._write_oldest():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self._retry_seconds)
        if not self._stop.is_set():
            log.info("audit log %s takes writes again; the backlog is written", self._where)

    async def _write_oldest(self) -> bool:
        row, question = self._waiting[0]
        try:
            await self._write(row, retrying=True)
        except AuditWriteFailed:
            return False
        except Exception:  # noqa: BLE001 - a row the store will never take must not block those behind it
            log.exception("AUDIT RECORD LOST: the store refused the answer to %r", question)
        self._waiting.popleft()
        return True

    async def close(self) -> None:
        """Try what is waiting for `flush_seconds` more; log at ERROR each answer still unwritten."""
        self._stop.set()
        if self._task is not None:
            # Not cancelled: a write cancelled after its commit would be written twice.
            await self._task
        deadline = time.monotonic() + self._flush_seconds
        while self._waiting and time.monotonic() < deadline:
            if not await self._write_oldest():
                # Closing: try often (each try already waits for the lock inside the store).
                await asyncio.sleep(min(self._retry_seconds, 0.1, max(0.0, deadline - time.monotonic())))
        for _, question in self._waiting:
            log.error("AUDIT RECORD LOST: the audit log %s still refused writes at close; the answer to %r "
                      "was not recorded", self._where, question)
        self._waiting.clear()
