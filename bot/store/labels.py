"""Moderators' labels on answers: the values, the checks, and the queries (a part of
bot/store/core.py's `Store`, kept in its own file; its SQL is the same for both backends).

A label says of one answer: its quote N is the right passage ("right"), its quote N is a wrong
one ("wrong"), or the articles don't answer the question ("none"). It belongs to the answer's
server and teaches that server's answers only (bot/lessons.py, retrieval/lessons.py). One label
per answer: labelling again replaces it; `unlabel` removes it.

A label holds no copy of the question or of the quote: both are read from the answer when the
labels are listed. So /forget-me of the asker, or the expiry of the question, leaves the label
with nothing to teach (listed as "question removed"), and nothing of theirs to erase here. Who
labelled is a moderation action: pseudonymised by a forget of that moderator, like their hides.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from bot.audit_store import Scope
from bot.store import rows as R
from bot.store.community import UnknownQuote
from bot.store.errors import AuditError
from bot.store.sql import Connection, answer_in, marks, moderation_scoped
from bot.store.values import MAX_ID, clamp, now, storable, text_id, trimmed

VERDICTS = ("right", "wrong", "none")
VERDICT_NAMES = {"right": "right passage", "wrong": "wrong passage", "none": "not in the articles"}
LABEL_COLUMNS = ("id", "created_at", "guild_id", "answer_id", "verdict", "quote_rank", "against", "note", "user_id",
                 "user_name")


class BadLabel(AuditError, ValueError):
    """A label that cannot be: an unknown verdict, a quote number where none belongs, or none where one does."""


class UnknownLabel(AuditError, LookupError):
    """No label with that id, or none the caller's scope may see (the same to the caller)."""

    def __init__(self, label_id: object) -> None:
        super().__init__(f"there is no label with id {label_id!r}")
        self.label_id = label_id


@dataclass(frozen=True)
class Label:
    id: int
    created_at: str
    guild_id: str | None  # the answer's server; None: a DM or the command line
    answer_id: int
    verdict: str  # "right", "wrong" or "none"
    quote_rank: int | None  # the labelled quote (right, wrong)
    against: tuple[tuple[str, str], ...]  # the articles (id, hash) it was labelled against
    note: str | None
    user_id: str | None  # the moderator; None once they were forgotten
    user_name: str | None
    # Read from the answer, never copied: '' once the asker was forgotten or the question expired.
    question: str = ""
    # The labelled quote as it was shown (right, wrong): the answer's quote, kept after a forget.
    doc_id: str | None = None
    start: int | None = None
    end: int | None = None
    passage: str | None = None

    @property
    def verdict_name(self) -> str:
        return VERDICT_NAMES[self.verdict]


def check_label(verdict: str, quote_rank: object) -> tuple[str, int | None]:
    """The verdict and quote number, or BadLabel naming what is wrong with them."""
    if verdict not in VERDICTS:
        raise BadLabel(f"unknown label {verdict!r}; expected one of: {', '.join(VERDICTS)}")
    if verdict == "none":
        if quote_rank is not None:
            raise BadLabel("'none' (not in the articles) is about the whole answer: give no quote number")
        return verdict, None
    if quote_rank is None:
        raise BadLabel(f"'{verdict}' needs the number of the quote it is about (--quote N)")
    try:
        rank = int(quote_rank)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise BadLabel(f"quote number {quote_rank!r} is not a number") from None
    if isinstance(quote_rank, bool) or not 1 <= rank <= 100:
        raise BadLabel(f"quote number {quote_rank!r} is out of range")
    return verdict, rank


_SELECT = (f"SELECT {', '.join('labels.' + c for c in LABEL_COLUMNS)}, answers.question,"
           ' quotes.doc_id, quotes.start, quotes."end", quotes.text FROM labels JOIN answers ON answers.id = labels.answer_id'
           " LEFT JOIN quotes ON quotes.answer_id = labels.answer_id AND quotes.rank = labels.quote_rank")


def _label(row) -> Label:
    try:
        against = tuple((str(i), str(h)) for i, h in json.loads(row["against"] or "[]"))
    except (ValueError, TypeError):
        against = ()  # of every article, as a bank written before articles were recorded
    return Label(*(row[c] for c in LABEL_COLUMNS[:6]), against, row["note"], row["user_id"], row["user_name"],
                 row["question"] or "", row["doc_id"], row["start"], row["end"], row["text"])


