"""Members' data in the audit store: what it holds about one member (/mydata), forgetting them
(/forget-me) and retention. A part of bot/store/core.py's `Store`, kept in its own file (the class
takes it as a base); its SQL is the same for both backends.
"""
from __future__ import annotations

from bot.audit_store import Scope
from bot.store import rows as R
from bot.store.posts import POST_COLUMNS, to_edit
from bot.store.sql import ANSWER_COLUMNS, Connection, entries, moderation_scoped, quoted, scoped
from bot.store.values import Forgotten, MemberData, since, text_id


class MemberQueries:
    """Mixed into Store: uses its `_write`, `_reading` and `_erase_traces`."""

    async def mydata(self, scope: Scope, user_id: int | str) -> MemberData:
        """Everything the store holds about one member in the scope (/mydata)."""
        member = text_id(user_id)
        where, params = scoped(scope)
        mod_where, mod_params = moderation_scoped(scope)
        async with self._reading() as db:  # type: ignore[attr-defined]
            asked = await db.fetch(
                f"SELECT {ANSWER_COLUMNS} FROM answers WHERE answers.user_id = ? AND {where} ORDER BY id",
                member, *params)
            theirs = await db.fetch(
                f"SELECT {ANSWER_COLUMNS} FROM answers WHERE answers.message_author_id = ? AND {where} ORDER BY id",
                member, *params)
            feedback = await db.fetch(
                "SELECT feedback.answer_id, feedback.id, feedback.created_at, feedback.kind, feedback.reason"
                f" FROM feedback JOIN answers ON answers.id = feedback.answer_id WHERE feedback.user_id = ? AND {where}"
                " ORDER BY feedback.id", member, *params)
            moderation = await db.fetch(
                f"SELECT {quoted(R.MODERATION_COLUMNS)} FROM moderation WHERE user_id = ? AND {mod_where}"
                " ORDER BY id", member, *mod_params)
            labelled = await db.fetchval(f"SELECT count(*) FROM labels WHERE user_id = ? AND {mod_where}", member,
                                         *mod_params)
            return R.member_data(member, await entries(db, asked), await entries(db, theirs), feedback,
                                 [R.moderation(row) for row in moderation], int(labelled or 0))

    async def forget(self, scope: Scope, user_id: int | str) -> Forgotten:
        """Remove one member's questions, votes and reports in the scope (/forget-me; `storybot audit
        forget`). The answers' quotes stay, under a pseudonym; so do their moderation actions."""
        member = text_id(user_id)
        pseudonym = R.pseudonym()
        where, params = scoped(scope)
        mod_where, mod_params = moderation_scoped(scope)

        async def forget(db: Connection) -> Forgotten:
            # First, the bot's posts that show what is about to go, for the bot to edit.
            theirs = f"SELECT id FROM answers WHERE (answers.user_id = ? OR answers.message_author_id = ?) AND {where}"
            reports = ("SELECT feedback.id FROM feedback JOIN answers ON answers.id = feedback.answer_id"
                       f" WHERE feedback.user_id = ? AND feedback.kind = 'report' AND {where}")
            their_answers = {row[0] for row in await db.fetch(theirs, member, member, *params)}
            their_reports = {row[0] for row in await db.fetch(reports, member, *params)}
            posts = await db.fetch(
                f"SELECT {', '.join(POST_COLUMNS)} FROM posts WHERE answer_id IN ({theirs}) OR report_id IN ({reports})",
                member, member, *params, member, *params)
            asked = await db.execute(
                "UPDATE answers SET question = '', question_key = NULL, reason = NULL, user_id = NULL, user_name = ?"
                f" WHERE answers.user_id = ? AND {where}", pseudonym, member, *params)
            # Their message's id with its channel and server is a link to it: it goes with its author.
            of_theirs = await db.execute(
                "UPDATE answers SET question = '', question_key = NULL, reason = NULL, message_author_id = NULL,"
                f" message_id = NULL WHERE answers.message_author_id = ? AND {where}", member, *params)
            in_scope = f"answer_id IN (SELECT id FROM answers WHERE {where})"
            feedback = await db.execute(f"DELETE FROM feedback WHERE user_id = ? AND {in_scope}", member, *params)
            await db.execute(f"DELETE FROM superseded_votes WHERE user_id = ? AND {in_scope}", member, *params)
            pseudonymised = 0
            for table, name, by in (("moderation", "user_name", "user_id"), ("guild_hidden", "user_name", "user_id"),
                                    # their decisions on reports in the mod-log channel
                                    ("report_actions", "user_name", "user_id"),
                                    # their labels on answers (bot/store/labels.py)
                                    ("labels", "user_name", "user_id"),
                                    # the server settings they saved last
                                    ("guild_settings", "updated_by", "updated_by_id")):
                pseudonymised += await db.execute(
                    f"UPDATE {table} SET {by} = NULL, {name} = ? WHERE {by} = ? AND {mod_where}",
                    pseudonym, member, *mod_params)
            return Forgotten(asked + of_theirs, feedback, pseudonymised, to_edit(posts, their_answers, their_reports))

        forgotten = await self._write(forget)  # type: ignore[attr-defined]
        await self._erase_traces()  # type: ignore[attr-defined]
        return forgotten

    async def delete_older_than(self, days: float) -> Forgotten:
        """Retention (STORYBOT_RETENTION_DAYS): every member's questions and feedback older than `days`
        are removed, in every server; the answers' quotes and the moderation records stay."""
        cutoff = since(R.retention_hours(days))

        async def expire(db: Connection) -> Forgotten:
            asked = await db.execute(
                "UPDATE answers SET question = '', question_key = NULL, reason = NULL, user_id = NULL,"
                " user_name = NULL, message_author_id = NULL WHERE created_at < ?"
                " AND (question <> '' OR user_id IS NOT NULL OR user_name IS NOT NULL OR message_author_id IS NOT NULL)",
                cutoff)
            feedback = await db.execute("DELETE FROM feedback WHERE created_at < ?", cutoff)
            await db.execute("DELETE FROM superseded_votes WHERE created_at < ?", cutoff)
            return Forgotten(asked, feedback, 0)

        expired = await self._write(expire)  # type: ignore[attr-defined]
        if expired.questions or expired.feedback:
            await self._erase_traces()  # type: ignore[attr-defined]
        return expired
