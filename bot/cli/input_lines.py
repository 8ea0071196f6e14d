"""Questions read one a line from standard input, whatever arrives there.

Bytes are read, not text, so the locale cannot make a stray byte an exception: what is not
UTF-8 becomes U+FFFD and the question is still answered (and recorded). A line longer than
MAX_INPUT_LINE_BYTES is refused without being held in memory: the rest of it is read past
in pieces, and the next line is read as usual.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Iterator

from retrieval.limits import MAX_INPUT_LINE_BYTES

_CHUNK = 65_536


@dataclass(frozen=True)
class InputLine:
    text: str  # the line, newline removed; for a refused line, its first characters
    too_long: int = 0  # for a refused line: how many bytes it had (at least)


def _skip_rest(read, newline) -> int:
    skipped = 0
    while True:
        piece = read(_CHUNK)
        skipped += len(piece)
        if not piece or piece.endswith(newline):
            return skipped


def input_lines(stream: IO, *, limit: int = MAX_INPUT_LINE_BYTES) -> Iterator[InputLine]:
    """Each line of `stream` (a binary stream, or a text one such as a test's StringIO)."""
    binary = getattr(stream, "buffer", stream)
    newline = b"\n" if not hasattr(binary, "encoding") else "\n"
    while True:
        line = binary.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(newline):
            total = len(line) + _skip_rest(binary.readline, newline)
            head = line[:80].decode("utf-8", "replace") if isinstance(line, bytes) else line[:80]
            yield InputLine(head, too_long=total)
            continue
        text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
        yield InputLine(text.rstrip("\r\n"))
