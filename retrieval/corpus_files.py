"""Writing the corpus folder: one writer at a time (each write whole or nothing, with
retrieval/atomic_files.py).

Writers in different processes (two `corpus add` at once, a hide during an add) take one
lock file in the corpus folder (filelock: fcntl on POSIX, msvcrt on Windows). The lock is
held by an open file descriptor, so a process killed while holding it releases it: a crash
never leaves the corpus locked.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from filelock import FileLock, Timeout

from retrieval.errors import StorybotError

LOCK_FILE = ".storybot.lock"
# Adding a 5 MB page (the size limit) takes a few seconds; a writer waits this long for
# another to finish before saying the corpus is busy.
LOCK_WAIT_SECONDS = 60.0


class CorpusBusy(StorybotError, TimeoutError):
    """Another process kept the corpus locked for longer than we wait."""


@contextlib.contextmanager
def corpus_lock(folder: Path | str, *, timeout: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold the corpus folder's write lock (re-entrant within a process)."""
    path = Path(folder) / LOCK_FILE
    lock = FileLock(str(path), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise CorpusBusy(f"{path}: another storybot command is writing the corpus; try again when it is done") from None
    try:
        _sweep(Path(folder))
        yield
    finally:
        lock.release()


def _sweep(folder: Path) -> None:
    """Remove what a writer killed mid-write left: its temporary files (atomic_files names them
    `.<name>.<random>.tmp`). Every writer holds
    the lock while its temporary files exist, so under the lock any that remain are orphans."""
    for pattern in (".*.tmp", "raw/.*.tmp"):
        for temp in folder.glob(pattern):
            try:
                temp.unlink()
            except OSError:
                pass  # not ours to fight over; it blocks nothing
