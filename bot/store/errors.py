"""The audit store's errors: each names the bad value; the edges turn them into messages."""
from __future__ import annotations

from retrieval.errors import StorybotError


class AuditError(StorybotError):
    """Base of the audit store's errors."""


class AuditUnavailable(AuditError, RuntimeError):
    """The store cannot be opened or read. `path` is the file, or the URL without its password."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"cannot use the audit log {path}: {reason}")
        self.path = path
        self.reason = reason


class AuditSchemaTooNew(AuditUnavailable):
    """Written by a newer storybot; opening it with this code could damage it."""

    def __init__(self, path: object, found: int, known: int) -> None:
        super().__init__(path, f"its schema is version {found} but this code knows versions up to {known}; "
                               "upgrade storybot to use it")
        self.found = found
        self.known = known


class AuditWriteFailed(AuditError, RuntimeError):
    """A write did not reach the store (still locked after the retries, or the disk refused it)."""

    def __init__(self, path: object, error: BaseException, attempts: int) -> None:
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        super().__init__(f"could not write to the audit log {path} after {tries}: {error}")
        self.path = path
        self.error = error
        self.attempts = attempts


class AuditBacklogFull(AuditWriteFailed):
    """The store has been refusing writes for so long that the answers waiting for it fill the backlog."""

    def __init__(self, path: object, error: BaseException, capacity: int) -> None:
        super().__init__(path, error, 1)
        self.args = (f"could not write to the audit log {path}, and {capacity} answers already wait for it: "
                     f"{error}",)
        self.capacity = capacity


class UnknownAuditId(AuditError, LookupError):
    """No answer with that audit id, or none the caller's scope may see (the same to the caller)."""

    def __init__(self, audit_id: object) -> None:
        super().__init__(f"there is no audit entry with id {audit_id!r}")
        self.audit_id = audit_id


class ReportLimitReached(AuditError):
    """A member filed as many reports as one day allows in that server."""

    def __init__(self, user_id: object, limit: int, hours: int) -> None:
        super().__init__(f"member {user_id} has already filed {limit} reports in the last {hours} hours")
        self.user_id = user_id
        self.limit = limit
        self.hours = hours


def _span(doc_id: str, start: int, end: int) -> str:
    return f"{doc_id}[{start}:{end}]"


class SpanAlreadyHidden(AuditError):
    def __init__(self, guild_id: object, doc_id: str, start: int, end: int) -> None:
        super().__init__(f"{_span(doc_id, start, end)} is already hidden in server {guild_id}")
        self.guild_id, self.doc_id, self.start, self.end = guild_id, doc_id, start, end


class SpanNotHidden(AuditError):
    def __init__(self, guild_id: object, doc_id: str, start: int, end: int) -> None:
        super().__init__(f"{_span(doc_id, start, end)} is not hidden in server {guild_id}")
        self.guild_id, self.doc_id, self.start, self.end = guild_id, doc_id, start, end


class BadSpan(AuditError, ValueError):
    def __init__(self, doc_id: str, start: int, end: int) -> None:
        super().__init__(f"{_span(doc_id, start, end)} is not a span (0 <= start < end)")
        self.doc_id, self.start, self.end = doc_id, start, end


class NeedsGuildScope(AuditError, ValueError):
    """A per-server action (hide, unhide) was asked of the operator's or the DMs' scope."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} needs one server's scope: the operator hides for every server with "
                         "`storybot corpus hide`")


class BadGuildSetting(AuditError, ValueError):
    """A per-server setting with a value it cannot take."""

    def __init__(self, name: str, value: object, expected: str) -> None:
        super().__init__(f"{name}: {value!r} is not allowed; expected {expected}")
        self.name, self.value, self.expected = name, value, expected
