"""What moderators did with reports in the mod-log channel, in SQLite: a part of SQLiteStore kept
in its own file (the class takes it as a base). Same transactions and scoping as the rest of
bot/store/sqlite.py; PostgreSQL has the same in bot/store/postgres_community.py.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from bot.audit_store import Scope
from bot.store import rows as R
from bot.store.community import (REPORT_ACTION_COLUMNS, ReportAction, UnknownQuote, report_action,
                                 report_action_of)
from bot.store.values import now, text_id, trimmed

if TYPE_CHECKING:
    import aiosqlite

# Appended to bot/store/sqlite.py's MIGRATIONS (schema version 5).
MIGRATION = """
    -- What a moderator did with a report from the mod-log channel.
    CREATE TABLE report_actions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,
        guild_id TEXT NOT NULL,
        answer_id INTEGER NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
        report_id INTEGER REFERENCES feedback(id) ON DELETE SET NULL,
        action TEXT NOT NULL CHECK (action IN ('hide', 'dismiss')),
        quote_rank INTEGER,
        moderation_id INTEGER REFERENCES moderation(id),
        user_id TEXT,
        user_name TEXT
    );
    CREATE INDEX report_actions_by_answer ON report_actions(answer_id);
    CREATE INDEX report_actions_by_guild ON report_actions(guild_id, id);
"""


def _moderation_scope(scope: Scope, table: str) -> tuple[str, tuple]:
    if scope.everything:
        return "1 = 1", ()
    if scope.guild_id is None:
        return "0 = 1", ()  # DMs have no moderators
    return f"{table}.guild_id = ?", (scope.guild_id,)


class SQLiteCommunity:
    """Mixed into SQLiteStore: uses its `_write`, `_reading` and scoping."""

    # -- reports in the mod-log channel ----------------------------------------------------

    async def resolve_report(self, scope: Scope, audit_id: int, *, action: str, report_id: int | None = None,
                             quote_rank: int | None = None, reason: str | None = None,
                             user_id: int | str | None = None, user_name: str | None = None) -> ReportAction:
        """A moderator's answer to a report: hide one quote of the answer in this server (with its
        moderation record) or dismiss it; recorded in one transaction. A quote hidden already is
        recorded with no new moderation record (`moderation_id` None)."""
        from bot.store.sqlite import _answer_in, _moderation_record

        guild = R.guild_of(scope, "acting on a report")
        action = report_action(action)
        key = R.audit_key(audit_id)

        async def resolve(db: "aiosqlite.Connection") -> int:
            await _answer_in(db, scope, key, audit_id)
            moderation_id = None
            if action == "hide":
                found = await db.execute_fetchall(
                    'SELECT doc_id, start, "end" FROM quotes WHERE answer_id = ? AND rank = ?', (key, quote_rank))
                if not found:
                    raise UnknownQuote(audit_id, quote_rank)
                doc_id, start, end = found[0]
                cursor = await db.execute(
                    'INSERT INTO guild_hidden (guild_id, doc_id, start, "end", user_id, user_name, reason, created_at)'
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (guild, doc_id, start, end, text_id(user_id), user_name, trimmed(reason), now()))
                if cursor.rowcount:
                    moderation_id = await _moderation_record(db, "hide", guild, doc_id, start, end, reason, key,
                                                             user_id, user_name)
            report = None
            if report_id is not None:
                found = await db.execute_fetchall(
                    "SELECT id FROM feedback WHERE id = ? AND answer_id = ? AND kind = 'report'", (report_id, key))
                report = found[0][0] if found else None  # the reporter may have been forgotten since
            (action_id,) = await db.execute_insert(
                "INSERT INTO report_actions (created_at, guild_id, answer_id, report_id, action, quote_rank,"
                " moderation_id, user_id, user_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (now(), guild, key, report, action, quote_rank, moderation_id, text_id(user_id), user_name))
            return action_id

        action_id = await self._write(resolve)  # type: ignore[attr-defined]
        async with self._reading() as db:  # type: ignore[attr-defined]
            rows = await db.execute_fetchall(
                f"SELECT {', '.join(REPORT_ACTION_COLUMNS)} FROM report_actions WHERE id = ?", (action_id,))
        return report_action_of(rows[0])

    async def report_actions(self, scope: Scope, audit_id: int | None = None) -> list[ReportAction]:
        where, params = _moderation_scope(scope, "report_actions")
        if audit_id is not None:
            where, params = f"{where} AND answer_id = ?", (*params, R.audit_key(audit_id))
        async with self._reading() as db:  # type: ignore[attr-defined]
            rows = await db.execute_fetchall(
                f"SELECT {', '.join(REPORT_ACTION_COLUMNS)} FROM report_actions WHERE {where} ORDER BY id", params)
        return [report_action_of(row) for row in rows]
