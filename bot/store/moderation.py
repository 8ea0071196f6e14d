"""Moderation in the audit store: a server's hides, the operator's global ones, and what moderators
did with reports in the mod-log channel. A part of bot/store/core.py's `Store`, kept in its own
file (the class takes it as a base); its SQL is the same for both backends.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.audit_store import Scope
from bot.store import rows as R
from bot.store.community import REPORT_ACTION_COLUMNS, ReportAction, UnknownQuote, report_action, report_action_of
from bot.store.errors import SpanAlreadyHidden, SpanNotHidden
from bot.store.sql import (Connection, add_hide, answer_in, marks, moderation_record, moderation_scoped, quoted)
from bot.store.values import GuildHide, Moderation, clamp, now, text_id

if TYPE_CHECKING:
    from retrieval.index import HiddenSpan


class _NothingChanged(Exception):
    """`apply` found nothing to change: roll the record back."""


class _ApplyFailed(Exception):
    """`apply` raised: roll the record back and raise its error as it was."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error


class ModerationQueries:
    """Mixed into Store: uses its `_write` and `_reading`."""

    async def hide(self, scope: Scope, span: "HiddenSpan", *, reason: str, answer_id: int | None = None,
                   user_id: int | str | None = None, user_name: str | None = None) -> int:
        """Hide a span in one server's answers, with its moderation record, in one transaction.
        The record's id; SpanAlreadyHidden when that server hides it already."""
        return await self._moderate(scope, "hide", span, reason=reason, answer_id=answer_id, user_id=user_id,
                                    user_name=user_name)

    async def unhide(self, scope: Scope, span: "HiddenSpan", *, reason: str, answer_id: int | None = None,
                     user_id: int | str | None = None, user_name: str | None = None) -> int:
        """Let a server quote a span it hid again; SpanNotHidden when it does not hide it."""
        return await self._moderate(scope, "unhide", span, reason=reason, answer_id=answer_id, user_id=user_id,
                                    user_name=user_name)

    async def _moderate(self, scope: Scope, action: str, span: "HiddenSpan", *, reason: str, answer_id: int | None,
                        user_id: int | str | None, user_name: str | None) -> int:
        verb = "hiding" if action == "hide" else "unhiding"
        guild_id = R.guild_of(scope, f"{verb} a passage for one server")
        doc_id, start, end = R.span_of(span)

        async def change(db: Connection) -> int:
            if answer_id is not None:
                await answer_in(db, scope, R.audit_key(answer_id), answer_id)
            if action == "hide":
                if not await add_hide(db, guild_id, doc_id, start, end, reason=reason, user_id=user_id,
                                      user_name=user_name):
                    raise SpanAlreadyHidden(guild_id, doc_id, start, end)
            elif not await db.execute('DELETE FROM guild_hidden WHERE guild_id = ? AND doc_id = ? AND start = ?'
                                      ' AND "end" = ?', guild_id, doc_id, start, end):
                raise SpanNotHidden(guild_id, doc_id, start, end)
            return await moderation_record(db, action, guild_id, doc_id, start, end, reason, answer_id, user_id,
                                           user_name)

        return await self._write(change)  # type: ignore[attr-defined]

    async def moderate_globally(self, action: str, span: "HiddenSpan", *, reason: str | None,
                                apply: Callable[[], bool], undo: Callable[[], None] | None = None,
                                user_id: int | str | None = None, user_name: str | None = None) -> int | None:
        """The operator's hide or unhide for every server (corpus/hidden.yaml) and its record, together
        or not at all, one at a time across processes and machines.

        Inside one write transaction, taking turns with every other global hide: the record is
        inserted, then `apply()` changes the file. `apply` returns False when there was nothing to
        change (already hidden; not hidden): the record is rolled back and None returned. If `apply`
        raises, the record is rolled back and the error raised. If the commit itself fails, `undo()`
        puts the file back and AuditWriteFailed is raised. The record's id.
        """
        action = R.moderation_action(action)
        doc_id, start, end = R.span_of(span)

        async def insert(db: Connection) -> int | None:
            await db.take_turns("global hides")
            record_id = await moderation_record(db, action, None, doc_id, start, end, reason, None, user_id,
                                                user_name)
            try:
                changed = await asyncio.to_thread(apply)
            except Exception as exc:
                raise _ApplyFailed(exc) from exc  # the caller's error, not the database's: no retry
            if not changed:
                raise _NothingChanged
            return record_id

        try:
            return await self._write(insert, undo=undo, effects_outside=True)  # type: ignore[attr-defined]
        except _NothingChanged:
            return None
        except _ApplyFailed as failed:
            raise failed.error from None

    async def hidden_spans(self, guild_id: int | str | None) -> frozenset["HiddenSpan"]:
        """The spans hidden in that server (empty for None: DMs and the CLI get the global hides only)."""
        from retrieval.index import HiddenSpan

        return frozenset(HiddenSpan(h.doc_id, h.start, h.end) for h in await self.guild_hides(guild_id))

    async def guild_hides(self, guild_id: int | str | None) -> list[GuildHide]:
        """That server's hides with who, why and when, oldest first."""
        if guild_id is None:
            return []
        async with self._reading() as db:  # type: ignore[attr-defined]
            rows = await db.fetch(f"SELECT {quoted(R.HIDE_COLUMNS)} FROM guild_hidden WHERE guild_id = ?"
                                  " ORDER BY created_at, doc_id, start", text_id(guild_id))
        return [R.guild_hide(row) for row in rows]

    async def moderation(self, scope: Scope, limit: int = 20) -> list[Moderation]:
        """Hide and unhide decisions in the scope, newest first (the operator's global ones included
        in the operator's scope only)."""
        where, params = moderation_scoped(scope)
        async with self._reading() as db:  # type: ignore[attr-defined]
            rows = await db.fetch(f"SELECT {quoted(R.MODERATION_COLUMNS)} FROM moderation WHERE {where}"
                                  " ORDER BY id DESC LIMIT ?", *params, clamp(limit))
        return [R.moderation(row) for row in rows]

    # -- reports in the mod-log channel ------------------------------------------------------

    async def resolve_report(self, scope: Scope, audit_id: int, *, action: str, report_id: int | None = None,
                             quote_rank: int | None = None, reason: str | None = None,
                             user_id: int | str | None = None, user_name: str | None = None) -> ReportAction:
        """A moderator's answer to a report: hide one quote of the answer in this server (with its
        moderation record) or dismiss it; recorded in one transaction. A quote hidden already is
        recorded with no new moderation record (`moderation_id` None)."""
        guild = R.guild_of(scope, "acting on a report")
        action = report_action(action)
        key = R.audit_key(audit_id)

        async def resolve(db: Connection) -> ReportAction:
            await answer_in(db, scope, key, audit_id)
            moderation_id = None
            if action == "hide":
                found = await db.fetchone('SELECT doc_id, start, "end" FROM quotes WHERE answer_id = ? AND rank = ?',
                                          key, quote_rank)
                if found is None:
                    raise UnknownQuote(audit_id, quote_rank)
                doc_id, start, end = found["doc_id"], found["start"], found["end"]
                if await add_hide(db, guild, doc_id, start, end, reason=reason, user_id=user_id,
                                  user_name=user_name):
                    moderation_id = await moderation_record(db, "hide", guild, doc_id, start, end, reason, key,
                                                            user_id, user_name)
            report = None
            if report_id is not None:  # the reporter may have been forgotten since
                report = await db.fetchval("SELECT id FROM feedback WHERE id = ? AND answer_id = ? AND kind = 'report'",
                                           report_id, key)
            row = await db.fetchone(
                "INSERT INTO report_actions (created_at, guild_id, answer_id, report_id, action, quote_rank,"
                f" moderation_id, user_id, user_name) VALUES ({marks(9)}) RETURNING {', '.join(REPORT_ACTION_COLUMNS)}",
                now(), guild, key, report, action, quote_rank, moderation_id, text_id(user_id), user_name)
            return report_action_of(row)

        return await self._write(resolve)  # type: ignore[attr-defined]

    async def report_actions(self, scope: Scope, audit_id: int | None = None) -> list[ReportAction]:
        where, params = moderation_scoped(scope, "report_actions")
        if audit_id is not None:
            where, params = f"{where} AND answer_id = ?", (*params, R.audit_key(audit_id))
        async with self._reading() as db:  # type: ignore[attr-defined]
            rows = await db.fetch(
                f"SELECT {', '.join(REPORT_ACTION_COLUMNS)} FROM report_actions WHERE {where} ORDER BY id", *params)
        return [report_action_of(row) for row in rows]
