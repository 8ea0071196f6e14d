"""Recording CLI and REPL answers to the audit log (channel "cli"), or not."""
from __future__ import annotations

import contextlib
from typing import Callable, Iterator

from retrieval.answer import Answer

from bot.settings import Settings


@contextlib.contextmanager
def open_recorder(settings: Settings, *, enabled: bool) -> Iterator[Callable[[Answer], None]]:
    yield lambda answer: None  # replaced when the audit log lands
