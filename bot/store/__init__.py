"""The audit store: one interface (bot/audit_store.py), two backends, chosen by `STORYBOT_DB`.

    store = await open_store(settings.db)      # a path: SQLite; a postgresql:// URL: PostgreSQL
    try:
        ...
    finally:
        await store.close()
"""
from __future__ import annotations

import os

from bot.store.errors import (AuditBacklogFull, AuditError, AuditSchemaTooNew, AuditUnavailable, AuditWriteFailed,
                              BadGuildSetting, BadSpan, NeedsGuildScope, ReportLimitReached, SpanAlreadyHidden,
                              SpanNotHidden, UnknownAuditId)
from bot.store.values import (FEEDBACK_KINDS, MAX_REASON_CHARS, MODERATION_ACTIONS, REPORT_WINDOW_HOURS,
                              REPORTS_PER_MEMBER_PER_DAY, VOTE_KINDS, AuditEntry, AuditQuote, AuditStats, Feedback,
                              Forgotten, GuildHide, GuildSettings, MemberData, MemberFeedback, Moderation, QuoteCheck,
                              sha256_text, verify)

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(value: str | os.PathLike[str]) -> bool:
    return str(value).startswith(POSTGRES_SCHEMES)


async def open_store(value: str | os.PathLike[str], **options):
    """The store `STORYBOT_DB` names, opened and migrated: a `postgresql://` URL is PostgreSQL,
    anything else a SQLite file's path."""
    if is_postgres(value):
        from bot.store.postgres import PostgresStore

        return await PostgresStore.open(str(value), **options)
    from bot.store.sqlite import SQLiteStore

    return await SQLiteStore.open(value, **options)


__all__ = [
    "open_store", "is_postgres", "AuditEntry", "AuditQuote", "AuditStats", "Feedback", "GuildHide", "Moderation",
    "QuoteCheck", "verify", "sha256_text", "AuditError", "AuditUnavailable", "AuditSchemaTooNew",
    "AuditWriteFailed", "UnknownAuditId", "ReportLimitReached", "SpanAlreadyHidden", "SpanNotHidden", "BadSpan",
    "NeedsGuildScope", "AuditBacklogFull", "BadGuildSetting", "GuildSettings", "MemberData", "MemberFeedback",
    "Forgotten", "FEEDBACK_KINDS", "VOTE_KINDS", "MODERATION_ACTIONS", "MAX_REASON_CHARS",
    "REPORTS_PER_MEMBER_PER_DAY", "REPORT_WINDOW_HOURS",
]
