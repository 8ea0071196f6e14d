"""Replacing files whole or not at all, durably: the one way the project writes a file that a
reader, another process or a crash could catch half-written (the corpus, the scorer's fit,
caches, the command-sync record).

A write goes to a temporary file beside its target (`.<name>.<random>.tmp`), is flushed to disk
(fsync), and is renamed over the target; the folder is fsynced so the rename itself survives a
crash. A failure removes the temporary file. Several files that belong together are all written
aside first, then renamed; a failure before the last rename undoes the ones done.
"""
from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO

# mkstemp makes 0600; what we write is read by everyone, like the files beside it.
MODE = 0o644


class TargetExists(FileExistsError):
    """`write_together(..., exclusive=True)` met a file already there; nothing was written."""


def fsync_folder(folder: Path) -> None:
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


@contextlib.contextmanager
def _aside(target: Path, mode: str = "wb", encoding: str | None = None) -> Iterator[tuple[IO, Path]]:
    """An open temporary file beside `target`, flushed to disk when the block ends without error,
    removed when it raises."""
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.chmod(temp, MODE)
        with os.fdopen(handle, mode, encoding=encoding) as out:
            yield out, Path(temp)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def replacing(target: Path | str, mode: str = "wb", encoding: str | None = None) -> Iterator[IO]:
    """An open temporary file beside `target`; once the block ends without error it is flushed to
    disk and renamed over `target`. Readers see the old file or the new, never a mix."""
    target = Path(target)
    with _aside(target, mode, encoding) as (out, temp):
        yield out
    try:
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_folder(target.parent)


def write_atomic(target: Path | str, data: bytes | str) -> None:
    """Replace `target` with `data` (text is written as UTF-8)."""
    with replacing(target) as out:
        out.write(data.encode("utf-8") if isinstance(data, str) else data)


def write_together(files: Mapping[Path, bytes | str], *, exclusive: bool = False,
                   verify: Callable[[], None] | None = None) -> None:
    """Write every file or none: each aside first, then all renamed into place, then `verify()`.
    `exclusive`: a target that exists already is refused. Whatever goes wrong (a full disk, Ctrl-C,
    a failed `verify`), the new files renamed into place are removed and the folders made for them
    too (a file replaced cannot be put back: the renames come last, when every byte is on disk)."""
    made_dirs = [d for d in dict.fromkeys(Path(p).parent for p in files) if not d.exists()]
    existed = {Path(p) for p in files if Path(p).exists()}
    staged: list[tuple[Path, Path]] = []
    renamed: list[Path] = []
    try:
        for target, data in files.items():
            target = Path(target)
            if exclusive and target.exists():
                raise TargetExists(errno.EEXIST, "already exists; nothing was written", str(target))
            target.parent.mkdir(parents=True, exist_ok=True)
            staged.append((_written_aside(target, data), target))
        for temp, target in staged:
            os.replace(temp, target)
            renamed.append(target)
        for folder in dict.fromkeys(target.parent for _, target in staged):
            fsync_folder(folder)
        if verify is not None:
            verify()
    except BaseException:
        for path in [*(temp for temp, _ in staged), *(p for p in renamed if p not in existed)]:
            path.unlink(missing_ok=True)
        for made in reversed(made_dirs):
            if made.is_dir() and not any(made.iterdir()):
                made.rmdir()
        raise


def _written_aside(target: Path, data: bytes | str) -> Path:
    with _aside(target) as (out, temp):
        out.write(data.encode("utf-8") if isinstance(data, str) else data)
    return temp