def _label_scoped(scope: Scope) -> tuple[str, tuple]:
    """A server's own labels; the DMs have none (the operator's scope sees every label)."""
    return moderation_scoped(scope, "labels")


def _label_key(label_id: object) -> int:
    try:
        key = int(label_id)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        raise UnknownLabel(label_id) from None
    if isinstance(label_id, bool) or not 1 <= key <= MAX_ID:
        raise UnknownLabel(label_id)
    return key


class LabelQueries:
    """Mixed into Store: uses its `_write` and `_reading`."""

    async def label(self, scope: Scope, audit_id: int, verdict: str, *, quote_rank: int | None = None,
                    note: str | None = None, against: tuple[tuple[str, str], ...] = (),
                    user_id: int | str | None = None, user_name: str | None = None) -> Label:
        """Label one answer of the scope (replacing its label, if it had one), all or nothing.
        UnknownAuditId outside the scope; BadLabel for a verdict and quote number that do not go
        together or an answer without quotes labelled right or wrong; UnknownQuote for a quote
        the answer lacks."""
        verdict, rank = check_label(verdict, quote_rank)
        key = R.audit_key(audit_id)
        against_text = json.dumps([list(a) for a in against])

        async def change(db: Connection) -> Label:
            guild = await answer_in(db, scope, key, audit_id)
            if rank is not None:
                quotes = await db.fetchval("SELECT count(*) FROM quotes WHERE answer_id = ?", key)
                if not quotes:
                    raise BadLabel(f"answer #{audit_id} quoted nothing, so no quote of it can be labelled "
                                   f"{VERDICT_NAMES[verdict]!r}; label it 'none' if the articles don't answer it")
                if rank > quotes:
                    raise UnknownQuote(audit_id, rank)
            await db.execute("DELETE FROM labels WHERE answer_id = ?", key)
            label_id = await db.fetchval(
                "INSERT INTO labels (created_at, guild_id, answer_id, verdict, quote_rank, against, note, user_id,"
                f" user_name) VALUES ({marks(9)}) RETURNING id",
                now(), guild, key, verdict, rank, against_text, trimmed(note), text_id(user_id), storable(user_name))
            return _label(await db.fetchone(f"{_SELECT} WHERE labels.id = ?", label_id))

        return await self._write(change)  # type: ignore[attr-defined]

    async def unlabel(self, scope: Scope, label_id: int) -> Label:
        """Remove one label of the scope (a moderator undoing a mistake); the label as it was.
        UnknownLabel when there is none by that id in the scope."""
        key = _label_key(label_id)
        where, params = _label_scoped(scope)

        async def change(db: Connection) -> Label:
            row = await db.fetchone(f"{_SELECT} WHERE labels.id = ? AND {where}", key, *params)
            if row is None:
                raise UnknownLabel(label_id)
            await db.execute("DELETE FROM labels WHERE id = ?", key)
            return _label(row)

        return await self._write(change)  # type: ignore[attr-defined]

    async def labels(self, scope: Scope, *, audit_id: int | None = None, limit: int | None = None) -> list[Label]:
        """The scope's labels, oldest first (one answer's, given its id); every one without a limit."""
        where, params = _label_scoped(scope)
        if audit_id is not None:
            where, params = f"{where} AND labels.answer_id = ?", (*params, R.audit_key(audit_id))
        sql = f"{_SELECT} WHERE {where} ORDER BY labels.id"
        if limit is not None:
            sql, params = f"{sql} DESC LIMIT ?", (*params, clamp(limit))
        async with self._reading() as db:  # type: ignore[attr-defined]
            rows = await db.fetch(sql, *params)
        found = [_label(row) for row in rows]
        return sorted(found, key=lambda x: x.id)

    async def label_of(self, scope: Scope, label_id: int) -> Label:
        """One label of the scope; UnknownLabel otherwise."""
        key = _label_key(label_id)
        where, params = _label_scoped(scope)
        async with self._reading() as db:  # type: ignore[attr-defined]
            row = await db.fetchone(f"{_SELECT} WHERE labels.id = ? AND {where}", key, *params)
        if row is None:
            raise UnknownLabel(label_id)
        return _label(row)


__all__ = ["Label", "LabelQueries", "BadLabel", "UnknownLabel", "VERDICTS", "VERDICT_NAMES", "check_label"]
