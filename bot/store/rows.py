"""Rows to values, the same for every backend (sqlite3.Row and asyncpg.Record both read by name)."""
from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.store.errors import BadGuildSetting, BadSpan, NeedsGuildScope, UnknownAuditId
from bot.store.values import (MAX_ID, MODERATION_ACTIONS, SOURCES, VOTE_KINDS, AuditEntry, AuditQuote, Feedback,
                              GuildHide, GuildSettings, MemberData, MemberFeedback, Moderation, fold, now,
                              sha256_text, storable, text_id)

Row = Mapping[str, Any]

log = logging.getLogger(__name__)

ANSWER_COLUMNS = ("id", "created_at", "guild_id", "channel_id", "user_id", "user_name", "question", "mode",
                  "abstained", "corpus_version", "model", "latency_ms", "status", "reason", "source", "message_id",
                  "message_author_id")
MODERATION_COLUMNS = ("id", "created_at", "action", "doc_id", "start", "end", "reason", "answer_id", "user_id",
                      "user_name", "guild_id")
HIDE_COLUMNS = ("guild_id", "doc_id", "start", "end", "user_id", "user_name", "reason", "created_at")


def audit_key(audit_id: object) -> int:
    """The id as the database holds it; anything that cannot be one is a missing entry, not a crash."""
    try:
        key = int(audit_id)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        raise UnknownAuditId(audit_id) from None
    if isinstance(audit_id, bool) or not 1 <= key <= MAX_ID or (isinstance(audit_id, float) and key != audit_id):
        raise UnknownAuditId(audit_id)
    return key


def entries(rows: Sequence[Row], quote_rows: Iterable[Row], feedback_rows: Iterable[Row]) -> list[AuditEntry]:
    quotes: dict[int, list[AuditQuote]] = {}
    for q in quote_rows:
        quotes.setdefault(q["answer_id"], []).append(
            AuditQuote(q["rank"], q["doc_id"], q["start"], q["end"], q["text_sha256"], q["text"], q["score"]))
    feedback: dict[int, list[Feedback]] = {}
    for f in feedback_rows:
        feedback.setdefault(f["answer_id"], []).append(
            Feedback(f["id"], f["created_at"], f["kind"], f["user_id"], f["user_name"], f["reason"]))
    return [
        AuditEntry(**{name: bool(row[name]) if name == "abstained" else row[name] for name in ANSWER_COLUMNS},
                   quotes=tuple(quotes.get(row["id"], ())), feedback=tuple(feedback.get(row["id"], ())))
        for row in rows
    ]


def moderation(row: Row) -> Moderation:
    return Moderation(*(row[name] for name in MODERATION_COLUMNS))


def guild_hide(row: Row) -> GuildHide:
    return GuildHide(*(row[name] for name in HIDE_COLUMNS))


def answer_values(answer: Any, asker: Any) -> dict[str, Any]:
    """The answers row of one answer, checked; the same for every backend."""
    if asker.source not in SOURCES:
        raise ValueError(f"unknown source {asker.source!r}; expected one of: {', '.join(SOURCES)}")
    status = getattr(answer.status, "value", answer.status)
    return {
        "created_at": now(), "guild_id": text_id(asker.guild_id), "channel_id": text_id(asker.channel_id),
        "user_id": text_id(asker.user_id), "user_name": storable(asker.user_name), "question": storable(answer.question),
        "mode": answer.mode, "abstained": bool(answer.abstained), "corpus_version": answer.corpus_version,
        "model": answer.model, "latency_ms": float(answer.latency_ms), "status": status,
        "reason": storable(answer.reason),
        "source": asker.source, "message_id": text_id(asker.message_id),
        "message_author_id": text_id(asker.message_author_id), "question_key": fold(storable(answer.question)),
    }


