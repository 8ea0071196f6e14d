"""Writing the corpus folder: whole files or nothing, one writer at a time.

Every write goes to a temporary file beside its target, is flushed to disk (fsync), and is
renamed over the target; the folder is fsynced so the rename itself survives a crash. A
failure removes the temporary file: nothing half-written, nothing left behind to trip a
later command.

Writers in different processes (two `corpus add` at once, a hide during an add) take one
lock file in the corpus folder (filelock: fcntl on POSIX, msvcrt on Windows). The lock is
held by an open file descriptor, so a process killed while holding it releases it: a crash
never leaves the corpus locked.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
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
    """Remove what a writer killed mid-write left: its temporary files. Every writer holds
    the lock while its temporary files exist, so under the lock any that remain are orphans."""
    for pattern in (".*.tmp", "raw/.*.tmp"):
        for temp in folder.glob(pattern):
            try:
                temp.unlink()
            except OSError:
                pass  # not ours to fight over; it blocks nothing


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open a folder; its renames are durable on their own
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_temp(target: Path, data: bytes) -> Path:
    """`data` in a fsynced temporary file beside `target`, readable like the corpus files;
    removed again when writing fails."""
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.chmod(temp, 0o644)  # mkstemp makes 0600; corpus files are read by everyone, like the seeds
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return Path(temp)


def publish(temp: Path, target: Path) -> None:
    """Rename a written temporary file over its target, durably."""
    os.replace(temp, target)
    _fsync_folder(target.parent)


def write_atomic(target: Path | str, data: bytes) -> None:
    """Replace `target` with `data`: readers see the old file or the new, never a mix."""
    target = Path(target)
    temp = write_temp(target, data)
    try:
        publish(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
