"""Per-server settings, members' data and what moderators did with reports: the values every
backend returns for them, and the checks every backend applies.

A server's settings are one row per guild; a guild with no row has the defaults. A member's
data is what the store holds under their user id in one scope: the questions they asked, the
questions made of their messages ("Find sources"), their votes and reports. Forgetting a member
removes the questions' words and the votes and reports; the answers' quotes and the
moderators' actions stay, under a pseudonym, so the audit trail of what the bot said holds.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bot.store.errors import AuditError

# The words that replace a forgotten question: the answer and its quotes stay in the log.
FORGOTTEN_QUESTION = "(removed at the member's request)"
EXPIRED_QUESTION = "(removed after the retention period)"
REPORT_ACTIONS = ("hide", "dismiss")
# Discord's own slowmode ceiling is 6 hours; a member cooldown longer than that reads as a ban.
MAX_COOLDOWN_SECONDS = 6 * 3600
# A server lists where answers are public; Discord allows 500 channels a guild, 25 is plenty to
# name and keeps /settings show inside one embed.
MAX_PUBLIC_CHANNELS = 25


class BadGuildSetting(AuditError, ValueError):
    """A setting a server asked for that the store refuses; the message names the value."""


class UnknownQuote(AuditError, LookupError):
    """An answer has no quote of that number."""

    def __init__(self, audit_id: object, rank: object) -> None:
        super().__init__(f"answer #{audit_id} has no quote {rank}")


@dataclass(frozen=True)
class GuildSettings:
    """One server's choices. Defaults: answers public everywhere, the operator's cooldown, no mod
    log, "Find sources" answers private."""

    guild_id: str
    public_channels: tuple[str, ...] = ()  # empty: answers are public in every channel
    cooldown_seconds: float | None = None  # None: the operator's STORYBOT_COOLDOWN
    modlog_channel_id: str | None = None
    find_sources_public: bool = False
    updated_at: str | None = None
    updated_by: str | None = None

    def answers_public_in(self, channel_id: int | str | None) -> bool:
        return not self.public_channels or (channel_id is not None and str(channel_id) in self.public_channels)

    def checked(self) -> "GuildSettings":
        if len(self.public_channels) > MAX_PUBLIC_CHANNELS:
            raise BadGuildSetting(f"at most {MAX_PUBLIC_CHANNELS} public channels, not {len(self.public_channels)}")
        if self.cooldown_seconds is not None and not 0 <= self.cooldown_seconds <= MAX_COOLDOWN_SECONDS:
            raise BadGuildSetting(f"a cooldown of {self.cooldown_seconds:g} s is outside 0 to {MAX_COOLDOWN_SECONDS} s")
        for channel in (*self.public_channels, *((self.modlog_channel_id,) if self.modlog_channel_id else ())):
            if not str(channel).isdigit():
                raise BadGuildSetting(f"{channel!r} is not a channel id")
        return self


@dataclass(frozen=True)
class MemberQuestion:
    audit_id: int
    created_at: str
    question: str
    why: str  # "asked" or "your message" (a "Find sources" on a message they wrote)


@dataclass(frozen=True)
class MemberFeedback:
    answer_id: int
    created_at: str
    kind: str
    reason: str | None


@dataclass(frozen=True)
class MemberData:
    """What the store holds about one member in one scope."""

    user_id: str
    questions: tuple[MemberQuestion, ...] = ()
    feedback: tuple[MemberFeedback, ...] = ()
    moderation_actions: int = 0


@dataclass(frozen=True)
class Forgotten:
    """What a forget or an expiry removed; `pseudonym` now stands for the member where records stay."""

    questions: int
    feedback: int
    pseudonymised: int
    pseudonym: str | None = None


@dataclass(frozen=True)
class ReportAction:
    id: int
    created_at: str
    guild_id: str
    answer_id: int
    report_id: int | None  # None once the reporter asked to be forgotten
    action: str
    quote_rank: int | None
    moderation_id: int | None
    user_id: str | None
    user_name: str | None


def pseudonym() -> str:
    # Random, not a hash of the id: a hash of a Discord id is found again by hashing ids.
    return f"forgotten-{secrets.token_hex(6)}"


def report_action(action: str) -> str:
    if action not in REPORT_ACTIONS:
        raise ValueError(f"unknown report action {action!r}; expected one of: {', '.join(REPORT_ACTIONS)}")
    return action


def cutoff(days: float) -> str:
    if days <= 0:
        raise ValueError(f"a retention of {days:g} days would remove everything at once; use audit forget")
    return (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="milliseconds")


def settings_row(settings: GuildSettings) -> dict:
    return {
        "guild_id": settings.guild_id,
        "public_channels": ",".join(settings.public_channels),
        "cooldown_seconds": settings.cooldown_seconds,
        "modlog_channel_id": settings.modlog_channel_id,
        "find_sources_public": int(settings.find_sources_public),
    }


def settings_of(guild_id: str, row) -> GuildSettings:
    if row is None:
        return GuildSettings(guild_id)
    channels = tuple(c for c in (row["public_channels"] or "").split(",") if c)
    return GuildSettings(guild_id, channels, row["cooldown_seconds"], row["modlog_channel_id"],
                         bool(row["find_sources_public"]), row["updated_at"], row["updated_by"])


REPORT_ACTION_COLUMNS = ("id", "created_at", "guild_id", "answer_id", "report_id", "action", "quote_rank",
                         "moderation_id", "user_id", "user_name")


def report_action_of(row) -> ReportAction:
    return ReportAction(*(row[name] for name in REPORT_ACTION_COLUMNS))


__all__ = ["FORGOTTEN_QUESTION", "EXPIRED_QUESTION", "GuildSettings", "MemberData", "MemberQuestion",
           "MemberFeedback", "Forgotten", "ReportAction", "BadGuildSetting", "UnknownQuote"]