def quote_values(answer: Any) -> list[tuple[int, str, int, int, str, str, float]]:
    return [(rank, q.doc_id, q.start, q.end, sha256_text(q.quote), q.quote, float(q.score))
            for rank, q in enumerate(answer.passages, start=1)]


def vote_kind(kind: str) -> str:
    if kind not in VOTE_KINDS:
        raise ValueError(f"unknown vote {kind!r}; expected one of: {', '.join(VOTE_KINDS)}")
    return kind


def guild_of(scope: Any, what: str) -> str:
    """The one server a per-server action is for."""
    if scope.everything or scope.guild_id is None:
        raise NeedsGuildScope(what)
    return scope.guild_id


def span_of(span: Any) -> tuple[str, int, int]:
    doc_id, start, end = span.doc_id, span.start, span.end
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= MAX_ID) or not doc_id:
        raise BadSpan(doc_id, start, end)
    return doc_id, start, end


def moderation_action(action: str) -> str:
    if action not in MODERATION_ACTIONS:
        raise ValueError(f"unknown moderation action {action!r}; expected one of: {', '.join(MODERATION_ACTIONS)}")
    return action


def status_filter(status: str | None) -> str | None:
    if status is None:
        return None
    from retrieval.answer import Status

    return Status.from_str(status).value


def guild_settings(row: Row, guild_id: str) -> GuildSettings:
    """The row's settings, checked as a save checks them; a row no save could have written (edited
    by hand, a broken script) is the defaults, logged once, until a manager saves new ones."""
    try:
        try:
            channels = json.loads(row["public_channels"])
        except (ValueError, TypeError, RecursionError):  # RecursionError: a list nested thousands deep
            channels = None
        if not isinstance(channels, list):
            raise BadGuildSetting("public_channels", row["public_channels"], "a JSON list of channel ids")
        return GuildSettings(
            public_channels=frozenset(channels),
            cooldown_seconds=row["cooldown_seconds"],
            mod_log_channel=row["mod_log_channel"],
            find_sources_public=bool(row["find_sources_public"]),
        ).checked()
    except (ValueError, TypeError) as exc:  # BadGuildSetting and json's JSONDecodeError are ValueErrors
        _bad_row_once(guild_id, tuple(row), exc)
        return GuildSettings()


_logged_bad_rows: set[tuple] = set()


def _bad_row_once(guild_id: str, row: tuple, error: Exception) -> None:
    if (guild_id, row) in _logged_bad_rows:
        return
    _logged_bad_rows.add((guild_id, row))
    log.error("the settings stored for guild %s are not valid (%s); it gets the defaults until a member with "
              "Manage Server saves new ones with /settings", guild_id, error)


def settings_values(settings: GuildSettings) -> dict[str, Any]:
    return {
        "public_channels": json.dumps(sorted(settings.public_channels, key=int)),
        "cooldown_seconds": settings.cooldown_seconds,
        "mod_log_channel": settings.mod_log_channel,
        "find_sources_public": settings.find_sources_public,
    }


def member_data(user_id: str, asked: list[AuditEntry], theirs: list[AuditEntry], feedback: Iterable[Row],
                moderation: list[Moderation], labels: int = 0) -> MemberData:
    return MemberData(
        user_id=user_id,
        questions=tuple(asked),
        from_their_messages=tuple(theirs),
        feedback=tuple(MemberFeedback(f["answer_id"], f["id"], f["created_at"], f["kind"], f["reason"])
                       for f in feedback),
        moderation=tuple(moderation),
        labels=labels,
    )


def pseudonym() -> str:
    """Stands for a forgotten member: the same in all their records of one forget, and no hash of
    their id (Discord ids are few enough to hash them all and find it again)."""
    return f"forgotten-{secrets.token_hex(6)}"


def retention_hours(days: float) -> float:
    if isinstance(days, bool) or not isinstance(days, (int, float)) or not days > 0:
        raise ValueError(f"a retention of {days!r} days: it must be a number of days above 0")
    return float(days) * 24
