"""The audit store's contract: what every backend (SQLite, PostgreSQL) offers the bot and the CLI.

Every read and every change names a `Scope`. A server's moderators work in `Scope.guild(id)`
and see only that server's records: a record of another server (or a DM) is "not found",
never shown. The operator's command line works in `Scope.operator()`, which also sees DM
questions. Feedback on an answer given in a DM is recorded in `Scope.direct_messages()`.
Backends enforce the scope in their queries, not the callers.

This file is the contract only; `bot.store.open_store(url_or_path)` picks a backend by the
`STORYBOT_DB` value (a path: SQLite; a `postgresql://` URL: PostgreSQL). The values
(AuditEntry, AuditStats, Moderation, GuildHide) are in bot/store/values.py, the errors in
bot/store/errors.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol

if TYPE_CHECKING:
    from retrieval.answer import Answer
    from retrieval.index import HiddenSpan

    from bot.store.community import ReportAction
    from bot.store.posts import Post
    from bot.store.values import AuditEntry, AuditStats, Forgotten, GuildHide, GuildSettings, MemberData, Moderation


@dataclass(frozen=True)
class Scope:
    """Whose records a call may read or change."""

    guild_id: str | None  # None with `everything`: every guild and the DMs; None alone: the DMs
    everything: bool = False

    @classmethod
    def guild(cls, guild_id: int | str) -> "Scope":
        if guild_id is None or str(guild_id).strip() == "":
            raise ValueError("a guild scope needs a guild id")
        return cls(str(guild_id))

    @classmethod
    def operator(cls) -> "Scope":
        return cls(None, everything=True)

    @classmethod
    def direct_messages(cls) -> "Scope":
        """Answers given in DMs (not the command line's): where a DM answer's buttons record feedback."""
        return cls(None)

    @classmethod
    def of_place(cls, guild_id: int | str | None) -> "Scope":
        """Where something was pressed or asked: its server's answers, or with no server the DMs'."""
        return cls.guild(guild_id) if guild_id else cls.direct_messages()

    def sees(self, guild_id: str | None) -> bool:
        return self.everything or guild_id == self.guild_id


@dataclass(frozen=True)
class Asker:
    """Who asked, where: a Discord member in a channel, or the command line."""

    guild_id: str | None = None  # None: a DM, or the command line
    channel_id: str | None = "cli"
    user_id: str | None = None
    user_name: str | None = None
    # "slash", "message" (the "Find sources" message command), "cli"
    source: str = "cli"
    message_id: str | None = None  # the message a "Find sources" answer was about
    message_author_id: str | None = None


class AuditStore(Protocol):
    """One interface, two backends. Every method is a coroutine; errors are AuditError subclasses."""

    async def close(self) -> None:
        """Flush the backlog (values.BACKLOG_FLUSH_SECONDS at most; what is left is logged at ERROR), close."""

    async def check_writable(self) -> None:
        """AuditUnavailable (naming the store) when a write cannot be committed: the bot checks at start."""

    # -- answers ---------------------------------------------------------------------------
    async def record_answer(self, answer: "Answer", asker: Asker) -> int | None:
        """Store the answer (status, reason, quotes) in one transaction; return its audit id. None when
        the store refuses writes for now (locked, restarting): the answer waits, in order, in a bounded
        in-process backlog, retried while the process lives and flushed by close(); AuditBacklogFull
        when that backlog is full. Nothing is dropped without an ERROR naming the question."""

    async def get(self, scope: Scope, audit_id: int) -> "AuditEntry":
        """The entry; UnknownAuditId when it does not exist *or is outside the scope*."""

    async def recent(self, scope: Scope, limit: int = 10, *, status: str | None = None) -> list["AuditEntry"]: ...

    async def reported(self, scope: Scope, limit: int = 20) -> list["AuditEntry"]: ...

    async def stats(self, scope: Scope) -> "AuditStats": ...

    async def export(self, scope: Scope) -> list[dict]: ...

    # -- feedback --------------------------------------------------------------------------
    async def record_vote(self, scope: Scope, audit_id: int, *, kind: str, user_id: str, user_name: str | None) -> int:
        """Helpful / not helpful: one vote per member per answer, the last press stands. The vote's id
        (the same id when a member changes their vote)."""

    async def record_report(self, scope: Scope, audit_id: int, *, user_id: str, user_name: str | None,
                            reason: str | None) -> int:
        """Store a report; ReportLimitReached past the per-member limit (values.REPORTS_PER_MEMBER_PER_DAY
        in one server, or in the DMs, per REPORT_WINDOW_HOURS). Returns the report's id."""

    # -- moderation ------------------------------------------------------------------------
    async def hide(self, scope: Scope, span: "HiddenSpan", *, reason: str, answer_id: int | None,
                   user_id: str | None, user_name: str | None) -> int:
        """Hide a span in one guild's answers, with its moderation record, in one transaction; the record's
        id. SpanAlreadyHidden if that guild hides it already; NeedsGuildScope outside a guild scope;
        UnknownAuditId if `answer_id` is not an answer of that guild."""

    async def unhide(self, scope: Scope, span: "HiddenSpan", *, reason: str, answer_id: int | None,
                     user_id: str | None, user_name: str | None) -> int:
        """The reverse of `hide`; SpanNotHidden if that guild does not hide it."""

    async def hidden_spans(self, guild_id: str | None) -> frozenset["HiddenSpan"]:
        """The spans hidden in that guild (empty for None: DMs and the CLI get the global hides only)."""

    async def guild_hides(self, guild_id: str | None) -> list["GuildHide"]:
        """That guild's hides with who, why and when, oldest first."""

    async def moderation(self, scope: Scope, limit: int = 20) -> list["Moderation"]:
        """Hide and unhide records in the scope, newest first; the operator's global ones only in
        `Scope.operator()`."""

    async def moderate_globally(self, action: str, span: "HiddenSpan", *, reason: str | None,
                                apply: Callable[[], bool], undo: Callable[[], None] | None = None,
                                user_id: str | None = None, user_name: str | None = None) -> int | None:
        """The operator's hide/unhide for every server: the record is inserted, `apply()` (the
        hidden.yaml change, run in a thread) runs, and the record commits only if it returned True;
        False (nothing to change) rolls back and returns None; an error rolls back and is raised; a
        failed commit calls `undo()`. One call at a time across processes (and machines)."""

    # -- per-server settings ---------------------------------------------------------------
    async def guild_settings(self, guild_id: str) -> "GuildSettings":
        """That guild's settings, the defaults until it saves some."""

    async def save_guild_settings(self, scope: Scope, settings: "GuildSettings", *, user_id: str | None = None,
                                  user_name: str | None = None) -> "GuildSettings":
        """Validate (BadGuildSetting naming the value) and store, all at once; NeedsGuildScope outside one."""

    # -- members' data ---------------------------------------------------------------------
    async def mydata(self, scope: Scope, user_id: str) -> "MemberData":
        """What the store holds about a member in the scope: questions, answers to their messages,
        votes and reports, moderation actions."""

    async def forget(self, scope: Scope, user_id: str) -> "Forgotten":
        """Remove their questions (and messages used as questions, with those messages' ids), votes and
        reports in the scope; quotes, moderation and the settings they saved stay, under a pseudonym.
        Erasure, not only deletion: the old rows' bytes are made unreadable in the store's files too.
        `Forgotten.posts`: the bot's posts showing what was removed, for the bot to edit."""

    async def record_post(self, post: "Post") -> None:
        """Remember a public answer or a mod-log report the bot posted (bot/store/posts.py)."""

    async def delete_older_than(self, days: float) -> "Forgotten":
        """Retention: every member's questions and feedback older than `days`, in every guild."""


    # -- reports in the mod-log channel (bot/store/community.py) ---------------------------
    async def resolve_report(self, scope: Scope, audit_id: int, *, action: str, report_id: int | None = None,
                             quote_rank: int | None = None, reason: str | None = None, user_id: str | None = None,
                             user_name: str | None = None) -> "ReportAction":
        """A moderator's decision on a report: "hide" one quote in that server (with its moderation
        record) or "dismiss"; recorded in one transaction. UnknownQuote for a quote the answer lacks."""

    async def report_actions(self, scope: Scope, audit_id: int | None = None) -> list["ReportAction"]:
        """The decisions in the scope (one answer's, given its id), oldest first."""
