"""What the store said last, for when it cannot say anything: answers never wait for the audit log.

A server's hidden passages and settings are read from the store before each answer. When the
store cannot be read (PostgreSQL stopped or unreachable, SQLite locked or gone), the last good
read stands in for it, with its age in the log; a server never read since the start gets the
caller's fallback.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Awaitable, Callable, Generic, Hashable, TypeVar

from bot.store import AuditError

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Read(Generic[T]):
    value: T
    age_seconds: float  # 0 when read from the store just now
    stale: bool  # the store could not be read: the last good read (or the fallback) stands in


class LastGood(Generic[T]):
    def __init__(self, what: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.what = what  # for the log: "hidden passages", "settings"
        self._clock = clock
        self._reads: dict[Hashable, tuple[float, T]] = {}

    def last(self, key: Hashable) -> tuple[float, T] | None:
        """(when it was read, the value), or None if it never was."""
        return self._reads.get(key)

    def remember(self, key: Hashable, value: T) -> None:
        self._reads[key] = (self._clock(), value)

    async def read(self, key: Hashable, fetch: Callable[[], Awaitable[T]], fallback: T) -> Read[T]:
        try:
            value = await fetch()
        except AuditError as exc:
            last = self._reads.get(key)
            if last is None:
                log.warning("the %s of guild %s could not be read (%s) and never were since the start; "
                            "answering with %r", self.what, key, exc, fallback)
                return Read(fallback, 0.0, True)
            age = self._clock() - last[0]
            log.warning("the %s of guild %s could not be read (%s); answering with the last read, %.0f s old",
                        self.what, key, exc, age)
            return Read(last[1], age, True)
        self.remember(key, value)
        return Read(value, 0.0, False)
