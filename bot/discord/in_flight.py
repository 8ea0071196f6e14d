"""Answers being made, so a stop can refuse new questions and let these finish."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import AsyncIterator

log = logging.getLogger(__name__)


class InFlight:
    def __init__(self) -> None:
        self.draining = False
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.asynccontextmanager
    async def answering(self) -> AsyncIterator[None]:
        self._busy += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._busy -= 1
            if not self._busy:
                self._idle.set()

    async def drain(self, timeout: float) -> None:
        self.draining = True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except asyncio.TimeoutError:
            log.warning("stopping with %d answers unfinished after %.0f s", self._busy, timeout)
