"""The pause a member waits between questions, one per member per server (DMs count as one place).

A pruned mapping of our own rather than discord.py's `CooldownMapping`: each server sets its own
length, and changes it at any time (`/settings cooldown`), so the length is the one in force when
the member asks, not the one when the bucket was made; and a question refused for its text must
not start the pause, so checking and starting are two steps.
"""
from __future__ import annotations

import time

from bot.store.values import MAX_COOLDOWN_SECONDS

# How often the mapping drops members whose pause is over: it holds only members who asked within
# the longest pause a server may set, so it stays as small as the recent askers.
PRUNE_SECONDS = 60.0


class Cooldown:
    """Kept in the process: a member's questions reach the shard of the server they ask in."""

    def __init__(self, seconds: float, clock=time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._last: dict[tuple[int | None, int], float] = {}
        self._pruned = clock()

    def remaining(self, guild_id: int | None, user_id: int, seconds: float | None = None) -> float:
        """`guild_id` None: DMs. `seconds`: the server's own cooldown, when it set one."""
        wait = self.seconds if seconds is None else seconds
        return max(0.0, self._last.get((guild_id, user_id), -1e9) + wait - self._clock())

    def start(self, guild_id: int | None, user_id: int) -> None:
        now = self._clock()
        self._last[(guild_id, user_id)] = now
        if now - self._pruned >= PRUNE_SECONDS:
            self.prune(now)

    def forget(self, guild_id: int | None, user_id: int) -> None:
        """A question that got no answer does not count against the member."""
        self._last.pop((guild_id, user_id), None)

    def prune(self, now: float) -> None:
        longest = max(self.seconds, MAX_COOLDOWN_SECONDS)
        self._last = {key: last for key, last in self._last.items() if now - last < longest}
        self._pruned = now

    def __len__(self) -> int:
        return len(self._last)
