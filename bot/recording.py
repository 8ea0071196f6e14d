"""Recording CLI and REPL answers to the audit log (channel "cli"), or not."""
from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
from typing import Callable, Iterator

from retrieval.answer import Answer

from bot.audit_store import Asker
from bot.settings import Settings
from bot.store import AuditError, open_store

log = logging.getLogger(__name__)


def current_user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


@contextlib.contextmanager
def open_recorder(settings: Settings, *, enabled: bool) -> Iterator[Callable[[Answer], None]]:
    """A function that records one answer. An unusable log is said once and never costs an answer."""
    if not enabled:
        yield lambda answer: None
        return
    loop = asyncio.new_event_loop()
    try:
        audit = loop.run_until_complete(open_store(settings.db))
    except AuditError as exc:
        log.warning("answers will not be recorded: %s (set STORYBOT_DB, or use --no-audit)", exc)
        loop.close()
        yield lambda answer: None
        return
    asker = Asker(channel_id="cli", user_name=current_user(), source="cli")

    def record(answer: Answer) -> None:
        try:
            loop.run_until_complete(audit.record_answer(answer, asker))
        except AuditError as exc:
            log.error("AUDIT RECORD LOST for %r: %s", answer.question, exc)

    try:
        yield record
    finally:
        loop.run_until_complete(audit.close())
        loop.close()
