"""What moderators did with reports posted in a server's mod-log channel: the values every
backend returns, and the checks every backend applies. (Per-server settings and members' data
are in bot/store/values.py.)"""
from __future__ import annotations

from dataclasses import dataclass

from bot.store.errors import AuditError

REPORT_ACTIONS = ("hide", "dismiss")
REPORT_ACTION_COLUMNS = ("id", "created_at", "guild_id", "answer_id", "report_id", "action", "quote_rank",
                         "moderation_id", "user_id", "user_name")


class UnknownQuote(AuditError, LookupError):
    """An answer has no quote of that number."""

    def __init__(self, audit_id: object, rank: object) -> None:
        super().__init__(f"answer #{audit_id} has no quote {rank}")


@dataclass(frozen=True)
class ReportAction:
    id: int
    created_at: str
    guild_id: str
    answer_id: int
    report_id: int | None  # None once the reporter asked to be forgotten
    action: str  # "hide" (one quote, in that server) or "dismiss"
    quote_rank: int | None
    moderation_id: int | None  # the hide's moderation record; None when it was hidden already
    user_id: str | None
    user_name: str | None


def report_action(action: str) -> str:
    if action not in REPORT_ACTIONS:
        raise ValueError(f"unknown report action {action!r}; expected one of: {', '.join(REPORT_ACTIONS)}")
    return action


def report_action_of(row) -> ReportAction:
    return ReportAction(*(row[name] for name in REPORT_ACTION_COLUMNS))
