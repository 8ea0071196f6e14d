"""The messages the bot posted about an answer: a public answer, a report in the mod-log channel.

Kept so a member's `/forget-me` can edit them (the question in an answer's title, the question,
reason and reporter's name in a report): the store alone cannot reach what Discord shows. A
post is the bot's own message; the row holds ids only, never member text.
"""
from __future__ import annotations

from dataclasses import dataclass

POST_KINDS = ("answer", "modlog")
POST_COLUMNS = ("kind", "guild_id", "channel_id", "message_id", "answer_id", "report_id")

# The tables forgetting changes: after it, each backend makes their old rows unreadable on disk
# (SQLite: secure_delete and a WAL checkpoint; PostgreSQL: VACUUM of these).
TOUCHED_BY_FORGET = ("answers", "feedback", "superseded_votes", "moderation", "guild_hidden", "report_actions",
                     "guild_settings")


@dataclass(frozen=True)
class Post:
    kind: str  # "answer" (a public answer) or "modlog" (a report posted for the moderators)
    guild_id: str
    channel_id: str
    message_id: str
    answer_id: int
    report_id: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in POST_KINDS:
            raise ValueError(f"unknown post kind {self.kind!r}; expected one of: {', '.join(POST_KINDS)}")


@dataclass(frozen=True)
class PostToEdit:
    """A post about a forgotten member, and what of theirs it shows."""

    post: Post
    question: bool  # the question was theirs (asked, or made of their message)
    report: bool  # the report (reason, reporter's name) was theirs


def post_of(row) -> Post:
    return Post(*(row[name] for name in POST_COLUMNS))


def to_edit(rows, their_answers: set[int], their_reports: set[int]) -> tuple[PostToEdit, ...]:
    """The posts of `rows` with what of the member's each shows: the question of one of
    `their_answers`, a report among `their_reports`."""
    posts = (post_of(row) for row in rows)
    return tuple(PostToEdit(p, p.answer_id in their_answers, p.report_id in their_reports) for p in posts
                 if p.answer_id in their_answers or p.report_id in their_reports)
