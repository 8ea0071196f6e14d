"""Per-server settings, members' data and report outcomes in SQLite: a part of SQLiteStore kept
in its own file (the class takes it as a base). Same transactions and scoping as the rest of
bot/store/sqlite.py; PostgreSQL has the same in its dialect.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from bot.audit_store import Scope
from bot.store import rows as R
from bot.store.community import (EXPIRED_QUESTION, FORGOTTEN_QUESTION, REPORT_ACTION_COLUMNS, Forgotten,
                                 GuildSettings, MemberData, MemberFeedback, MemberQuestion, ReportAction,
                                 UnknownQuote, cutoff, pseudonym, report_action, report_action_of, settings_of,
                                 settings_row)
from bot.store.values import now, text_id, trimmed

if TYPE_CHECKING:
    import aiosqlite

# Appended to bot/store/sqlite.py's MIGRATIONS (schema version 4).
MIGRATION = """
    -- One row per server that changed a setting; a server without one has the defaults.
    CREATE TABLE guild_settings (
        guild_id TEXT PRIMARY KEY,
        public_channels TEXT NOT NULL DEFAULT '',
        cooldown_seconds REAL,
        modlog_channel_id TEXT,
        find_sources_public INTEGER NOT NULL DEFAULT 0 CHECK (find_sources_public IN (0, 1)),
        updated_at TEXT NOT NULL,
        updated_by TEXT
    );
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
    -- /mydata, /forget-me and the retention sweep find a member's rows, and old rows.
    CREATE INDEX answers_by_user ON answers(user_id);
    CREATE INDEX answers_by_message_author ON answers(message_author_id);
    CREATE INDEX answers_by_time ON answers(created_at);
    CREATE INDEX feedback_by_user ON feedback(user_id);
    CREATE INDEX feedback_by_time ON feedback(created_at);
"""


def _moderation_scope(scope: Scope, table: str) -> tuple[str, tuple]:
    if scope.everything:
        return "1 = 1", ()
    if scope.guild_id is None:
        return "0 = 1", ()  # DMs have no moderators
    return f"{table}.guild_id = ?", (scope.guild_id,)


class SQLiteCommunity:
    """Mixed into SQLiteStore: uses its `_write`, `_reading` and scoping."""

    # -- settings --------------------------------------------------------------------------

    async def guild_settings(self, guild_id: int | str) -> GuildSettings:
        guild = text_id(guild_id)
        async with self._reading() as db:  # type: ignore[attr-defined]
            rows = await db.execute_fetchall("SELECT * FROM guild_settings WHERE guild_id = ?", (guild,))
        return settings_of(guild, rows[0] if rows else None)

    async def save_guild_settings(self, scope: Scope, settings: GuildSettings, *, user_id: int | str | None = None
                                  ) -> GuildSettings:
        """Store one server's settings (checked) as a whole; the stored value."""
        guild = R.guild_of(scope, "changing a server's settings")
        if settings.guild_id != guild:
            raise ValueError(f"settings of guild {settings.guild_id} saved in the scope of guild {guild}")
        row = {**settings_row(settings.checked()), "updated_at": now(), "updated_by": text_id(user_id)}

        async def upsert(db: "aiosqlite.Connection") -> None:
            names = ", ".join(row)
            updates = ", ".join(f"{name} = excluded.{name}" for name in row if name != "guild_id")
            await db.execute(f"INSERT INTO guild_settings ({names}) VALUES ({', '.join('?' * len(row))})"
                             f" ON CONFLICT (guild_id) DO UPDATE SET {updates}", tuple(row.values()))

        await self._write(upsert)  # type: ignore[attr-defined]
        return await self.guild_settings(guild)

    # -- members' data ---------------------------------------------------------------------

    async def member_data(self, scope: Scope, user_id: int | str) -> MemberData:
        from bot.store.sqlite import _scoped

        member = text_id(user_id)
        where, params = _scoped(scope)
        mod_where, mod_params = _moderation_scope(scope, "moderation")
        async with self._reading() as db:  # type: ignore[attr-defined]
            asked = await db.execute_fetchall(
                "SELECT id, created_at, question, user_id FROM answers"
                f" WHERE (user_id = ? OR message_author_id = ?) AND {where} ORDER BY id", (member, member, *params))
            feedback = await db.execute_fetchall(
                "SELECT feedback.answer_id, feedback.created_at, feedback.kind, feedback.reason FROM feedback"
                f" JOIN answers ON answers.id = feedback.answer_id WHERE feedback.user_id = ? AND {where}"
                " ORDER BY feedback.id", (member, *params))
            ((actions,),) = await db.execute_fetchall(
                f"SELECT count(*) FROM moderation WHERE user_id = ? AND {mod_where}", (member, *mod_params))
        return MemberData(
            member,
            tuple(MemberQuestion(r["id"], r["created_at"], r["question"], "asked" if r["user_id"] == member
                                 else "your message") for r in asked),
            tuple(MemberFeedback(r["answer_id"], r["created_at"], r["kind"], r["reason"]) for r in feedback),
            actions,
        )

    async def forget_member(self, scope: Scope, user_id: int | str) -> Forgotten:
        """Remove the member's questions (and the questions made of their messages), votes and reports
        in the scope; their moderation actions and the answers' quotes stay under a fresh pseudonym."""
        from bot.store.sqlite import _scoped

        member, alias = text_id(user_id), pseudonym()
        where, params = _scoped(scope)

        async def forget(db: "aiosqlite.Connection") -> Forgotten:
            cursor = await db.execute(
                f"DELETE FROM feedback WHERE user_id = ? AND answer_id IN (SELECT id FROM answers WHERE {where})",
                (member, *params))
            feedback = cursor.rowcount
            cursor = await db.execute(
                "UPDATE answers SET question = ?, question_key = NULL,"
                " user_id = CASE WHEN user_id = ? THEN ? ELSE user_id END,"
                " user_name = CASE WHEN user_id = ? THEN ? ELSE user_name END,"
                " message_author_id = CASE WHEN message_author_id = ? THEN ? ELSE message_author_id END"
                f" WHERE (user_id = ? OR message_author_id = ?) AND {where}",
                (FORGOTTEN_QUESTION, member, alias, member, alias, member, alias, member, member, *params))
            questions = cursor.rowcount
            kept = 0
            for table in ("moderation", "guild_hidden", "report_actions"):
                table_where, table_params = _moderation_scope(scope, table)
                cursor = await db.execute(f"UPDATE {table} SET user_id = ?, user_name = ? WHERE user_id = ? AND {table_where}",
                                          (alias, alias, member, *table_params))
                kept += cursor.rowcount
            return Forgotten(questions, feedback, kept, alias)

        return await self._write(forget)  # type: ignore[attr-defined]

    async def expire_member_data(self, days: float) -> Forgotten:
        """Every server's: votes and reports older than `days` removed, older questions' words and
        askers removed (the answers and quotes stay)."""
        before = cutoff(days)

        async def expire(db: "aiosqlite.Connection") -> Forgotten:
            cursor = await db.execute("DELETE FROM feedback WHERE created_at < ?", (before,))
            feedback = cursor.rowcount
            cursor = await db.execute(
                "UPDATE answers SET question = ?, question_key = NULL, user_id = NULL, user_name = NULL,"
                " message_author_id = NULL"
                " WHERE created_at < ? AND question NOT IN (?, ?)",
                (EXPIRED_QUESTION, before, EXPIRED_QUESTION, FORGOTTEN_QUESTION))
            return Forgotten(cursor.rowcount, feedback, 0)

        return await self._write(expire)  # type: ignore[attr-defined]

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
